//! 8x8's callflow rules, reported with 8x8's own status codes and JSON paths.
//!
//! Where 8x8's prose and its own examples disagree, the examples win: every official
//! `sayAndCapture` example sets `digitTimeout` equal to `overallTimeout`, which the prose
//! ("must be less than") would reject, so equality is accepted and only
//! `digitTimeout > overallTimeout` is -1006.

mod formats;
mod json;
mod rules;
mod schema;

use std::fmt;

pub use formats::is_http_url;
pub(super) use json::parse_flow;
pub(super) use rules::validate_flow;

/// Which request the callflow is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The body of a reply to a `CALL_ACTION` webhook: any action may come first.
    Reply,
    /// The body of a Send Callflow API request: the first action must be `makeCall`, and
    /// `makeCall` takes only `source` and `destination` (the schema's `maxProperties: 2`).
    SendCallflow,
}

/// 8x8's callflow validation status codes (Send Callflow `statusCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
#[non_exhaustive]
pub enum Code {
    /// -1001: the body is not valid JSON.
    InvalidJson = -1001,
    /// -1002: invalid speech profile or language.
    InvalidSpeechProfile = -1002,
    /// -1003: `minDigits` given without a valid `maxDigits`.
    MinDigitsWithoutMaxDigits = -1003,
    /// -1005: `digitTimeout` given without a valid `overallTimeout`.
    DigitTimeoutWithoutOverallTimeout = -1005,
    /// -1006: `overallTimeout` must not be smaller than `digitTimeout`.
    OverallTimeoutTooSmall = -1006,
    /// -1007: unknown action type.
    UnknownAction = -1007,
    /// -1008: `completeOnHash` false without a valid `maxDigits`.
    CompleteOnHashWithoutMaxDigits = -1008,
    /// -1009: invalid callflow entry (missing, mistyped or out-of-range parameter).
    InvalidEntry = -1009,
    /// -1010: more actions than allowed (more than two `makeCall`).
    TooManyActions = -1010,
    /// -1012: `hangup` used incorrectly (anywhere but last).
    HangupMisplaced = -1012,
    /// -1013: the first action is not `makeCall` (Send Callflow).
    FirstActionNotMakeCall = -1013,
    /// -1017: the destination is not a valid MSISDN.
    InvalidDestination = -1017,
}

impl Code {
    /// The numeric code 8x8 uses.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_i32())
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// 8x8's status code for it.
    pub code: Code,
    /// JSON path, e.g. `$.callflow[0].params.text`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code, self.path, self.message)
    }
}

/// Every rule a callflow breaks (never empty).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// The violations, in document order.
    pub fn violations(&self) -> &[Violation] {
        &self.0
    }

    /// Whether any violation has `code`.
    pub fn has(&self, code: Code) -> bool {
        self.0.iter().any(|v| v.code == code)
    }

    /// Consumes into the list.
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Report(Vec<Violation>);

impl Report {
    fn push(&mut self, code: Code, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation {
            code,
            path: path.into(),
            message: message.into(),
        });
    }

    fn finish<T>(self, ok: T) -> Result<T, Violations> {
        if self.0.is_empty() {
            Ok(ok)
        } else {
            Err(Violations(self.0))
        }
    }
}

fn action_path(i: usize) -> String {
    format!("$.callflow[{i}]")
}

/// The path of an action's parameters, formatted only when a violation is reported (the
/// valid path allocates nothing).
#[derive(Clone, Copy)]
struct At(usize);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "$.callflow[{}].params", self.0)
    }
}

/// The action index in a path (`$.callflow[3].…` → 3), or `None` before any action.
fn path_index(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("$.callflow[")?;
    rest.split(']').next()?.parse().ok()
}
