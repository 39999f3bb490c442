//! How `serve` ends a connection it cannot or will not keep: during a graceful shutdown, on
//! an HTTP/2 preface, at the head timeout.

mod common;

use std::time::{Duration, Instant};

use callflow_actix_web::ServeConfig;
use tokio::io::AsyncWriteExt;

/// On a loaded machine, how late a close may come beyond the contract.
const SLACK: Duration = Duration::from_millis(1500);

/// A keep-alive connection with a request in flight when the shutdown begins: its answer
/// says `Connection: close`, and the connection is then closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_during_a_graceful_shutdown_say_connection_close() {
    let config = ServeConfig::default()
        .workers(1)
        .grace_period(Duration::from_secs(5));
    let mut server = common::start(config, Duration::from_millis(800));
    let addr = server.addr;
    // A first exchange: the connection is kept alive.
    let mut conn = common::send(addr, &common::call_action(addr, 1)).await;
    let first = common::read_response(&mut conn)
        .await
        .expect("first answer");
    assert_eq!(first.status(), 200, "{first:?}");
    assert!(!first.closes(), "kept alive before the shutdown: {first:?}");
    // A second request, in flight when the shutdown begins.
    conn.get_mut()
        .write_all(&common::call_action(addr, 2))
        .await
        .expect("write");
    server.handler_started(2).await;
    server.begin_shutdown();
    let second = common::read_response(&mut conn)
        .await
        .expect("second answer");
    assert_eq!(second.status(), 200, "{second:?}");
    assert!(
        second.closes(),
        "no `Connection: close` during the shutdown: {second:?}"
    );
    assert!(
        common::closes_within(&mut conn, Duration::from_secs(1) + SLACK).await,
        "the connection stayed open after the answer"
    );
    server.stop().await;
}

/// An HTTP/2 prior-knowledge preface: a `400` status line (actix-web serves HTTP/1 only
/// here), then the connection closed within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_preface_gets_400_and_a_close() {
    let server = common::start(ServeConfig::default().workers(1), Duration::ZERO);
    let mut conn = common::send(server.addr, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
    let answered = tokio::time::timeout(Duration::from_secs(5), common::read_response(&mut conn))
        .await
        .expect("an answer in time")
        .expect("an HTTP/1 answer");
    assert!(
        answered.status_line.starts_with("HTTP/1.1 400"),
        "{answered:?}"
    );
    let start = Instant::now();
    assert!(
        common::closes_within(&mut conn, Duration::from_secs(1) + SLACK).await,
        "still open {:?} after the 400",
        start.elapsed()
    );
    server.stop().await;
}

/// A partial head (a request line, half a header, no blank line) at the head timeout:
/// `408` with `Connection: close`, then the connection closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_head_at_the_head_timeout_gets_408_and_a_close() {
    let timeout = Duration::from_secs(1);
    let config = ServeConfig::default()
        .workers(1)
        .header_read_timeout(timeout);
    let server = common::start(config, Duration::ZERO);
    let start = Instant::now();
    let mut conn = common::send(server.addr, b"POST /webhooks/voice HTTP/1.1\r\nHo").await;
    let answer = tokio::time::timeout(timeout + SLACK, common::read_response(&mut conn))
        .await
        .expect("an answer by the head timeout")
        .expect("an HTTP/1 answer");
    let after = start.elapsed();
    assert_eq!(answer.status(), 408, "{answer:?}");
    assert!(answer.status_line.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.closes(), "no `Connection: close`: {answer:?}");
    assert!(
        after >= timeout - Duration::from_millis(100),
        "answered early, at {after:?}"
    );
    assert!(
        common::closes_within(&mut conn, Duration::from_secs(1) + SLACK).await,
        "the connection stayed open after the 408"
    );
    server.stop().await;
}
