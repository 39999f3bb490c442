//! Idle connections give way at the connection cap: each worker keeps its live connections
//! ([`Slot`], in their connection data) and those with no request in progress, in the order
//! they became idle; a new connection that brings the worker to its shedding threshold shuts
//! down the socket of the one idle the longest, and actix-web drops it. A keep-alive
//! connection is spared for [`KEEP_ALIVE_GRACE`] after its answer.
//!
//! The same lists give keep-alive connections the head timeout that actix-web does not: once
//! the first byte of a next request arrives on a kept-alive connection, actix-web stops its
//! keep-alive timer and starts none for the head, so a client could hold the connection with
//! half a head forever. Each worker sweeps its kept-alive connections ([`sweep`]); one still
//! open [`SWEEP_MARGIN`] after the head timeout (an idle one is closed by actix-web's own
//! keep-alive timer at the head timeout, so what is left has a head under way) gets a
//! `408 Request Timeout` with `Connection: close` and is shut down, like the first request's
//! head timeout.
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

/// How long a keep-alive connection is spared after its last answer.
pub(crate) const KEEP_ALIVE_GRACE: Duration = callflow::serve::SHED_KEEP_ALIVE_GRACE;

/// How long a new connection is spared before its first head.
pub(crate) const FRESH_GRACE: Duration = callflow::serve::SHED_FRESH_GRACE;

/// How long after the head timeout a kept-alive connection is taken for one with a head
/// under way (actix-web closes an idle one at the head timeout itself).
pub(crate) const SWEEP_MARGIN: Duration = Duration::from_millis(250);

/// How often each worker looks for kept-alive connections past their head timeout, and for
/// idle connections to shed while it is over its threshold (new connections stop reaching
/// `on_connect` at actix-web's cap, so arrivals alone cannot be what sheds).
const SWEEP_EVERY: Duration = Duration::from_millis(25);

/// One worker's live connections.
#[derive(Default)]
struct Worker {
    live: usize,
    next: u64,
    /// Whether this worker's [`sweep`] runs.
    sweeping: bool,
    /// Idle connections with no request yet, by when they opened (oldest first).
    fresh: BTreeMap<u64, (Instant, Rc<ConnSocket>)>,
    /// Idle keep-alive connections, by when they became idle (oldest first).
    kept: BTreeMap<u64, (Instant, Rc<ConnSocket>)>,
}

