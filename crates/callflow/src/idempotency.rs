//! Exactly-once handling of duplicate deliveries.
//!
//! 8x8 tells receivers to expect duplicate deliveries and publishes no retry policy. A
//! duplicate `CALL_ACTION` that ran the handler twice could dial a party twice, so
//! [`Webhook::dispatch`](crate::Webhook::dispatch) claims every event's key in an
//! [`IdempotencyStore`] before running the handler:
//!
//! - the key is `eventId` for events that have one (`CALL_ACTION`, `CALL_STATUS`), and
//!   (`sessionId`, event type) for `SESSION_SUMMARY` and other events without it (a
//!   `CALL_RECORDING_STATUS` adds its `recordingId` and `status`, since one session reports
//!   several recording states); events with no id at all (`VIRTUAL_NUMBER_UPDATE`) are not
//!   deduplicated;
//! - every claim and stored answer keeps the [`Fingerprint`] of the body it was made for (the
//!   SHA-256 of the exact request bytes): only a delivery with the same key *and* the same
//!   bytes is a duplicate;
//! - a duplicate of a completed `CALL_ACTION` gets the *same* callflow bytes as the first
//!   delivery, without running the handler; duplicates of other events get the same
//!   acknowledgement;
//! - every answer from the store carries the header [`REPLAY_HEADER`] (`Callflow-Replay:
//!   true`; 8x8 ignores headers it does not know) and is logged at `debug` with the event's
//!   idempotency key, so a re-posted fixture that got the old answer says why;
//! - a duplicate arriving while the first is still running waits for the first result (up to
//!   the handler deadline) instead of running the handler again;
//! - a request with a known key but other bytes (a forged or replayed `eventId`) is not a
//!   duplicate: it is handled as a new event, with its own handler run and its own answer,
//!   never the stored one, and it leaves the first delivery's record alone (it neither
//!   replaces nor releases it); the webhook logs it as a warning (ids only);
//! - a failed first attempt (error, panic, deadline, invalid callflow) releases its claim, so
//!   a retry runs the handler again.
//!
//! [`MemoryIdempotencyStore`] is the default (bounded, with a TTL); `callflow-redis` provides
//! one shared by many instances.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::event::Event;
use crate::handler::BoxFuture;

/// The response header on every answer served from the idempotency store instead of the
/// handler (a duplicate delivery), with the value `true`. First deliveries never carry it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use callflow::{CallFlow, Webhook, WebhookRequest, handler_fn, idempotency::REPLAY_HEADER};
/// let webhook = Webhook::new(handler_fn(|_ev, _cx| async { Ok(CallFlow::builder().say("Hi").hangup()) }));
/// let body = callflow::testing::call_action().event_id("e-1").build_json();
/// let first = webhook.dispatch(WebhookRequest::post_json(body.clone())).await;
/// let again = webhook.dispatch(WebhookRequest::post_json(body)).await;
/// assert!(first.headers().get(REPLAY_HEADER).is_none());
/// assert_eq!(again.headers()[REPLAY_HEADER], "true");
/// assert_eq!(first.body(), again.body());
/// # }
/// ```
pub const REPLAY_HEADER: &str = "callflow-replay";

/// The SHA-256 of a request body's exact bytes: what tells a true duplicate (same bytes) from
/// another request that reuses a known key.
///
/// A cryptographic hash, so that it is the same in every process (stores shared by many
/// instances compare fingerprints computed elsewhere) and so that nobody can make a body of
/// their choosing collide with another delivery's.
///
/// ```
/// use callflow::idempotency::Fingerprint;
/// assert_eq!(Fingerprint::of(b"{}"), Fingerprint::of(b"{}"));
/// assert_ne!(Fingerprint::of(b"{}"), Fingerprint::of(b"{ }"));
/// assert_eq!(Fingerprint::of(b"").as_bytes()[..2], [0xe3, 0xb0]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; Fingerprint::LEN]);

impl Fingerprint {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// The fingerprint of `body`.
    pub fn of(body: &[u8]) -> Self {
        Self(Sha256::digest(body).into())
    }

