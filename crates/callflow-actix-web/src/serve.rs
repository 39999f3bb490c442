//! [`serve`]: run an actix-web app the way a webhook that routes phone calls must be run, with
//! the request timeouts, the connection cap and the graceful shutdown that `HttpServer`'s
//! defaults do not give (they answer a stuck head with 408 after 5 s, have no body deadline, and
//! stop abruptly on Ctrl-C).

use std::future::Future;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::KeepAlive;
use actix_web::{App, HttpServer};

use crate::shedding;
use crate::socket::ConnSocket;

/// Descriptors per connection: the socket, and the [`ConnSocket`] duplicate.
const FDS_PER_CONNECTION: usize = 2;

pub use callflow::serve::{
    BodyReadTimeout, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_GRACE_PERIOD, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, ServeConfig, shutdown_signal,
};

/// Serves the app made by `factory` on `listener` until Ctrl-C or SIGTERM
/// ([`shutdown_signal`]), guarded as `config` says; then shuts down gracefully within
/// [`ServeConfig::grace_period`]. Await it on an actix runtime (`#[actix_web::main]`).
///
/// actix-web's own signal handling is off (it stops abruptly on Ctrl-C): both signals stop
/// the server gracefully.
///
/// | guard | default | what happens |
/// |---|---|---|
/// | [`header_read_timeout`](ServeConfig::header_read_timeout) | 10 s | a request head not complete in time: 408, then close; an idle keep-alive connection is closed |
/// | [`body_read_timeout`](ServeConfig::body_read_timeout) | 10 s | the webhook's body not complete in time after its head: the core's `408 request_timeout`, then close |
/// | [`max_connections`](ServeConfig::max_connections) | 1024 | per worker thread (actix-web's unit), fitted to the open-file limit; near it the connections idle the longest are shed; past it, further connections wait in the listen backlog |
/// | [`grace_period`](ServeConfig::grace_period) | 10 s | on shutdown: stop accepting, let in-flight requests finish, then close whatever is left (actix-web counts whole seconds, rounded up) |
/// | [`workers`](ServeConfig::workers) | one per CPU | actix-web's worker threads (this adapter only) |
///
/// [`ServeConfig`] is the one of `callflow::serve`, shared with the axum and warp adapters;
/// here `max_connections` counts per worker and `grace_period` in whole seconds, and
/// `workers` applies (the other adapters ignore it). [`BodyReadTimeout`] goes into each
/// connection's data.
///
/// A request answered before its body was read (refused on its head, over the body limit,
/// or late) is answered with `Connection: close`, and its connection stops being read and is
/// closed right after the answer, however the client keeps sending (at most 64 KiB or 1 s of
/// the rest is discarded first, so that a reset does not overtake the answer; by at most 32
/// connections at once, which fit in the descriptors kept back from the cap).
///
/// ## The connection cap
///
/// At start, `serve` raises the soft open-file limit to the hard one and lowers
/// [`max_connections`](ServeConfig::max_connections) so that every worker's connections fit
/// in it: each connection costs two descriptors (its socket, and a duplicate kept in its
/// connection data, through which the adapter shuts down a connection actix-web would keep),
/// times the number of workers, after a reserve (`callflow::limits::connection_cap`; the
/// result is logged). It also widens the listener's backlog to `callflow::limits::LISTEN_BACKLOG` (4096)
/// (`callflow::limits::widen_backlog`: `std::net::TcpListener::bind` leaves 128, which a
/// connection flood overflows, dropping legitimate clients' handshakes).
///
/// actix-web counts the cap per worker and leaves connections over it in the listen backlog,
/// before `on_connect` sees them, where idle clients could starve webhooks. So each worker
/// also keeps its connections in a list (from `on_connect`) and marks those with a request in
/// progress (from the head to the response, by a middleware wrapped around the app); the
/// others, idle on keep-alive or with no complete head yet, are in the order they became
/// idle. When a new connection brings a worker to the cap less an eighth (at least one
/// below it), the connection idle the longest is shut down, and actix-web drops it: idle
/// connections give way to new ones, oldest first, as nginx reuses its idle connections,
/// while requests in progress are never cut. A keep-alive connection is spared for a second
/// after its answer (its client is likely to reuse it, and a `POST` sent just as it closes
/// would be lost). Only when no connection can be shed do new ones wait in the backlog.
///
/// ```no_run
/// use actix_web::App;
/// use callflow_actix_web::{ServeConfig, callflow::{CallFlow, Webhook, handler_fn}};
///
/// #[actix_web::main]
/// async fn main() -> std::io::Result<()> {
///     let webhook = Webhook::new(handler_fn(|_event, _cx| async {
///         Ok(CallFlow::builder().say("Hello!").hangup())
///     }));
///     let listener = std::net::TcpListener::bind("0.0.0.0:3000")?;
///     // Until Ctrl-C or SIGTERM; then at most the grace period.
///     callflow_actix_web::serve(listener, move || {
///         App::new().configure(|cfg| callflow_actix_web::configure(cfg, "/webhooks/voice", webhook.clone()))
///     }, ServeConfig::default()).await
/// }
/// ```
pub async fn serve<F, T, B>(
    listener: std::net::TcpListener,
    factory: F,
    config: ServeConfig,
) -> io::Result<()>
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    serve_with_shutdown(listener, factory, config, shutdown_signal()).await
}

