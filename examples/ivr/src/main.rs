//! The IVR example's server: `POST /webhooks/voice` and `GET /stats` on `$LISTEN` (default
//! `127.0.0.1:3000`), with `callflow_axum::serve` (head and body timeouts, graceful shutdown
//! on Ctrl-C or SIGTERM). Logs go to stderr at `$LOG_LEVEL` (default `info`; `debug` also shows
//! the duplicate deliveries answered from the idempotency store).

use callflow_axum::ServeConfig;
use ivr::{AppState, app};
use tracing_subscriber::filter::LevelFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(
            std::env::var("LOG_LEVEL")
                .ok()
                .and_then(|l| l.parse().ok())
                .unwrap_or(LevelFilter::INFO),
        )
        .with_writer(std::io::stderr)
        .init();
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    println!(
        "serving POST http://{addr}{} and GET http://{addr}/stats",
        ivr::WEBHOOK_PATH
    );
    callflow_axum::serve(listener, app(AppState::default()), ServeConfig::default()).await
}
