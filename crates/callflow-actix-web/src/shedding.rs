//! Idle connections give way at the connection cap: each worker keeps its live connections
//! ([`Slot`], in their connection data) and those with no request in progress, in the order
//! they became idle; a new connection that brings the worker to its shedding threshold shuts
//! down the socket of the one idle the longest, and actix-web drops it. A keep-alive
//! connection is spared for [`KEEP_ALIVE_GRACE`] after its answer.
//!
//! actix-web's `max_connections` leaves connections over the cap in the listen backlog, out
//! of sight of `on_connect`; shedding therefore starts a little below the cap
//! ([`threshold`]), so that a new connection still reaches a worker and can take the place
//! of an idle one.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::socket::ConnSocket;

/// The live-connection count of a worker at which its oldest idle connection is shed: the
/// cap less an eighth of it (at least 1), which leaves new connections room to arrive
/// while shed ones are being dropped.
pub(crate) fn threshold(cap: usize) -> usize {
    cap.saturating_sub((cap / 8).max(1)).max(1)
}

/// How long a keep-alive connection is spared after its last answer: its client is likely
/// to send its next request on it, and a connection shut down just as a `POST` goes out
/// loses that request (clients do not retry it).
pub(crate) const KEEP_ALIVE_GRACE: Duration = Duration::from_secs(1);

/// One worker's live connections.
#[derive(Default)]
struct Worker {
    live: usize,
    next: u64,
    /// Idle connections with no request yet, by when they opened (oldest first).
    fresh: BTreeMap<u64, Rc<ConnSocket>>,
    /// Idle keep-alive connections, by when they became idle (oldest first).
    kept: BTreeMap<u64, (Instant, Rc<ConnSocket>)>,
}

impl Worker {
    fn key(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Takes the connection idle the longest out of the lists: fresh, or kept alive for
    /// longer than [`KEEP_ALIVE_GRACE`].
    fn oldest_idle(&mut self) -> Option<Rc<ConnSocket>> {
        let fresh = self.fresh.first_key_value().map(|(k, _)| *k);
        let kept = self
            .kept
            .first_key_value()
            .filter(|(_, (since, _))| since.elapsed() >= KEEP_ALIVE_GRACE)
            .map(|(k, _)| *k);
        match (fresh, kept) {
            (Some(f), Some(k)) if k < f => self.kept.remove(&k).map(|(_, s)| s),
            (Some(f), _) => self.fresh.remove(&f),
            (None, Some(k)) => self.kept.remove(&k).map(|(_, s)| s),
            (None, None) => None,
        }
    }

    fn leave(&mut self, key: u64) {
        self.fresh.remove(&key);
        self.kept.remove(&key);
    }
}

thread_local! {
    /// Each actix-web worker runs on its own thread and applies the cap on its own.
    static WORKER: RefCell<Worker> = RefCell::default();
}

/// A connection's place in its worker's list, in its connection data as `Rc<Slot>`; leaving
/// the list when actix-web drops the connection.
pub(crate) struct Slot {
    socket: Rc<ConnSocket>,
    /// The key in the idle list while idle.
    idle: Cell<Option<u64>>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("idle", &self.idle.get())
            .finish_non_exhaustive()
    }
}

/// Registers a new connection (idle: no head yet) with this worker; if that brings the
/// worker to `shed_at` live connections, shuts down the connection idle the longest.
pub(crate) fn connected(socket: Rc<ConnSocket>, shed_at: usize) -> Rc<Slot> {
    WORKER.with_borrow_mut(|worker| {
        worker.live += 1;
        let oldest = if worker.live > shed_at {
            worker.oldest_idle()
        } else {
            None
        };
        if let Some(socket) = oldest {
            tracing::debug!(
                live = worker.live,
                "connection cap near: shedding the oldest idle connection"
            );
            socket.shut_down();
        }
        let key = worker.key();
        worker.fresh.insert(key, Rc::clone(&socket));
        Rc::new(Slot {
            socket,
            idle: Cell::new(Some(key)),
        })
    })
}

impl Slot {
    /// Marks a request in progress until the guard is dropped (the connection is then idle
    /// again, the youngest idle one).
    pub(crate) fn busy(self: &Rc<Self>) -> Busy {
        self.leave_idle();
        Busy(Rc::clone(self))
    }

    fn leave_idle(&self) {
        if let Some(key) = self.idle.take() {
            WORKER.with_borrow_mut(|worker| worker.leave(key));
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.leave_idle();
        WORKER.with_borrow_mut(|worker| worker.live = worker.live.saturating_sub(1));
    }
}

/// A request in progress on a connection ([`Slot::busy`]).
pub(crate) struct Busy(Rc<Slot>);

impl Drop for Busy {
    fn drop(&mut self) {
        let slot = &self.0;
        if slot.idle.get().is_none() {
            let key = WORKER.with_borrow_mut(|worker| {
                let key = worker.key();
                let idle = (Instant::now(), Rc::clone(&slot.socket));
                worker.kept.insert(key, idle);
                key
            });
            slot.idle.set(Some(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket() -> Rc<ConnSocket> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        ConnSocket::from_stream(stream)
    }

    #[test]
    fn the_oldest_idle_goes_first_and_recent_keep_alives_are_spared() {
        let mut worker = Worker::default();
        let (kept_long, fresh, kept_now) = (socket(), socket(), socket());
        let key = worker.key();
        let long_ago = Instant::now() - 2 * KEEP_ALIVE_GRACE;
        worker.kept.insert(key, (long_ago, Rc::clone(&kept_long)));
        let key = worker.key();
        worker.fresh.insert(key, Rc::clone(&fresh));
        let key = worker.key();
        worker
            .kept
            .insert(key, (Instant::now(), Rc::clone(&kept_now)));
        assert!(Rc::ptr_eq(&worker.oldest_idle().unwrap(), &kept_long));
        assert!(Rc::ptr_eq(&worker.oldest_idle().unwrap(), &fresh));
        // Answered just now: spared.
        assert!(worker.oldest_idle().is_none());
        assert_eq!(worker.kept.len(), 1);
    }

    #[test]
    fn shedding_starts_an_eighth_below_the_cap() {
        assert_eq!(threshold(1024), 896);
        assert_eq!(threshold(64), 56);
        assert_eq!(threshold(4), 3);
        assert_eq!(threshold(1), 1);
    }
}
