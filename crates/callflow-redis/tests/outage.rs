//! Redis unreachable, then back: the number-masking webhook on Redis answers `CALL_ACTION`
//! with the fallback callflow and other events with 503 while it is down (with a `warn`
//! log), and recovers by itself — no new store, no restart — when it is back, with every
//! binding kept (the server persists with AOF).
//!
//! `outage_gets_fallback_and_503_with_a_warning` needs no Redis at all; the restart test
//! starts its own `redis-server` (from `PATH`) so it can kill it.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callflow::callflow::Action;
use callflow::testing::{self, TestClient};
use callflow::{CallFlow, PhoneNumber, Webhook, default_fallback};
use callflow_masking::{BindingStore, Lookup, MaskingHandler, NewBinding};
use callflow_redis::testing::{RedisServer, redis_server_available};
use callflow_redis::{Redis, RedisBindingStore, RedisIdempotencyStore};

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";

/// The masking webhook as `number-masking serve --store redis://…` builds it.
fn webhook(redis: &Redis) -> TestClient {
    let store = Arc::new(RedisIdempotencyStore::new(redis));
    let handler = MaskingHandler::new(RedisBindingStore::new(redis));
    TestClient::new(Webhook::builder(handler).idempotency_store(store).build())
}

fn bridged_to(flow: &CallFlow) -> Option<String> {
    match flow.actions() {
        [Action::MakeCall(m)] => Some(m.destination.as_str().to_owned()),
        _ => None,
    }
}

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn outage_gets_fallback_and_503_with_a_warning() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Nothing listens there: Redis is down from the start (the service still starts).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = Redis::open(&format!("redis://127.0.0.1:{port}/0")).unwrap();
    let client = webhook(&redis);

    let started = Instant::now();
    let r = client
        .post(testing::call_action().from(A).to(VN).build_json())
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.status(), 200);
    assert_eq!(r.text(), default_fallback().to_json());

    let r = client.post(testing::session_summary().build_json()).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.error_code().as_deref(), Some("store_unavailable"));

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.lines()
            .any(|l| l.contains("WARN") && l.contains("idempotency store failed")),
        "{logs}"
    );
    assert!(
        logs.contains(&format!("127.0.0.1:{port}")),
        "the log names the server: {logs}"
    );
    assert!(
        !logs.contains("91110001") && !logs.contains("68880000"),
        "{logs}"
    );
}

/// Polls until a call from `from` is bridged to `to`, or panics after `limit`.
async fn until_bridged(client: &TestClient, from: &str, to: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let r = client
            .post(testing::call_action().from(from).to(VN).build_json())
            .await;
        if r.status() == 200 && bridged_to(&r.callflow()).as_deref() == Some(to) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "not recovered after {limit:?}: {} {}",
            r.status(),
            r.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_loses_no_binding_and_the_webhook_recovers_by_itself() {
    if !redis_server_available("redis_restart_loses_no_binding") {
        return;
    }
    let mut server = RedisServer::start_persistent().unwrap();
    let redis = Redis::open(&server.url()).unwrap();
    let store = RedisBindingStore::new(&redis);
    let mut ids = Vec::new();
    for i in 0..20u32 {
        let b = store
            .create(
                NewBinding::new(VN, &format!("+659400{i:04}"), &format!("+659500{i:04}")).unwrap(),
            )
            .await
            .unwrap();
        ids.push(b.id);
    }
    store
        .create(NewBinding::new(VN, A, B).unwrap())
        .await
        .unwrap();
    let client = webhook(&redis);
    let delivery = testing::call_action().from(A).to(VN).build_json();
    let before = client.post(delivery.clone()).await;
    assert_eq!(bridged_to(&before.callflow()).as_deref(), Some(B));

    server.kill();
    // Down: never dead air for a call, 503 for the rest.
    for _ in 0..3 {
        let r = client
            .post(testing::call_action().from(A).to(VN).build_json())
            .await;
        assert_eq!(
            (r.status().as_u16(), r.text()),
            (200, default_fallback().to_json().as_str())
        );
    }
    let r = client.post(testing::session_summary().build_json()).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.error_code().as_deref(), Some("store_unavailable"));
    // A service started while Redis is down comes up anyway.
    let late = webhook(&Redis::open(&server.url()).unwrap());

    server.restart().unwrap();
    let took = until_bridged(&client, A, B, Duration::from_secs(10)).await;
    eprintln!("recovered {took:?} after redis-server was back");
    until_bridged(&late, "+6595000007", "+6594000007", Duration::from_secs(10)).await;

    // Nothing was lost: every binding, and the first delivery's answer for its duplicate.
    let listed = store.list().await.unwrap();
    assert_eq!(listed.len(), 21);
    for id in &ids {
        assert!(listed.iter().any(|b| &b.id == id));
    }
    for i in 0..20u32 {
        let caller = PhoneNumber::new(format!("+659500{i:04}"));
        assert!(matches!(
            store.lookup(&PhoneNumber::new(VN), &caller).await.unwrap(),
            Lookup::Active(_)
        ));
    }
    let duplicate = client.post(delivery).await;
    assert_eq!(duplicate.text(), before.text());
    let r = client.post(testing::session_summary().build_json()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(store.calls(10).await.unwrap().len(), 1);
}
