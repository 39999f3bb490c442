//! `number-masking serve` when its store fails, on every framework, as real processes:
//!
//! - shutdown is bounded whatever the store does: with the SQLite file locked by another
//!   connection (`BEGIN IMMEDIATE`, held 20 s) or Redis stuck (`CLIENT PAUSE`), and 50
//!   `SESSION_SUMMARY`s in flight, SIGTERM ends the process within the 10 s grace + 1 s;
//!   every request gets an answer that is not 2xx unless its record was written, or a closed
//!   connection;
//! - a database deleted while serving: summaries are answered 503 `store_unavailable`,
//!   `/healthz` says 503 and why, calls of existing bindings are still bridged;
//! - a database the server cannot write is refused at start, naming the file and the cause.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use callflow::callflow::{Action, Mode};
use callflow::{CallFlow, testing};
use callflow_redis::testing::{RedisServer, redis_server_available};

mod common;
use common::{Server, bind, cli};

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";
const FRAMEWORKS: [&str; 3] = ["axum", "actix-web", "warp"];

/// The documented bound: the 10 s grace + 1 s.
const EXIT_BOUND: Duration = Duration::from_secs(11);
/// For a loaded machine.
const SLACK: Duration = Duration::from_millis(2500);
/// How long the store stays stuck.
const STUCK_FOR: Duration = Duration::from_secs(20);
const IN_FLIGHT: usize = 50;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The status, or `None` when the connection was closed without an answer.
async fn post(client: &reqwest::Client, url: &str, body: String) -> Option<(u16, String)> {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

async fn health(client: &reqwest::Client, server: &Server) -> (u16, serde_json::Value) {
    let r = client.get(server.health_url()).send().await.unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

fn bridged_to(body: &str) -> Option<String> {
    match CallFlow::parse(body.as_bytes(), Mode::Reply)
        .ok()?
        .actions()
    {
        [Action::MakeCall(m)] => Some(m.destination.as_str().to_owned()),
        _ => None,
    }
}

/// What the in-flight summaries got.
struct Answers {
    /// Session id and answer (`None`: connection closed).
    each: Vec<(String, Option<(u16, String)>)>,
    /// SIGTERM to exit.
    exit_after: Duration,
}

/// Sends [`IN_FLIGHT`] summaries at once, SIGTERMs `server` while they are in flight, and
/// waits for every answer and for the process to exit (which must be 0).
async fn summaries_in_flight_then_sigterm(mut server: Server, label: &str) -> Answers {
    let client = http();
    let mut tasks = Vec::new();
    for i in 0..IN_FLIGHT {
        let session = format!("{label}-{i}-{}", testing::fresh_id());
        let body = testing::session_summary().session_id(&session).build_json();
        let (client, url) = (client.clone(), server.url());
        tasks.push(tokio::spawn(async move {
            let answer = post(&client, &url, body).await;
            (session, answer)
        }));
    }
    // Let them arrive and reach the store, then stop the server.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let signalled = Instant::now();
    server.sigterm();
    let (exit_after, status) = tokio::task::spawn_blocking(move || {
        let r = server.wait_exit(signalled, EXIT_BOUND + SLACK + Duration::from_secs(10));
        drop(server);
        r
    })
    .await
    .unwrap();
    assert!(status.success(), "{label}: serve exited with {status:?}");
    let mut each = Vec::new();
    for t in tasks {
        each.push(t.await.unwrap());
    }
    Answers { each, exit_after }
}

/// Every answer is an error (or the connection closed) unless its record was written.
fn assert_nothing_acknowledged_unwritten(label: &str, answers: &Answers, written: &[String]) {
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    for (session, answer) in &answers.each {
        let key = match answer {
            Some((s, body)) => {
                if (200..300).contains(s) {
                    assert!(
                        written.contains(session),
                        "{label}: {session} answered {s} but not written"
                    );
                } else {
                    assert!(
                        *s == 503 && body.contains("store_unavailable"),
                        "{label}: {s} {body}"
                    );
                }
                format!("{s}")
            }
            None => "closed".into(),
        };
        *tally.entry(key).or_default() += 1;
    }
    eprintln!(
        "{label}: exit {:.2} s after SIGTERM; answers {tally:?}; {} records written",
        answers.exit_after.as_secs_f64(),
        written.len()
    );
    assert!(
        answers.exit_after < EXIT_BOUND + SLACK,
        "{label}: exited {:?} after SIGTERM",
        answers.exit_after
    );
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nm.db");
    (dir, db)
}

fn db_args(db: &Path) -> [&str; 2] {
    ["--db", db.to_str().expect("a UTF-8 temporary path")]
}

fn sessions_on_disk(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT session_id FROM calls").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// One framework: the SQLite file locked by another connection for 20 s.
async fn locked_sqlite(fw: &'static str) {
    let (_dir, db) = temp_db();
    bind(&db_args(&db), VN, A, B, &[]);
    let server = Server::start(&db_args(&db), fw, &[]);
    let client = http();
    assert_eq!(health(&client, &server).await.0, 200);
    let locker = rusqlite::Connection::open(&db).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let locked = Instant::now();
    // Calls are still bridged while the file is locked (lookups only read).
    let (s, body) = post(
        &client,
        &server.url(),
        testing::call_action().from(A).to(VN).build_json(),
    )
    .await
    .unwrap();
    assert_eq!((s, bridged_to(&body)), (200, Some(B.into())), "{fw}");

    let answers = summaries_in_flight_then_sigterm(server, &format!("sqlite/{fw}")).await;
    tokio::time::sleep(STUCK_FOR.saturating_sub(locked.elapsed())).await;
    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);
    assert_nothing_acknowledged_unwritten(
        &format!("sqlite/{fw}"),
        &answers,
        &sessions_on_disk(&db),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_with_the_sqlite_file_locked_exits_within_the_grace_on_every_framework() {
    // The three frameworks at once: the lock is held for 20 s in each.
    let runs: Vec<_> = FRAMEWORKS
        .iter()
        .map(|fw| tokio::spawn(locked_sqlite(fw)))
        .collect();
    for r in runs {
        r.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_with_redis_stuck_exits_within_the_grace_on_every_framework() {
    if !redis_server_available("sigterm_with_redis_stuck") {
        return;
    }
    // A private server: the test pauses it, which must never happen to a shared one.
    let redis_server = RedisServer::start().unwrap();
    let url = redis_server.url();
    let mut admin = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let mut servers = Vec::new();
    for fw in FRAMEWORKS {
        let prefix = format!("stuck:{fw}:");
        let store = ["--store", url.as_str(), "--redis-prefix", prefix.as_str()];
        bind(&store, VN, A, B, &[]);
        servers.push((fw, prefix.clone(), Server::start(&store, fw, &[])));
    }
    let client = http();
    for (fw, _, server) in &servers {
        assert_eq!(health(&client, server).await.0, 200, "{fw}");
    }
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(STUCK_FOR.as_millis() as u64)
        .arg("ALL")
        .query(&mut admin)
        .unwrap();
    let paused = Instant::now();
    let (_, _, first) = &servers[0];
    let (s, body) = health(&client, first).await;
    assert_eq!(s, 503, "health tells Redis is stuck: {body}");
    let runs: Vec<_> = servers
        .into_iter()
        .map(|(fw, prefix, server)| {
            tokio::spawn(async move {
                let answers =
                    summaries_in_flight_then_sigterm(server, &format!("redis/{fw}")).await;
                (fw, prefix, answers)
            })
        })
        .collect();
    let mut results = Vec::new();
    for r in runs {
        results.push(r.await.unwrap());
    }
    tokio::time::sleep(STUCK_FOR.saturating_sub(paused.elapsed())).await;
    let _: () = redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query(&mut admin)
        .unwrap();
    for (fw, prefix, answers) in results {
        let store = ["--store", url.as_str(), "--redis-prefix", prefix.as_str()];
        let calls = common::ok(cli(&store, &["calls", "--limit", "1000"]));
        let written: Vec<String> = answers
            .each
            .iter()
            .map(|(s, _)| s.clone())
            .filter(|s| calls.contains(s.as_str()))
            .collect();
        assert_nothing_acknowledged_unwritten(&format!("redis/{fw}"), &answers, &written);
    }
}

fn remove_database(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_database_answers_summaries_503_and_healthz_says_so_on_every_framework() {
    for fw in FRAMEWORKS {
        let (_dir, db) = temp_db();
        bind(&db_args(&db), VN, A, B, &[]);
        let server = Server::start(&db_args(&db), fw, &[]);
        let client = http();
        let summary = || testing::session_summary().build_json();
        assert_eq!(
            post(&client, &server.url(), summary()).await.unwrap().0,
            200
        );

        remove_database(&db);
        let deleted = Instant::now();
        let (s, body) = post(&client, &server.url(), summary()).await.unwrap();
        assert_eq!(s, 503, "{fw}: {body}");
        assert!(body.contains("store_unavailable"), "{fw}: {body}");
        assert!(deleted.elapsed() < Duration::from_secs(3), "{fw}");
        let (s, h) = health(&client, &server).await;
        assert_eq!(s, 503, "{fw}: {h}");
        assert_eq!(h["status"], "unavailable", "{fw}: {h}");
        let detail = h["store"]["detail"].as_str().unwrap();
        assert!(
            detail.contains("deleted") && detail.contains("nm.db"),
            "{fw}: {h}"
        );
        assert_eq!(h["write_failures"], 1, "{fw}: {h}");
        // Calls of existing bindings are still bridged from the open file.
        let (s, body) = post(
            &client,
            &server.url(),
            testing::call_action().from(A).to(VN).build_json(),
        )
        .await
        .unwrap();
        assert_eq!((s, bridged_to(&body)), (200, Some(B.into())), "{fw}");
        let log = server.log();
        assert!(
            log.contains("ERROR")
                && log.contains("deleted")
                && log.contains(&db.display().to_string()),
            "{fw}: {log}"
        );
        assert!(!log.contains("91110001"), "{fw}: numbers masked in the log");
        server.terminate();
        assert!(!db.exists(), "{fw}: the server recreated the file");
    }
}

/// `serve` on `db`, as a user who cannot write it when the tests run as root (root writes
/// anything); returns the exit code and stderr.
fn serve_as_unprivileged(db: &Path) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    // The binary's own path may not be reachable by that user (a checkout under a `mktemp -d`
    // directory, mode 0700): it runs a copy in a directory anyone can enter.
    let bin_dir = tempfile::tempdir().unwrap();
    let bin = bin_dir.path().join("number-masking");
    let mut cmd = if is_root() {
        std::fs::copy(common::BIN, &bin).unwrap();
        chmod(bin_dir.path(), 0o755);
        chmod(&bin, 0o755);
        let mut cmd = Command::new(&bin);
        cmd.uid(65534).gid(65534);
        cmd
    } else {
        Command::new(common::BIN)
    };
    cmd.args(db_args(db))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdin(std::process::Stdio::null());
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "serve started on an unwritable database: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn serve_refuses_a_read_only_database_or_directory_naming_the_file_and_cause() {
    // A read-only file in a writable directory: SQLite opens it read-only without a word.
    let (dir, db) = temp_db();
    bind(&db_args(&db), VN, A, B, &[]);
    chmod(dir.path(), 0o777);
    chmod(&db, 0o444);
    let (code, err) = serve_as_unprivileged(&db);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&db.display().to_string()) && err.contains("readonly"),
        "names the file and the cause: {err}"
    );
    // A writable file in a read-only directory: WAL cannot create its -wal and -shm files.
    let (dir, db) = temp_db();
    bind(&db_args(&db), VN, A, B, &[]);
    chmod(&db, 0o666);
    chmod(dir.path(), 0o555);
    let (code, err) = serve_as_unprivileged(&db);
    chmod(dir.path(), 0o755);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&db.display().to_string()),
        "names the file: {err}"
    );
    assert!(
        err.contains("readonly") || err.contains("unable to open"),
        "{err}"
    );
}
