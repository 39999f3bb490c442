//! A two-level IVR ("press 1 for sales, 2 for support") in an axum app of its own: the
//! webhook at `POST /webhooks/voice`, mounted beside the app's own `GET /stats`, sharing the
//! app's state.
//!
//! The round trip through 8x8:
//!
//! 1. `CALL_RECEIVED`: [`menu::Ivr`] replies with a `sayAndCapture` whose `clientActionId` is
//!    `main-menu`;
//! 2. 8x8 speaks the prompt, collects a digit and posts the next `CALL_ACTION`, echoing
//!    `clientActionId`, with the digit in `eventData.dtmf` (or none after a timeout);
//! 3. the handler routes on `client_action_id()` + `dtmf()`: a sub-menu, a desk (`say` +
//!    `makeCall`), or an apology and `hangup`;
//! 4. the `SESSION_SUMMARY` at the end is counted by its status in [`stats::Stats`], which
//!    `GET /stats` shows.

pub mod menu;
pub mod stats;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use callflow_axum::callflow::Webhook;

pub use menu::Ivr;
pub use stats::{Snapshot, Stats};

/// Where the app serves the webhook.
pub const WEBHOOK_PATH: &str = "/webhooks/voice";

/// The app's own state: what its routes share with the webhook's handler.
#[derive(Clone, Default)]
pub struct AppState {
    /// Outcomes counted from `SESSION_SUMMARY`s.
    pub stats: Arc<Stats>,
}

/// The whole app: `GET /stats` and the webhook at [`WEBHOOK_PATH`], on one router with one
/// state.
pub fn app(state: AppState) -> Router {
    let webhook = Webhook::new(Ivr::new(state.stats.clone()));
    Router::new()
        .route("/stats", get(stats))
        .route(WEBHOOK_PATH, callflow_axum::route(webhook))
        .with_state(state)
}

async fn stats(State(state): State<AppState>) -> axum::Json<Snapshot> {
    axum::Json(state.stats.snapshot())
}
