//! Building blocks the robustness cases share: requests and their expected answers, the
//! exchange with a server checked against the core's own answer, raw-TCP helpers, and the
//! handlers more than one topic uses.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use callflow::event::CallAction;
use callflow::testing::conformance::{self, AUTH_TOKEN, BodyCheck, Observed};
use callflow::{CallFlow, CallHandler, Context, HandlerError, Webhook};
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::Outcome;
use crate::{Framework, Guards, http_client, read_response, request_head, run_case, serve_guarded};

/// How long a server may take beyond a configured timeout before the suite calls it late
/// (the machines are small and shared).
pub(super) const SLACK: Duration = Duration::from_millis(2500);

/// A `POST` of `body` with the conformance headers, expecting the conformance reply.
pub(super) fn post(name: &'static str, body: impl Into<Bytes>) -> conformance::Case {
    let mut case = conformance::happy_path();
    case.name = name;
    case.body = body.into();
    case
}

pub(super) fn refused(
    mut case: conformance::Case,
    status: StatusCode,
    code: &'static str,
) -> conformance::Case {
    case.status = status;
    case.check = BodyCheck::ErrorCode(code);
    case
}

pub(super) fn answered(mut case: conformance::Case, body: Bytes) -> conformance::Case {
    case.check = BodyCheck::Exact(body);
    case
}

pub(super) fn header(
    mut case: conformance::Case,
    name: http::HeaderName,
    value: &str,
) -> conformance::Case {
    case.headers
        .insert(name, HeaderValue::from_str(value).expect("header value"));
    case
}

pub(super) fn ack() -> Bytes {
    Bytes::from_static(br#"{"received":true}"#)
}

pub(super) fn conformance_case(name: &str) -> conformance::Case {
    conformance::cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no conformance case {name}"))
}

/// Sends `case` to the server at `addr`; checks the answer against the case and against the
/// core's own answer from `webhook`.
pub(super) async fn exchange(
    addr: SocketAddr,
    webhook: &Webhook,
    case: &conformance::Case,
) -> Result<Observed, String> {
    let got = run_case(&http_client(), addr, case).await;
    case.check(&got)?;
    let core = case.expected(webhook).await;
    if got != core {
        return Err(format!(
            "case {}: differs from the core's answer\n  got:  {got:?}\n  core: {core:?}",
            case.name
        ));
    }
    Ok(got)
}

/// Runs `cases` against a server of `framework` serving `webhook`, then checks that the
/// server still answers the happy path.
pub(super) async fn exchanges(
    framework: Framework,
    webhook: Webhook,
    cases: &[conformance::Case],
) -> Outcome {
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    let mut failures = Vec::new();
    for case in cases {
        if let Err(e) = exchange(server.addr, &webhook, case).await {
            failures.push(e);
        }
    }
    still_serving(server.addr).await?;
    server.shutdown().await?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// The server at `addr` answers an ordinary webhook with the conformance reply.
pub(super) async fn still_serving(addr: SocketAddr) -> Outcome {
    let got = run_case(&http_client(), addr, &conformance::happy_path()).await;
    if got.status == 200 && got.body == conformance::reply().to_bytes() {
        Ok(())
    } else {
        Err(format!("the server stopped serving: {got:?}"))
    }
}

/// An ordinary webhook over a new connection; how long it took.
pub(super) async fn timed_webhook(addr: SocketAddr) -> Result<Duration, String> {
    let start = Instant::now();
    still_serving(addr).await?;
    Ok(start.elapsed())
}

/// Opens a connection and sends `bytes`, leaving the connection open.
pub(super) async fn send_raw(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    stream
}

/// The head of an authorised JSON `POST` to the webhook with `framing` (e.g.
/// `content-length: 100\r\n`).
pub(super) fn webhook_head(addr: SocketAddr, framing: &str) -> Vec<u8> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(AUTHORIZATION, HeaderValue::from_static(AUTH_TOKEN));
    request_head(addr, &Method::POST, &headers, framing)
}

/// What a server did with a connection that stopped sending.
#[derive(Debug)]
pub(super) struct Ending {
    /// The response it sent, if any.
    pub(super) response: Option<(u16, HeaderMap, Bytes)>,
    /// Whether it closed the connection (after the response, if any).
    pub(super) closed: bool,
    /// How long after the call it answered (or closed, with no response).
    pub(super) after: Duration,
}

/// Waits up to `limit` for the server to answer and close `stream`.
pub(super) async fn ending(stream: TcpStream, limit: Duration) -> Ending {
    let start = Instant::now();
    let mut reader = BufReader::new(stream);
    let first = tokio::time::timeout(limit, read_response(&mut reader, &Method::POST)).await;
    let response = match first {
        Ok(Ok(response)) => Some(response),
        // Closed (or reset) without a response.
        Ok(Err(_)) => {
            return Ending {
                response: None,
                closed: true,
                after: start.elapsed(),
            };
        }
        Err(_) => {
            return Ending {
                response: None,
                closed: false,
                after: start.elapsed(),
            };
        }
    };
    let after = start.elapsed();
    let mut rest = Vec::new();
    let left = limit.saturating_sub(after).max(Duration::from_millis(500));
    let closed = matches!(
        tokio::time::timeout(left, reader.read_to_end(&mut rest)).await,
        Ok(Ok(_) | Err(_))
    );
    Ending {
        response,
        closed,
        after,
    }
}

pub(super) fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v["error"]["code"].as_str().map(str::to_owned)
}

/// A `CALL_ACTION` handler that counts its runs and can take its time.
#[derive(Default)]
pub(super) struct Counting {
    pub(super) runs: AtomicUsize,
    pub(super) delay: Duration,
}

impl CallHandler for Counting {
    async fn on_call_action(
        &self,
        _event: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(self.delay).await;
        Ok(CallFlow::builder().say(format!("run {run}")).hangup())
    }
}

pub(super) fn counting_webhook(builder: callflow::WebhookBuilder) -> Webhook {
    builder.build()
}

/// A handler that answers every `CALL_ACTION` with the conformance reply, for webhooks with
/// another configuration than the conformance one.
pub(super) fn conformance_handler() -> impl CallHandler {
    struct Replying;
    impl CallHandler for Replying {
        async fn on_call_action(
            &self,
            _event: CallAction,
            _cx: &Context,
        ) -> Result<CallFlow, HandlerError> {
            Ok(conformance::reply())
        }
    }
    Replying
}

/// Runs futures concurrently (the suite has no `futures` dependency).
pub(super) async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// Whether a response's `Connection` header says `close`.
pub(super) fn says_close(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"))
}
