//! Voice log exports: `POST /messages/exports`, `GET` and `DELETE /messages/exports/{jobId}`.

use serde::{Deserialize, Serialize};

use super::open::api_enum;
use super::{ExportTime, InvalidRequest, Open, lenient};

/// The body of `POST /messages/exports`: which calls to export. Every field is optional
/// (8x8's defaults: the last 7 days, no limit); `from` must be before `to`. Unknown fields
/// are refused when deserializing.
///
/// ```
/// use callflow_client::api::{ExportTime, LogExportRequest};
/// let req = LogExportRequest::new()
///     .from(ExportTime::parse("2020-07-01T00:00:00Z").unwrap())
///     .to(ExportTime::parse("2020-07-08T00:00:00Z").unwrap())
///     .limit(1000);
/// assert!(req.check().is_ok());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawLogExportRequest")]
pub struct LogExportRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<ExportTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<ExportTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogExportRequest {
    #[serde(default)]
    from: Option<ExportTime>,
    #[serde(default)]
    to: Option<ExportTime>,
    #[serde(default)]
    limit: Option<u32>,
}

impl TryFrom<RawLogExportRequest> for LogExportRequest {
    type Error = InvalidRequest;
    fn try_from(r: RawLogExportRequest) -> Result<Self, InvalidRequest> {
        let req = Self {
            from: r.from,
            to: r.to,
            limit: r.limit,
        };
        req.check()?;
        Ok(req)
    }
}

impl LogExportRequest {
    /// Everything 8x8's defaults give.
    pub fn new() -> Self {
        Self::default()
    }

    /// The first call time to export.
    pub fn from(mut self, t: ExportTime) -> Self {
        self.from = Some(t);
        self
    }

    /// The last call time to export.
    pub fn to(mut self, t: ExportTime) -> Self {
        self.to = Some(t);
        self
    }

    /// At most this many records (`0`: no limit).
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }

    /// Checks that `from` is before `to` (the client calls it before sending).
    pub fn check(&self) -> Result<(), InvalidRequest> {
        match (&self.from, &self.to) {
            (Some(f), Some(t)) if f.unix_seconds() >= t.unix_seconds() => {
                Err(InvalidRequest::bad_field("from", "must be before `to`"))
            }
            _ => Ok(()),
        }
    }
}

/// The answer to starting an export (HTTP 202).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct LogExportJob {
    /// The job, to ask for its result ([`JobId::new`](super::JobId::new)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

api_enum! {
    /// The state of an export job.
    pub enum JobStatus ("export job status") {
        /// `queued`: waiting.
        Queued = "queued",
        /// `running`: being made.
        Running = "running",
        /// `succeeded`: `data` has the download links.
        Succeeded = "succeeded",
        /// `failed`.
        Failed = "failed",
        /// `cancelled`.
        Cancelled = "cancelled" | "canceled",
        /// `empty`: no calls in the range.
        Empty = "empty",
        /// `error`: 8x8 had an internal error.
        Error = "error",
    }
}

/// The answer to `GET /messages/exports/{jobId}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct LogExportStatus {
    /// The job's state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Open<JobStatus>>,
    /// Links to the CSV files, when `succeeded`.
    #[serde(deserialize_with = "lenient::vec_or_null")]
    pub data: Vec<String>,
    /// When the links expire (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_must_precede_to() {
        let r: Result<LogExportRequest, _> =
            serde_json::from_str(r#"{"from":"2020-07-02T00:00:00Z","to":"2020-07-01T00:00:00Z"}"#);
        assert!(r.is_err());
        assert!(serde_json::from_str::<LogExportRequest>(r#"{"limit":0,"extra":1}"#).is_err());
        let r: LogExportRequest = serde_json::from_str(r#"{"limit":0}"#).unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"limit":0}"#);
    }

    #[test]
    fn statuses_are_open() {
        let s: LogExportStatus = serde_json::from_str(r#"{"status":"archived"}"#).unwrap();
        assert_eq!(s.status.unwrap().as_str(), "archived");
        let s: LogExportStatus =
            serde_json::from_str(r#"{"status":"succeeded","data":null}"#).unwrap();
        assert_eq!(s.status.unwrap(), JobStatus::Succeeded);
    }
}
