//! [`Webhook`]: the one place that decides every behaviour.
//!
//! | situation | status | body |
//! |---|---|---|
//! | peer not in the allow-list (when configured) | 403 | JSON error, before the body is read |
//! | not `POST` | 405 + `Allow: POST` | JSON error |
//! | auth header missing or wrong (when configured) | 401 | JSON error, nothing about the secret |
//! | `Content-Encoding` other than identity | 415 | JSON error |
//! | media type clearly not JSON | 415 | JSON error |
//! | body over the limit (declared or actual) | 413 | JSON error |
//! | empty body | 400 | JSON error |
//! | not valid JSON | 400 | JSON error |
//! | known event with a wrong shape | 400 | JSON error naming the JSON path |
//! | unknown event type | 200 | acknowledgement; `on_unknown` runs |
//! | `CALL_ACTION` handled | 200 | the callflow |
//! | `CALL_ACTION` handler error, panic, deadline, invalid callflow | 200 | the fallback callflow |
//! | other event handled | 200 | `{"received":true}` |
//! | other event: handler error or panic | 500 | JSON error (details only in the log) |
//! | other event: [`HandlerError::unavailable`](crate::HandlerError::unavailable) | 503 | JSON error `store_unavailable` |
//! | other event: deadline passed | 503 | JSON error |
//! | duplicate delivery of a handled event (same id, same bytes) | the first delivery's status and body, plus `Callflow-Replay: true` ([`REPLAY_HEADER`](crate::idempotency::REPLAY_HEADER)) | handler not run again; `debug` log with the key |
//! | known id, other bytes (a replayed or forged id) | handled as a new event: its own answer | `warn` log; the first's record kept |
//! | idempotency store unreachable | `CALL_ACTION`: 200 + fallback; others: 503 | |
//!
//! Every JSON error has one shape: `{"error":{"code":"…","message":"…"}}`, plus `"path"`
//! for shape errors.

mod body;
mod config;
pub(crate) mod guard;
mod head;
mod message;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, StatusCode};
use tracing::{Instrument, field};

pub(crate) use body::read as read_body;
pub use body::{BodyCollector, BodyReadError, BodyTooLarge};
pub(crate) use config::Config;
pub use config::{
    DEFAULT_DEADLINE, DEFAULT_MAX_BODY_BYTES, InvalidFallback, WebhookBuilder, default_fallback,
};
pub(crate) use head::{announces_body, check as check_head};
pub use message::{Rejection, WebhookRequest, WebhookResponse};

use crate::callflow::Mode;
use crate::event::{Event, ParseErrorKind};
use crate::handler::{DynCallHandler, RequestId};
use crate::idempotency::{self, Claim, Fingerprint, IdempotencyError, StoredReply};
use crate::observe::FallbackReason;
use crate::{CallHandler, Context};
use guard::{Outcome, guarded};

/// The body every non-interactive event gets with 200.
const ACK_BODY: &[u8] = br#"{"received":true}"#;

/// A handler mounted with its configuration. Cheap to clone; adapters are not generic over
/// the handler type.
///
/// ```
/// use callflow::{CallFlow, Webhook, WebhookRequest, handler_fn};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let webhook = Webhook::new(handler_fn(|_ev, _cx| async { Ok(CallFlow::builder().say("Hi").hangup()) }));
/// let body = callflow::testing::call_action().build_json();
/// let response = webhook.dispatch(WebhookRequest::post_json(body)).await;
/// assert_eq!(response.status(), 200);
/// # }
/// ```
#[derive(Clone)]
pub struct Webhook {
    inner: Arc<Inner>,
}

struct Inner {
    handler: Arc<dyn DynCallHandler>,
    config: Config,
    fallback_body: Bytes,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn next_request_id() -> RequestId {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static BOOT: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let boot = *BOOT.get_or_init(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        (t ^ u64::from(std::process::id())) as u32
    });
    RequestId::generated(boot, COUNTER.fetch_add(1, Ordering::Relaxed))
}

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn request_id(headers: &HeaderMap) -> RequestId {
    match headers.get(&X_REQUEST_ID) {
        Some(v)
            if !v.is_empty() && v.len() <= 128 && v.as_bytes().iter().all(u8::is_ascii_graphic) =>
        {
            RequestId::Header(v.clone())
        }
        _ => next_request_id(),
    }
}

