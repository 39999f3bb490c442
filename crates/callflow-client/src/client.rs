//! The HTTP client: configuration, the 14 operations, retries and tracing.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use serde::de::DeserializeOwned;
use tracing::{Instrument, field};

use crate::api::{
    self, CreateWebhook, DeletedWebhook, InvalidRequest, JobId, LogExportJob, LogExportRequest,
    LogExportStatus, Method, Operation, RecordingPushConfig, RecordingPushConfigRequest,
    Recordings, SendCallflow, SendCallflowResponse, SessionId, SpeechProfiles, SubAccountId,
    VirtualNumber, VirtualNumberCheck, VirtualNumbers, WebhookList, WebhookType,
};
use crate::retry::{Outcome, RetryPolicy, parse_retry_after};
use crate::{Error, ErrorKind};

/// An 8x8 API key (from connect.8x8.com), sent as `Authorization: Bearer …`. `Debug` never
/// shows it, and there is no `Display`.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key in clear: do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl From<String> for ApiKey {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for ApiKey {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Where the client sends its requests.
///
/// 8x8 documents one host for voice, with no regional voice hosts (the regional `8x8.uk`,
/// `us.8x8.com` and `8x8.id` hosts exist for other products only).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Endpoint {
    /// The servers 8x8's document names: `https://voice.8x8.com`, and for the three log
    /// export operations `https://voice.wavecell.com` (the document's per-operation server).
    #[default]
    EightByEight,
    /// The legacy host `https://voice.wavecell.com` for every operation.
    Wavecell,
    /// One base URL for every operation (an emulator, a mock, a proxy): `http` or `https`,
    /// optionally with a path prefix, no query.
    BaseUrl(String),
}

impl Endpoint {
    fn base(&self, op: Operation) -> &str {
        match self {
            Endpoint::EightByEight => op.documented_server(),
            Endpoint::Wavecell => api::LEGACY_BASE_URL,
            Endpoint::BaseUrl(u) => u.trim_end_matches('/'),
        }
    }
}

/// The configuration of a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use callflow_client::{Config, api::SubAccountId};
/// let config = Config::new("my-api-key", SubAccountId::new("acme_voice").unwrap())
///     .base_url("http://127.0.0.1:4010")
///     .connect_timeout(Duration::from_secs(2))
///     .timeout(Duration::from_secs(10));
/// assert!(!format!("{config:?}").contains("my-api-key"));
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    api_key: ApiKey,
    sub_account: SubAccountId,
    endpoint: Endpoint,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    http: Option<reqwest::Client>,
}

impl Config {
    /// The key and sub-account; 8x8's documented servers, a 5 s connect timeout, a 30 s
    /// timeout per request, [`RetryPolicy::default`].
    pub fn new(api_key: impl Into<ApiKey>, sub_account: SubAccountId) -> Self {
        Self {
            api_key: api_key.into(),
            sub_account,
            endpoint: Endpoint::default(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            http: None,
        }
    }

    /// Where to send requests.
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// One base URL for every operation (checked by [`Client::new`]).
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.endpoint(Endpoint::BaseUrl(url.into()))
    }

    /// The time to establish a connection (TCP and TLS). Applies to the client the library
    /// builds; a client passed with [`Config::http_client`] keeps its own.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The time for one request, from connecting to the last byte of the answer.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The retry rules.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// A `reqwest::Client` of your own (proxies, connection pool, extra root certificates).
    /// The per-request timeout still applies.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The sub-account.
    pub fn sub_account(&self) -> &SubAccountId {
        &self.sub_account
    }

    /// The endpoint.
    pub fn endpoint_ref(&self) -> &Endpoint {
        &self.endpoint
    }
}

/// A client of 8x8's Voice API. Cheap to clone (one connection pool).
///
/// Every method is one operation of 8x8's document; see [`Operation`] for the paths.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    auth: HeaderValue,
    sub_account: SubAccountId,
    sub_segment: String,
    endpoint: Endpoint,
    timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("sub_account", &self.inner.sub_account)
            .field("endpoint", &self.inner.endpoint)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

fn check_base_url(url: &str) -> Result<(), Error> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| Error::config("the base URL is not an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::config("the base URL must be http(s) with a host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::config(
            "the base URL must not have a query or fragment",
        ));
    }
    Ok(())
}

