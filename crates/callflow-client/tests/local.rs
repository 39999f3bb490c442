//! The client against a scripted server on 127.0.0.1: retries, no second Send Callflow,
//! timeouts, error messages, requests refused before sending, paths and headers, tracing.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callflow_client::api::{
    CreateWebhook, ExportTime, JobId, LogExportRequest, PushProtocol, RecordingPushConfigRequest,
    SendCallflow, SessionId, VirtualNumber, WebhookType,
};
use callflow_client::{Client, Config, ErrorKind, RetryPolicy};
use common::{CREATED, KEY, Reply, Server, WEBHOOKS, voice_message};

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
}

#[tokio::test]
async fn a_get_is_retried_after_503_with_retry_after_then_succeeds() {
    let server = Server::start(vec![
        Reply::json(503, r#"{"statusMessage":"busy"}"#).header("retry-after", "1"),
        Reply::json(200, WEBHOOKS),
    ])
    .await;
    let client = server.client(fast_retries());
    let started = Instant::now();
    let list = client.webhooks().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(server.requests(), 2);
    assert_eq!(list.count, Some(1));
    assert_eq!(
        list.webhooks[0].webhook_type.as_ref().unwrap(),
        &WebhookType::Vca
    );
}

#[tokio::test]
async fn a_get_is_retried_with_backoff_after_plain_5xx_and_bounded() {
    let server = Server::start_with_fallback(vec![], Some(Reply::json(502, "{}"))).await;
    let err = server.client(fast_retries()).webhooks().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!((err.status(), err.attempts()), (Some(502), 3));
    assert_eq!(server.requests(), 3);
    assert!(err.to_string().ends_with("(after 3 attempts)"), "{err}");
}

#[tokio::test]
async fn a_post_is_retried_only_when_8x8_says_retry_after() {
    let hook = CreateWebhook::new(WebhookType::Vss, "https://example.com/vss").unwrap();
    // 503 without Retry-After: the webhook may have been created; not sent again.
    let server = Server::start(vec![Reply::json(503, "{}"), Reply::json(200, WEBHOOKS)]).await;
    let err = server
        .client(fast_retries())
        .create_webhook(&hook)
        .await
        .unwrap_err();
    assert_eq!((err.kind(), server.requests()), (ErrorKind::Server, 1));
    // 429 with Retry-After: refused, come back later; sent again.
    let server = Server::start(vec![
        Reply::json(429, "{}").header("retry-after", "0"),
        Reply::json(200, WEBHOOKS),
    ])
    .await;
    server
        .client(fast_retries())
        .create_webhook(&hook)
        .await
        .unwrap();
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn send_callflow_is_never_sent_twice_unless_opted_in() {
    let req = SendCallflow::new(voice_message()).unwrap();
    let script = || {
        vec![
            Reply::json(503, r#"{"statusMessage":"Service unavailable"}"#)
                .header("retry-after", "0"),
            Reply::json(200, CREATED),
        ]
    };
    let server = Server::start(script()).await;
    let err = server
        .client(fast_retries())
        .send_callflow(&req)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.retry_after(), Some(Duration::ZERO));
    assert_eq!(
        server.requests(),
        1,
        "a second Send Callflow could place a second call"
    );

    // A timeout is not retried either (8x8 may have started the call).
    let server = Server::start(vec![
        Reply::json(200, CREATED).delayed(Duration::from_secs(2)),
        Reply::json(200, CREATED),
    ])
    .await;
    let client = Client::new(
        server
            .config()
            .timeout(Duration::from_millis(300))
            .retry(fast_retries()),
    )
    .unwrap();
    let err = client.send_callflow(&req).await.unwrap_err();
    assert_eq!((err.kind(), server.requests()), (ErrorKind::Timeout, 1));

    // Opted in: sent again after 503 + Retry-After.
    let server = Server::start(script()).await;
    let client = server.client(fast_retries().retry_send_callflow(true));
    let answer = client.send_callflow(&req).await.unwrap();
    assert_eq!(server.requests(), 2);
    assert_eq!(
        answer.session_id.as_deref(),
        Some("03cc8cac-376b-11ef-a28b-0582ff0039d5")
    );
}

#[tokio::test]
async fn timeouts_are_typed_and_the_total_time_is_bounded() {
    let server = Server::start_with_fallback(
        vec![],
        Some(Reply::json(200, WEBHOOKS).delayed(Duration::from_secs(3))),
    )
    .await;
    let client = Client::new(
        server.config().timeout(Duration::from_millis(200)).retry(
            fast_retries()
                .max_attempts(10)
                .max_elapsed(Duration::from_millis(900)),
        ),
    )
    .unwrap();
    let started = Instant::now();
    let err = client.webhooks().await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        took < Duration::from_millis(1500),
        "bounded by max_elapsed: {took:?}"
    );
    assert!((2..10).contains(&err.attempts()), "{}", err.attempts());
    assert!(
        err.to_string().contains("no complete answer within"),
        "{err}"
    );

    // A Retry-After beyond the budget is not waited for; the error carries it.
    let server = Server::start(vec![Reply::json(429, "{}").header("retry-after", "120")]).await;
    let started = Instant::now();
    let err = server.client(fast_retries()).webhooks().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(err.to_string().contains("retry after 120 s"), "{err}");
}

#[tokio::test]
async fn a_401_says_clearly_that_the_key_was_refused() {
    let server = Server::start(vec![Reply::json(
        401,
        r#"{"sessionStatus":"NOT_CREATED","callFlowRequestId":"fd2fc658-3845-11ef-9e95-b903e2ed7273","statusCode":401,"statusMessage":"Authentication header not found or token invalid"}"#,
    )])
    .await;
    let req = SendCallflow::new(voice_message()).unwrap();
    let err = server
        .client(fast_retries())
        .send_callflow(&req)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!((err.status(), err.code()), (Some(401), Some(401)));
    let text = err.to_string();
    assert_eq!(
        text,
        "8x8 refused the API key for Send Callflow (HTTP 401, 8x8 code 401): Authentication header not found or token invalid; check that the key (from connect.8x8.com) is valid and belongs to the configured sub-account"
    );
    let all = format!(
        "{text} {err:?} {client:?}",
        client = server.client(RetryPolicy::none())
    );
    assert!(!all.contains(KEY), "the key leaked: {all}");
    // The key went out as a bearer token.
    let seen = server.seen();
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {KEY}").as_str()
    );
}

