//! Every masking rule (`callflow_masking::testing`), against both stores (memory and a real
//! SQLite file, with lookups inline and on the blocking pool), and the handler's own rules.

use std::sync::Arc;

use callflow::testing::{self, TestClient};
use callflow::{PhoneNumber, Webhook, default_fallback};
use callflow_masking::testing::{A, B, VN};
use callflow_masking::{
    Binding, BindingError, BindingStore, CachedStore, CallRecord, Lookup, MaskingHandler,
    MemoryStore, NewBinding, SqliteStore, StoreError,
};

callflow_masking::binding_store_rules!(memory, |_test| Some((Arc::new(MemoryStore::new()), ())));

callflow_masking::binding_store_rules!(sqlite, |_test| {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_async(dir.path().join("m.db"))
        .await
        .unwrap();
    Some((Arc::new(store), dir))
});

callflow_masking::binding_store_rules!(sqlite_blocking_lookups, |_test| {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_async(dir.path().join("m.db"))
        .await
        .unwrap();
    Some((Arc::new(store.inline_reads(false)), dir))
});

// The same rules through the bounded local cache of lookups, over memory and SQLite.
callflow_masking::binding_store_rules!(cached_memory, |_test| {
    let store = CachedStore::new(MemoryStore::new(), std::time::Duration::from_secs(1), 1000);
    Some((Arc::new(store), ()))
});

callflow_masking::binding_store_rules!(cached_sqlite, |_test| {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_async(dir.path().join("m.db"))
        .await
        .unwrap();
    let store = CachedStore::new(store, std::time::Duration::from_secs(1), 1000);
    Some((Arc::new(store), dir))
});

/// A store that always fails, like a database that is down.
struct BrokenStore;

impl BindingStore for BrokenStore {
    async fn create(&self, _: NewBinding) -> Result<Binding, StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn lookup(&self, _: &PhoneNumber, _: &PhoneNumber) -> Result<Lookup, StoreError> {
        Err(StoreError::unavailable("database is locked"))
    }
    async fn get(&self, _: &str) -> Result<Option<Binding>, StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn list(&self) -> Result<Vec<Binding>, StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn remove(&self, _: &str) -> Result<bool, StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn record_call(&self, _: CallRecord) -> Result<(), StoreError> {
        Err(StoreError::unavailable("disk full"))
    }
    async fn calls(&self, _: usize) -> Result<Vec<CallRecord>, StoreError> {
        Err(StoreError::backend("down"))
    }
}

#[tokio::test]
async fn store_failure_gives_the_fallback_callflow_never_dead_air() {
    let client = TestClient::new(Webhook::new(MaskingHandler::new(BrokenStore)));
    let r = client
        .post(testing::call_action().from(A).to(VN).build_json())
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text(), default_fallback().to_json());
}

/// The SESSION_SUMMARY's store write fails, unavailable (the lookup before it works).
struct UnwritableStore(MemoryStore);

impl BindingStore for UnwritableStore {
    async fn create(&self, n: NewBinding) -> Result<Binding, StoreError> {
        self.0.create(n).await
    }
    async fn lookup(&self, vn: &PhoneNumber, c: &PhoneNumber) -> Result<Lookup, StoreError> {
        self.0.lookup(vn, c).await
    }
    async fn get(&self, id: &str) -> Result<Option<Binding>, StoreError> {
        self.0.get(id).await
    }
    async fn list(&self) -> Result<Vec<Binding>, StoreError> {
        self.0.list().await
    }
    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        self.0.remove(id).await
    }
    async fn record_call(&self, r: CallRecord) -> Result<(), StoreError> {
        if r.session_id == "corrupt" {
            return Err(StoreError::backend("malformed database schema"));
        }
        Err(StoreError::unavailable("database or disk is full"))
    }
    async fn calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError> {
        self.0.calls(limit).await
    }
}

#[tokio::test]
async fn an_unwritable_store_answers_summaries_503_store_unavailable_and_counts_them() {
    let handler = MaskingHandler::new(UnwritableStore(MemoryStore::new()));
    let failures = handler.write_failures();
    let client = TestClient::new(Webhook::new(handler));
    for n in 1..=2 {
        let r = client.post(testing::session_summary().build_json()).await;
        assert_eq!(r.status(), 503, "{}", r.text());
        assert_eq!(r.error_code().as_deref(), Some("store_unavailable"));
        assert_eq!(failures.get(), n);
    }
    // A failure no retry fixes stays a 500 (and is counted too).
    let r = client
        .post(
            testing::session_summary()
                .session_id("corrupt")
                .build_json(),
        )
        .await;
    assert_eq!(r.status(), 500);
    assert_eq!(failures.get(), 3);
}

#[test]
fn bindings_refuse_invalid_numbers_and_same_parties() {
    assert!(matches!(
        NewBinding::new(VN, "abc", B),
        Err(BindingError::InvalidNumber(_))
    ));
    assert!(matches!(
        NewBinding::new(VN, "", B),
        Err(BindingError::InvalidNumber(_))
    ));
    assert!(matches!(
        NewBinding::new(VN, A, "+0123456"),
        Err(BindingError::InvalidNumber(_))
    ));
    assert!(matches!(
        NewBinding::new(VN, A, "6591110001"),
        Err(BindingError::SameParties)
    ));
    assert!(matches!(
        NewBinding::new(VN, A, "6568880000"),
        Err(BindingError::PartyIsVirtualNumber)
    ));
    let e = NewBinding::new(VN, "+65 9111 000x", B)
        .unwrap_err()
        .to_string();
    assert!(!e.contains("9111 000"), "error masks the number: {e}");
}

#[test]
fn binding_debug_masks_numbers() {
    let b = format!("{:?}", NewBinding::new(VN, A, B).unwrap());
    assert!(!b.contains("91110001") && !b.contains("92220002"), "{b}");
}

#[tokio::test]
async fn an_outbound_call_a_summary_is_recorded_against_the_bindings_virtual_number() {
    // 8x8's number-masking failure example: callA OUTBOUND from the VN to the party.
    let store = std::sync::Arc::new(MemoryStore::new());
    let b = store
        .create(NewBinding::new("+6568332048", "+6591178965", "+6592220002").unwrap())
        .await
        .unwrap();
    let webhook = callflow::Webhook::new(MaskingHandler::from_arc(store.clone()));
    let body = callflow::testing::fixtures::get("vss_nm_failure");
    let r = webhook
        .dispatch(callflow::WebhookRequest::post_json(body.to_owned()))
        .await;
    assert_eq!(r.status(), 200);
    let calls = store.calls(1).await.unwrap();
    assert_eq!(
        calls[0].virtual_number.as_ref().map(|n| n.as_str()),
        Some("+6568332048")
    );
    assert_eq!(calls[0].binding_id.as_deref(), Some(b.id.as_str()));
    assert_eq!(calls[0].status, "ERROR");
}
