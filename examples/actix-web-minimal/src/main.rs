//! The greeter behind actix-web: `POST /webhooks/voice` on `$LISTEN` (default `127.0.0.1:3000`).

use actix_web::{App, HttpServer};
use callflow_actix_web::callflow::Webhook;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().init();
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let webhook = Webhook::new(greeter::Greeter);

    let server = HttpServer::new(move || {
        App::new().configure(|cfg| {
            callflow_actix_web::configure(cfg, "/webhooks/voice", webhook.clone());
        })
    })
    .bind(&listen)?;
    println!("serving POST http://{}/webhooks/voice", server.addrs()[0]);
    server.run().await
}
