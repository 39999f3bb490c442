//! The embedded default: a real SQLite file.
//!
//! - WAL mode, so a CLI process and a server process can use the same file at once (readers
//!   never block the writer); `busy_timeout` makes a writer wait for another instead of
//!   failing.
//! - Schema created and migrated on open (`PRAGMA user_version`).
//! - [`lookup`](BindingStore::lookup), the query of every incoming call, runs on the calling
//!   thread on a read-only connection from a small pool: an indexed point query on a WAL
//!   file, a few microseconds, cheaper than the hand-off to another thread (see
//!   BENCHMARKS.md). A WAL reader never waits for a writer; in the rare case SQLite says
//!   the file is busy (recovery after a crash), the lookup goes to the blocking pool like
//!   every other query. [`SqliteStore::inline_reads`] turns this off.
//! - Every other query runs on Tokio's blocking pool, never on the async runtime's threads.
//! - `create` runs in a `BEGIN IMMEDIATE` transaction, so the ambiguity check and the insert
//!   are atomic even across processes.
//! - A query waits at most [`BUSY_TIMEOUT`] (2 s) in all, for the store's connection and
//!   then for another process's write lock: less than the webhook's 4 s deadline, so a
//!   locked file is answered `store_unavailable` in time. A query whose caller has given up
//!   by the time the connection is free, or whose 2 s are spent, is not run at all, so queued
//!   work never piles up behind a lock.
//! - The file is watched: before and after every write, and in [`health`](BindingStore::health),
//!   the store checks that the path still names the file it opened (same device and inode,
//!   link count not 0). A file deleted or replaced while in use is logged as an error, the
//!   store reports not ready, and every later write is refused with
//!   [`StoreErrorKind::Unavailable`] (a write that committed into the lost file is not
//!   acknowledged either) until the process is restarted on a good file. Lookups go on from
//!   the open file, so calls of existing bindings are still bridged.
//! - Expired bindings stay (a caller hears the "expired" message) until
//!   [`SqliteStore::purge_expired`] deletes them, a bounded batch per call in one short write
//!   transaction; a service calls it periodically with its grace period (`number-masking`
//!   every minute, 24 h after expiry by default).
//! - Failures SQLite reports as busy or locked are [`StoreErrorKind::Locked`]; read-only,
//!   full, I/O or cannot-open are [`StoreErrorKind::Unavailable`] (both retryable); a corrupt
//!   file is [`StoreErrorKind::Corrupt`]; others are [`StoreErrorKind::Backend`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use callflow::PhoneNumber;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};

use super::{
    BindingFilter, BindingStore, Health, StoreError, StoreErrorKind, check_conflict, pick,
};
use crate::binding::{Binding, CallRecord, LegRecord, Lookup, NewBinding, now_millis};

/// Schema migrations, applied in order; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: bindings and call records.
    "CREATE TABLE bindings (
        id TEXT PRIMARY KEY,
        virtual_number TEXT NOT NULL,
        party_a TEXT NOT NULL,
        party_b TEXT NOT NULL,
        expires_at INTEGER,
        record INTEGER NOT NULL DEFAULT 0,
        reference TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX bindings_vn_a ON bindings (virtual_number, party_a);
    CREATE INDEX bindings_vn_b ON bindings (virtual_number, party_b);
    CREATE TABLE calls (
        session_id TEXT PRIMARY KEY,
        binding_id TEXT,
        virtual_number TEXT,
        status TEXT NOT NULL,
        duration_secs INTEGER NOT NULL,
        legs TEXT NOT NULL,
        error_code INTEGER,
        error_message TEXT,
        started_at TEXT,
        ended_at TEXT,
        recorded_at INTEGER NOT NULL
    );
    CREATE INDEX calls_recorded_at ON calls (recorded_at);",
    // 2: the purge of expired bindings finds them by expiry; listing pages walk creation
    // order.
    "CREATE INDEX bindings_expires_at ON bindings (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX bindings_created ON bindings (created_at, id);",
];

/// How long a writer waits for another process's write lock before failing: below the
/// webhook's default 4 s deadline, so that the webhook can still answer `store_unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// The least time a query is given to wait for a lock; less left of [`BUSY_TIMEOUT`] after the
/// wait for the connection, and it is not started.
const MIN_BUSY_WAIT: Duration = Duration::from_millis(10);

/// How long [`health`](BindingStore::health) waits for its probe write.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Bindings and call records in a SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    readers: Option<Arc<Readers>>,
    path: PathBuf,
    file: Arc<Watched>,
}

