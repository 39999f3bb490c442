//! [`WebhookBuilder`]: every behaviour of the webhook in one place.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::Webhook;
use crate::CallFlow;
use crate::allow::AllowList;
use crate::callflow::Mode;
use crate::callflow::Violations;
use crate::handler::DynCallHandler;
use crate::idempotency::{self, DynIdempotencyStore, IdempotencyStore, MemoryIdempotencyStore};

/// What the webhook accepts and how it answers when things go wrong: the settings a
/// [`WebhookBuilder`] collects.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) max_body_bytes: usize,
    pub(crate) deadline: Option<Duration>,
    pub(crate) fallback: CallFlow,
    pub(crate) auth_header: HeaderName,
    pub(crate) auth_tokens: Vec<Vec<u8>>,
    pub(crate) strict_content_type: bool,
    pub(crate) validate_replies: bool,
    pub(crate) allow_list: Option<AllowList>,
    pub(crate) idempotency: Option<Arc<dyn DynIdempotencyStore>>,
    pub(crate) idempotency_ttl: Duration,
    pub(crate) observer: Option<Arc<dyn crate::observe::Observer>>,
}

/// Default body limit: 1 MiB (the largest documented event, a number snapshot, is far below).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Default handler deadline: 4 s. 8x8 publishes no response timeout for its webhooks; the
/// deadline makes sure a slow handler gets the caller the fallback callflow instead of
/// silence.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(4);

/// The default fallback callflow: an apology, then hang up.
pub fn default_fallback() -> CallFlow {
    CallFlow::builder()
        .say("We are sorry, your call cannot be connected right now. Please try again later.")
        .hangup()
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            deadline: Some(DEFAULT_DEADLINE),
            fallback: default_fallback(),
            auth_header: http::header::AUTHORIZATION,
            auth_tokens: Vec::new(),
            strict_content_type: false,
            validate_replies: true,
            allow_list: None,
            idempotency: Some(Arc::new(MemoryIdempotencyStore::default())),
            idempotency_ttl: idempotency::DEFAULT_TTL,
            observer: None,
        }
    }
}

/// Builds a [`Webhook`]: [`Webhook::builder`]`(handler)`, the settings, then
/// [`build`](Self::build). Every setting has a documented default.
///
/// ```
/// use std::time::Duration;
/// use callflow::{CallFlow, Webhook, handler_fn};
/// # fn main() -> Result<(), callflow::InvalidFallback> {
/// let handler = handler_fn(|_ev, _cx| async { Ok(CallFlow::builder().say("Hi").hangup()) });
/// let webhook = Webhook::builder(handler)
///     .max_body_bytes(64 * 1024)
///     .deadline(Duration::from_secs(2))
///     .auth_token("Bearer current-secret")
///     .auth_token("Bearer previous-secret") // accepted too, during a key rotation
///     .fallback(CallFlow::builder().say("Please call again later.").hangup())?
///     .build();
/// assert_eq!(webhook.max_body_bytes(), 64 * 1024);
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct WebhookBuilder {
    pub(crate) handler: Arc<dyn DynCallHandler>,
    pub(crate) config: Config,
}

