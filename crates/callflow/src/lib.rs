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
