//! Recordings: `GET`, `POST`, `DELETE /recording-push-config` and
//! `GET /recordings/{sessionId}`.

use serde::{Deserialize, Serialize};

use super::open::api_enum;
use super::{ApiStatus, InvalidRequest, Open, Secret, lenient};

api_enum! {
    /// Where 8x8 uploads recordings to.
    pub enum PushProtocol ("recording push protocol") {
        /// Amazon S3 (`host` is the bucket's region, e.g. `ap-southeast-2`).
        S3 = "S3",
        /// SFTP.
        Sftp = "SFTP",
        /// FTP (in the document's example answer).
        Ftp = "FTP",
    }
}

/// The body of `POST /recording-push-config`: where 8x8 pushes call recordings. Needed
/// before `makeCall`'s `callRecording` has any effect. Unknown fields are refused when
/// deserializing.
///
/// ```
/// use callflow_client::api::{PushProtocol, RecordingPushConfigRequest};
/// let req = RecordingPushConfigRequest::new(PushProtocol::S3, "ap-southeast-2", "myusername", "mypassword")
///     .unwrap()
///     .path("/my-recordings-path/");
/// assert!(!format!("{req:?}").contains("mypassword"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordingPushConfigRequest {
    protocol: PushProtocol,
    #[serde(deserialize_with = "de_host")]
    host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    username: String,
    password: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

fn check_host(host: &str) -> Result<(), InvalidRequest> {
    if !host.is_empty() && host.len() <= 253 && !host.chars().any(|c| c.is_whitespace() || c == '/')
    {
        Ok(())
    } else {
        Err(InvalidRequest::bad_field(
            "host",
            "must be a host name (or an S3 region) without white space or '/'",
        ))
    }
}

fn de_host<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    check_host(&s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

impl RecordingPushConfigRequest {
    /// Push with `protocol` to `host` as `username`.
    pub fn new(
        protocol: PushProtocol,
        host: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<Self, InvalidRequest> {
        let host = host.into();
        check_host(&host)?;
        Ok(Self {
            protocol,
            host,
            port: None,
            username: username.into(),
            password: password.into(),
            path: None,
        })
    }

    /// The port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The folder (or key prefix) to upload to.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The protocol.
    pub fn protocol(&self) -> PushProtocol {
        self.protocol
    }

    /// The host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, if set.
    pub fn port_number(&self) -> Option<u16> {
        self.port
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The remote path (or bucket), if set.
    pub fn remote_path(&self) -> Option<&str> {
        self.path.as_deref()
    }
}

/// The recording push configuration as 8x8 returns it (get, create and delete answer alike;
/// the password is never returned, only `passwordSet`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct RecordingPushConfig {
    /// `true` in the answer to a delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete: Option<bool>,
    /// The sub-account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_account_id: Option<String>,
    /// The protocol (`S3`, `SFTP`, `ftp`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Open<PushProtocol>>,
    /// The host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The port.
    #[serde(
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub port: Option<i64>,
    /// The user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Whether a password is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_set: Option<bool>,
    /// The folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `statusCode` and `statusMessage`.
    #[serde(flatten)]
    pub status: ApiStatus,
}

/// One recording of a session.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Recording {
    /// The recording's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<String>,
    /// The session's id (the schema and its example spell it `sessionid`, the guide
    /// `sessionId`: both read, written as the schema's `sessionid`).
    #[serde(
        rename = "sessionid",
        alias = "sessionId",
        skip_serializing_if = "Option::is_none"
    )]
    pub session_id: Option<String>,
    /// The sub-account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_account_id: Option<String>,
    /// Its state (e.g. `completed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Where the file was pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_file_url: Option<String>,
    /// Length in seconds.
    #[serde(
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<i64>,
    /// When recording started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_recording_time: Option<String>,
}

/// The answer to `GET /recordings/{sessionId}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Recordings {
    /// The session's recordings (none when 8x8 sends no list).
    #[serde(deserialize_with = "lenient::vec_or_null")]
    pub recordings: Vec<Recording>,
    /// `statusCode` and `statusMessage`.
    #[serde(flatten)]
    pub status: ApiStatus,
}
