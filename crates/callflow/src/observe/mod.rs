//! Hooks into the webhook's work, for metrics: every answer, the handler's time, every
//! fallback and every duplicate answered. Implement [`Observer`] and give it to
//! [`WebhookBuilder::observer`](crate::WebhookBuilder::observer); with the feature `metrics`,
//! [`PrometheusObserver`] is one, writing Prometheus series (see its docs for their names).
//!
//! The hooks take plain values (an event type label, a status code, a duration): no web
//! framework or metrics library type, so any stack and any metrics system can use them.

#[cfg(feature = "metrics")]
mod prometheus;

use std::time::Duration;

#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use prometheus::{PrometheusObserver, registered};

/// Why the webhook answered for the handler (its fallback callflow for a `CALL_ACTION`, an
/// error status for other events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FallbackReason {
    /// The handler returned an error.
    Error,
    /// The handler panicked.
    Panic,
    /// The handler missed its deadline.
    Deadline,
    /// The handler's callflow was not a valid reply.
    InvalidReply,
    /// A store was unavailable (the handler's, or the shared idempotency store).
    StoreUnavailable,
}

impl FallbackReason {
    /// The reason as a metrics label: `error`, `panic`, `deadline`, `invalid_reply`,
    /// `store_unavailable`.
    pub fn label(self) -> &'static str {
        match self {
            FallbackReason::Error => "error",
            FallbackReason::Panic => "panic",
            FallbackReason::Deadline => "deadline",
            FallbackReason::InvalidReply => "invalid_reply",
            FallbackReason::StoreUnavailable => "store_unavailable",
        }
    }
}

/// What the webhook reports as it works. Every method has an empty default; they are
/// called on the request's task, so they must be quick (count, do not wait).
///
/// `event` is a bounded label: the event type for the five known types (`CALL_ACTION`,
/// `CALL_STATUS`, `SESSION_SUMMARY`, `RECORDING_STATUS`, `VN_UPDATE`), `unknown` for any
/// other, `none` for a request refused before its body was parsed.
pub trait Observer: Send + Sync + 'static {
    /// A request was answered with `status`.
    fn answered(&self, event: &str, status: u16) {
        let _ = (event, status);
    }

    /// The handler ran for `elapsed` (whatever its outcome).
    fn handled(&self, event: &str, elapsed: Duration) {
        let _ = (event, elapsed);
    }

    /// The webhook answered for the handler, for `reason`.
    fn fallback(&self, event: &str, reason: FallbackReason) {
        let _ = (event, reason);
    }

    /// A duplicate delivery was answered with the first delivery's reply.
    fn duplicate(&self, event: &str) {
        let _ = event;
    }
}

/// The bounded event label of `event` (see [`Observer`]).
pub(crate) fn event_label(event: &crate::Event) -> &'static str {
    use crate::Event;
    match event {
        Event::CallAction(_) => "CALL_ACTION",
        Event::CallStatus(_) => "CALL_STATUS",
        Event::SessionSummary(_) => "SESSION_SUMMARY",
        Event::RecordingStatus(_) => "RECORDING_STATUS",
        Event::VirtualNumberUpdate(_) => "VN_UPDATE",
        Event::Unknown(_) => "unknown",
    }
}
