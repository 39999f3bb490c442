//! The attackers: connections held open against the server, reopened when it closes them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// What every attacker slot does.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// The server.
    pub addr: SocketAddr,
    /// Slots (connections held at once).
    pub connections: usize,
    /// Pause between two chunks of a trickling attacker.
    pub chunk_every: Duration,
    /// Time over which the slots open their first connection.
    pub ramp: Duration,
}

/// The attackers' side of the run.
#[derive(Debug, Default)]
pub struct Counters {
    open: AtomicUsize,
    peak: AtomicUsize,
    connects: AtomicU64,
    connect_errors: AtomicU64,
    closed_by_server: AtomicU64,
}

impl Counters {
    /// Connections open right now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    fn opened(&self) {
        self.connects.fetch_add(1, Ordering::Relaxed);
        let now = self.open.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        self.closed_by_server.fetch_add(1, Ordering::Relaxed);
    }

    /// `key=value` pairs for the result line.
    pub fn line(&self, open_at_start: usize) -> String {
        format!(
            "attack_open_at_start={open_at_start} attack_open_peak={} attack_connects={} attack_connect_errors={} attack_closed_by_server={}",
            self.peak.load(Ordering::Relaxed),
            self.connects.load(Ordering::Relaxed),
            self.connect_errors.load(Ordering::Relaxed),
            self.closed_by_server.load(Ordering::Relaxed),
        )
    }
}

/// The head of a refused request: a wrong `Authorization`, then a chunked body to come.
fn refused_head(addr: SocketAddr) -> Vec<u8> {
    format!(
        "POST /webhooks/voice HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer not-the-secret\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes()
}

/// One slot's start time: the slots are spread over the ramp.
fn stagger(plan: &Plan, slot: usize) -> Duration {
    let ramp = plan.ramp.mul_f64(0.8);
    ramp.mul_f64(slot as f64 / plan.connections.max(1) as f64)
}

/// Opens a connection, counting it; `None` after a failed attempt (and a short pause).
async fn connect(addr: SocketAddr, counters: &Counters) -> Option<TcpStream> {
    match TcpStream::connect(addr).await {
        Ok(s) => {
            counters.opened();
            Some(s)
        }
        Err(_) => {
            counters.connect_errors.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
            None
        }
    }
}

/// Scenario 1: every slot sends a refused chunked request and then a 1-byte chunk every
/// `chunk_every`, reading (and discarding) whatever the server answers; when the server closes
/// the connection, the slot opens a new one at its next tick.
pub fn trickle(plan: Plan, counters: Arc<Counters>) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for slot in 0..plan.connections {
        let counters = counters.clone();
        set.spawn(async move {
            tokio::time::sleep(stagger(&plan, slot)).await;
            let head = refused_head(plan.addr);
            let mut tick = tokio::time::interval(plan.chunk_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(mut stream) = connect(plan.addr, &counters).await else {
                    continue;
                };
                if stream.write_all(&head).await.is_ok() {
                    hold_trickling(&mut stream, &mut tick).await;
                }
                counters.closed();
            }
        });
    }
    set
}

/// Sends a chunk at every tick until the server closes the connection.
async fn hold_trickling(stream: &mut TcpStream, tick: &mut tokio::time::Interval) {
    let mut sink = [0u8; 4096];
    loop {
        tokio::select! {
            read = stream.read(&mut sink) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = tick.tick() => {
                if stream.write_all(b"1\r\nx\r\n").await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Scenario 2: every slot holds a connection that never sends a byte, and reopens it as soon
/// as the server closes it.
pub fn idle(plan: Plan, counters: Arc<Counters>) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for slot in 0..plan.connections {
        let counters = counters.clone();
        set.spawn(async move {
            tokio::time::sleep(stagger(&plan, slot)).await;
            let mut sink = [0u8; 1024];
            loop {
                let Some(mut stream) = connect(plan.addr, &counters).await else {
                    continue;
                };
                // Whatever the server sends (a 408, nothing) ends with its close.
                while let Ok(n) = stream.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
                counters.closed();
            }
        });
    }
    set
}
