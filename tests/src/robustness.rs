//! The robustness suite: one list of cases ([`cases`]) that every adapter must pass over
//! real HTTP, each tied to its row of `../shared/spec/robustness.md` ([`Case::spec`]).
//!
//! Every case is a check run against a real server of one framework on `127.0.0.1:0`,
//! started with the adapter's `serve_with_shutdown` helper ([`serve_guarded`]); where the
//! wire itself is under test (half-sent heads and bodies, idle connections, `Expect`,
//! shutdown), the client is raw TCP. Where a case sends an ordinary request, the answer must
//! also be identical to the core's own answer in process, as in the conformance suite.
//!
//! `tests/tests/robustness.rs` runs each case once per framework, as its own test
//! (`axum::slow_head_is_cut_off_at_the_head_timeout`, …), and checks that no case of this list
//! is left without a test. The mapping of the 32 rows to these cases and to the core's own
//! tests is in `tests/README.md`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use callflow::allow::{AllowList, IpNet};
use callflow::event::{CallAction, CallStatusEvent, SessionSummary};
use callflow::idempotency::MemoryIdempotencyStore;
use callflow::testing::conformance::{self, AUTH_TOKEN, BodyCheck, Observed, Transport};
use callflow::testing::{self, fixtures};
use callflow::{
    CallFlow, CallHandler, Context, HandlerError, Timestamp, Webhook, WebhookResponse, async_trait,
};
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::{
    Framework, GuardedServer, Guards, HEALTH_PATH, http_client, read_response, request_head,
    run_case, serve_guarded,
};

/// What a case concludes: `Err` says what went wrong.
pub type Outcome = Result<(), String>;

