//! Every masking rule of `callflow-masking` (the same test bodies as its
//! `tests/masking.rs`), against `RedisBindingStore` on a real Redis server, plus what only a
//! shared store must prove: atomic creates across instances and one store seen by all.
//!
//! Needs `CALLFLOW_TEST_REDIS_URL` (set by `bash .ci/run`); each test uses its own key prefix
//! and deletes its keys at the end.

use std::sync::Arc;
use std::time::Duration;

use callflow::callflow::{Action, Mode};
use callflow::event::SessionStatus;
use callflow::testing::{self, TestClient};
use callflow::{CallFlow, PhoneNumber, Webhook};
use callflow_masking::{
    BindingError, BindingStore, Lookup, MaskingHandler, Messages, NewBinding, StoreError,
    now_millis,
};
use callflow_redis::testing::Scratch;
use callflow_redis::{Redis, RedisBindingStore};

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";
const STRANGER: &str = "+6593330003";

/// Runs each test body against a RedisBindingStore under a fresh key prefix on the shared
/// test server (skipped loudly outside CI when there is none).
macro_rules! redis_store {
    ($($name:ident($store:ident) $body:block)*) => {
        mod redis_rules {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(scratch) = Scratch::new(stringify!($name)) else { return };
                    let $store = Arc::new(RedisBindingStore::new(&scratch.redis()));
                    $body
                    drop(scratch);
                }
            )*
        }
    };
}

fn bridge_target(flow: &CallFlow) -> Option<(String, String, Option<bool>)> {
    match flow.actions() {
        [Action::MakeCall(m)] => Some((m.source.clone(), m.destination.clone(), m.call_recording)),
        _ => None,
    }
}

fn said(flow: &CallFlow) -> Option<String> {
    match flow.actions() {
        [Action::Say(s), Action::Hangup] => Some(s.text.clone()),
        _ => None,
    }
}

async fn call<S: BindingStore>(store: &Arc<S>, from: &str, to: &str) -> CallFlow {
    let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
    client
        .post(testing::call_action().from(from).to(to).build_json())
        .await
        .callflow()
}

