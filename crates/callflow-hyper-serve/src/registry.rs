//! The live connections, and the choice of which to shed when a new one arrives at the
//! cap: the one with no request in progress that has waited longest for its next head (a
//! new connection waits from its accept, a keep-alive one from its last answer), the way
//! nginx reuses idle connections when it runs out. A connection that has waited less than
//! [`SHED_AFTER`] is left alone, so that a client's head, on its way, is not cut off.
//!
//! Owned by the accept loop alone (no lock); a connection's task keeps its [`ConnState`]
//! alive, so an entry whose state nobody else holds is a closed connection.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::phase::{ConnState, Phase};

/// The shortest wait for a head after which a connection may be shed.
const SHED_AFTER: Duration = callflow::serve::SHED_FRESH_GRACE;

/// How long a kept-alive connection is spared after its answer.
const KEEP_ALIVE_GRACE: Duration = callflow::serve::SHED_KEEP_ALIVE_GRACE;

/// How long to wait for a shed connection to free its slot before shedding another (it may
/// have started a request meanwhile, or a busy one may have gone idle).
const SHED_RETRY: Duration = Duration::from_millis(25);

/// The connections being served, in accept order.
#[derive(Debug)]
pub(crate) struct Registry {
    live: VecDeque<Arc<ConnState>>,
    cap: usize,
}

impl Registry {
    /// An empty registry for a server of at most `cap` connections.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            live: VecDeque::with_capacity(cap),
            cap,
        }
    }

    /// Registers a new connection (the newest) and returns its state.
    pub(crate) fn add(&mut self) -> Arc<ConnState> {
        if self.live.len() >= 2 * self.cap {
            self.prune();
        }
        let state = Arc::new(ConnState::new());
        self.live.push_back(Arc::clone(&state));
        state
    }

    /// A connection slot for a connection just accepted: at once if one is free; at the
    /// cap, sheds the connection that has waited longest for a head and takes its slot
    /// once it has closed. If every connection is busy (or has waited less than
    /// [`SHED_AFTER`]), waits for one to end or to become sheddable.
    pub(crate) async fn slot(&mut self, slots: &Arc<Semaphore>) -> OwnedSemaphorePermit {
        if let Ok(permit) = Arc::clone(slots).try_acquire_owned() {
            return permit;
        }
        loop {
            self.shed_one(Instant::now());
            let freed = tokio::time::timeout(SHED_RETRY, Arc::clone(slots).acquire_owned()).await;
            if let Ok(permit) = freed {
                return permit.expect("the semaphore is never closed");
            }
        }
    }

    /// Sheds the connection with no request in progress that has waited longest for a head,
    /// if at least [`SHED_AFTER`] by `now` ([`KEEP_ALIVE_GRACE`] for a kept-alive connection,
    /// after an answer); `false` if there is none.
    fn shed_one(&mut self, now: Instant) -> bool {
        self.prune();
        let sheddable = |c: &Arc<ConnState>| {
            if c.phase() == Phase::Busy {
                return None;
            }
            let since = c.waiting_since();
            let spared = if c.requests() > 0 {
                KEEP_ALIVE_GRACE
            } else {
                SHED_AFTER
            };
            (now.saturating_duration_since(since) >= spared).then_some(since)
        };
        let longest = self
            .live
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((sheddable(c)?, i)))
            .min();
        let Some((since, index)) = longest else {
            return false;
        };
        let victim = self.live.remove(index).expect("a position in the queue");
        tracing::debug!(
            phase = ?victim.phase(),
            waited = ?now.saturating_duration_since(since),
            live = self.live.len() + 1,
            "at the connection cap: closing the connection idle the longest"
        );
        victim.shed();
        true
    }

    /// Forgets the connections that have closed.
    fn prune(&mut self) {
        self.live.retain(|c| Arc::strong_count(c) > 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(registry: &Registry, state: &Arc<ConnState>) -> bool {
        registry.live.iter().any(|c| Arc::ptr_eq(c, state))
    }

    #[test]
    fn the_connection_waiting_longest_is_shed_and_never_a_busy_young_or_just_answered_one() {
        let mut registry = Registry::new(4);
        let busy = registry.add();
        let _exchange = busy.request_started();
        let head = registry.add();
        head.bytes_arrived();
        let idle = registry.add();
        let answered = registry.add();
        drop(answered.request_started());
        let now = Instant::now();
        assert!(!registry.shed_one(now), "none has waited long enough");
        let later = now + SHED_AFTER * 2;
        assert!(registry.shed_one(later));
        assert!(!contains(&registry, &head), "the longest wait first");
        assert!(registry.shed_one(later));
        assert!(!contains(&registry, &idle));
        assert!(
            !registry.shed_one(later),
            "a kept-alive connection is spared a while"
        );
        let much_later = now + KEEP_ALIVE_GRACE * 2;
        assert!(registry.shed_one(much_later));
        assert!(!contains(&registry, &answered), "waiting since its answer");
        assert!(
            !registry.shed_one(much_later),
            "a busy connection is never shed"
        );
        assert!(contains(&registry, &busy));
    }

    #[test]
    fn closed_connections_are_forgotten() {
        let mut registry = Registry::new(1);
        let first = registry.add();
        drop(first);
        let _second = registry.add();
        let _third = registry.add();
        assert_eq!(registry.live.len(), 2, "pruned at twice the cap");
    }
}
