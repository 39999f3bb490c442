//! Test kit (feature `testing`): real Redis servers for tests, never mocks.
//!
//! - [`shared_url`]: the server `bash .ci/run` starts, from [`URL_VAR`]
//!   (`CALLFLOW_TEST_REDIS_URL=redis://127.0.0.1:PORT/`). Unset outside CI: the test is
//!   skipped with a loud message on stderr. Unset in CI (`CI=true`): the test fails.
//! - [`Scratch`]: a unique key prefix on that server for one test; its keys are deleted on
//!   drop, so tests run in parallel without seeing each other.
//! - [`RedisServer`]: a private `redis-server` process on a free loopback port (optionally
//!   persistent), which a test can kill and restart on the same port. Needs `redis-server` on
//!   `PATH`; same skip/fail rule as above.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Redis;

/// The environment variable that holds the shared test server's URL.
pub const URL_VAR: &str = "CALLFLOW_TEST_REDIS_URL";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Prints straight to the process's stderr (not the test harness's captured output), so a
/// skip is seen even when the tests pass.
fn loud(msg: &str) {
    let bar = "!".repeat(78);
    let _ = writeln!(std::io::stderr(), "\n{bar}\n{msg}\n{bar}\n");
}

/// Skips (returns `false` after a loud message) or, in CI, panics.
fn skip_or_fail(test: &str, why: &str, fix: &str) -> bool {
    if in_ci() {
        panic!("{test}: {why}; CI must run the Redis tests ({fix})");
    }
    loud(&format!(
        "SKIPPED {test}: {why}.\n  {fix}\n  (In CI, with CI=true, this is a failure, not a skip.)"
    ));
    false
}

/// The shared test server's URL from [`URL_VAR`], or `None` (after a loud message) when it is
/// unset outside CI. Panics when it is unset in CI.
pub fn shared_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ => {
            skip_or_fail(
                test,
                &format!("{URL_VAR} is not set"),
                &format!(
                    "run `bash .ci/run`, or start redis-server and set {URL_VAR}=redis://127.0.0.1:6379/"
                ),
            );
            None
        }
    }
}

/// Whether `redis-server` can be run; `false` after a loud message outside CI, panics in CI.
pub fn redis_server_available(test: &str) -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found
        || skip_or_fail(
            test,
            "redis-server is not installed",
            "apt-get install -y redis-server (bash .ci/run does it)",
        )
}

/// A prefix no other test (or process) uses: `cftest:{test}:{pid}-{n}-{nanos}:`.
pub fn unique_prefix(test: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "cftest:{test}:{}-{}-{nanos}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Deletes every key under `prefix` (`SCAN` + `DEL`), synchronously.
pub fn delete_prefix(url: &str, prefix: &str) -> redis::RedisResult<usize> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)?;
    for chunk in keys.chunks(500) {
        redis::cmd("DEL").arg(chunk).query::<()>(&mut conn)?;
    }
    Ok(keys.len())
}

/// One test's share of the shared server: a unique prefix, cleaned up on drop.
#[derive(Debug)]
pub struct Scratch {
    /// The server's URL.
    pub url: String,
    /// This test's key prefix.
    pub prefix: String,
}

impl Scratch {
    /// A scratch space on the shared server, or `None` if the test is skipped (see
    /// [`shared_url`]).
    pub fn new(test: &str) -> Option<Self> {
        let url = shared_url(test)?;
        Some(Self {
            url,
            prefix: unique_prefix(test),
        })
    }

    /// A [`Redis`] handle on it (inside a Tokio runtime).
    pub fn redis(&self) -> Redis {
        Redis::open_with(&self.url, &self.prefix, crate::DEFAULT_TIMEOUT)
            .expect("the test Redis URL is valid")
    }

    /// A plain blocking connection to the server, for a test that reads or changes keys
    /// behind the store's back (their names start with [`prefix`](Self::prefix)).
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .and_then(|c| c.get_connection())
            .expect("the test Redis server accepts a connection")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = delete_prefix(&self.url, &self.prefix);
    }
}

/// A private `redis-server` on `127.0.0.1` and a free port, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    persistent: bool,
}

impl RedisServer {
    /// Starts a server that keeps nothing on disk (`--save ''`, no AOF).
    pub fn start() -> std::io::Result<Self> {
        Self::start_with(false)
    }

    /// Starts a server that persists every write before acknowledging it (`--appendonly yes
    /// --appendfsync always`, in a temporary directory), so a kill loses nothing written.
    pub fn start_persistent() -> std::io::Result<Self> {
        Self::start_with(true)
    }

    fn start_with(persistent: bool) -> std::io::Result<Self> {
        let mut last = None;
        for _ in 0..5 {
            let mut s = Self {
                child: None,
                port: free_port()?,
                dir: tempfile::tempdir()?,
                persistent,
            };
            match s.spawn() {
                Ok(()) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("redis-server did not start")))
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let mut cmd = Command::new("redis-server");
        cmd.arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--daemonize", "no", "--save", ""])
            .args(["--protected-mode", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.dir.path().join("redis.log"));
        if self.persistent {
            cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            cmd.args(["--appendonly", "no"]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(std::io::Error::other(format!(
                    "redis-server exited at start ({status}); log: {}",
                    read_log(self.dir.path())
                )));
            }
            if ping(self.port) {
                self.child = Some(child);
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::other("redis-server did not answer PING"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where it keeps its files (AOF, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills the server at once (SIGKILL, like a crash); its port then refuses connections.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and directory (a persistent server reloads its AOF).
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.kill();
        self.spawn()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn ping(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    // `-LOADING` while the AOF is replayed: not ready yet.
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("redis.log"))
        .map(|l| l.lines().rev().take(5).collect::<Vec<_>>().join(" | "))
        .unwrap_or_default()
}
