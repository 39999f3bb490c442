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
//!     Ok(CallFlow::new().say("Hello!").hangup())
//! }));
//! let health = warp::path!("health").and(warp::get()).map(|| "ok");
//! let voice = warp::path!("webhooks" / "voice").and(callflow_warp::filter(webhook));
//! warp::serve(health.or(voice)).run(([127, 0, 0, 1], 3000)).await;
//! # }
//! ```
//!
//! ## Your own route
//!
//! [`handle`] is the same thing as a plain async function, for a filter chain you build
//! yourself:
//!
//! ```
//! use warp::Filter;
//! # use callflow_warp::callflow::{CallFlow, Webhook, handler_fn};
//! # let webhook = Webhook::new(handler_fn(|_e, _c| async { Ok(CallFlow::new().hangup()) }));
//! let route = warp::path!("8x8" / "calls")
//!     .and(warp::method())
//!     .and(warp::header::headers_cloned())
//!     .and(warp::addr::remote())
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

use callflow::{Webhook, WebhookRequest, WebhookResponse};
use futures_util::{Stream, StreamExt};
use warp::http::{HeaderMap, Method};
use warp::reply::{Reply, Response};
use warp::{Buf, Filter};

/// A filter that serves `webhook` at the end of the path it is mounted on, for every method
/// (non-`POST` gets the core's 405). Cloneable; it rejects only a path that goes on past its
/// mount point.
pub fn filter(
    webhook: Webhook,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone + Send + Sync + 'static {
    warp::path::end()
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::body::stream())
        .then(move |method, headers, peer, body| {
            handle(webhook.clone(), method, headers, peer, body)
        })
}

/// Answers one request with `webhook`, from the parts warp's filters extract: for filter
/// chains you build yourself.
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
    if let Some(refusal) = webhook.check_head(&method, &headers, peer) {
        return into_response(refusal);
    }
    let mut collector = webhook.body_collector();
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let Ok(mut buf) = chunk else {
            return into_response(WebhookResponse::body_unreadable());
        };
        while buf.has_remaining() {
            let len = buf.chunk().len();
            if let Err(too_large) = collector.push(buf.chunk()) {
                return into_response(too_large.response());
            }
            buf.advance(len);
        }
    }
    let request = WebhookRequest::new(method, headers, collector.finish()).with_peer(peer);
    into_response(webhook.dispatch(request).await)
}

fn into_response(response: WebhookResponse) -> Response {
    let (status, headers, body) = response.into_parts();
    let mut res = warp::http::Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res.into_response()
}
