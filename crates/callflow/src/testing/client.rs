//! Run a [`Webhook`] in-process and assert on its replies.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};

use crate::callflow::Mode;
use crate::{CallFlow, Webhook, WebhookRequest, WebhookResponse};

/// Sends requests straight to [`Webhook::dispatch`], without a network.
///
/// ```
/// use callflow::{CallFlow, Webhook, handler_fn, testing};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let client = testing::TestClient::new(Webhook::new(handler_fn(|_e, _c| async {
///     Ok(CallFlow::builder().say("Hi").hangup())
/// })));
/// let reply = client.post(testing::call_action().build_json()).await;
/// assert_eq!(reply.status(), 200);
/// assert_eq!(reply.callflow().actions().len(), 2);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TestClient {
    webhook: Webhook,
    headers: HeaderMap,
}

impl TestClient {
    /// A client for `webhook`; requests carry `Content-Type: application/json`.
    pub fn new(webhook: Webhook) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Self { webhook, headers }
    }

    /// Adds a header to every request (e.g. the auth token).
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("valid header value"),
        );
        self
    }

    /// POSTs `body`.
    pub async fn post(&self, body: impl Into<Bytes>) -> TestResponse {
        self.send(Method::POST, self.headers.clone(), body.into())
            .await
    }

    /// Sends anything.
    pub async fn send(&self, method: Method, headers: HeaderMap, body: Bytes) -> TestResponse {
        let response = self
            .webhook
            .dispatch(WebhookRequest::new(method, headers, body))
            .await;
        TestResponse(response)
    }
}

/// A reply from [`TestClient`].
#[derive(Clone, Debug)]
pub struct TestResponse(pub WebhookResponse);

impl TestResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.0.status()
    }

    /// The body as text.
    pub fn text(&self) -> &str {
        std::str::from_utf8(self.0.body()).expect("the core always answers UTF-8 JSON")
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(self.0.body()).expect("the core always answers JSON")
    }

    /// The `error.code` of an error body, if it is one.
    pub fn error_code(&self) -> Option<String> {
        self.json()["error"]["code"].as_str().map(str::to_owned)
    }

    /// The body as a callflow, checked against 8x8's reply rules.
    ///
    /// # Panics
    ///
    /// If the body is not a valid callflow reply.
    pub fn callflow(&self) -> CallFlow {
        CallFlow::parse(self.0.body(), Mode::Reply)
            .unwrap_or_else(|v| panic!("not a valid callflow reply: {v}\nbody: {}", self.text()))
    }
}
