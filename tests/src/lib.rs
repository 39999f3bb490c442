//! End-to-end harness for the callflow workspace: real servers of each web framework on
//! `127.0.0.1:0`, and the clients (an HTTP client, and raw TCP for chunked uploads and
//! keep-alive checks) that run [`callflow::testing::conformance`] cases against them.
//!
//! It also starts servers the way production runs them, with each adapter's `serve` helper
//! (timeouts, connection cap, graceful shutdown: [`serve_guarded`]), and holds the shared
//! robustness case list ([`robustness`]).
//!
//! The tests themselves are in `tests/tests/`.

pub mod robustness;

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use bytes::Bytes;
use callflow::Webhook;
use callflow::adapter::{ContextExtensions, PeerAddr};
use callflow::testing::conformance::{self, Case, Observed, Transport};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tower_http::add_extension::AddExtensionLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_layer::Layer;
use warp::Filter;

/// How long any one exchange with a test server may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How soon a server must close a connection whose upload it refused part-way.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// The web frameworks with a callflow adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framework {
    /// `callflow-axum`.
    Axum,
    /// `callflow-actix-web`.
    ActixWeb,
    /// `callflow-warp`.
    Warp,
    /// No framework: the core's tower `Service` behind tower-http layers (`TraceLayer`,
    /// `RequestBodyTimeoutLayer`), served by plain hyper (`callflow-hyper-serve`'s loop).
    TowerHttp,
}

impl Framework {
    /// Every framework with an adapter crate.
    pub const ALL: [Framework; 3] = [Framework::Axum, Framework::ActixWeb, Framework::Warp];

    /// Every stack the conformance suite runs on: the three adapters and the bare `Service`.
    pub const STACKS: [Framework; 4] = [
        Framework::Axum,
        Framework::ActixWeb,
        Framework::Warp,
        Framework::TowerHttp,
    ];

    /// The framework's name.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Axum => "axum",
            Framework::ActixWeb => "actix-web",
            Framework::Warp => "warp",
            Framework::TowerHttp => "tower-http",
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The suite's [`conformance::STAMP`] in a [`ContextExtensions`], for the stacks whose
/// framework hands values on that way (actix-web, warp).
fn stamped() -> ContextExtensions {
    let mut values = http::Extensions::new();
    values.insert(conformance::STAMP);
    ContextExtensions(values)
}

/// Serves `webhook` at [`conformance::PATH`] with `framework`'s adapter, the way the
/// adapter's README mounts it, behind a layer or middleware that adds the suite's
/// [`conformance::STAMP`] request extension; returns the server's address.
pub async fn serve(framework: Framework, webhook: Webhook) -> SocketAddr {
    match framework {
        Framework::Axum => {
            let app = axum::Router::new()
                .route(conformance::PATH, callflow_axum::route(webhook))
                .layer(axum::Extension(conformance::STAMP));
            serve_axum(app).await
        }
        Framework::ActixWeb => serve_actix(move |cfg| {
            use actix_web::HttpMessage;
            use actix_web::dev::Service;
            let resource = callflow_actix_web::resource(conformance::PATH, webhook.clone())
                .wrap_fn(|req, service| {
                    req.extensions_mut().insert(stamped());
                    service.call(req)
                });
            cfg.service(resource);
        }),
        Framework::Warp => {
            let path = warp::path!("webhooks" / "voice");
            let service = warp::service(path.and(callflow_warp::filter(webhook)));
            let service = AddExtensionLayer::new(stamped()).layer(service);
            serve_hyper(service, callflow_warp::PeerAddr).await
        }
        Framework::TowerHttp => {
            // Tracing, a request body timeout (longer than the suite's, so it never fires
            // first), and the stamp as a plain request extension.
            let service = RequestBodyTimeoutLayer::new(Duration::from_secs(30)).layer(webhook);
            let service = AddExtensionLayer::new(conformance::STAMP).layer(service);
            serve_hyper(TraceLayer::new_for_http().layer(service), PeerAddr).await
        }
    }
}

/// Serves a tower `Service` with plain hyper on `127.0.0.1:0` (the guarded loop of
/// `callflow-hyper-serve`, default settings), each request carrying `peer(addr)`.
pub async fn serve_hyper<S, B, P>(service: S, peer: fn(SocketAddr) -> P) -> SocketAddr
where
    S: tower_service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    P: Clone + Send + Sync + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let config = callflow::serve::ServeConfig::default();
    tokio::spawn(callflow_hyper_serve::serve_http1(
        listener,
        service,
        peer,
        config,
        std::future::pending(),
    ));
    addr
}