/// The fallback given to [`WebhookBuilder::fallback`] is not a valid reply: a broken
/// fallback is a programming error that must show at start-up, not during a call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the fallback callflow is not a valid reply: {0}")]
pub struct InvalidFallback(#[source] pub Violations);

impl WebhookBuilder {
    /// Largest body accepted; larger ones get 413 (before reading, when `Content-Length`
    /// says so). Default [`DEFAULT_MAX_BODY_BYTES`].
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.config.max_body_bytes = limit;
        self
    }

    /// How long a handler may take. Default [`DEFAULT_DEADLINE`]. Past it, a `CALL_ACTION`
    /// gets the fallback callflow and other events 503; the handler's future is dropped.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.config.deadline = Some(deadline);
        self
    }

    /// Removes the handler deadline (not recommended: a stuck handler means dead air).
    pub fn no_deadline(mut self) -> Self {
        self.config.deadline = None;
        self
    }

    /// The callflow a `CALL_ACTION` gets (with 200) when the handler fails, panics, misses
    /// the deadline or returns an invalid callflow. Default [`default_fallback`].
    ///
    /// # Errors
    ///
    /// [`InvalidFallback`] if `flow` is itself not a valid reply.
    pub fn fallback(mut self, flow: CallFlow) -> Result<Self, InvalidFallback> {
        flow.validate(Mode::Reply).map_err(InvalidFallback)?;
        self.config.fallback = flow;
        Ok(self)
    }

    /// Requires this exact header value (8x8's `httpAuthHeader`) on every request; call
    /// again to accept several values during a key rotation. Compared in constant time,
    /// before the body is parsed; a missing or wrong value gets 401.
    pub fn auth_token(mut self, value: impl AsRef<[u8]>) -> Self {
        self.config.auth_tokens.push(value.as_ref().to_vec());
        self
    }

    /// The header that carries the token. Default `Authorization` (8x8 does not document
    /// the header name; this is where its messaging webhooks put the same setting).
    pub fn auth_header(mut self, name: HeaderName) -> Self {
        self.config.auth_header = name;
        self
    }

    /// With `true`, a request without `Content-Type` gets 415. Default `false`: the body is
    /// accepted if it parses.
    pub fn strict_content_type(mut self, strict: bool) -> Self {
        self.config.strict_content_type = strict;
        self
    }

    /// With `true` (the default), callflows returned by the handler are checked against
    /// 8x8's rules before they are sent; an invalid one is logged and replaced by the
    /// fallback, because 8x8 would end the call with error -2003.
    pub fn validate_replies(mut self, on: bool) -> Self {
        self.config.validate_replies = on;
        self
    }

    /// Only peers in `list` may call the webhook; others get 403 before the body is read.
    /// Off by default. See [`AllowList`] for proxies and 8x8's published addresses.
    pub fn allow_list(mut self, list: AllowList) -> Self {
        self.config.allow_list = Some(list);
        self
    }

    /// Where duplicate deliveries are recognised (see [`crate::idempotency`]). Default: an
    /// in-process [`MemoryIdempotencyStore`]; use a shared store when running many instances.
    /// The `Arc` may be shared (one store for several webhooks).
    pub fn idempotency_store<S: IdempotencyStore>(mut self, store: Arc<S>) -> Self {
        self.config.idempotency = Some(store);
        self
    }

    /// Turns duplicate detection off: every delivery runs the handler.
    pub fn no_idempotency(mut self) -> Self {
        self.config.idempotency = None;
        self
    }

    /// How long a first delivery's answer is kept for its duplicates. Default
    /// [`idempotency::DEFAULT_TTL`] (24 h).
    pub fn idempotency_ttl(mut self, ttl: Duration) -> Self {
        self.config.idempotency_ttl = ttl;
        self
    }

    /// Reports every answer, the handler's time, every fallback and every duplicate to
    /// `observer` (e.g. [`PrometheusObserver`](crate::observe::PrometheusObserver), feature
    /// `metrics`). Default: none.
    pub fn observer<O: crate::observe::Observer>(mut self, observer: Arc<O>) -> Self {
        self.config.observer = Some(observer);
        self
    }

    /// The webhook.
    pub fn build(self) -> Webhook {
        Webhook::from_parts(self.handler, self.config)
    }
}

impl fmt::Debug for WebhookBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Config {
    // Never prints the tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("deadline", &self.deadline)
            .field("auth_header", &self.auth_header)
            .field(
                "auth_tokens",
                &format_args!("[{} redacted]", self.auth_tokens.len()),
            )
            .field("strict_content_type", &self.strict_content_type)
            .field("validate_replies", &self.validate_replies)
            .field("allow_list", &self.allow_list)
            .field("idempotency", &self.idempotency.is_some())
            .field("idempotency_ttl", &self.idempotency_ttl)
            .field("observer", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}
