//! What only the SQLite store must prove: a real file, WAL, migrations, restarts, and a
//! second process writing while the first reads.

use std::sync::Arc;
use std::time::Duration;

use callflow::PhoneNumber;
use callflow_masking::testing::sleep_past;
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

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";

fn remove_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

#[tokio::test]
async fn a_deleted_database_refuses_writes_reports_not_ready_and_keeps_bridging() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let store = SqliteStore::open_async(&path).await.unwrap();
    store
        .create(NewBinding::new(VN, A, B).unwrap())
        .await
        .unwrap();
    store.record_call(record("before")).await.unwrap();
    assert!(store.health().await.ready);

    remove_database(&path);
    let err = store.record_call(record("after")).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("deleted"),
        "{msg}"
    );
    let health = store.health().await;
    assert!(!health.ready, "{health:?}");
    assert!(health.detail.contains("deleted"), "{health:?}");
    // Every write is refused, lookups go on from the open file.
    assert!(
        store
            .create(NewBinding::new(VN, "+6593330003", "+6594440004").unwrap())
            .await
            .unwrap_err()
            .is_unavailable()
    );
    assert!(matches!(
        store
            .lookup(&PhoneNumber::new(VN), &PhoneNumber::new(A))
            .await
            .unwrap(),
        Lookup::Active(_)
    ));
    // The path was not recreated behind the operator's back.
    assert!(!path.exists());
}

#[tokio::test]
async fn a_replaced_database_is_noticed_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let store = SqliteStore::open_async(&path).await.unwrap();
    store.record_call(record("before")).await.unwrap();
    // Another database moved over the path (a restore, a deploy script).
    let other = dir.path().join("other.db");
    drop(SqliteStore::open_async(&other).await.unwrap());
    remove_database(&path);
    std::fs::rename(&other, &path).unwrap();
    let err = store.record_call(record("after")).await.unwrap_err();
    assert!(
        err.is_unavailable() && err.to_string().contains("replaced"),
        "{err}"
    );
    let health = store.health().await;
    assert!(
        !health.ready && health.detail.contains("replaced"),
        "{health:?}"
    );
    // Nothing was written into either file.
    let calls = SqliteStore::open_async(&path)
        .await
        .unwrap()
        .calls(10)
        .await
        .unwrap();
    assert!(calls.is_empty(), "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_fails_writes_as_unavailable_and_skips_abandoned_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let store = SqliteStore::open_async(&path).await.unwrap();
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let started = std::time::Instant::now();
    let err = store.record_call(record("locked")).await.unwrap_err();
    let took = started.elapsed();
    assert!(err.is_unavailable(), "{err}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_millis(4000),
        "gave up after {took:?}, not at the 2 s busy timeout"
    );
    // Twenty writes whose callers give up at once: none of them is run once the lock is gone.
    for i in 0..20 {
        let s = store.clone();
        let _ = tokio::time::timeout(
            Duration::from_millis(50),
            s.record_call(record(&format!("abandoned-{i}"))),
        )
        .await
        .unwrap_err();
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    locker.execute_batch("ROLLBACK").unwrap();
    let started = std::time::Instant::now();
    store.record_call(record("after")).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let calls = store.calls(50).await.unwrap();
    let ids: Vec<_> = calls.iter().map(|c| c.session_id.as_str()).collect();
    assert!(ids.len() <= 2 && ids.contains(&"after"), "{ids:?}");
}

#[tokio::test]
async fn a_good_file_is_writable_and_an_unusable_one_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let store = SqliteStore::open_async(&path).await.unwrap();
    store.check_writable().await.unwrap();
    drop(store);
    // The WAL cannot be created (a directory is in its way): refused with the path and cause.
    let wal = dir.path().join("m.db-wal");
    let _ = std::fs::remove_file(&wal);
    std::fs::create_dir(&wal).unwrap();
    let err = SqliteStore::open_async(&path).await.unwrap_err();
    let msg = err.to_string();
    assert!(err.is_unavailable(), "{msg}");
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("unable to open"),
        "{msg}"
    );
}

