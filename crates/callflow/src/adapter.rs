//! The plumbing every web adapter shares, written once: the head checks, the body reader
//! (the limit and the read deadline), the whole request pipeline ([`handle`]), and the
//! [`Webhook`] as a `tower_service::Service<http::Request<B>>`.
//!
//! The `Service` is the universal adapter: any tower or hyper stack, `lambda_http`, axum's
//! `route_service`. Every adapter follows one contract, the `Service`'s:
//!
//! - the peer address is the request's [`PeerAddr`] extension (each adapter puts its
//!   framework's peer address there);
//! - the body must arrive within the request's [`BodyReadTimeout`] extension, or
//!   [`DEFAULT_BODY_READ_TIMEOUT`] ([`body_read_timeout`]); a late body gets the core's
//!   `408 request_timeout` and `Connection: close`;
//! - the request's extensions reach the handler's [`Context::extensions`](crate::Context::extensions);
//!   a [`ContextExtensions`] among them is unpacked, its values put next to the others
//!   (how frameworks without `http::Extensions` of their own, actix-web and warp, hand
//!   values on).
//!
//! ```
//! use bytes::Bytes;
//! use callflow::{CallFlow, Webhook, handler_fn};
//! use tower_service::Service;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let mut webhook = Webhook::new(handler_fn(|_e, _c| async { Ok(CallFlow::builder().say("Hi").hangup()) }));
//! let request = http::Request::post("/")
//!     .header("content-type", "application/json")
//!     .body(http_body_util::Full::new(Bytes::from(callflow::testing::call_action().build_json())))
//!     .unwrap();
//! let response = webhook.call(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # }
//! ```

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::task::{Context as TaskContext, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::{Extensions, HeaderMap, Method};
use http_body::Body;
use http_body_util::{Full, LengthLimitError};

pub use crate::serve::{BodyReadTimeout, DEFAULT_BODY_READ_TIMEOUT};
pub use crate::webhook::{BodyCollector, BodyReadError, BodyTooLarge};
use crate::webhook::{announces_body, check_head as head_check, read_body as read};
use crate::{Webhook, WebhookRequest, WebhookResponse};

/// The body type of the `Service`'s responses: the core's bytes, in one frame.
pub type ResponseBody = Full<Bytes>;

/// The error type a request body's error converts into.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// The peer address of the connection, as a request extension: where the `Service` and
/// every adapter's `handle` look for it (the servers of `callflow-warp` and the
/// workspace's `hyper-minimal` example insert it; `callflow-axum` copies axum's `ConnectInfo` into
/// it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Values for the handler's [`Context::extensions`](crate::Context::extensions), as one
/// request extension: put one in the request (a middleware of actix-web's, in
/// `HttpRequest::extensions_mut()`; in warp, a layer around `warp::service`) and its values
/// reach the handler on every stack. Needed where the framework's own extensions are not
/// `http::Extensions` (actix-web) or cannot be read as a whole (warp); the `Service` and
/// axum pass every extension anyway.
#[derive(Clone, Debug, Default)]
pub struct ContextExtensions(pub Extensions);

/// The checks that need only the request head (method, auth, content encoding and type,
/// declared length), so adapters can refuse a request before reading its body.
/// `Some(response)` means: send this and do not read the body. [`Webhook::dispatch`] runs
/// the same checks again, so calling this is an optimisation, never a requirement.
///
/// A refusal of a request that announces a body (chunked, or a `Content-Length` other
/// than 0) comes [`closing`](WebhookResponse::closing): the adapter answers and closes
/// the connection rather than read or drain a body it refused. A refusal is reported to
/// the webhook's [`Observer`](crate::observe::Observer) (event `none`), as
/// [`Webhook::dispatch`] reports its own: send it, do not dispatch the request as well.
pub fn check_head(
    webhook: &Webhook,
    method: &Method,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<WebhookResponse> {
    let refusal = head_check(webhook.settings(), method, headers, peer)?;
    Some(webhook.refused(if announces_body(headers) {
        refusal.closing()
    } else {
        refusal
    }))
}

/// A collector that enforces the webhook's body limit while an adapter reads a streamed
/// body itself (see [`read_body`], which does it all).
pub fn body_collector(webhook: &Webhook) -> BodyCollector {
    BodyCollector::new(webhook.max_body_bytes())
}

/// Reads a request body streamed by a web framework: enforces the webhook's body limit
/// while reading, and gives up after `deadline` (a client that stalls its upload).
/// `on_error` turns the framework's read error into the response to send (usually
/// [`read_error`] or [`WebhookResponse::body_unreadable`]).
///
/// A body that arrives in one chunk is kept as it is (no copy), and a body that is
/// already buffered when this is called arms no timer.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use bytes::Bytes;
/// use callflow::{CallFlow, Webhook, WebhookResponse, adapter, handler_fn};
/// let webhook = Webhook::new(handler_fn(|_e, _c| async { Ok(CallFlow::builder().hangup()) }));
/// let chunks = [Ok::<_, std::io::Error>(Bytes::from_static(b"{\"a\":")), Ok(Bytes::from_static(b"1}"))];
/// let body = adapter::read_body(&webhook, futures_util::stream::iter(chunks), Duration::from_secs(10), |_e| {
///         WebhookResponse::body_unreadable()
///     })
///     .await
///     .unwrap();
/// assert_eq!(&body[..], b"{\"a\":1}");
/// # }
/// ```
pub async fn read_body<S, B, E>(
    webhook: &Webhook,
    body: S,
    deadline: Duration,
    on_error: impl FnMut(E) -> WebhookResponse,
) -> Result<Bytes, BodyReadError>
where
    S: futures_core::Stream<Item = Result<B, E>>,
    B: Buf,
{
    read(body_collector(webhook), body, deadline, on_error).await
}

/// A body that failed to arrive: a limit layer of the app (http-body-util's
/// `LengthLimitError`, as tower-http's `RequestBodyLimitLayer` raises it, anywhere in the
/// error's chain) is re-rendered as the core's 413; anything else is a broken upload (400
/// `body_unreadable`).
pub fn read_error(webhook: &Webhook, error: &(dyn StdError + 'static)) -> WebhookResponse {
    let mut source = Some(error);
    while let Some(err) = source {
        if err.is::<LengthLimitError>() {
            return WebhookResponse::payload_too_large(webhook.max_body_bytes());
        }
        source = err.source();
    }
    WebhookResponse::body_unreadable()
}

/// The request's body deadline: its [`BodyReadTimeout`], or [`DEFAULT_BODY_READ_TIMEOUT`].
pub fn body_read_timeout(extensions: &Extensions) -> Duration {
    extensions
        .get::<BodyReadTimeout>()
        .map_or(DEFAULT_BODY_READ_TIMEOUT, |t| t.0)
}

/// Unpacks a [`ContextExtensions`] among `extensions` into them.
fn unpack(extensions: &mut Extensions) {
    if let Some(ContextExtensions(values)) = extensions.remove::<ContextExtensions>() {
        extensions.extend(values);
    }
}

/// Answers one request, from its parts as a framework gives them, with the `Service`'s
/// contract (module docs): the peer from [`PeerAddr`], the head checks, the body read
/// within [`body_read_timeout`] (its errors rendered by `on_error`), the extensions handed
/// to the handler, and [`Webhook::dispatch`]. An answer sent with the body unread
/// [`closes`](WebhookResponse::closes).
pub async fn handle<S, B, E>(
    webhook: &Webhook,
    method: Method,
    headers: HeaderMap,
    mut extensions: Extensions,
    body: S,
    on_error: impl FnMut(E) -> WebhookResponse,
) -> WebhookResponse
where
    S: futures_core::Stream<Item = Result<B, E>>,
    B: Buf,
{
    let peer = extensions.get::<PeerAddr>().map(|p| p.0);
    if let Some(refusal) = check_head(webhook, &method, &headers, peer) {
        return refusal;
    }
    let deadline = body_read_timeout(&extensions);
    let body = match read_body(webhook, body, deadline, on_error).await {
        Ok(body) => body,
        Err(BodyReadError::TimedOut) => {
            return webhook.refused(WebhookResponse::request_timeout().closing());
        }
        Err(BodyReadError::Refused(refusal)) => return webhook.refused(refusal.closing()),
    };
    // The head passed `check_head` above and is handed over unchanged. The request is built
    // in a block that ends before the await, so that it is not also kept in this future.
    let dispatch = {
        unpack(&mut extensions);
        let mut request = WebhookRequest::new(method, headers, body).with_peer(peer);
        *request.extensions_mut() = extensions;
        webhook.dispatch_checked(request)
    };
    dispatch.await
}

/// [`handle`] for an `http::Request` with any body: what the `Service` runs.
pub async fn handle_request<B>(webhook: &Webhook, request: http::Request<B>) -> WebhookResponse
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    let body = pin!(body);
    handle(
        webhook,
        parts.method,
        parts.headers,
        parts.extensions,
        DataFrames(body),
        |e: B::Error| read_error(webhook, &*e.into()),
    )
    .await
}

/// The data frames of a body as a stream (trailers skipped).
struct DataFrames<'a, B>(Pin<&'a mut B>);

impl<B: Body> futures_core::Stream for DataFrames<'_, B> {
    type Item = Result<B::Data, B::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match ready!(this.0.as_mut().poll_frame(cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => return Poll::Ready(Some(Ok(data))),
                    Err(_trailers) => continue,
                },
            }
        }
    }
}

/// The webhook as a tower `Service`: never fails (every error is an HTTP answer), always
/// ready. See the module docs for the contract (peer, body deadline, extensions).
impl<B> tower_service::Service<http::Request<B>> for Webhook
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let webhook = self.clone();
        Box::pin(async move { Ok(handle_request(&webhook, request).await.into()) })
    }
}
