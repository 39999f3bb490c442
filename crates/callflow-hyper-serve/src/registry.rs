//! The live connections in accept order, and the choice of which to shed when a new one
//! arrives at the cap: the oldest with no request in progress, the way nginx reuses idle
//! connections when it runs out.
//!
//! Owned by the accept loop alone (no lock); a connection's task keeps its [`ConnState`]
//! alive, so an entry whose state nobody else holds is a closed connection.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::phase::{ConnState, Phase};

/// How long to wait for a shed connection to free its slot before shedding another (it may
/// have started a request meanwhile, or a busy one may have gone idle).
const SHED_RETRY: Duration = Duration::from_millis(25);

/// The connections being served, oldest first.
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
        let state = Arc::new(ConnState::default());
        self.live.push_back(Arc::clone(&state));
        state
    }

    /// A connection slot for a connection just accepted: at once if one is free; at the
    /// cap, sheds the oldest connection with no request in progress and takes its slot
    /// once it has closed. If every connection is busy, waits for one to end or go idle.
    pub(crate) async fn slot(&mut self, slots: &Arc<Semaphore>) -> OwnedSemaphorePermit {
        if let Ok(permit) = Arc::clone(slots).try_acquire_owned() {
            return permit;
        }
        loop {
            self.shed_one();
            let freed = tokio::time::timeout(SHED_RETRY, Arc::clone(slots).acquire_owned()).await;
            if let Ok(permit) = freed {
                return permit.expect("the semaphore is never closed");
            }
        }
    }

    /// Sheds the oldest idle connection (no byte of a head), or else the oldest with part of
    /// a head; `false` if every connection is busy.
    fn shed_one(&mut self) -> bool {
        self.prune();
        let oldest = |phase| self.live.iter().position(|c| c.phase() == phase);
        let Some(index) = oldest(Phase::Idle).or_else(|| oldest(Phase::Head)) else {
            return false;
        };
        let victim = self.live.remove(index).expect("a position in the queue");
        tracing::debug!(
            phase = ?victim.phase(),
            live = self.live.len() + 1,
            "at the connection cap: closing the oldest idle connection"
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

    #[test]
    fn the_oldest_idle_connection_is_shed_before_partial_heads_and_never_a_busy_one() {
        let mut registry = Registry::new(4);
        let busy = registry.add();
        let _exchange = busy.request_started();
        let head = registry.add();
        head.bytes_arrived();
        let idle = registry.add();
        let newer_idle = registry.add();
        assert!(registry.shed_one());
        assert_eq!(registry.live.len(), 3);
        assert!(!registry.live.iter().any(|c| Arc::ptr_eq(c, &idle)));
        assert!(registry.shed_one());
        assert!(!registry.live.iter().any(|c| Arc::ptr_eq(c, &newer_idle)));
        assert!(registry.shed_one());
        assert!(!registry.live.iter().any(|c| Arc::ptr_eq(c, &head)));
        assert!(!registry.shed_one(), "a busy connection is never shed");
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
