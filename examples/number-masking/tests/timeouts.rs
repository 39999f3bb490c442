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
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    conn.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
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
        let server = Server::start_with_env(&["--db", db.to_str().unwrap()], fw, flags, &env);
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
        let (answer, took) = send_and_wait(
            &server,
            b"POST /webhooks/voice HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        );
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

/// The value of `series` in a `/metrics` text (0 if absent).
fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_refused_before_their_body_is_read_are_counted_by_status_on_every_framework() {
    let http = common::http();
    for fw in FRAMEWORKS {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("nm.db");
        let server = Server::start_with_env(
            &["--db", db.to_str().unwrap()],
            fw,
            &["--body-read-timeout", "1s"],
            &[("NUMBER_MASKING_AUTH_HEADERS", "Bearer hook-secret")],
        );
        let url = server.url();
        let json = "application/json";
        let cases: [(reqwest::RequestBuilder, u16); 4] = [
            (
                http.get(&url).header("authorization", "Bearer hook-secret"),
                405,
            ),
            (http.post(&url).header("content-type", json).body("{}"), 401),
            (
                http.post(&url)
                    .header("authorization", "Bearer hook-secret")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("a=1"),
                415,
            ),
            (
                http.post(&url)
                    .header("authorization", "Bearer hook-secret")
                    .header("content-type", json)
                    .body(vec![b' '; 2 * 1024 * 1024]),
                413,
            ),
        ];
        for (req, status) in cases {
            let got = req.send().await.map(|r| r.status().as_u16());
            // A refusal of an announced body closes the connection: the client may see the
            // answer or a reset while it is still sending.
            if let Ok(got) = got {
                assert_eq!(got, status, "{fw}");
            }
        }
        let (answer, _) = send_and_wait(&server, &partial_body("/webhooks/voice"));
        assert!(answer.starts_with("HTTP/1.1 401"), "{fw}: {answer:?}");
        let timed_out = "POST /webhooks/voice HTTP/1.1\r\nHost: 127.0.0.1\r\n\
            Content-Type: application/json\r\nAuthorization: Bearer hook-secret\r\n\
            Content-Length: 100\r\n\r\n{";
        let (answer, _) = send_and_wait(&server, timed_out.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 408"), "{fw}: {answer:?}");

        let text = common::get_text(&http, &server.at("/metrics")).await;
        let count = |status: u16| {
            metric(
                &text,
                &format!(r#"callflow_webhook_requests_total{{event="none",status="{status}"}}"#),
            )
        };
        assert_eq!(count(405), 1, "{fw}:\n{text}");
        assert_eq!(count(401), 2, "{fw}:\n{text}");
        assert_eq!(count(415), 1, "{fw}:\n{text}");
        assert_eq!(count(413), 1, "{fw}:\n{text}");
        assert_eq!(count(408), 1, "{fw}:\n{text}");
        server.terminate();
    }
}
