//! `serve --header-read-timeout`, `--body-read-timeout` (and their `NUMBER_MASKING_*`
//! variables): a slow client is cut off at the configured time, on every framework, on the
//! webhook and on the other routes. Raw TCP, so the test controls every byte.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

mod common;
use common::Server;

const FRAMEWORKS: [&str; 3] = ["axum", "actix-web", "warp"];

/// Slack beyond a timeout on a loaded machine.
const SLACK: Duration = Duration::from_millis(2_500);

/// Sends `bytes` and reads until the server closes; returns the answer and when it closed.
fn send_and_wait(server: &Server, bytes: &[u8]) -> (String, Duration) {
    let mut conn = TcpStream::connect(server.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    conn.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

/// A head announcing 100 bytes of body, and 10 of them.
fn partial_body(path: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Authorization: Bearer test-key-0123456789abcdef\r\nContent-Length: 100\r\n\r\n{{\"eventTy"
    )
    .into_bytes()
}

#[test]
fn a_slow_body_gets_408_at_the_configured_body_timeout_on_every_framework() {
    for fw in FRAMEWORKS {
        // The flag on one framework, the variable on the others.
        let (flags, env): (&[&str], &[(&str, &str)]) = if fw == "axum" {
            (&["--body-read-timeout", "2s"], &[])
        } else {
            (&[], &[("NUMBER_MASKING_BODY_READ_TIMEOUT", "2s")])
        };
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("nm.db");
        let mut env = env.to_vec();
        env.push(("NUMBER_MASKING_API_KEYS", "test-key-0123456789abcdef"));
        let server =
            Server::start_with_env(&["--db", db.to_str().unwrap()], fw, flags, &env);
        for path in ["/webhooks/voice", "/v1/bindings"] {
            let (answer, took) = send_and_wait(&server, &partial_body(path));
            assert!(
                answer.starts_with("HTTP/1.1 408"),
                "{fw} {path}: {answer:?} after {took:?}"
            );
            assert!(
                took >= Duration::from_millis(1_900) && took < Duration::from_secs(2) + SLACK,
                "{fw} {path}: cut after {took:?}, configured 2 s"
            );
        }
        server.terminate();
    }
}

#[test]
fn a_slow_head_is_cut_at_the_configured_head_timeout_on_every_framework() {
    for fw in FRAMEWORKS {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("nm.db");
        let server = Server::start(
            &["--db", db.to_str().unwrap()],
            fw,
            &["--header-read-timeout", "1s", "--grace-period", "2s"],
        );
        let (answer, took) =
            send_and_wait(&server, b"POST /webhooks/voice HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{fw}: {answer:?}"
        );
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(1) + SLACK,
            "{fw}: cut after {took:?}, configured 1 s"
        );
        server.terminate();
    }
}
