//! `SESSION_SUMMARY`: the authoritative final outcome of a session.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Envelope;
use super::enums::{CallDirection, CallType, LastAction, LegStatus, NumberFormat, SessionStatus};
use super::lenient;
use crate::{PhoneNumber, Timestamp};

/// `SESSION_SUMMARY` event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SessionSummary {
    /// Envelope fields (the IVR variant carries `version`).
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The summary.
    pub payload: SummaryPayload,
}

impl SessionSummary {
    /// Builds the event from its parts.
    pub fn new(envelope: Envelope, payload: SummaryPayload) -> Self {
        Self { envelope, payload }
    }
}

/// The payload of a `SESSION_SUMMARY`. Required: `sessionId`, `sessionStatus`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SummaryPayload {
    /// Session id (matches the `CALL_ACTION` events of the session).
    pub session_id: String,
    /// Sub-account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_account_id: Option<String>,
    /// Final outcome.
    pub session_status: SessionStatus,
    /// Session start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// Session end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Action running when the session ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_action: Option<LastAction>,
    /// Number of legs.
    #[serde(
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub call_count: Option<u32>,
    /// User-supplied request id (IVR variant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// Present when the session ended in error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_details: Option<ErrorDetails>,
    /// The legs, keyed `callA`, `callB` (sometimes `CallA`); see [`Legs`].
    #[serde(default)]
    pub details: Legs,
}

impl SummaryPayload {
    /// A payload with the required fields; every optional field is empty (set the public
    /// fields afterwards).
    pub fn new(session_id: impl Into<String>, session_status: SessionStatus) -> Self {
        Self {
            session_id: session_id.into(),
            sub_account_id: None,
            session_status,
            start_time: None,
            end_time: None,
            last_action: None,
            call_count: None,
            client_request_id: None,
            error_details: None,
            details: Legs::default(),
        }
    }
}

/// `errorDetails` of a session summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErrorDetails {
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
    /// 8x8's code, e.g. `-2003` (invalid call flow), `-2004` (no coverage); a number or a
    /// numeric string.
    #[serde(
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_code: Option<i64>,
    /// Callflow request id (seen in third-party captures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_flow_request_id: Option<String>,
    /// Failing action, e.g. `SAY_AND_CAPTURE` (seen in third-party captures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// The legs of a session (`details`), keyed as 8x8 sent them.
///
/// 8x8 uses `callA`/`callB`, one example uses `CallA`, and the docs say "etc.": the lookup
/// helpers ignore ASCII case.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Legs(pub BTreeMap<String, CallLeg>);

impl Legs {
    /// The leg with this key, ignoring ASCII case.
    pub fn get(&self, key: &str) -> Option<&CallLeg> {
        self.0.get(key).or_else(|| {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }

    /// The first leg (`callA`), normally the caller's inbound leg.
    pub fn call_a(&self) -> Option<&CallLeg> {
        self.get("callA")
    }

    /// The second leg (`callB`), normally the bridged outbound leg.
    pub fn call_b(&self) -> Option<&CallLeg> {
        self.get("callB")
    }

    /// All legs, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &CallLeg)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of legs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no legs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One leg of a session summary (`CallLeg::default()` has every field empty).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallLeg {
    /// Leg id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// `INBOUND` or `OUTBOUND`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_direction: Option<CallDirection>,
    /// `PSTN` or `VOIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_type: Option<CallType>,
    /// When the leg started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_timestamp: Option<Timestamp>,
    /// When it was answered; absent if never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_timestamp: Option<Timestamp>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnected_timestamp: Option<Timestamp>,
    /// Caller id of the leg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PhoneNumber>,
    /// Called number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<PhoneNumber>,
    /// `MSISDN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_format: Option<NumberFormat>,
    /// `MSISDN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_format: Option<NumberFormat>,
    /// ISO alpha-2 country of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_country_code: Option<String>,
    /// ISO alpha-2 country of the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_country_code: Option<String>,
    /// Virtual number reference on outbound legs (also accepted as `SourceRefId`; the
    /// string `"null"` is `None`).
    #[serde(
        default,
        alias = "SourceRefId",
        deserialize_with = "lenient::opt_ref",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_ref_id: Option<String>,
    /// Virtual number reference on inbound legs.
    #[serde(
        default,
        alias = "DestinationRefId",
        deserialize_with = "lenient::opt_ref",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_ref_id: Option<String>,
    /// Outcome of the leg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_status: Option<LegStatus>,
    /// Seconds connected (a number or a numeric string).
    #[serde(
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub call_duration: Option<u64>,
    /// Voice quality, when the leg was connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_quality: Option<CallQuality>,
}

/// `callQuality` of a connected leg.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallQuality {
    /// Mean opinion score, 1.0–5.0.
    #[serde(
        default,
        deserialize_with = "lenient::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub mos: Option<f64>,
    /// Packet loss as a fraction (0.01 = 1 %).
    #[serde(
        default,
        deserialize_with = "lenient::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub packet_loss_rate: Option<f64>,
    /// Jitter in milliseconds.
    #[serde(
        default,
        deserialize_with = "lenient::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub jitter: Option<f64>,
}