impl Webhook {
    /// Mounts `handler` with the default settings (`Webhook::builder(handler).build()`).
    pub fn new(handler: impl CallHandler) -> Self {
        Self::builder(handler).build()
    }

    /// Starts a [`WebhookBuilder`] for `handler` (an `Arc<H>` of a handler shared with other
    /// code works too), with every setting at its default.
    pub fn builder(handler: impl CallHandler) -> WebhookBuilder {
        WebhookBuilder {
            handler: Arc::new(handler),
            config: Config::default(),
        }
    }

    pub(crate) fn from_parts(handler: Arc<dyn DynCallHandler>, config: Config) -> Self {
        let fallback_body = config.fallback.to_bytes();
        Self {
            inner: Arc::new(Inner {
                handler,
                config,
                fallback_body,
            }),
        }
    }

    pub(crate) fn settings(&self) -> &Config {
        &self.inner.config
    }

    /// The body limit in bytes ([`WebhookBuilder::max_body_bytes`]); adapters enforce it while
    /// reading.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.config.max_body_bytes
    }

    /// The handler deadline, if any ([`WebhookBuilder::deadline`]).
    pub fn deadline(&self) -> Option<Duration> {
        self.inner.config.deadline
    }

    /// The fallback callflow ([`WebhookBuilder::fallback`]).
    pub fn fallback(&self) -> &crate::CallFlow {
        &self.inner.config.fallback
    }

    /// Whether a request without `Content-Type` is refused
    /// ([`WebhookBuilder::strict_content_type`]).
    pub fn strict_content_type(&self) -> bool {
        self.inner.config.strict_content_type
    }

    /// Whether the handler's callflows are validated ([`WebhookBuilder::validate_replies`]).
    pub fn validate_replies(&self) -> bool {
        self.inner.config.validate_replies
    }

    /// Whether an auth token is required ([`WebhookBuilder::auth_token`]).
    pub fn requires_auth(&self) -> bool {
        !self.inner.config.auth_tokens.is_empty()
    }

    /// Handles one request: every check, the parse, the handler (with panic guard and
    /// deadline), and the response. Needs a Tokio runtime with the time driver (every
    /// supported web framework runs on one).
    pub async fn dispatch(&self, req: WebhookRequest) -> WebhookResponse {
        if let Some(r) = head::check(&self.inner.config, &req.method, &req.headers, req.peer) {
            return self.refused(r);
        }
        self.dispatch_checked(req).await
    }

    /// Reports `refusal`, the answer to a request refused before its body was parsed (a
    /// head check, a body too large or too slow), to the observer (event `none`), and
    /// returns it: every refusal is counted, whichever adapter sends it.
    pub(crate) fn refused(&self, refusal: WebhookResponse) -> WebhookResponse {
        if let Some(o) = &self.inner.config.observer {
            o.answered("none", refusal.status().as_u16());
        }
        refusal
    }

    /// [`Webhook::dispatch`] for a request whose head (method, peer, headers) already passed
    /// the head checks against this webhook's config, unchanged since: what
    /// [`crate::adapter::handle`] sends after its own check. The head checks are not run twice.
    pub(crate) async fn dispatch_checked(&self, req: WebhookRequest) -> WebhookResponse {
        let mut event = "none";
        let response = self.dispatch_labelled(req, &mut event).await;
        if let Some(o) = &self.inner.config.observer {
            o.answered(event, response.status().as_u16());
        }
        response
    }

    /// [`dispatch_checked`](Self::dispatch_checked), setting `label` to the event's once it
    /// is parsed.
    async fn dispatch_labelled(
        &self,
        req: WebhookRequest,
        label: &mut &'static str,
    ) -> WebhookResponse {
        let config = &self.inner.config;
        if req.body.len() > config.max_body_bytes {
            return WebhookResponse::payload_too_large(config.max_body_bytes);
        }
        // Boxed at once (not after the checks below): the event is then never kept (608
        // bytes) in this function's future as well as in the box.
        let event = match Event::from_slice(&req.body) {
            Ok(e) => Box::new(e),
            Err(e) => {
                let kind = match e.kind() {
                    ParseErrorKind::Empty => Rejection::EmptyBody,
                    ParseErrorKind::Syntax => Rejection::InvalidJson,
                    _ => Rejection::InvalidEvent,
                };
                tracing::info!(error = %e, "webhook body rejected");
                return WebhookResponse::rejection(kind, e.message(), e.path());
            }
        };
        *label = crate::observe::event_label(&event);
        let ids = event.ids();
        let request_id = request_id(&req.headers);
        let span = tracing::info_span!(
            "callflow.dispatch",
            event_type = event.event_type(),
            session_id = ids.session_id.unwrap_or(""),
            call_id = ids.call_id.unwrap_or(""),
            event_id = ids.event_id.unwrap_or(""),
            request_id = %request_id,
            outcome = field::Empty,
        );
        let cx = Context::with_request_id(req.headers, req.peer, request_id, req.extensions);
        self.deduplicated(event, &req.body, cx)
            .instrument(span)
            .await
    }

    /// Runs the event once per idempotency key and body: duplicates (same key, same bytes) get
    /// the first answer; a known key with other bytes is handled as a new event.
    async fn deduplicated(&self, event: Box<Event>, body: &[u8], cx: Context) -> WebhookResponse {
        let config = &self.inner.config;
        let Some((store, key)) = config
            .idempotency
            .as_ref()
            .and_then(|store| Some((store, idempotency::key_for(&event)?)))
        else {
            return self.run(event, cx).await.0;
        };
        // Out of line: the state of the store calls (their futures and deadline timers) is
        // not carried, copied and allocated with every request of a webhook without a store
        // (the future of `dispatch` was 2.5 KB with it inline; see BENCHMARKS.md).
        Box::pin(self.deduplicated_in(&**store, key, event, body, cx)).await
    }

    /// [`deduplicated`](Self::deduplicated) with a store and the event's key.
    async fn deduplicated_in(
        &self,
        store: &dyn idempotency::DynIdempotencyStore,
        key: String,
        event: Box<Event>,
        body: &[u8],
        cx: Context,
    ) -> WebhookResponse {
        let config = &self.inner.config;
        // Hashed once, and only when a duplicate can be recognised at all.
        let fingerprint = Fingerprint::of(body);
        let interactive = matches!(*event, Event::CallAction(_));
        let deadline = config.deadline.unwrap_or(Duration::from_secs(60));
        let lease = deadline + Duration::from_secs(5);
        let waited_until = tokio::time::Instant::now() + deadline;
        let mut pause = Duration::from_millis(2);
        loop {
            match bounded(deadline, store.claim(&key, &fingerprint, lease)).await {
                Ok(Claim::Claimed) => break,
                Ok(Claim::OtherBody) => {
                    // Not a duplicate: never the stored reply (it may name another call's
                    // parties), and the first delivery's record stays as it is.
                    tracing::warn!(
                        key = %key,
                        "known idempotency key with a different body: handled as a new event"
                    );
                    return self.run(event, cx).await.0;
                }
                Ok(Claim::Done(reply)) => {
                    self.observe_duplicate(&event);
                    tracing::debug!(
                        event_id = event.ids().event_id.unwrap_or(""),
                        key = %key,
                        "duplicate delivery: answered from the idempotency store (replay)"
                    );
                    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
                    return WebhookResponse::json(status, reply.body).replayed();
                }
                Ok(Claim::InProgress) if tokio::time::Instant::now() < waited_until => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Ok(Claim::InProgress) => {
                    tracing::warn!(
                        "duplicate delivery: the first is still running at the deadline"
                    );
                    self.observe_fallback(&event, FallbackReason::Deadline);
                    return self.unavailable(interactive, Rejection::DeadlineExceeded);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "idempotency store failed");
                    self.observe_fallback(&event, FallbackReason::StoreUnavailable);
                    return self.unavailable(interactive, Rejection::StoreUnavailable);
                }
            }
        }
        let (response, handled) = self.run(event, cx).await;
        let result = if handled {
            let reply = StoredReply {
                status: response.status().as_u16(),
                body: response.body().clone(),
            };
            bounded(
                deadline,
                store.complete(&key, &fingerprint, &reply, config.idempotency_ttl),
            )
            .await
        } else {
            bounded(deadline, store.release(&key, &fingerprint)).await
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, handled, "idempotency store failed after handling");
        }
        response
    }

    fn observe_duplicate(&self, event: &Event) {
        if let Some(o) = &self.inner.config.observer {
            o.duplicate(crate::observe::event_label(event));
        }
    }

    fn observe_fallback(&self, event: &Event, reason: FallbackReason) {
        if let Some(o) = &self.inner.config.observer {
            o.fallback(crate::observe::event_label(event), reason);
        }
    }

    fn observe_label(&self, label: &str, reason: FallbackReason) {
        if let Some(o) = &self.inner.config.observer {
            o.fallback(label, reason);
        }
    }

    /// The answer when the event cannot be handled now: the fallback callflow for a
    /// `CALL_ACTION` (never dead air), 503 otherwise.
    fn unavailable(&self, interactive: bool, why: Rejection) -> WebhookResponse {
        if interactive {
            self.fallback_response()
        } else {
            WebhookResponse::rejection(why, "the event cannot be handled right now", None)
        }
    }

    /// Runs the handler; the flag says whether it handled the event (so that its answer may
    /// be replayed to duplicates) or failed (so that a retry should run it again).
    async fn run(&self, event: Box<Event>, cx: Context) -> (WebhookResponse, bool) {
        let h = &*self.inner.handler;
        let deadline = self.inner.config.deadline;
        let label = crate::observe::event_label(&event);
        let started = std::time::Instant::now();
        let handled = |observer: &Option<Arc<dyn crate::observe::Observer>>| {
            if let Some(o) = observer {
                o.handled(label, started.elapsed());
            }
        };
        // The handler's future is made before the first await: the event, moved into it, is
        // then not also kept (608 bytes) in this function's own future.
        let call = match *event {
            Event::CallAction(ev) => Call::Action(h.on_call_action(ev, &cx)),
            Event::CallStatus(ev) => Call::Other(h.on_call_status(ev, &cx)),
            Event::SessionSummary(ev) => Call::Other(h.on_session_summary(ev, &cx)),
            Event::RecordingStatus(ev) => Call::Other(h.on_recording_status(ev, &cx)),
            Event::VirtualNumberUpdate(ev) => Call::Other(h.on_virtual_number_update(ev, &cx)),
            Event::Unknown(ev) => {
                tracing::info!(event_type = %ev.event_type, "unknown event type acknowledged");
                Call::Other(h.on_unknown(ev, &cx))
            }
        };
        let outcome = match call {
            Call::Action(call) => {
                let outcome = guarded(call, deadline).await;
                handled(&self.inner.config.observer);
                return self.reply(outcome);
            }
            Call::Other(call) => guarded(call, deadline).await,
        };
        handled(&self.inner.config.observer);
        let span = tracing::Span::current();
        match outcome {
            Outcome::Done(()) => {
                span.record("outcome", "ok");
                return (
                    WebhookResponse::json(StatusCode::OK, Bytes::from_static(ACK_BODY)),
                    true,
                );
            }
            Outcome::Failed(e) if e.is_unavailable() => {
                span.record("outcome", "store_unavailable");
                self.observe_label(label, FallbackReason::StoreUnavailable);
                tracing::warn!(error = %format_args!("{e:#}"), "handler's store unavailable; answering 503 so the event is delivered again");
                return (
                    WebhookResponse::rejection(
                        Rejection::StoreUnavailable,
                        "the event cannot be handled right now",
                        None,
                    ),
                    false,
                );
            }
            Outcome::Failed(e) => {
                span.record("outcome", "handler_error");
                self.observe_label(label, FallbackReason::Error);
                tracing::error!(error = %format_args!("{e:#}"), "handler failed");
            }
            Outcome::Panicked(msg) => {
                span.record("outcome", "panic");
                self.observe_label(label, FallbackReason::Panic);
                tracing::error!(panic = %msg, "handler panicked");
            }
            Outcome::TimedOut => {
                span.record("outcome", "deadline");
                self.observe_label(label, FallbackReason::Deadline);
                tracing::warn!(deadline = ?self.inner.config.deadline, "handler missed its deadline");
                return (
                    WebhookResponse::rejection(
                        Rejection::DeadlineExceeded,
                        "the handler did not finish in time",
                        None,
                    ),
                    false,
                );
            }
        }
        (
            WebhookResponse::rejection(Rejection::HandlerFailed, "the handler failed", None),
            false,
        )
    }

    /// The reply to a `CALL_ACTION`: the handler's callflow, or the fallback (flagged as not
    /// handled).
    fn reply(&self, outcome: Outcome<crate::CallFlow>) -> (WebhookResponse, bool) {
        let span = tracing::Span::current();
        let config = &self.inner.config;
        match outcome {
            Outcome::Done(flow) => {
                if config.validate_replies
                    && let Err(v) = flow.validate(Mode::Reply)
                {
                    span.record("outcome", "invalid_reply");
                    self.observe_label("CALL_ACTION", FallbackReason::InvalidReply);
                    tracing::error!(violations = %v, "handler returned an invalid callflow; sending the fallback");
                    return (self.fallback_response(), false);
                }
                span.record("outcome", "ok");
                (WebhookResponse::json(StatusCode::OK, flow.to_bytes()), true)
            }
            Outcome::Failed(e) if e.is_unavailable() => {
                span.record("outcome", "store_unavailable");
                self.observe_label("CALL_ACTION", FallbackReason::StoreUnavailable);
                tracing::warn!(error = %format_args!("{e:#}"), "handler's store unavailable; sending the fallback callflow");
                (self.fallback_response(), false)
            }
            Outcome::Failed(e) => {
                span.record("outcome", "handler_error");
                self.observe_label("CALL_ACTION", FallbackReason::Error);
                tracing::error!(error = %format_args!("{e:#}"), "handler failed; sending the fallback callflow");
                (self.fallback_response(), false)
            }
            Outcome::Panicked(msg) => {
                span.record("outcome", "panic");
                self.observe_label("CALL_ACTION", FallbackReason::Panic);
                tracing::error!(panic = %msg, "handler panicked; sending the fallback callflow");
                (self.fallback_response(), false)
            }
            Outcome::TimedOut => {
                span.record("outcome", "deadline");
                self.observe_label("CALL_ACTION", FallbackReason::Deadline);
                tracing::warn!(deadline = ?config.deadline, "handler missed its deadline; sending the fallback callflow");
                (self.fallback_response(), false)
            }
        }
    }

    fn fallback_response(&self) -> WebhookResponse {
        WebhookResponse::json(StatusCode::OK, self.inner.fallback_body.clone())
    }
}

/// The handler's future for one event, made before it is awaited.
enum Call<'a> {
    /// `CALL_ACTION`: answered with the callflow.
    Action(crate::handler::BoxFuture<'a, Result<crate::CallFlow, crate::HandlerError>>),
    /// Any other event: acknowledged.
    Other(crate::handler::BoxFuture<'a, Result<(), crate::HandlerError>>),
}

/// A store call that may not outlast the handler deadline: a hung store is a failed store.
async fn bounded<T>(
    limit: Duration,
    call: impl std::future::Future<Output = Result<T, IdempotencyError>>,
) -> Result<T, IdempotencyError> {
    guard::within(limit, call).await.unwrap_or_else(|| {
        Err(IdempotencyError::new(
            idempotency::IdempotencyErrorKind::TimedOut,
            "no answer within the deadline",
        ))
    })
}
