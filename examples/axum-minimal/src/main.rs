//! The greeter behind axum: `POST /webhooks/voice` on `$LISTEN` (default `127.0.0.1:3000`),
//! served with `callflow_axum::serve`: 10 s head and body timeouts, and on Ctrl-C or SIGTERM a
//! graceful shutdown of at most 10 s.

use axum::Router;
use callflow_axum::ServeConfig;
use callflow_axum::callflow::Webhook;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().init();
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let webhook = Webhook::new(greeter::Greeter);

    let app = Router::new().route("/webhooks/voice", callflow_axum::route(webhook));

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!(
        "serving POST http://{}/webhooks/voice",
        listener.local_addr()?
    );
    callflow_axum::serve(listener, app, ServeConfig::default()).await
}
