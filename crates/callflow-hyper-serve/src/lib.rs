//! # callflow-hyper-serve
//!
//! The guarded HTTP/1 server loop that `callflow-axum` and `callflow-warp` run their apps
//! with (`serve`, `serve_with_shutdown`): a request head timeout, a body read deadline handed
//! to the webhook as a request extension ([`BodyReadTimeout`]), a connection cap, and a
//! graceful shutdown bounded by a grace period. Written once here; the settings
//! ([`ServeConfig`], the defaults, [`BodyReadTimeout`], [`shutdown_signal`]) are the core's
//! `callflow::serve`, re-exported here and by every adapter; the adapters wrap
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

pub use callflow::serve::{
    BodyReadTimeout, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_GRACE_PERIOD, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, ServeConfig, shutdown_signal,
};

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
