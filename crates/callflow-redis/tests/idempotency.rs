//! `RedisIdempotencyStore` against a real Redis server: the store contract, across two
//! instances (two connections on the same server and prefix).
//!
//! Needs `CALLFLOW_TEST_REDIS_URL` (set by `bash .ci/run`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use callflow::idempotency::{Claim, Fingerprint, IdempotencyStore, StoredReply};
use callflow_redis::testing::Scratch;
use callflow_redis::{Redis, RedisIdempotencyStore};

const LEASE: Duration = Duration::from_secs(5);
const TTL: Duration = Duration::from_secs(60);
/// The fingerprint of the body most tests claim for.
const FP: Fingerprint = Fingerprint::from_bytes([7; Fingerprint::LEN]);

fn reply(body: &'static str) -> StoredReply {
    StoredReply {
        status: 200,
        body: Bytes::from_static(body.as_bytes()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_complete_release_cycle_across_two_instances() {
    let Some(scratch) = Scratch::new("idem_cycle") else {
        return;
    };
    let one = RedisIdempotencyStore::new(&scratch.redis());
    let two = RedisIdempotencyStore::new(&scratch.redis());
    assert_eq!(one.claim("k", &FP, LEASE).await.unwrap(), Claim::Claimed);
    assert_eq!(two.claim("k", &FP, LEASE).await.unwrap(), Claim::InProgress);
    assert_eq!(one.claim("k", &FP, LEASE).await.unwrap(), Claim::InProgress);
    // Another instance's release does not drop the claim.
    two.release("k", &FP).await.unwrap();
    assert_eq!(two.claim("k", &FP, LEASE).await.unwrap(), Claim::InProgress);
    // The owner's release does: a retry runs the handler.
    one.release("k", &FP).await.unwrap();
    assert_eq!(two.claim("k", &FP, LEASE).await.unwrap(), Claim::Claimed);
    let answer = StoredReply {
        status: 200,
        body: Bytes::from_static(b"{\"callflow\":[{\"action\":\"hangup\"}]}\x00\xff binary-safe"),
    };
    two.complete("k", &FP, &answer, TTL).await.unwrap();
    assert_eq!(
        one.claim("k", &FP, LEASE).await.unwrap(),
        Claim::Done(answer.clone())
    );
    // Releasing a completed key does not forget the answer.
    two.release("k", &FP).await.unwrap();
    one.release("k", &FP).await.unwrap();
    assert_eq!(
        two.claim("k", &FP, LEASE).await.unwrap(),
        Claim::Done(answer)
    );
    // Statuses other than 200 are kept too.
    assert_eq!(one.claim("ack", &FP, LEASE).await.unwrap(), Claim::Claimed);
    let accepted = StoredReply {
        status: 202,
        body: Bytes::new(),
    };
    one.complete("ack", &FP, &accepted, TTL).await.unwrap();
    assert_eq!(
        two.claim("ack", &FP, LEASE).await.unwrap(),
        Claim::Done(accepted)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_owners_claim_expires_with_its_lease_and_answers_with_their_ttl() {
    let Some(scratch) = Scratch::new("idem_expiry") else {
        return;
    };
    // Short, but long enough for the next request on a loaded machine (the second
    // instance's first request also connects and loads the script).
    const SHORT: Duration = Duration::from_millis(1000);
    let one = RedisIdempotencyStore::new(&scratch.redis());
    let two = RedisIdempotencyStore::new(&scratch.redis());
    assert_eq!(one.claim("k", &FP, SHORT).await.unwrap(), Claim::Claimed);
    // Redis starts the lease when it runs the claim: timed from its answer, the sleep
    // cannot end before the lease does.
    let claimed = tokio::time::Instant::now();
    assert_eq!(two.claim("k", &FP, LEASE).await.unwrap(), Claim::InProgress);
    tokio::time::sleep_until(claimed + SHORT + Duration::from_millis(100)).await;
    assert_eq!(two.claim("k", &FP, LEASE).await.unwrap(), Claim::Claimed);
    two.complete("k", &FP, &reply("a"), SHORT).await.unwrap();
    let completed = tokio::time::Instant::now();
    assert_eq!(
        one.claim("k", &FP, LEASE).await.unwrap(),
        Claim::Done(reply("a"))
    );
    tokio::time::sleep_until(completed + SHORT + Duration::from_millis(100)).await;
    assert_eq!(one.claim("k", &FP, LEASE).await.unwrap(), Claim::Claimed);
    // A zero lease or TTL is clamped to 1 ms rather than refused by Redis.
    assert_eq!(
        two.claim("z", &FP, Duration::ZERO).await.unwrap(),
        Claim::Claimed
    );
    two.complete("z", &FP, &reply("b"), Duration::ZERO)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_many_simultaneous_claims_on_two_instances_exactly_one_wins() {
    let Some(scratch) = Scratch::new("idem_race") else {
        return;
    };
    let stores = [
        Arc::new(RedisIdempotencyStore::new(&scratch.redis())),
        Arc::new(RedisIdempotencyStore::new(&scratch.redis())),
    ];
    for round in 0..5 {
        let key = format!("event:race-{round}");
        let mut tasks = Vec::new();
        for i in 0..100 {
            let s = stores[i % 2].clone();
            let key = key.clone();
            tasks.push(tokio::spawn(async move {
                s.claim(&key, &FP, LEASE).await.unwrap()
            }));
        }
        let mut claimed = 0;
        for t in tasks {
            match t.await.unwrap() {
                Claim::Claimed => claimed += 1,
                Claim::InProgress => {}
                Claim::Done(_) | Claim::OtherBody => panic!("nobody completed, one body"),
            }
        }
        assert_eq!(claimed, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_live_under_the_prefix() {
    let Some(scratch) = Scratch::new("idem_prefix") else {
        return;
    };
    let store = RedisIdempotencyStore::new(&scratch.redis());
    store.claim("event:e-1", &FP, LEASE).await.unwrap();
    let client = redis::Client::open(scratch.url.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", scratch.prefix))
        .query(&mut conn)
        .unwrap();
    assert_eq!(keys, [format!("{}idem:event:e-1", scratch.prefix)]);
    let ttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut conn).unwrap();
    assert!(
        ttl > 0 && ttl <= 5000,
        "the claim has its lease as TTL: {ttl}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_fails_within_the_bound() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = Redis::open_with(
        &format!("redis://127.0.0.1:{port}/0"),
        "x:",
        Duration::from_millis(300),
    )
    .unwrap();
    let store = RedisIdempotencyStore::new(&redis);
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let err = store.claim("k", &FP, LEASE).await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }
    assert!(store.complete("k", &FP, &reply("a"), TTL).await.is_err());
    assert!(store.release("k", &FP).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_body_on_another_instance_neither_gets_nor_touches_the_record() {
    let Some(scratch) = Scratch::new("idem_other_body") else {
        return;
    };
    let one = RedisIdempotencyStore::new(&scratch.redis());
    let two = RedisIdempotencyStore::new(&scratch.redis());
    let other = Fingerprint::of(b"a stranger's body with the same eventId");
    assert_eq!(one.claim("k", &FP, LEASE).await.unwrap(), Claim::Claimed);
    // While the first runs: other bytes are not told to wait, same bytes are.
    assert_eq!(
        two.claim("k", &other, LEASE).await.unwrap(),
        Claim::OtherBody
    );
    assert_eq!(two.claim("k", &FP, LEASE).await.unwrap(), Claim::InProgress);
    // Releasing for other bytes, even by the claiming instance, leaves the claim.
    one.release("k", &other).await.unwrap();
    two.release("k", &other).await.unwrap();
    assert_eq!(two.claim("k", &FP, LEASE).await.unwrap(), Claim::InProgress);
    let answer = reply("the bound party's callflow");
    one.complete("k", &FP, &answer, TTL).await.unwrap();
    // Done: other bytes still get no answer, and the record still replays for the original.
    assert_eq!(
        two.claim("k", &other, LEASE).await.unwrap(),
        Claim::OtherBody
    );
    two.release("k", &other).await.unwrap();
    assert_eq!(
        two.claim("k", &FP, LEASE).await.unwrap(),
        Claim::Done(answer.clone())
    );
    assert_eq!(
        one.claim("k", &FP, LEASE).await.unwrap(),
        Claim::Done(answer)
    );
}

/// SHA-256 of `abc` (FIPS 180-2's first test vector).
const SHA256_ABC: [u8; 32] = [
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_fingerprint_is_the_bodys_sha256_the_same_in_every_process() {
    let Some(scratch) = Scratch::new("idem_sha256") else {
        return;
    };
    let store = RedisIdempotencyStore::new(&scratch.redis());
    let fp = Fingerprint::of(b"abc");
    assert_eq!(fp.as_bytes(), &SHA256_ABC);
    let client = redis::Client::open(scratch.url.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let get = |conn: &mut redis::Connection, key: &str| -> Vec<u8> {
        redis::cmd("GET")
            .arg(format!("{}idem:{key}", scratch.prefix))
            .query(conn)
            .unwrap()
    };
    store.claim("mine", &fp, LEASE).await.unwrap();
    assert_eq!(
        &get(&mut conn, "mine")[..33],
        [&b"R"[..], &SHA256_ABC].concat()
    );
    store.complete("mine", &fp, &reply("a"), TTL).await.unwrap();
    assert_eq!(
        get(&mut conn, "mine"),
        [&b"D"[..], &SHA256_ABC, b"200a"].concat()
    );
    // A record another process wrote for the same bytes is recognised.
    redis::cmd("SET")
        .arg(format!("{}idem:theirs", scratch.prefix))
        .arg([&b"D"[..], &SHA256_ABC, b"200b"].concat())
        .query::<()>(&mut conn)
        .unwrap();
    assert_eq!(
        store.claim("theirs", &fp, LEASE).await.unwrap(),
        Claim::Done(reply("b"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_written_before_fingerprints_are_treated_as_missing() {
    let Some(scratch) = Scratch::new("idem_old_format") else {
        return;
    };
    let store = RedisIdempotencyStore::new(&scratch.redis());
    let client = redis::Client::open(scratch.url.as_str()).unwrap();
    let mut conn = client.get_connection().unwrap();
    // The value format before fingerprints: `d` + status + body, `r:` + instance token.
    for (key, old) in [
        ("done", &b"d200{\"callflow\":[]}"[..]),
        ("running", b"r:0123456789abcdef"),
    ] {
        let full = format!("{}idem:{key}", scratch.prefix);
        redis::cmd("SET")
            .arg(&full)
            .arg(old)
            .arg("PX")
            .arg(60_000)
            .query::<()>(&mut conn)
            .unwrap();
        assert_eq!(store.claim(key, &FP, LEASE).await.unwrap(), Claim::Claimed);
        let ttl: i64 = redis::cmd("PTTL").arg(&full).query(&mut conn).unwrap();
        assert!(
            ttl > 0 && ttl <= 5000,
            "the claim replaced it, lease as TTL: {ttl}"
        );
        assert_eq!(
            store.claim(key, &FP, LEASE).await.unwrap(),
            Claim::InProgress
        );
    }
}

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Two webhook instances on one Redis: a replayed `eventId` with another caller's body, sent
/// to the other instance, runs the handler and gets its own answer (with a `warn`), while the
/// original bytes still replay the first answer on both.
#[tokio::test(flavor = "current_thread")]
async fn a_replayed_event_id_from_a_stranger_is_not_answered_from_the_shared_store() {
    use callflow::Webhook;
    use callflow::testing::{self, BoundPair, TestClient};

    let Some(scratch) = Scratch::new("idem_stranger") else {
        return;
    };
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // This thread's subscriber; the webhook's warning is logged only by this test here.
    let _guard = tracing::subscriber::set_default(subscriber);

    let handler = Arc::new(BoundPair::default());
    let instance = || {
        let store = RedisIdempotencyStore::new(&scratch.redis());
        TestClient::new(
            Webhook::builder(handler.clone())
                .idempotency_store(Arc::new(store))
                .build(),
        )
    };
    let (one, two) = (instance(), instance());
    let call = testing::call_action().event_id("evt-shared");
    let bound = call.clone().from(testing::CALLER).build_json();
    let stranger = call.from("+6599990009").build_json();

    let first = one.post(bound.clone()).await;
    assert!(first.text().contains(testing::CALLEE), "{}", first.text());
    assert_eq!(two.post(bound.clone()).await.text(), first.text());
    assert_eq!(handler.runs(), 1, "same bytes: replayed");

    let other = two.post(stranger).await;
    assert_eq!(handler.runs(), 2, "other bytes: the handler ran");
    assert_eq!(other.callflow(), BoundPair::stranger_reply());
    assert!(!other.text().contains(testing::CALLEE), "{}", other.text());

    assert_eq!(one.post(bound.clone()).await.text(), first.text());
    assert_eq!(two.post(bound).await.text(), first.text());
    assert_eq!(handler.runs(), 2, "the first record replays");

    let out = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        out.lines().any(|l| l.contains("WARN")
            && l.contains("different body")
            && l.contains("evt-shared")),
        "{out}"
    );
    assert!(
        !out.contains("6599990009") && !out.contains("6591110001"),
        "{out}"
    );
}
