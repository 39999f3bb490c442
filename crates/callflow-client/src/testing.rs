//! A test kit (feature `testing`): Stoplight Prism serving 8x8's OpenAPI document on a free
//! 127.0.0.1 port, for suites that check requests against the document itself.
//!
//! The document is 8x8's and is never committed: [`openapi_document`] reads its path from
//! `CALLFLOW_8X8_OPENAPI`; Prism is `tools/prism` of this workspace (`npm ci --prefix
//! tools/prism`) or `CALLFLOW_PRISM`. Without either, [`skip_or_fail`] prints a loud
//! `SKIPPED: …` and the caller returns — except under `CI=true`, where it panics.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Prints `SKIPPED: {reason}` loudly; panics instead when `CI=true`.
pub fn skip_or_fail(reason: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and {reason}");
    }
    eprintln!();
    eprintln!("==================================================================");
    eprintln!("SKIPPED: {reason}");
    eprintln!("  (bash .ci/run installs Prism and sets CALLFLOW_8X8_OPENAPI)");
    eprintln!("==================================================================");
}

/// The path of 8x8's `voice_v1_api.json` from `CALLFLOW_8X8_OPENAPI`, if it is a file
/// (else [`skip_or_fail`] and `None`).
pub fn openapi_document() -> Option<PathBuf> {
    let Some(path) = std::env::var_os("CALLFLOW_8X8_OPENAPI").map(PathBuf::from) else {
        skip_or_fail("CALLFLOW_8X8_OPENAPI is not set (the path of 8x8's voice_v1_api.json)");
        return None;
    };
    if path.is_file() {
        Some(path)
    } else {
        skip_or_fail(&format!(
            "CALLFLOW_8X8_OPENAPI={} is not a file",
            path.display()
        ));
        None
    }
}

/// Prism's executable: `CALLFLOW_PRISM`, else the workspace's `tools/prism` (else
/// [`skip_or_fail`] and `None`).
pub fn prism_binary() -> Option<PathBuf> {
    let path = match std::env::var_os("CALLFLOW_PRISM") {
        Some(p) => PathBuf::from(p),
        None => {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/prism/node_modules/.bin/prism")
        }
    };
    if path.exists() {
        Some(path)
    } else {
        skip_or_fail(&format!(
            "Prism is not installed at {} (npm ci --prefix tools/prism)",
            path.display()
        ));
        None
    }
}

/// Prism mocking a document in `--errors` mode (every request validated) on a free port;
/// killed when dropped.
#[derive(Debug)]
pub struct Prism {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prism {
    /// Prism on 8x8's document, or `None` (SKIPPED, or a panic under `CI=true`) without the
    /// document or Prism.
    pub fn start_or_skip() -> Option<Prism> {
        let doc = openapi_document()?;
        let bin = prism_binary()?;
        Some(Prism::start(&bin, &doc))
    }

    /// Starts `bin mock --errors` on `doc` and waits (90 s at most) until it listens; tries
    /// three ports (a free port may be taken before Prism binds it).
    ///
    /// # Panics
    ///
    /// If Prism does not start, with its log.
    pub fn start(bin: &Path, doc: &Path) -> Prism {
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port on 127.0.0.1")
                .port();
            let mut child = Command::new(bin)
                .args([
                    "mock",
                    "--errors",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .arg(doc)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("Prism starts");
            let log = Arc::new(Mutex::new(Vec::new()));
            let streams: [Option<Box<dyn std::io::Read + Send>>; 2] = [
                child.stdout.take().map(|s| Box::new(s) as _),
                child.stderr.take().map(|s| Box::new(s) as _),
            ];
            for stream in streams.into_iter().flatten() {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                    }
                });
            }
            let mut prism = Prism { child, port, log };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(90) {
                if prism
                    .lines()
                    .iter()
                    .any(|l| l.contains("Prism is listening"))
                {
                    return prism;
                }
                if prism.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            eprintln!(
                "Prism did not start on port {port}:\n{}",
                prism.lines().join("\n")
            );
        }
        panic!("Prism did not start");
    }

    /// Its log so far (stdout and stderr, line by line).
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// [`requests`](Self::requests) once Prism has logged `n` of them, the last one up to
    /// its response (10 s at most): Prism's log reaches the test through a pipe, so the
    /// verdict on the last request can arrive after its response has.
    pub fn logged_requests(&self, n: usize) -> Vec<(String, Vec<String>)> {
        let waited = Instant::now();
        loop {
            let blocks = self.requests();
            let complete = blocks.len() >= n
                && blocks
                    .last()
                    .is_none_or(|(_, l)| l.iter().any(|l| l.contains("Responding with")));
            if complete || waited.elapsed() >= Duration::from_secs(10) {
                return blocks;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The log, cut into one block per request: (method and path, lines).
    pub fn requests(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for line in self.lines() {
            if let Some(rest) = line.split("[HTTP SERVER] ").nth(1)
                && line.contains("Request received")
            {
                let what = rest.split(" ℹ").next().unwrap_or(rest).trim().to_owned();
                out.push((what, Vec::new()));
            } else if let Some((_, lines)) = out.last_mut() {
                lines.push(line);
            }
        }
        out
    }
}
