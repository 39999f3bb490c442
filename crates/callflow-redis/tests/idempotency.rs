//! `RedisIdempotencyStore` against a real Redis server: the store contract, across two
//! instances (two connections on the same server and prefix).
//!
//! Needs `CALLFLOW_TEST_REDIS_URL` (set by `bash .ci/run`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use callflow::idempotency::{Claim, IdempotencyStore, StoredReply};
use callflow_redis::testing::Scratch;
use callflow_redis::{Redis, RedisIdempotencyStore};

const LEASE: Duration = Duration::from_secs(5);
const TTL: Duration = Duration::from_secs(60);

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
    assert_eq!(one.claim("k", LEASE).await.unwrap(), Claim::Claimed);
    assert_eq!(two.claim("k", LEASE).await.unwrap(), Claim::InProgress);
    assert_eq!(one.claim("k", LEASE).await.unwrap(), Claim::InProgress);
    // Another instance's release does not drop the claim.
    two.release("k").await.unwrap();
    assert_eq!(two.claim("k", LEASE).await.unwrap(), Claim::InProgress);
    // The owner's release does: a retry runs the handler.
    one.release("k").await.unwrap();
    assert_eq!(two.claim("k", LEASE).await.unwrap(), Claim::Claimed);
    let answer = StoredReply {
        status: 200,
        body: Bytes::from_static(b"{\"callflow\":[{\"action\":\"hangup\"}]}\x00\xff binary-safe"),
    };
    two.complete("k", &answer, TTL).await.unwrap();
    assert_eq!(
        one.claim("k", LEASE).await.unwrap(),
        Claim::Done(answer.clone())
    );
    // Releasing a completed key does not forget the answer.
    two.release("k").await.unwrap();
    one.release("k").await.unwrap();
    assert_eq!(two.claim("k", LEASE).await.unwrap(), Claim::Done(answer));
    // Statuses other than 200 are kept too.
    assert_eq!(one.claim("ack", LEASE).await.unwrap(), Claim::Claimed);
    let accepted = StoredReply {
        status: 202,
        body: Bytes::new(),
    };
    one.complete("ack", &accepted, TTL).await.unwrap();
    assert_eq!(
        two.claim("ack", LEASE).await.unwrap(),
        Claim::Done(accepted)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_owners_claim_expires_with_its_lease_and_answers_with_their_ttl() {
    let Some(scratch) = Scratch::new("idem_expiry") else {
        return;
    };
    let one = RedisIdempotencyStore::new(&scratch.redis());
    let two = RedisIdempotencyStore::new(&scratch.redis());
    assert_eq!(
        one.claim("k", Duration::from_millis(100)).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(two.claim("k", LEASE).await.unwrap(), Claim::InProgress);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(two.claim("k", LEASE).await.unwrap(), Claim::Claimed);
    two.complete("k", &reply("a"), Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(
        one.claim("k", LEASE).await.unwrap(),
        Claim::Done(reply("a"))
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(one.claim("k", LEASE).await.unwrap(), Claim::Claimed);
    // A zero lease or TTL is clamped to 1 ms rather than refused by Redis.
    assert_eq!(
        two.claim("z", Duration::ZERO).await.unwrap(),
        Claim::Claimed
    );
    two.complete("z", &reply("b"), Duration::ZERO)
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
            tasks.push(tokio::spawn(
                async move { s.claim(&key, LEASE).await.unwrap() },
            ));
        }
        let mut claimed = 0;
        for t in tasks {
            match t.await.unwrap() {
                Claim::Claimed => claimed += 1,
                Claim::InProgress => {}
                Claim::Done(_) => panic!("nobody completed"),
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
    store.claim("event:e-1", LEASE).await.unwrap();
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
        let err = store.claim("k", LEASE).await.unwrap_err();
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
    assert!(store.complete("k", &reply("a"), TTL).await.is_err());
    assert!(store.release("k").await.is_err());
}