impl Worker {
    fn key(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Takes the connection idle the longest out of the lists: fresh for at least
    /// [`FRESH_GRACE`], or kept alive for longer than [`KEEP_ALIVE_GRACE`].
    fn oldest_idle(&mut self) -> Option<Rc<ConnSocket>> {
        let fresh = self
            .fresh
            .first_key_value()
            .filter(|(_, (since, _))| since.elapsed() >= FRESH_GRACE)
            .map(|(k, _)| *k);
        let kept = self
            .kept
            .first_key_value()
            .filter(|(_, (since, _))| since.elapsed() >= KEEP_ALIVE_GRACE)
            .map(|(k, _)| *k);
        match (fresh, kept) {
            (Some(f), Some(k)) if k < f => self.kept.remove(&k).map(|(_, s)| s),
            (Some(f), _) => self.fresh.remove(&f).map(|(_, s)| s),
            (None, Some(k)) => self.kept.remove(&k).map(|(_, s)| s),
            (None, None) => None,
        }
    }

    /// Takes the kept-alive connections idle for at least `limit` out of the list.
    fn late_heads(&mut self, limit: Duration) -> Vec<Rc<ConnSocket>> {
        let mut late = Vec::new();
        // Keys grow as connections become idle: the list is in order of `since`.
        while let Some(entry) = self.kept.first_entry() {
            if entry.get().0.elapsed() < limit {
                break;
            }
            late.push(entry.remove().1);
        }
        late
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
/// worker to `shed_at` live connections, shuts down the connection idle the longest. Starts
/// the worker's [`sweep`] with `head_timeout` on its first connection.
pub(crate) fn connected(
    socket: Rc<ConnSocket>,
    shed_at: usize,
    head_timeout: Duration,
) -> Rc<Slot> {
    WORKER.with_borrow_mut(|worker| {
        if !worker.sweeping {
            worker.sweeping = true;
            actix_web::rt::spawn(sweep(head_timeout, shed_at));
        }
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
        worker
            .fresh
            .insert(key, (Instant::now(), Rc::clone(&socket)));
        Rc::new(Slot {
            socket,
            idle: Cell::new(Some(key)),
        })
    })
}

/// Every [`SWEEP_EVERY`], answers the kept-alive connections of this worker that are still
/// open [`SWEEP_MARGIN`] after `head_timeout` with a 408 and shuts them down, and, while the
/// worker holds more than `shed_at` connections, sheds idle ones (oldest first) down to it.
/// Runs as long as the worker.
async fn sweep(head_timeout: Duration, shed_at: usize) {
    let limit = head_timeout + SWEEP_MARGIN;
    // Shed connections count as live until actix-web drops them: shed each excess once.
    let mut shed_pending = 0usize;
    loop {
        actix_web::rt::time::sleep(SWEEP_EVERY).await;
        let (late, shed) = WORKER.with_borrow_mut(|worker| {
            let late = worker.late_heads(limit);
            let excess = worker.live.saturating_sub(shed_at);
            let mut shed = Vec::new();
            while shed.len() < excess.saturating_sub(shed_pending) {
                match worker.oldest_idle() {
                    Some(socket) => shed.push(socket),
                    None => break,
                }
            }
            (late, shed)
        });
        shed_pending = shed.len();
        for socket in shed {
            tracing::debug!("over the connection threshold: shedding the oldest idle connection");
            socket.shut_down();
        }
        for socket in late {
            tracing::debug!("request head not complete in time on a kept-alive connection: 408");
            socket.time_out_head();
        }
    }
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
    fn the_oldest_idle_goes_first_and_new_and_recent_keep_alive_connections_are_spared() {
        let mut worker = Worker::default();
        let (kept_long, fresh, kept_now) = (socket(), socket(), socket());
        let key = worker.key();
        let long_ago = Instant::now() - 2 * KEEP_ALIVE_GRACE;
        worker.kept.insert(key, (long_ago, Rc::clone(&kept_long)));
        let key = worker.key();
        worker.fresh.insert(key, (long_ago, Rc::clone(&fresh)));
        let key = worker.key();
        worker
            .kept
            .insert(key, (Instant::now(), Rc::clone(&kept_now)));
        assert!(Rc::ptr_eq(&worker.oldest_idle().unwrap(), &kept_long));
        assert!(Rc::ptr_eq(&worker.oldest_idle().unwrap(), &fresh));
        // Connected just now: spared until its head had time to arrive.
        let fresh_now = socket();
        let key = worker.key();
        worker.fresh.insert(key, (Instant::now(), fresh_now));
        assert!(worker.oldest_idle().is_none());
        worker.fresh.clear();
        // Answered just now: spared.
        assert!(worker.oldest_idle().is_none());
        assert_eq!(worker.kept.len(), 1);
    }

    #[test]
    fn kept_alive_connections_past_the_limit_are_late_heads_in_order() {
        let mut worker = Worker::default();
        let (old, older_still, recent) = (socket(), socket(), socket());
        let now = Instant::now();
        for (since, s) in [
            (now - Duration::from_secs(3), &older_still),
            (now - Duration::from_secs(2), &old),
            (now, &recent),
        ] {
            let key = worker.key();
            worker.kept.insert(key, (since, Rc::clone(s)));
        }
        let late = worker.late_heads(Duration::from_secs(1));
        assert_eq!(late.len(), 2);
        assert!(Rc::ptr_eq(&late[0], &older_still));
        assert!(Rc::ptr_eq(&late[1], &old));
        assert_eq!(worker.kept.len(), 1, "the recent one stays");
    }

    #[test]
    fn shedding_starts_an_eighth_below_the_cap() {
        assert_eq!(threshold(1024), 896);
        assert_eq!(threshold(64), 56);
        assert_eq!(threshold(4), 3);
        assert_eq!(threshold(1), 1);
    }
}