/// Serves an axum app (with `ConnectInfo<SocketAddr>`) on `127.0.0.1:0` in the current Tokio
/// runtime.
pub async fn serve_axum(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    addr
}

/// Serves a warp filter on `127.0.0.1:0` in the current Tokio runtime.
pub async fn serve_warp<F>(filter: F) -> SocketAddr
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(warp::serve(filter).incoming(listener).run());
    addr
}

/// Serves an actix-web app made by `configure` on `127.0.0.1:0`, with one worker, on its own
/// thread and actix runtime (it lives until the test process exits).
pub fn serve_actix<F>(configure: F) -> SocketAddr
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                let configure = configure.clone();
                App::new().configure(move |cfg| configure(cfg))
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run()
            .await
        })
    });
    addr
}

/// The guards of a server started with [`serve_guarded`], translated into each adapter's
/// `ServeConfig`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guards {
    /// `ServeConfig::header_read_timeout`.
    pub header_read_timeout: Duration,
    /// `ServeConfig::body_read_timeout`.
    pub body_read_timeout: Duration,
    /// `ServeConfig::max_connections` (per worker on actix-web, which runs one here).
    pub max_connections: usize,
    /// `ServeConfig::grace_period`.
    pub grace_period: Duration,
}

impl Default for Guards {
    /// Short timeouts, so that the suite stays fast: 1 s for the head and for the body, a
    /// grace period of 1 s, the adapters' default connection cap.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(1),
            body_read_timeout: Duration::from_secs(1),
            max_connections: callflow_axum::DEFAULT_MAX_CONNECTIONS,
            grace_period: Duration::from_secs(1),
        }
    }
}

/// The path of the app's own route next to the webhook in [`serve_guarded`] servers
/// (`GET` only, answers `ok`).
pub const HEALTH_PATH: &str = "/health";

/// A server started by [`serve_guarded`]. Dropping it stops it (gracefully).
#[derive(Debug)]
pub struct GuardedServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::sync::oneshot::Receiver<std::io::Result<()>>>,
}

impl GuardedServer {
    /// Sends the shutdown signal now; [`stopped`](Self::stopped) waits for the end.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits (at most `limit`) for the adapter's `serve` to return; `Err` if it did not, or
    /// if it failed.
    pub async fn stopped(&mut self, limit: Duration) -> Result<(), String> {
        let Some(done) = self.done.take() else {
            return Ok(());
        };
        match tokio::time::timeout(limit, done).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(format!("serve failed: {e}")),
            Ok(Err(_)) => Err("the server task ended without an answer".into()),
            Err(_) => Err(format!("serve did not return within {limit:?}")),
        }
    }

    /// Stops the server and waits for it (at most 5 s).
    pub async fn shutdown(mut self) -> Result<(), String> {
        self.begin_shutdown();
        self.stopped(Duration::from_secs(5)).await
    }
}

impl Drop for GuardedServer {
    fn drop(&mut self) {
        self.begin_shutdown();
    }
}

