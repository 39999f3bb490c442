//! The same webhook served by any of the three frameworks, with `GET /healthz`.
//!
//! The server's timeouts are a [`ServeConfig`] (`serve --header-read-timeout`,
//! `--body-read-timeout`, `--grace-period`; 10 s each by default). The body timeout bounds
//! the body of every route, the webhook's and the others' alike.
//!
//! Shutdown is bounded whatever the store does: after a stop, in-flight requests get up to
//! the grace period (each is answered by the webhook's 4 s deadline at the latest), the
//! server is waited for at most the grace period + [`STOP_SLACK`], and `main` gives store
//! operations still running on the blocking pool [`LEFTOVER`] before the process exits:
//! 10.75 s at most after SIGTERM with the default grace.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{App, HttpResponse, web};
use callflow::Webhook;
pub use callflow::serve::ServeConfig;

use crate::routes::{READ_LIMIT, Routes};
use bytes::Bytes;
use tokio::sync::oneshot;
use warp::Filter;

/// Where 8x8 POSTs.
pub const WEBHOOK_PATH: &str = "/webhooks/voice";

/// How much longer than the grace period a stop waits for the server itself.
pub const STOP_SLACK: Duration = Duration::from_millis(500);

/// How long the runtime waits, after the server stopped, for store operations still running
/// on its blocking pool before they are abandoned.
pub const LEFTOVER: Duration = Duration::from_millis(250);

/// The web framework to serve with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Framework {
    /// axum 0.8 through callflow-axum.
    Axum,
    /// actix-web 4 through callflow-actix-web.
    ActixWeb,
    /// warp 0.4 through callflow-warp.
    Warp,
}

impl Framework {
    /// All three, in the demo's order.
    pub const ALL: [Framework; 3] = [Framework::Axum, Framework::ActixWeb, Framework::Warp];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Axum => "axum",
            Framework::ActixWeb => "actix-web",
            Framework::Warp => "warp",
        }
    }
}

/// A running server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    done: oneshot::Receiver<()>,
    grace: Duration,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to the grace period), and
    /// returns.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if tokio::time::timeout(self.grace + STOP_SLACK, self.done)
            .await
            .is_err()
        {
            tracing::warn!("server did not stop within the grace period");
        }
    }
}

