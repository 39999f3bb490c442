//! Inbound events: what 8x8 POSTs to your webhooks.
//!
//! Parsing is tolerant where 8x8's documentation drifts (unknown fields ignored, unknown enum
//! values kept, numbers accepted as strings, DTMF found wherever a payload version put it)
//! and strict where it matters: a *known* event type with a wrong shape is a [`ParseError`]
//! naming the JSON path, never silently "unknown".
//!
//! ```
//! use callflow::event::Event;
//! let body = br#"{"namespace":"VOICE","eventType":"CALL_ACTION","payload":{
//!   "eventId":"e1","callId":"c1","sessionId":"s1","callStatus":"CALL_RECEIVED",
//!   "source":"+6591110001","destination":"+6568880000","callDuration":"0"}}"#;
//! let Event::CallAction(ev) = Event::from_slice(body).unwrap() else { panic!() };
//! assert_eq!(ev.payload.destination.as_str(), "+6568880000");
//! assert_eq!(ev.payload.call_duration, Some(0));
//! ```

pub mod builder;
mod call;
mod enums;
mod fast;
pub mod lenient;
pub(crate) mod open_enum;
mod other;
mod summary;
mod timestamp;

use std::borrow::Cow;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use call::{CallAction, CallPayload, CallStatusEvent, EventData, EventDataMap};
pub use enums::{
    CallDirection, CallStatus, CallType, LastAction, LegStatus, NumberFormat, OperationalStatus,
    RecordingState, SessionStatus, UpdateEventType, UpdateStatus,
};
pub use open_enum::UnrecognizedValue;
pub use other::{
    NumbersPayload, RecordingPayload, RecordingStatus, VirtualNumber, VirtualNumberUpdate,
};
pub use summary::{CallLeg, CallQuality, ErrorDetails, Legs, SessionSummary, SummaryPayload};
pub use timestamp::Timestamp;

/// The `eventType` values this version knows.
pub mod event_type {
    /// Voice Call Action: the platform asks for a callflow.
    pub const CALL_ACTION: &str = "CALL_ACTION";
    /// Voice Call Status: leg telemetry.
    pub const CALL_STATUS: &str = "CALL_STATUS";
    /// Voice Session Summary: final outcome.
    pub const SESSION_SUMMARY: &str = "SESSION_SUMMARY";
    /// Voice Recording Uploaded.
    pub const CALL_RECORDING_STATUS: &str = "CALL_RECORDING_STATUS";
    /// Virtual Number Updated.
    pub const VIRTUAL_NUMBER_UPDATE: &str = "VIRTUAL_NUMBER_UPDATE";
}

/// The fields every voice webhook body carries around its `payload`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Envelope {
    /// `eventType` as received.
    pub event_type: String,
    /// `namespace` (`"VOICE"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Payload schema version (documented only on the IVR session summary, e.g. `5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

impl Envelope {
    /// An envelope for `event_type` with namespace `VOICE` and 8x8's description for it.
    pub fn voice(event_type: &str) -> Self {
        let description = match event_type {
            event_type::CALL_ACTION => Some("Action request of a call"),
            event_type::CALL_STATUS => Some("Status update of a call"),
            event_type::SESSION_SUMMARY => Some("Summary of a completed call session"),
            event_type::CALL_RECORDING_STATUS => Some("Call recording status updated"),
            event_type::VIRTUAL_NUMBER_UPDATE => {
                Some("Status of account virtual number(s) updated")
            }
            _ => None,
        };
        Self {
            event_type: event_type.to_owned(),
            namespace: Some("VOICE".to_owned()),
            description: description.map(str::to_owned),
            version: None,
        }
    }
}

/// An event whose `eventType` this version does not know, kept whole.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// `eventType` as received.
    pub event_type: String,
    /// The whole body as JSON.
    pub raw: serde_json::Value,
}

impl fmt::Debug for UnknownEvent {
    // The raw JSON may hold phone numbers: show only its shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .raw
            .get("payload")
            .and_then(|p| p.as_object())
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        f.debug_struct("UnknownEvent")
            .field("event_type", &self.event_type)
            .field("payload_keys", &keys)
            .finish()
    }
}

/// Any inbound voice event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `CALL_ACTION`.
    CallAction(CallAction),
    /// `CALL_STATUS`.
    CallStatus(CallStatusEvent),
    /// `SESSION_SUMMARY`.
    SessionSummary(SessionSummary),
    /// `CALL_RECORDING_STATUS`.
    RecordingStatus(RecordingStatus),
    /// `VIRTUAL_NUMBER_UPDATE`.
    VirtualNumberUpdate(VirtualNumberUpdate),
    /// Any other `eventType`.
    Unknown(UnknownEvent),
}