/// Serves `webhook` at [`conformance::PATH`], next to a `GET` [`HEALTH_PATH`] route, with
/// `framework`'s `serve_with_shutdown` helper guarded by `guards`, on `127.0.0.1:0`.
/// axum and warp run in the current Tokio runtime; actix-web on its own thread and runtime,
/// with one worker.
pub async fn serve_guarded(
    framework: Framework,
    webhook: Webhook,
    guards: Guards,
) -> GuardedServer {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let signal = async move {
        let _ = stop_rx.await;
    };
    let addr = match framework {
        Framework::Axum => {
            let config = callflow_axum::ServeConfig::default()
                .header_read_timeout(guards.header_read_timeout)
                .body_read_timeout(guards.body_read_timeout)
                .max_connections(guards.max_connections)
                .grace_period(guards.grace_period);
            let app = axum::Router::new()
                .route(HEALTH_PATH, axum::routing::get(|| async { "ok" }))
                .route(conformance::PATH, callflow_axum::route(webhook));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1:0");
            let addr = listener.local_addr().expect("local address");
            tokio::spawn(async move {
                let result =
                    callflow_axum::serve_with_shutdown(listener, app, config, signal).await;
                let _ = done_tx.send(result);
            });
            addr
        }
        Framework::Warp => {
            let config = callflow_warp::ServeConfig::default()
                .header_read_timeout(guards.header_read_timeout)
                .body_read_timeout(guards.body_read_timeout)
                .max_connections(guards.max_connections)
                .grace_period(guards.grace_period);
            let health = warp::path!("health").and(warp::get()).map(|| "ok");
            let voice = warp::path!("webhooks" / "voice").and(callflow_warp::filter(webhook));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1:0");
            let addr = listener.local_addr().expect("local address");
            tokio::spawn(async move {
                let result =
                    callflow_warp::serve_with_shutdown(listener, health.or(voice), config, signal)
                        .await;
                let _ = done_tx.send(result);
            });
            addr
        }
        Framework::ActixWeb => {
            let config = callflow_actix_web::ServeConfig::default()
                .header_read_timeout(guards.header_read_timeout)
                .body_read_timeout(guards.body_read_timeout)
                .max_connections(guards.max_connections)
                .grace_period(guards.grace_period)
                .workers(1);
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            let addr = listener.local_addr().expect("local address");
            std::thread::spawn(move || {
                let result = actix_web::rt::System::new().block_on(async move {
                    let factory = move || {
                        let webhook = webhook.clone();
                        App::new()
                            .service(
                                web::resource(HEALTH_PATH).route(web::get().to(|| async { "ok" })),
                            )
                            .configure(move |cfg| {
                                callflow_actix_web::configure(cfg, conformance::PATH, webhook)
                            })
                    };
                    callflow_actix_web::serve_with_shutdown(listener, factory, config, signal).await
                });
                let _ = done_tx.send(result);
            });
            addr
        }
        Framework::TowerHttp => {
            let config = callflow::serve::ServeConfig::default()
                .header_read_timeout(guards.header_read_timeout)
                .body_read_timeout(guards.body_read_timeout)
                .max_connections(guards.max_connections)
                .grace_period(guards.grace_period);
            let service = RequestBodyTimeoutLayer::new(Duration::from_secs(30)).layer(webhook);
            let service = TraceLayer::new_for_http().layer(service);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1:0");
            let addr = listener.local_addr().expect("local address");
            tokio::spawn(async move {
                let result =
                    callflow_hyper_serve::serve_http1(listener, service, PeerAddr, config, signal)
                        .await;
                let _ = done_tx.send(result);
            });
            addr
        }
    };
    GuardedServer {
        addr,
        stop: Some(stop_tx),
        done: Some(done_rx),
    }
}

/// An HTTP client that never uses a proxy (the servers are on loopback).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(IO_TIMEOUT)
        .build()
        .expect("HTTP client")
}

