//! # callflow-warp
//!
//! Serve a [`callflow`] 8x8 voice webhook from a [warp](https://docs.rs/warp) 0.4 app.
//! Implement [`CallHandler`](callflow::CallHandler) once, wrap it in a
//! [`Webhook`], and mount it into the filters you already run.
//!
//! ## Mounting
//!
//! [`filter`] serves the webhook where it is mounted (it ends the path): put your path in
//! front of it and combine it with your other filters with `.or()`.
//!
//! ```no_run
//! use warp::Filter;
//! use callflow_warp::callflow::{CallFlow, Webhook, handler_fn};
//!
//! # #[tokio::main] async fn main() {
//! let webhook = Webhook::new(handler_fn(|_event, _cx| async {
//!     Ok(CallFlow::builder().say("Hello!").hangup())
//! }));
//! let health = warp::path!("health").and(warp::get()).map(|| "ok");
//! let voice = warp::path!("webhooks" / "voice").and(callflow_warp::filter(webhook));
//! warp::serve(health.or(voice)).run(([127, 0, 0, 1], 3000)).await;
//! # }
//! ```
//!
//! ## Serving
//!
//! [`serve()`] runs the app the way a webhook that routes phone calls must be run: a request
//! head timeout and a body deadline (10 s each; a slow client gets the core's `408` or a
//! close), a connection cap, and a graceful shutdown on Ctrl-C or SIGTERM that lets in-flight
//! webhooks finish within a bounded grace period (10 s). [`ServeConfig`] sets them;
//! [`serve_with_shutdown`] stops on a future of your own. See [`serve()`].
//!
//! ## Your own route
//!
//! [`handle`] is the same thing as a plain async function, for a filter chain you build
//! yourself:
//!
//! ```
//! use warp::Filter;
//! # use callflow_warp::callflow::{CallFlow, Webhook, handler_fn};
//! # let webhook = Webhook::new(handler_fn(|_e, _c| async { Ok(CallFlow::builder().hangup()) }));
//! let route = warp::path!("8x8" / "calls")
//!     .and(warp::method())
//!     .and(warp::header::headers_cloned())
//!     .and(callflow_warp::peer_addr())
//!     .and(warp::body::stream())
//!     .then(move |method, headers, peer, body| {
//!         callflow_warp::handle(webhook.clone(), method, headers, peer, body)
//!     });
//! # let _ = route;
//! ```
//!
//! ## Behaviour
//!
//! Every decision (methods, auth, media type, body limit, parse errors, handler errors,
//! panics, deadline) is [`Webhook::dispatch`]'s, so this adapter answers byte for byte like
//! the axum and actix-web ones (checked by the workspace's conformance suite). The body is
//! read as a raw stream up to [`Webhook::max_body_bytes`] (warp's `content_length_limit` and
//! `json` filters are not involved); a request refused on its head alone is answered without
//! reading the body. The peer address is `warp::addr::remote()`.
//!
//! Once its path matched, the filter answers every request itself, `405` included: it turns
//! its own failures into responses instead of rejections, and rejects nothing but a path
//! that is not its own (warp's `404`). So it needs no `recover`, and `.or()` with the app's
//! other filters keeps their statuses.
//!
//! ## Deviations
//!
//! None in the conformance suite. Routing is warp's: `warp::path!` also matches a trailing
//! slash, so `/webhooks/voice/` is served too (axum and actix-web answer 404 there).

pub use callflow;

use std::net::SocketAddr;
use std::time::Duration;

use callflow::{BodyReadError, Webhook, WebhookRequest, WebhookResponse};
use futures_util::Stream;
use warp::http::{HeaderMap, Method};
use warp::reply::{Reply, Response};
use warp::{Buf, Filter};

mod serve;

pub use serve::{
    BodyReadTimeout, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_GRACE_PERIOD, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, PeerAddr, ServeConfig, serve, serve_with_shutdown, shutdown_signal,
};

/// A filter that serves `webhook` at the end of the path it is mounted on, for every method
/// (non-`POST` gets the core's 405). Cloneable; it rejects only a path that goes on past its
/// mount point. The body must arrive within the request's [`BodyReadTimeout`] (set by
/// [`serve`]; default [`DEFAULT_BODY_READ_TIMEOUT`]).
pub fn filter(
    webhook: Webhook,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone + Send + Sync + 'static {
    warp::path::end()
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(peer_addr())
        .and(body_read_timeout())
        .and(warp::body::stream())
        .then(move |method, headers, peer, deadline, body| {
            handle_within(webhook.clone(), method, headers, peer, body, deadline)
        })
}

/// The peer address of the connection, under [`serve`] (its [`PeerAddr`]) or `warp::serve`
/// (`warp::addr::remote()`).
pub fn peer_addr()
-> impl Filter<Extract = (Option<SocketAddr>,), Error = std::convert::Infallible> + Copy {
    warp::addr::remote()
        .and(warp::ext::optional::<PeerAddr>())
        .map(|remote: Option<SocketAddr>, ours: Option<PeerAddr>| {
            remote.or(ours.map(|PeerAddr(addr)| addr))
        })
}

/// The request's body deadline: its [`BodyReadTimeout`], or [`DEFAULT_BODY_READ_TIMEOUT`].
pub fn body_read_timeout()
-> impl Filter<Extract = (Duration,), Error = std::convert::Infallible> + Copy {
    warp::ext::optional::<BodyReadTimeout>()
        .map(|t: Option<BodyReadTimeout>| t.map_or(DEFAULT_BODY_READ_TIMEOUT, |t| t.0))
}

/// Answers one request with `webhook`, from the parts warp's filters extract: for filter
/// chains you build yourself. The body must arrive within [`DEFAULT_BODY_READ_TIMEOUT`]
/// ([`handle_within`] takes another deadline).
pub async fn handle<S, B>(
    webhook: Webhook,
    method: Method,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    body: S,
) -> Response
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    handle_within(
        webhook,
        method,
        headers,
        peer,
        body,
        DEFAULT_BODY_READ_TIMEOUT,
    )
    .await
}

/// [`handle`] with a body deadline: past `body_read_timeout`, the answer is the core's
/// `408 request_timeout` and the connection is closed.
pub async fn handle_within<S, B>(
    webhook: Webhook,
    method: Method,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    body: S,
    body_read_timeout: Duration,
) -> Response
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    if let Some(refusal) = webhook.check_head(&method, &headers, peer) {
        return into_response(refusal);
    }
    let read = webhook.read_body(body, body_read_timeout, |_: warp::Error| {
        WebhookResponse::body_unreadable()
    });
    let body = match read.await {
        Ok(body) => body,
        Err(BodyReadError::Refused(refusal)) => return into_response(refusal.closing()),
        Err(BodyReadError::TimedOut) => {
            return into_response(WebhookResponse::request_timeout().closing());
        }
    };
    let request = WebhookRequest::new(method, headers, body).with_peer(peer);
    into_response(webhook.dispatch(request).await)
}

fn into_response(response: WebhookResponse) -> Response {
    let (status, headers, body) = response.into_parts();
    let mut res = warp::http::Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res.into_response()
}
