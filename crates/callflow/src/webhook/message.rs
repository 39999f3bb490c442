//! The framework-neutral request and response that adapters copy in and out.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{ALLOW, CONNECTION, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Extensions, HeaderMap, Method, StatusCode};
use serde::Serialize;

/// A webhook request as the core sees it: method, headers, peer address and the raw body.
#[derive(Debug)]
pub struct WebhookRequest {
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) body: Bytes,
    pub(crate) extensions: Extensions,
}

impl WebhookRequest {
    /// A request with these parts and no peer address.
    pub fn new(method: Method, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            method,
            headers,
            peer: None,
            body: body.into(),
            extensions: Extensions::new(),
        }
    }

    /// A `POST` with `Content-Type: application/json` and this body (handy in tests).
    pub fn post_json(body: impl Into<Bytes>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Self::new(Method::POST, headers, body)
    }

    /// Sets the peer address of the connection.
    pub fn with_peer(mut self, peer: Option<SocketAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Mutable headers.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The peer address, if known.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Values the handler will find in [`Context::extensions`](crate::Context::extensions).
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }
}

/// Why the core refused a request. Adapters use these to re-render a framework's own
/// rejections with the core's status and body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// 400: the body is empty.
    EmptyBody,
    /// 400: the body is not valid JSON.
    InvalidJson,
    /// 400: a known event with a wrong shape.
    InvalidEvent,
    /// 400: the body could not be read (the upload broke off or was malformed on the wire).
    BodyUnreadable,
    /// 401: auth header missing or wrong.
    Unauthorized,
    /// 403: the peer is not allowed.
    Forbidden,
    /// 405: not a POST.
    MethodNotAllowed,
    /// 408: the request was not received in time.
    RequestTimeout,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 415: not a JSON media type.
    UnsupportedMediaType,
    /// 415: a `Content-Encoding` the webhook does not decode.
    UnsupportedEncoding,
    /// 500: the handler failed or panicked (details only in the log).
    HandlerFailed,
    /// 503: the handler missed its deadline.
    DeadlineExceeded,
    /// 503: a store the webhook depends on (e.g. the shared idempotency store) is unreachable.
    StoreUnavailable,
}

impl Rejection {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Rejection::EmptyBody
            | Rejection::InvalidJson
            | Rejection::InvalidEvent
            | Rejection::BodyUnreadable => StatusCode::BAD_REQUEST,
            Rejection::Unauthorized => StatusCode::UNAUTHORIZED,
            Rejection::Forbidden => StatusCode::FORBIDDEN,
            Rejection::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Rejection::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::UnsupportedMediaType | Rejection::UnsupportedEncoding => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Rejection::HandlerFailed => StatusCode::INTERNAL_SERVER_ERROR,
            Rejection::DeadlineExceeded | Rejection::StoreUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The machine-readable `error.code` of the JSON body.
    pub fn code(self) -> &'static str {
        match self {
            Rejection::EmptyBody => "empty_body",
            Rejection::InvalidJson => "invalid_json",
            Rejection::InvalidEvent => "invalid_event",
            Rejection::BodyUnreadable => "body_unreadable",
            Rejection::Unauthorized => "unauthorized",
            Rejection::Forbidden => "forbidden",
            Rejection::MethodNotAllowed => "method_not_allowed",
            Rejection::RequestTimeout => "request_timeout",
            Rejection::PayloadTooLarge => "payload_too_large",
            Rejection::UnsupportedMediaType => "unsupported_media_type",
            Rejection::UnsupportedEncoding => "unsupported_content_encoding",
            Rejection::HandlerFailed => "internal_error",
            Rejection::DeadlineExceeded => "deadline_exceeded",
            Rejection::StoreUnavailable => "store_unavailable",
        }
    }
}

/// What the adapter sends back: status, headers and body, decided entirely by the core.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorFields<'a>,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
}

fn json_headers() -> HeaderMap {
    let mut h = HeaderMap::with_capacity(2);
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h
}

impl WebhookResponse {
    /// 200 with a JSON body.
    pub fn json(status: StatusCode, body: Bytes) -> Self {
        Self {
            status,
            headers: json_headers(),
            body,
        }
    }

    /// The shared JSON error shape:
    /// `{"error":{"code":"payload_too_large","message":"…","path":"$.payload.callId"}}`
    /// (`path` only where a field is to blame).
    ///
    /// ```
    /// use callflow::{Rejection, WebhookResponse};
    /// let r = WebhookResponse::rejection(Rejection::PayloadTooLarge, "too big", None);
    /// assert_eq!(r.status().as_u16(), 413);
    /// assert_eq!(&r.body()[..], br#"{"error":{"code":"payload_too_large","message":"too big"}}"#);
    /// ```
    pub fn rejection(kind: Rejection, message: &str, path: Option<&str>) -> Self {
        let body = serde_json::to_vec(&ErrorBody {
            error: ErrorFields {
                code: kind.code(),
                message,
                path,
            },
        })
        .expect("error body serializes");
        let mut r = Self::json(kind.status(), Bytes::from(body));
        if kind == Rejection::MethodNotAllowed {
            r.headers.insert(ALLOW, HeaderValue::from_static("POST"));
        }
        r
    }

