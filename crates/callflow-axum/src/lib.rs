//! # callflow-axum
//!
//! Serve a [`callflow`] 8x8 voice webhook from an [axum](https://docs.rs/axum) 0.8 app.
//! Implement [`CallHandler`](callflow::CallHandler) once, wrap it in a
//! [`Webhook`], and mount it into the router you already run.
//!
//! ## Mounting
//!
//! [`route`] gives the webhook as a `MethodRouter<S>` for any app state `S`: route it where
//! 8x8 should POST. (Or [`router`], a whole `Router<S>` serving it at its root, to `nest`;
//! `route` is cheaper per request: axum's `nest` rewrites the URI and boxes one more service
//! call on every request.)
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use axum::{Router, routing::get};
//! use callflow_axum::callflow::{CallFlow, Webhook, handler_fn};
//!
//! # #[tokio::main] async fn main() -> std::io::Result<()> {
//! let webhook = Webhook::new(handler_fn(|_event, _cx| async {
//!     Ok(CallFlow::builder().say("Hello!").hangup())
//! }));
//! let app = Router::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .route("/webhooks/voice", callflow_axum::route(webhook));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! // `with_connect_info` lets the handler see the peer address (optional).
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
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
//! [`handle`] is the same thing as a plain axum handler, for a route you build yourself; it
//! takes the [`Webhook`] from the router state (directly, or through `FromRef` from your own
//! state):
//!
//! ```
//! use axum::{Router, routing::post};
//! # use callflow_axum::callflow::{CallFlow, Webhook, handler_fn};
//! # let webhook = Webhook::new(handler_fn(|_e, _c| async { Ok(CallFlow::builder().hangup()) }));
//! let app: Router = Router::new()
//!     .route("/8x8/calls", post(callflow_axum::handle))
//!     .with_state(webhook);
//! ```
//!
//! ## Behaviour
//!
//! Every decision (methods, auth, media type, body limit, parse errors, handler errors,
//! panics, deadline) is [`Webhook::dispatch`]'s, so this adapter answers byte for byte like
//! the actix-web and warp ones (checked by the workspace's conformance suite). The body is
//! read as raw bytes up to [`Webhook::max_body_bytes`] (axum's `DefaultBodyLimit` and `Json`
//! extractor are not involved); a request refused on its head alone is answered without
//! reading the body. The peer address comes from `ConnectInfo<SocketAddr>` when the app is
//! served with it, and the request's extensions are handed to the handler's
//! [`Context::extensions`](callflow::Context::extensions).
//!
//! ## Deviations
//!
//! None in the conformance suite. Routing is axum's: `/webhooks/voice/` (trailing slash) is
//! not the webhook and gets the app's 404.

pub use callflow;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use axum::routing::{MethodRouter, any_service};
use callflow::Webhook;
use callflow::adapter::{PeerAddr, ResponseBody};
use tower_service::Service;

mod serve;

pub use serve::{
    BodyReadTimeout, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_GRACE_PERIOD, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, ServeConfig, serve, serve_with_shutdown, shutdown_signal,
};

/// The webhook as a route: `Router::route("/webhooks/voice", callflow_axum::route(webhook))`.
/// Answers every method (non-`POST` gets the core's 405, with `Allow: POST`). Generic over
/// the app's state: it carries its own. It is `any_service` over [`service`].
///
/// ```
/// use axum::Router;
/// # use callflow_axum::callflow::{CallFlow, Webhook, handler_fn};
/// # let webhook = Webhook::new(handler_fn(|_e, _c| async { Ok(CallFlow::builder().hangup()) }));
/// let app: Router = Router::new().route("/webhooks/voice", callflow_axum::route(webhook));
/// ```
pub fn route<S>(webhook: Webhook) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    any_service(service(webhook))
}

/// A router that serves `webhook` at its root (`/`), for every method (non-`POST` gets the
/// core's 405). Generic over the app's state, so it can be nested into (or merged with) any
/// router; it sets no fallback, so the app's 404 stays the app's.
pub fn router<S>(webhook: Webhook) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/", route(webhook))
}

/// The webhook's tower `Service` (see [`callflow::adapter`]) with axum's peer address: a
/// `ConnectInfo<SocketAddr>` extension becomes the [`PeerAddr`] the core reads. For
/// `Router::route_service` and other tower plumbing; [`route`] mounts it.
pub fn service(webhook: Webhook) -> AxumWebhook {
    AxumWebhook(webhook)
}

/// The [`Webhook`] `Service` behind [`service`]: copies axum's `ConnectInfo<SocketAddr>` into
/// a [`PeerAddr`], then answers as the core's `Service` does.
#[derive(Clone, Debug)]
pub struct AxumWebhook(pub Webhook);

impl Service<Request> for AxumWebhook {
    type Response = http::Response<ResponseBody>;
    type Error = Infallible;
    type Future = <Webhook as Service<Request>>::Future;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let connect_info = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr);
        if let Some(addr) = connect_info
            && request.extensions().get::<PeerAddr>().is_none()
        {
            request.extensions_mut().insert(PeerAddr(addr));
        }
        self.0.call(request)
    }
}

/// Answers one request with `webhook`: an axum handler for routes you build yourself. The
/// same as [`service`], with the contract of the core's `Service` ([`callflow::adapter`]):
/// the body must arrive within the request's [`BodyReadTimeout`] (set by [`serve`]; default
/// [`DEFAULT_BODY_READ_TIMEOUT`]), or the answer is the core's `408 request_timeout` and the
/// connection is closed; the request's extensions reach the handler's `Context`.
pub async fn handle(State(webhook): State<Webhook>, request: Request) -> Response {
    let Ok(response) = AxumWebhook(webhook).call(request).await;
    response.map(Body::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use callflow::{CallFlow, handler_fn};
    use http_body_util::{BodyExt, Full, Limited};

    fn webhook() -> Webhook {
        Webhook::new(handler_fn(|_e, _c| async {
            Ok(CallFlow::builder().say("Hi").hangup())
        }))
    }

    fn post(body: Body) -> Request {
        axum::http::Request::post("/")
            .header("content-type", "application/json")
            .body(body)
            .unwrap()
    }

    async fn body_of(response: Response) -> axum::body::Bytes {
        response.into_body().collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn an_app_limit_layer_is_re_rendered_by_the_core() {
        // What tower-http's `RequestBodyLimitLayer` does to a body without a length.
        let limited = Limited::new(Full::new(axum::body::Bytes::from(vec![b' '; 64])), 10);
        let response = handle(State(webhook()), post(Body::new(limited))).await;
        assert_eq!(response.status(), 413);
        let core = callflow::WebhookResponse::payload_too_large(callflow::DEFAULT_MAX_BODY_BYTES);
        assert_eq!(body_of(response).await, core.body());
    }

    #[tokio::test]
    async fn the_body_limit_is_the_cores() {
        let webhook = Webhook::builder(handler_fn(|_e, _c| async {
            Ok(CallFlow::builder().say("Hi").hangup())
        }))
        .max_body_bytes(16)
        .build();
        let response = handle(State(webhook), post(Body::from(vec![b' '; 17]))).await;
        assert_eq!(response.status(), 413);
        let core = callflow::WebhookResponse::payload_too_large(16);
        assert_eq!(body_of(response).await, core.body());
    }
}