/// [`serve`], stopping when `signal` resolves instead of on Ctrl-C or SIGTERM. Returns once
/// the server has stopped: at most [`ServeConfig::grace_period`] (plus a second) after
/// `signal`.
pub async fn serve_with_shutdown<F, T, B, S>(
    listener: std::net::TcpListener,
    factory: F,
    config: ServeConfig,
    signal: S,
) -> io::Result<()>
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
    S: Future<Output = ()> + 'static,
{
    let body_read_timeout = BodyReadTimeout(config.body_read_timeout);
    let grace_secs = config.grace_period.as_millis().div_ceil(1000) as u64;
    let workers = config.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let cap = callflow::limits::connection_cap(config.max_connections, FDS_PER_CONNECTION, workers);
    let shed_at = shedding::threshold(cap);
    callflow::limits::widen_backlog(&listener);
    let app = move || {
        factory().wrap_fn(|req, service| {
            let busy = req
                .conn_data::<Rc<shedding::Slot>>()
                .map(shedding::Slot::busy);
            let answer = service.call(req);
            async move {
                let answer = answer.await;
                drop(busy);
                answer
            }
        })
    };
    let server = HttpServer::new(app)
        .client_request_timeout(config.header_read_timeout)
        .keep_alive(KeepAlive::Timeout(config.header_read_timeout))
        .client_disconnect_timeout(Duration::from_secs(1))
        .max_connections(cap)
        .shutdown_timeout(grace_secs)
        .disable_signals()
        .workers(workers)
        .on_connect(move |conn, data| {
            data.insert(body_read_timeout);
            if let Some(socket) = ConnSocket::of(conn) {
                data.insert(shedding::connected(
                    Rc::clone(&socket),
                    shed_at,
                    config.header_read_timeout,
                ));
                data.insert(socket);
            }
        });
    let server = server.listen(listener)?.run();
    let handle = server.handle();
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    actix_web::rt::spawn(async move {
        signal.await;
        tracing::info!(grace = ?config.grace_period, "shutting down: no new connections");
        let _ = stopping_tx.send(());
        handle.stop(true).await;
    });
    // actix-web bounds the wait itself; this only makes sure `serve` returns in time.
    let bound = config.grace_period + Duration::from_secs(1);
    let overdue = async move {
        match stopping_rx.await {
            Ok(()) => tokio::time::sleep(bound).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = server => result,
        () = overdue => {
            tracing::warn!("grace period over: the server did not stop in time");
            Ok(())
        }
    }
}
