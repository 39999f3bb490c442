//! The requests and answers of 8x8's Voice API, without any HTTP client.
//!
//! One model for both sides: the [`Client`](crate::Client) sends these types, and a server of
//! the same API (an emulator, a test double) can deserialize the requests and serialize the
//! answers with them. Build with `default-features = false` to get this module alone.
//!
//! - **Requests are strict.** They can only hold values 8x8's document allows: a
//!   [`SendCallflow`] holds a callflow that passed the core's validator in Send mode, a
//!   [`CreateWebhook`] one of the five [`WebhookType`]s and an http(s) URL, ids match the
//!   document's patterns. Deserializing one refuses unknown fields and values, with a message
//!   that says what is allowed.
//! - **Answers are tolerant.** Every field is optional, unknown fields are ignored, numbers
//!   may arrive as strings, and enums are [`Open`]: a value this version does not know is
//!   kept, not an error.
//!
//! [`Operation`] lists the 14 operations of the document with their method, path and
//! operation id.

mod callflows;
mod error;
mod exports;
mod ids;
mod lenient;
mod numbers;
pub(crate) mod open;
mod recordings;
pub(crate) mod time;
mod webhooks;

pub use callflows::{SendCallflow, SendCallflowResponse, SessionStatus};
#[cfg(feature = "client")]
pub(crate) use error::mask_numbers;
pub use error::{ApiErrorBody, InvalidParamBody, InvalidRequest};
pub use exports::{JobStatus, LogExportJob, LogExportRequest, LogExportStatus};
pub use ids::{JobId, Secret, SessionId, SubAccountId, VirtualNumber};
pub use numbers::{
    NumberHealth, NumberPayload, OperationalStatus, SpeechProfile, SpeechProfiles,
    VirtualNumberCheck, VirtualNumberInfo, VirtualNumbers,
};
pub use open::{ApiEnum, Open, UnknownValue, UnknownVariant};
pub use recordings::{
    PushProtocol, Recording, RecordingPushConfig, RecordingPushConfigRequest, Recordings,
};
pub use time::{ExportTime, ValidUntil};
pub use webhooks::{CreateWebhook, DeletedWebhook, WebhookInfo, WebhookList, WebhookType};

/// The `statusCode` and `statusMessage` that most of 8x8's answers carry (`0` and `ok` on
/// success), flattened into them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ApiStatus {
    /// `statusCode` (a number, or a numeric string).
    #[serde(
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_code: Option<i64>,
    /// `statusMessage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

impl ApiStatus {
    /// A status with `code` and `message` (for a server of the API).
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            status_code: Some(code),
            status_message: Some(message.into()),
        }
    }
}

/// 8x8's documented server for the Voice API.
pub const DEFAULT_BASE_URL: &str = "https://voice.8x8.com";

/// The legacy (Wavecell) host, still named by the document for the log export operations and
/// by the recordings guide.
pub const LEGACY_BASE_URL: &str = "https://voice.wavecell.com";

/// An HTTP method the Voice API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }

    /// Whether repeating the request cannot do anything twice (`GET`, `DELETE`).
    pub fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Delete)
    }
}

/// The 14 operations of 8x8's Voice API document (`voice_v1_api.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `POST /callflows`: start an outbound session.
    SendCallflow,
    /// `GET /speech-profiles`.
    GetSpeechProfiles,
    /// `GET /webhooks`.
    ListWebhooks,
    /// `POST /webhooks`.
    CreateWebhook,
    /// `DELETE /webhooks/{webhook-type}`.
    DeleteWebhook,
    /// `GET /recording-push-config`.
    GetRecordingPushConfig,
    /// `POST /recording-push-config`.
    CreateRecordingPushConfig,
    /// `DELETE /recording-push-config`.
    DeleteRecordingPushConfig,
    /// `GET /recordings/{sessionId}`.
    GetRecordingStatus,
    /// `GET /numbers`.
    ListVirtualNumbers,
    /// `GET /numbers/{number}`.
    CheckVirtualNumber,
    /// `POST /messages/exports`.
    StartLogExport,
    /// `GET /messages/exports/{jobId}`.
    GetLogExport,
    /// `DELETE /messages/exports/{jobId}`.
    CancelLogExport,
}

impl Operation {
    /// Every operation, in the document's order.
    pub const ALL: [Operation; 14] = [
        Operation::SendCallflow,
        Operation::GetSpeechProfiles,
        Operation::ListWebhooks,
        Operation::CreateWebhook,
        Operation::DeleteWebhook,
        Operation::GetRecordingPushConfig,
        Operation::CreateRecordingPushConfig,
        Operation::DeleteRecordingPushConfig,
        Operation::GetRecordingStatus,
        Operation::ListVirtualNumbers,
        Operation::CheckVirtualNumber,
        Operation::StartLogExport,
        Operation::GetLogExport,
        Operation::CancelLogExport,
    ];

