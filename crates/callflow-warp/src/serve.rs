//! [`serve`]: run a warp filter the way a webhook that routes phone calls must be run, with
//! the request timeouts, the connection cap and the graceful shutdown that `warp::serve`
//! does not give.

use std::future::Future;
use std::io;

pub use callflow::serve::{
    BodyReadTimeout, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_GRACE_PERIOD, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, ServeConfig, shutdown_signal,
};
use tokio::net::TcpListener;
use warp::Filter;

/// The peer address of the connection, as a request extension that [`serve`] inserts
/// (warp's own marker, read by `warp::addr::remote()`, is private to warp and only set by
/// `warp::serve`): the core's [`callflow::adapter::PeerAddr`]. Read it with
/// [`peer_addr`](crate::peer_addr), which takes either.
pub use callflow::adapter::PeerAddr;

/// Serves `filter` on `listener` until Ctrl-C or SIGTERM ([`shutdown_signal`]), guarded as
/// `config` says; then shuts down gracefully within [`ServeConfig::grace_period`].
///
/// Filters see the peer address through [`peer_addr`](crate::peer_addr) (a [`PeerAddr`]
/// extension; `warp::addr::remote()` gives `None` here). Connections speak HTTP/1.1 (what
/// 8x8 and reverse proxies use), without upgrades; an HTTP/2 prior-knowledge preface gets
/// `400 Bad Request` and a close.
///
/// | guard | default | what happens |
/// |---|---|---|
/// | [`header_read_timeout`](ServeConfig::header_read_timeout) | 10 s | a request head not complete in time: `408 Request Timeout` with `Connection: close` if part of it came, then close; a connection that sent nothing (new or keep-alive): close |
/// | [`body_read_timeout`](ServeConfig::body_read_timeout) | 10 s | the webhook's body not complete in time after its head: the core's `408 request_timeout`, then close |
/// | [`max_connections`](ServeConfig::max_connections) | 1024, lowered to fit the open-file limit (raised to the hard limit at start; logged) | at the cap, a new connection closes the one with no request in progress that has waited longest (at least 0.1 s) for a head, and takes its slot; if every connection is busy, it waits for one |
/// | [`grace_period`](ServeConfig::grace_period) | 10 s | on shutdown: stop accepting, close idle connections, let in-flight requests finish (answered with `Connection: close`), then close whatever is left |
///
/// ```no_run
/// use warp::Filter;
/// use callflow_warp::{ServeConfig, callflow::{CallFlow, Webhook, handler_fn}};
///
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let webhook = Webhook::new(handler_fn(|_event, _cx| async {
///     Ok(CallFlow::builder().say("Hello!").hangup())
/// }));
/// let voice = warp::path!("webhooks" / "voice").and(callflow_warp::filter(webhook));
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
/// // Until Ctrl-C or SIGTERM; then at most the grace period.
/// callflow_warp::serve(listener, voice, ServeConfig::default()).await
/// # }
/// ```
pub async fn serve<F>(listener: TcpListener, filter: F, config: ServeConfig) -> io::Result<()>
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    serve_with_shutdown(listener, filter, config, shutdown_signal()).await
}

/// [`serve`], stopping when `signal` resolves instead of on Ctrl-C or SIGTERM. Returns once
/// every connection is closed: at most [`ServeConfig::grace_period`] after `signal`.
pub async fn serve_with_shutdown<F, S>(
    listener: TcpListener,
    filter: F,
    config: ServeConfig,
    signal: S,
) -> io::Result<()>
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
    S: Future<Output = ()> + Send,
{
    callflow_hyper_serve::serve_http1(listener, warp::service(filter), PeerAddr, config, signal)
        .await
}
