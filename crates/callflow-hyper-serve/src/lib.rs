//! # callflow-hyper-serve
//!
//! The guarded HTTP/1 server loop that `callflow-axum` and `callflow-warp` run their apps
//! with (`serve`, `serve_with_shutdown`): a request head timeout, a body read deadline handed
//! to the webhook as a request extension ([`BodyReadTimeout`]), a connection cap, and a
//! graceful shutdown bounded by a grace period. Written once here; the adapters re-export
//! [`ServeConfig`], the defaults, [`BodyReadTimeout`] and [`shutdown_signal`], and wrap
//! [`serve_http1`] with their own app type. (actix-web runs its own server: its adapter maps
//! the same settings onto it.)
//!
//! ## Behaviour
//!
//! - **Head timeout** ([`ServeConfig::header_read_timeout`]): counted from the connection's
//!   start or the end of its previous response. Part of a head at the timeout gets
//!   `408 Request Timeout` with `Connection: close`, then a close; a connection that sent no
//!   byte of a head (new, or keep-alive after an answer) is closed.
//! - **Connection cap** ([`ServeConfig::max_connections`]): sized at start to the open-file
//!   limit. At the cap, idle connections are shed first: a new connection closes the one
//!   with no request in progress (no byte of a head, or part of one) that has waited longest
//!   for its head, at least 0.1 s, and takes its slot; a connection with a request in
//!   progress is never shed, and when every slot is busy new connections wait for one.
//! - **Shutdown** ([`ServeConfig::grace_period`]): no new connections; idle connections are
//!   closed at once; a request in progress is answered with `Connection: close`, then its
//!   connection is closed; whatever is left at the end of the grace period is closed.
//! - **HTTP/2**: connections speak HTTP/1.1; an HTTP/2 prior-knowledge preface
//!   (`PRI * HTTP/2.0`) gets `400 Bad Request` with `Connection: close`, then a close.
//!
//! Inside: the accept loop and the shutdown (here), the registry of live connections that
//! picks the one to shed (`registry`), each connection's phase (`phase`), the socket
//! wrapper that times heads and writes the 408 and 400 answers hyper would not
//! (`socket`), the response body that keeps a connection busy until it is sent (`body`),
//! and one connection's task (`connection`).

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower_service::Service;

use crate::connection::Connection;
use crate::registry::Registry;

mod body;
mod connection;
mod phase;
mod registry;
mod socket;

/// Default [`ServeConfig::header_read_timeout`]: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServeConfig::body_read_timeout`] (and the body deadline the adapters apply when
/// no [`BodyReadTimeout`] is set): 10 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServeConfig::grace_period`]: 10 s.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);
/// Default [`ServeConfig::max_connections`]: 1024 (8x8 sends a few requests per call).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// How [`serve_http1`] guards the server; every field has a documented default (the table is in
/// the adapters' `serve` docs).
///
/// ```
/// use std::time::Duration;
/// use callflow_hyper_serve::ServeConfig;
/// let config = ServeConfig::default()
///     .header_read_timeout(Duration::from_secs(5))
///     .body_read_timeout(Duration::from_secs(5))
///     .max_connections(256)
///     .grace_period(Duration::from_secs(20));
/// assert_eq!(config.max_connections, 256);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeConfig {
    /// How long a client may take to send a request head (request line and headers),
    /// counted from the connection's start or the end of its previous response. Part of a
    /// head at the timeout gets `408 Request Timeout` with `Connection: close`, then a
    /// close; no byte of one, a close. This is also the idle timeout of keep-alive
    /// connections. Default [`DEFAULT_HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// The whole-request read deadline: once the head is in, the webhook's body must be
    /// complete within this, or the request gets the core's `408 request_timeout` and the
    /// connection is closed. A request is thus read in full within
    /// `header_read_timeout + body_read_timeout`. Default [`DEFAULT_BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// Most connections served at once. At start, [`serve_http1`] raises the soft
    /// `RLIMIT_NOFILE` to the hard limit and lowers the cap if it still does not fit the
    /// descriptors ([`callflow::limits::connection_cap`], one descriptor per connection;
    /// logged), so that the cap, not `EMFILE`, bounds the server.
    ///
    /// At the cap, a new connection closes the connection with no request in progress
    /// (idle, or part of a head) that has waited longest for its next head, if it has
    /// waited at least 0.1 s, and takes its slot: idle connections cannot keep a client
    /// out. When every connection has a request in progress, further ones wait for a slot
    /// until one ends or goes idle (the next one accepted, the others in the listen
    /// backlog). Default [`DEFAULT_MAX_CONNECTIONS`].
    ///
    /// Connections beyond the cap wait in the listener's backlog until accepted; bind it
    /// with room for a flood (tokio's `TcpListener::bind` allows 1024; a longer queue
    /// makes the kernel drop handshakes, which clients retry only after a second).
    pub max_connections: usize,
    /// On shutdown, how long in-flight requests get to finish before the remaining
    /// connections are closed. Idle connections are closed at once; a request in progress
    /// is answered with `Connection: close`. Default [`DEFAULT_GRACE_PERIOD`].
    pub grace_period: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            grace_period: DEFAULT_GRACE_PERIOD,
        }
    }
}

