//! Scenarios: one call session, scripted in TOML.
//!
//! ```
//! use callflow_sim::Scenario;
//! let scenario = Scenario::from_toml_str(r#"
//!     name = "masked call answered"
//!     [call]
//!     from = "+6591110001"
//!     to = "+6568880000"
//!     [callee]
//!     outcome = "answered"
//!     ring_seconds = 3
//!     talk_seconds = 20
//!     [expect]
//!     session_status = "COMPLETED"
//!     dialled = [{ destination = "+6592220002", caller_id = "+6568880000" }]
//! "#).unwrap();
//! assert_eq!(scenario.call.from, "+6591110001");
//! ```
//!
//! The format is described field by field in the crate's README; unknown keys are an error,
//! so a typo in an expectation never silently turns it off.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The folder of the scenarios shipped with this crate (in its source tree): the
/// number-masking set directly in it, the IVR set in its `ivr/` sub-folder.
pub const SCENARIOS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");

/// One scripted call session.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Scenario {
    /// Name shown in reports (defaults to the file name without `.toml`).
    #[serde(default)]
    pub name: String,
    /// What the scenario is about (free text).
    #[serde(default)]
    pub description: String,
    /// The kind of handler the scenario is written for (`number-masking`, `ivr`, `greeter`, …);
    /// informational, for humans and for test suites that pick scenarios.
    #[serde(default)]
    pub handler: Option<String>,
    /// The inbound call (leg A) and what the caller does.
    pub call: Call,
    /// What happens to every leg the webhook dials with `makeCall` (leg B).
    #[serde(default)]
    pub callee: Callee,
    /// What must hold at the end.
    #[serde(default)]
    pub expect: Expect,
    /// Where the scenario was loaded from.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// The inbound call that starts the session.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Call {
    /// The caller's number (`source` of leg A).
    pub from: String,
    /// The number dialled: the virtual number (`destination` of leg A).
    pub to: String,
    /// `subAccountId` of every event (default `callflow_sim`).
    #[serde(default = "default_sub_account")]
    pub sub_account: String,
    /// Reference id of the virtual number (default `vn-ref-1`): `destinationRefId` on the
    /// inbound leg, `sourceRefId` on legs that show it as caller id.
    #[serde(default = "default_ref_id")]
    pub ref_id: String,
    /// Digits the caller enters at each `sayAndCapture`, in order; `""` enters nothing (the
    /// capture times out and the next `CALL_ACTION` carries no digits).
    #[serde(default)]
    pub digits: Vec<String>,
}

fn default_sub_account() -> String {
    "callflow_sim".to_owned()
}

fn default_ref_id() -> String {
    "vn-ref-1".to_owned()
}

/// What the dialled party does.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Callee {
    /// The outcome of the leg (default `answered`).
    #[serde(default)]
    pub outcome: Outcome,
    /// Seconds the leg rings before the outcome (answer, busy, no answer, failure, or the
    /// caller hanging up). Default 3 (30 for `no-answer`).
    #[serde(default)]
    pub ring_seconds: Option<u64>,
    /// Seconds the parties talk once answered (default 20).
    #[serde(default = "default_talk")]
    pub talk_seconds: u64,
    /// `errorDetails.errorCode` for `outcome = "error"` (default -2004, no coverage).
    #[serde(default)]
    pub error_code: Option<i64>,
}

fn default_talk() -> u64 {
    20
}

impl Default for Callee {
    fn default() -> Self {
        Self {
            outcome: Outcome::default(),
            ring_seconds: None,
            talk_seconds: default_talk(),
            error_code: None,
        }
    }
}

impl Callee {
    /// Seconds of ringing before the outcome.
    pub fn ring(&self) -> u64 {
        self.ring_seconds.unwrap_or(match self.outcome {
            Outcome::NoAnswer => 30,
            Outcome::Busy | Outcome::Failed | Outcome::Error => 1,
            _ => 3,
        })
    }
}