/// Starts `webhook` on `listener` with `framework`, and every other route ([`Routes`]: the
/// health endpoint, the `/v1` API) beside it, guarded by `config`'s timeouts. Must be called
/// inside a Tokio runtime.
pub async fn start(
    framework: Framework,
    webhook: Webhook,
    routes: Routes,
    listener: std::net::TcpListener,
    config: ServeConfig,
) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let body_timeout = config.body_read_timeout;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stop_rx.await;
    };
    match framework {
        Framework::Axum => {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let app = axum::Router::new()
                .route(WEBHOOK_PATH, callflow_axum::route(webhook))
                .fallback(move |req: axum::extract::Request| {
                    let routes = routes.clone();
                    async move { axum_answer(&routes, req, body_timeout).await }
                });
            tokio::spawn(async move {
                if let Err(e) =
                    callflow_axum::serve_with_shutdown(listener, app, config, shutdown).await
                {
                    tracing::error!(error = %e, "axum server failed");
                }
                let _ = done_tx.send(());
            });
        }
        Framework::Warp => {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let hook = warp::path!("webhooks" / "voice").and(callflow_warp::filter(webhook));
            let rest = warp::method()
                .and(warp::path::full())
                .and(warp::query::raw().or(warp::any().map(String::new)).unify())
                .and(warp::header::headers_cloned())
                .and(warp::body::stream())
                .then(
                    move |method, path: warp::path::FullPath, query: String, headers, body| {
                        let routes = routes.clone();
                        async move {
                            let request = (method, path, query, headers);
                            warp_answer(&routes, request, body, body_timeout).await
                        }
                    },
                );
            let routes = hook.or(rest);
            tokio::spawn(async move {
                if let Err(e) =
                    callflow_warp::serve_with_shutdown(listener, routes, config, shutdown).await
                {
                    tracing::error!(error = %e, "warp server failed");
                }
                let _ = done_tx.send(());
            });
        }
        Framework::ActixWeb => {
            // actix-web runs on its own runtime (an actix System) on its own thread.
            let (ready_tx, ready_rx) = oneshot::channel::<std::io::Result<()>>();
            let config = config.workers(2);
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let factory = move || {
                        let webhook = webhook.clone();
                        let routes = routes.clone();
                        App::new()
                            .configure(move |cfg| {
                                callflow_actix_web::configure(cfg, WEBHOOK_PATH, webhook.clone())
                            })
                            .default_service(web::to(
                                move |req: actix_web::HttpRequest, payload: web::Payload| {
                                    let routes = routes.clone();
                                    async move {
                                        actix_answer(&routes, req, payload, body_timeout).await
                                    }
                                },
                            ))
                    };
                    let _ = ready_tx.send(Ok(()));
                    if let Err(e) =
                        callflow_actix_web::serve_with_shutdown(listener, factory, config, shutdown)
                            .await
                    {
                        tracing::error!(error = %e, "actix-web server failed");
                    }
                });
                let _ = done_tx.send(());
            });
            ready_rx
                .await
                .map_err(|_| std::io::Error::other("actix-web thread died"))??;
        }
    }
    Ok(Running {
        addr,
        stop: stop_tx,
        done: done_rx,
        grace: config.grace_period,
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    callflow_axum::shutdown_signal().await;
}

/// Why a body was not read whole.
enum Unread {
    /// More than [`READ_LIMIT`] bytes.
    TooLarge,
    /// The body broke off.
    Broken,
    /// Not complete within the body read timeout.
    TimedOut,
}

/// Reads at most [`READ_LIMIT`] bytes of `chunks`, within `timeout`.
async fn collect<S, B, E>(chunks: S, timeout: Duration) -> Result<Bytes, Unread>
where
    S: futures_util::Stream<Item = Result<B, E>> + Unpin,
    B: bytes::Buf,
{
    tokio::time::timeout(timeout, collect_all(chunks))
        .await
        .unwrap_or(Err(Unread::TimedOut))
}

async fn collect_all<S, B, E>(mut chunks: S) -> Result<Bytes, Unread>
where
    S: futures_util::Stream<Item = Result<B, E>> + Unpin,
    B: bytes::Buf,
{
    use futures_util::StreamExt as _;
    let mut out = bytes::BytesMut::new();
    while let Some(chunk) = chunks.next().await {
        let mut chunk = chunk.map_err(|_| Unread::Broken)?;
        while chunk.has_remaining() {
            let part = chunk.chunk();
            if out.len() + part.len() > READ_LIMIT {
                return Err(Unread::TooLarge);
            }
            out.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(out.freeze())
}

/// The answer to a body that could not be read whole (the connection is closed after it).
fn unread(why: Unread) -> http::Response<Bytes> {
    let mut response = match why {
        Unread::TooLarge => crate::api::ApiError::too_large(crate::api::BODY_LIMIT).into_response(),
        Unread::Broken => crate::api::ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "body_unreadable",
            "the request body could not be read",
        )
        .into_response(),
        Unread::TimedOut => crate::api::ApiError::new(
            http::StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time",
        )
        .into_response(),
    };
    response.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    response
}

async fn axum_answer(
    routes: &Routes,
    req: axum::extract::Request,
    body_timeout: Duration,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let response = match collect(body.into_data_stream(), body_timeout).await {
        Ok(bytes) => routes.handle(http::Request::from_parts(parts, bytes)).await,
        Err(why) => unread(why),
    };
    response.map(axum::body::Body::from)
}

async fn warp_answer<S, B>(
    routes: &Routes,
    (method, path, query, headers): (http::Method, warp::path::FullPath, String, http::HeaderMap),
    body: S,
    body_timeout: Duration,
) -> http::Response<Bytes>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>> + Send,
    B: bytes::Buf,
{
    let body = match collect(Box::pin(body), body_timeout).await {
        Ok(b) => b,
        Err(why) => return unread(why),
    };
    let uri = if query.is_empty() {
        path.as_str().to_owned()
    } else {
        format!("{}?{query}", path.as_str())
    };
    let mut req = http::Request::new(body);
    *req.method_mut() = method;
    *req.uri_mut() = uri.parse().unwrap_or_default();
    *req.headers_mut() = headers;
    routes.handle(req).await
}

async fn actix_answer(
    routes: &Routes,
    req: actix_web::HttpRequest,
    payload: web::Payload,
    body_timeout: Duration,
) -> HttpResponse {
    let response = match collect(payload, body_timeout).await {
        Ok(body) => {
            let mut r = http::Request::new(body);
            *r.method_mut() =
                http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or_default();
            *r.uri_mut() = req.uri().to_string().parse().unwrap_or_default();
            for (name, value) in req.headers() {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(name.as_str().as_bytes()),
                    http::HeaderValue::from_bytes(value.as_bytes()),
                ) {
                    r.headers_mut().append(name, value);
                }
            }
            routes.handle(r).await
        }
        Err(why) => unread(why),
    };
    let (parts, body) = response.into_parts();
    let mut out = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(parts.status.as_u16())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, value) in &parts.headers {
        out.append_header((name.as_str(), value.as_bytes()));
    }
    out.body(body)
}
