//! [`CallHandler`]: the one trait a service implements.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use http::{Extensions, HeaderMap};

use crate::CallFlow;
use crate::event::{
    CallAction, CallStatusEvent, RecordingStatus, SessionSummary, UnknownEvent, VirtualNumberUpdate,
};

/// Decides what calls do. Only [`on_call_action`](Self::on_call_action) is required; the
/// other events are acknowledged and ignored unless you override their methods.
///
/// ```
/// use callflow::{CallFlow, CallHandler, Context, HandlerError, async_trait};
/// use callflow::event::CallAction;
///
/// struct Greeter;
///
/// #[async_trait]
/// impl CallHandler for Greeter {
///     async fn on_call_action(&self, _event: CallAction, _cx: &Context) -> Result<CallFlow, HandlerError> {
///         Ok(CallFlow::new().say("Hello from Rust.").hangup())
///     }
/// }
/// ```
///
/// What the webhook does with each outcome is decided once, in
/// [`Webhook::dispatch`](crate::Webhook::dispatch): an error, a panic or a missed deadline in
/// `on_call_action` answers the configured fallback callflow (never dead air); in the other
/// methods they answer 500 (503 for the deadline, and for an error made with
/// [`HandlerError::unavailable`]).
#[async_trait]
pub trait CallHandler: Send + Sync + 'static {
    /// `CALL_ACTION`: return what the call does next.
    async fn on_call_action(
        &self,
        event: CallAction,
        cx: &Context,
    ) -> Result<CallFlow, HandlerError>;

    /// `CALL_STATUS`: leg telemetry (best effort, unordered). Default: ignored.
    async fn on_call_status(
        &self,
        _event: CallStatusEvent,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        Ok(())
    }

    /// `SESSION_SUMMARY`: the final outcome of a session. Default: ignored.
    async fn on_session_summary(
        &self,
        _event: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        Ok(())
    }

    /// `CALL_RECORDING_STATUS`. Default: ignored.
    async fn on_recording_status(
        &self,
        _event: RecordingStatus,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        Ok(())
    }

    /// `VIRTUAL_NUMBER_UPDATE`. Default: ignored.
    async fn on_virtual_number_update(
        &self,
        _event: VirtualNumberUpdate,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        Ok(())
    }

    /// An `eventType` this version does not know. Default: ignored (acknowledged with 200).
    async fn on_unknown(&self, _event: UnknownEvent, _cx: &Context) -> Result<(), HandlerError> {
        Ok(())
    }
}

/// What a handler knows about the request besides the event.
///
/// Cheap to clone. Its `Debug` output leaves out header values (they may hold the webhook's
/// secret).
#[derive(Clone)]
pub struct Context {
    inner: Arc<ContextInner>,
}

struct ContextInner {
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    request_id: RequestId,
    extensions: Extensions,
}

/// A request id, kept without allocating: the sender's header value (shared, not copied) or
/// a generated one written into a small inline buffer.
pub(crate) enum RequestId {
    /// Given by the caller of [`Context::new`].
    Owned(String),
    /// The `x-request-id` header (already checked to be visible ASCII).
    Header(http::HeaderValue),
    /// Generated: `8 hex digits - counter in hex`, at most 25 bytes.
    Generated { buf: [u8; 25], len: u8 },
}