/// Runs one case against the server at `addr` over the wire the case asks for.
pub async fn run_case(client: &reqwest::Client, addr: SocketAddr, case: &Case) -> Observed {
    match case.transport {
        Transport::Chunked(chunk) => raw_chunked(addr, case, chunk).await,
        Transport::KeepAlive => raw_keep_alive(addr, case).await,
        Transport::ExpectContinue => raw_expect_continue(addr, case).await,
        Transport::Duplicate => {
            client_request(client, addr, case).await;
            client_request(client, addr, case).await
        }
        Transport::Client => client_request(client, addr, case).await,
    }
}

/// Sends the case once with the HTTP client.
async fn client_request(client: &reqwest::Client, addr: SocketAddr, case: &Case) -> Observed {
    let url = format!("http://{addr}{}", conformance::PATH);
    let mut request = client
        .request(case.method.clone(), url)
        .headers(case.headers.clone());
    if case.method == Method::POST || !case.body.is_empty() {
        request = request.body(case.body.clone());
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("case {}: request failed: {e}", case.name));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("case {}: reading the body failed: {e}", case.name));
    Observed::new(status, &headers, body)
}

/// Runs every conformance case against `framework` serving [`conformance::webhook`], in the
/// suite's order.
pub async fn run_suite(framework: Framework) -> Vec<(&'static str, Observed)> {
    let addr = serve(framework, conformance::webhook()).await;
    let client = http_client();
    let mut results = Vec::new();
    for case in conformance::cases() {
        results.push((case.name, run_case(&client, addr, &case).await));
    }
    results
}

/// The head of a request to [`conformance::PATH`] with `headers` and `framing` (e.g.
/// `content-length: 10\r\n`), ending with the blank line.
pub fn request_head(
    addr: SocketAddr,
    method: &Method,
    headers: &HeaderMap,
    framing: &str,
) -> Vec<u8> {
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nhost: {addr}\r\n",
        conformance::PATH
    )
    .into_bytes();
    for (name, value) in headers {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(framing.as_bytes());
    head.extend_from_slice(b"\r\n");
    head
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("connect")
}

/// Sends the case's body with `Transfer-Encoding: chunked` and no `Content-Length`. The
/// server may answer (and close) before the upload ends: write errors are ignored, and the
/// response is read all the same.
async fn raw_chunked(addr: SocketAddr, case: &Case, chunk: usize) -> Observed {
    let mut stream = connect(addr).await;
    let mut wire = request_head(
        addr,
        &case.method,
        &case.headers,
        "transfer-encoding: chunked\r\n",
    );
    for piece in case.body.chunks(chunk) {
        wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        wire.extend_from_slice(piece);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let (read, mut write) = stream.split();
    // Write and read at once, as a real client would, so neither side waits on the other.
    let writer = async move {
        for piece in wire.chunks(chunk.max(512)) {
            if write.write_all(piece).await.is_err() {
                break;
            }
        }
    };
    let mut reader = BufReader::new(read);
    let reading = read_response(&mut reader, &case.method);
    let ((), response) = tokio::join!(writer, reading);
    let (status, headers, body) =
        response.unwrap_or_else(|e| panic!("case {}: no response: {e}", case.name));
    if status == 413 {
        // The server stopped reading at the cap: it must close at once (well within any
        // keep-alive timeout), not wait for more.
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(CLOSE_TIMEOUT, reader.read_to_end(&mut rest)).await;
        assert!(
            closed.is_ok(),
            "case {}: connection left open after 413",
            case.name
        );
    }
    Observed::new(status, &headers, body)
}

/// Sends the case with keep-alive, then [`conformance::happy_path`] on the same connection,
/// which must get its usual answer.
async fn raw_keep_alive(addr: SocketAddr, case: &Case) -> Observed {
    let stream = connect(addr).await;
    let mut stream = BufReader::new(stream);
    let first = exchange(&mut stream, addr, case)
        .await
        .unwrap_or_else(|e| panic!("case {}: no response: {e}", case.name));
    let follow_up = conformance::happy_path();
    let second = exchange(&mut stream, addr, &follow_up).await;
    match second {
        Ok((200, _, body)) if body == conformance::reply().to_bytes() => {}
        other => panic!(
            "case {}: the connection did not survive the reply: follow-up got {other:?}",
            case.name
        ),
    }
    Observed::new(first.0, &first.1, first.2)
}

/// Sends only the head, with `Expect: 100-continue`, and reads the final answer.
async fn raw_expect_continue(addr: SocketAddr, case: &Case) -> Observed {
    let mut stream = BufReader::new(connect(addr).await);
    let framing = format!(
        "content-length: {}\r\nexpect: 100-continue\r\n",
        case.body.len()
    );
    let head = request_head(addr, &case.method, &case.headers, &framing);
    stream.get_mut().write_all(&head).await.expect("write");
    let (status, headers, body) = read_response(&mut stream, &case.method)
        .await
        .unwrap_or_else(|e| panic!("case {}: no response: {e}", case.name));
    Observed::new(status, &headers, body)
}

async fn exchange(
    stream: &mut BufReader<TcpStream>,
    addr: SocketAddr,
    case: &Case,
) -> std::io::Result<(u16, HeaderMap, Bytes)> {
    let framing = format!("content-length: {}\r\n", case.body.len());
    let mut wire = request_head(addr, &case.method, &case.headers, &framing);
    wire.extend_from_slice(&case.body);
    stream.get_mut().write_all(&wire).await?;
    read_response(stream, &case.method).await
}

fn invalid(what: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.into())
}

