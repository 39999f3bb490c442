//! `CALL_ACTION` and `CALL_STATUS`: events about one call leg.

use serde::{Deserialize, Serialize};

use super::Envelope;
use super::enums::{CallDirection, CallStatus, CallType, NumberFormat};
use super::lenient;
use crate::{PhoneNumber, Timestamp};

/// The payload shared by `CALL_ACTION` and `CALL_STATUS` (8x8 documents them as the same
/// structure; only the expected reply differs).
///
/// Required: `eventId`, `callId`, `sessionId`, `callStatus`, `source`, `destination`. Every
/// other field is optional because 8x8's pages disagree on which are always present.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallPayload {
    /// Unique id of this event (the idempotency key).
    pub event_id: String,
    /// Id of the call leg that produced the event.
    pub call_id: String,
    /// Id of the session (all legs of one masked call share it).
    pub session_id: String,
    /// Sub-account the event belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_account_id: Option<String>,
    /// Status of the leg (`CALL_RECEIVED`, `ACTION_COMPLETED`, …).
    pub call_status: CallStatus,
    /// `INBOUND` or `OUTBOUND`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_direction: Option<CallDirection>,
    /// `PSTN` or `VOIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_type: Option<CallType>,
    /// Source number of the leg (the caller, for an inbound call).
    pub source: PhoneNumber,
    /// Destination number of the leg (the virtual number, for an inbound call).
    pub destination: PhoneNumber,
    /// Format of `source` (`MSISDN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_format: Option<NumberFormat>,
    /// Format of `destination` (`MSISDN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_format: Option<NumberFormat>,
    /// ISO 3166-1 alpha-2 country of `source`; may be `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_country_code: Option<String>,
    /// ISO 3166-1 alpha-2 country of `destination`; may be `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_country_code: Option<String>,
    /// Reference id of the virtual number when it is the source (outbound legs).
    #[serde(
        default,
        alias = "SourceRefId",
        deserialize_with = "lenient::opt_ref",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_ref_id: Option<String>,
    /// Reference id of the virtual number when it is the destination (inbound legs).
    #[serde(
        default,
        alias = "DestinationRefId",
        deserialize_with = "lenient::opt_ref",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_ref_id: Option<String>,
    /// Seconds connected so far (a number or a numeric string).
    #[serde(
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub call_duration: Option<u64>,
    /// Extra data: `{"dtmf": …, "asrCaptured": …}` in current payloads, a string in older ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_data: Option<EventData>,
    /// Digits directly in the payload (older IVR payloads; a number in legacy ones).
    #[serde(
        default,
        deserialize_with = "lenient::opt_digits",
        skip_serializing_if = "Option::is_none"
    )]
    pub dtmf: Option<String>,
    /// Final SIP status code of the leg (a number or a numeric string).
    #[serde(
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub sip_code: Option<u16>,
    /// Event time (also accepted as `Timestamp`, as one 8x8 table spells it).
    #[serde(default, alias = "Timestamp", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Echo of the `clientActionId` of your previous callflow reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_action_id: Option<String>,
}

impl CallPayload {
    /// A payload with the required fields; every optional field is `None` (set the public
    /// fields afterwards).
    pub fn new(
        event_id: impl Into<String>,
        call_id: impl Into<String>,
        session_id: impl Into<String>,
        call_status: CallStatus,
        source: impl Into<PhoneNumber>,
        destination: impl Into<PhoneNumber>,
    ) -> Self {
        Self {
            event_id: event_id.into(),
            call_id: call_id.into(),
            session_id: session_id.into(),
            sub_account_id: None,
            call_status,
            call_direction: None,
            call_type: None,
            source: source.into(),
            destination: destination.into(),
            source_format: None,
            destination_format: None,
            source_country_code: None,
            destination_country_code: None,
            source_ref_id: None,
            destination_ref_id: None,
            call_duration: None,
            event_data: None,
            dtmf: None,
            sip_code: None,
            timestamp: None,
            client_action_id: None,
        }
    }

    /// The digits the caller entered, wherever this payload version put them:
    /// `payload.eventData.dtmf`, then `payload.eventData` when it is a plain string, then
    /// `payload.dtmf` (string or number). Empty or blank values count as "no digits".
    pub fn dtmf(&self) -> Option<&str> {
        let from_event_data = match &self.event_data {
            Some(EventData::Map(m)) => m.dtmf.as_deref(),
            Some(EventData::Text(s)) => Some(s.as_str()),
            None => None,
        };
        from_event_data
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .or_else(|| {
                self.dtmf
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            })
    }

    /// Speech recognised by the platform (`eventData.asrCaptured`), if any.
    pub fn asr_captured(&self) -> Option<&str> {
        match &self.event_data {
            Some(EventData::Map(m)) => m.asr_captured.as_deref(),
            _ => None,
        }
    }
}

/// `payload.eventData`: a map in current payloads, a plain string in older ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventData {
    /// `{"dtmf": "1", "asrCaptured": null}`.
    Map(EventDataMap),
    /// `"1"` (older payloads put the digits, or free text, here).
    Text(String),
}

/// The map form of `eventData`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EventDataMap {
    /// Digits captured by `sayAndCapture`; `None` if nothing was captured (serialized as
    /// `"dtmf": null`, as 8x8 sends it).
    #[serde(default, deserialize_with = "lenient::opt_digits")]
    pub dtmf: Option<String>,
    /// Speech recognised, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asr_captured: Option<String>,
}

impl EventDataMap {
    /// A map with the given digits.
    pub fn with_dtmf(dtmf: Option<String>) -> Self {
        Self {
            dtmf,
            asr_captured: None,
        }
    }
}

/// `CALL_ACTION`: 8x8 asks what the call does next; the reply is a [`CallFlow`](crate::CallFlow).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CallAction {
    /// Envelope fields (`namespace`, `description`, `version`).
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The call details.
    pub payload: CallPayload,
}

impl CallAction {
    /// Builds the event from its parts.
    pub fn new(envelope: Envelope, payload: CallPayload) -> Self {
        Self { envelope, payload }
    }

    /// The caller's digits, wherever this payload version put them (see [`CallPayload::dtmf`]).
    pub fn dtmf(&self) -> Option<&str> {
        self.payload.dtmf()
    }

    /// The `clientActionId` you set on the previous reply, echoed back by 8x8.
    pub fn client_action_id(&self) -> Option<&str> {
        self.payload.client_action_id.as_deref()
    }

    /// Whether this is the first request of a session (a call just arrived).
    pub fn is_call_received(&self) -> bool {
        self.payload.call_status == CallStatus::CallReceived
    }
}

/// `CALL_STATUS`: telemetry about one leg (best effort, unordered; reply body ignored).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CallStatusEvent {
    /// Envelope fields.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The call details.
    pub payload: CallPayload,
}

impl CallStatusEvent {
    /// Builds the event from its parts.
    pub fn new(envelope: Envelope, payload: CallPayload) -> Self {
        Self { envelope, payload }
    }
}