#[tokio::test]
async fn requests_the_document_forbids_are_refused_before_sending() {
    let server = Server::start(vec![]).await;
    let client = server.client(fast_retries());

    // A callflow that is not an array: 8x8's -1009, with the path.
    let err = client
        .send_callflow_json(br#"{"callflow":{"action":"makeCall"}}"#)
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.code(), err.status()),
        (ErrorKind::InvalidRequest, Some(-1009), None)
    );
    assert!(err.is_local());
    assert_eq!(err.violations().unwrap().violations()[0].path, "$.callflow");
    assert_eq!(
        err.to_string(),
        "Send Callflow not sent: the callflow breaks 8x8's rules: -1009 $.callflow: must be an array"
    );

    // The first action must be makeCall: -1013.
    let err = client
        .send_callflow_json(br#"{"callflow":[{"action":"say","params":{"text":"hi","voiceProfile":"en-GB-Emma"}}]}"#)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(-1013));
    // A validUntil that has passed: 8x8's -1015.
    let stale = SendCallflow::new(voice_message())
        .unwrap()
        .valid_until(callflow_client::api::ValidUntil::parse("2020-01-01T00:00:00.000Z").unwrap());
    let err = client.send_callflow(&stale).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.code()),
        (ErrorKind::InvalidRequest, Some(-1015))
    );
    assert!(
        err.to_string().contains("`validUntil` has already passed"),
        "{err}"
    );
    // An invalid destination: -1017, never printed in clear.
    let err = SendCallflow::new(
        callflow::CallFlow::new()
            .make_call("+6568880000", "+65 9111 0001")
            .hangup(),
    )
    .unwrap_err();
    assert_eq!(err.code(), Some(-1017));

    // An unknown webhook type, from a string or from JSON.
    let e = "VXX".parse::<WebhookType>().unwrap_err();
    assert!(e.to_string().contains("VCA, VCS, VSS, VRU, VNU"), "{e}");
    let e =
        serde_json::from_str::<CreateWebhook>(r#"{"type":"VXX","url":"https://example.com/h"}"#)
            .unwrap_err();
    assert!(e.to_string().contains("unknown webhook type `VXX`"), "{e}");
    // VNU cannot be deleted according to the document.
    let err = client.delete_webhook(WebhookType::Vnu).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string().contains("does not allow deleting VNU"),
        "{err}"
    );
    // An export whose range is backwards.
    let req = LogExportRequest::new()
        .from(ExportTime::parse("2020-07-02T00:00:00Z").unwrap())
        .to(ExportTime::parse("2020-07-01T00:00:00Z").unwrap());
    let err = client.start_log_export(&req).await.unwrap_err();
    assert_eq!(err.invalid_request().unwrap().field(), Some("from"));

    assert_eq!(server.requests(), 0, "nothing reached the network");
}

