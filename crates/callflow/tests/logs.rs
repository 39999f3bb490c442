//! Logs: ids in every line, never a phone number or a secret.
//!
//! Its own test binary, with a global subscriber: tracing caches per-callsite interest
//! process-wide, so a thread-local subscriber would miss events while other tests run.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use callflow::WebhookBuilder;
use callflow::testing::{self, fixtures};

mod common;
use common::client_with;

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The process-wide sink, installed by the first test that asks; every test of this binary
/// logs into it (each looks only for its own lines).
fn logs() -> Buf {
    static LOGS: OnceLock<Buf> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buf
    })
    .clone()
}

#[tokio::test]
async fn logs_carry_ids_but_never_phone_numbers_or_secrets() {
    let buf = logs();

    let (c, _) = client_with(|b: WebhookBuilder| b.auth_token("Bearer s3cret"));
    let authed = c.clone().header("authorization", "Bearer s3cret");
    for caller in ["+6591110001", "+6591110002", "+6591110004", "+6591110000"] {
        authed
            .post(
                testing::call_action()
                    .from(caller)
                    .event_id("evt-1")
                    .build_json(),
            )
            .await;
    }
    authed
        .post(testing::session_summary().session_id("fail").build_json())
        .await;
    c.clone()
        .header("authorization", "Bearer wrong")
        .post("{}")
        .await;
    for f in fixtures::events() {
        authed.post(f.json).await;
    }

    let out = buf.text();
    assert!(out.contains("evt-1"), "event id in the span: {out}");
    assert!(out.contains("handler failed"));
    assert!(out.contains("handler panicked"));
    assert!(out.contains("webhook auth failed"));
    for secret in [
        "s3cret",
        "6591110001",
        "6591110002",
        "6568880000",
        "6592220002",
        "65123456789",
        "6591178965",
    ] {
        assert!(!out.contains(secret), "log leaks {secret}:\n{out}");
    }
}

#[tokio::test]
async fn a_known_event_id_with_other_bytes_is_a_warning_naming_the_id_not_the_numbers() {
    let buf = logs();
    let (c, h) = client_with(|b| b);
    let call = testing::call_action().event_id("evt-warned");
    let original = call.clone().from("+6591110006").build_json();
    c.post(original.clone()).await;
    c.post(original).await;
    let warnings = || {
        buf.text()
            .lines()
            .filter(|l| l.contains("evt-warned") && l.contains("different body"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        warnings(),
        Vec::<String>::new(),
        "a true duplicate is no warning"
    );
    c.post(call.from("+6599990009").build_json()).await;
    assert_eq!(h.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    let lines = warnings();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("WARN"), "{}", lines[0]);
    let out = buf.text();
    for number in ["6591110006", "6599990009"] {
        assert!(!out.contains(number), "log leaks {number}:\n{out}");
    }
}

#[tokio::test]
async fn a_replayed_duplicate_is_a_debug_line_naming_the_event_id() {
    let buf = logs();
    let (c, h) = client_with(|b| b);
    let body = testing::call_action()
        .event_id("evt-replayed")
        .from("+6591110007")
        .build_json();
    let first = c.post(body.clone()).await;
    let replays = || {
        buf.text()
            .lines()
            .filter(|l| l.contains("evt-replayed") && l.contains("replay"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        replays(),
        Vec::<String>::new(),
        "a first delivery is no replay"
    );
    assert!(!first.0.is_replay());
    let again = c.post(body).await;
    assert!(again.0.is_replay());
    assert_eq!(h.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    let lines = replays();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("DEBUG"), "{}", lines[0]);
    assert!(!buf.text().contains("6591110007"), "log leaks the number");
}