/// The ids of an event, for logs and idempotency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventIds<'a> {
    /// `eventId`, where the event has one.
    pub event_id: Option<&'a str>,
    /// `sessionId`, where the event has one.
    pub session_id: Option<&'a str>,
    /// `callId`, where the event has one.
    pub call_id: Option<&'a str>,
}

impl Event {
    /// Parses a webhook body.
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        parse(body)
    }

    /// The `eventType` as received.
    pub fn event_type(&self) -> &str {
        match self {
            Event::CallAction(e) => &e.envelope.event_type,
            Event::CallStatus(e) => &e.envelope.event_type,
            Event::SessionSummary(e) => &e.envelope.event_type,
            Event::RecordingStatus(e) => &e.envelope.event_type,
            Event::VirtualNumberUpdate(e) => &e.envelope.event_type,
            Event::Unknown(e) => &e.event_type,
        }
    }

    /// The event, session and call ids it carries.
    pub fn ids(&self) -> EventIds<'_> {
        match self {
            Event::CallAction(CallAction { payload: p, .. })
            | Event::CallStatus(CallStatusEvent { payload: p, .. }) => EventIds {
                event_id: Some(&p.event_id),
                session_id: Some(&p.session_id),
                call_id: Some(&p.call_id),
            },
            Event::SessionSummary(e) => EventIds {
                session_id: Some(&e.payload.session_id),
                ..EventIds::default()
            },
            Event::RecordingStatus(e) => EventIds {
                session_id: Some(&e.payload.session_id),
                ..EventIds::default()
            },
            Event::VirtualNumberUpdate(_) => EventIds::default(),
            Event::Unknown(e) => {
                let p = e.raw.get("payload");
                let s = |k: &str| p.and_then(|p| p.get(k)).and_then(|v| v.as_str());
                EventIds {
                    event_id: s("eventId"),
                    session_id: s("sessionId"),
                    call_id: s("callId"),
                }
            }
        }
    }
}

/// Why a body is not a usable event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ParseError {
    kind: ParseErrorKind,
    path: Option<String>,
    message: String,
}

/// The class of a [`ParseError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The body is empty.
    Empty,
    /// The body is not valid JSON (syntax, invalid UTF-8, nesting too deep, truncated).
    Syntax,
    /// Valid JSON, but a known event with a wrong shape (missing field, wrong type).
    Shape,
}

impl ParseError {
    /// The class of error.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// The JSON path of the offending field (`$.payload.callId`), for shape errors.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn describe(&self) -> String {
        match &self.path {
            Some(p) => format!("{p}: {}", self.message),
            None => self.message.clone(),
        }
    }

    fn syntax(e: &serde_json::Error) -> Self {
        Self {
            kind: ParseErrorKind::Syntax,
            path: None,
            message: format!("body is not valid JSON: {e}"),
        }
    }

    fn shape(
        prefix: &str,
        e: serde_path_to_error::Error<serde_json::Error>,
        missing: impl FnOnce() -> Option<MissingField>,
    ) -> Self {
        let mut path = String::from(prefix);
        push_path(&mut path, e.path());
        let inner = e.into_inner();
        if matches!(
            inner.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        ) {
            return Self::syntax(&inner);
        }
        // A missing field is reported at its parent: name the field itself. serde_json says
        // "missing field" only in its message text, so ask a deserializer whose error type
        // has a `MissingField` variant (the slow path pays for it, only on a shape error).
        if let Some((at, field)) = missing() {
            let mut path = String::from(prefix);
            push_path(&mut path, &at);
            path.push('.');
            path.push_str(field);
            return Self {
                kind: ParseErrorKind::Shape,
                path: Some(path),
                message: "is missing but it is required".to_owned(),
            };
        }
        let full = inner.to_string();
        // serde_json appends the position it knows (line and column); the path says more.
        let position = format!(" at line {} column {}", inner.line(), inner.column());
        let msg = full
            .strip_suffix(position.as_str())
            .unwrap_or(full.as_str())
            .to_owned();
        Self {
            kind: ParseErrorKind::Shape,
            path: Some(path),
            message: msg,
        }
    }
}

/// Appends `at` to a JSON path (`.key`, `[index]`).
fn push_path(path: &mut String, at: &serde_path_to_error::Path) {
    use serde_path_to_error::Segment;
    for seg in at.iter() {
        match seg {
            Segment::Seq { index } => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
            Segment::Map { key } => {
                path.push('.');
                path.push_str(key);
            }
            Segment::Enum { variant } => {
                path.push('.');
                path.push_str(variant);
            }
            Segment::Unknown => path.push_str(".?"),
        }
    }
}

