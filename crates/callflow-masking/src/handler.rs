//! [`MaskingHandler`]: the number-masking `CallHandler`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use callflow::callflow::{MakeCall, Say};
use callflow::event::{CallAction, CallDirection, CallStatus, SessionSummary};
use callflow::{CallFlow, CallHandler, Context, HandlerError, PhoneNumber};

use crate::binding::{CallRecord, LegRecord, Lookup, now_millis};
use crate::normalize_number;
use crate::store::{BindingStore, StoreError};

/// What callers hear when they are turned away, and in which voice.
#[derive(Clone, Debug)]
pub struct Messages {
    /// For a caller with no binding on the virtual number.
    pub not_bound: String,
    /// For a caller whose binding has expired.
    pub expired: String,
    /// The TTS voice profile (from 8x8's speech-profiles API).
    pub voice_profile: String,
}

impl Default for Messages {
    fn default() -> Self {
        Self {
            not_bound: "Sorry, this number cannot connect your call.".into(),
            expired: "Sorry, this number is no longer available for your booking.".into(),
            voice_profile: callflow::callflow::DEFAULT_VOICE_PROFILE.into(),
        }
    }
}

/// Routes calls between the two parties of a binding through its virtual number.
///
/// - `CALL_RECEIVED` from a party of an active binding to its virtual number: `makeCall` to
///   the other party with the virtual number as caller id (`callRecording` if the binding
///   asks for it);
/// - a caller with no binding on that number: [`Messages::not_bound`], then hang up;
/// - a caller whose binding has expired: [`Messages::expired`], then hang up;
/// - any later `CALL_ACTION` of the session (the bridged call ended): hang up;
/// - `SESSION_SUMMARY`: the outcome is recorded against the binding.
///
/// A store failure is returned as an error, so the webhook answers its fallback callflow
/// (never dead air); the error carries no phone number. A store that is unavailable
/// ([`StoreError::is_unavailable`]: locked, read-only, full, deleted, unreachable) fails with
/// [`HandlerError::unavailable`], so a `SESSION_SUMMARY` that could not be recorded is
/// answered 503 `store_unavailable` and 8x8 may deliver it again; every failed write is
/// counted ([`MaskingHandler::write_failures`]).
///
/// ```
/// use callflow::Webhook;
/// use callflow_masking::{MaskingHandler, MemoryStore};
/// let webhook = Webhook::new(MaskingHandler::new(MemoryStore::new()));
/// # let _ = webhook;
/// ```
pub struct MaskingHandler<S> {
    store: Arc<S>,
    messages: Messages,
    write_failures: WriteFailures,
    on_outcome: Option<OutcomeHook>,
}

/// What became of a new call (a `CALL_RECEIVED`), for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallOutcome {
    /// Bridged to the other party of an active binding.
    Bridged,
    /// Turned away: no binding has the caller on that virtual number.
    NotBound,
    /// Turned away: the caller's binding has expired.
    Expired,
}

impl CallOutcome {
    /// The outcome as a metrics label: `bridged`, `not_bound`, `expired`.
    pub fn label(self) -> &'static str {
        match self {
            CallOutcome::Bridged => "bridged",
            CallOutcome::NotBound => "not_bound",
            CallOutcome::Expired => "expired",
        }
    }
}

type OutcomeHook = Arc<dyn Fn(CallOutcome) + Send + Sync>;

/// How many call records the handler could not write (since start). Cheap to clone; clones
/// share the count.
#[derive(Clone, Debug, Default)]
pub struct WriteFailures(Arc<AtomicU64>);

