//! Webhooks: `GET`, `POST /webhooks`, `DELETE /webhooks/{webhook-type}`.

use serde::{Deserialize, Serialize};

use super::ids::is_http_url;
use super::open::api_enum;
use super::{ApiStatus, InvalidRequest, Open, Secret, lenient};

api_enum! {
    /// The webhook types 8x8 posts to.
    pub enum WebhookType ("webhook type") {
        /// `VCA`, Voice Call Action: 8x8 asks what the call does next (`CALL_ACTION`).
        Vca = "VCA",
        /// `VCS`, Voice Call Status: a leg changed state (`CALL_STATUS`).
        Vcs = "VCS",
        /// `VSS`, Voice Session Summary: the session's outcome (`SESSION_SUMMARY`).
        Vss = "VSS",
        /// `VRU`, Voice Recording Uploaded (`CALL_RECORDING_STATUS`).
        Vru = "VRU",
        /// `VNU`, Virtual Number Updated (`VIRTUAL_NUMBER_UPDATE`).
        Vnu = "VNU",
    }
}

impl WebhookType {
    /// Whether the document lets this type be deleted: its `DELETE` path enum lists `VCS`,
    /// `VCA`, `VSS` and `VRU`, not `VNU`.
    pub fn deletable(self) -> bool {
        self != WebhookType::Vnu
    }
}

/// The body of `POST /webhooks`: register one webhook type. Unknown fields and values are
/// refused when deserializing (`type` must be one of the five, `url` an http(s) URL).
///
/// ```
/// use callflow_client::api::{CreateWebhook, WebhookType};
/// let req = CreateWebhook::new(WebhookType::Vca, "https://example.com/webhooks/voice")
///     .unwrap()
///     .http_auth_header("Bearer change-me");
/// assert_eq!(
///     serde_json::to_string(&req).unwrap(),
///     r#"{"type":"VCA","url":"https://example.com/webhooks/voice","httpAuthHeader":"Bearer change-me"}"#
/// );
/// assert!(format!("{req:?}").contains("<redacted>"));
/// assert!(serde_json::from_str::<CreateWebhook>(r#"{"type":"VXX","url":"https://x.example"}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    #[serde(rename = "type")]
    webhook_type: WebhookType,
    #[serde(deserialize_with = "de_url")]
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    http_auth_header: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
}

fn check_url(url: &str) -> Result<(), InvalidRequest> {
    if is_http_url(url) && url.len() <= 2048 {
        Ok(())
    } else {
        Err(InvalidRequest::bad_field(
            "url",
            "must be an absolute http(s) URL without white space (at most 2048 bytes)",
        ))
    }
}

fn de_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    check_url(&s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

impl CreateWebhook {
    /// Registers `url` for `webhook_type`.
    pub fn new(webhook_type: WebhookType, url: impl Into<String>) -> Result<Self, InvalidRequest> {
        let url = url.into();
        check_url(&url)?;
        Ok(Self {
            webhook_type,
            url,
            http_auth_header: None,
            enabled: None,
        })
    }

    /// The value 8x8 sends back with every webhook (`httpAuthHeader`), for the receiver to
    /// check (`callflow::WebhookBuilder::auth_token`).
    pub fn http_auth_header(mut self, value: impl Into<Secret>) -> Self {
        self.http_auth_header = Some(value.into());
        self
    }

    /// `enabled` (8x8's default: true; the guides call the flag `active`, the API `enabled`).
    pub fn enabled(mut self, on: bool) -> Self {
        self.enabled = Some(on);
        self
    }

    /// The type.
    pub fn webhook_type(&self) -> WebhookType {
        self.webhook_type
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The auth value, if set.
    pub fn auth_header(&self) -> Option<&Secret> {
        self.http_auth_header.as_ref()
    }

    /// `enabled`, if set.
    pub fn is_enabled(&self) -> Option<bool> {
        self.enabled
    }
}

/// One registered webhook, as 8x8 lists it (the secret is never returned).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct WebhookInfo {
    /// The type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub webhook_type: Option<Open<WebhookType>>,
    /// Where 8x8 posts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether 8x8 posts to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Whether an `httpAuthHeader` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_auth_header_available: Option<bool>,
}

/// The answer to listing or creating webhooks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct WebhookList {
    /// The sub-account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_account_id: Option<String>,
    /// How many webhooks are registered.
    #[serde(
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub count: Option<i64>,
    /// The registrations.
    #[serde(deserialize_with = "lenient::vec_or_null")]
    pub webhooks: Vec<WebhookInfo>,
    /// `statusCode` and `statusMessage`.
    #[serde(flatten)]
    pub status: ApiStatus,
}

impl WebhookList {
    /// The registration of one type, if any.
    pub fn get(&self, t: WebhookType) -> Option<&WebhookInfo> {
        self.webhooks
            .iter()
            .find(|w| w.webhook_type.as_ref().is_some_and(|x| *x == t))
    }
}

/// The answer to deleting a webhook: the deleted registration, flat.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct DeletedWebhook {
    /// The sub-account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_account_id: Option<String>,
    /// The registration that was deleted (`type`, `url`, `enabled`,
    /// `httpAuthHeaderAvailable`).
    #[serde(flatten)]
    pub webhook: WebhookInfo,
    /// `statusCode` and `statusMessage` (`deleted`).
    #[serde(flatten)]
    pub status: ApiStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_strictly_for_requests_and_openly_for_answers() {
        assert_eq!("vca".parse::<WebhookType>().unwrap(), WebhookType::Vca);
        let e = "VXX".parse::<WebhookType>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown webhook type `VXX` (8x8 documents: VCA, VCS, VSS, VRU, VNU)"
        );
        let w: WebhookInfo = serde_json::from_str(r#"{"type":"VXX","url":"u"}"#).unwrap();
        assert_eq!(w.webhook_type.unwrap().as_str(), "VXX");
        assert!(!WebhookType::Vnu.deletable());
        let d: DeletedWebhook = serde_json::from_str(
            r#"{"subAccountId":"s","type":"VSS","url":"https://sample.com/test","enabled":false,"httpAuthHeaderAvailable":true,"statusCode":0,"statusMessage":"deleted"}"#,
        )
        .unwrap();
        assert_eq!(d.webhook.webhook_type.unwrap(), WebhookType::Vss);
        assert_eq!(d.status.status_message.as_deref(), Some("deleted"));
    }

    #[test]
    fn answers_carry_a_flattened_status() {
        let l: WebhookList = serde_json::from_str(
            r#"{"count":"1","webhooks":null,"statusCode":"0","statusMessage":"ok"}"#,
        )
        .unwrap();
        assert_eq!((l.count, l.webhooks.len()), (Some(1), 0));
        assert_eq!(l.status, ApiStatus::new(0, "ok"));
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"{"count":1,"webhooks":[],"statusCode":0,"statusMessage":"ok"}"#
        );
    }

    #[test]
    fn create_is_strict() {
        assert!(CreateWebhook::new(WebhookType::Vss, "ftp://x.example").is_err());
        assert!(CreateWebhook::new(WebhookType::Vss, "https://x.example/a b").is_err());
        assert!(
            serde_json::from_str::<CreateWebhook>(
                r#"{"type":"VCA","url":"https://x.example","active":true}"#
            )
            .is_err()
        );
        let c: CreateWebhook = serde_json::from_str(
            r#"{"type":"VCA","url":"https://sample.com/test","httpAuthHeader":"mdp1234","enabled":false}"#,
        )
        .unwrap();
        assert_eq!(c.is_enabled(), Some(false));
        assert_eq!(c.auth_header().unwrap().expose(), "mdp1234");
    }
}
