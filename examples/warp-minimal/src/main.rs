//! The greeter behind warp: `POST /webhooks/voice` on `$LISTEN` (default `127.0.0.1:3000`),
//! served with `callflow_warp::serve`: 10 s head and body timeouts, and on Ctrl-C or SIGTERM
//! a graceful shutdown of at most 10 s.

use callflow_warp::ServeConfig;
use callflow_warp::callflow::Webhook;
use warp::Filter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().init();
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let webhook = Webhook::new(greeter::Greeter);

    let voice = warp::path!("webhooks" / "voice").and(callflow_warp::filter(webhook));

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!(
        "serving POST http://{}/webhooks/voice",
        listener.local_addr()?
    );
    callflow_warp::serve(listener, voice, ServeConfig::default()).await
}