#[tokio::test]
async fn every_operation_goes_to_its_documented_path_with_its_method() {
    let ok = Reply::json(200, "{}");
    let server = Server::start(vec![
        Reply::json(200, CREATED),
        ok.clone(),
        ok.clone(),
        ok.clone(),
        ok.clone(),
        ok.clone(),
        ok.clone(),
        ok.clone(),
        ok.clone(),
        ok.clone(),
        ok.clone(),
        Reply::json(202, r#"{"jobId":"F1T6z9C5"}"#),
        ok.clone(),
        Reply::empty(204),
    ])
    .await;
    let c = server.client(RetryPolicy::none());
    let session = SessionId::new("03cc8cac-376b-11ef-a28b-0582ff0039d5").unwrap();
    let job = JobId::new("F1T6z9C5").unwrap();
    c.send_callflow(&SendCallflow::new(voice_message()).unwrap())
        .await
        .unwrap();
    c.speech_profiles().await.unwrap();
    c.webhooks().await.unwrap();
    c.create_webhook(
        &CreateWebhook::new(WebhookType::Vca, "https://example.com/vca")
            .unwrap()
            .http_auth_header("s3cret")
            .enabled(true),
    )
    .await
    .unwrap();
    c.delete_webhook(WebhookType::Vca).await.unwrap();
    c.recording_push_config().await.unwrap();
    c.set_recording_push_config(
        &RecordingPushConfigRequest::new(PushProtocol::Sftp, "sftp.example.com", "u", "pw")
            .unwrap()
            .port(22)
            .path("/rec"),
    )
    .await
    .unwrap();
    c.delete_recording_push_config().await.unwrap();
    c.recordings(&session).await.unwrap();
    c.virtual_numbers().await.unwrap();
    c.virtual_number(&VirtualNumber::new("+6568880000").unwrap())
        .await
        .unwrap();
    let started = c
        .start_log_export(&LogExportRequest::new().limit(0))
        .await
        .unwrap();
    assert_eq!(started.job_id.as_deref(), Some("F1T6z9C5"));
    c.log_export(&job).await.unwrap();
    c.cancel_log_export(&job).await.unwrap();

    let seen: Vec<(String, String)> = server
        .seen()
        .iter()
        .map(|s| (s.method.to_string(), s.path.clone()))
        .collect();
    let base = "/api/v1/subaccounts/acme_voice";
    let expected = [
        ("POST", "/callflows"),
        ("GET", "/speech-profiles"),
        ("GET", "/webhooks"),
        ("POST", "/webhooks"),
        ("DELETE", "/webhooks/VCA"),
        ("GET", "/recording-push-config"),
        ("POST", "/recording-push-config"),
        ("DELETE", "/recording-push-config"),
        ("GET", "/recordings/03cc8cac-376b-11ef-a28b-0582ff0039d5"),
        ("GET", "/numbers"),
        ("GET", "/numbers/6568880000"),
        ("POST", "/messages/exports"),
        ("GET", "/messages/exports/F1T6z9C5"),
        ("DELETE", "/messages/exports/F1T6z9C5"),
    ]
    .map(|(m, p)| (m.to_owned(), format!("{base}{p}")));
    assert_eq!(seen, expected);
    let all = server.seen();
    for s in &all {
        assert_eq!(s.headers["accept"], "application/json");
        assert!(
            s.headers["user-agent"]
                .to_str()
                .unwrap()
                .starts_with("callflow-client/")
        );
    }
    let create: serde_json::Value = serde_json::from_slice(&all[3].body).unwrap();
    assert_eq!(
        create,
        serde_json::json!({"type": "VCA", "url": "https://example.com/vca", "httpAuthHeader": "s3cret", "enabled": true})
    );
    assert_eq!(all[3].headers["content-type"], "application/json");
    let send: serde_json::Value = serde_json::from_slice(&all[0].body).unwrap();
    assert_eq!(send["callflow"][0]["params"]["destination"], "+6591110001");
}

#[tokio::test]
async fn refusals_and_odd_answers_are_typed() {
    let server = Server::start(vec![
        Reply::json(
            422,
            r#"{"sessionStatus":"NOT_CREATED","callFlowRequestId":"767ca1b8","statusCode":-1014,"statusMessage":"Source +6568880000 is not whitelisted"}"#,
        ),
        Reply::json(200, r#"{"sessionStatus":"NOT_CREATED","statusCode":-1015,"statusMessage":"validUntil has passed"}"#),
        Reply::json(200, "<html>oops</html>"),
        Reply::json(404, r#"{"code":4018,"message":"Invalid jobId","errorId":"aa400d4b"}"#),
    ])
    .await;
    let c = server.client(RetryPolicy::none());
    let req = SendCallflow::new(voice_message()).unwrap();
    let err = c.send_callflow(&req).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.status(), err.code()),
        (ErrorKind::InvalidRequest, Some(422), Some(-1014))
    );
    assert!(!err.to_string().contains("6568880000"), "{err}");
    let err = c.send_callflow(&req).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.status(), err.code()),
        (ErrorKind::InvalidRequest, Some(200), Some(-1015))
    );
    let err = c.webhooks().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedResponse);
    assert!(
        err.to_string()
            .contains("not the documented JSON (not JSON)"),
        "{err}"
    );
    let err = c
        .log_export(&JobId::new("nope").unwrap())
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.code()), (ErrorKind::NotFound, Some(4018)));
}