/// Where a required field is missing (its parent's path) and its name.
type MissingField = (serde_path_to_error::Path, &'static str);

/// Where `T` misses a required field in `json`, and which: `None` when the first error of
/// `T` in `json` is another one. Runs `T`'s deserializer over a `serde_value::Value`, whose
/// error type reports a missing field as a variant rather than as text.
fn missing_field<T: DeserializeOwned>(json: &str) -> Option<MissingField> {
    use serde_value::{DeserializerError, Value, ValueDeserializer};
    let value: Value = serde_json::from_str(json).ok()?;
    let de = ValueDeserializer::<DeserializerError>::new(value);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Err(e) => match e.inner() {
            DeserializerError::MissingField(field) => Some((e.path().clone(), *field)),
            _ => None,
        },
        Ok(_) => None,
    }
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "eventType", default, borrow)]
    event_type: Option<Cow<'a, str>>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_num")]
    version: Option<u32>,
    #[serde(default, borrow)]
    payload: Option<&'a RawValue>,
}

/// Deserializes `T` from `json`; on failure, deserializes again with path tracking to name
/// the offending field. The fast path pays nothing for the error report.
fn parse_at<'de, T: Deserialize<'de>>(
    json: &'de str,
    prefix: &str,
    missing: fn(&str) -> Option<MissingField>,
) -> Result<T, ParseError> {
    match serde_json::from_str::<T>(json) {
        Ok(v) => Ok(v),
        Err(e)
            if matches!(
                e.classify(),
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof
            ) =>
        {
            Err(ParseError::syntax(&e))
        }
        Err(_) => {
            let mut de = serde_json::Deserializer::from_str(json);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) => Err(ParseError::shape(prefix, e, || missing(json))),
                Ok(_) => Err(ParseError {
                    kind: ParseErrorKind::Shape,
                    path: Some(prefix.to_owned()),
                    message: "invalid value".to_owned(),
                }),
            }
        }
    }
}

fn payload_of<T: DeserializeOwned>(raw: Option<&RawValue>) -> Result<T, ParseError> {
    let raw = raw.ok_or_else(|| ParseError {
        kind: ParseErrorKind::Shape,
        path: Some("$.payload".to_owned()),
        message: "is missing but it is required".to_owned(),
    })?;
    parse_at(raw.get(), "$.payload", missing_field::<T>)
}

fn parse(body: &[u8]) -> Result<Event, ParseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError {
            kind: ParseErrorKind::Empty,
            path: None,
            message: "body is empty".to_owned(),
        });
    }
    let text = std::str::from_utf8(body).map_err(|e| ParseError {
        kind: ParseErrorKind::Syntax,
        path: None,
        message: format!("body is not valid UTF-8: {e}"),
    })?;
    if !text.trim_start().starts_with('{') {
        // Not an object: say whether it is JSON at all before blaming its shape.
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| ParseError::syntax(&e))?;
        return Err(ParseError {
            kind: ParseErrorKind::Shape,
            path: Some("$".to_owned()),
            message: "must be a JSON object".to_owned(),
        });
    }
    match fast::parse(text) {
        Some(event) => Ok(event),
        None => parse_two_pass(text),
    }
}

/// The envelope first (the payload kept as raw JSON), then the payload: handles every order
/// of keys and reports every error.
fn parse_two_pass(text: &str) -> Result<Event, ParseError> {
    // Every envelope field has a default: none can be missing.
    let env: RawEnvelope<'_> = parse_at(text, "$", |_| None)?;
    let event_type = env.event_type.ok_or_else(|| ParseError {
        kind: ParseErrorKind::Shape,
        path: Some("$.eventType".to_owned()),
        message: "is missing but it is required".to_owned(),
    })?;
    let payload = env.payload;
    let envelope = Envelope {
        event_type: event_type.clone().into_owned(),
        namespace: env.namespace,
        description: env.description,
        version: env.version,
    };
    Ok(match event_type.as_ref() {
        event_type::CALL_ACTION => {
            Event::CallAction(CallAction::new(envelope, payload_of(payload)?))
        }
        event_type::CALL_STATUS => {
            Event::CallStatus(CallStatusEvent::new(envelope, payload_of(payload)?))
        }
        event_type::SESSION_SUMMARY => {
            Event::SessionSummary(SessionSummary::new(envelope, payload_of(payload)?))
        }
        event_type::CALL_RECORDING_STATUS => {
            Event::RecordingStatus(RecordingStatus::new(envelope, payload_of(payload)?))
        }
        event_type::VIRTUAL_NUMBER_UPDATE => {
            Event::VirtualNumberUpdate(VirtualNumberUpdate::new(envelope, payload_of(payload)?))
        }
        _ => Event::Unknown(UnknownEvent {
            event_type: envelope.event_type,
            raw: serde_json::from_str(text).map_err(|e| ParseError::syntax(&e))?,
        }),
    })
}
