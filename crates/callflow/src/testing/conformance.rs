//! The adapter conformance suite: one list of cases that every web adapter (axum, actix-web,
//! warp) must answer over real HTTP with the same status, `Content-Type`, `Allow` and body
//! bytes.
//!
//! The suite is data: [`cases`] lists what to send (method, headers, body, and how: an HTTP
//! client, a raw chunked upload, or a keep-alive connection that must survive the reply) and
//! what must come back. Every case runs against [`webhook`], whose handler picks its
//! behaviour from the event (reply, error, panic, missing the deadline), so one server per
//! framework answers every case. Besides the expectations written in each case, the exact
//! reference answer is what the core itself gives in process ([`Case::expected`]): an adapter
//! passes when its answer over the wire is identical to it.
//!
//! The runners that speak HTTP live in the workspace's `tests/` package (`integration-tests`),
//! which starts a real server per framework on `127.0.0.1:0`.
//!
//! ```
//! use callflow::testing::conformance;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let webhook = conformance::webhook();
//! for case in conformance::cases() {
//!     // The core answers itself exactly as the case says.
//!     case.check(&case.expected(&webhook).await).unwrap();
//! }
//! # }
//! ```

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};

use super::{call_action, fixtures, session_summary};
use crate::event::{CallAction, SessionSummary};
use crate::{
    CallFlow, CallHandler, Context, HandlerError, Webhook, WebhookBuilder, WebhookRequest,
    WebhookResponse,
};

/// Where the suite's servers serve the webhook.
pub const PATH: &str = "/webhooks/voice";
/// The auth header value [`webhook`] requires (in `Authorization`).
pub const AUTH_TOKEN: &str = "Bearer conformance-secret";
/// The body limit of [`webhook`], small so that over-limit bodies stay small.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The handler deadline of [`webhook`], small so that the deadline cases stay quick.
pub const DEADLINE: Duration = Duration::from_millis(200);

/// Values that make [`webhook`]'s handler misbehave: put one in a `CALL_ACTION`'s
/// `clientActionId` or a `SESSION_SUMMARY`'s `sessionId`.
pub mod marker {
    /// The handler returns an error.
    pub const ERROR: &str = "conformance-error";
    /// The handler panics.
    pub const PANIC: &str = "conformance-panic";
    /// The handler sleeps far past [`DEADLINE`](super::DEADLINE).
    pub const SLOW: &str = "conformance-slow";
    /// (`CALL_ACTION` only) the reply says the peer IP the handler saw.
    pub const PEER: &str = "conformance-peer";
    /// (`CALL_ACTION` only) the reply says the [`Stamp`](super::Stamp) the handler found in
    /// its `Context::extensions`.
    pub const EXTENSION: &str = "conformance-extension";
}

/// The callflow [`webhook`] answers to an ordinary `CALL_ACTION`.
pub fn reply() -> CallFlow {
    CallFlow::builder()
        .say("Hello from the conformance suite.")
        .hangup()
}

/// The callflow [`webhook`] answers to a `CALL_ACTION` marked [`marker::PEER`].
pub fn peer_reply(peer: Option<SocketAddr>) -> CallFlow {
    let ip = peer.map_or_else(|| "unknown".to_owned(), |p| p.ip().to_string());
    CallFlow::builder().say(format!("peer {ip}")).hangup()
}

/// A request extension that every server of the suite adds in front of the adapter (a
/// layer, a middleware, or the adapter's `ContextExtensions`), with [`STAMP`]: the
/// [`marker::EXTENSION`] case proves that request extensions reach the handler's
/// `Context::extensions` on every stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp(pub &'static str);

/// The [`Stamp`] the suite's servers add.
pub const STAMP: Stamp = Stamp("stamped by the server");

/// The callflow [`webhook`] answers to a `CALL_ACTION` marked [`marker::EXTENSION`].
pub fn extension_reply(stamp: Option<&Stamp>) -> CallFlow {
    let text = stamp.map_or("no stamp", |s| s.0);
    CallFlow::builder()
        .say(format!("extension: {text}"))
        .hangup()
}

/// The settings of [`webhook`] for `handler`: auth required ([`AUTH_TOKEN`]),
/// [`MAX_BODY_BYTES`], [`DEADLINE`], the default fallback.
pub fn builder(handler: impl CallHandler) -> WebhookBuilder {
    Webhook::builder(handler)
        .auth_token(AUTH_TOKEN)
        .max_body_bytes(MAX_BODY_BYTES)
        .deadline(DEADLINE)
}

/// The webhook every adapter serves at [`PATH`] while the suite runs.
pub fn webhook() -> Webhook {
    builder(ConformanceHandler).build()
}

struct ConformanceHandler;

