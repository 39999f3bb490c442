//! `RedisBindingStore::lookup` reads the routing index, then only the fields of the bindings
//! it names that make a `Binding`: what it makes of an index that names a hash that is gone
//! and of a hash that is not a binding.
//! Needs `CALLFLOW_TEST_REDIS_URL` (set by `bash .ci/run`).

use callflow::PhoneNumber;
use callflow_masking::testing::{A, B, VN};
use callflow_masking::{BindingStore, Lookup, NewBinding, StoreErrorKind};
use callflow_redis::RedisBindingStore;
use callflow_redis::testing::Scratch;

fn numbers() -> (PhoneNumber, PhoneNumber) {
    (PhoneNumber::new(VN), PhoneNumber::new(A))
}

/// A store on a scratch space holding one binding of A and B, a raw connection to change
/// keys behind its back, and the key of the binding's hash; `None` if the test is skipped.
async fn one_binding(
    test: &str,
) -> Option<(Scratch, RedisBindingStore, redis::Connection, String)> {
    let scratch = Scratch::new(test)?;
    let store = RedisBindingStore::new(&scratch.redis());
    let b = store
        .create(NewBinding::new(VN, A, B).unwrap())
        .await
        .unwrap();
    let conn = scratch.connection();
    let key = format!("{}binding:{}", scratch.prefix, b.id);
    Some((scratch, store, conn, key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indexed_id_whose_hash_is_gone_is_not_a_binding_and_the_next_one_is_found() {
    let Some((_scratch, store, mut conn, key)) = one_binding("lookup_hash_gone").await else {
        return;
    };
    let (vn, a) = numbers();
    // The hash goes (as a purge by key expiry would take it) while the index still names it.
    assert_eq!(
        redis::cmd("DEL").arg(&key).query::<i64>(&mut conn).unwrap(),
        1
    );
    assert_eq!(store.lookup(&vn, &a).await.unwrap(), Lookup::NotFound);
    // A new binding of the same parties is routed, the stale id beside it notwithstanding.
    let new = store
        .create(NewBinding::new(VN, A, B).unwrap())
        .await
        .unwrap();
    assert_eq!(store.lookup(&vn, &a).await.unwrap(), Lookup::Active(new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_that_is_not_a_binding_is_a_corrupt_store_not_a_route() {
    let Some((_scratch, store, mut conn, key)) = one_binding("lookup_corrupt").await else {
        return;
    };
    let (vn, a) = numbers();
    redis::cmd("HDEL")
        .arg(&key)
        .arg("vn")
        .query::<i64>(&mut conn)
        .unwrap();
    let e = store.lookup(&vn, &a).await.unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Corrupt);
    let shown = e.to_string();
    assert!(!shown.contains(A) && !shown.contains(B), "{shown}");
}