    /// 413 for a body over `limit` bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::rejection(
            Rejection::PayloadTooLarge,
            &format!("request body exceeds the limit of {limit} bytes"),
            None,
        )
    }

    /// 400 for a body the adapter could not read (a broken upload); every adapter answers a
    /// framework's body-read error with this.
    pub fn body_unreadable() -> Self {
        Self::rejection(
            Rejection::BodyUnreadable,
            "the request body could not be read",
            None,
        )
    }

    /// 408 for a body that did not arrive within the adapter's read deadline; every adapter
    /// answers a late body with this.
    pub fn request_timeout() -> Self {
        Self::rejection(
            Rejection::RequestTimeout,
            "the request body was not received in time",
            None,
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers (always `Content-Type: application/json`; `Allow` on 405;
    /// `Connection: close` when [`closes`](Self::closes); `Callflow-Replay: true` when
    /// [`is_replay`](Self::is_replay)).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Status, headers and body, for adapters.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, Bytes) {
        (self.status, self.headers, self.body)
    }

    /// This response with `Connection: close`: the adapter must close the connection after
    /// it (a request answered with its body unread, or a late body).
    pub fn closing(mut self) -> Self {
        self.headers
            .insert(CONNECTION, HeaderValue::from_static("close"));
        self
    }

    /// This response marked as a replay: with the header
    /// [`REPLAY_HEADER`](crate::idempotency::REPLAY_HEADER) `: true` (the answer of a duplicate
    /// delivery, from the idempotency store).
    pub fn replayed(mut self) -> Self {
        self.headers.insert(
            HeaderName::from_static(crate::idempotency::REPLAY_HEADER),
            HeaderValue::from_static("true"),
        );
        self
    }

    /// Whether this response is a replay of a first delivery's answer ([`replayed`](Self::replayed)).
    pub fn is_replay(&self) -> bool {
        self.headers
            .get(crate::idempotency::REPLAY_HEADER)
            .is_some_and(|v| v.as_bytes() == b"true")
    }

    /// Whether the connection must be closed after this response ([`closing`](Self::closing)).
    pub fn closes(&self) -> bool {
        self.headers
            .get(CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
    }
}

/// A request from an `http::Request` whose body is already read: the peer from its
/// [`PeerAddr`](crate::adapter::PeerAddr) extension, the other extensions for the handler (a
/// [`ContextExtensions`](crate::adapter::ContextExtensions) unpacked).
impl<B: Into<Bytes>> From<http::Request<B>> for WebhookRequest {
    fn from(request: http::Request<B>) -> Self {
        let (parts, body) = request.into_parts();
        let mut extensions = parts.extensions;
        let peer = extensions.get::<crate::adapter::PeerAddr>().map(|p| p.0);
        if let Some(crate::adapter::ContextExtensions(values)) =
            extensions.remove::<crate::adapter::ContextExtensions>()
        {
            extensions.extend(values);
        }
        Self {
            method: parts.method,
            headers: parts.headers,
            peer,
            body: body.into(),
            extensions,
        }
    }
}

/// The request as an `http::Request` (URI `/`); the peer, if known, as a
/// [`PeerAddr`](crate::adapter::PeerAddr) extension.
impl From<WebhookRequest> for http::Request<Bytes> {
    fn from(request: WebhookRequest) -> Self {
        let mut out = http::Request::new(request.body);
        *out.method_mut() = request.method;
        *out.headers_mut() = request.headers;
        *out.extensions_mut() = request.extensions;
        if let Some(peer) = request.peer {
            out.extensions_mut().insert(crate::adapter::PeerAddr(peer));
        }
        out
    }
}

/// The response as an `http::Response` with the body as one buffer.
impl From<WebhookResponse> for http::Response<Bytes> {
    fn from(response: WebhookResponse) -> Self {
        let mut out = http::Response::new(response.body);
        *out.status_mut() = response.status;
        *out.headers_mut() = response.headers;
        out
    }
}

/// The response as an `http::Response` with an `http_body` body (the `Service`'s).
impl From<WebhookResponse> for http::Response<http_body_util::Full<Bytes>> {
    fn from(response: WebhookResponse) -> Self {
        http::Response::<Bytes>::from(response).map(http_body_util::Full::new)
    }
}

/// A response given as an `http::Response` (for tests and middleware that rebuild one).
impl From<http::Response<Bytes>> for WebhookResponse {
    fn from(response: http::Response<Bytes>) -> Self {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}