async fn misbehave(marker: &str) -> Result<(), HandlerError> {
    match marker {
        marker::ERROR => Err(HandlerError::msg("conformance: handler error")),
        marker::PANIC => panic!("conformance: handler panic (expected by the suite)"),
        marker::SLOW => {
            tokio::time::sleep(DEADLINE * 50).await;
            Ok(())
        }
        _ => Ok(()),
    }
}

impl CallHandler for ConformanceHandler {
    async fn on_call_action(
        &self,
        event: CallAction,
        cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        let marker = event.payload.client_action_id.as_deref().unwrap_or("");
        if marker == marker::PEER {
            return Ok(peer_reply(cx.peer_addr()));
        }
        if marker == marker::EXTENSION {
            return Ok(extension_reply(cx.extensions().get::<Stamp>()));
        }
        misbehave(marker).await?;
        Ok(reply())
    }

    async fn on_session_summary(
        &self,
        event: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        misbehave(&event.payload.session_id).await
    }
}

/// How a case's request goes over the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// An ordinary HTTP client request (`Content-Length` from the body).
    Client,
    /// Raw TCP: the body goes with `Transfer-Encoding: chunked` in chunks of this many
    /// bytes, and no `Content-Length`.
    Chunked(usize),
    /// Raw TCP with keep-alive: after the reply, [`happy_path`] is sent on the same
    /// connection and must get its usual answer (the connection was not dropped).
    KeepAlive,
    /// Raw TCP: only the head goes, with `Expect: 100-continue` and the body's
    /// `Content-Length`; the final answer must come without the body (an interim
    /// `100 Continue` is skipped). Only for cases refused on their head.
    ExpectContinue,
    /// An ordinary HTTP client request sent twice, one after the other: what counts is the
    /// second answer (a duplicate delivery, answered from the idempotency store).
    Duplicate,
}

/// What a case's body must be, besides being identical to the core's own answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyCheck {
    /// Exactly these bytes.
    Exact(Bytes),
    /// A JSON error body with this `error.code`.
    ErrorCode(&'static str),
    /// No body (the answer to `HEAD`).
    Empty,
}

/// One conformance case: a request, how to send it, and what must come back.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Case {
    /// A unique `snake_case` name.
    pub name: &'static str,
    /// The method.
    pub method: Method,
    /// The headers (without `Host`, `Content-Length` or `Transfer-Encoding`, which the
    /// runner sets).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// How the request is sent.
    pub transport: Transport,
    /// The status that must come back.
    pub status: StatusCode,
    /// The `Content-Type` that must come back.
    pub content_type: Option<&'static str>,
    /// What the body must be.
    pub check: BodyCheck,
    /// Whether the answer must carry (`Some(true)`) or must not carry (`Some(false)`) the
    /// replay header [`REPLAY_HEADER`](crate::idempotency::REPLAY_HEADER); `None`: either,
    /// since whether an answer is a replay depends on what the server saw before.
    pub replay: Option<bool>,
}

/// What came back for a case: the parts that must be identical across frameworks.
#[derive(Clone)]
pub struct Observed {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `Allow` header, if any.
    pub allow: Option<String>,
    /// The body bytes as received.
    pub body: Bytes,
    /// The replay header ([`REPLAY_HEADER`](crate::idempotency::REPLAY_HEADER)), if any.
    /// Checked by `Case::check` against the case's expected replay flag, but not part of `==`: whether an
    /// answer is a replay depends on what the server's store saw before, which differs
    /// between a server and the core's reference answer.
    pub replay: Option<String>,
}

impl PartialEq for Observed {
    fn eq(&self, other: &Self) -> bool {
        self.status == other.status
            && self.content_type == other.content_type
            && self.allow == other.allow
            && self.body == other.body
    }
}

impl Eq for Observed {}

impl Observed {
    /// Reads the parts from response headers and body.
    pub fn new(status: u16, headers: &HeaderMap, body: Bytes) -> Self {
        let text = |name| {
            headers
                .get(name)
                .map(|v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        Self {
            status,
            content_type: text(CONTENT_TYPE),
            allow: text(ALLOW),
            body,
            replay: text(HeaderName::from_static(crate::idempotency::REPLAY_HEADER)),
        }
    }

    /// What a client receives for the core's `response` to a `method` request (no body for
    /// `HEAD`).
    pub fn from_response(method: &Method, response: WebhookResponse) -> Self {
        let (status, headers, body) = response.into_parts();
        let body = if method == Method::HEAD {
            Bytes::new()
        } else {
            body
        };
        Self::new(status.as_u16(), &headers, body)
    }
}

impl fmt::Debug for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observed")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("allow", &self.allow)
            .field("replay", &self.replay)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

fn base_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(AUTHORIZATION, HeaderValue::from_static(AUTH_TOKEN));
    h
}

impl Case {
    fn post(name: &'static str, body: impl Into<Bytes>) -> Self {
        Self {
            name,
            method: Method::POST,
            headers: base_headers(),
            body: body.into(),
            transport: Transport::Client,
            status: StatusCode::OK,
            content_type: Some("application/json"),
            check: BodyCheck::Exact(reply().to_bytes()),
            replay: None,
        }
    }

