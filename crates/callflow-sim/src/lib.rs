//! # callflow-sim
//!
//! An offline 8x8 voice platform. It plays whole call sessions, scripted as TOML
//! [scenarios](Scenario), against any webhook URL over plain HTTP, the way 8x8 would:
//!
//! - the inbound `CALL_ACTION` (`CALL_RECEIVED`) with fresh, consistent ids (one session id,
//!   one call id per leg, a new event id per event);
//! - every reply validated with the core's validator ([`callflow::CallFlow::parse`], reply
//!   mode) and violations reported with 8x8's codes; an unusable reply ends the session in
//!   `ERROR` with `-2003`, as 8x8 does;
//! - the returned callflow followed: `say`/`playFile` played, `makeCall` creating a B leg whose
//!   outcome the scenario scripts, `sayAndCapture` leading to the next `CALL_ACTION` with the
//!   scripted digits and the echoed `clientActionId`, `hangup` ending the session;
//! - the `CALL_STATUS` events the legs imply, then the `SESSION_SUMMARY` derived as in
//!   docs/protocol.md §5.5 ([`session_status_for`]);
//! - the scenario's expectations checked, with a transcript (numbers masked) that shows the
//!   response time of every webhook call.
//!
//! Faults can be injected ([`PlayOptions`]): duplicate deliveries, out-of-order status events,
//! a response-time deadline, and the legacy payload style of older 8x8 documents.
//!
//! ```no_run
//! use callflow_sim::{PlayOptions, Scenario, play};
//! # async fn run() {
//! let scenario = Scenario::load("crates/callflow-sim/scenarios/masked-call-answered.toml").unwrap();
//! let report = play(&scenario, &PlayOptions::new("http://127.0.0.1:3000/webhooks/voice")).await;
//! print!("{}", callflow_sim::render_text(std::slice::from_ref(&report)));
//! assert!(report.passed());
//! # }
//! ```
//!
//! The crate also lints callflow JSON ([`lint_bytes`]) and posts single events ([`send()`]).
//! The `callflow` command line (`crates/callflow-cli`: `callflow play`, `callflow lint`,
//! `callflow send`) wraps all three; see the README.

mod engine;
mod events;
mod http;
mod lint;
mod mask;
mod report;
mod scenario;
mod send;

pub use engine::{PlayOptions, error_message, play, play_all, session_status_for};
pub use events::PayloadStyle;
pub use http::{UrlError, check_url};
pub use lint::{LintResult, lint_bytes};
pub use mask::mask_json;
pub(crate) use mask::{Labels, mask_text};
pub use report::{
    Check, Exchange, LegOutcome, Line, Report, SessionOutcome, render_json, render_junit,
    render_text,
};
pub use scenario::{Call, Callee, Dial, Expect, Outcome, SCENARIOS_DIR, Scenario, ScenarioError};
pub use send::{EventKind, SendOptions, SendResult, send};

/// Re-export of the core crate, whose types appear in this crate's API.
pub use callflow;