/// Reads one HTTP/1.1 response (`Content-Length`, chunked, or to EOF), with a timeout.
pub async fn read_response<R>(
    reader: &mut BufReader<R>,
    method: &Method,
) -> std::io::Result<(u16, HeaderMap, Bytes)>
where
    R: tokio::io::AsyncRead + Unpin,
{
    tokio::time::timeout(IO_TIMEOUT, read_response_inner(reader, method))
        .await
        .map_err(|_| invalid("timed out"))?
}

async fn read_line<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Err(invalid("connection closed"));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn read_response_inner<R>(
    reader: &mut BufReader<R>,
    method: &Method,
) -> std::io::Result<(u16, HeaderMap, Bytes)>
where
    R: tokio::io::AsyncRead + Unpin,
{
    let (status, headers) = loop {
        let (status, headers) = read_head(reader).await?;
        // Skip interim answers (`100 Continue`).
        if !(100..200).contains(&status) || status == 101 {
            break (status, headers);
        }
    };
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut body = Vec::new();
    if method == Method::HEAD || status == 204 || status == 304 {
        // No body on the wire.
    } else if text("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let size = read_line(reader).await?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| invalid(format!("bad chunk size {size:?}")))?;
            if size == 0 {
                while !read_line(reader).await?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..]).await?;
            read_line(reader).await?;
        }
    } else if let Some(len) = text("content-length") {
        let len: usize = len.parse().map_err(|_| invalid("bad content-length"))?;
        body.resize(len, 0);
        reader.read_exact(&mut body).await?;
    } else {
        reader.read_to_end(&mut body).await?;
    }
    Ok((status, headers, Bytes::from(body)))
}

async fn read_head<R>(reader: &mut BufReader<R>) -> std::io::Result<(u16, HeaderMap)>
where
    R: tokio::io::AsyncRead + Unpin,
{
    let status_line = read_line(reader).await?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("bad status line {status_line:?}")))?;
    let mut headers = HeaderMap::new();
    loop {
        let line = read_line(reader).await?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("bad header {line:?}")))?;
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| invalid(name))?,
            HeaderValue::from_str(value.trim()).map_err(|_| invalid(value))?,
        );
    }
    Ok((status, headers))
}

/// The README's Rust code blocks, compiled and run as doctests of this package (which
/// depends on every crate the README shows).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
