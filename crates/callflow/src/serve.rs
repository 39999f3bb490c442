//! The settings of the adapters' guarded servers, defined once: [`ServeConfig`] and its
//! defaults, the per-request [`BodyReadTimeout`], and [`shutdown_signal`]. `callflow-axum`,
//! `callflow-warp` and `callflow-actix-web` re-export them; each adapter's `serve` docs say
//! how its server applies them (actix-web's differences are noted on the fields).

use std::time::Duration;

/// Default [`ServeConfig::header_read_timeout`]: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServeConfig::body_read_timeout`] (and the body deadline every adapter applies
/// when no [`BodyReadTimeout`] is set): 10 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServeConfig::grace_period`]: 10 s.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);
/// Default [`ServeConfig::max_connections`]: 1024 (8x8 sends a few requests per call).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// At the connection cap, how long a new connection is spared before its first head: a
/// legitimate client's head is on its way, and under a flood of reconnecting idlers the
/// newest connection would otherwise become the oldest within milliseconds and be shed before
/// its head is read. Every adapter's server uses it: 100 ms.
pub const SHED_FRESH_GRACE: Duration = Duration::from_millis(100);

/// At the connection cap, how long a kept-alive connection is spared after its last answer:
/// its client is likely to send its next request on it, and a connection closed just as a
/// `POST` goes out loses that request (clients do not retry it). Every adapter's server uses
/// it: 1 s.
pub const SHED_KEEP_ALIVE_GRACE: Duration = Duration::from_secs(1);

/// How an adapter's `serve` guards the server; every field has a documented default (the
/// table is in the adapters' `serve` docs).
///
/// ```
/// use std::time::Duration;
/// use callflow::serve::ServeConfig;
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
    /// close; no byte of one, a close (actix-web: 408 and a close either way). This is also
    /// the idle timeout of keep-alive connections. Default [`DEFAULT_HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// The whole-request read deadline: once the head is in, the webhook's body must be
    /// complete within this, or the request gets the core's `408 request_timeout` and the
    /// connection is closed. A request is thus read in full within
    /// `header_read_timeout + body_read_timeout`. Handed to the webhook as a
    /// [`BodyReadTimeout`]. Default [`DEFAULT_BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// Most connections served at once, lowered at start to what the open-file limit holds
    /// ([`crate::limits::connection_cap`]; logged). At the cap, idle connections are shed
    /// first (the one idle the longest); a connection with a request in progress is never
    /// shed, and when every slot is busy new connections wait in the listen backlog.
    ///
    /// **actix-web**: counted *per worker thread* (actix-web's unit), so the server as a
    /// whole holds up to `workers × max_connections`. Default [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// On shutdown, how long in-flight requests get to finish before the remaining
    /// connections are closed. Idle connections are closed at once; a request in progress
    /// is answered with `Connection: close`. **actix-web** counts it in whole seconds,
    /// rounded up. Default [`DEFAULT_GRACE_PERIOD`].
    pub grace_period: Duration,
    /// **actix-web only**: worker threads; `None` (the default) keeps actix-web's choice
    /// (one per CPU). The axum and warp servers run on the caller's Tokio runtime and
    /// ignore it.
    pub workers: Option<usize>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            grace_period: DEFAULT_GRACE_PERIOD,
            workers: None,
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

    /// Sets [`workers`](Self::workers) (at least 1; actix-web only).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers.max(1));
        self
    }
}

/// The body deadline of the webhook for one request, as a request extension: the adapters'
/// `serve` insert it from [`ServeConfig::body_read_timeout`] (actix-web: in the connection
/// data, or `App::app_data(BodyReadTimeout(..))`), and every adapter's `handle` and the
/// [`Webhook`](crate::Webhook) `Service` read it
/// ([`adapter::body_read_timeout`](crate::adapter::body_read_timeout); without it:
/// [`DEFAULT_BODY_READ_TIMEOUT`]). With another server, add it yourself (with axum:
/// `Router::layer(axum::Extension(BodyReadTimeout(..)))`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyReadTimeout(pub Duration);

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