/// The database file as opened: the path must keep naming it.
#[derive(Debug)]
struct Watched {
    path: PathBuf,
    /// Kept open so that its link count can be read after the path is gone.
    file: std::fs::File,
    identity: (u64, u64),
    /// Set, once and for good, when the file was found deleted or replaced.
    lost: OnceLock<String>,
    /// The last write's failure (other than a lock held elsewhere), until a write succeeds.
    write_failed: Mutex<Option<String>>,
}

/// (device, inode) of a file.
#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(unix)]
fn unlinked(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    m.nlink() == 0
}

#[cfg(not(unix))]
fn unlinked(_: &std::fs::Metadata) -> bool {
    false
}

impl Watched {
    fn new(path: &Path) -> Result<Self, StoreError> {
        let file = std::fs::File::open(path)
            .map_err(|e| StoreError::unavailable(format!("cannot open {}: {e}", path.display())))?;
        let identity = identity(&file.metadata().map_err(|e| {
            StoreError::unavailable(format!("cannot read {}: {e}", path.display()))
        })?);
        Ok(Self {
            path: path.to_path_buf(),
            file,
            identity,
            lost: OnceLock::new(),
            write_failed: Mutex::new(None),
        })
    }

    /// Whether the file was already found lost (no system call).
    fn is_lost(&self) -> bool {
        self.lost.get().is_some()
    }

    /// Checks that the path still names the open file (two `stat`s); a lost file is logged
    /// once and stays lost.
    fn check(&self) -> Result<(), StoreError> {
        if let Some(why) = self.lost.get() {
            return Err(StoreError::unavailable(why));
        }
        let what = match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("deleted"),
            Err(e) => {
                return Err(StoreError::unavailable(format!(
                    "cannot check {}: {e}",
                    self.path.display()
                )));
            }
            Ok(m) if identity(&m) != self.identity => Some("replaced by another file"),
            Ok(_) => self
                .file
                .metadata()
                .is_ok_and(|m| unlinked(&m))
                .then_some("deleted"),
        };
        let Some(what) = what else {
            return Ok(());
        };
        let why = format!(
            "database file {} {what} while in use; writes are refused until the server is restarted",
            self.path.display()
        );
        if self.lost.set(why.clone()).is_ok() {
            tracing::error!(path = %self.path.display(), "{why}");
        }
        Err(StoreError::unavailable(why))
    }

    /// Remembers how the last write ended (a lock held elsewhere is no fault of the file).
    fn wrote(&self, result: &Result<impl Sized, StoreError>) {
        let failure = match result {
            Err(e) if e.is_unavailable() && e.kind() != StoreErrorKind::Locked => {
                Some(e.to_string())
            }
            _ => None,
        };
        *self.write_failed.lock().unwrap_or_else(|p| p.into_inner()) = failure;
    }

    fn write_failed(&self) -> Option<String> {
        self.write_failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Idle read-only connections for inline lookups.
#[derive(Debug)]
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Idle read-only connections kept (one per runtime worker that looks up at once, at most).
const MAX_IDLE_READERS: usize = 8;

/// Why an inline read did not answer.
enum ReadError {
    /// SQLite says busy or locked, or cannot open the file (deleted while in use): ask the
    /// writer connection on the blocking pool instead.
    Busy,
    Failed(StoreError),
}

impl Readers {
    fn new(path: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            path,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Never wait on the caller's thread: a busy file goes to the blocking pool.
        conn.busy_timeout(Duration::ZERO)?;
        Ok(conn)
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, ReadError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => self.open().map_err(classify)?,
        };
        let result = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result.map_err(classify)
    }
}

fn classify(e: rusqlite::Error) -> ReadError {
    match e.sqlite_error_code() {
        Some(
            rusqlite::ErrorCode::DatabaseBusy
            | rusqlite::ErrorCode::DatabaseLocked
            | rusqlite::ErrorCode::CannotOpen,
        ) => ReadError::Busy,
        _ => ReadError::Failed(backend(e)),
    }
}

/// A SQLite error as a [`StoreError`]: unavailable when a later attempt may succeed.
fn backend(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    let kind = match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked) => StoreErrorKind::Locked,
        Some(
            C::ReadOnly
            | C::DiskFull
            | C::SystemIoFailure
            | C::CannotOpen
            | C::OutOfMemory
            | C::PermissionDenied,
        ) => StoreErrorKind::Unavailable,
        Some(C::DatabaseCorrupt | C::NotADatabase) => StoreErrorKind::Corrupt,
        _ => StoreErrorKind::Backend,
    };
    StoreError::new(kind, e)
}