impl Client {
    /// A client for `config`: checks the key and the base URL, and builds a rustls-based
    /// `reqwest::Client` unless one was given.
    pub fn new(config: Config) -> Result<Self, Error> {
        let key = config.api_key.expose();
        if key.trim().is_empty() {
            return Err(Error::config("the API key is empty"));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
            Error::config("the API key has characters not allowed in an HTTP header")
        })?;
        auth.set_sensitive(true);
        if let Endpoint::BaseUrl(u) = &config.endpoint {
            check_base_url(u)?;
        }
        let http = match config.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .connect_timeout(config.connect_timeout)
                .user_agent(concat!("callflow-client/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|_| Error::config("the HTTP client could not be built (TLS setup)"))?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                auth,
                sub_segment: config.sub_account.path_segment(),
                sub_account: config.sub_account,
                endpoint: config.endpoint,
                timeout: config.timeout,
                retry: config.retry,
            }),
        })
    }

    /// The sub-account the client works for.
    pub fn sub_account(&self) -> &SubAccountId {
        &self.inner.sub_account
    }

    fn url(&self, op: Operation, tail: &str) -> String {
        let base = self.inner.endpoint.base(op);
        let mut url = String::with_capacity(base.len() + 64);
        url.push_str(base);
        url.push_str("/api/v1/subaccounts/");
        url.push_str(&self.inner.sub_segment);
        url.push_str(tail);
        url
    }

    // ---- the operations ----

    /// **Send Callflow**: starts an outbound session (voice message, reminder, IVR).
    ///
    /// The request was validated in Send mode when it was built ([`SendCallflow::new`]), so
    /// a callflow 8x8 would refuse for a documented rule never leaves. 8x8's answer is
    /// returned when the session was `CREATED`; a refusal is an [`Error`] of kind
    /// [`ErrorKind::InvalidRequest`] carrying 8x8's `statusCode` (e.g. -1014, caller id not
    /// whitelisted). Never sent twice unless [`RetryPolicy::retry_send_callflow`] is on.
    ///
    /// A `validUntil` that has already passed is refused here too (8x8's -1015).
    pub async fn send_callflow(&self, req: &SendCallflow) -> Result<SendCallflowResponse, Error> {
        req.check_not_expired(std::time::SystemTime::now())
            .map_err(|e| Error::invalid(Some(Operation::SendCallflow), e))?;
        let body = Bytes::from(req.to_vec());
        self.send_callflow_body(body).await
    }

    /// Send Callflow from JSON (a file, a template): parsed and validated first, so a body
    /// that is not JSON (-1001), a `callflow` that is not an array (-1009) or any other
    /// broken rule comes back as an error with the violations, without a network round
    /// trip.
    pub async fn send_callflow_json(&self, json: &[u8]) -> Result<SendCallflowResponse, Error> {
        let req = SendCallflow::from_json(json)
            .map_err(|e| Error::invalid(Some(Operation::SendCallflow), e))?;
        self.send_callflow(&req).await
    }

    async fn send_callflow_body(&self, body: Bytes) -> Result<SendCallflowResponse, Error> {
        let op = Operation::SendCallflow;
        let (status, bytes, attempts) = self.execute(op, "/callflows", Some(body), None).await?;
        let answer: SendCallflowResponse = parse(op, status, &bytes)?;
        if answer.is_created() {
            Ok(answer)
        } else {
            Err(Error::not_created(
                status,
                answer.status.status_code,
                answer.status.status_message.as_deref(),
            )
            .with_attempts(attempts))
        }
    }

    /// The speech profiles (voices) of the account: `speechProfileCode` goes into a
    /// callflow's `voiceProfile`.
    pub async fn speech_profiles(&self) -> Result<SpeechProfiles, Error> {
        self.get_json(Operation::GetSpeechProfiles, "/speech-profiles", None)
            .await
    }

    /// The registered webhooks.
    pub async fn webhooks(&self) -> Result<WebhookList, Error> {
        self.get_json(Operation::ListWebhooks, "/webhooks", None)
            .await
    }

    /// Registers a webhook type.
    pub async fn create_webhook(&self, req: &CreateWebhook) -> Result<WebhookList, Error> {
        self.post_json(Operation::CreateWebhook, "/webhooks", req)
            .await
    }

    /// Removes the webhook of a type. `VNU` is refused before sending: the document's
    /// `DELETE` does not list it.
    pub async fn delete_webhook(&self, t: WebhookType) -> Result<DeletedWebhook, Error> {
        let op = Operation::DeleteWebhook;
        if !t.deletable() {
            return Err(Error::invalid(
                Some(op),
                InvalidRequest::bad_field(
                    "webhook-type",
                    "must be VCS, VCA, VSS or VRU: 8x8's document does not allow deleting VNU",
                ),
            ));
        }
        let path = format!("/webhooks/{}", t.as_str());
        self.get_json(op, &path, None).await
    }

    /// The recording push configuration.
    pub async fn recording_push_config(&self) -> Result<RecordingPushConfig, Error> {
        self.get_json(
            Operation::GetRecordingPushConfig,
            "/recording-push-config",
            None,
        )
        .await
    }

    /// Sets where recordings are pushed.
    pub async fn set_recording_push_config(
        &self,
        req: &RecordingPushConfigRequest,
    ) -> Result<RecordingPushConfig, Error> {
        self.post_json(
            Operation::CreateRecordingPushConfig,
            "/recording-push-config",
            req,
        )
        .await
    }

    /// Removes the recording push configuration.
    pub async fn delete_recording_push_config(&self) -> Result<RecordingPushConfig, Error> {
        self.get_json(
            Operation::DeleteRecordingPushConfig,
            "/recording-push-config",
            None,
        )
        .await
    }

    /// The recordings of a session.
    pub async fn recordings(&self, session: &SessionId) -> Result<Recordings, Error> {
        let path = format!("/recordings/{}", session.as_str());
        self.get_json(Operation::GetRecordingStatus, &path, None)
            .await
    }

    /// The sub-account's virtual numbers.
    pub async fn virtual_numbers(&self) -> Result<VirtualNumbers, Error> {
        self.get_json(Operation::ListVirtualNumbers, "/numbers", None)
            .await
    }

    /// One virtual number (the number is masked in traces and errors).
    pub async fn virtual_number(
        &self,
        number: &VirtualNumber,
    ) -> Result<VirtualNumberCheck, Error> {
        let path = format!("/numbers/{}", number.path_segment());
        self.get_json(Operation::CheckVirtualNumber, &path, Some(number))
            .await
    }

    /// Starts a voice log export; poll it with [`Client::log_export`].
    pub async fn start_log_export(&self, req: &LogExportRequest) -> Result<LogExportJob, Error> {
        let op = Operation::StartLogExport;
        req.check().map_err(|e| Error::invalid(Some(op), e))?;
        self.post_json(op, "/messages/exports", req).await
    }

    /// The state of an export job and, once `succeeded`, its download links.
    pub async fn log_export(&self, job: &JobId) -> Result<LogExportStatus, Error> {
        let path = format!("/messages/exports/{}", job.path_segment());
        self.get_json(Operation::GetLogExport, &path, None).await
    }

    /// Cancels an export job (204).
    pub async fn cancel_log_export(&self, job: &JobId) -> Result<(), Error> {
        let path = format!("/messages/exports/{}", job.path_segment());
        self.execute(Operation::CancelLogExport, &path, None, None)
            .await
            .map(|_| ())
    }

    // ---- plumbing ----

    /// `GET` or `DELETE` (the method comes from the operation) and parse.
    async fn get_json<T: DeserializeOwned + Default>(
        &self,
        op: Operation,
        path: &str,
        number: Option<&VirtualNumber>,
    ) -> Result<T, Error> {
        let (status, bytes, _) = self.execute(op, path, None, number).await?;
        parse(op, status, &bytes)
    }

    async fn post_json<B: serde::Serialize, T: DeserializeOwned + Default>(
        &self,
        op: Operation,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let body = serde_json::to_vec(body).expect("request types always serialize");
        let (status, bytes, _) = self
            .execute(op, path, Some(Bytes::from(body)), None)
            .await?;
        parse(op, status, &bytes)
    }

    /// Sends the request (again where the retry policy allows) inside one tracing span;
    /// returns the 2xx status, the body and the number of attempts.
    async fn execute(
        &self,
        op: Operation,
        path: &str,
        body: Option<Bytes>,
        number: Option<&VirtualNumber>,
    ) -> Result<(u16, Bytes, u32), Error> {
        let span = tracing::info_span!(
            "callflow_client.request",
            operation = op.operation_id(),
            method = op.method().as_str(),
            path = op.path_template(),
            number = field::Empty,
            attempt = field::Empty,
            status = field::Empty,
            code = field::Empty,
            duration_ms = field::Empty,
        );
        if let Some(n) = number {
            span.record("number", field::display(n));
        }
        let url = self.url(op, path);
        let started = Instant::now();
        let result = self
            .attempts(op, &url, body, started)
            .instrument(span.clone())
            .await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        match &result {
            Ok((status, _, n)) => {
                span.record("status", status);
                span.record("attempt", n);
                tracing::debug!(parent: &span, "8x8 answered");
            }
            Err(e) => {
                if let Some(s) = e.status() {
                    span.record("status", s);
                }
                if let Some(c) = e.code() {
                    span.record("code", c);
                }
                span.record("attempt", e.attempts());
                tracing::debug!(parent: &span, kind = ?e.kind(), "request failed");
            }
        }
        result
    }

    async fn attempts(
        &self,
        op: Operation,
        url: &str,
        body: Option<Bytes>,
        started: Instant,
    ) -> Result<(u16, Bytes, u32), Error> {
        let policy = &self.inner.retry;
        let budget = policy.elapsed_budget();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let left = budget.saturating_sub(started.elapsed());
            let per_try = self.inner.timeout.min(left);
            let (outcome, err) = match self.once(op, url, body.clone(), per_try).await {
                Ok(Ok((status, bytes))) => return Ok((status, bytes, attempt)),
                Ok(Err((status, retry_after, e))) => (Outcome::Status(status, retry_after), e),
                Err(e) => {
                    let o = if e.kind() == ErrorKind::Timeout {
                        Outcome::Timeout
                    } else {
                        Outcome::Connection
                    };
                    (o, e)
                }
            };
            let Some(delay) = policy.delay(op, outcome, attempt) else {
                return Err(err.with_attempts(attempt));
            };
            if started.elapsed() + delay >= budget {
                tracing::debug!(attempt, ?delay, "retry budget exhausted");
                return Err(err.with_attempts(attempt));
            }
            tracing::debug!(attempt, ?delay, kind = ?err.kind(), "sending again");
            tokio::time::sleep(delay).await;
        }
    }

    /// One request. `Ok(Ok)` a 2xx; `Ok(Err)` another status (with `Retry-After`); `Err` no
    /// answer (timeout, connection).
    #[allow(clippy::type_complexity)]
    async fn once(
        &self,
        op: Operation,
        url: &str,
        body: Option<Bytes>,
        timeout: Duration,
    ) -> Result<Result<(u16, Bytes), (u16, Option<std::time::Duration>, Error)>, Error> {
        let method = match op.method() {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut rb = self
            .inner
            .http
            .request(method, url)
            .header(AUTHORIZATION, self.inner.auth.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(
                USER_AGENT,
                HeaderValue::from_static(concat!("callflow-client/", env!("CARGO_PKG_VERSION"))),
            )
            .timeout(timeout);
        if let Some(b) = body {
            rb = rb
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(b);
        }
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                Error::timeout(op, timeout, Some(e))
            } else {
                Error::connection(op, e)
            }
        };
        let resp = rb.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = resp.bytes().await.map_err(classify)?;
        if (200..300).contains(&status) {
            Ok(Ok((status, bytes)))
        } else {
            let e = Error::from_response(op, status, retry_after, &bytes);
            Ok(Err((status, retry_after, e)))
        }
    }
}

/// Parses a 2xx body; an empty body is `{}` (every field of an answer is optional).
fn parse<T: DeserializeOwned + Default>(
    op: Operation,
    status: u16,
    bytes: &[u8],
) -> Result<T, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Error::unexpected(
            op,
            status,
            format!("the body is not the documented JSON ({})", e.classify_str()),
        )
    })
}

trait ClassifyStr {
    fn classify_str(&self) -> &'static str;
}

impl ClassifyStr for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "a field has the wrong type",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}
