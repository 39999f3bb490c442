//! # callflow-redis
//!
//! Redis-backed stores, so that a callflow service can run as several instances behind a
//! load balancer:
//!
//! - [`RedisIdempotencyStore`]: duplicate deliveries of an 8x8 event are recognised by every
//!   instance (atomic claim with `SET NX PX`, the first answer kept with a TTL), so the
//!   handler runs once per event and every duplicate gets the same reply bytes;
//! - [`RedisBindingStore`]: the number-masking [`BindingStore`](callflow_masking::BindingStore)
//!   (bindings with expiry, call records), with the ambiguity check atomic across instances.
//!
//! Both use a [`Redis`] handle: one lazily opened connection with automatic reconnection,
//! a key prefix, and a bound on every operation. When Redis is unreachable an operation fails
//! within that bound (default [`DEFAULT_TIMEOUT`]) instead of hanging, so the webhook answers
//! `CALL_ACTION` with its fallback callflow and other events with 503 `store_unavailable`
//! (and logs a `warn`); the next operation after Redis is back succeeds, no restart needed.
//!
//! ```no_run
//! use std::sync::Arc;
//! use callflow::Webhook;
//! use callflow_masking::MaskingHandler;
//! use callflow_redis::{Redis, RedisBindingStore, RedisIdempotencyStore};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let redis = Redis::open("redis://127.0.0.1:6379/0")?; // inside a Tokio runtime
//! let webhook = Webhook::builder(MaskingHandler::new(RedisBindingStore::new(&redis)))
//!     .idempotency_store(Arc::new(RedisIdempotencyStore::new(&redis)))
//!     .build();
//! // mount `webhook` with callflow-axum, callflow-actix-web or callflow-warp, on every instance
//! # let _ = webhook; Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "masking")]
mod bindings;
mod idempotency;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, RedisError};

#[cfg(feature = "masking")]
#[cfg_attr(docsrs, doc(cfg(feature = "masking")))]
pub use bindings::RedisBindingStore;
pub use idempotency::RedisIdempotencyStore;

/// Default prefix of every key the stores write: `callflow:`.
pub const DEFAULT_PREFIX: &str = "callflow:";

/// Default bound on one store operation (connecting included): 1 s. A `CALL_ACTION` whose
/// store cannot answer in that time gets the fallback callflow rather than more silence.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Why [`Redis::open`] refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The URL is not a Redis URL this crate can use. The URL itself is not repeated (it may
    /// hold a password).
    #[error("invalid Redis URL (expected redis://HOST:PORT/DB): {0}")]
    InvalidUrl(InvalidUrl),
    /// Called outside a Tokio runtime.
    #[error("Redis::open must be called inside a Tokio runtime")]
    NoRuntime,
}

/// What is wrong with a Redis URL ([`OpenError::InvalidUrl`]): a sanitized description that
/// never repeats the URL (it may hold a password). Read it through `Display`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidUrl(String);

impl InvalidUrl {
    fn new(reason: String) -> Self {
        Self(reason)
    }
}

impl std::fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Redis server as the stores use it: a connection opened on first use and re-opened
/// automatically after it is lost, a key prefix, and a time bound on every operation.
///
/// Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    manager: ConnectionManager,
    prefix: String,
    timeout: Duration,
    address: String,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("address", &self.inner.address)
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

impl Redis {
    /// A handle on the server at `url` (`redis://[:PASSWORD@]HOST[:PORT][/DB]`, or
    /// `rediss://…` for TLS with the feature `tls`), with the [`DEFAULT_PREFIX`] and
    /// [`DEFAULT_TIMEOUT`]. Does not connect yet: the first operation does, so a service may
    /// start before Redis is up. Must be called inside a Tokio runtime.
    pub fn open(url: &str) -> Result<Self, OpenError> {
        Self::open_with(url, DEFAULT_PREFIX, DEFAULT_TIMEOUT)
    }

