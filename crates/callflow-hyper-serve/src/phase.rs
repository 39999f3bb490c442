//! Where one connection is in its exchange, shared by the pieces that see it: the IO
//! wrapper (head bytes arrive), the service wrapper (a request starts, its response ends),
//! and the accept loop (which connection to shed at the cap).
//!
//! Updated from the connection's own task; the accept loop only reads it to choose, so a
//! stale value costs at most one retry.

use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// What a connection is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for a request: no byte of its head yet (a new connection, or a keep-alive
    /// one after its response).
    Idle,
    /// Some bytes of a request head, not the whole head.
    Head,
    /// A request in progress: from the service call until its response body is done.
    Busy,
}

const IDLE: u8 = 0;
const HEAD: u8 = 1;
const BUSY: u8 = 2;

/// The shared state of one connection.
#[derive(Debug)]
pub(crate) struct ConnState {
    /// When the connection was accepted.
    accepted: Instant,
    phase: AtomicU8,
    /// When the wait for the current head began, in nanoseconds after `accepted`: 0, or the
    /// end of the previous response.
    waiting_from: AtomicU64,
    /// Requests started on the connection (wrapping): tells the head timer that a new wait
    /// for a head began since it was armed.
    requests: AtomicU32,
    /// Told by the accept loop to close the connection to free its slot.
    shed: Notify,
}

impl ConnState {
    /// The state of a connection accepted now.
    pub(crate) fn new() -> Self {
        Self {
            accepted: Instant::now(),
            phase: AtomicU8::new(IDLE),
            waiting_from: AtomicU64::new(0),
            requests: AtomicU32::new(0),
            shed: Notify::new(),
        }
    }

    /// The connection's phase now.
    pub(crate) fn phase(&self) -> Phase {
        match self.phase.load(Acquire) {
            IDLE => Phase::Idle,
            HEAD => Phase::Head,
            _ => Phase::Busy,
        }
    }

    /// When the wait for the current (or next) request head began: the connection's start,
    /// or the end of its previous response.
    pub(crate) fn waiting_since(&self) -> Instant {
        self.accepted + Duration::from_nanos(self.waiting_from.load(Relaxed))
    }

    /// How many requests have started (wrapping).
    pub(crate) fn requests(&self) -> u32 {
        self.requests.load(Relaxed)
    }

    /// Bytes arrived: an idle connection now has part of a head (a busy one is reading its
    /// body, and stays busy).
    pub(crate) fn bytes_arrived(&self) {
        if self.phase.load(Relaxed) == IDLE {
            self.phase.store(HEAD, Relaxed);
        }
    }

    /// A request's head is complete and the service is called: the connection is busy
    /// until the returned guard (moved into the response body) is dropped.
    pub(crate) fn request_started(self: &Arc<Self>) -> Exchange {
        self.requests.fetch_add(1, Relaxed);
        self.phase.store(BUSY, Relaxed);
        Exchange(Arc::clone(self))
    }

    /// Asks the connection's task to close it.
    pub(crate) fn shed(&self) {
        self.shed.notify_one();
    }

    /// Resolves once [`shed`](Self::shed) was called.
    pub(crate) async fn shed_requested(&self) {
        self.shed.notified().await;
    }
}

/// A request in progress; dropping it (with the response body, once sent) makes the
/// connection idle again, waiting for its next head from now.
#[derive(Debug)]
pub(crate) struct Exchange(Arc<ConnState>);

impl Drop for Exchange {
    fn drop(&mut self) {
        let state = &self.0;
        let since = u64::try_from(state.accepted.elapsed().as_nanos()).unwrap_or(u64::MAX);
        state.waiting_from.store(since, Relaxed);
        state.phase.store(IDLE, Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_busy_from_its_request_until_the_response_is_dropped() {
        let state = Arc::new(ConnState::new());
        let accepted = state.waiting_since();
        assert_eq!(state.phase(), Phase::Idle);
        state.bytes_arrived();
        assert_eq!(state.phase(), Phase::Head);
        let exchange = state.request_started();
        state.bytes_arrived();
        assert_eq!(state.phase(), Phase::Busy, "body bytes keep it busy");
        assert_eq!(state.requests(), 1);
        std::thread::sleep(Duration::from_millis(2));
        drop(exchange);
        assert_eq!(state.phase(), Phase::Idle);
        assert!(
            state.waiting_since() > accepted,
            "the wait restarts at the answer"
        );
    }
}
