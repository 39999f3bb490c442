//! # callflow
//!
//! Typed 8x8 voice webhooks for Rust services: above all the Number Masking
//! **Voice Call Action** (VCA) webhook, where 8x8 POSTs a call event and waits for a
//! *callflow* (say, play a file, bridge the call, capture digits, hang up).
//!
//! - [`event`]: tolerant inbound events (all five documented types, plus unknown ones);
//! - [`callflow`]: strict outbound callflows, a builder, and a validator that speaks 8x8's
//!   own status codes;
//! - [`CallHandler`]: the one trait you implement;
//! - [`Webhook`]: [`Webhook::dispatch`] decides every behaviour (limits, auth, errors,
//!   deadline, panics), so the axum, actix-web and warp adapters only move bytes; it is
//!   also a tower `Service<http::Request<B>>` for any other stack ([`adapter`]);
//! - [`serve`]: the guarded servers' settings, shared by every adapter.
//!
//! ```
//! use callflow::{CallFlow, CallHandler, Context, HandlerError, MakeCall, Webhook};
//! use callflow::event::CallAction;
//!
//! struct Masking;
//!
//! // Plain `async fn`: no macro.
//! impl CallHandler for Masking {
//!     async fn on_call_action(&self, ev: CallAction, _cx: &Context) -> Result<CallFlow, HandlerError> {
//!         // A caller reached the virtual number: bridge them, showing the VN as caller id.
//!         let bridge = MakeCall::to("+6592220002").caller_id(&ev.payload.destination);
//!         Ok(CallFlow::builder().make_call(bridge).build())
//!     }
//! }
//!
//! let webhook = Webhook::new(Masking);
//! # let _ = webhook;
//! ```
//!
//! Phone numbers are personal data: [`PhoneNumber`] masks itself in `Debug` and `Display`
//! (`+65****4321`), and the library never logs one in clear.
//!
//! # An IVR round trip, in one place
//!
//! A menu is a `sayAndCapture` with a `clientActionId`; 8x8 speaks it, collects the digits
//! and posts the next `CALL_ACTION` with the same `clientActionId` and the digits, which the
//! handler routes on ([`CallAction::client_action_id`](event::CallAction::client_action_id),
//! [`CallAction::dtmf`](event::CallAction::dtmf)). The `SESSION_SUMMARY` at the end says how
//! the session ended. The test kit (below) plays the whole exchange in process; the complete
//! app (axum, `GET /stats`, scenarios for `callflow play`) is `examples/ivr` in the repository.
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use callflow::callflow::SayAndCapture;
//! use callflow::event::{CallAction, SessionSummary};
//! use callflow::testing::{self, ReplyAssertions, TestClient};
//! use callflow::{CallFlow, CallHandler, Context, HandlerError, MakeCall, Webhook};
//!
//! #[derive(Default)]
//! struct Ivr { ended: AtomicU32 }
//!
//! impl CallHandler for Ivr {
//!     async fn on_call_action(&self, ev: CallAction, _cx: &Context) -> Result<CallFlow, HandlerError> {
//!         if ev.is_call_received() {
//!             // 1. The menu; 8x8 echoes "main-menu" with the digits in the next CALL_ACTION.
//!             let menu = SayAndCapture::new("Press 1 for sales.").digits(1, 1).overall_timeout(10_000);
//!             return Ok(CallFlow::builder().client_action_id("main-menu").say_and_capture(menu).build());
//!         }
//!         // 2. The follow-up, routed on the menu it answers and the digits.
//!         Ok(match (ev.client_action_id(), ev.dtmf()) {
//!             (Some("main-menu"), Some("1")) => CallFlow::builder()
//!                 .say("Connecting you to sales.")
//!                 .make_call(MakeCall::to("+6594440001").caller_id(&ev.payload.destination))
//!                 .build(),
//!             _ => CallFlow::builder().say("Sorry, goodbye.").hangup(), // wrong digit or none
//!         })
//!     }
//!
//!     // 3. The outcome.
//!     async fn on_session_summary(&self, _ev: SessionSummary, _cx: &Context) -> Result<(), HandlerError> {
//!         self.ended.fetch_add(1, Ordering::Relaxed);
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let ivr = std::sync::Arc::new(Ivr::default());
//! let client = TestClient::new(Webhook::new(ivr.clone()));
//!
//! let menu = client.post(testing::call_action().build_json()).await;
//! assert_eq!(menu.reply_action_id().as_deref(), Some("main-menu"));
//! assert_eq!(menu.prompts(), ["Press 1 for sales."]);
//!
//! let pressed = testing::call_action().client_action_id("main-menu").dtmf("1").build_json();
//! let bridge = client.post(pressed.clone()).await;
//! assert_eq!(bridge.dialled(), ["+6594440001"]);
//! assert!(!bridge.0.is_replay());
//!
//! // 8x8 delivers the same event again: the first reply, marked `Callflow-Replay: true`.
//! let again = client.post(pressed).await;
//! assert!(again.0.is_replay());
//! assert_eq!(again.dialled(), bridge.dialled());
//!
//! let wrong = client.post(testing::call_action().client_action_id("main-menu").dtmf("9").build_json()).await;
//! assert!(wrong.hangs_up() && wrong.dialled().is_empty());
//!
//! client.post(testing::session_summary().build_json()).await;
//! assert_eq!(ivr.ended.load(Ordering::Relaxed), 1);
//! # }
//! ```
//!
//! # The test kit: feature `testing`
//!
//! [`testing`] (behind the `testing` feature, off by default; marked on docs.rs) gives:
//!
//! - [`TestClient`](testing::TestClient): requests straight to [`Webhook::dispatch`], no
//!   network, and its [`TestResponse`](testing::TestResponse);
//! - [`ReplyAssertions`](testing::ReplyAssertions): `said()`, `prompts()`, `dialled()`,
//!   `captures()`, `reply_action_id()`, `hangs_up()` on a reply, so a test needs no `match`
//!   per action;
//! - event builders with realistic defaults ([`testing::call_action`],
//!   [`testing::session_summary`], [`testing::call_status`], ...);
//! - [`testing::fixtures`]: every event example of 8x8's documentation as JSON;
//! - [`testing::conformance`]: the suite every web adapter must pass.
//!
//! In a project of your own, as a dev-dependency only:
//!
//! ```toml
//! [dev-dependencies]
//! callflow = { version = "0.1", features = ["testing"] }
//! tokio = { version = "1", features = ["macros", "rt"] }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adapter;
pub mod allow;
pub mod callflow;
pub mod event;
mod handler;
pub mod idempotency;
pub mod limits;
pub mod observe;
pub mod phone;
pub mod serve;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod webhook;

pub use callflow::{CallFlow, CallFlowBuilder, MakeCall};
pub use event::{Event, Timestamp};
pub use handler::{CallHandler, Context, HandlerError, HandlerErrorKind, HandlerFn, handler_fn};
pub use phone::PhoneNumber;
pub use webhook::{
    DEFAULT_DEADLINE, DEFAULT_MAX_BODY_BYTES, InvalidFallback, Rejection, Webhook, WebhookBuilder,
    WebhookRequest, WebhookResponse, default_fallback,
};

/// Re-exports of the crates that appear in this crate's public API.
pub mod reexports {
    pub use bytes;
    pub use http;
    pub use serde_json;
}
