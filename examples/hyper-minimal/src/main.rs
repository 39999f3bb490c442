//! The greeter with no web framework: the core's [`Webhook`] is a tower `Service`, served by
//! plain hyper 1 and hyper-util on `$LISTEN` (default `127.0.0.1:3000`). It answers every
//! path (a router would go in front of it); the peer address reaches the handler as a
//! [`PeerAddr`] request extension.
//!
//! This is the bare minimum: no head timeout, no connection cap, no graceful shutdown (the
//! adapters' `serve` add them; see `callflow::serve`). The body deadline is the default
//! [`BodyReadTimeout`](callflow::serve::BodyReadTimeout) of 10 s, applied by the `Service`.

use callflow::Webhook;
use callflow::adapter::PeerAddr;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().init();
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let webhook = Webhook::new(greeter::Greeter);

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!(
        "serving POST http://{}/webhooks/voice",
        listener.local_addr()?
    );
    loop {
        let (stream, peer) = listener.accept().await?;
        let webhook = webhook.clone();
        tokio::spawn(async move {
            // Every request of this connection carries its peer address.
            let service = hyper::service::service_fn(move |mut request| {
                request.extensions_mut().insert(PeerAddr(peer));
                let mut webhook = webhook.clone();
                async move { tower_call(&mut webhook, request).await }
            });
            let served = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// Calls the webhook's tower `Service` (hyper-util's `TowerToHyperService` does the same for
/// a `Service` that needs no per-request setup).
async fn tower_call(
    webhook: &mut Webhook,
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<callflow::adapter::ResponseBody>, std::convert::Infallible> {
    tower_service::Service::call(webhook, request).await
}
