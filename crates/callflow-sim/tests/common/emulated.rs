//! The emulator's side of the tests: an emulator on 127.0.0.1:0 with one API key,
//! sub-account and virtual number, a client of its Voice API, and an axum app of webhooks
//! served on 127.0.0.1:0.

use axum::Router;
use callflow_client::api::SubAccountId;
use callflow_client::{Client, Config};
use callflow_sim::emulator::{Emulator, EmulatorConfig};

/// An emulator that accepts `key`, serves sub-account `sub` and owns virtual number `vn`.
pub async fn emulator(key: &str, sub: &str, vn: &str) -> Emulator {
    let config = EmulatorConfig::new()
        .api_key(key)
        .sub_account(sub)
        .virtual_number(vn);
    Emulator::start("127.0.0.1:0", config).await.unwrap()
}

/// A client of the Voice API at `base` with `key`, for sub-account `sub`.
pub fn client(base: &str, key: &str, sub: &str) -> Client {
    Client::new(Config::new(key, SubAccountId::new(sub).unwrap()).base_url(base)).unwrap()
}

/// Serves `router` on 127.0.0.1:0; returns its base URL and the server task.
pub async fn serve_router(router: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (url, task)
}