impl RequestId {
    /// `{boot:08x}-{n:x}`, without `format!`.
    pub(crate) fn generated(boot: u32, n: u64) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 25];
        for (i, b) in buf[..8].iter_mut().enumerate() {
            *b = HEX[((boot >> (28 - 4 * i)) & 0xf) as usize];
        }
        buf[8] = b'-';
        let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
        for i in 0..digits {
            buf[9 + i] = HEX[((n >> (4 * (digits - 1 - i))) & 0xf) as usize];
        }
        Self::Generated {
            buf,
            len: (9 + digits) as u8,
        }
    }

    fn as_str(&self) -> &str {
        match self {
            RequestId::Owned(s) => s,
            RequestId::Header(v) => v.to_str().unwrap_or(""),
            RequestId::Generated { buf, len } => {
                std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or("")
            }
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Context {
    /// A context; adapters and the test kit build these.
    pub fn new(
        headers: HeaderMap,
        peer: Option<SocketAddr>,
        request_id: String,
        extensions: Extensions,
    ) -> Self {
        Self::with_request_id(headers, peer, RequestId::Owned(request_id), extensions)
    }

    pub(crate) fn with_request_id(
        headers: HeaderMap,
        peer: Option<SocketAddr>,
        request_id: RequestId,
        extensions: Extensions,
    ) -> Self {
        Self {
            inner: Arc::new(ContextInner {
                headers,
                peer,
                request_id,
                extensions,
            }),
        }
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.inner.headers
    }

    /// The peer address of the connection, when the adapter knows it.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.inner.peer
    }

    /// The request id: the `x-request-id` header if the sender set one, else one generated
    /// for this request. It appears in every log line of the request.
    pub fn request_id(&self) -> &str {
        self.inner.request_id.as_str()
    }

    /// Values attached to the request by the application (see
    /// [`WebhookRequest::extensions_mut`](crate::WebhookRequest::extensions_mut)).
    pub fn extensions(&self) -> &Extensions {
        &self.inner.extensions
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("headers", &self.inner.headers.keys().collect::<Vec<_>>())
            .field("peer", &self.inner.peer)
            .field("request_id", &self.inner.request_id.as_str())
            .finish_non_exhaustive()
    }
}

/// A handler's failure. Any standard error, a `Box<dyn Error + Send + Sync>`, an
/// `anyhow::Error` (no feature needed: `anyhow` converts into the box) and a `String` or
/// `&str` convert into it with `?`; its message goes to the log, never to the HTTP response.
///
/// `Display` shows this error's own message only; the causes are reached with
/// [`source`](Self::source) and [`chain`](Self::chain), as the Rust API guidelines ask. The
/// alternate form (`{:#}`, what the webhook logs) writes the whole chain, `message: cause:
/// root cause`, as `anyhow` does. Like `anyhow::Error`, `HandlerError` does not implement
/// [`std::error::Error`] itself: that is what lets one `From` accept every error type.
///
/// Most failures are final for the event (500 `internal_error` outside `CALL_ACTION`). A
/// failure of something the handler depends on that may well succeed on a later delivery
/// (a store that is locked, unreachable, full or read-only) is made with
/// [`HandlerError::unavailable`]: the webhook then answers 503 `store_unavailable`, so 8x8
/// may deliver the event again. A `CALL_ACTION` gets the fallback callflow either way.
///
/// ```
/// use callflow::{HandlerError, HandlerErrorKind};
///
/// fn parse(s: &str) -> Result<u32, HandlerError> {
///     Ok(s.parse::<u32>()?) // a std error
/// }
/// fn boxed() -> Result<(), HandlerError> {
///     let e: Box<dyn std::error::Error + Send + Sync> = "backend down".into();
///     Err(e)?
/// }
/// let e = parse("x").unwrap_err();
/// assert_eq!(e.kind(), HandlerErrorKind::Failed);
/// assert_eq!(e.to_string(), "invalid digit found in string");
/// assert_eq!(boxed().unwrap_err().to_string(), "backend down");
/// ```
pub struct HandlerError {
    inner: Box<dyn std::error::Error + Send + Sync + 'static>,
    kind: HandlerErrorKind,
}

/// What a [`HandlerError`] means for the event, as the webhook answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandlerErrorKind {
    /// Final for this event: 500 `internal_error` (the fallback callflow for a
    /// `CALL_ACTION`).
    Failed,
    /// A dependency is unavailable right now and a later delivery may succeed: 503
    /// `store_unavailable` (the fallback callflow for a `CALL_ACTION`).
    Unavailable,
}