#[tokio::test]
async fn connection_failures_are_typed_and_gets_retried() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = Config::new(
        KEY,
        callflow_client::api::SubAccountId::new("acme_voice").unwrap(),
    )
    .base_url(format!("http://127.0.0.1:{port}"))
    .retry(fast_retries());
    let client = Client::new(config).unwrap();
    let err = client.webhooks().await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Connection, 3));
    assert!(
        err.to_string()
            .starts_with("could not reach 8x8 for list webhooks"),
        "{err}"
    );
    let hook = CreateWebhook::new(WebhookType::Vca, "https://example.com/vca").unwrap();
    let err = client.create_webhook(&hook).await.unwrap_err();
    assert_eq!((err.kind(), err.attempts()), (ErrorKind::Connection, 1));
}

#[test]
fn bad_configuration_is_refused() {
    let sub = || callflow_client::api::SubAccountId::new("acme_voice").unwrap();
    let err = Client::new(Config::new("", sub())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = Client::new(Config::new("k\n", sub())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    for url in ["ftp://x.example", "not a url", "http://x.example/?q=1"] {
        let err = Client::new(Config::new("k", sub()).base_url(url)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{url}");
    }
    // The user's own reqwest client is accepted.
    Client::new(Config::new("k", sub()).http_client(reqwest::Client::new())).unwrap();
}

/// A `Write` into a shared buffer, for a tracing subscriber.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn one_span_per_request_with_the_number_masked() {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::start(vec![
        Reply::json(503, "{}").header("retry-after", "0"),
        Reply::json(
            200,
            r#"{"statusCode":0,"payload":{"msisdn":"+6568880000"}}"#,
        ),
    ])
    .await;
    let check = server
        .client(fast_retries())
        .virtual_number(&VirtualNumber::new("+6568880000").unwrap())
        .await
        .unwrap();
    assert!(
        !format!("{check:?}").contains("6568880000"),
        "Debug masks msisdn"
    );
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let close = logs
        .lines()
        .find(|l| l.contains("close"))
        .unwrap_or_else(|| panic!("{logs}"));
    for field in [
        "callflow_client.request",
        "operation=\"check-virtual-number\"",
        "number=65****0000",
        "attempt=2",
        "status=200",
        "duration_ms=",
    ] {
        assert!(close.contains(field), "{field} missing in {close}");
    }
    assert!(
        !logs.contains("6568880000") && !logs.contains(KEY),
        "{logs}"
    );
}
