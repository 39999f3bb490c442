//! Logs: ids in every line, never a phone number or a secret.
//!
//! Its own test binary, with a global subscriber: tracing caches per-callsite interest
//! process-wide, so a thread-local subscriber would miss events while other tests run.

use std::io::Write;
use std::sync::{Arc, Mutex};

use callflow::Config;
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

#[tokio::test]
async fn logs_carry_ids_but_never_phone_numbers_or_secrets() {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let (c, _) = client_with(Config::default().auth_token("Bearer s3cret"));
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

    let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
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
