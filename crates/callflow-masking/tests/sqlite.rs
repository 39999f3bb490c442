//! What only the SQLite store must prove: a real file, WAL, migrations, restarts, and a
//! second process writing while the first reads.

use std::sync::Arc;
use std::time::Duration;

use callflow::PhoneNumber;
use callflow_masking::{BindingStore, CallRecord, LegRecord, Lookup, NewBinding, SqliteStore};

fn record(session: &str) -> CallRecord {
    CallRecord {
        session_id: session.into(),
        binding_id: None,
        virtual_number: Some(PhoneNumber::new("+6568880000")),
        status: "COMPLETED".into(),
        duration_secs: 42,
        legs: vec![LegRecord {
            key: "callA".into(),
            direction: Some("INBOUND".into()),
            status: Some("COMPLETED".into()),
            duration_secs: Some(42),
        }],
        error_code: None,
        error_message: None,
        started_at: Some("2024-03-25T06:01:30Z".into()),
        ended_at: None,
        recorded_at: callflow_masking::now_millis(),
    }
}

#[tokio::test]
async fn database_is_a_wal_file_with_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let store = SqliteStore::open_async(&path).await.unwrap();
    store
        .create(NewBinding::new("+6568880000", "+6591110001", "+6592220002").unwrap())
        .await
        .unwrap();
    assert!(path.exists());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, store.schema_version());
}

#[tokio::test]
async fn reopening_keeps_bindings_and_call_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let b = {
        let store = SqliteStore::open_async(&path).await.unwrap();
        store.record_call(record("s-1")).await.unwrap();
        store
            .create(
                NewBinding::new("+6568880000", "+6591110001", "+6592220002")
                    .unwrap()
                    .record(true)
                    .reference("order-7")
                    .ttl(Duration::from_secs(3600)),
            )
            .await
            .unwrap()
    };
    let store = SqliteStore::open_async(&path).await.unwrap();
    assert_eq!(store.list().await.unwrap(), vec![b.clone()]);
    let calls = store.calls(10).await.unwrap();
    assert_eq!(
        calls,
        vec![record("s-1")]
            .into_iter()
            .map(|mut r| {
                r.recorded_at = calls[0].recorded_at;
                r
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        store
            .lookup(
                &PhoneNumber::new("+6568880000"),
                &PhoneNumber::new("+6592220002")
            )
            .await
            .unwrap(),
        Lookup::Active(b)
    );
}

#[tokio::test]
async fn a_newer_schema_is_refused_not_clobbered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteStore::open_async(&path)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("newer"), "{err}");
}

#[tokio::test]
async fn unopenable_path_is_a_clear_error() {
    let err = SqliteStore::open_async("/nonexistent-dir/sub/m.db")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot open") && err.contains("/nonexistent-dir/sub/m.db"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_connection_writes_while_the_first_reads() {
    // Two stores on one file = two connections, as a CLI process and a server have.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let server = Arc::new(SqliteStore::open_async(&path).await.unwrap());
    let cli = SqliteStore::open_async(&path).await.unwrap();
    let vn = PhoneNumber::new("+6568880000");

    let reader = {
        let server = server.clone();
        let vn = vn.clone();
        tokio::spawn(async move {
            let mut lookups = 0;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let found = server
                    .lookup(&vn, &PhoneNumber::new("+6590000199"))
                    .await
                    .unwrap();
                lookups += 1;
                if matches!(found, Lookup::Active(_)) {
                    return lookups;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "writer's last binding never became visible"
                );
            }
        })
    };
    for i in 0..200 {
        cli.create(
            NewBinding::new(
                "+6568880000",
                &format!("+65900{:05}", i),
                &format!("+65910{:05}", i),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    }
    let lookups = reader.await.unwrap();
    assert!(lookups >= 1);
    assert_eq!(server.list().await.unwrap().len(), 200);
}