redis_store! {
    party_a_is_bridged_to_b_with_the_vn_as_caller_id(store) {
        store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
        let flow = call(&store, A, VN).await;
        assert_eq!(bridge_target(&flow), Some((VN.into(), B.into(), None)));
        assert!(flow.validate(Mode::Reply).is_ok());
    }

    party_b_calling_back_is_bridged_to_a(store) {
        store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
        let flow = call(&store, B, VN).await;
        assert_eq!(bridge_target(&flow), Some((VN.into(), A.into(), None)));
    }

    numbers_match_with_or_without_plus(store) {
        store.create(NewBinding::new("6568880000", "6591110001", B).unwrap()).await.unwrap();
        let flow = call(&store, A, VN).await;
        assert_eq!(bridge_target(&flow), Some((VN.into(), B.into(), None)));
        let flow = call(&store, "6592220002", "6568880000").await;
        assert_eq!(bridge_target(&flow), Some((VN.into(), A.into(), None)));
    }

    recording_flag_adds_call_recording(store) {
        store.create(NewBinding::new(VN, A, B).unwrap().record(true)).await.unwrap();
        let flow = call(&store, A, VN).await;
        assert_eq!(bridge_target(&flow), Some((VN.into(), B.into(), Some(true))));
        assert!(flow.to_json().contains(r#""callRecording":true"#));
    }

    stranger_hears_not_bound_and_is_hung_up_on(store) {
        store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
        let flow = call(&store, STRANGER, VN).await;
        assert_eq!(said(&flow), Some(Messages::default().not_bound));
    }

    party_calling_another_vn_is_not_bound(store) {
        store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
        let flow = call(&store, A, "+6568889999").await;
        assert_eq!(said(&flow), Some(Messages::default().not_bound));
    }

    expired_binding_hears_a_different_message(store) {
        let soon = now_millis() + 150;
        store.create(NewBinding::new(VN, A, B).unwrap().expires_at_millis(soon)).await.unwrap();
        assert_eq!(bridge_target(&call(&store, A, VN).await).map(|t| t.1), Some(B.into()));
        tokio::time::sleep(Duration::from_millis(250)).await;
        let flow = call(&store, A, VN).await;
        assert_eq!(said(&flow), Some(Messages::default().expired));
        assert_ne!(Messages::default().expired, Messages::default().not_bound);
    }

    messages_and_voice_are_configurable(store) {
        let messages = Messages {
            not_bound: "Wrong number.".into(),
            expired: "Too late.".into(),
            voice_profile: "en-GB-Emma".into(),
        };
        let handler = MaskingHandler::from_arc(store.clone()).messages(messages);
        let client = TestClient::new(Webhook::new(handler));
        let flow = client.post(testing::call_action().from(STRANGER).to(VN).build_json()).await.callflow();
        match flow.actions() {
            [Action::Say(s), Action::Hangup] => {
                assert_eq!(s.text, "Wrong number.");
                assert_eq!(s.voice_profile, "en-GB-Emma");
            }
            other => panic!("{other:?}"),
        }
    }

    one_vn_serves_many_bindings(store) {
        store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
        store.create(NewBinding::new(VN, "+6594440004", "+6595550005").unwrap()).await.unwrap();
        assert_eq!(bridge_target(&call(&store, A, VN).await).map(|t| t.1), Some(B.into()));
        assert_eq!(
            bridge_target(&call(&store, "+6595550005", VN).await).map(|t| t.1),
            Some("+6594440004".into())
        );
        assert_eq!(store.list().await.unwrap().len(), 2);
    }

    ambiguous_binding_is_refused(store) {
        let first = store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
        let err = store.create(NewBinding::new(VN, A, STRANGER).unwrap()).await.unwrap_err();
        match &err {
            StoreError::Binding(BindingError::Ambiguous { existing, .. }) => assert_eq!(existing, &first.id),
            other => panic!("{other:?}"),
        }
        // The message is clear and masks the numbers.
        let msg = err.to_string();
        assert!(msg.contains("ambiguous") && msg.contains(&first.id), "{msg}");
        assert!(!msg.contains("91110001") && !msg.contains("68880000"), "{msg}");
        // B too, written without +.
        assert!(store.create(NewBinding::new(VN, "6592220002", STRANGER).unwrap()).await.is_err());
        // The same parties on another virtual number are fine.
        store.create(NewBinding::new("+6568881111", A, B).unwrap()).await.unwrap();
        assert_eq!(store.list().await.unwrap().len(), 2);
    }

    expired_binding_does_not_block_a_new_one(store) {
        store.create(NewBinding::new(VN, A, B).unwrap().expires_at_millis(now_millis() + 100)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        store.create(NewBinding::new(VN, A, STRANGER).unwrap()).await.unwrap();
        assert_eq!(bridge_target(&call(&store, A, VN).await).map(|t| t.1), Some(STRANGER.into()));
        // B's only binding is expired.
        assert_eq!(said(&call(&store, B, VN).await), Some(Messages::default().expired));
    }

    expiry_in_the_past_is_refused(store) {
        let err = store.create(NewBinding::new(VN, A, B).unwrap().expires_at_millis(now_millis() - 1)).await.unwrap_err();
        assert!(matches!(err, StoreError::Binding(BindingError::ExpiryInPast)));
    }

    lookup_get_and_remove(store) {
        let b = store.create(NewBinding::new(VN, A, B).unwrap().reference("order-42")).await.unwrap();
        assert_eq!(store.get(&b.id).await.unwrap().as_ref(), Some(&b));
        assert_eq!(b.reference.as_deref(), Some("order-42"));
        let vn = PhoneNumber::new(VN);
        assert_eq!(store.lookup(&vn, &PhoneNumber::new(A)).await.unwrap(), Lookup::Active(b.clone()));
        assert_eq!(store.lookup(&vn, &PhoneNumber::new(STRANGER)).await.unwrap(), Lookup::NotFound);
        assert!(store.remove(&b.id).await.unwrap());
        assert!(!store.remove(&b.id).await.unwrap());
        assert_eq!(store.lookup(&vn, &PhoneNumber::new(A)).await.unwrap(), Lookup::NotFound);
        assert_eq!(said(&call(&store, A, VN).await), Some(Messages::default().not_bound));
    }

    session_summary_is_recorded_against_the_binding(store) {
        let b = store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
        let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
        let r = client.post(testing::session_summary().session_id("sess-1").build_json()).await;
        assert_eq!(r.status(), 200);
        let r = client
            .post(testing::session_summary().session_id("sess-2").status(SessionStatus::Busy).build_json())
            .await;
        assert_eq!(r.status(), 200);
        let r = client.post(testing::session_summary().session_id("sess-3").error(-2004, "No coverage").build_json()).await;
        assert_eq!(r.status(), 200);
        let calls = store.calls(10).await.unwrap();
        assert_eq!(calls.len(), 3);
        let by_id = |id: &str| calls.iter().find(|c| c.session_id == id).unwrap().clone();
        let s1 = by_id("sess-1");
        assert_eq!(s1.binding_id.as_deref(), Some(b.id.as_str()));
        assert_eq!(s1.status, "COMPLETED");
        assert_eq!(s1.duration_secs, 13);
        assert_eq!(s1.legs.len(), 2);
        assert_eq!(s1.legs[0].key, "callA");
        assert_eq!(s1.legs[1].direction.as_deref(), Some("OUTBOUND"));
        assert_eq!(s1.virtual_number.as_ref().map(PhoneNumber::as_str), Some(VN));
        let s2 = by_id("sess-2");
        assert_eq!(s2.status, "BUSY");
        assert_eq!(s2.legs[1].status.as_deref(), Some("BUSY"));
        let s3 = by_id("sess-3");
        assert_eq!(s3.status, "ERROR");
        assert_eq!(s3.error_code, Some(-2004));
        assert_eq!(s3.error_message.as_deref(), Some("No coverage"));
    }

    repeated_summary_replaces_its_record(store) {
        store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
        let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
        let body = testing::session_summary().session_id("dup").build_json();
        client.post(body.clone()).await;
        client.post(body).await;
        assert_eq!(store.calls(10).await.unwrap().len(), 1);
    }

    summary_of_an_unknown_caller_is_recorded_without_binding(store) {
        let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
        client.post(fixture("vss_nm_success")).await;
        client.post(fixture("vss_nm_failure")).await;
        let calls = store.calls(10).await.unwrap();
        assert_eq!(calls.len(), 2);
        assert!(calls.iter().all(|c| c.binding_id.is_none()));
    }

    later_call_actions_of_a_session_hang_up(store) {
        store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
        let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
        let flow = client.post(testing::call_action().from(A).to(VN).dtmf("1").build_json()).await.callflow();
        assert_eq!(flow.actions(), &[Action::Hangup]);
    }

    documented_8x8_variants_are_routed(store) {
        // The fixtures' numbers: 8x8's NM example and the legacy payloads.
        store.create(NewBinding::new("+65987654321", "+65123456789", B).unwrap()).await.unwrap();
        let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
        let flow = client.post(fixture("vca_nm_inbound")).await.callflow();
        assert_eq!(bridge_target(&flow), Some(("+65987654321".into(), B.into(), None)));
        // The same call with numbers as strings without +, numbers-as-strings drift.
        let drifted = fixture("vca_nm_inbound")
            .replace("\"+65123456789\"", "\"65123456789\"")
            .replace("\"callDuration\": 0", "\"callDuration\": \"0\"");
        let flow = client.post(drifted).await.callflow();
        assert_eq!(bridge_target(&flow), Some(("+65987654321".into(), B.into(), None)));
    }
}

fn fixture(name: &str) -> String {
    callflow::testing::fixtures::get(name).to_owned()
}

/// Two instances of the service: two handles (two connections) on the same server and prefix.
fn two_instances(scratch: &Scratch) -> (Arc<RedisBindingStore>, Arc<RedisBindingStore>) {
    (
        Arc::new(RedisBindingStore::new(&scratch.redis())),
        Arc::new(RedisBindingStore::new(&scratch.redis())),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conflicting_creates_on_two_instances_let_exactly_one_win() {
    let Some(scratch) = Scratch::new("concurrent_conflicting_creates") else {
        return;
    };
    let (one, two) = two_instances(&scratch);
    // 40 attempts to bind party A on the same virtual number, each with another partner,
    // half through each instance, all at once: A may hold one active binding only.
    let mut tasks = Vec::new();
    for i in 0..40u32 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            store
                .create(NewBinding::new(VN, A, &format!("+659600{i:04}")).unwrap())
                .await
        }));
    }
    let mut won = Vec::new();
    let mut ambiguous = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(b) => won.push(b),
            Err(StoreError::Binding(BindingError::Ambiguous { existing, .. })) => {
                ambiguous += 1;
                assert!(!existing.is_empty());
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!((won.len(), ambiguous), (1, 39), "exactly one create wins");
    assert_eq!(one.list().await.unwrap(), won);
    assert_eq!(
        two.lookup(&PhoneNumber::new(VN), &PhoneNumber::new(A))
            .await
            .unwrap(),
        Lookup::Active(won[0].clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_independent_creates_on_two_instances_all_succeed() {
    let Some(scratch) = Scratch::new("concurrent_independent_creates") else {
        return;
    };
    let (one, two) = two_instances(&scratch);
    // Distinct pairs on the same virtual number: no conflict, but they race on the same
    // listing; every one must be stored once.
    let mut tasks = Vec::new();
    for i in 0..30u32 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            store
                .create(
                    NewBinding::new(VN, &format!("+659400{i:04}"), &format!("+659500{i:04}"))
                        .unwrap(),
                )
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let listed = two.list().await.unwrap();
    assert_eq!(listed.len(), 30);
    assert!(
        listed
            .windows(2)
            .all(|w| (w[0].created_at, &w[0].id) <= (w[1].created_at, &w[1].id)),
        "oldest first"
    );
    for i in 0..30u32 {
        let caller = PhoneNumber::new(format!("+659500{i:04}"));
        match one.lookup(&PhoneNumber::new(VN), &caller).await.unwrap() {
            Lookup::Active(b) => assert_eq!(b.parties[0].as_str(), format!("+659400{i:04}")),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binding_created_through_one_instance_is_routed_by_the_other() {
    let Some(scratch) = Scratch::new("created_on_one_routed_by_other") else {
        return;
    };
    let (one, two) = two_instances(&scratch);
    let b = one
        .create(NewBinding::new(VN, A, B).unwrap().record(true))
        .await
        .unwrap();
    let flow = call(&two, A, VN).await;
    assert_eq!(
        bridge_target(&flow),
        Some((VN.into(), B.into(), Some(true)))
    );
    assert_eq!(two.get(&b.id).await.unwrap(), Some(b.clone()));
    // Removed through the second, gone for the first.
    assert!(two.remove(&b.id).await.unwrap());
    assert_eq!(
        said(&call(&one, A, VN).await),
        Some(Messages::default().not_bound)
    );
    assert!(one.list().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_newest_first_limited_and_upserted() {
    let Some(scratch) = Scratch::new("calls_newest_first") else {
        return;
    };
    let store = Arc::new(RedisBindingStore::new(&scratch.redis()));
    let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
    for s in ["s-1", "s-2", "s-3"] {
        client
            .post(testing::session_summary().session_id(s).build_json())
            .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ids = |c: Vec<callflow_masking::CallRecord>| {
        c.into_iter().map(|c| c.session_id).collect::<Vec<_>>()
    };
    assert_eq!(ids(store.calls(10).await.unwrap()), ["s-3", "s-2", "s-1"]);
    assert_eq!(ids(store.calls(2).await.unwrap()), ["s-3", "s-2"]);
    assert!(store.calls(0).await.unwrap().is_empty());
    // A record written again for s-1 (the webhook deduplicates repeated summaries, the
    // store upserts) replaces it and, recorded last, comes first.
    let mut again = store.calls(10).await.unwrap().pop().unwrap();
    assert_eq!(again.session_id, "s-1");
    again.status = "BUSY".into();
    again.recorded_at = now_millis() + 10;
    store.record_call(again).await.unwrap();
    let calls = store.calls(10).await.unwrap();
    assert_eq!(calls.len(), 3);
    assert_eq!(
        (calls[0].session_id.as_str(), calls[0].status.as_str()),
        ("s-1", "BUSY")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_is_a_backend_error_without_phone_numbers() {
    // Nothing listens on this port: every operation fails fast, naming the server only.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = Redis::open(&format!("redis://127.0.0.1:{port}/0")).unwrap();
    let store = RedisBindingStore::new(&redis);
    let started = std::time::Instant::now();
    let err = store
        .lookup(&PhoneNumber::new(VN), &PhoneNumber::new(A))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Backend(_)), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    let err = store
        .create(NewBinding::new(VN, A, B).unwrap())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        !msg.contains("91110001") && !msg.contains("68880000"),
        "{msg}"
    );
}

#[tokio::test]
async fn bad_urls_are_refused_clearly() {
    for url in [
        "http://127.0.0.1:6379",
        "rediss://h:1/0",
        "127.0.0.1:6379",
        "redis://h:notaport/0",
    ] {
        let err = Redis::open(url).unwrap_err().to_string();
        assert!(err.contains("invalid Redis URL"), "{url}: {err}");
    }
    let err = Redis::open("redis://:s3cret@127.0.0.1:6379/x")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("s3cret"), "{err}");
    let r = Redis::open("redis://:s3cret@127.0.0.1:6379/3").unwrap();
    assert_eq!(r.address(), "127.0.0.1:6379/3");
    assert!(!format!("{r:?}").contains("s3cret"));
}
