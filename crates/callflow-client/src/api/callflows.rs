//! Send Callflow: `POST /api/v1/subaccounts/{subAccountId}/callflows`.

use callflow::CallFlow;
use callflow::callflow::Mode;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::open::api_enum;
use super::{ApiStatus, InvalidRequest, Open, ValidUntil};

/// A Send Callflow request: a callflow that passed the core's validator in
/// [`Mode::SendCallflow`] (first action `makeCall`, at most two `makeCall`, `hangup` last,
/// no `callRecording`, …), and an optional `validUntil`.
///
/// It can only be built from a valid callflow, so nothing 8x8 would refuse for a documented
/// rule leaves the client.
///
/// ```
/// use callflow::CallFlow;
/// use callflow_client::api::SendCallflow;
///
/// let flow = CallFlow::new()
///     .make_call("+6568880000", "+6591110001")
///     .say("Your parcel arrives today.")
///     .hangup();
/// let req = SendCallflow::new(flow).unwrap();
/// assert!(req.to_json().starts_with(r#"{"callflow":[{"action":"makeCall""#));
///
/// // The first action must be makeCall: 8x8's -1013, found without a network round trip.
/// let err = SendCallflow::new(CallFlow::new().say("Hello").hangup()).unwrap_err();
/// assert_eq!(err.code(), Some(-1013));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SendCallflow {
    flow: CallFlow,
    valid_until: Option<ValidUntil>,
}

impl SendCallflow {
    /// Validates `flow` for Send Callflow; every violation comes back with 8x8's code and
    /// JSON path.
    pub fn new(flow: CallFlow) -> Result<Self, InvalidRequest> {
        flow.validate(Mode::SendCallflow)
            .map_err(InvalidRequest::callflow)?;
        Ok(Self {
            flow,
            valid_until: None,
        })
    }

    /// Parses and validates a Send Callflow body as JSON (a file, a database row): a body
    /// that is not JSON is -1001, a `callflow` that is not an array -1009, an unknown action
    /// -1007, and so on; a `validUntil` not in 8x8's format is refused too.
    pub fn from_json(json: &[u8]) -> Result<Self, InvalidRequest> {
        let flow = CallFlow::parse(json, Mode::SendCallflow).map_err(InvalidRequest::callflow)?;
        #[derive(Deserialize)]
        struct Root {
            #[serde(rename = "validUntil")]
            valid_until: Option<String>,
        }
        // The core has checked that the root is an object and `validUntil` a string.
        let root: Root = serde_json::from_slice(json)
            .map_err(|_| InvalidRequest::bad_field("validUntil", "must be a string"))?;
        let valid_until = root
            .valid_until
            .as_deref()
            .map(ValidUntil::parse)
            .transpose()?;
        Ok(Self { flow, valid_until })
    }

    /// Sets `validUntil`.
    pub fn valid_until(mut self, t: ValidUntil) -> Self {
        self.valid_until = Some(t);
        self
    }

    /// Refuses a `validUntil` before `now`: 8x8 answers such a request with -1015. Time
    /// passes between building and sending, so `Client::send_callflow` checks it
    /// when it sends.
    pub fn check_not_expired(&self, now: std::time::SystemTime) -> Result<(), InvalidRequest> {
        match &self.valid_until {
            Some(t) if t.has_passed(now) => Err(InvalidRequest::expired()),
            _ => Ok(()),
        }
    }

    /// The callflow.
    pub fn callflow(&self) -> &CallFlow {
        &self.flow
    }

    /// The `validUntil`, if set.
    pub fn valid_until_time(&self) -> Option<&ValidUntil> {
        self.valid_until.as_ref()
    }

    /// The request body as JSON bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        serde_json::to_writer(&mut out, self).expect("a validated callflow always serializes");
        out
    }

    /// The request body as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a validated callflow always serializes")
    }
}

impl Serialize for SendCallflow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("callflow", self.flow.actions())?;
        if let Some(id) = self.flow.client_action_id() {
            m.serialize_entry("clientActionId", id)?;
        }
        if let Some(t) = &self.valid_until {
            m.serialize_entry("validUntil", t)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for SendCallflow {
    /// Strict: the same checks as [`SendCallflow::from_json`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        Self::from_json(raw.get().as_bytes()).map_err(serde::de::Error::custom)
    }
}

