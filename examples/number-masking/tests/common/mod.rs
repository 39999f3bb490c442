//! What the `number-masking` process tests share: the binary, its CLI, and a `serve` process
//! stopped (or killed) at the end.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_number-masking");

/// Runs the CLI with `store` arguments (`--db FILE`, `--store URL`) and `args`.
pub fn cli(store: &[&str], args: &[&str]) -> Output {
    Command::new(BIN)
        .args(store)
        .args(args)
        .output()
        .expect("run number-masking")
}

/// Its stdout, after asserting that it exited 0.
pub fn ok(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `bind` two parties to `vn`; returns the binding id.
pub fn bind(store: &[&str], vn: &str, a: &str, b: &str, extra: &[&str]) -> String {
    let mut args = vec!["bind", "--virtual-number", vn, "--party", a, "--party", b];
    args.extend_from_slice(extra);
    let out = ok(cli(store, &args));
    out.lines()
        .next()
        .and_then(|l| l.strip_prefix("binding "))
        .expect("bind prints `binding <id>` first")
        .trim()
        .to_owned()
}

/// A `serve` process; killed on drop if the test did not stop it. Its stderr (the log) is
/// collected.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// `number-masking STORE… serve --listen 127.0.0.1:0 --framework FRAMEWORK EXTRA…`, once
    /// it listens.
    pub fn start(store: &[&str], framework: &str, extra: &[&str]) -> Server {
        Self::start_with_env(store, framework, extra, &[])
    }

    /// [`start`](Self::start) with environment variables set (e.g. the API keys).
    pub fn start_with_env(
        store: &[&str],
        framework: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut child = Command::new(BIN)
            .envs(env.iter().copied())
            .args(store)
            .args(["serve", "--listen", "127.0.0.1:0", "--framework", framework])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let addr = line
            .strip_prefix("listening on http://")
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line: {line:?}; log: {}",
                    log.lock().unwrap()
                )
            })
            .parse()
            .unwrap();
        Server { child, addr, log }
    }

    /// The webhook's URL.
    pub fn url(&self) -> String {
        format!("http://{}/webhooks/voice", self.addr)
    }

    /// The health endpoint's URL.
    pub fn health_url(&self) -> String {
        format!("http://{}/healthz", self.addr)
    }

    /// `http://ADDR` followed by `path`.
    pub fn at(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, at most `limit` (then panics).
    pub fn wait_exit(&mut self, since: Instant, limit: Duration) -> (Duration, ExitStatus) {
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (since.elapsed(), status);
            }
            assert!(
                since.elapsed() < limit,
                "serve did not exit within {limit:?} of SIGTERM; log: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait: it must exit 0 (within 15 s); returns how long it took.
    pub fn terminate(mut self) -> Duration {
        let started = Instant::now();
        self.sigterm();
        let (took, status) = self.wait_exit(started, Duration::from_secs(15));
        assert!(status.success(), "serve exited with {status:?}");
        took
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client for the tests: no proxy, a 10 s bound on every request.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The body of `GET url`.
pub async fn get_text(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// Posts a `CALL_ACTION` from `from` to `vn` to the webhook at `url`; its callflow (the
/// answer must be 200).
pub async fn call_action(
    http: &reqwest::Client,
    url: &str,
    from: &str,
    vn: &str,
) -> callflow::CallFlow {
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .body(
            callflow::testing::call_action()
                .from(from)
                .to(vn)
                .build_json(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    callflow::CallFlow::parse(&bytes, callflow::callflow::Mode::Reply).unwrap()
}