    /// A fingerprint read back from a store.
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The raw bytes, to keep in a store.
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first 8 bytes are plenty to tell two apart in a log or a failed assertion.
        write!(f, "Fingerprint(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// The first delivery's answer, kept for its duplicates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReply {
    /// HTTP status.
    pub status: u16,
    /// Body bytes (a callflow, or the acknowledgement).
    pub body: Bytes,
}

/// What [`IdempotencyStore::claim`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Nobody had the key: the caller owns it now and must [`complete`](IdempotencyStore::complete)
    /// or [`release`](IdempotencyStore::release) it.
    Claimed,
    /// Another delivery of the same event (same key, same fingerprint) is being handled right
    /// now.
    InProgress,
    /// The event (same key, same fingerprint) was handled; here is its answer.
    Done(StoredReply),
    /// The key is held, running or done, for a body with another fingerprint: this request is
    /// not a duplicate. The caller does not own the key: it must neither complete nor release
    /// it, and must never answer with the held reply.
    OtherBody,
}

/// A store failure (e.g. Redis unreachable). Opaque: branch on [`kind`](Self::kind). Its
/// message and source never hold a phone number in clear (they are
/// [redacted](crate::phone::redact)).
///
/// ```
/// use callflow::idempotency::{IdempotencyError, IdempotencyErrorKind};
/// let e = IdempotencyError::new(IdempotencyErrorKind::Unavailable, "connection refused");
/// assert_eq!(e.kind(), IdempotencyErrorKind::Unavailable);
/// assert_eq!(e.to_string(), "idempotency store unavailable: connection refused");
/// ```
pub struct IdempotencyError {
    kind: IdempotencyErrorKind,
    message: Box<str>,
    source: Option<crate::phone::RedactedError>,
}

/// What kind of failure an [`IdempotencyError`] is. Whatever the kind, the webhook handles
/// the event as if there were no store (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdempotencyErrorKind {
    /// The store cannot be reached or refused the operation; a later attempt may succeed.
    Unavailable,
    /// The store did not answer in time.
    TimedOut,
    /// The store answered something this program cannot read.
    Corrupt,
}

impl IdempotencyError {
    /// An error of `kind` with a message (phone numbers in it are masked).
    pub fn new(kind: IdempotencyErrorKind, message: impl fmt::Display) -> Self {
        Self {
            kind,
            message: crate::phone::redact(&message.to_string()).into(),
            source: None,
        }
    }

    /// The same error with a cause, kept as a [redacted](crate::phone::RedactedError) copy.
    pub fn with_source(mut self, source: &(dyn std::error::Error + 'static)) -> Self {
        self.source = Some(crate::phone::RedactedError::new(source));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> IdempotencyErrorKind {
        self.kind
    }
}

impl fmt::Display for IdempotencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            IdempotencyErrorKind::Corrupt => {
                write!(f, "idempotency store answer unreadable: {}", self.message)
            }
            _ => write!(f, "idempotency store unavailable: {}", self.message),
        }
    }
}

impl fmt::Debug for IdempotencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdempotencyError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for IdempotencyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|s| s as _)
    }
}

