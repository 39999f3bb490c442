//! `GET /healthz`: the truth about the store, for a load balancer or an operator; `GET
//! /readyz`: whether to send traffic (the store answers within 1 s).
//!
//! - 200 `{"status":"ok","store":{"ready":true,"detail":"…"},"write_failures":0}` when the
//!   store is usable (SQLite: the file the server opened is still at its path and takes
//!   writes; Redis: it answers);
//! - 503 `{"status":"unavailable","store":{"ready":false,"detail":"…"},…}` otherwise.
//!
//! `write_failures` counts the call records that could not be written since start (each was
//! answered 503 `store_unavailable`, so 8x8 may deliver it again).

use std::sync::Arc;
use std::time::Duration;

use callflow_masking::{BindingStore, WriteFailures};

use crate::store::Store;

/// How long `GET /readyz` waits for the store.
pub const READY_WITHIN: Duration = Duration::from_secs(1);

/// How often [`Health::watch`] looks at the store.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// The store's state as the health endpoint reports it. Cheap to clone.
#[derive(Clone)]
pub struct Health {
    store: Arc<Store>,
    write_failures: WriteFailures,
}

impl Health {
    /// The health of `store`, with the handler's count of failed writes.
    pub fn new(store: Arc<Store>, write_failures: WriteFailures) -> Self {
        Self {
            store,
            write_failures,
        }
    }

    /// The HTTP status and JSON body of `GET /healthz`.
    pub async fn report(&self) -> (u16, String) {
        let store = self.store.health().await;
        let (status, word) = if store.ready {
            (200, "ok")
        } else {
            (503, "unavailable")
        };
        let body = serde_json::json!({
            "status": word,
            "store": { "ready": store.ready, "detail": store.detail },
            "write_failures": self.write_failures.get(),
        });
        (status, body.to_string())
    }

    /// The status and JSON body of `GET /readyz`: 200 when the store answers, and is usable,
    /// within [`READY_WITHIN`]; 503 otherwise (e.g. while Redis is down).
    pub async fn readiness(&self) -> (http::StatusCode, String) {
        match tokio::time::timeout(READY_WITHIN, self.store.health()).await {
            Ok(h) if h.ready => (
                http::StatusCode::OK,
                serde_json::json!({"status": "ready"}).to_string(),
            ),
            Ok(h) => (
                http::StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"status": "not_ready", "detail": h.detail}).to_string(),
            ),
            Err(_) => (
                http::StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"status": "not_ready", "detail": "the store did not answer within 1 s"})
                    .to_string(),
            ),
        }
    }

    /// Looks at the store once a second and logs when it stops or starts being usable, so a
    /// deleted database or an unreachable Redis is in the log within seconds, traffic or not.
    pub async fn watch(self) {
        let mut ready = true;
        loop {
            tokio::time::sleep(WATCH_EVERY).await;
            let now = self.store.health().await;
            if now.ready != ready {
                if now.ready {
                    tracing::info!(store = %now.detail, "store usable again");
                } else {
                    tracing::error!(store = %now.detail, "store not usable: summaries are answered 503 store_unavailable");
                }
                ready = now.ready;
            }
        }
    }
}