type Check = fn(Framework) -> Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// One robustness case: the row of the spec it proves, a unique `snake_case` name that says
/// the behaviour, and the check.
#[derive(Clone)]
pub struct Case {
    /// The row (`#`) of `robustness.md`.
    pub spec: u8,
    /// The behaviour proved, as a name (also the test's name).
    pub name: &'static str,
    check: Check,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("spec", &self.spec)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Case {
    /// Runs the case against a fresh server of `framework`.
    pub async fn run(&self, framework: Framework) -> Outcome {
        (self.check)(framework).await.map_err(|e| {
            format!(
                "{framework}: {} (robustness #{}): {e}",
                self.name, self.spec
            )
        })
    }
}

macro_rules! case {
    ($spec:expr, $name:ident) => {
        Case {
            spec: $spec,
            name: stringify!($name),
            check: |framework| Box::pin($name(framework)),
        }
    };
}

/// Every case: the spec's rows in order, then the cases added for issue #13 (each tied to
/// its row).
pub fn cases() -> Vec<Case> {
    vec![
        case!(1, malformed_json_is_400_with_the_core_error),
        case!(
            2,
            documented_type_variants_are_accepted_and_wrong_types_are_400
        ),
        case!(3, missing_required_field_is_400_naming_its_path),
        case!(4, unknown_event_type_and_call_status_are_acknowledged),
        case!(5, unknown_fields_are_ignored),
        case!(6, over_limit_content_length_is_413_before_the_body_is_read),
        case!(7, over_limit_chunked_body_is_413_and_closed),
        case!(8, empty_body_is_400),
        case!(9, missing_content_type_is_accepted_unless_strict),
        case!(10, json_ish_media_types_are_accepted_and_forms_are_415),
        case!(11, invalid_utf8_in_a_string_is_400),
        case!(12, deeply_nested_json_is_400_quickly),
        case!(13, huge_and_odd_numbers_are_400_never_a_crash),
        case!(14, duplicate_json_keys_have_a_pinned_answer),
        case!(15, slow_head_is_cut_off_at_the_head_timeout),
        case!(15, idle_connection_is_closed_at_the_head_timeout),
        case!(16, slow_body_gets_408_at_the_body_timeout),
        case!(16, slow_chunked_body_gets_408_at_the_body_timeout),
        case!(17, five_hundred_idle_connections_do_not_stop_webhooks),
        case!(17, connections_over_the_cap_wait_for_a_free_slot),
        case!(18, handler_panic_is_answered_and_the_connection_survives),
        case!(19, handler_past_the_deadline_is_answered_at_the_deadline),
        case!(20, handler_error_gets_the_fallback_or_500),
        case!(
            21,
            duplicate_delivery_gets_the_first_answer_without_rerunning
        ),
        case!(22, concurrent_duplicates_run_the_handler_once),
        case!(23, out_of_order_events_are_each_acknowledged),
        case!(24, stale_and_future_timestamps_reach_the_handler),
        case!(25, auth_is_checked_before_the_body_is_read),
        case!(26, allow_list_refuses_with_403_before_the_body_is_read),
        case!(26, allow_list_follows_only_trusted_proxies),
        case!(27, wrong_method_is_405_and_wrong_path_is_404),
        case!(28, compressed_body_is_415),
        case!(
            29,
            expect_continue_with_an_oversized_length_is_413_without_the_body
        ),
        case!(30, graceful_shutdown_finishes_in_flight_and_is_bounded),
        case!(
            31,
            duplicates_are_recognised_across_a_restart_with_a_shared_store
        ),
        case!(32, sustained_mixed_load_gets_only_expected_answers),
        // Issue #13, defect 5 (unavailable store: 503 store_unavailable, never 500).
        case!(
            20,
            store_unavailable_is_503_for_events_and_the_fallback_for_calls
        ),
        // Issue 13, defect 1: refused requests do not hold connections.
        case!(
            25,
            refused_request_with_a_trickling_body_is_closed_within_a_second
        ),
        case!(7, over_limit_body_is_not_read_after_413),
        case!(
            25,
            trickling_refused_clients_do_not_take_the_slots_of_webhooks
        ),
        // Issue 13, defect 6: a replayed event id does not fetch another call's reply.
        case!(
            21,
            replayed_event_id_with_another_body_is_not_answered_from_the_store
        ),
        // Issue #13, defects 3 and 7 (connection slots, shutdown, HTTP/2, head timeout).
        case!(
            17,
            idle_connections_are_shed_at_the_cap_for_a_working_client
        ),
        case!(30, responses_during_shutdown_carry_connection_close),
        case!(27, http2_prior_knowledge_gets_400_and_a_close),
        case!(15, partial_head_gets_408_at_the_head_timeout),
    ]
}

/// The case called `name`.
pub fn case(name: &str) -> Option<Case> {
    cases().into_iter().find(|c| c.name == name)
}

// ---------------------------------------------------------------------------------------
// Building blocks.

/// How long a server may take beyond a configured timeout before the suite calls it late
/// (the machines are small and shared).
const SLACK: Duration = Duration::from_millis(2500);

/// A `POST` of `body` with the conformance headers, expecting the conformance reply.
fn post(name: &'static str, body: impl Into<Bytes>) -> conformance::Case {
    let mut case = conformance::happy_path();
    case.name = name;
    case.body = body.into();
    case
}

fn refused(
    mut case: conformance::Case,
    status: StatusCode,
    code: &'static str,
) -> conformance::Case {
    case.status = status;
    case.check = BodyCheck::ErrorCode(code);
    case
}

fn answered(mut case: conformance::Case, body: Bytes) -> conformance::Case {
    case.check = BodyCheck::Exact(body);
    case
}

fn header(mut case: conformance::Case, name: http::HeaderName, value: &str) -> conformance::Case {
    case.headers
        .insert(name, HeaderValue::from_str(value).expect("header value"));
    case
}

fn ack() -> Bytes {
    Bytes::from_static(br#"{"received":true}"#)
}

fn conformance_case(name: &str) -> conformance::Case {
    conformance::cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no conformance case {name}"))
}

/// Sends `case` to the server at `addr`; checks the answer against the case and against the
/// core's own answer from `webhook`.
async fn exchange(
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
async fn exchanges(framework: Framework, webhook: Webhook, cases: &[conformance::Case]) -> Outcome {
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
async fn still_serving(addr: SocketAddr) -> Outcome {
    let got = run_case(&http_client(), addr, &conformance::happy_path()).await;
    if got.status == 200 && got.body == conformance::reply().to_bytes() {
        Ok(())
    } else {
        Err(format!("the server stopped serving: {got:?}"))
    }
}

/// An ordinary webhook over a new connection; how long it took.
async fn timed_webhook(addr: SocketAddr) -> Result<Duration, String> {
    let start = Instant::now();
    still_serving(addr).await?;
    Ok(start.elapsed())
}

/// Opens a connection and sends `bytes`, leaving the connection open.
async fn send_raw(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    stream
}

/// The head of an authorised JSON `POST` to the webhook with `framing` (e.g.
/// `content-length: 100\r\n`).
fn webhook_head(addr: SocketAddr, framing: &str) -> Vec<u8> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(AUTHORIZATION, HeaderValue::from_static(AUTH_TOKEN));
    request_head(addr, &Method::POST, &headers, framing)
}

/// What a server did with a connection that stopped sending.
#[derive(Debug)]
struct Ending {
    /// The response it sent, if any.
    response: Option<(u16, HeaderMap, Bytes)>,
    /// Whether it closed the connection (after the response, if any).
    closed: bool,
    /// How long after the call it answered (or closed, with no response).
    after: Duration,
}

/// Waits up to `limit` for the server to answer and close `stream`.
async fn ending(stream: TcpStream, limit: Duration) -> Ending {
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

fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v["error"]["code"].as_str().map(str::to_owned)
}

/// A `CALL_ACTION` handler that counts its runs and can take its time.
#[derive(Default)]
struct Counting {
    runs: AtomicUsize,
    delay: Duration,
}

#[async_trait]
impl CallHandler for Counting {
    async fn on_call_action(
        &self,
        _event: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(self.delay).await;
        Ok(CallFlow::new().say(format!("run {run}")).hangup())
    }
}

fn counting_webhook(handler: Arc<Counting>, config: callflow::Config) -> Webhook {
    Webhook::from_arc(handler, config)
}

/// A handler that records what reached it, in order.
#[derive(Default)]
struct Recording {
    seen: Mutex<Vec<(String, Option<Timestamp>)>>,
}

#[async_trait]
impl CallHandler for Recording {
    async fn on_call_action(
        &self,
        event: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(("CALL_ACTION".into(), event.payload.timestamp.clone()));
        Ok(conformance::reply())
    }

    async fn on_call_status(
        &self,
        event: CallStatusEvent,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(("CALL_STATUS".into(), event.payload.timestamp.clone()));
        Ok(())
    }

    async fn on_session_summary(
        &self,
        _event: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(("SESSION_SUMMARY".into(), None));
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Rows 1-14: what the body says.

/// #1: a truncated body, a trailing comma and 8x8's own doc sample with a `//` comment.
async fn malformed_json_is_400_with_the_core_error(framework: Framework) -> Outcome {
    let happy = fixtures::get("vca_nm_inbound");
    let truncated = &happy[..happy.len() / 2];
    let trailing_comma = happy.replacen("\"sipCode\": 200,", "\"sipCode\": 200,,", 1);
    let bad =
        |name, body: String| refused(post(name, body), StatusCode::BAD_REQUEST, "invalid_json");
    exchanges(
        framework,
        conformance::webhook(),
        &[
            bad("truncated", truncated.to_owned()),
            bad("trailing_comma", trailing_comma),
            bad(
                "doc_sample_comment",
                fixtures::get("malformed_vca_doc_sample").to_owned(),
            ),
            bad("not_json", "eventType=CALL_ACTION".to_owned()),
        ],
    )
    .await
}

/// #2: `dtmf: 3` and `callDuration: "0"` are documented variants; an object where a status
/// string belongs is a 400 naming its path.
async fn documented_type_variants_are_accepted_and_wrong_types_are_400(
    framework: Framework,
) -> Outcome {
    let wrong = testing::call_action()
        .build_json()
        .replacen("\"CALL_RECEIVED\"", "{\"x\":1}", 1);
    let duration_object = testing::call_action().build_json().replacen(
        "\"callDuration\":0",
        "\"callDuration\":{\"s\":0}",
        1,
    );
    let cases = vec![
        post(
            "numeric_dtmf_and_string_duration",
            fixtures::get("vca_legacy_numeric_dtmf"),
        ),
        post(
            "event_data_string",
            fixtures::get("vca_3p_eventdata_string"),
        ),
        refused(
            post("status_object", wrong),
            StatusCode::BAD_REQUEST,
            "invalid_event",
        ),
        refused(
            post("duration_object", duration_object),
            StatusCode::BAD_REQUEST,
            "invalid_event",
        ),
    ];
    let webhook = conformance::webhook();
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    let mut failures = Vec::new();
    for case in &cases {
        match exchange(server.addr, &webhook, case).await {
            Ok(got) if got.status == 400 => {
                let v: serde_json::Value = serde_json::from_slice(&got.body).unwrap_or_default();
                if !v["error"]["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("$.payload."))
                {
                    failures.push(format!("case {}: no JSON path in {got:?}", case.name));
                }
            }
            Ok(_) => {}
            Err(e) => failures.push(e),
        }
    }
    server.shutdown().await?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// #3: a `CALL_ACTION` without `callId`.
async fn missing_required_field_is_400_naming_its_path(framework: Framework) -> Outcome {
    let body = testing::call_action().call_id("drop-me").build_json();
    let body = body.replacen("\"callId\":\"drop-me\",", "", 1);
    if body.contains("drop-me") {
        return Err(format!("could not remove callId from {body}"));
    }
    let webhook = conformance::webhook();
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    let case = refused(
        post("missing_call_id", body),
        StatusCode::BAD_REQUEST,
        "invalid_event",
    );
    let got = exchange(server.addr, &webhook, &case).await?;
    server.shutdown().await?;
    let v: serde_json::Value = serde_json::from_slice(&got.body).map_err(|e| e.to_string())?;
    if v["error"]["path"] != "$.payload.callId" {
        return Err(format!("the error must name $.payload.callId: {got:?}"));
    }
    Ok(())
}

/// #4: an unknown event type is acknowledged; an unknown `callStatus` still reaches the
/// handler (kept as `Unrecognized`), so the call gets its callflow.
async fn unknown_event_type_and_call_status_are_acknowledged(framework: Framework) -> Outcome {
    let unknown_status =
        testing::call_action()
            .build_json()
            .replacen("\"CALL_RECEIVED\"", "\"CALL_TELEPORTED\"", 1);
    if !unknown_status.contains("CALL_TELEPORTED") {
        return Err("could not set an unknown callStatus".into());
    }
    exchanges(
        framework,
        conformance::webhook(),
        &[
            answered(
                post("unknown_event_type", fixtures::get("unknown_event")),
                ack(),
            ),
            post("unknown_call_status", unknown_status),
        ],
    )
    .await
}

/// #5: unknown fields, at the top and inside the payload.
async fn unknown_fields_are_ignored(framework: Framework) -> Outcome {
    let extra = testing::call_action()
        .build_json()
        .replacen("{", "{\"futureField\":{\"a\":[1,2]},", 1)
        .replacen("\"payload\":{", "\"payload\":{\"brandNew\":true,", 1);
    exchanges(
        framework,
        conformance::webhook(),
        &[post("unknown_fields", extra)],
    )
    .await
}

/// #6: the head says the body is too large: 413 at once, while the client has sent only a
/// little of the body (the body timeout is long, so waiting for the body would show).
async fn over_limit_content_length_is_413_before_the_body_is_read(framework: Framework) -> Outcome {
    let guards = Guards {
        body_read_timeout: Duration::from_secs(30),
        ..Guards::default()
    };
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let declared = 2 * conformance::MAX_BODY_BYTES;
    let mut wire = webhook_head(server.addr, &format!("content-length: {declared}\r\n"));
    wire.extend_from_slice(b"{\"pad\":\"xxxxxxxx");
    let stream = send_raw(server.addr, &wire).await;
    let end = ending(stream, SLACK).await;
    let Some((status, _, body)) = &end.response else {
        return Err(format!("no answer to an over-limit head: {end:?}"));
    };
    if *status != 413 || error_code(body).as_deref() != Some("payload_too_large") {
        return Err(format!("expected 413 payload_too_large: {end:?}"));
    }
    if !end.closed {
        return Err("the connection was left open with its body unread".into());
    }
    still_serving(server.addr).await?;
    // And through an ordinary client, identical to the core.
    exchange(
        server.addr,
        &conformance::webhook(),
        &conformance_case("over_limit_content_length"),
    )
    .await?;
    server.shutdown().await
}

/// #7: no `Content-Length`, a chunked body past the limit: 413 and the connection closed.
async fn over_limit_chunked_body_is_413_and_closed(framework: Framework) -> Outcome {
    // The conformance runner checks the close after the 413.
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("over_limit_chunked"),
            conformance_case("within_limit_chunked"),
        ],
    )
    .await
}

/// #8: an empty body, and whitespace only.
async fn empty_body_is_400(framework: Framework) -> Outcome {
    exchanges(
        framework,
        conformance::webhook(),
        &[
            refused(
                post("empty", Bytes::new()),
                StatusCode::BAD_REQUEST,
                "empty_body",
            ),
            refused(
                post("blank", " \r\n "),
                StatusCode::BAD_REQUEST,
                "empty_body",
            ),
        ],
    )
    .await
}

/// #9: no `Content-Type` is accepted by default; `strict_content_type` makes it a 415.
async fn missing_content_type_is_accepted_unless_strict(framework: Framework) -> Outcome {
    exchanges(
        framework,
        conformance::webhook(),
        &[conformance_case("missing_content_type")],
    )
    .await?;
    let strict =
        Webhook::new(conformance_handler()).config(conformance::config().strict_content_type(true));
    let mut case = conformance_case("missing_content_type");
    case = refused(
        case,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    exchanges(framework, strict, &[case]).await
}

/// A handler that answers every `CALL_ACTION` with the conformance reply, for webhooks with
/// another configuration than the conformance one.
fn conformance_handler() -> impl CallHandler {
    struct Replying;
    #[async_trait]
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

/// #10: JSON-ish media types are accepted; a form is refused.
async fn json_ish_media_types_are_accepted_and_forms_are_415(framework: Framework) -> Outcome {
    let happy = fixtures::get("vca_nm_inbound");
    let with = |name, ct| header(post(name, happy), CONTENT_TYPE, ct);
    exchanges(
        framework,
        conformance::webhook(),
        &[
            with("text_plain", "text/plain"),
            with("text_json", "text/json"),
            with("charset", "application/json; charset=utf-8"),
            with("cloudevents", "application/cloudevents+json"),
            refused(
                with("form", "application/x-www-form-urlencoded"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            refused(
                with("multipart", "multipart/form-data; boundary=x"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
        ],
    )
    .await
}

/// #11: a byte that is not UTF-8 inside a JSON string.
async fn invalid_utf8_in_a_string_is_400(framework: Framework) -> Outcome {
    let body = testing::call_action().call_id("MARK").build_json();
    let mut bytes = body.into_bytes();
    let at = bytes.windows(4).position(|w| w == b"MARK").expect("marker");
    bytes[at + 1] = 0xff;
    bytes[at + 2] = 0xfe;
    exchanges(
        framework,
        conformance::webhook(),
        &[refused(
            post("invalid_utf8", bytes),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        )],
    )
    .await
}

/// #12: 10,000 `[` (within the body limit) and a deep object: 400 at once, no stack overflow.
async fn deeply_nested_json_is_400_quickly(framework: Framework) -> Outcome {
    let arrays = "[".repeat(10_000);
    let objects = "{\"a\":".repeat(3_000);
    let start = Instant::now();
    exchanges(
        framework,
        conformance::webhook(),
        &[
            refused(
                post("nested_arrays", arrays),
                StatusCode::BAD_REQUEST,
                "invalid_json",
            ),
            refused(
                post("nested_objects", objects),
                StatusCode::BAD_REQUEST,
                "invalid_json",
            ),
        ],
    )
    .await?;
    if start.elapsed() > Duration::from_secs(5) {
        return Err(format!("took {:?}", start.elapsed()));
    }
    Ok(())
}

/// #13: `1e999` and `NaN` are not JSON that serde_json reads (400 `invalid_json`); an
/// integer past `u64` and `-5` where a count belongs are 400 `invalid_event`; `-0` is a valid
/// zero. The core's answer is the reference; the server keeps serving.
async fn huge_and_odd_numbers_are_400_never_a_crash(framework: Framework) -> Outcome {
    let with_duration = |value: &str| {
        testing::call_action().build_json().replacen(
            "\"callDuration\":0",
            &format!("\"callDuration\":{value}"),
            1,
        )
    };
    let bad = |name, value: &str, code| {
        refused(
            post(name, with_duration(value)),
            StatusCode::BAD_REQUEST,
            code,
        )
    };
    exchanges(
        framework,
        conformance::webhook(),
        &[
            bad("exponent_overflow", "1e999", "invalid_json"),
            bad("past_u64", "184467440737095516160000", "invalid_event"),
            bad("nan_literal", "NaN", "invalid_json"),
            bad("negative", "-5", "invalid_event"),
            post("negative_zero", with_duration("-0")),
        ],
    )
    .await
}

/// #14: duplicate keys: in the envelope a 400 (`eventType` twice is ambiguous), in the
/// payload too (serde refuses a struct field twice); the core's answer is pinned.
async fn duplicate_json_keys_have_a_pinned_answer(framework: Framework) -> Outcome {
    let envelope = r#"{"eventType":"CALL_ACTION","eventType":"CALL_STATUS","payload":{}}"#;
    let payload = testing::call_action()
        .call_id("first")
        .build_json()
        .replacen(
            "\"callId\":\"first\"",
            "\"callId\":\"first\",\"callId\":\"second\"",
            1,
        );
    exchanges(
        framework,
        conformance::webhook(),
        &[
            refused(
                post("duplicate_event_type", envelope),
                StatusCode::BAD_REQUEST,
                "invalid_event",
            ),
            refused(
                post("duplicate_call_id", payload),
                StatusCode::BAD_REQUEST,
                "invalid_event",
            ),
        ],
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Rows 15-17: slow, idle and many clients.

/// #15: half a request head, then nothing: the connection is closed (or answered 408) at
/// the head timeout, and an ordinary webhook is answered meanwhile.
async fn slow_head_is_cut_off_at_the_head_timeout(framework: Framework) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let stalled = send_raw(
        server.addr,
        b"POST /webhooks/voice HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: appl",
    )
    .await;
    let waiting = tokio::spawn(ending(stalled, guards.header_read_timeout + SLACK));
    let served = timed_webhook(server.addr).await?;
    if served >= guards.header_read_timeout {
        return Err(format!(
            "an ordinary webhook took {served:?} next to the stalled head"
        ));
    }
    let end = waiting.await.map_err(|e| e.to_string())?;
    if !end.closed {
        return Err(format!(
            "a stalled head was still open after {:?}",
            end.after
        ));
    }
    if let Some((status, _, _)) = &end.response
        && *status != 408
    {
        return Err(format!(
            "a stalled head must get 408 or a close, got {end:?}"
        ));
    }
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #15 (and #17): a connection that sends nothing is closed at the head timeout too.
async fn idle_connection_is_closed_at_the_head_timeout(framework: Framework) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let idle = send_raw(server.addr, b"").await;
    let end = ending(idle, guards.header_read_timeout + SLACK).await;
    if !end.closed {
        return Err(format!(
            "an idle connection was still open after {:?}",
            end.after
        ));
    }
    // A kept-alive connection that goes quiet after a webhook is closed as well.
    let mut wire = webhook_head(
        server.addr,
        &format!(
            "content-length: {}\r\n",
            fixtures::get("vca_nm_inbound").len()
        ),
    );
    wire.extend_from_slice(fixtures::get("vca_nm_inbound").as_bytes());
    let stream = send_raw(server.addr, &wire).await;
    let mut reader = BufReader::new(stream);
    let (status, _, _) = read_response(&mut reader, &Method::POST)
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    if status != 200 {
        return Err(format!("keep-alive webhook got {status}"));
    }
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        guards.header_read_timeout + SLACK,
        reader.read_to_end(&mut rest),
    )
    .await;
    if closed.is_err() {
        return Err("a quiet keep-alive connection was never closed".into());
    }
    server.shutdown().await
}

/// #16: a head that promises 200 bytes, and 20 of them: the core's 408 at the body timeout,
/// then a close; an ordinary webhook is answered meanwhile.
async fn slow_body_gets_408_at_the_body_timeout(framework: Framework) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let mut wire = webhook_head(server.addr, "content-length: 200\r\n");
    wire.extend_from_slice(br#"{"eventType":"CALL_AC"#);
    let stalled = send_raw(server.addr, &wire).await;
    late_body_answered(&server, stalled, guards).await
}

/// #16: the same with a chunked body that stops after its first chunk.
async fn slow_chunked_body_gets_408_at_the_body_timeout(framework: Framework) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let mut wire = webhook_head(server.addr, "transfer-encoding: chunked\r\n");
    let first = br#"{"eventType":"CALL_AC"#;
    wire.extend_from_slice(format!("{:x}\r\n", first.len()).as_bytes());
    wire.extend_from_slice(first);
    wire.extend_from_slice(b"\r\n");
    let stalled = send_raw(server.addr, &wire).await;
    late_body_answered(&server, stalled, guards).await
}

async fn late_body_answered(server: &GuardedServer, stalled: TcpStream, guards: Guards) -> Outcome {
    let started = Instant::now();
    let waiting = tokio::spawn(ending(stalled, guards.body_read_timeout + SLACK));
    let served = timed_webhook(server.addr).await?;
    if served >= guards.body_read_timeout {
        return Err(format!(
            "an ordinary webhook took {served:?} next to the stalled body"
        ));
    }
    let end = waiting.await.map_err(|e| e.to_string())?;
    let Some((status, headers, body)) = &end.response else {
        return Err(format!("a stalled body got no 408: {end:?}"));
    };
    let expected = WebhookResponse::request_timeout();
    if *status != 408
        || body != expected.body()
        || headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes) != Some(b"application/json")
    {
        return Err(format!(
            "expected the core's 408 request_timeout, got {end:?}"
        ));
    }
    if started.elapsed() + Duration::from_millis(200) < guards.body_read_timeout {
        return Err(format!("answered 408 early, after {:?}", started.elapsed()));
    }
    if !end.closed {
        return Err("the connection stayed open after the 408".into());
    }
    still_serving(server.addr).await
}

/// #17: 500 connections held open (half silent, half with a partial head) while ordinary
/// webhooks keep being answered on new connections; the held ones are closed at the head
/// timeout.
async fn five_hundred_idle_connections_do_not_stop_webhooks(framework: Framework) -> Outcome {
    let guards = Guards {
        header_read_timeout: Duration::from_secs(4),
        ..Guards::default()
    };
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let mut held = Vec::with_capacity(500);
    for i in 0..500 {
        let bytes: &[u8] = if i % 2 == 0 {
            b""
        } else {
            b"POST /webhooks/voice HTTP/1.1\r\nho"
        };
        held.push(send_raw(server.addr, bytes).await);
    }
    let opened = Instant::now();
    for _ in 0..20 {
        let took = timed_webhook(server.addr).await?;
        if took > Duration::from_secs(2) {
            return Err(format!(
                "a webhook took {took:?} next to 500 idle connections"
            ));
        }
    }
    if opened.elapsed() >= guards.header_read_timeout {
        return Err("the webhooks were not answered while the idle connections were held".into());
    }
    let limit = guards.header_read_timeout + SLACK;
    let endings = futures_join(held.into_iter().map(|s| ending(s, limit))).await;
    let open = endings.iter().filter(|e| !e.closed).count();
    if open > 0 {
        return Err(format!(
            "{open} of 500 idle connections still open after {limit:?}"
        ));
    }
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #17: with the cap reached by busy connections (bodies under way), a new webhook waits
/// (idle connections would be shed) and is answered once the body timeout frees a slot.
async fn connections_over_the_cap_wait_for_a_free_slot(framework: Framework) -> Outcome {
    let guards = Guards {
        max_connections: 4,
        ..Guards::default()
    };
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut wire = webhook_head(server.addr, "content-length: 200\r\n");
        wire.extend_from_slice(br#"{"eventType":"#);
        held.push(send_raw(server.addr, &wire).await);
    }
    // Let the server accept them all.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = timed_webhook(server.addr).await?;
    if took > guards.body_read_timeout + SLACK {
        return Err(format!("the webhook over the cap took {took:?}"));
    }
    if took < guards.body_read_timeout / 2 {
        return Err(format!(
            "the webhook over the cap was served after {took:?}, next to 4 busy connections"
        ));
    }
    drop(held);
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// Runs futures concurrently (the suite has no `futures` dependency).
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
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

// ---------------------------------------------------------------------------------------
// Rows 18-24: the handler and the events.

/// #18: a panicking handler: the fallback callflow (`CALL_ACTION`) or 500 JSON, the
/// keep-alive connection survives, and the server keeps serving.
async fn handler_panic_is_answered_and_the_connection_survives(framework: Framework) -> Outcome {
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("call_action_handler_panic"),
            conformance_case("session_summary_handler_panic"),
        ],
    )
    .await
}

/// #19: a handler past the deadline: the fallback / 503 at the deadline, not later.
async fn handler_past_the_deadline_is_answered_at_the_deadline(framework: Framework) -> Outcome {
    let start = Instant::now();
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("call_action_deadline"),
            conformance_case("session_summary_deadline"),
        ],
    )
    .await?;
    // Two deadlines of 200 ms (the handler would sleep 10 s each).
    if start.elapsed() > 2 * conformance::DEADLINE + SLACK {
        return Err(format!("the deadline answers took {:?}", start.elapsed()));
    }
    Ok(())
}

/// #20: a handler error: the fallback callflow or 500 JSON.
async fn handler_error_gets_the_fallback_or_500(framework: Framework) -> Outcome {
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("call_action_handler_error"),
            conformance_case("session_summary_handler_error"),
        ],
    )
    .await
}

/// #21: the same `eventId` again after success: the same bytes, the handler not run again.
async fn duplicate_delivery_gets_the_first_answer_without_rerunning(
    framework: Framework,
) -> Outcome {
    let handler = Arc::new(Counting::default());
    let webhook = counting_webhook(handler.clone(), conformance::config());
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let body = testing::call_action().event_id("dup-21").build_json();
    let first = run_case(&http_client(), server.addr, &post("first", body.clone())).await;
    let again = run_case(&http_client(), server.addr, &post("again", body)).await;
    server.shutdown().await?;
    if first.status != 200 || first != again {
        return Err(format!("first {first:?}, again {again:?}"));
    }
    match handler.runs.load(Ordering::SeqCst) {
        1 => Ok(()),
        n => Err(format!("the handler ran {n} times")),
    }
}

/// #22: five deliveries of one event at once (a retry while the first still runs): the
/// handler runs once, every delivery gets its answer.
async fn concurrent_duplicates_run_the_handler_once(framework: Framework) -> Outcome {
    let handler = Arc::new(Counting {
        delay: Duration::from_millis(300),
        ..Counting::default()
    });
    let webhook = counting_webhook(
        handler.clone(),
        conformance::config().deadline(Duration::from_secs(4)),
    );
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let body = testing::call_action().event_id("dup-22").build_json();
    let addr = server.addr;
    let answers = futures_join((0..5).map(|_| {
        let case = post("concurrent", body.clone());
        async move { run_case(&http_client(), addr, &case).await }
    }))
    .await;
    server.shutdown().await?;
    let expected = CallFlow::new().say("run 1").hangup().to_bytes();
    if let Some(bad) = answers
        .iter()
        .find(|a| a.status != 200 || a.body != expected)
    {
        return Err(format!("a delivery got {bad:?}"));
    }
    match handler.runs.load(Ordering::SeqCst) {
        1 => Ok(()),
        n => Err(format!("the handler ran {n} times")),
    }
}

/// #23: a `CALL_STATUS` after the `SESSION_SUMMARY` of its session: both acknowledged, in
/// the order they came (the core keeps no session state to regress; ordering is the
/// handler's business, see tests/README.md).
async fn out_of_order_events_are_each_acknowledged(framework: Framework) -> Outcome {
    let handler = Arc::new(Recording::default());
    let webhook = Webhook::from_arc(handler.clone(), conformance::config());
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let summary = testing::session_summary().session_id("s-23").build_json();
    let status = testing::call_status().session_id("s-23").build_json();
    let client = http_client();
    let first = run_case(
        &client,
        server.addr,
        &answered(post("summary", summary), ack()),
    )
    .await;
    let second = run_case(
        &client,
        server.addr,
        &answered(post("status", status), ack()),
    )
    .await;
    server.shutdown().await?;
    if first.status != 200 || first.body != ack() || second.status != 200 || second.body != ack() {
        return Err(format!("summary {first:?}, status {second:?}"));
    }
    let seen: Vec<String> = handler
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(t, _)| t.clone())
        .collect();
    if seen != ["SESSION_SUMMARY", "CALL_STATUS"] {
        return Err(format!("the handler saw {seen:?}"));
    }
    Ok(())
}

/// #24: a timestamp two days old and one a day ahead: accepted (no configurable rejection in
/// the core yet), and the handler gets the parsed instant to judge ("accept + flag").
async fn stale_and_future_timestamps_reach_the_handler(framework: Framework) -> Outcome {
    let handler = Arc::new(Recording::default());
    let webhook = Webhook::from_arc(handler.clone(), conformance::config());
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let day = Duration::from_secs(24 * 3600);
    let now = SystemTime::now();
    let stale = Timestamp::from_system_time(now - 2 * day);
    let future = Timestamp::from_system_time(now + day);
    let client = http_client();
    for ts in [&stale, &future] {
        let body = testing::call_action()
            .with(|p| p.timestamp = Some(ts.clone()))
            .build_json();
        let got = run_case(&client, server.addr, &post("timestamp", body)).await;
        if got.status != 200 || got.body != conformance::reply().to_bytes() {
            return Err(format!("timestamp {ts}: {got:?}"));
        }
    }
    server.shutdown().await?;
    let seen = handler.seen.lock().unwrap().clone();
    let ages: Vec<Option<i64>> = seen
        .iter()
        .map(|(_, t)| t.as_ref().and_then(Timestamp::unix_millis))
        .collect();
    if ages != [stale.unix_millis(), future.unix_millis()] || ages.contains(&None) {
        return Err(format!("the handler saw {seen:?}"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Rows 25-29: who may call, and how.

/// #25: no or a wrong auth header: 401, before the body is parsed (a broken body still gets
/// 401) and before it is read (a head with a partial body is answered at once).
async fn auth_is_checked_before_the_body_is_read(framework: Framework) -> Outcome {
    let guards = Guards {
        body_read_timeout: Duration::from_secs(30),
        ..Guards::default()
    };
    let webhook = conformance::webhook();
    let server = serve_guarded(framework, webhook.clone(), guards).await;
    for case in [
        conformance_case("auth_missing"),
        conformance_case("auth_wrong"),
        conformance_case("auth_right"),
        refused(
            header(
                post("wrong_auth_broken_body", "{\"trunc"),
                AUTHORIZATION,
                "Bearer nope",
            ),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
    ] {
        exchange(server.addr, &webhook, &case).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_static("Bearer wrong-secret"),
    );
    let mut wire = request_head(
        server.addr,
        &Method::POST,
        &headers,
        "content-length: 500\r\n",
    );
    wire.extend_from_slice(b"{\"eventType\":");
    let end = ending(send_raw(server.addr, &wire).await, SLACK).await;
    match &end.response {
        Some((401, _, body)) if error_code(body).as_deref() == Some("unauthorized") => {}
        _ => {
            return Err(format!(
                "a wrong token with a partial body must get 401 at once: {end:?}"
            ));
        }
    }
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #26: a peer outside the allow-list gets 403 at once, with its body unread; a peer inside
/// is served.
async fn allow_list_refuses_with_403_before_the_body_is_read(framework: Framework) -> Outcome {
    let guards = Guards {
        body_read_timeout: Duration::from_secs(30),
        ..Guards::default()
    };
    let others = AllowList::eight_by_eight_singapore();
    let webhook =
        Webhook::new(conformance_handler()).config(conformance::config().allow_list(others));
    let server = serve_guarded(framework, webhook.clone(), guards).await;
    let mut wire = webhook_head(server.addr, "content-length: 500\r\n");
    wire.extend_from_slice(b"{\"eventType\":");
    let end = ending(send_raw(server.addr, &wire).await, SLACK).await;
    match &end.response {
        Some((403, _, body)) if error_code(body).as_deref() == Some("forbidden") => {}
        _ => {
            return Err(format!(
                "a refused peer with a partial body must get 403 at once: {end:?}"
            ));
        }
    }
    let refused_case = refused(
        conformance::happy_path(),
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    exchange(server.addr, &webhook, &refused_case).await?;
    server.shutdown().await?;

    let loopback: IpNet = "127.0.0.0/8".parse().expect("network");
    let allowed = Webhook::new(conformance_handler()).config(
        conformance::config().allow_list(AllowList::eight_by_eight_singapore().allow(loopback)),
    );
    let server = serve_guarded(framework, allowed, Guards::default()).await;
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #26: behind one trusted proxy (the loopback peer), the client is the last
/// `X-Forwarded-For` entry: 8x8's address is served, a stranger's refused; a peer that is
/// not the proxy cannot use the header.
async fn allow_list_follows_only_trusted_proxies(framework: Framework) -> Outcome {
    let loopback: IpNet = "127.0.0.1/32".parse().expect("address");
    let behind_proxy = AllowList::eight_by_eight_singapore().trust_proxies(1, [loopback]);
    let webhook =
        Webhook::new(conformance_handler()).config(conformance::config().allow_list(behind_proxy));
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    let xff = http::HeaderName::from_static("x-forwarded-for");
    exchange(
        server.addr,
        &webhook,
        &header(
            conformance::happy_path(),
            xff.clone(),
            "203.0.113.9, 52.74.232.241",
        ),
    )
    .await?;
    exchange(
        server.addr,
        &webhook,
        &refused(
            header(
                conformance::happy_path(),
                xff.clone(),
                "52.74.232.241, 203.0.113.9",
            ),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    )
    .await?;
    exchange(
        server.addr,
        &webhook,
        &refused(
            conformance::happy_path(),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    )
    .await?;
    server.shutdown().await?;

    let elsewhere: IpNet = "10.9.9.9/32".parse().expect("address");
    let other_proxy = AllowList::eight_by_eight_singapore().trust_proxies(1, [elsewhere]);
    let webhook =
        Webhook::new(conformance_handler()).config(conformance::config().allow_list(other_proxy));
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    exchange(
        server.addr,
        &webhook,
        &refused(
            header(conformance::happy_path(), xff, "52.74.232.241"),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    )
    .await?;
    server.shutdown().await
}

/// #27: `GET`, `HEAD`, `PUT`, `OPTIONS`, `DELETE` on the webhook: 405 with `Allow: POST` and
/// the core's JSON; a path past the webhook's: the app's 404; the app's own `GET` route
/// keeps its answer and its own 405 (no warp `.or()` mis-attribution).
async fn wrong_method_is_405_and_wrong_path_is_404(framework: Framework) -> Outcome {
    let mut options = conformance_case("put_not_allowed");
    options.name = "options_not_allowed";
    options.method = Method::OPTIONS;
    let mut delete = conformance_case("put_not_allowed");
    delete.name = "delete_not_allowed";
    delete.method = Method::DELETE;
    let webhook = conformance::webhook();
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    for case in [
        conformance_case("get_not_allowed"),
        conformance_case("head_not_allowed"),
        conformance_case("put_not_allowed"),
        options,
        delete,
    ] {
        exchange(server.addr, &webhook, &case).await?;
    }
    let client = http_client();
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let send = |method: Method, path: &str| {
        client
            .request(method, url(path))
            .header("content-type", "application/json")
            .header("authorization", AUTH_TOKEN)
            .body(fixtures::get("vca_nm_inbound"))
            .send()
    };
    let beyond = send(Method::POST, "/webhooks/voice/extra")
        .await
        .map_err(|e| e.to_string())?;
    if beyond.status() != 404 {
        return Err(format!("POST past the webhook path: {}", beyond.status()));
    }
    let elsewhere = send(Method::POST, "/nowhere")
        .await
        .map_err(|e| e.to_string())?;
    if elsewhere.status() != 404 {
        return Err(format!("POST /nowhere: {}", elsewhere.status()));
    }
    let health = client
        .get(url(HEALTH_PATH))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if health.status() != 200 {
        return Err(format!("GET {HEALTH_PATH}: {}", health.status()));
    }
    let health_post = send(Method::POST, HEALTH_PATH)
        .await
        .map_err(|e| e.to_string())?;
    if health_post.status() != 405 {
        return Err(format!(
            "POST {HEALTH_PATH} must be the app's 405: {}",
            health_post.status()
        ));
    }
    server.shutdown().await
}

/// #28: `gzip`, `deflate` and `br` bodies: 415 (the core decodes none: a zip bomb cannot get
/// past the size cap).
async fn compressed_body_is_415(framework: Framework) -> Outcome {
    let happy = fixtures::get("vca_nm_inbound");
    let encoded = |name, encoding| {
        refused(
            header(post(name, happy), CONTENT_ENCODING, encoding),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_content_encoding",
        )
    };
    let mut gzip_bytes = encoded("gzip_bytes", "gzip");
    // The start of a real gzip stream, as a client would send.
    gzip_bytes.body = Bytes::from_static(&[0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("gzip_content_encoding"),
            encoded("deflate", "deflate"),
            encoded("brotli", "br"),
            gzip_bytes,
            post("identity", happy),
        ],
    )
    .await
}

/// #29: `Expect: 100-continue` with a length over the limit: the final 413 comes without
/// the client sending any body.
async fn expect_continue_with_an_oversized_length_is_413_without_the_body(
    framework: Framework,
) -> Outcome {
    let mut case = conformance_case("over_limit_expect_continue");
    assert_eq!(case.transport, Transport::ExpectContinue);
    let start = Instant::now();
    exchanges(framework, conformance::webhook(), &[case.clone()]).await?;
    // Also when the declared length is far beyond anything (no allocation for it).
    case.body = Bytes::from(vec![b' '; 4 * conformance::MAX_BODY_BYTES]);
    exchanges(framework, conformance::webhook(), &[case]).await?;
    if start.elapsed() > 2 * SLACK {
        return Err(format!("took {:?}", start.elapsed()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Rows 30-32: shutdown, restart, load.

/// #30: shutdown while a webhook is in flight and two clients are stuck mid-request: the
/// in-flight webhook gets its answer, new connections are not served, and `serve` returns
/// within the grace period although the stuck clients never finish.
async fn graceful_shutdown_finishes_in_flight_and_is_bounded(framework: Framework) -> Outcome {
    let guards = Guards {
        header_read_timeout: Duration::from_secs(30),
        body_read_timeout: Duration::from_secs(30),
        grace_period: Duration::from_secs(3),
        ..Guards::default()
    };
    let (mut server, handler) =
        slow_handler_server(framework, Duration::from_millis(1200), guards).await;
    let addr = server.addr;
    let stuck_head = send_raw(addr, b"POST /webhooks/voice HTTP/1.1\r\nhost: x\r\n").await;
    let mut wire = webhook_head(addr, "content-length: 300\r\n");
    wire.extend_from_slice(b"{\"eventType\":");
    let stuck_body = send_raw(addr, &wire).await;
    let in_flight = tokio::spawn(async move {
        let case = post("in_flight", testing::call_action().build_json());
        run_case(&http_client(), addr, &case).await
    });
    // Shut down once the in-flight webhook is in its handler.
    handler_reached(&handler, 1).await?;
    let stopping = Instant::now();
    server.begin_shutdown();
    // Well after the signal, while the in-flight webhook still runs: a new connection.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let late = tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(1500))
            .build()
            .expect("client");
        client
            .post(format!("http://{addr}{}", conformance::PATH))
            .header("authorization", AUTH_TOKEN)
            .body(fixtures::get("vca_nm_inbound"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    let answer = in_flight.await.map_err(|e| e.to_string())?;
    if answer.status != 200 || answer.body != CallFlow::new().say("run 1").hangup().to_bytes() {
        return Err(format!("the in-flight webhook got {answer:?}"));
    }
    server
        .stopped(guards.grace_period + SLACK)
        .await
        .map_err(|e| format!("{e} (stuck clients must not hold the shutdown)"))?;
    let took = stopping.elapsed();
    if let Ok(Ok(status)) = late.await {
        return Err(format!(
            "a connection opened after the shutdown began was served: {status}"
        ));
    }
    for (what, stream) in [("stuck head", stuck_head), ("stuck body", stuck_body)] {
        let end = ending(stream, SLACK).await;
        if !end.closed {
            return Err(format!("the {what} connection outlived the server"));
        }
    }
    if took > guards.grace_period + SLACK {
        return Err(format!("shutdown took {took:?}"));
    }
    Ok(())
}

/// #31: a duplicate that arrives after a restart (a new server and webhook sharing the
/// idempotency store) gets the first answer, and the handler does not run again.
async fn duplicates_are_recognised_across_a_restart_with_a_shared_store(
    framework: Framework,
) -> Outcome {
    let store = Arc::new(MemoryIdempotencyStore::default());
    let handler = Arc::new(Counting::default());
    let body = testing::call_action().event_id("dup-31").build_json();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let config = conformance::config().idempotency_store(store.clone());
        let webhook = counting_webhook(handler.clone(), config);
        let server = serve_guarded(framework, webhook, Guards::default()).await;
        answers.push(run_case(&http_client(), server.addr, &post("restart", body.clone())).await);
        server.shutdown().await?;
    }
    if answers[0].status != 200 || answers[0] != answers[1] {
        return Err(format!(
            "before the restart {:?}, after {:?}",
            answers[0], answers[1]
        ));
    }
    match handler.runs.load(Ordering::SeqCst) {
        1 => Ok(()),
        n => Err(format!("the handler ran {n} times")),
    }
}

/// #32 (bounded here; `scripts/soak.sh` runs 5 minutes and watches memory): 8 clients send
/// 400 webhooks, a mix of new, duplicate and malformed events, each with its expected
/// answer; no error.
async fn sustained_mixed_load_gets_only_expected_answers(framework: Framework) -> Outcome {
    let webhook = conformance::webhook();
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let addr = server.addr;
    let results = futures_join((0..8).map(move |worker| async move {
        let client = http_client();
        let mut failures = Vec::new();
        for n in 0..50 {
            let (body, expected): (String, u16) = match n % 4 {
                0 | 1 => (
                    testing::call_action()
                        .event_id(&format!("load-{worker}-{n}"))
                        .build_json(),
                    200,
                ),
                2 => (
                    testing::call_action()
                        .event_id("load-duplicate")
                        .build_json(),
                    200,
                ),
                _ => ("{\"eventType\":\"CALL_ACTION\",".to_owned(), 400),
            };
            let got = run_case(&client, addr, &post("load", body)).await;
            if got.status != expected {
                failures.push(format!("worker {worker} request {n}: {got:?}"));
            }
        }
        failures
    }))
    .await;
    let failures: Vec<String> = results.into_iter().flatten().collect();
    server.shutdown().await?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

// ---------------------------------------------------------------------------------------
// Issue #13, defect 5: a store that is unavailable (locked, read-only, full, deleted,
// unreachable) is answered so that 8x8 delivers again.

/// A handler whose store is unavailable.
struct StoreDown;

#[async_trait]
impl CallHandler for StoreDown {
    async fn on_call_action(
        &self,
        _event: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        Err(HandlerError::unavailable("database is locked"))
    }

    async fn on_session_summary(
        &self,
        _event: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        Err(HandlerError::unavailable("database is locked"))
    }
}

/// #20 (issue #13): [`HandlerError::unavailable`]: a `SESSION_SUMMARY` gets 503
/// `store_unavailable` (not 500 `internal_error`, which 8x8 treats as final), a
/// `CALL_ACTION` the fallback callflow; the connection keeps serving.
async fn store_unavailable_is_503_for_events_and_the_fallback_for_calls(
    framework: Framework,
) -> Outcome {
    let config = conformance::config();
    let fallback = config.fallback_flow().to_bytes();
    let webhook = Webhook::from_arc(Arc::new(StoreDown), config);
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    let cases = [
        answered(
            post(
                "call_action_store_unavailable",
                testing::call_action().build_json(),
            ),
            fallback,
        ),
        refused(
            post(
                "session_summary_store_unavailable",
                testing::session_summary().build_json(),
            ),
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
        ),
    ];
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = exchange(server.addr, &webhook, case).await {
            failures.push(e);
        }
    }
    server.shutdown().await?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
// Issue 13, defect 1: refused requests do not hold connections.

mod refusals;
use refusals::{
    over_limit_body_is_not_read_after_413,
    refused_request_with_a_trickling_body_is_closed_within_a_second,
    trickling_refused_clients_do_not_take_the_slots_of_webhooks,
};

// Issue 13, defect 6: a replayed event id does not fetch another call's reply.

mod replays;
use replays::replayed_event_id_with_another_body_is_not_answered_from_the_store;

// Issue #13, defects 3 and 7: idle connections shed at the cap, `Connection: close` during
// shutdown, the HTTP/2 preface, 408 at the head timeout.

/// #17 (issue #13, defect 3): three times the cap of connections that never send a byte,
/// each reopened as soon as the server closes it, while a client posts a webhook every
/// 100 ms for 5 s: every webhook is answered, p99 within 1 s. The head timeout is long, so
/// only shedding idle connections at the cap can make room.
async fn idle_connections_are_shed_at_the_cap_for_a_working_client(
    framework: Framework,
) -> Outcome {
    const CAP: usize = 16;
    let guards = Guards {
        header_read_timeout: Duration::from_secs(30),
        max_connections: CAP,
        ..Guards::default()
    };
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let addr = server.addr;
    let (stop_attack, attack) = tokio::sync::watch::channel(false);
    let closed = Arc::new(AtomicUsize::new(0));
    let attackers: Vec<_> = (0..3 * CAP)
        .map(|_| {
            let (mut attack, closed) = (attack.clone(), closed.clone());
            tokio::spawn(async move {
                loop {
                    let Ok(mut idle) = TcpStream::connect(addr).await else {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    // Never send a byte; hold it until the server closes it.
                    let mut byte = [0u8; 1];
                    tokio::select! {
                        _ = idle.read(&mut byte) => closed.fetch_add(1, Ordering::Relaxed),
                        _ = attack.wait_for(|stop| *stop) => break,
                    };
                }
            })
        })
        .collect();
    // Let the idle connections fill the cap and the backlog.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut took = Vec::new();
    let mut failures = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    // 50 webhooks; three failures are enough to conclude.
    while took.len() + failures.len() < 50 && failures.len() < 3 {
        tick.tick().await;
        match answered_within(addr, Duration::from_secs(5)).await {
            Ok(elapsed) => took.push(elapsed),
            Err(e) => failures.push(e),
        }
    }
    let _ = stop_attack.send(true);
    for attacker in attackers {
        let _ = attacker.await;
    }
    if let Some(first) = failures.first() {
        return Err(format!(
            "{} of {} webhooks failed next to {} idle connections at a cap of {CAP}; first: {first}",
            failures.len(),
            took.len() + failures.len(),
            3 * CAP,
        ));
    }
    took.sort_unstable();
    let p99 = took[(took.len() * 99).div_ceil(100) - 1];
    if p99 > Duration::from_secs(1) {
        return Err(format!(
            "p99 {p99:?} (p50 {:?}) next to {} idle connections at a cap of {CAP}",
            took[took.len() / 2],
            3 * CAP
        ));
    }
    if closed.load(Ordering::Relaxed) == 0 {
        return Err("no idle connection was ever closed".into());
    }
    still_serving(addr).await?;
    server.shutdown().await
}

/// An ordinary webhook over a new connection, answered with the conformance reply within
/// `limit`: how long it took; what went wrong, without a panic.
async fn answered_within(addr: SocketAddr, limit: Duration) -> Result<Duration, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(limit)
        .build()
        .expect("client");
    let start = Instant::now();
    let response = client
        .post(format!("http://{addr}{}", conformance::PATH))
        .header(AUTHORIZATION, AUTH_TOKEN)
        .header(CONTENT_TYPE, "application/json")
        .body(fixtures::get("vca_nm_inbound"))
        .send()
        .await;
    let answer = match response {
        Ok(response) => (response.status(), response.bytes().await),
        Err(e) => return Err(format!("{e:?}")),
    };
    match answer {
        (StatusCode::OK, Ok(body)) if body == conformance::reply().to_bytes() => {
            Ok(start.elapsed())
        }
        (status, body) => Err(format!("got {status}, {body:?}")),
    }
}

/// #30 (issue #13, defect 7): a webhook in flight on a keep-alive connection when the
/// shutdown begins is answered with `Connection: close`, then the connection is closed; a
/// keep-alive connection idle after its answer is closed at once, not at the grace's end.
async fn responses_during_shutdown_carry_connection_close(framework: Framework) -> Outcome {
    let guards = Guards {
        header_read_timeout: Duration::from_secs(30),
        grace_period: Duration::from_secs(5),
        ..Guards::default()
    };
    let (mut server, handler) =
        slow_handler_server(framework, Duration::from_secs(1), guards).await;
    let addr = server.addr;
    let wire = |event: &str| {
        let body = testing::call_action().event_id(event).build_json();
        let mut wire = webhook_head(addr, &format!("content-length: {}\r\n", body.len()));
        wire.extend_from_slice(body.as_bytes());
        wire
    };
    // One keep-alive connection answered before the shutdown, then idle.
    let mut idle = BufReader::new(send_raw(addr, &wire("before-shutdown")).await);
    let (status, headers, _) = read_response(&mut idle, &Method::POST)
        .await
        .map_err(|e| format!("no answer before the shutdown: {e}"))?;
    if status != 200 || says_close(&headers) {
        return Err(format!(
            "before the shutdown: {status}, {headers:?} (keep-alive expected)"
        ));
    }
    let in_flight = send_raw(addr, &wire("during-shutdown")).await;
    handler_reached(&handler, 2).await?;
    let stopping = Instant::now();
    server.begin_shutdown();
    let idle_end = tokio::spawn(ending(idle.into_inner(), guards.grace_period));
    let end = ending(in_flight, guards.grace_period + SLACK).await;
    let Some((status, headers, _)) = &end.response else {
        return Err(format!("the in-flight webhook got no answer: {end:?}"));
    };
    if *status != 200 || !says_close(headers) {
        return Err(format!(
            "the answer during the shutdown must carry `Connection: close`: {status}, {headers:?}"
        ));
    }
    if !end.closed {
        return Err("the connection stayed open after its answer during the shutdown".into());
    }
    let idle_end = idle_end.await.map_err(|e| e.to_string())?;
    if !idle_end.closed || idle_end.after >= guards.grace_period {
        return Err(format!(
            "an idle keep-alive connection was not closed at the shutdown: {idle_end:?}"
        ));
    }
    server
        .stopped(guards.grace_period + SLACK)
        .await
        .map_err(|e| format!("{e} after {:?}", stopping.elapsed()))
}

/// A server whose `CALL_ACTION` handler counts its runs and takes `delay` for each (the
/// deadline is 4 s).
async fn slow_handler_server(
    framework: Framework,
    delay: Duration,
    guards: Guards,
) -> (GuardedServer, Arc<Counting>) {
    let handler = Arc::new(Counting {
        delay,
        ..Counting::default()
    });
    let webhook = counting_webhook(
        handler.clone(),
        conformance::config().deadline(Duration::from_secs(4)),
    );
    (serve_guarded(framework, webhook, guards).await, handler)
}

/// Waits (at most [`SLACK`]) until `handler` has started its `runs`-th run.
async fn handler_reached(handler: &Counting, runs: usize) -> Outcome {
    let waiting = Instant::now();
    while handler.runs.load(Ordering::SeqCst) < runs {
        if waiting.elapsed() > SLACK {
            return Err("the in-flight webhook never reached its handler".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Whether a response's `Connection` header says `close`.
fn says_close(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"))
}

/// What an HTTP/2 client with prior knowledge sends first: the preface, then an empty
/// `SETTINGS` frame.
const H2_PRIOR_KNOWLEDGE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";

/// #27 (issue #13, defect 7): an HTTP/2 prior-knowledge preface on the HTTP/1.1 server gets
/// a 4xx answer (400) and the connection is closed within 1 s; the server keeps serving.
async fn http2_prior_knowledge_gets_400_and_a_close(framework: Framework) -> Outcome {
    let server = serve_guarded(framework, conformance::webhook(), Guards::default()).await;
    let h2 = send_raw(server.addr, H2_PRIOR_KNOWLEDGE).await;
    let end = ending(h2, Duration::from_secs(1)).await;
    let Some((status, _, _)) = &end.response else {
        return Err(format!("the HTTP/2 preface got no answer: {end:?}"));
    };
    if !(400..500).contains(status) {
        return Err(format!("the HTTP/2 preface must get a 4xx, got {end:?}"));
    }
    if !end.closed || end.after > Duration::from_secs(1) {
        return Err(format!(
            "the connection was not closed within 1 s of the HTTP/2 preface: {end:?}"
        ));
    }
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #15 (issue #13, defect 7): part of a head at the head timeout gets
/// `408 Request Timeout` with `Connection: close`, then a close; on a keep-alive connection
/// the timeout counts from the end of the previous answer.
async fn partial_head_gets_408_at_the_head_timeout(framework: Framework) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let partial = b"POST /webhooks/voice HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-ty";
    let fresh = send_raw(server.addr, partial).await;
    let started = Instant::now();
    timed_out_with_408("a new connection", fresh, started, guards).await?;

    let body = fixtures::get("vca_nm_inbound");
    let mut wire = webhook_head(server.addr, &format!("content-length: {}\r\n", body.len()));
    wire.extend_from_slice(body.as_bytes());
    let mut kept = BufReader::new(send_raw(server.addr, &wire).await);
    let (status, _, _) = read_response(&mut kept, &Method::POST)
        .await
        .map_err(|e| format!("no answer to the first webhook: {e}"))?;
    if status != 200 {
        return Err(format!("the first webhook got {status}"));
    }
    let answered = Instant::now();
    // Most of a head timeout later, part of the next head.
    tokio::time::sleep(guards.header_read_timeout / 2).await;
    let mut kept = kept.into_inner();
    kept.write_all(partial).await.map_err(|e| e.to_string())?;
    timed_out_with_408("a keep-alive connection", kept, answered, guards).await?;
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// `stream` (part of a head sent, its wait for the head begun at `since`) gets a 408 with
/// `Connection: close` at the head timeout, then a close.
async fn timed_out_with_408(
    what: &str,
    stream: TcpStream,
    since: Instant,
    guards: Guards,
) -> Outcome {
    let end = ending(stream, guards.header_read_timeout + SLACK).await;
    let Some((status, headers, _)) = &end.response else {
        return Err(format!("{what}: a partial head got no 408: {end:?}"));
    };
    if *status != 408 || !says_close(headers) {
        return Err(format!(
            "{what}: expected 408 with `Connection: close`, got {status}, {headers:?}"
        ));
    }
    let at = since.elapsed();
    if at + Duration::from_millis(200) < guards.header_read_timeout {
        return Err(format!("{what}: answered 408 early, after {at:?}"));
    }
    if !end.closed {
        return Err(format!("{what}: the connection stayed open after the 408"));
    }
    Ok(())
}