/// Where claims and answers live. Implementations must make [`claim`](Self::claim) atomic
/// (one winner per key, also across processes when the store is shared).
///
/// Every record (a running claim or a stored answer) keeps the [`Fingerprint`] of the body it
/// was made for, and [`claim`](Self::claim) compares it with the caller's: a record with
/// another fingerprint is [`Claim::OtherBody`], never its answer, and stays as it is.
///
/// The methods return `impl Future + Send`: implement them with plain `async fn`. The trait
/// is not dyn-compatible; [`WebhookBuilder::idempotency_store`](crate::WebhookBuilder::idempotency_store)
/// takes an `Arc` of any store and keeps it behind a type of its own. A store chosen at run
/// time (in memory for one process, a shared one for many) is an `Option` of the shared store
/// (`None`: keep the default) or an `enum` of the stores that implements this trait.
///
/// ```
/// use std::time::Duration;
/// use callflow::idempotency::{Claim, Fingerprint, IdempotencyError, IdempotencyStore, StoredReply};
///
/// /// Never recognises a duplicate.
/// struct Forgetful;
///
/// impl IdempotencyStore for Forgetful {
///     async fn claim(&self, _key: &str, _fp: &Fingerprint, _lease: Duration) -> Result<Claim, IdempotencyError> {
///         Ok(Claim::Claimed)
///     }
///     async fn complete(&self, _key: &str, _fp: &Fingerprint, _reply: &StoredReply, _ttl: Duration) -> Result<(), IdempotencyError> {
///         Ok(())
///     }
///     async fn release(&self, _key: &str, _fp: &Fingerprint) -> Result<(), IdempotencyError> {
///         Ok(())
///     }
/// }
///
/// let handler = callflow::handler_fn(|_e, _c| async { Ok(callflow::CallFlow::builder().hangup()) });
/// let webhook = callflow::Webhook::builder(handler)
///     .idempotency_store(std::sync::Arc::new(Forgetful))
///     .build();
/// # let _ = webhook;
/// ```
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `key` for the body with `fingerprint`, for `lease` (how long the claim holds if
    /// its owner never completes or releases it, e.g. because its process died).
    ///
    /// A live record for `key` answers [`Claim::InProgress`] or [`Claim::Done`] when it was
    /// made for the same fingerprint, [`Claim::OtherBody`] (and is left untouched) when not;
    /// no live record: the key is claimed, [`Claim::Claimed`].
    fn claim(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, IdempotencyError>> + Send;

    /// Stores the answer for `key` (claimed for the body with `fingerprint`) for `ttl`;
    /// duplicates with that fingerprint get it from now on.
    fn complete(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
        reply: &StoredReply,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), IdempotencyError>> + Send;

    /// Drops the running claim on `key` if it was made for `fingerprint`, so that a retry
    /// runs the handler; a stored answer, or a claim for another body, stays.
    fn release(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
    ) -> impl Future<Output = Result<(), IdempotencyError>> + Send;
}

/// The object-safe form of [`IdempotencyStore`] that a [`WebhookBuilder`](crate::WebhookBuilder) holds: every
/// method boxes the store's future (the method names are the same, so the webhook calls
/// `store.claim(..)` either way).
pub(crate) trait DynIdempotencyStore: Send + Sync + 'static {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: &'a Fingerprint,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, IdempotencyError>>;
    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: &'a Fingerprint,
        reply: &'a StoredReply,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), IdempotencyError>>;
    fn release<'a>(
        &'a self,
        key: &'a str,
        fingerprint: &'a Fingerprint,
    ) -> BoxFuture<'a, Result<(), IdempotencyError>>;
}

impl<S: IdempotencyStore> DynIdempotencyStore for S {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: &'a Fingerprint,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, IdempotencyError>> {
        Box::pin(IdempotencyStore::claim(self, key, fingerprint, lease))
    }
    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: &'a Fingerprint,
        reply: &'a StoredReply,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), IdempotencyError>> {
        Box::pin(IdempotencyStore::complete(
            self,
            key,
            fingerprint,
            reply,
            ttl,
        ))
    }
    fn release<'a>(
        &'a self,
        key: &'a str,
        fingerprint: &'a Fingerprint,
    ) -> BoxFuture<'a, Result<(), IdempotencyError>> {
        Box::pin(IdempotencyStore::release(self, key, fingerprint))
    }
}

/// The key under which an event is deduplicated, or `None` for events without ids.
///
/// ```
/// use callflow::{Event, idempotency::key_for};
/// let ev = Event::from_slice(callflow::testing::call_action().event_id("e-1").build_json().as_bytes()).unwrap();
/// assert_eq!(key_for(&ev).as_deref(), Some("event:e-1"));
/// ```
pub fn key_for(event: &Event) -> Option<String> {
    match event {
        Event::CallAction(e) => Some(format!("event:{}", e.payload.event_id)),
        Event::CallStatus(e) => Some(format!("event:{}", e.payload.event_id)),
        Event::SessionSummary(e) => Some(format!(
            "session:{}:{}",
            e.payload.session_id, e.envelope.event_type
        )),
        Event::RecordingStatus(e) => Some(format!(
            "session:{}:{}:{}:{}",
            e.payload.session_id,
            e.envelope.event_type,
            e.payload.recording_id.as_deref().unwrap_or(""),
            e.payload.status.as_ref().map_or("", |s| s.as_str())
        )),
        Event::VirtualNumberUpdate(_) => None,
        Event::Unknown(u) => {
            let ids = event.ids();
            match (ids.event_id, ids.session_id) {
                (Some(id), _) => Some(format!("event:{id}")),
                (None, Some(s)) => Some(format!("session:{s}:{}", u.event_type)),
                (None, None) => None,
            }
        }
    }
}