impl WriteFailures {
    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add_one(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A store error as the handler returns it: retryable when the store is unavailable.
fn store_failure(e: StoreError) -> HandlerError {
    if e.is_unavailable() {
        HandlerError::unavailable(e)
    } else {
        HandlerError::from(e)
    }
}

impl<S: BindingStore> MaskingHandler<S> {
    /// A handler over `store` with the default messages.
    pub fn new(store: S) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// A handler over a shared store (e.g. one the CLI or an admin API also uses).
    pub fn from_arc(store: Arc<S>) -> Self {
        Self {
            store,
            messages: Messages::default(),
            write_failures: WriteFailures::default(),
            on_outcome: None,
        }
    }

    /// Calls `hook` with the outcome of every new call (e.g. to count them by outcome). It
    /// runs on the request's task: it must be quick.
    pub fn on_outcome(mut self, hook: impl Fn(CallOutcome) + Send + Sync + 'static) -> Self {
        self.on_outcome = Some(Arc::new(hook));
        self
    }

    fn outcome(&self, outcome: CallOutcome) {
        if let Some(hook) = &self.on_outcome {
            hook(outcome);
        }
    }

    /// Replaces the messages and voice.
    pub fn messages(mut self, messages: Messages) -> Self {
        self.messages = messages;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The count of call records that could not be written (e.g. for a health endpoint).
    pub fn write_failures(&self) -> WriteFailures {
        self.write_failures.clone()
    }

    fn turn_away(&self, text: &str) -> CallFlow {
        CallFlow::builder()
            .say_with(Say::new(text, self.messages.voice_profile.clone()))
            .hangup()
    }
}

/// A number from an event, normalised; `None` if it is not a phone number at all.
fn number(n: &PhoneNumber) -> Option<PhoneNumber> {
    normalize_number(n.as_str()).ok()
}

impl<S: BindingStore> CallHandler for MaskingHandler<S> {
    async fn on_call_action(
        &self,
        ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        if ev.payload.call_status != CallStatus::CallReceived {
            // The bridged call is over (or an action finished): nothing more to do.
            return Ok(CallFlow::builder().hangup());
        }
        let (Some(vn), Some(caller)) =
            (number(&ev.payload.destination), number(&ev.payload.source))
        else {
            tracing::info!("call with a non-phone-number party turned away");
            self.outcome(CallOutcome::NotBound);
            return Ok(self.turn_away(&self.messages.not_bound));
        };
        match self
            .store
            .lookup(&vn, &caller)
            .await
            .map_err(store_failure)?
        {
            Lookup::Active(b) => {
                let other = b.other_party(&caller).ok_or_else(|| {
                    HandlerError::msg("store returned a binding without the caller")
                })?;
                tracing::info!(binding = %b.id, record = b.record, "bridging masked call");
                self.outcome(CallOutcome::Bridged);
                let mut call = MakeCall::to(other.as_str()).caller_id(vn.as_str());
                if b.record {
                    call = call.record(true);
                }
                Ok(CallFlow::builder().make_call(call).build())
            }
            Lookup::Expired(b) => {
                tracing::info!(binding = %b.id, "caller's binding has expired");
                self.outcome(CallOutcome::Expired);
                Ok(self.turn_away(&self.messages.expired))
            }
            Lookup::NotFound => {
                tracing::info!("caller has no binding on this virtual number");
                self.outcome(CallOutcome::NotBound);
                Ok(self.turn_away(&self.messages.not_bound))
            }
        }
    }

    async fn on_session_summary(
        &self,
        ev: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        let p = &ev.payload;
        // The caller's leg: the inbound one (normally callA), from the caller to the VN.
        let inbound = p
            .details
            .iter()
            .map(|(_, l)| l)
            .find(|l| {
                l.call_direction
                    .as_ref()
                    .is_some_and(|d| *d == CallDirection::Inbound)
            })
            .or_else(|| p.details.call_a());
        // (virtual number, party): an inbound leg runs from the party to the VN; an outbound
        // one (8x8's failure example has only an OUTBOUND callA) from the VN to the party.
        let parties = inbound.and_then(|l| {
            let (source, destination) = (
                number(l.source.as_ref()?)?,
                number(l.destination.as_ref()?)?,
            );
            let outbound = l
                .call_direction
                .as_ref()
                .is_some_and(|d| *d == CallDirection::Outbound);
            Some(if outbound {
                (source, destination)
            } else {
                (destination, source)
            })
        });
        let binding = match &parties {
            Some((vn, caller)) => {
                match self.store.lookup(vn, caller).await.map_err(store_failure)? {
                    Lookup::Active(b) | Lookup::Expired(b) => Some(b),
                    Lookup::NotFound => None,
                }
            }
            None => None,
        };
        let legs: Vec<LegRecord> = p
            .details
            .iter()
            .map(|(k, l)| LegRecord {
                key: k.to_owned(),
                direction: l.call_direction.as_ref().map(|d| d.as_str().to_owned()),
                status: l.call_status.as_ref().map(|s| s.as_str().to_owned()),
                duration_secs: l.call_duration,
            })
            .collect();
        let record = CallRecord {
            session_id: p.session_id.clone(),
            binding_id: binding.map(|b| b.id),
            virtual_number: parties.map(|(vn, _)| vn),
            status: p.session_status.as_str().to_owned(),
            duration_secs: legs
                .iter()
                .filter_map(|l| l.duration_secs)
                .max()
                .unwrap_or(0),
            legs,
            error_code: p.error_details.as_ref().and_then(|e| e.error_code),
            error_message: p.error_details.as_ref().and_then(|e| e.error_msg.clone()),
            started_at: p.start_time.as_ref().map(|t| t.as_str().to_owned()),
            ended_at: p.end_time.as_ref().map(|t| t.as_str().to_owned()),
            recorded_at: now_millis(),
        };
        let (status, binding) = (record.status.clone(), record.binding_id.clone());
        if let Err(e) = self.store.record_call(record).await {
            self.write_failures.add_one();
            return Err(store_failure(e));
        }
        tracing::info!(%status, ?binding, "session recorded");
        Ok(())
    }
}
