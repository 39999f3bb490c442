//! What 8x8 answers when it refuses, and why the library refuses before asking.

use std::fmt;

use callflow::callflow::Violations;
use serde::{Deserialize, Serialize};

use super::{ApiStatus, Open, SessionStatus, lenient};

/// An error body of 8x8's Voice API, in any of the shapes its document shows:
///
/// - Send Callflow: `sessionStatus`, `callFlowRequestId`, `statusCode` (a negative validation
///   code, or the HTTP status for 401/404/500), `statusMessage`;
/// - webhooks and recording push config (422): `errorId`, `statusCode` as a **string**
///   (`"1001"`), `statusMessage`, `timestamp`;
/// - log exports (404): `code` (`4018`), `message`, `errorId`, `timestamp`.
///
/// Every field is optional and numbers may be strings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ApiErrorBody {
    /// 8x8's `statusCode` and `statusMessage`.
    #[serde(flatten)]
    pub status: ApiStatus,
    /// 8x8's `code` (log exports).
    #[serde(
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<i64>,
    /// 8x8's `message` (log exports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The id 8x8 gave the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    /// When; the document's schema shows an object as its example, so any JSON is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<serde_json::Value>,
    /// Send Callflow: `NOT_CREATED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_status: Option<Open<SessionStatus>>,
    /// Send Callflow: the request's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_flow_request_id: Option<String>,
}

impl ApiErrorBody {
    /// 8x8's code: `statusCode`, else `code`.
    pub fn error_code(&self) -> Option<i64> {
        self.status.status_code.or(self.code)
    }

    /// 8x8's message: `statusMessage`, else `message`.
    pub fn error_message(&self) -> Option<&str> {
        self.status
            .status_message
            .as_deref()
            .or(self.message.as_deref())
            .filter(|m| !m.trim().is_empty())
    }
}

/// The `422 Invalid param` body of the webhooks and recording push config operations, as a
/// server of the API sends it: `errorId`, `statusCode` as a **string** (`"1001"`),
/// `statusMessage`, `timestamp` (a string, as the schema types it). A client reads the same
/// body as an [`ApiErrorBody`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct InvalidParamBody {
    /// The id given to the error (a UUID).
    pub error_id: String,
    /// 8x8's code, as a string (`"1001"`).
    pub status_code: String,
    /// What is wrong.
    pub status_message: String,
    /// When (RFC 3339).
    pub timestamp: String,
}

impl InvalidParamBody {
    /// A body with `code` and `message`, made at `timestamp`.
    pub fn new(
        error_id: impl Into<String>,
        code: i64,
        message: impl Into<String>,
        timestamp: impl Into<String>,
    ) -> Self {
        Self {
            error_id: error_id.into(),
            status_code: code.to_string(),
            status_message: message.into(),
            timestamp: timestamp.into(),
        }
    }
}

/// A request the library refuses to send: a callflow that breaks 8x8's rules (with the core's
/// [`Violations`] and 8x8's codes), or a value outside what 8x8's document allows.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidRequest(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    Callflow(Violations),
    Field {
        field: &'static str,
        message: &'static str,
        code: Option<i64>,
    },
}

impl InvalidRequest {
    pub(crate) fn callflow(v: Violations) -> Self {
        Self(Repr::Callflow(v))
    }

    pub(crate) fn bad_field(field: &'static str, message: &'static str) -> Self {
        Self(Repr::Field {
            field,
            message,
            code: None,
        })
    }

    /// A `validUntil` that has passed: 8x8 would answer -1015.
    pub(crate) fn expired() -> Self {
        Self(Repr::Field {
            field: "validUntil",
            message: "has already passed (8x8 would refuse the request with -1015)",
            code: Some(-1015),
        })
    }

    /// The callflow's violations, when the callflow was refused.
    pub fn violations(&self) -> Option<&Violations> {
        match &self.0 {
            Repr::Callflow(v) => Some(v),
            Repr::Field { .. } => None,
        }
    }

    /// 8x8's code for the refusal: the first violation's (e.g. -1013) when the callflow was
    /// refused, -1015 for a `validUntil` that has passed, otherwise none.
    pub fn code(&self) -> Option<i64> {
        match &self.0 {
            Repr::Callflow(v) => v.violations().first().map(|v| i64::from(v.code.as_i32())),
            Repr::Field { code, .. } => *code,
        }
    }

    /// The refused field (`validUntil`, `url`, `subAccountId`, …), when it was not the
    /// callflow.
    pub fn field(&self) -> Option<&'static str> {
        match &self.0 {
            Repr::Field { field, .. } => Some(field),
            Repr::Callflow(_) => None,
        }
    }
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            // The core's messages name paths and rules; a value echoed in one ("got …") is
            // masked in case it is a phone number.
            Repr::Callflow(v) => write!(
                f,
                "the callflow breaks 8x8's rules: {}",
                mask_numbers(&v.to_string())
            ),
            Repr::Field { field, message, .. } => write!(f, "`{field}` {message}"),
        }
    }
}

impl fmt::Debug for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InvalidRequest({self})")
    }
}

/// `text` with every run of 7 or more digits (a leading `+` included) masked like a
/// [`PhoneNumber`](callflow::PhoneNumber): `+65****0001`.
pub(crate) fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.trim_start_matches('+').len();
        if digits >= 7 {
            out.push_str(&callflow::phone::Masked(run).to_string());
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_masked_in_messages() {
        assert_eq!(
            mask_numbers("destination +6591110001 is not valid; 6590000000 either; code -1017"),
            "destination +65****0001 is not valid; 65****0000 either; code -1017"
        );
        assert_eq!(mask_numbers("a+b 123456 +"), "a+b 123456 +");
    }

    #[test]
    fn error_bodies_of_every_documented_shape() {
        let b: ApiErrorBody = serde_json::from_str(
            r#"{"errorId":"x","statusCode":"1001","statusMessage":"Invalid JSON request body","timestamp":{}}"#,
        )
        .unwrap();
        assert_eq!(b.error_code(), Some(1001));
        let b: ApiErrorBody =
            serde_json::from_str(r#"{"code":4018,"message":"Invalid jobId"}"#).unwrap();
        assert_eq!(
            (b.error_code(), b.error_message()),
            (Some(4018), Some("Invalid jobId"))
        );
    }
}