/// Default time an answer is kept for duplicates: 24 hours.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

/// Default number of keys [`MemoryIdempotencyStore`] keeps: 100 000.
pub const DEFAULT_CAPACITY: usize = 100_000;

enum State {
    Running,
    Done(StoredReply),
}

struct Entry {
    state: State,
    fingerprint: Fingerprint,
    until: Instant,
    /// Matches the entry's newest place in the insertion queue.
    generation: u64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Entry>,
    /// Keys in insertion order, with the generation they were inserted with; a key inserted
    /// again leaves a stale place behind, skipped when it reaches the front.
    order: VecDeque<(u64, String)>,
    generation: u64,
}

impl Inner {
    fn insert(&mut self, key: &str, state: State, fingerprint: Fingerprint, until: Instant) {
        self.generation += 1;
        let generation = self.generation;
        self.map.insert(
            key.to_owned(),
            Entry {
                state,
                fingerprint,
                until,
                generation,
            },
        );
        self.order.push_back((generation, key.to_owned()));
    }

    /// Drops, from the oldest end, stale places and expired entries; then the oldest live
    /// entries while the map is at `capacity`. Amortised O(1) per insert.
    fn sweep(&mut self, capacity: usize, now: Instant) {
        while let Some((generation, key)) = self.order.front() {
            let live = self.map.get(key).filter(|e| e.generation == *generation);
            let evict = match live {
                None => true,
                Some(e) => e.until <= now || self.map.len() >= capacity,
            };
            if !evict {
                break;
            }
            if live.is_some() {
                self.map.remove(key);
            }
            self.order.pop_front();
        }
    }
}

