//! # callflow-client
//!
//! A typed client for 8x8's Voice REST API, the other half of [`callflow`]: where `callflow`
//! answers 8x8's webhooks, this crate talks to 8x8 — Send Callflow (voice messages,
//! reminder and OTP calls, outbound IVR), webhook registration, recording push configuration
//! and recording status, virtual numbers, speech profiles and voice log exports: every one of
//! the 14 operations of 8x8's `voice_v1_api.json`.
//!
//! ```no_run
//! use callflow::{CallFlow, MakeCall};
//! use callflow_client::{Client, Config, api::{CreateWebhook, SendCallflow, SubAccountId, WebhookType}};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = std::env::var("CALLFLOW_API_KEY")?; // from connect.8x8.com
//! let client = Client::new(Config::new(key, SubAccountId::new("acme_voice")?))?;
//!
//! // Register the webhooks, with the value 8x8 sends back in `Authorization`.
//! for t in [WebhookType::Vca, WebhookType::Vss] {
//!     let hook = CreateWebhook::new(t, "https://your.host/webhooks/voice")?.http_auth_header("Bearer change-me");
//!     client.create_webhook(&hook).await?;
//! }
//!
//! // Send a voice message: checked against 8x8's rules before it leaves.
//! let call = MakeCall::to("+6591110001").caller_id("+6568880000");
//! let flow = CallFlow::builder().make_call(call).say("Your parcel arrives today.").hangup();
//! let session = client.send_callflow(&SendCallflow::new(flow)?).await?;
//! println!("session {}", session.session_id.unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! - **Nothing leaves that 8x8 would reject for a documented rule.** A [`api::SendCallflow`]
//!   can only be built from a callflow that passed the core's validator in Send mode; the
//!   violations come back with 8x8's own codes (-1013: the first action is not `makeCall`)
//!   without a network round trip. Ids, webhook types, URLs and times are checked against
//!   the document's patterns when they are made.
//! - **Answers are tolerant** ([`api`]): unknown fields ignored, numbers that arrive as
//!   strings accepted, enums open.
//! - **One error type**, [`Error`], with a [`kind`](Error::kind) to branch on, the HTTP
//!   status and 8x8's code; its message never shows the key or a phone number.
//! - **Retries only where safe** ([`RetryPolicy`]): `GET` and `DELETE`, and any request
//!   answered 429 or 503 with `Retry-After`; Send Callflow never, unless you opt in.
//! - **A `tracing` span per request**, `callflow_client.request`, with `operation`,
//!   `method`, `path` (the template), `attempt`, `status`, `code` and `duration_ms`; a
//!   virtual number appears masked.
//!
//! The request and answer types live in [`api`], usable without the HTTP client
//! (`default-features = false`) by a server of the same API.
//!
//! ## Features
//!
//! - `client` (default): [`Client`] and its configuration (reqwest with rustls, tokio,
//!   tracing). Without it, only [`api`].

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
mod error;
#[cfg(feature = "client")]
mod retry;

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use client::{ApiKey, Client, Config, Endpoint};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use error::{Error, ErrorKind};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use retry::RetryPolicy;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
