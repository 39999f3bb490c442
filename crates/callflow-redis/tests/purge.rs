//! `RedisBindingStore::purge_grace`: expired bindings are purged by Redis key expiry after
//! the grace, the "expired" answer holds until then, and `prune_purged` leaves nothing behind.
//! Needs `CALLFLOW_TEST_REDIS_URL` (set by `bash .ci/run`).

use std::time::Duration;

use callflow::PhoneNumber;
use callflow_masking::testing::{A, B, VN};
use callflow_masking::{BindingStore, Lookup, NewBinding, now_millis};
use callflow_redis::RedisBindingStore;
use callflow_redis::testing::Scratch;

const C: &str = "+6593330003";
/// The short-lived binding's life and grace (ms): long enough for a create, then a lookup
/// and a create, on a loaded machine.
const TTL_MS: i64 = 1_000;
const GRACE_MS: i64 = 3_000;

/// A binding of A and B that expires in a minute.
fn for_a_minute() -> NewBinding {
    NewBinding::new(VN, A, B)
        .unwrap()
        .ttl(Duration::from_secs(60))
}

fn pttl(conn: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query(conn).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_binding_answers_expired_during_the_grace_then_is_gone_without_a_trace() {
    let Some(scratch) = Scratch::new("purge_grace") else {
        return;
    };
    let p = &scratch.prefix;
    let store = RedisBindingStore::new(&scratch.redis())
        .purge_grace(Duration::from_millis(GRACE_MS as u64));
    let (vn, a, b) = (
        PhoneNumber::new(VN),
        PhoneNumber::new(A),
        PhoneNumber::new(B),
    );
    let created = now_millis();
    let x = store
        .create(
            NewBinding::new(VN, A, B)
                .unwrap()
                .expires_at_millis(created + TTL_MS),
        )
        .await
        .unwrap();
    let mut conn = scratch.connection();
    let hash_ttl = pttl(&mut conn, &format!("{p}binding:{}", x.id));
    assert!(
        (GRACE_MS..=TTL_MS + GRACE_MS).contains(&hash_ttl),
        "expiry + grace: {hash_ttl}"
    );
    let wait = (created + TTL_MS + 100 - now_millis()).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(wait)).await;

    // Expired, within the grace: the caller is told so, and A may be bound again (forever).
    assert_eq!(
        store.lookup(&vn, &a).await.unwrap(),
        Lookup::Expired(x.clone())
    );
    let y = store
        .create(NewBinding::new(VN, A, C).unwrap())
        .await
        .unwrap();
    assert_eq!(
        store.lookup(&vn, &b).await.unwrap(),
        Lookup::Expired(x.clone())
    );
    assert_eq!(
        pttl(&mut conn, &format!("{p}idx:{VN}:{A}")),
        -1,
        "an index holding a binding that never expires never expires"
    );
    assert!(pttl(&mut conn, &format!("{p}idx:{VN}:{B}")) > 0);
    assert_eq!(pttl(&mut conn, &format!("{p}binding:{}", y.id)), -1);

    // Past expiry + grace: gone for every reader, even before the prune.
    let purge_at = created + TTL_MS + GRACE_MS;
    let wait = (purge_at - now_millis() + 200).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    assert_eq!(store.get(&x.id).await.unwrap(), None);
    assert_eq!(store.lookup(&vn, &b).await.unwrap(), Lookup::NotFound);
    assert_eq!(
        store.lookup(&vn, &a).await.unwrap(),
        Lookup::Active(y.clone())
    );
    assert_eq!(store.list().await.unwrap(), vec![y.clone()]);

    // The prune removes what key expiry cannot (members of shared sets): nothing of x is left.
    assert_eq!(store.prune_purged(100).await.unwrap(), 1);
    assert_eq!(store.prune_purged(100).await.unwrap(), 0);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{p}*"))
        .query(&mut conn)
        .unwrap();
    let mut keys = keys
        .iter()
        .map(|k| k.strip_prefix(p.as_str()).unwrap().to_owned())
        .collect::<Vec<_>>();
    keys.sort();
    let mut expected = vec![
        "bindings".to_owned(),
        format!("binding:{}", y.id),
        format!("idx:{VN}:{A}"),
        format!("idx:{VN}:{C}"),
    ];
    expected.sort();
    assert_eq!(keys, expected);
    let listed: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("{p}bindings"))
        .arg(0)
        .arg(-1)
        .query(&mut conn)
        .unwrap();
    assert_eq!(listed, vec![y.id.clone()]);
    let held: Vec<String> = redis::cmd("SMEMBERS")
        .arg(format!("{p}idx:{VN}:{A}"))
        .query(&mut conn)
        .unwrap();
    assert_eq!(held, vec![y.id.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_binding_leaves_no_purge_entry_and_without_a_grace_nothing_expires() {
    let Some(scratch) = Scratch::new("purge_remove") else {
        return;
    };
    let p = &scratch.prefix;
    let mut conn = scratch.connection();
    let graced = RedisBindingStore::new(&scratch.redis()).purge_grace(Duration::from_secs(3600));
    let x = graced.create(for_a_minute()).await.unwrap();
    assert!(pttl(&mut conn, &format!("{p}binding:{}", x.id)) > 3_600_000);
    assert!(graced.remove(&x.id).await.unwrap());
    let purge: i64 = redis::cmd("EXISTS")
        .arg(format!("{p}purge"))
        .query(&mut conn)
        .unwrap();
    assert_eq!(purge, 0);

    let plain = RedisBindingStore::new(&scratch.redis());
    let y = plain.create(for_a_minute()).await.unwrap();
    assert_eq!(pttl(&mut conn, &format!("{p}binding:{}", y.id)), -1);
    assert_eq!(pttl(&mut conn, &format!("{p}idx:{VN}:{A}")), -1);
    assert_eq!(plain.prune_purged(100).await.unwrap(), 0);
}