impl ServeConfig {
    /// Sets [`header_read_timeout`](Self::header_read_timeout).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`body_read_timeout`](Self::body_read_timeout).
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Sets [`max_connections`](Self::max_connections) (at least 1).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets [`grace_period`](Self::grace_period).
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace_period = grace;
        self
    }
}

/// The body deadline of the webhook for one request, as a request extension: [`serve_http1`]
/// inserts it from [`ServeConfig::body_read_timeout`], and the adapters' `handle` reads it
/// (without it: [`DEFAULT_BODY_READ_TIMEOUT`]). With another server, add it yourself (with
/// axum: `Router::layer(axum::Extension(BodyReadTimeout(..)))`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyReadTimeout(pub Duration);

/// Serves `app` on `listener` until `signal` resolves, guarded as `config` says (the table is
/// in the adapters' `serve` docs); then stops accepting, lets in-flight requests finish, and
/// closes what is left after [`ServeConfig::grace_period`]. Returns once every connection is
/// closed.
///
/// At start the connection cap is sized to the open-file limit
/// ([`callflow::limits::connection_cap`]: the soft `RLIMIT_NOFILE` is raised to the hard one,
/// and the cap lowered if it still does not fit; logged). At the cap, a new connection
/// closes the oldest one with no request in progress and takes its slot; see
/// [`ServeConfig::max_connections`]. The listener's backlog is widened to
/// [`callflow::limits::LISTEN_BACKLOG`] ([`callflow::limits::widen_backlog`]), so that a
/// connection flood does not make the kernel drop legitimate clients' handshakes.
///
/// Every request gets two extensions before `app` sees it: `peer(addr)` (the adapter's own
/// peer-address type) and a [`BodyReadTimeout`]. Connections speak HTTP/1.1 (what 8x8 and
/// reverse proxies use), without upgrades; an HTTP/2 prior-knowledge preface gets
/// `400 Bad Request` and a close.
pub async fn serve_http1<S, B, P, F>(
    listener: TcpListener,
    app: S,
    peer: fn(SocketAddr) -> P,
    config: ServeConfig,
    signal: F,
) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
    P: Clone + Send + Sync + 'static,
    F: Future<Output = ()> + Send,
{
    let cap = callflow::limits::connection_cap(config.max_connections, 1, 1);
    callflow::limits::widen_backlog(&listener);
    let slots = Arc::new(Semaphore::new(cap));
    let mut registry = Registry::new(cap);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, addr) = tokio::select! {
            biased;
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
        };
        let permit = tokio::select! {
            biased;
            () = &mut signal => break,
            permit = registry.slot(&slots) => permit,
        };
        let connection = Connection {
            stream,
            addr,
            peer: peer(addr),
            permit,
            state: registry.add(),
            stop: stop_rx.clone(),
        };
        connections.spawn(connection.serve(app.clone(), config));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    shut_down(connections, config.grace_period).await;
    Ok(())
}

/// Waits up to `grace` for the connections to finish, then closes the rest.
async fn shut_down(mut connections: JoinSet<()>, grace: Duration) {
    tracing::info!(
        in_flight = connections.len(),
        ?grace,
        "shutting down: no new connections"
    );
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "grace period over: closing the remaining connections"
        );
        connections.shutdown().await;
    }
}

/// An `accept` error: per-connection ones are skipped; others (out of file descriptors)
/// are logged and retried after a pause rather than ending the server.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM: the shutdown signal of the adapters' `serve`.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}
