//! The minor voice webhooks: recording status and virtual number updates.

use serde::{Deserialize, Serialize};

use super::Envelope;
use super::enums::{OperationalStatus, RecordingState, UpdateEventType, UpdateStatus};
use super::lenient;
use crate::{PhoneNumber, Timestamp};

/// `CALL_RECORDING_STATUS` (webhook type VRU): a recording's upload status.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RecordingStatus {
    /// Envelope fields.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The recording.
    pub payload: RecordingPayload,
}

impl RecordingStatus {
    /// Builds the event from its parts.
    pub fn new(envelope: Envelope, payload: RecordingPayload) -> Self {
        Self { envelope, payload }
    }
}

/// Payload of `CALL_RECORDING_STATUS`. Required: `sessionId`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RecordingPayload {
    /// Session that was recorded.
    pub session_id: String,
    /// Recording id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<String>,
    /// Length in seconds.
    #[serde(
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration_seconds: Option<u64>,
    /// Where the file was pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    /// Upload status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RecordingState>,
}

/// `VIRTUAL_NUMBER_UPDATE` (webhook type VNU): the state of the sub-account's numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct VirtualNumberUpdate {
    /// Envelope fields.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The numbers.
    pub payload: NumbersPayload,
}

impl VirtualNumberUpdate {
    /// Builds the event from its parts.
    pub fn new(envelope: Envelope, payload: NumbersPayload) -> Self {
        Self { envelope, payload }
    }
}

/// Payload of `VIRTUAL_NUMBER_UPDATE`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NumbersPayload {
    /// Sub-account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_account_id: Option<String>,
    /// Number of virtual numbers on the account.
    #[serde(
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_numbers: Option<u64>,
    /// `SNAPSHOT` (all numbers) or `UPDATES` (changed ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_event_type: Option<UpdateEventType>,
    /// The numbers.
    #[serde(default)]
    pub virtual_numbers: Vec<VirtualNumber>,
}

/// One virtual number in a `VIRTUAL_NUMBER_UPDATE`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VirtualNumber {
    /// The number.
    pub msisdn: PhoneNumber,
    /// Last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_timestamp: Option<Timestamp>,
    /// ISO alpha-2 country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// `Active`, `Unhealthy`, `Expiring`, `Inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operational_status: Option<OperationalStatus>,
    /// The number's reference id (appears as `sourceRefId`/`destinationRefId` in call events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    /// Monthly rental.
    #[serde(
        default,
        deserialize_with = "lenient::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub rental_price: Option<f64>,
    /// Rate for incoming calls.
    #[serde(
        default,
        deserialize_with = "lenient::opt_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub incoming_rate: Option<f64>,
    /// Billing unit in seconds.
    #[serde(
        default,
        deserialize_with = "lenient::opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub billing_unit: Option<u32>,
    /// Currency of the prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_currency: Option<String>,
    /// Whether 8x8 health-checks the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_health_check_enabled: Option<bool>,
    /// `NO_CHANGE` or `UPDATED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_status: Option<UpdateStatus>,
}