impl HandlerError {
    /// An error with a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self {
            inner: message.to_string().into(),
            kind: HandlerErrorKind::Failed,
        }
    }

    /// A dependency (a store) is unavailable right now: the event should be delivered again
    /// later. The webhook answers 503 `store_unavailable` (the fallback callflow for a
    /// `CALL_ACTION`).
    ///
    /// ```
    /// use callflow::{HandlerError, HandlerErrorKind};
    /// let e = HandlerError::unavailable("database is locked");
    /// assert!(e.is_unavailable());
    /// assert_eq!(e.kind(), HandlerErrorKind::Unavailable);
    /// assert!(!HandlerError::msg("bad data").is_unavailable());
    /// ```
    pub fn unavailable(
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            inner: source.into(),
            kind: HandlerErrorKind::Unavailable,
        }
    }

    /// What the error means for the event.
    pub fn kind(&self) -> HandlerErrorKind {
        self.kind
    }

    /// Whether this is a retryable unavailability ([`HandlerError::unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        self.kind == HandlerErrorKind::Unavailable
    }

    /// The underlying error (whose `Display` is this error's message).
    pub fn source_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.inner
    }

    /// The cause of this error, if any (the underlying error's
    /// [`source`](std::error::Error::source)).
    ///
    /// ```
    /// use callflow::HandlerError;
    ///
    /// #[derive(Debug)]
    /// struct SaveFailed(std::io::Error);
    /// impl std::fmt::Display for SaveFailed {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("cannot save")
    ///     }
    /// }
    /// impl std::error::Error for SaveFailed {
    ///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
    ///         Some(&self.0)
    ///     }
    /// }
    ///
    /// let e = HandlerError::from(SaveFailed(std::io::Error::other("disk full")));
    /// assert_eq!(e.to_string(), "cannot save");
    /// assert_eq!(e.source().unwrap().to_string(), "disk full");
    /// assert_eq!(format!("{e:#}"), "cannot save: disk full");
    /// ```
    pub fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }

    /// The underlying error followed by its causes, outermost first.
    pub fn chain(&self) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
        let first: &(dyn std::error::Error + 'static) = &*self.inner;
        std::iter::successors(Some(first), |e| e.source())
    }

    /// Consumes the error, returning the underlying one.
    pub fn into_inner(self) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self.inner
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>> From<E> for HandlerError {
    fn from(e: E) -> Self {
        Self {
            inner: e.into(),
            kind: HandlerErrorKind::Failed,
        }
    }
}

impl AsRef<dyn std::error::Error + Send + Sync + 'static> for HandlerError {
    fn as_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.inner
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)?;
        if f.alternate() {
            for s in self.chain().skip(1) {
                write!(f, ": {s}")?;
            }
        }
        Ok(())
    }
}

/// A [`CallHandler`] made from a closure that answers `CALL_ACTION`; other events are
/// acknowledged. Build one with [`handler_fn`].
pub struct HandlerFn<F, Fut> {
    f: F,
    _fut: PhantomData<fn() -> Fut>,
}

/// A handler from a closure, for small services and tests.
///
/// ```
/// use callflow::{CallFlow, Webhook, handler_fn};
/// let webhook = Webhook::new(handler_fn(|event, _cx| async move {
///     let _caller = event.payload.source; // masked in logs and Debug
///     Ok(CallFlow::new().say("Hi!").hangup())
/// }));
/// # let _ = webhook;
/// ```
pub fn handler_fn<F, Fut>(f: F) -> HandlerFn<F, Fut>
where
    F: Fn(CallAction, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CallFlow, HandlerError>> + Send + 'static,
{
    HandlerFn {
        f,
        _fut: PhantomData,
    }
}

#[async_trait]
impl<F, Fut> CallHandler for HandlerFn<F, Fut>
where
    F: Fn(CallAction, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CallFlow, HandlerError>> + Send + 'static,
{
    async fn on_call_action(
        &self,
        event: CallAction,
        cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        (self.f)(event, cx.clone()).await
    }
}

#[async_trait]
impl<H: CallHandler + ?Sized> CallHandler for Arc<H> {
    async fn on_call_action(
        &self,
        event: CallAction,
        cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        (**self).on_call_action(event, cx).await
    }
    async fn on_call_status(&self, e: CallStatusEvent, cx: &Context) -> Result<(), HandlerError> {
        (**self).on_call_status(e, cx).await
    }
    async fn on_session_summary(
        &self,
        e: SessionSummary,
        cx: &Context,
    ) -> Result<(), HandlerError> {
        (**self).on_session_summary(e, cx).await
    }
    async fn on_recording_status(
        &self,
        e: RecordingStatus,
        cx: &Context,
    ) -> Result<(), HandlerError> {
        (**self).on_recording_status(e, cx).await
    }
    async fn on_virtual_number_update(
        &self,
        e: VirtualNumberUpdate,
        cx: &Context,
    ) -> Result<(), HandlerError> {
        (**self).on_virtual_number_update(e, cx).await
    }
    async fn on_unknown(&self, e: UnknownEvent, cx: &Context) -> Result<(), HandlerError> {
        (**self).on_unknown(e, cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::RequestId;

    #[test]
    fn generated_request_ids_are_boot_dash_hex_counter() {
        assert_eq!(
            RequestId::generated(0xdead_beef, 0).to_string(),
            "deadbeef-0"
        );
        assert_eq!(RequestId::generated(1, 0x2a).to_string(), "00000001-2a");
        assert_eq!(
            RequestId::generated(u32::MAX, u64::MAX).to_string(),
            "ffffffff-ffffffffffffffff"
        );
    }
}