/// A failure outside SQLite (a query task that panicked, a value that does not serialize).
fn other(e: impl std::fmt::Display) -> StoreError {
    StoreError::backend(e)
}

/// Prefixes an error with what was done and the file it is about (`cannot open nm.db: …`).
fn in_file(doing: &str, path: &Path, e: StoreError) -> StoreError {
    let p = path.display();
    e.map_message(|m| format!("cannot {doing} {p}: {m}"))
}

/// A write transaction that changes nothing but is committed: proves that the file, its
/// directory (WAL creates `-wal` and `-shm` there) and the disk take writes.
fn probe_write(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    tx.pragma_update(None, "user_version", version)
        .map_err(backend)?;
    tx.commit().map_err(backend)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, switches it to WAL and migrates
    /// the schema. Blocking: call it at start-up, or use [`SqliteStore::open_async`].
    ///
    /// Errors name the file. Opening does not prove the file can be written (a read-only
    /// file can still be read and listed): a server calls [`SqliteStore::check_writable`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = open_writer(&path).map_err(|e| in_file("open", &path, e))?;
        let file = Watched::new(&path)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            readers: Some(Readers::new(path.clone())),
            path,
            file: Arc::new(file),
        })
    }

    /// Commits a write transaction that changes nothing, to prove the store can take writes
    /// (file and directory writable, disk not full). The error names the file and the
    /// cause.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        self.write(probe_write).await.map_err(|e| {
            let e = in_file("write", &self.path, e);
            if e.is_unavailable() {
                e.map_message(|m| format!(
                    "{m} (the file and its directory must be writable: WAL mode creates -wal and -shm files beside it)"
                ))
            } else {
                e
            }
        })
    }

    /// [`SqliteStore::open`] on the blocking pool.
    pub async fn open_async(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        tokio::task::spawn_blocking(move || Self::open(path))
            .await
            .map_err(other)?
    }

    /// Whether [`lookup`](BindingStore::lookup) runs on the calling thread (the default)
    /// or, like every other query, on Tokio's blocking pool. Inline lookups save a thread
    /// hand-off per incoming call (about 14 µs of CPU on a loaded server, see
    /// BENCHMARKS.md); turn them off if the database file may live on a slow or network
    /// file system, where a read can block.
    pub fn inline_reads(mut self, on: bool) -> Self {
        self.readers = on.then(|| Readers::new(self.path.clone()));
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Deletes at most `max` bindings whose expiry is at or before `expired_before` (Unix
    /// milliseconds: now minus the grace period during which a caller still hears the
    /// "expired" message), in one write transaction; returns how many. A binding without
    /// expiry, or expiring later, is never touched. Call records are kept (they name the
    /// binding's id only). Bounded work: with more than `max` to delete, call it again.
    pub async fn purge_expired(
        &self,
        expired_before: i64,
        max: usize,
    ) -> Result<usize, StoreError> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM bindings WHERE rowid IN (SELECT rowid FROM bindings \
                 WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT ?2)",
                params![expired_before, max],
            )
            .map_err(backend)
        })
        .await
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> usize {
        MIGRATIONS.len()
    }

    /// Runs `f` on the connection, on the blocking pool, within [`BUSY_TIMEOUT`] in all. If
    /// the caller has given up (its future was dropped, e.g. at the webhook's deadline) by the
    /// time the connection is free, `f` is not run; if the wait for the connection took the
    /// whole budget, `f` is not run and the store is unavailable.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let queued = std::time::Instant::now();
        tokio::task::spawn_blocking(move || {
            // A panic inside a query cannot leave the connection mid-transaction (rusqlite
            // rolls back on drop), so a poisoned lock is still usable.
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            if tx.is_closed() {
                return;
            }
            let left = BUSY_TIMEOUT.saturating_sub(queued.elapsed());
            let result = if left < MIN_BUSY_WAIT {
                Err(StoreError::new(
                    StoreErrorKind::TimedOut,
                    format!(
                        "database busy: no connection free within {} ms",
                        BUSY_TIMEOUT.as_millis()
                    ),
                ))
            } else {
                c.busy_timeout(left)
                    .map_err(backend)
                    .and_then(|()| f(&mut c))
            };
            let _ = tx.send(result);
        });
        rx.await
            .map_err(|_| other("the query task failed (panicked or the runtime is stopping)"))?
    }

    /// [`run`](Self::run) for a write: refused when the file is lost, and not acknowledged
    /// when the file was lost while it ran.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let file = self.file.clone();
        self.run(move |conn| {
            file.check()?;
            let result = f(conn).and_then(|v| file.check().map(|()| v));
            file.wrote(&result);
            result
        })
        .await
    }
}

