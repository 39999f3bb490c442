//! A webhook served with `callflow_actix_web::serve_with_shutdown` on `127.0.0.1:0`, on its
//! own thread and actix runtime, and raw HTTP/1.1 over TCP to talk to it.

#![allow(dead_code)] // Each test file uses its own part.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::App;
use callflow::{CallFlow, Webhook, handler_fn};
use callflow_actix_web::ServeConfig;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The webhook's path.
pub const PATH: &str = "/webhooks/voice";
/// The `Authorization` the webhook requires.
pub const AUTH: &str = "Bearer test-secret";

/// A server started by [`start`]; [`stop`](Server::stop) shuts it down gracefully.
pub struct Server {
    pub addr: SocketAddr,
    /// How many times the handler has started.
    started: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::sync::oneshot::Receiver<std::io::Result<()>>,
}

impl Server {
    /// Waits (10 s at most) until the handler has started `runs` times: a request is then
    /// in flight, not merely written to the socket.
    pub async fn handler_started(&self, runs: usize) {
        let waited = Instant::now();
        while self.started.load(Ordering::SeqCst) < runs {
            assert!(
                waited.elapsed() < Duration::from_secs(10),
                "the handler did not start {runs} times"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends the shutdown signal now.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Shuts down and waits (at most 10 s) for `serve_with_shutdown` to return.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        tokio::time::timeout(Duration::from_secs(10), &mut self.done)
            .await
            .expect("the server stops in time")
            .expect("the server thread answers")
            .expect("the server ran");
    }
}

/// Serves a webhook whose `CALL_ACTION` handler takes `delay`, with `config`.
pub fn start(config: ServeConfig, delay: Duration) -> Server {
    let started = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&started);
    let webhook = Webhook::builder(handler_fn(move |_event, _cx| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            tokio::time::sleep(delay).await;
            Ok(CallFlow::builder().say("hello").hangup())
        }
    }))
    .auth_token(AUTH)
    .build();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let result = actix_web::rt::System::new().block_on(async move {
            let factory = move || {
                let webhook = webhook.clone();
                App::new().configure(move |cfg| callflow_actix_web::configure(cfg, PATH, webhook))
            };
            let signal = async move {
                let _ = stop_rx.await;
            };
            callflow_actix_web::serve_with_shutdown(listener, factory, config, signal).await
        });
        let _ = done_tx.send(result);
    });
    Server {
        addr,
        started,
        stop: Some(stop),
        done,
    }
}

/// An authorised `CALL_ACTION` request, keep-alive.
pub fn call_action(addr: SocketAddr, n: usize) -> Vec<u8> {
    let body = callflow::testing::call_action()
        .event_id(&format!("event-{n}"))
        .build_json();
    format!(
        "POST {PATH} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         authorization: {AUTH}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A response as read off the wire: the status line, the headers (names lower-cased).
#[derive(Debug)]
pub struct Head {
    pub status_line: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether it says `Connection: close`.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Reads one response head and its `Content-Length` body.
pub async fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<Head> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status_line = line.trim_end().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let head = Head {
        status_line,
        headers,
    };
    let len: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).await?;
    Ok(head)
}

/// Whether the server ends the connection (EOF or reset) within `limit`.
pub async fn closes_within(reader: &mut BufReader<TcpStream>, limit: Duration) -> bool {
    let mut rest = Vec::new();
    tokio::time::timeout(limit, reader.read_to_end(&mut rest))
        .await
        .is_ok()
}

/// Opens a connection and sends `bytes`.
pub async fn send(addr: SocketAddr, bytes: &[u8]) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    BufReader::new(stream)
}