/// The outcome of a dialled leg.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Answers after `ring_seconds` and talks for `talk_seconds`.
    #[default]
    Answered,
    /// Busy (SIP 486).
    Busy,
    /// Rings out without an answer (SIP 480).
    NoAnswer,
    /// Cannot be reached: switched off, invalid number (SIP 404).
    Failed,
    /// The caller hangs up while the leg is still ringing (SIP 487): both legs `CANCELED`.
    CallerHangsUp,
    /// A platform error on the outbound leg (e.g. no coverage): session `ERROR`.
    Error,
}

impl Outcome {
    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no-answer",
            Outcome::Failed => "failed",
            Outcome::CallerHangsUp => "caller-hangs-up",
            Outcome::Error => "error",
        }
    }
}

/// A B leg the webhook must have dialled.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Dial {
    /// The number dialled (`makeCall.destination`).
    pub destination: String,
    /// The caller id shown (`makeCall.source`); not checked when absent.
    #[serde(default)]
    pub caller_id: Option<String>,
}

/// Expectations checked after the session. Every field is optional; absent ones are not
/// checked.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Expect {
    /// `sessionStatus` of the summary (`COMPLETED`, `BUSY`, `NO_ANSWER`, `CANCELED`,
    /// `FAILED`, `ERROR`).
    #[serde(default)]
    pub session_status: Option<String>,
    /// `lastAction` of the summary (`MAKE_CALL`, `SAY`, `SAY_AND_CAPTURE`, `PLAY_FILE`,
    /// `HANGUP`).
    #[serde(default)]
    pub last_action: Option<String>,
    /// `callCount` of the summary.
    #[serde(default)]
    pub call_count: Option<u32>,
    /// `errorDetails.errorCode` of the summary.
    #[serde(default)]
    pub error_code: Option<i64>,
    /// Every `makeCall` the webhook returned, in order; `[]` means "no B leg".
    #[serde(default)]
    pub dialled: Option<Vec<Dial>>,
    /// Every action the webhook returned, in order (`say`, `playFile`, `sayAndCapture`,
    /// `makeCall`, `hangup`), across all replies.
    #[serde(default)]
    pub actions: Option<Vec<String>>,
    /// Texts that some `say` or `sayAndCapture` prompt contains (ignoring case).
    #[serde(default)]
    pub said: Vec<String>,
    /// The `clientActionId`s of the replies that set one, in order.
    #[serde(default)]
    pub client_action_ids: Option<Vec<String>>,
    /// How many `CALL_ACTION` requests the session takes.
    #[serde(default)]
    pub call_actions: Option<usize>,
    /// Whether every `CALL_ACTION` reply must be a valid callflow (default true). Set to false
    /// in a scenario that expects the handler to fail.
    #[serde(default = "yes")]
    pub valid_replies: bool,
}

fn yes() -> bool {
    true
}

impl Default for Expect {
    fn default() -> Self {
        Self {
            session_status: None,
            last_action: None,
            call_count: None,
            error_code: None,
            dialled: None,
            actions: None,
            said: Vec::new(),
            client_action_ids: None,
            call_actions: None,
            valid_replies: true,
        }
    }
}

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub struct ScenarioError {
    file: Option<PathBuf>,
    message: String,
}

impl ScenarioError {
    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}: {}", p.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

const SESSION_STATUSES: &[&str] = &[
    "COMPLETED",
    "NO_ANSWER",
    "BUSY",
    "CANCELED",
    "FAILED",
    "ERROR",
];
const LAST_ACTIONS: &[&str] = &["MAKE_CALL", "SAY", "SAY_AND_CAPTURE", "PLAY_FILE", "HANGUP"];
const ACTIONS: &[&str] = &["say", "playFile", "sayAndCapture", "makeCall", "hangup"];

