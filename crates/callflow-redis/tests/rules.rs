//! Every masking rule of `callflow-masking` (its `testing` suite, the same as for the
//! memory and SQLite stores), against `RedisBindingStore` on a real Redis server, plus what
//! only a shared store must prove: atomic creates across instances and one store seen by
//! all.
//!
//! Needs `CALLFLOW_TEST_REDIS_URL` (set by `bash .ci/run`); each test uses its own key prefix
//! and deletes its keys at the end.

use std::sync::Arc;
use std::time::Duration;

use callflow::testing::{self, TestClient};
use callflow::{PhoneNumber, Webhook};
use callflow_masking::testing::{A, B, VN, bridge_target, call, said};
use callflow_masking::{
    BindingError, BindingStore, CachedStore, Lookup, MaskingHandler, Messages, NewBinding,
    now_millis,
};
use callflow_redis::testing::Scratch;
use callflow_redis::{Redis, RedisBindingStore};

// A fresh key prefix on the shared test server per test (skipped loudly outside CI when
// there is none); the scratch deletes its keys when the test ends.
callflow_masking::binding_store_rules!(redis_rules, |test| {
    let scratch = Scratch::new(test)?;
    Some((Arc::new(RedisBindingStore::new(&scratch.redis())), scratch))
});

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
            Err(e) => match e.binding() {
                Some(BindingError::Ambiguous { existing, .. }) => {
                    ambiguous += 1;
                    assert!(!existing.is_empty());
                }
                _ => panic!("{e}"),
            },
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
async fn unreachable_redis_is_an_unavailable_store_without_phone_numbers() {
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
    assert!(err.is_unavailable(), "{msg}");
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
    let health = store.health().await;
    assert!(!health.ready, "{health:?}");
    assert!(
        health.detail.contains(&format!("127.0.0.1:{port}")),
        "{health:?}"
    );
}

#[tokio::test]
async fn bad_urls_are_refused_clearly() {
    // `rediss://` (TLS) is accepted with the feature `tls` only.
    let tls = if cfg!(feature = "tls") {
        None
    } else {
        Some("rediss://h:1/0")
    };
    for url in [
        "http://127.0.0.1:6379",
        "127.0.0.1:6379",
        "redis://h:notaport/0",
    ]
    .into_iter()
    .chain(tls)
    {
        let err = Redis::open(url).unwrap_err().to_string();
        assert!(err.contains("invalid Redis URL"), "{url}: {err}");
    }
    if cfg!(feature = "tls") {
        assert_eq!(Redis::open("rediss://h:1/0").unwrap().address(), "h:1/0");
    }
    let err = Redis::open("redis://:s3cret@127.0.0.1:6379/x")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("s3cret"), "{err}");
    let r = Redis::open("redis://:s3cret@127.0.0.1:6379/3").unwrap();
    assert_eq!(r.address(), "127.0.0.1:6379/3");
    assert!(!format!("{r:?}").contains("s3cret"));
}

// The same rules through `CachedStore` (the bounded local cache of lookups).
callflow_masking::binding_store_rules!(cached_redis_rules, |test| {
    let scratch = Scratch::new(test)?;
    let store = CachedStore::new(
        RedisBindingStore::new(&scratch.redis()),
        Duration::from_secs(1),
        1000,
    );
    Some((Arc::new(store), scratch))
});

/// The bound of the cache tests: a removal elsewhere is served at most this long after it.
const CACHE_BOUND: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binding_removed_by_another_instance_is_never_served_after_the_cache_bound() {
    let Some(scratch) = Scratch::new("cache_bound_removed_elsewhere") else {
        return;
    };
    let cached = CachedStore::new(RedisBindingStore::new(&scratch.redis()), CACHE_BOUND, 100);
    let other = RedisBindingStore::new(&scratch.redis());
    let b = other
        .create(NewBinding::new(VN, A, B).unwrap())
        .await
        .unwrap();
    let (vn, a) = (PhoneNumber::new(VN), PhoneNumber::new(A));
    assert!(matches!(
        cached.lookup(&vn, &a).await.unwrap(),
        Lookup::Active(_)
    ));
    assert_eq!(cached.len(), 1, "the active binding is cached");
    assert!(other.remove(&b.id).await.unwrap());
    let removed = std::time::Instant::now();
    let mut served_after = Duration::ZERO;
    loop {
        let asked = removed.elapsed();
        match cached.lookup(&vn, &a).await.unwrap() {
            Lookup::Active(_) => {
                assert!(
                    asked < CACHE_BOUND,
                    "a binding removed {asked:?} ago was served (bound {CACHE_BOUND:?})"
                );
                served_after = asked;
            }
            Lookup::NotFound => break,
            other => panic!("unexpected {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Gone soon after the bound (1 s of slack for a loaded machine).
    assert!(removed.elapsed() < CACHE_BOUND + Duration::from_secs(1));
    assert!(served_after < CACHE_BOUND);
    // And it stays gone.
    tokio::time::sleep(CACHE_BOUND).await;
    assert_eq!(cached.lookup(&vn, &a).await.unwrap(), Lookup::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_through_the_cached_store_itself_is_seen_at_once() {
    let Some(scratch) = Scratch::new("cache_own_removal") else {
        return;
    };
    let cached = CachedStore::new(
        RedisBindingStore::new(&scratch.redis()),
        Duration::from_secs(3600),
        100,
    );
    let b = cached
        .create(NewBinding::new(VN, A, B).unwrap())
        .await
        .unwrap();
    let (vn, a, bp) = (
        PhoneNumber::new(VN),
        PhoneNumber::new(A),
        PhoneNumber::new(B),
    );
    assert!(matches!(
        cached.lookup(&vn, &a).await.unwrap(),
        Lookup::Active(_)
    ));
    assert!(matches!(
        cached.lookup(&vn, &bp).await.unwrap(),
        Lookup::Active(_)
    ));
    assert_eq!(cached.len(), 2);
    assert!(cached.remove(&b.id).await.unwrap());
    assert_eq!(cached.lookup(&vn, &a).await.unwrap(), Lookup::NotFound);
    assert_eq!(cached.lookup(&vn, &bp).await.unwrap(), Lookup::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_binding_that_expires_is_answered_expired_by_the_cached_store() {
    let Some(scratch) = Scratch::new("cache_expiry_on_hit") else {
        return;
    };
    let cached = CachedStore::new(
        RedisBindingStore::new(&scratch.redis()),
        Duration::from_secs(3600),
        100,
    );
    // Long enough for the create and a lookup on a loaded machine.
    let expires = now_millis() + 1000;
    cached
        .create(
            NewBinding::new(VN, A, B)
                .unwrap()
                .expires_at_millis(expires),
        )
        .await
        .unwrap();
    let (vn, a) = (PhoneNumber::new(VN), PhoneNumber::new(A));
    assert!(matches!(
        cached.lookup(&vn, &a).await.unwrap(),
        Lookup::Active(_)
    ));
    assert_eq!(cached.len(), 1);
    while now_millis() <= expires {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(matches!(
        cached.lookup(&vn, &a).await.unwrap(),
        Lookup::Expired(_)
    ));
    // Through the handler: the caller hears the expired message, no bridge.
    let flow = call(&Arc::new(cached), A, VN).await;
    assert_eq!(bridge_target(&flow), None);
    assert_eq!(said(&flow), Some(Messages::default().expired));
}