/// An in-process store: bounded (the oldest keys go first when it is full), entries expire;
/// every operation is O(1) amortised. Duplicates are only recognised within one process; use
/// a shared store for many.
pub struct MemoryIdempotencyStore {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl fmt::Debug for MemoryIdempotencyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryIdempotencyStore")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl Default for MemoryIdempotencyStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl MemoryIdempotencyStore {
    /// A store keeping at most `capacity` keys.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    /// Number of keys held (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every change leaves the map and the queue consistent: a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Claim, IdempotencyError> {
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(e) = inner.map.get(key).filter(|e| e.until > now) {
            return Ok(match &e.state {
                _ if e.fingerprint != *fingerprint => Claim::OtherBody,
                State::Done(reply) => Claim::Done(reply.clone()),
                State::Running => Claim::InProgress,
            });
        }
        inner.sweep(self.capacity, now);
        inner.insert(key, State::Running, *fingerprint, now + lease);
        Ok(Claim::Claimed)
    }

    async fn complete(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
        reply: &StoredReply,
        ttl: Duration,
    ) -> Result<(), IdempotencyError> {
        let now = Instant::now();
        let mut inner = self.lock();
        // Replacing a claim does not grow the map: no room to make for it.
        let room = self.capacity + usize::from(inner.map.contains_key(key));
        inner.sweep(room, now);
        inner.insert(key, State::Done(reply.clone()), *fingerprint, now + ttl);
        Ok(())
    }

    async fn release(&self, key: &str, fingerprint: &Fingerprint) -> Result<(), IdempotencyError> {
        let mut inner = self.lock();
        if inner
            .map
            .get(key)
            .is_some_and(|e| matches!(e.state, State::Running) && e.fingerprint == *fingerprint)
        {
            inner.map.remove(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    // Not `super::*`: the boxed `DynIdempotencyStore` would make every call ambiguous.
    use super::{
        Bytes, Claim, DEFAULT_TTL, Duration, Fingerprint, IdempotencyStore, Instant,
        MemoryIdempotencyStore, StoredReply,
    };

    const FP: Fingerprint = Fingerprint::from_bytes([1; Fingerprint::LEN]);

    fn reply(b: &'static str) -> StoredReply {
        StoredReply {
            status: 200,
            body: Bytes::from_static(b.as_bytes()),
        }
    }

    #[tokio::test]
    async fn claim_complete_release_cycle() {
        let s = MemoryIdempotencyStore::default();
        let lease = Duration::from_secs(5);
        assert_eq!(s.claim("k", &FP, lease).await.unwrap(), Claim::Claimed);
        assert_eq!(s.claim("k", &FP, lease).await.unwrap(), Claim::InProgress);
        s.release("k", &FP).await.unwrap();
        assert_eq!(s.claim("k", &FP, lease).await.unwrap(), Claim::Claimed);
        s.complete("k", &FP, &reply("a"), DEFAULT_TTL)
            .await
            .unwrap();
        assert_eq!(
            s.claim("k", &FP, lease).await.unwrap(),
            Claim::Done(reply("a"))
        );
        // Releasing a completed key does not forget the answer.
        s.release("k", &FP).await.unwrap();
        assert_eq!(
            s.claim("k", &FP, lease).await.unwrap(),
            Claim::Done(reply("a"))
        );
    }

    #[tokio::test]
    async fn another_body_neither_gets_nor_touches_the_record() {
        let s = MemoryIdempotencyStore::default();
        let lease = Duration::from_secs(5);
        let other = Fingerprint::of(b"another body");
        assert_eq!(s.claim("k", &FP, lease).await.unwrap(), Claim::Claimed);
        assert_eq!(s.claim("k", &other, lease).await.unwrap(), Claim::OtherBody);
        s.release("k", &other).await.unwrap();
        assert_eq!(s.claim("k", &FP, lease).await.unwrap(), Claim::InProgress);
        s.complete("k", &FP, &reply("a"), DEFAULT_TTL)
            .await
            .unwrap();
        assert_eq!(s.claim("k", &other, lease).await.unwrap(), Claim::OtherBody);
        assert_eq!(
            s.claim("k", &FP, lease).await.unwrap(),
            Claim::Done(reply("a"))
        );
    }

    #[tokio::test]
    async fn a_full_store_stays_fast_and_bounded() {
        let s = MemoryIdempotencyStore::with_capacity(10_000);
        let start = Instant::now();
        for i in 0..50_000 {
            let k = format!("k{i}");
            s.claim(&k, &FP, Duration::from_secs(5)).await.unwrap();
            s.complete(&k, &FP, &reply("x"), DEFAULT_TTL).await.unwrap();
        }
        assert_eq!(s.len(), 10_000);
        assert!(s.lock().order.len() <= 20_001);
        // Linear eviction would take seconds here; O(1) takes milliseconds.
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        // The newest keys are kept.
        assert_eq!(
            s.claim("k49999", &FP, Duration::from_secs(5))
                .await
                .unwrap(),
            Claim::Done(reply("x"))
        );
    }

    #[tokio::test]
    async fn expired_entries_are_claimable_again() {
        let s = MemoryIdempotencyStore::default();
        assert_eq!(
            s.claim("k", &FP, Duration::ZERO).await.unwrap(),
            Claim::Claimed
        );
        assert_eq!(
            s.claim("k", &FP, Duration::from_secs(5)).await.unwrap(),
            Claim::Claimed
        );
        s.complete("k", &FP, &reply("a"), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            s.claim("k", &FP, Duration::from_secs(5)).await.unwrap(),
            Claim::Claimed
        );
    }

    #[tokio::test]
    async fn the_store_is_bounded() {
        let s = MemoryIdempotencyStore::with_capacity(3);
        for k in ["a", "b", "c", "d", "e"] {
            s.claim(k, &FP, Duration::from_secs(5)).await.unwrap();
            s.complete(k, &FP, &reply("x"), DEFAULT_TTL).await.unwrap();
        }
        assert!(s.len() <= 3, "{}", s.len());
        assert!(s.lock().order.len() <= 8, "the queue stays bounded too");
        assert_eq!(
            s.claim("e", &FP, Duration::from_secs(5)).await.unwrap(),
            Claim::Done(reply("x"))
        );
    }
}