api_enum! {
    /// `sessionStatus` of a Send Callflow answer.
    pub enum SessionStatus ("session status") {
        /// `CREATED`: 8x8 accepted the callflow and started the session.
        Created = "CREATED",
        /// `NOT_CREATED` (once written `NOT CREATED`): refused; `statusCode` says why.
        NotCreated = "NOT_CREATED" | "NOT CREATED",
    }
}

/// 8x8's answer to Send Callflow, success or refusal (the document gives both one shape).
///
/// Tolerant: every field is optional and unknown fields are ignored. The client returns it
/// only when [`SendCallflowResponse::is_created`] holds; a refusal becomes an
/// [`Error`](crate::Error) carrying `statusCode`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct SendCallflowResponse {
    /// The session's id, as in its `CALL_ACTION` and `SESSION_SUMMARY` webhooks (on success).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// `CREATED` or `NOT_CREATED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_status: Option<Open<SessionStatus>>,
    /// The id 8x8 gave this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_flow_request_id: Option<String>,
    /// Echo of the request's `validUntil`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// `statusCode`: `1` when created; a negative validation code (-1001 … -1020, -9999) when
    /// refused; the HTTP status for 401, 404 and 500. `statusMessage`: 8x8's message
    /// (`Created`, or what is wrong).
    #[serde(flatten)]
    pub status: ApiStatus,
}

impl SendCallflowResponse {
    /// Whether 8x8 created the session: `sessionStatus` `CREATED` (the project's reading of
    /// the document, whatever the HTTP status), or, without a status, a non-negative
    /// `statusCode`.
    pub fn is_created(&self) -> bool {
        match &self.session_status {
            Some(s) => {
                *s == SessionStatus::Created && self.status.status_code.is_none_or(|c| c >= 0)
            }
            None => self.status.status_code.is_some_and(|c| c >= 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> CallFlow {
        CallFlow::new()
            .make_call("6512345678", "6590000000")
            .say("Hi, This is a test message from 8x8")
            .hangup()
    }

    #[test]
    fn serializes_like_the_documented_request() {
        let req = SendCallflow::new(good())
            .unwrap()
            .valid_until(ValidUntil::parse("2024-07-03T05:59:32.226Z").unwrap());
        let v: serde_json::Value = serde_json::from_slice(&req.to_vec()).unwrap();
        assert_eq!(v["validUntil"], "2024-07-03T05:59:32.226Z");
        assert_eq!(v["callflow"][0]["action"], "makeCall");
        assert_eq!(v["callflow"][0]["params"]["source"], "6512345678");
        assert_eq!(v["callflow"][2], serde_json::json!({"action": "hangup"}));
        let back: SendCallflow = serde_json::from_value(v).unwrap();
        assert_eq!(back, req);
    }

    #[test]
    fn refuses_what_the_document_forbids_with_8x8_codes() {
        let e = SendCallflow::from_json(br#"{"callflow": {"action": "hangup"}}"#).unwrap_err();
        assert_eq!(e.code(), Some(-1009));
        assert!(e.to_string().contains("$.callflow"), "{e}");
        let e = SendCallflow::from_json(b"not json").unwrap_err();
        assert_eq!(e.code(), Some(-1001));
        let e = SendCallflow::from_json(
            br#"{"callflow":[{"action":"makeCall","params":{"source":"6512345678","destination":"6590000000"}}],"validUntil":"tomorrow"}"#,
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("validUntil"));
        assert!(serde_json::from_str::<SendCallflow>(r#"{"callflow":[]}"#).is_err());
    }

    #[test]
    fn created_or_not() {
        let r: SendCallflowResponse = serde_json::from_str(
            r#"{"sessionStatus":"CREATED","statusCode":1,"sessionId":"s","extra":true}"#,
        )
        .unwrap();
        assert!(r.is_created());
        let r: SendCallflowResponse =
            serde_json::from_str(r#"{"sessionStatus":"NOT CREATED","statusCode":-1013}"#).unwrap();
        assert_eq!(
            r.session_status,
            Some(Open::Known(SessionStatus::NotCreated))
        );
        assert!(!r.is_created());
        let r: SendCallflowResponse =
            serde_json::from_str(r#"{"sessionStatus":"QUEUED","statusCode":"1"}"#).unwrap();
        assert_eq!(r.session_status.as_ref().unwrap().as_str(), "QUEUED");
        assert!(!r.is_created());
    }
}