    /// The document's `operationId`.
    pub fn operation_id(self) -> &'static str {
        match self {
            Operation::SendCallflow => "Send-Callflow",
            Operation::GetSpeechProfiles => "get-voice-profile-information",
            Operation::ListWebhooks => "get-webhooks-information",
            Operation::CreateWebhook => "create-a-new-webhook",
            Operation::DeleteWebhook => "delete-a-specific-type-of-webhook",
            Operation::GetRecordingPushConfig => "get-recording-push-config-information",
            Operation::CreateRecordingPushConfig => "create-a-new-recording-push-config",
            Operation::DeleteRecordingPushConfig => "delete-recording-push-config",
            Operation::GetRecordingStatus => "get-recording-status-information",
            Operation::ListVirtualNumbers => "get-virtual-numbers",
            Operation::CheckVirtualNumber => "check-virtual-number",
            Operation::StartLogExport => "start-voice-log-export-job",
            Operation::GetLogExport => "get-voice-log-export-job-result",
            Operation::CancelLogExport => "cancel-voice-log-export-job",
        }
    }

    /// A short name for messages (`"Send Callflow"`, `"list webhooks"`).
    pub fn summary(self) -> &'static str {
        match self {
            Operation::SendCallflow => "Send Callflow",
            Operation::GetSpeechProfiles => "get speech profiles",
            Operation::ListWebhooks => "list webhooks",
            Operation::CreateWebhook => "create webhook",
            Operation::DeleteWebhook => "delete webhook",
            Operation::GetRecordingPushConfig => "get recording push config",
            Operation::CreateRecordingPushConfig => "set recording push config",
            Operation::DeleteRecordingPushConfig => "delete recording push config",
            Operation::GetRecordingStatus => "get recording status",
            Operation::ListVirtualNumbers => "list virtual numbers",
            Operation::CheckVirtualNumber => "check virtual number",
            Operation::StartLogExport => "start log export",
            Operation::GetLogExport => "get log export",
            Operation::CancelLogExport => "cancel log export",
        }
    }

    /// The HTTP method.
    pub fn method(self) -> Method {
        match self {
            Operation::SendCallflow
            | Operation::CreateWebhook
            | Operation::CreateRecordingPushConfig
            | Operation::StartLogExport => Method::Post,
            Operation::DeleteWebhook
            | Operation::DeleteRecordingPushConfig
            | Operation::CancelLogExport => Method::Delete,
            _ => Method::Get,
        }
    }

    /// The document's path template.
    pub fn path_template(self) -> &'static str {
        match self {
            Operation::SendCallflow => "/api/v1/subaccounts/{subAccountId}/callflows",
            Operation::GetSpeechProfiles => "/api/v1/subaccounts/{subAccountId}/speech-profiles",
            Operation::ListWebhooks | Operation::CreateWebhook => {
                "/api/v1/subaccounts/{subAccountId}/webhooks"
            }
            Operation::DeleteWebhook => {
                "/api/v1/subaccounts/{subAccountId}/webhooks/{webhook-type}"
            }
            Operation::GetRecordingPushConfig
            | Operation::CreateRecordingPushConfig
            | Operation::DeleteRecordingPushConfig => {
                "/api/v1/subaccounts/{subAccountId}/recording-push-config"
            }
            Operation::GetRecordingStatus => {
                "/api/v1/subaccounts/{subAccountId}/recordings/{sessionId}"
            }
            Operation::ListVirtualNumbers => "/api/v1/subaccounts/{subAccountId}/numbers",
            Operation::CheckVirtualNumber => "/api/v1/subaccounts/{subAccountId}/numbers/{number}",
            Operation::StartLogExport => "/api/v1/subaccounts/{subAccountId}/messages/exports",
            Operation::GetLogExport | Operation::CancelLogExport => {
                "/api/v1/subaccounts/{subAccountId}/messages/exports/{jobId}"
            }
        }
    }

    /// The server the document names for the operation: [`DEFAULT_BASE_URL`], except the
    /// three log export operations, which it serves from [`LEGACY_BASE_URL`].
    pub fn documented_server(self) -> &'static str {
        match self {
            Operation::StartLogExport | Operation::GetLogExport | Operation::CancelLogExport => {
                LEGACY_BASE_URL
            }
            _ => DEFAULT_BASE_URL,
        }
    }

    /// The status of the documented success answer (200; 202 to start an export, 204 to
    /// cancel one).
    pub fn success_status(self) -> u16 {
        match self {
            Operation::StartLogExport => 202,
            Operation::CancelLogExport => 204,
            _ => 200,
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_operations_with_distinct_ids() {
        let mut ids: Vec<_> = Operation::ALL.iter().map(|o| o.operation_id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 14);
        let mut routes: Vec<_> = Operation::ALL
            .iter()
            .map(|o| (o.method().as_str(), o.path_template()))
            .collect();
        routes.sort();
        routes.dedup();
        assert_eq!(routes.len(), 14);
    }
}