#[tokio::test]
async fn expired_bindings_are_purged_after_the_grace_a_batch_at_a_time_and_active_ones_never() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_async(dir.path().join("m.db"))
        .await
        .unwrap();
    let vn = PhoneNumber::new("+6568880000");
    // Long enough for five creates on a loaded machine.
    let soon = callflow_masking::now_millis() + 1000;
    let mut expiring = Vec::new();
    for i in 0..3 {
        let new = NewBinding::new(
            "+6568880000",
            &format!("+659111000{i}"),
            &format!("+659222000{i}"),
        )
        .unwrap()
        .expires_at_millis(soon);
        expiring.push(store.create(new).await.unwrap());
    }
    let forever = store
        .create(NewBinding::new("+6568880000", "+6593330001", "+6594440001").unwrap())
        .await
        .unwrap();
    let later = store
        .create(
            NewBinding::new("+6568880000", "+6593330002", "+6594440002")
                .unwrap()
                .ttl(Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    sleep_past(soon).await;
    let now = callflow_masking::now_millis();
    let caller = PhoneNumber::new("+6591110000");

    // Within the grace (expired less than 10 s ago): nothing purged, the caller is told
    // the binding expired.
    assert_eq!(store.purge_expired(now - 10_000, 100).await.unwrap(), 0);
    assert_eq!(
        store.lookup(&vn, &caller).await.unwrap(),
        Lookup::Expired(expiring[0].clone())
    );

    // Past the grace: at most `max` a call.
    assert_eq!(store.purge_expired(now, 2).await.unwrap(), 2);
    assert_eq!(store.purge_expired(now, 2).await.unwrap(), 1);
    assert_eq!(store.purge_expired(now, 2).await.unwrap(), 0);
    for b in &expiring {
        assert_eq!(store.get(&b.id).await.unwrap(), None);
    }
    assert_eq!(store.lookup(&vn, &caller).await.unwrap(), Lookup::NotFound);
    // `list` orders by creation time, then id: two bindings created in the same
    // millisecond come in id order, so compare them sorted.
    let mut left = store.list().await.unwrap();
    left.sort_by(|a, b| a.id.cmp(&b.id));
    let mut kept = vec![forever.clone(), later.clone()];
    kept.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(left, kept);

    // Even a cutoff far in the future leaves a binding without expiry.
    assert_eq!(store.purge_expired(i64::MAX, 100).await.unwrap(), 1);
    assert_eq!(store.list().await.unwrap(), vec![forever]);
}

#[tokio::test]
async fn list_pages_in_sql_are_the_in_memory_pages_for_every_filter_and_cursor() {
    use callflow_masking::BindingFilter;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_async(dir.path().join("m.db"))
        .await
        .unwrap();
    // Long enough for twelve creates on a loaded machine.
    let soon = callflow_masking::now_millis() + 1000;
    for i in 0..12u32 {
        let vn = if i % 3 == 0 {
            "+6568880001"
        } else {
            "+6568880000"
        };
        let mut new =
            NewBinding::new(vn, &format!("+659111{i:04}"), &format!("+659222{i:04}")).unwrap();
        if i % 4 == 0 {
            new = new.expires_at_millis(soon);
        }
        if i % 2 == 0 {
            new = new.reference(format!("order-{}", i % 5));
        }
        store.create(new).await.unwrap();
    }
    sleep_past(soon).await;
    let all = store.list().await.unwrap();
    let mut filters = vec![BindingFilter::default()];
    for active in [Some(true), Some(false)] {
        let mut f = BindingFilter::default();
        f.active = active;
        filters.push(f);
    }
    let mut f = BindingFilter::default();
    f.virtual_number = Some(PhoneNumber::new("+6568880001"));
    filters.push(f.clone());
    f.active = Some(true);
    filters.push(f);
    let mut f = BindingFilter::default();
    f.party = Some(PhoneNumber::new("+6592220004"));
    filters.push(f);
    let mut f = BindingFilter::default();
    f.reference = Some("order-2".into());
    filters.push(f);
    for filter in filters {
        // Walk every page of 2 through the cursor: the same pages as the in-memory default.
        let mut f = filter.clone();
        let mut walked = Vec::new();
        loop {
            let now = callflow_masking::now_millis();
            let page = store.list_page(&f, 2).await.unwrap();
            assert_eq!(page, f.page_of(all.clone(), 2, now), "{filter:?}");
            let Some(last) = page.last() else { break };
            f.after = Some((last.created_at, last.id.clone()));
            walked.extend(page);
        }
        let now = callflow_masking::now_millis();
        assert_eq!(
            walked,
            filter.page_of(all.clone(), usize::MAX, now),
            "{filter:?}"
        );
        assert!(!walked.is_empty(), "{filter:?} selects something");
    }
}