/// The read-write connection: WAL, `synchronous = NORMAL`, the schema migrated.
fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(backend)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::backend(format!(
            "cannot use WAL mode (got {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(backend)?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let version: usize = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::backend(format!(
            "database schema version {version} is newer than this program ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(None, "user_version", i + 1)
            .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

macro_rules! binding_columns {
    () => {
        "id, virtual_number, party_a, party_b, expires_at, record, reference, created_at"
    };
}

const BINDING_COLUMNS: &str = binding_columns!();

fn binding_from_row(r: &Row<'_>) -> rusqlite::Result<Binding> {
    Ok(Binding {
        id: r.get(0)?,
        virtual_number: PhoneNumber::new(r.get::<_, String>(1)?),
        parties: [
            PhoneNumber::new(r.get::<_, String>(2)?),
            PhoneNumber::new(r.get::<_, String>(3)?),
        ],
        expires_at: r.get(4)?,
        record: r.get::<_, i64>(5)? != 0,
        reference: r.get(6)?,
        created_at: r.get(7)?,
    })
}

fn call_from_row(r: &Row<'_>) -> rusqlite::Result<CallRecord> {
    let legs: String = r.get(5)?;
    Ok(CallRecord {
        session_id: r.get(0)?,
        binding_id: r.get(1)?,
        virtual_number: r.get::<_, Option<String>>(2)?.map(PhoneNumber::new),
        status: r.get(3)?,
        duration_secs: r.get::<_, i64>(4)?.max(0) as u64,
        legs: serde_json::from_str::<Vec<LegRecord>>(&legs).unwrap_or_default(),
        error_code: r.get(6)?,
        error_message: r.get(7)?,
        started_at: r.get(8)?,
        ended_at: r.get(9)?,
        recorded_at: r.get(10)?,
    })
}

// Two index searches (one per party column) joined by UNION ALL, the second skipping rows
// the first found. Written as one WHERE with an OR, SQLite's planner searches the index on
// the virtual number only and filters every binding of that number (1,000 rows per lookup
// with 1,000,000 bindings over 1,000 numbers); this form stays two point searches.

/// The bindings of a virtual number (`?1`) holding a party (`?2`): the lookup.
const BINDINGS_WITH: &str = concat!(
    "SELECT ",
    binding_columns!(),
    " FROM bindings WHERE virtual_number = ?1 AND party_a = ?2 UNION ALL SELECT ",
    binding_columns!(),
    " FROM bindings WHERE virtual_number = ?1 AND party_b = ?2 AND party_a <> ?2"
);

/// The bindings of a virtual number (`?1`) holding either of two parties (`?2`, `?3`).
const BINDINGS_WITH_EITHER: &str = concat!(
    "SELECT ",
    binding_columns!(),
    " FROM bindings WHERE virtual_number = ?1 AND party_a IN (?2, ?3) UNION ALL SELECT ",
    binding_columns!(),
    " FROM bindings WHERE virtual_number = ?1 AND party_b IN (?2, ?3) \
     AND party_a NOT IN (?2, ?3)"
);

/// The bindings of `vn` that involve one of `party` (one or two numbers).
fn bindings_on_raw(conn: &Connection, vn: &str, party: &[&str]) -> rusqlite::Result<Vec<Binding>> {
    let mut rows = match party {
        [p] => conn
            .prepare_cached(BINDINGS_WITH)?
            .query_map(params![vn, p], binding_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        _ => {
            let (p1, p2) = (party[0], *party.get(1).unwrap_or(&party[0]));
            conn.prepare_cached(BINDINGS_WITH_EITHER)?
                .query_map(params![vn, p1, p2], binding_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        }
    };
    // Sorted here rather than by an ORDER BY: SQLite would build a sorter for a row or two.
    rows.sort_by_key(|b| b.created_at);
    Ok(rows)
}

fn bindings_on(conn: &Connection, vn: &str, party: &[&str]) -> Result<Vec<Binding>, StoreError> {
    bindings_on_raw(conn, vn, party).map_err(backend)
}

impl BindingStore for SqliteStore {
    async fn create(&self, new: NewBinding) -> Result<Binding, StoreError> {
        self.write(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let now = now_millis();
            let existing = bindings_on(
                &tx,
                new.virtual_number.as_str(),
                &[new.parties[0].as_str(), new.parties[1].as_str()],
            )?;
            check_conflict(&existing, &new, now)?;
            let b = new.into_binding(now);
            tx.execute(
                &format!("INSERT INTO bindings ({BINDING_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    b.id,
                    b.virtual_number.as_str(),
                    b.parties[0].as_str(),
                    b.parties[1].as_str(),
                    b.expires_at,
                    b.record as i64,
                    b.reference,
                    b.created_at
                ],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(b)
        })
        .await
    }

    async fn lookup(&self, vn: &PhoneNumber, caller: &PhoneNumber) -> Result<Lookup, StoreError> {
        // A lost file is read through the connection that still has it open, never through a
        // new reader (which would open whatever the path names now).
        if let Some(readers) = self.readers.as_ref().filter(|_| !self.file.is_lost()) {
            match readers.read(|conn| bindings_on_raw(conn, vn.as_str(), &[caller.as_str()])) {
                Ok(candidates) => return Ok(pick(candidates, now_millis())),
                Err(ReadError::Failed(e)) => return Err(e),
                Err(ReadError::Busy) => {}
            }
        }
        let (vn, caller) = (vn.clone(), caller.clone());
        self.run(move |conn| {
            let candidates = bindings_on(conn, vn.as_str(), &[caller.as_str()])?;
            Ok(pick(candidates, now_millis()))
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<Binding>, StoreError> {
        let id = id.to_owned();
        self.run(move |conn| {
            conn.query_row(
                &format!("SELECT {BINDING_COLUMNS} FROM bindings WHERE id = ?1"),
                [id],
                binding_from_row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn list(&self) -> Result<Vec<Binding>, StoreError> {
        self.run(|conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {BINDING_COLUMNS} FROM bindings ORDER BY created_at, id"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map([], binding_from_row).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    /// One indexed query in creation order that stops after `limit` rows.
    async fn list_page(
        &self,
        filter: &BindingFilter,
        limit: usize,
    ) -> Result<Vec<Binding>, StoreError> {
        let f = filter.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {BINDING_COLUMNS} FROM bindings \
                     WHERE (?1 IS NULL OR virtual_number = ?1) \
                     AND (?2 IS NULL OR party_a = ?2 OR party_b = ?2) \
                     AND (?3 IS NULL OR reference = ?3) \
                     AND (?4 IS NULL OR ?4 = (expires_at IS NULL OR expires_at > ?5)) \
                     AND (?6 IS NULL OR (created_at, id) > (?6, ?7)) \
                     ORDER BY created_at, id LIMIT ?8"
                ))
                .map_err(backend)?;
            let (after_t, after_id) = f.after.map_or((None, None), |(t, id)| (Some(t), Some(id)));
            let rows = stmt
                .query_map(
                    params![
                        f.virtual_number.as_ref().map(PhoneNumber::as_str),
                        f.party.as_ref().map(PhoneNumber::as_str),
                        f.reference,
                        f.active,
                        now_millis(),
                        after_t,
                        after_id,
                        limit
                    ],
                    binding_from_row,
                )
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |conn| {
            let n = conn
                .execute("DELETE FROM bindings WHERE id = ?1", [id])
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn record_call(&self, c: CallRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            let legs = serde_json::to_string(&c.legs).map_err(other)?;
            conn.execute(
                "INSERT INTO calls (session_id, binding_id, virtual_number, status, duration_secs,
                    legs, error_code, error_message, started_at, ended_at, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (session_id) DO UPDATE SET
                    binding_id = excluded.binding_id, virtual_number = excluded.virtual_number,
                    status = excluded.status, duration_secs = excluded.duration_secs,
                    legs = excluded.legs, error_code = excluded.error_code,
                    error_message = excluded.error_message, started_at = excluded.started_at,
                    ended_at = excluded.ended_at, recorded_at = excluded.recorded_at",
                params![
                    c.session_id,
                    c.binding_id,
                    c.virtual_number.as_ref().map(PhoneNumber::as_str),
                    c.status,
                    c.duration_secs as i64,
                    legs,
                    c.error_code,
                    c.error_message,
                    c.started_at,
                    c.ended_at,
                    c.recorded_at
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT session_id, binding_id, virtual_number, status, duration_secs, legs,
                        error_code, error_message, started_at, ended_at, recorded_at
                     FROM calls ORDER BY recorded_at DESC, rowid DESC LIMIT ?1",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([limit as i64], call_from_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    /// Ready when the path still names the open file and, if the last write failed, a probe
    /// write now succeeds (within 1 s).
    async fn health(&self) -> Health {
        let name = format!("sqlite:{}", self.path.display());
        if let Err(e) = self.file.check() {
            return Health::not_ready(format!("{name}: {e}"));
        }
        if self.file.write_failed().is_some() {
            match tokio::time::timeout(PROBE_TIMEOUT, self.write(probe_write)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Health::not_ready(format!("{name}: {e}")),
                Err(_) => {
                    return Health::not_ready(format!(
                        "{name}: a probe write did not finish within {} ms",
                        PROBE_TIMEOUT.as_millis()
                    ));
                }
            }
        }
        Health::ready(format!("{name}: file present and writable"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_locked_files_send_the_lookup_to_the_blocking_pool() {
        let busy = |code| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        assert!(matches!(
            classify(busy(rusqlite::ffi::SQLITE_BUSY)),
            ReadError::Busy
        ));
        assert!(matches!(
            classify(busy(rusqlite::ffi::SQLITE_LOCKED)),
            ReadError::Busy
        ));
        assert!(matches!(
            classify(busy(rusqlite::ffi::SQLITE_CORRUPT)),
            ReadError::Failed(_)
        ));
    }

    #[test]
    fn busy_locked_read_only_full_and_io_failures_are_retryable_others_are_not() {
        let err = |code| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        for code in [
            rusqlite::ffi::SQLITE_BUSY,
            rusqlite::ffi::SQLITE_LOCKED,
            rusqlite::ffi::SQLITE_READONLY,
            rusqlite::ffi::SQLITE_FULL,
            rusqlite::ffi::SQLITE_IOERR,
            rusqlite::ffi::SQLITE_CANTOPEN,
        ] {
            assert!(backend(err(code)).is_unavailable(), "code {code}");
        }
        for code in [rusqlite::ffi::SQLITE_BUSY, rusqlite::ffi::SQLITE_LOCKED] {
            assert_eq!(
                backend(err(code)).kind(),
                StoreErrorKind::Locked,
                "code {code}"
            );
        }
        for code in [rusqlite::ffi::SQLITE_CORRUPT, rusqlite::ffi::SQLITE_NOTADB] {
            assert_eq!(
                backend(err(code)).kind(),
                StoreErrorKind::Corrupt,
                "code {code}"
            );
        }
        for code in [
            rusqlite::ffi::SQLITE_CORRUPT,
            rusqlite::ffi::SQLITE_NOTADB,
            rusqlite::ffi::SQLITE_CONSTRAINT,
        ] {
            assert!(!backend(err(code)).is_unavailable(), "code {code}");
        }
    }

    #[test]
    fn lookups_and_conflict_checks_search_both_party_indexes_never_the_whole_virtual_number() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("m.db")).unwrap();
        let conn = store.conn.lock().unwrap();
        for (sql, args) in [
            (BINDINGS_WITH, &["+6568880000", "+6591110001"][..]),
            (
                BINDINGS_WITH_EITHER,
                &["+6568880000", "+6591110001", "+6592220002"][..],
            ),
        ] {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let searches: Vec<&String> = plan.iter().filter(|d| d.starts_with("SEARCH")).collect();
            assert_eq!(searches.len(), 2, "{plan:?}");
            assert!(
                searches[0].contains("bindings_vn_a (virtual_number=? AND party_a=?)"),
                "{plan:?}"
            );
            assert!(
                searches[1].contains("bindings_vn_b (virtual_number=? AND party_b=?)"),
                "{plan:?}"
            );
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn inline_lookups_reuse_a_few_read_only_connections() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("m.db")).unwrap();
        let vn = PhoneNumber::new("+6568880000");
        for _ in 0..20 {
            store
                .lookup(&vn, &PhoneNumber::new("+6591110001"))
                .await
                .unwrap();
        }
        let readers = store.readers.as_ref().unwrap();
        assert_eq!(readers.idle.lock().unwrap().len(), 1);
        // Read-only: a write through a reader connection is refused by SQLite.
        let err = readers
            .read(|c| c.execute("DELETE FROM bindings", []))
            .err()
            .unwrap();
        assert!(matches!(err, ReadError::Failed(_)));
        assert!(store.clone().inline_reads(false).readers.is_none());
    }
}
