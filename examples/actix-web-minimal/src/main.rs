//! The greeter behind actix-web: `POST /webhooks/voice` on `$LISTEN` (default
//! `127.0.0.1:3000`), served with `callflow_actix_web::serve`: 10 s head and body timeouts,
//! and on Ctrl-C or SIGTERM a graceful shutdown of at most 10 s.

use actix_web::App;
use callflow_actix_web::ServeConfig;
use callflow_actix_web::callflow::Webhook;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().init();
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let webhook = Webhook::new(greeter::Greeter);

    let listener = std::net::TcpListener::bind(&listen)?;
    println!(
        "serving POST http://{}/webhooks/voice",
        listener.local_addr()?
    );
    let app = move || {
        App::new().configure(|cfg| {
            callflow_actix_web::configure(cfg, "/webhooks/voice", webhook.clone());
        })
    };
    callflow_actix_web::serve(listener, app, ServeConfig::default()).await
}
