//! [`serve`]: run an axum app the way a webhook that routes phone calls must be run, with
//! the request timeouts, the connection cap and the graceful shutdown that `axum::serve`
//! does not give.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower_service::Service;

/// Default [`ServeConfig::header_read_timeout`]: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServeConfig::body_read_timeout`] (and the body deadline [`handle`](crate::handle)
/// applies when no [`BodyReadTimeout`] is set): 10 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServeConfig::grace_period`]: 10 s.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);
/// Default [`ServeConfig::max_connections`]: 1024 (8x8 sends a few requests per call).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// How [`serve`] guards the server; every field has a documented default (the table is in
/// [`serve`]'s docs).
///
/// ```
/// use std::time::Duration;
/// use callflow_axum::ServeConfig;
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
    /// counted from the connection's start or the end of its previous response; the
    /// connection is closed after it. This is also the idle timeout of keep-alive
    /// connections. Default [`DEFAULT_HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// The whole-request read deadline: once the head is in, the webhook's body must be
    /// complete within this, or the request gets the core's `408 request_timeout` and the
    /// connection is closed. A request is thus read in full within
    /// `header_read_timeout + body_read_timeout`. Default [`DEFAULT_BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// Most connections served at once; further ones wait in the listen backlog. Default
    /// [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// On shutdown, how long in-flight requests get to finish before the remaining
    /// connections are closed. Default [`DEFAULT_GRACE_PERIOD`].
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

/// The body deadline of the webhook for one request, as a request extension: [`serve`]
/// inserts it from [`ServeConfig::body_read_timeout`]; with `axum::serve`, add it yourself
/// with `Router::layer(axum::Extension(BodyReadTimeout(..)))`. Without it, [`handle`](crate::handle)
/// uses [`DEFAULT_BODY_READ_TIMEOUT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyReadTimeout(pub Duration);

/// Serves `app` on `listener` until Ctrl-C or SIGTERM ([`shutdown_signal`]), guarded as
/// `config` says; then shuts down gracefully within [`ServeConfig::grace_period`].
///
/// Handlers see the peer address as `ConnectInfo<SocketAddr>` (as with
/// `into_make_service_with_connect_info`). Connections speak HTTP/1.1 (what 8x8 and
/// reverse proxies use), without upgrades.
///
/// | guard | default | what happens |
/// |---|---|---|
/// | [`header_read_timeout`](ServeConfig::header_read_timeout) | 10 s | a request head (or an idle keep-alive connection) not complete in time: the connection is closed |
/// | [`body_read_timeout`](ServeConfig::body_read_timeout) | 10 s | the webhook's body not complete in time after its head: the core's `408 request_timeout`, then close |
/// | [`max_connections`](ServeConfig::max_connections) | 1024 | further connections wait in the listen backlog until one closes |
/// | [`grace_period`](ServeConfig::grace_period) | 10 s | on shutdown: stop accepting, let in-flight requests finish, then close whatever is left |
///
/// ```no_run
/// use axum::Router;
/// use callflow_axum::{ServeConfig, callflow::{CallFlow, Webhook, handler_fn}};
///
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let webhook = Webhook::new(handler_fn(|_event, _cx| async {
///     Ok(CallFlow::new().say("Hello!").hangup())
/// }));
/// let app = Router::new().route("/webhooks/voice", callflow_axum::route(webhook));
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
/// // Until Ctrl-C or SIGTERM; then at most the grace period.
/// callflow_axum::serve(listener, app, ServeConfig::default()).await
/// # }
/// ```
pub async fn serve(listener: TcpListener, app: Router, config: ServeConfig) -> io::Result<()> {
    serve_with_shutdown(listener, app, config, shutdown_signal()).await
}

/// [`serve`], stopping when `signal` resolves instead of on Ctrl-C or SIGTERM. Returns once
/// every connection is closed: at most [`ServeConfig::grace_period`] after `signal`.
pub async fn serve_with_shutdown<F>(
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
    signal: F,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            biased;
            () = &mut signal => break,
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
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
        let app = app.clone();
        let body_read_timeout = BodyReadTimeout(config.body_read_timeout);
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(body_read_timeout);
            let mut app = app.clone();
            async move { app.call(req).await }
        });
        let mut stop = stop_rx.clone();
        let header_read_timeout = config.header_read_timeout;
        connections.spawn(async move {
            let _permit = permit;
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = async { stop.wait_for(|stop| *stop).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
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

/// Resolves on Ctrl-C (SIGINT) or SIGTERM: the shutdown signal of [`serve`].
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
