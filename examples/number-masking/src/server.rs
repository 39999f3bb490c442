//! The same webhook served by any of the three frameworks, with `GET /healthz`.
//!
//! Shutdown is bounded whatever the store does: after a stop, in-flight requests get up to
//! [`GRACE`] (each is answered by the webhook's 4 s deadline at the latest), the server is
//! waited for at most [`GRACE`] + [`STOP_SLACK`], and `main` gives store operations still
//! running on the blocking pool [`LEFTOVER`] before the process exits: 10.75 s at most
//! after SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{App, HttpResponse, web};
use callflow::Webhook;

use crate::health::Health;
use tokio::sync::oneshot;
use warp::Filter;

/// Where 8x8 POSTs.
pub const WEBHOOK_PATH: &str = "/webhooks/voice";

/// How long in-flight requests get to finish after a stop.
pub const GRACE: Duration = Duration::from_secs(10);

/// How much longer than [`GRACE`] a stop waits for the server itself.
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
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to [`GRACE`]), and returns.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if tokio::time::timeout(GRACE + STOP_SLACK, self.done)
            .await
            .is_err()
        {
            tracing::warn!("server did not stop within the grace period");
        }
    }
}

/// Starts `webhook` on `listener` with `framework`, and `health` at `GET /healthz`. Must be
/// called inside a Tokio runtime.
pub async fn start(
    framework: Framework,
    webhook: Webhook,
    health: Health,
    listener: std::net::TcpListener,
) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
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
                .route(
                    "/healthz",
                    axum::routing::get(move || async move {
                        let (status, body) = health.report().await;
                        (
                            axum::http::StatusCode::from_u16(status)
                                .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE),
                            [(http_ct(), "application/json")],
                            body,
                        )
                    }),
                )
                .route(WEBHOOK_PATH, callflow_axum::route(webhook));
            let config = callflow_axum::ServeConfig::default().grace_period(GRACE);
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
            let health = warp::path!("healthz").and(warp::get()).then(move || {
                let health = health.clone();
                async move { health_reply(health.report().await) }
            });
            let hook = warp::path!("webhooks" / "voice").and(callflow_warp::filter(webhook));
            let routes = health.or(hook);
            let config = callflow_warp::ServeConfig::default().grace_period(GRACE);
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
            let config = callflow_actix_web::ServeConfig::default()
                .grace_period(GRACE)
                .workers(2);
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let factory = move || {
                        let webhook = webhook.clone();
                        let health = health.clone();
                        App::new()
                            .route(
                                "/healthz",
                                web::get().to(move || {
                                    let health = health.clone();
                                    async move {
                                        let (status, body) = health.report().await;
                                        HttpResponse::build(
                                            actix_web::http::StatusCode::from_u16(status)
                                                .unwrap_or(
                                                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                                            ),
                                        )
                                        .content_type("application/json")
                                        .body(body)
                                    }
                                }),
                            )
                            .configure(move |cfg| {
                                callflow_actix_web::configure(cfg, WEBHOOK_PATH, webhook.clone())
                            })
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
    })
}

fn http_ct() -> axum::http::HeaderName {
    axum::http::header::CONTENT_TYPE
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    callflow_axum::shutdown_signal().await;
}

fn health_reply((status, body): (u16, String)) -> warp::http::Response<String> {
    let mut r = warp::http::Response::new(body);
    *r.status_mut() = warp::http::StatusCode::from_u16(status)
        .unwrap_or(warp::http::StatusCode::SERVICE_UNAVAILABLE);
    r.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("application/json"),
    );
    r
}
