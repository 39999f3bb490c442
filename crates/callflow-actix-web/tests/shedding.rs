//! At the connection cap, `serve` sheds the connections idle the longest so that webhooks
//! still get a slot.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use callflow_actix_web::ServeConfig;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Holds a connection that never sends a byte until the server closes it, then opens
/// another, until `until`; counts the connections the server closed.
async fn idler(addr: SocketAddr, until: Instant, closed: Arc<AtomicUsize>) {
    while Instant::now() < until {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let left = until.saturating_duration_since(Instant::now());
        let mut byte = [0u8; 1];
        if tokio::time::timeout(left, stream.read(&mut byte))
            .await
            .is_ok()
        {
            closed.fetch_add(1, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// 300 silent connections, reopened as they are closed, against 2 workers capped at 64
/// connections each (head timeout 10 s, so only shedding frees a slot in time): a client
/// posting a `CALL_ACTION` on a new connection every 100 ms for 5 s gets every answer,
/// p99 within 1 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_over_the_cap_give_way_to_webhooks() {
    let config = ServeConfig::default()
        .max_connections(64)
        .workers(2)
        .header_read_timeout(Duration::from_secs(10));
    let server = common::start(config, Duration::ZERO);
    let addr = server.addr;
    let until = Instant::now() + Duration::from_secs(6);
    let closed = Arc::new(AtomicUsize::new(0));
    let idlers: Vec<_> = (0..300)
        .map(|_| tokio::spawn(idler(addr, until, Arc::clone(&closed))))
        .collect();
    // Let them fill the slots first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut timings = Vec::new();
    let mut failures = Vec::new();
    let mut n = 0;
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        n += 1;
        let start = Instant::now();
        let exchange = async {
            let mut conn = common::send(addr, &common::call_action(addr, n)).await;
            common::read_response(&mut conn).await
        };
        match tokio::time::timeout(Duration::from_secs(5), exchange).await {
            Ok(Ok(head)) if head.status() == 200 => timings.push(start.elapsed()),
            other => failures.push(format!("request {n}: {other:?}")),
        }
        tokio::time::sleep(Duration::from_millis(100).saturating_sub(start.elapsed())).await;
    }
    for idler in idlers {
        idler.await.expect("idler");
    }
    server.stop().await;
    assert!(
        failures.is_empty(),
        "{} of {n} failed: {failures:?}",
        failures.len()
    );
    timings.sort_unstable();
    let p99 = timings[(timings.len() * 99).div_ceil(100) - 1];
    let sheds = closed.load(Ordering::Relaxed);
    println!(
        "{n} webhooks, p99 {p99:?}, slowest {:?}, {sheds} idle connections shed",
        &timings[timings.len().saturating_sub(4)..]
    );
    assert!(p99 <= Duration::from_secs(1), "p99 {p99:?} over 1 s");
    assert!(sheds > 0, "no idle connection was shed");
}