    fn replay(mut self, replay: bool) -> Self {
        self.replay = Some(replay);
        self
    }

    fn method(name: &'static str, method: Method) -> Self {
        let mut case = Self::post(name, Bytes::new());
        case.headers.remove(CONTENT_TYPE);
        case.method = method;
        case.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    }

    fn header(mut self, name: HeaderName, value: &'static str) -> Self {
        self.headers.insert(name, HeaderValue::from_static(value));
        self
    }

    fn without(mut self, name: HeaderName) -> Self {
        self.headers.remove(name);
        self
    }

    fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    fn exact(mut self, body: Bytes) -> Self {
        self.check = BodyCheck::Exact(body);
        self
    }

    fn error(mut self, status: StatusCode, code: &'static str) -> Self {
        self.status = status;
        self.check = BodyCheck::ErrorCode(code);
        self
    }

    /// The request as the core sees it, from peer `127.0.0.1` and with the [`STAMP`]
    /// extension (what every server in the suite sees).
    pub fn webhook_request(&self) -> WebhookRequest {
        let mut request =
            WebhookRequest::new(self.method.clone(), self.headers.clone(), self.body.clone())
                .with_peer(Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 40_000))));
        request.extensions_mut().insert(STAMP);
        request
    }

    /// The reference answer: what the core itself gives in process (for
    /// [`Transport::Duplicate`], its answer to the second of two identical requests).
    pub async fn expected(&self, webhook: &Webhook) -> Observed {
        if self.transport == Transport::Duplicate {
            webhook.dispatch(self.webhook_request()).await;
        }
        let response = webhook.dispatch(self.webhook_request()).await;
        Observed::from_response(&self.method, response)
    }

    /// Checks `got` against the status, content type and body written in the case.
    pub fn check(&self, got: &Observed) -> Result<(), String> {
        let fail = |what: &str| Err(format!("case {}: {what}; got {got:?}", self.name));
        if got.status != self.status.as_u16() {
            return fail(&format!("status must be {}", self.status.as_u16()));
        }
        if got.content_type.as_deref() != self.content_type {
            return fail(&format!("Content-Type must be {:?}", self.content_type));
        }
        if self.status == StatusCode::METHOD_NOT_ALLOWED && got.allow.as_deref() != Some("POST") {
            return fail("405 must carry `Allow: POST`");
        }
        match (self.replay, got.replay.as_deref()) {
            (Some(true), Some("true")) | (Some(false), None) | (None, _) => {}
            (Some(true), _) => {
                return fail("a duplicate's answer must carry `Callflow-Replay: true`");
            }
            (Some(false), Some(_)) => {
                return fail("a first delivery's answer must not carry `Callflow-Replay`");
            }
        }
        match &self.check {
            BodyCheck::Exact(b) if got.body != *b => {
                fail(&format!("body must be {:?}", String::from_utf8_lossy(b)))
            }
            BodyCheck::Empty if !got.body.is_empty() => fail("body must be empty"),
            BodyCheck::ErrorCode(code) => {
                let v: serde_json::Value = match serde_json::from_slice(&got.body) {
                    Ok(v) => v,
                    Err(_) => return fail("body must be a JSON error"),
                };
                if v["error"]["code"] != *code {
                    return fail(&format!("error.code must be {code:?}"));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// The first case: a documented `CALL_ACTION` (Number Masking, call received) answered with
/// [`reply`]. [`Transport::KeepAlive`] sends it as the follow-up request.
pub fn happy_path() -> Case {
    Case::post("call_action_happy_path", fixtures::get("vca_nm_inbound"))
}

/// A body of `len` bytes that is valid JSON (to be refused for its size alone).
fn padded_json(len: usize) -> Bytes {
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(br#"{"pad":""#);
    body.resize(len - 2, b'x');
    body.extend_from_slice(br#""}"#);
    Bytes::from(body)
}

/// Every case, in a fixed order with unique names.
pub fn cases() -> Vec<Case> {
    let ack = Bytes::from_static(br#"{"received":true}"#);
    let fallback = crate::default_fallback().to_bytes();
    let happy = fixtures::get("vca_nm_inbound");
    let over_limit = padded_json(2 * MAX_BODY_BYTES);
    let action = |marker: &str| call_action().client_action_id(marker).build_json();
    let summary = |marker: &str| session_summary().session_id(marker).build_json();
    // A known event with a wrong shape: `callStatus` is an object.
    let wrong_shape = br#"{"namespace":"VOICE","eventType":"CALL_ACTION","payload":{"eventId":"e1","callId":"c1","sessionId":"s1","callStatus":{"x":1},"source":"+6591110001","destination":"+6568880000"}}"#;
    let internal = StatusCode::INTERNAL_SERVER_ERROR;
    // Ids no other case uses, so that the first is a first delivery wherever it runs.
    let first_delivery = call_action()
        .event_id("conformance-first-delivery")
        .build_json();
    let duplicate = call_action().event_id("conformance-duplicate").build_json();
    vec![
        happy_path(),
        Case::post("call_action_ivr_dtmf", fixtures::get("vca_ivr_dtmf")),
        Case::post("call_status", fixtures::get("vcs")).exact(ack.clone()),
        Case::post("session_summary", fixtures::get("vss_nm_success")).exact(ack.clone()),
        Case::post("call_recording_status", fixtures::get("vru")).exact(ack.clone()),
        Case::post("virtual_number_update", fixtures::get("vnu")).exact(ack.clone()),
        Case::post("unknown_event_type", fixtures::get("unknown_event")).exact(ack),
        Case::post("malformed_json", fixtures::get("malformed_vca_doc_sample"))
            .error(StatusCode::BAD_REQUEST, "invalid_json"),
        Case::post("known_event_wrong_shape", &wrong_shape[..])
            .error(StatusCode::BAD_REQUEST, "invalid_event"),
        Case::post("empty_body", Bytes::new()).error(StatusCode::BAD_REQUEST, "empty_body"),
        Case::post("form_urlencoded_content_type", "eventType=CALL_ACTION")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        Case::post("missing_content_type", happy).without(CONTENT_TYPE),
        Case::post("json_charset_utf8", happy)
            .header(CONTENT_TYPE, "application/json; charset=utf-8"),
        Case::post("text_plain_content_type", happy).header(CONTENT_TYPE, "text/plain"),
        Case::post("gzip_content_encoding", happy)
            .header(CONTENT_ENCODING, "gzip")
            .error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_content_encoding",
            ),
        Case::post("over_limit_content_length", over_limit.clone())
            .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        Case::post("over_limit_chunked", over_limit)
            .transport(Transport::Chunked(1024))
            .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        Case::post(
            "over_limit_expect_continue",
            padded_json(2 * MAX_BODY_BYTES),
        )
        .transport(Transport::ExpectContinue)
        .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        Case::post("within_limit_chunked", happy).transport(Transport::Chunked(100)),
        Case::post("auth_missing", happy)
            .without(AUTHORIZATION)
            .error(StatusCode::UNAUTHORIZED, "unauthorized"),
        Case::post("auth_wrong", happy)
            .header(AUTHORIZATION, "Bearer wrong-secret")
            .error(StatusCode::UNAUTHORIZED, "unauthorized"),
        Case::post("auth_right", happy),
        Case::method("get_not_allowed", Method::GET),
        Case {
            check: BodyCheck::Empty,
            ..Case::method("head_not_allowed", Method::HEAD)
        },
        Case::method("put_not_allowed", Method::PUT),
        Case::post("call_action_handler_error", action(marker::ERROR)).exact(fallback.clone()),
        Case::post("call_action_handler_panic", action(marker::PANIC))
            .transport(Transport::KeepAlive)
            .exact(fallback.clone()),
        Case::post("call_action_deadline", action(marker::SLOW)).exact(fallback),
        Case::post("session_summary_handler_error", summary(marker::ERROR))
            .error(internal, "internal_error"),
        Case::post("session_summary_handler_panic", summary(marker::PANIC))
            .transport(Transport::KeepAlive)
            .error(internal, "internal_error"),
        Case::post("session_summary_deadline", summary(marker::SLOW))
            .error(StatusCode::SERVICE_UNAVAILABLE, "deadline_exceeded"),
        Case::post("peer_address_reaches_handler", action(marker::PEER))
            .exact(peer_reply(Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))).to_bytes()),
        Case::post("extensions_reach_handler", action(marker::EXTENSION))
            .exact(extension_reply(Some(&STAMP)).to_bytes()),
        Case::post("first_delivery_not_marked_replay", first_delivery).replay(false),
        Case::post("duplicate_delivery_marked_replay", duplicate)
            .transport(Transport::Duplicate)
            .replay(true),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_core_passes_its_own_suite() {
        let webhook = webhook();
        let cases = cases();
        let mut names: Vec<_> = cases.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), cases.len(), "case names are unique");
        for case in &cases {
            let got = case.expected(&webhook).await;
            case.check(&got).unwrap();
        }
    }
}
