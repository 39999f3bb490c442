//! Outbound callflows: what you send back to 8x8.
//!
//! A [`CallFlow`] is `{"clientActionId"?, "callflow": [...]}`. Build one with
//! [`CallFlow::builder`], which reads like the call and cannot add anything after `hangup`:
//!
//! ```
//! use callflow::CallFlow;
//! let flow = CallFlow::builder()
//!     .say("Sorry, this number is not in service.")
//!     .hangup();
//! assert_eq!(
//!     flow.to_json(),
//!     r#"{"callflow":[{"action":"say","params":{"text":"Sorry, this number is not in service.","voiceProfile":"en-US-BenjaminRUS"}},{"action":"hangup"}]}"#
//! );
//! ```
//!
//! [`CallFlow::validate`] checks a callflow against 8x8's rules and reports every violation
//! with its JSON path and 8x8's own status code; [`CallFlow::parse`] does the same for a
//! callflow kept as JSON (in a file or a database).

mod action;
mod builder;
mod validate;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

pub use action::{
    Action, ActionKind, DEFAULT_VOICE_PROFILE, MakeCall, MakeCallTo, PlayFile, Say, SayAndCapture,
};
pub use builder::CallFlowBuilder;
pub use validate::{Code, Mode, Violation, Violations, is_http_url};

/// A reply to a `CALL_ACTION` (or the body of a Send Callflow request).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallFlow {
    #[serde(
        rename = "clientActionId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    client_action_id: Option<String>,
    #[serde(rename = "callflow")]
    actions: Vec<Action>,
}

impl CallFlow {
    /// Starts building a callflow (see [`CallFlowBuilder`]).
    pub fn builder() -> CallFlowBuilder {
        CallFlowBuilder::default()
    }

    /// A callflow from actions as they are, without the builder's ordering guarantees; use
    /// [`CallFlow::validate`] before sending it.
    pub fn from_actions(client_action_id: Option<String>, actions: Vec<Action>) -> Self {
        Self {
            client_action_id,
            actions,
        }
    }

    /// The actions, in order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The `clientActionId` 8x8 will echo in the next `CALL_ACTION`.
    pub fn client_action_id(&self) -> Option<&str> {
        self.client_action_id.as_deref()
    }

    /// The JSON text 8x8 expects.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a callflow always serializes")
    }

    /// The JSON bytes 8x8 expects.
    pub fn to_bytes(&self) -> Bytes {
        // Most replies fit: one allocation instead of several growth steps.
        let mut out = Vec::with_capacity(256);
        serde_json::to_writer(&mut out, self).expect("a callflow always serializes");
        Bytes::from(out)
    }

    /// Checks the callflow against 8x8's rules for `mode`; returns every violation.
    ///
    /// ```
    /// use callflow::{CallFlow, callflow::{Mode, Code}};
    /// let flow = CallFlow::builder().say("Hello").hangup();
    /// assert!(flow.validate(Mode::Reply).is_ok());
    /// let err = flow.validate(Mode::SendCallflow).unwrap_err();
    /// assert_eq!(err.violations()[0].code, Code::FirstActionNotMakeCall);
    /// assert_eq!(err.violations()[0].code.as_i32(), -1013);
    /// ```
    pub fn validate(&self, mode: Mode) -> Result<(), Violations> {
        validate::validate_flow(self, mode)
    }

    /// Parses a callflow from JSON and validates it for `mode`: invalid JSON is -1001, an
    /// unknown action -1007, a missing or mistyped parameter -1009, and every rule of
    /// [`CallFlow::validate`] applies.
    ///
    /// ```
    /// use callflow::{CallFlow, callflow::Mode};
    /// let err = CallFlow::parse(br#"{"callflow":[{"action":"dance"}]}"#, Mode::Reply).unwrap_err();
    /// assert_eq!(err.violations()[0].code.as_i32(), -1007);
    /// assert_eq!(err.violations()[0].path, "$.callflow[0].action");
    /// ```
    pub fn parse(json: &[u8], mode: Mode) -> Result<CallFlow, Violations> {
        validate::parse_flow(json, mode)
    }
}

impl From<CallFlowBuilder> for CallFlow {
    fn from(b: CallFlowBuilder) -> Self {
        b.build()
    }
}