impl Scenario {
    /// Parses a scenario from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, ScenarioError> {
        let mut s: Scenario = toml::from_str(text).map_err(|e| ScenarioError {
            file: None,
            message: e.to_string().trim_end().to_owned(),
        })?;
        s.check().map_err(|message| ScenarioError {
            file: None,
            message,
        })?;
        if s.name.trim().is_empty() {
            s.name = "scenario".to_owned();
        }
        Ok(s)
    }

    /// Reads and parses a scenario file; the name defaults to the file name.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        let err = |message: String| ScenarioError {
            file: Some(path.to_owned()),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let mut s: Scenario = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        s.check().map_err(err)?;
        if s.name.trim().is_empty() {
            s.name = path.file_stem().map_or_else(
                || "scenario".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
        }
        s.source = Some(path.to_owned());
        Ok(s)
    }

    /// Loads every `*.toml` file directly in `dir`, sorted by file name (sub-folders are
    /// not entered: the IVR scenarios in `scenarios/ivr/` stay out of `scenarios/`).
    ///
    /// ```
    /// let masking = callflow_sim::Scenario::load_dir(callflow_sim::SCENARIOS_DIR).unwrap();
    /// assert!(masking.iter().all(|s| s.handler.as_deref() == Some("number-masking")));
    /// ```
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Self>, ScenarioError> {
        let dir = dir.as_ref();
        let entries = std::fs::read_dir(dir).map_err(|e| ScenarioError {
            file: Some(dir.to_owned()),
            message: format!("cannot read directory: {e}"),
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        files.iter().map(Self::load).collect()
    }

    fn check(&self) -> Result<(), String> {
        if self.call.from.trim().is_empty() || self.call.to.trim().is_empty() {
            return Err("call.from and call.to must be phone numbers".to_owned());
        }
        for d in &self.call.digits {
            if !d
                .chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
            {
                return Err(format!(
                    "call.digits: {d:?} is not DTMF (digits, * and # only)"
                ));
            }
        }
        let e = &self.expect;
        if let Some(s) = &e.session_status
            && !SESSION_STATUSES.contains(&s.as_str())
        {
            return Err(format!(
                "expect.session_status: {s:?} is not one of {}",
                SESSION_STATUSES.join(", ")
            ));
        }
        if let Some(s) = &e.last_action
            && !LAST_ACTIONS.contains(&s.as_str())
        {
            return Err(format!(
                "expect.last_action: {s:?} is not one of {}",
                LAST_ACTIONS.join(", ")
            ));
        }
        for a in e.actions.iter().flatten() {
            if !ACTIONS.contains(&a.as_str()) {
                return Err(format!(
                    "expect.actions: {a:?} is not one of {}",
                    ACTIONS.join(", ")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = Scenario::from_toml_str("[call]\nfrom = \"+6591110001\"\nto = \"+6568880000\"\n")
            .unwrap();
        assert_eq!(s.callee.outcome, Outcome::Answered);
        assert_eq!(s.callee.ring(), 3);
        assert_eq!(s.callee.talk_seconds, 20);
        assert!(s.expect.valid_replies);
        assert_eq!(s.call.sub_account, "callflow_sim");
    }

    #[test]
    fn typos_in_expectations_are_errors() {
        let err = Scenario::from_toml_str(
            "[call]\nfrom = \"+6591110001\"\nto = \"+6568880000\"\n[expect]\nsesion_status = \"BUSY\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("sesion_status"), "{err}");
    }

    #[test]
    fn unknown_status_and_outcome_are_errors() {
        let base = "[call]\nfrom = \"+6591110001\"\nto = \"+6568880000\"\n";
        assert!(
            Scenario::from_toml_str(&format!("{base}[expect]\nsession_status = \"DONE\"\n"))
                .is_err()
        );
        assert!(
            Scenario::from_toml_str(&format!("{base}[callee]\noutcome = \"asleep\"\n")).is_err()
        );
        assert!(
            Scenario::from_toml_str(&format!("{base}[expect]\nactions = [\"dance\"]\n")).is_err()
        );
    }
}
