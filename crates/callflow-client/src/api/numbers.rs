//! Virtual numbers: `GET /numbers` and `GET /numbers/{number}`; and speech profiles:
//! `GET /speech-profiles`.

use callflow::PhoneNumber;
use serde::{Deserialize, Serialize};

use super::open::api_enum;
use super::{ApiStatus, Open, lenient};

api_enum! {
    /// A virtual number's `operationalStatus`.
    pub enum OperationalStatus ("operational status") {
        /// `Active`.
        Active = "Active",
        /// `Expiring`.
        Expiring = "Expiring",
        /// `Inactive`.
        Inactive = "Inactive",
    }
}

/// The health check of a virtual number.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct NumberHealth {
    /// The last health status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_healthy: Option<bool>,
    /// 8x8's status text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// When it was last checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_checked_time: Option<String>,
}

/// One virtual number of the sub-account. `msisdn` is a [`PhoneNumber`], masked when printed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct VirtualNumberInfo {
    /// The number (E.164).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msisdn: Option<PhoneNumber>,
    /// When it was assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    /// When it last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<String>,
    /// Two-letter country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// `Active`, `Expiring` or `Inactive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operational_status: Option<Open<OperationalStatus>>,
    /// The number range it belongs to (appears in calls as the reference id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    /// Monthly fee.
    #[serde(
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub rental_price: Option<f64>,
    /// Per-minute inbound fee.
    #[serde(
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub incoming_rate: Option<f64>,
    /// Billing increment of inbound calls.
    #[serde(
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub billing_unit: Option<i64>,
    /// The number's own URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Whether health checks run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_health_check_enabled: Option<bool>,
    /// Currency of the prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_currency: Option<String>,
    /// The kind of number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_type: Option<String>,
    /// The last health check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_health: Option<NumberHealth>,
}

/// The answer to `GET /numbers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct VirtualNumbers {
    /// How many numbers are assigned.
    #[serde(
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_numbers: Option<i64>,
    /// When any of them last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_at: Option<String>,
    /// The numbers.
    #[serde(deserialize_with = "lenient::vec_or_null")]
    pub numbers: Vec<VirtualNumberInfo>,
    /// `statusCode` and `statusMessage`.
    #[serde(flatten)]
    pub status: ApiStatus,
}

/// What `GET /numbers/{number}` says about one number.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct NumberPayload {
    /// The number range's reference id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    /// The number (E.164), masked when printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msisdn: Option<PhoneNumber>,
    /// Two-letter country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

/// The answer to `GET /numbers/{number}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct VirtualNumberCheck {
    /// `statusCode` and `statusMessage`.
    #[serde(flatten)]
    pub status: ApiStatus,
    /// When 8x8 answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<NumberPayload>,
}

/// One voice 8x8 can speak with: its `speechProfileCode` is what goes into a callflow's
/// `voiceProfile`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct SpeechProfile {
    /// E.g. `en-US-Standard-A`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speech_profile_code: Option<String>,
    /// E.g. `en-US`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale_code: Option<String>,
    /// E.g. `EnglishUS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale_description: Option<String>,
    /// `F` or `M`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
}

/// The answer to `GET /speech-profiles`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct SpeechProfiles {
    /// The voices.
    #[serde(deserialize_with = "lenient::vec_or_null")]
    pub speech_profiles: Vec<SpeechProfile>,
    /// `statusCode` and `statusMessage`.
    #[serde(flatten)]
    pub status: ApiStatus,
}