    /// [`Redis::open`] with a key prefix (e.g. `myservice:` when several services share one
    /// Redis database) and a bound on each operation.
    pub fn open_with(url: &str, prefix: &str, timeout: Duration) -> Result<Self, OpenError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(OpenError::NoRuntime);
        }
        let (client, address) = parse_url(url)?;
        let timeout = timeout.max(Duration::from_millis(1));
        // The client's own timeouts fire a little before the overall bound, so that the
        // connection manager sees the failure (and reconnects) rather than a dropped future.
        let inner = timeout.mul_f32(0.8);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(inner))
            .set_response_timeout(Some(inner))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(20))
            .set_max_delay(Duration::from_millis(100));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| OpenError::InvalidUrl(InvalidUrl::new(describe(&e))))?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                manager,
                prefix: prefix.to_owned(),
                timeout,
                address,
            }),
        })
    }

    /// `HOST:PORT/DB` (never the password), for messages.
    pub fn address(&self) -> &str {
        &self.inner.address
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The bound on one operation.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Checks that the server answers (`PING`).
    pub async fn ping(&self) -> Result<(), BackendError> {
        let mut c = self.conn();
        self.run(async move { redis::cmd("PING").query_async::<()>(&mut c).await })
            .await
    }

    pub(crate) fn key(&self, parts: &[&str]) -> String {
        let mut k = self.inner.prefix.clone();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                k.push(':');
            }
            k.push_str(p);
        }
        k
    }

    /// The shared, self-reconnecting connection.
    pub(crate) fn conn(&self) -> ConnectionManager {
        self.inner.manager.clone()
    }

    /// A connection of its own, for `WATCH`/`MULTI` (connection state that must not be
    /// shared with concurrent commands).
    pub(crate) async fn dedicated(&self) -> Result<MultiplexedConnection, BackendError> {
        let inner = self.inner.timeout.mul_f32(0.8);
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(inner))
            .set_response_timeout(Some(inner));
        let client = self.inner.client.clone();
        self.run(async move {
            client
                .get_multiplexed_async_connection_with_config(&config)
                .await
        })
        .await
    }

    /// Runs one operation within the time bound, mapping errors to [`BackendError`].
    pub(crate) async fn run<T>(
        &self,
        op: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, BackendError> {
        match tokio::time::timeout(self.inner.timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) if e.is_timeout() => {
                Err(self.error(describe(&e)).of_kind(BackendErrorKind::TimedOut))
            }
            Ok(Err(e)) => Err(self.error(describe(&e))),
            Err(_) => Err(self
                .error(format!(
                    "no answer within {} ms",
                    self.inner.timeout.as_millis()
                ))
                .of_kind(BackendErrorKind::TimedOut)),
        }
    }

    pub(crate) fn error(&self, why: impl Into<String>) -> BackendError {
        BackendError {
            kind: BackendErrorKind::Unavailable,
            address: self.inner.address.clone(),
            why: why.into(),
        }
    }
}

/// Checks a Redis URL without connecting (or needing a runtime) and returns the server's
/// `HOST:PORT/DB` (never the password). [`Redis::open`] accepts exactly these URLs.
///
/// ```
/// assert_eq!(callflow_redis::validate_url("redis://127.0.0.1:6380/2").unwrap(), "127.0.0.1:6380/2");
/// assert!(callflow_redis::validate_url("http://127.0.0.1:6379").is_err());
/// // `rediss://` (TLS) with the feature `tls` only.
/// assert_eq!(callflow_redis::validate_url("rediss://10.0.0.7:6380/0").is_ok(), cfg!(feature = "tls"));
/// ```
pub fn validate_url(url: &str) -> Result<String, OpenError> {
    parse_url(url).map(|(_, address)| address)
}

fn parse_url(url: &str) -> Result<(redis::Client, String), OpenError> {
    let scheme = url.split_once("://").map(|(s, _)| s);
    let tls = cfg!(feature = "tls") && scheme == Some("rediss");
    if scheme != Some("redis") && !tls {
        return Err(OpenError::InvalidUrl(InvalidUrl::new(
            if cfg!(feature = "tls") {
                "the scheme must be redis:// or rediss:// (unix sockets are not supported)".into()
            } else {
                "the scheme must be redis:// (rediss:// needs the feature `tls`; unix sockets are not supported)".into()
            },
        )));
    }
    let client = redis::Client::open(url).map_err(|e| {
        // The message, unless it repeats the credentials (then only its category).
        let msg = e.to_string();
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or("");
        let secret = authority.rsplit_once('@').map(|(user_info, _)| user_info);
        let leaks = secret.is_some_and(|s| {
            s.split(':')
                .any(|part| !part.is_empty() && msg.contains(part))
        });
        OpenError::InvalidUrl(InvalidUrl::new(if leaks {
            e.category().to_owned()
        } else {
            msg
        }))
    })?;
    let info = client.get_connection_info();
    let address = format!("{}/{}", info.addr(), info.redis_settings().db());
    Ok((client, address))
}

/// A Redis operation failed (unreachable, timed out, server error, corrupt record). The
/// message names the server and the kind of failure, never a key or a value (they may hold
/// phone numbers). Opaque: branch on [`kind`](Self::kind).
#[derive(Debug, Clone, thiserror::Error)]
#[error("redis at {address}: {why}")]
pub struct BackendError {
    kind: BackendErrorKind,
    address: String,
    why: String,
}

/// What kind of failure a [`BackendError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// The server cannot be reached (connection refused or lost) or refused the operation;
    /// a later attempt may succeed.
    Unavailable,
    /// No answer within [`Redis::timeout`].
    TimedOut,
    /// A record (or a script's answer) this program cannot read: a retry will not fix it.
    Corrupt,
}

impl BackendError {
    /// What kind of failure this is.
    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    /// The same error, of another kind.
    pub(crate) fn of_kind(mut self, kind: BackendErrorKind) -> Self {
        self.kind = kind;
        self
    }
}

/// What went wrong, without the error's detail text (which may echo keys or values).
fn describe(e: &RedisError) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connection_refusal() {
        "connection refused".into()
    } else if e.is_connection_dropped() || e.is_io_error() {
        "connection lost".into()
    } else if let Some(code) = e.code() {
        format!("server error {code}")
    } else {
        format!("{:?}", e.kind())
    }
}
