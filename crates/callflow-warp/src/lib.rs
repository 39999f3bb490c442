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
//!     .and(callflow_warp::extensions())
//!     .and(warp::body::stream())
//!     .then(move |method, headers, extensions, body| {
//!         callflow_warp::handle(webhook.clone(), method, headers, extensions, body)
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
//! reading the body. The peer address is `warp::addr::remote()` (or [`serve`]'s
//! [`PeerAddr`]); the handler's `Context::extensions` get what [`extensions`] extracts: the
//! peer, the [`BodyReadTimeout`], and the values of a [`ContextExtensions`].
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

use callflow::adapter::{self, ContextExtensions};
use callflow::reexports::http::Extensions;
use callflow::{Webhook, WebhookResponse};
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
/// [`serve`]; default [`DEFAULT_BODY_READ_TIMEOUT`]); the handler's `Context` gets what
/// [`extensions`] extracts.
pub fn filter(
    webhook: Webhook,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone + Send + Sync + 'static {
    warp::path::end()
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(extensions())
        .and(warp::body::stream())
        .then(move |method, headers, extensions, body| {
            handle(webhook.clone(), method, headers, extensions, body)
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

/// The request extensions [`handle`] passes on, as `http::Extensions`: warp reads
/// extensions by type only, so these are the ones there are. The [`PeerAddr`] (from
/// [`peer_addr`]), the request's [`BodyReadTimeout`] (if any), and the values of a
/// [`ContextExtensions`] in the request (put there by a tower layer around
/// `warp::service`, or by a server of your own): those reach the handler's
/// `Context::extensions`.
pub fn extensions() -> impl Filter<Extract = (Extensions,), Error = std::convert::Infallible> + Clone
{
    peer_addr()
        .and(warp::ext::optional::<BodyReadTimeout>())
        .and(warp::ext::optional::<ContextExtensions>())
        .map(
            |peer: Option<SocketAddr>,
             timeout: Option<BodyReadTimeout>,
             values: Option<ContextExtensions>| {
                let mut extensions = values.map(|v| v.0).unwrap_or_default();
                if let Some(peer) = peer {
                    extensions.insert(PeerAddr(peer));
                }
                if let Some(timeout) = timeout {
                    extensions.insert(timeout);
                }
                extensions
            },
        )
}

/// Answers one request with `webhook`, from the parts warp's filters extract (the
/// extensions from [`extensions`]): for filter chains you build yourself. The contract of
/// the core's `Service` ([`callflow::adapter`]): the peer is the [`PeerAddr`] among
/// `extensions`, the body must arrive within their [`BodyReadTimeout`] (default
/// [`DEFAULT_BODY_READ_TIMEOUT`]; past it, the core's `408 request_timeout` and a close),
/// and `extensions` reach the handler's `Context`.
pub async fn handle<S, B>(
    webhook: Webhook,
    method: Method,
    headers: HeaderMap,
    extensions: Extensions,
    body: S,
) -> Response
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let response = adapter::handle(&webhook, method, headers, extensions, body, |e| {
        adapter::read_error(&webhook, &e)
    })
    .await;
    into_response(response)
}

fn into_response(response: WebhookResponse) -> Response {
    let (status, headers, body) = response.into_parts();
    let mut res = warp::http::Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res.into_response()
}
