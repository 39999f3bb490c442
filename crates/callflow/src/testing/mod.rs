//! Test kit (feature `testing`): event builders with realistic defaults, JSON fixtures for
//! every example in 8x8's documentation, and an in-process client.
//!
//! ```
//! use callflow::testing;
//! let body = testing::call_action().from("+6591110001").to("+6568880000").build_json();
//! assert!(body.contains("CALL_RECEIVED"));
//! ```

mod assertions;
mod bound_pair;
mod client;
pub mod conformance;
pub mod fixtures;

pub use crate::event::builder::{
    CALLEE, CALLER, CallActionBuilder, CallStatusBuilder, SUB_ACCOUNT, SessionSummaryBuilder,
    VIRTUAL_NUMBER, call_action, call_status, fresh_id, recording_status, session_summary,
    virtual_number_update,
};
pub use assertions::ReplyAssertions;
pub use bound_pair::BoundPair;
pub use client::{TestClient, TestResponse};
