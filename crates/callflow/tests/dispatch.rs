//! `Webhook::dispatch`: every row of the error table, the deadline, panics, auth and logs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use callflow::testing::{self, TestClient, fixtures};
use callflow::{
    CallFlow, Webhook, WebhookBuilder, WebhookRequest, adapter, default_fallback, handler_fn,
};
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

mod common;
use common::{Scripted, client_with};

fn client() -> (TestClient, Arc<Scripted>) {
    client_with(|b| b)
}

fn fallback_bytes() -> String {
    default_fallback().to_json()
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[tokio::test]
async fn call_action_gets_the_handlers_callflow() {
    let (c, h) = client();
    let r = c
        .post(testing::call_action().from("+6591110000").build_json())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.0.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(
        r.text(),
        r#"{"callflow":[{"action":"makeCall","params":{"source":"+6568880000","destination":"+6592220002"}}]}"#
    );
    assert_eq!(h.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn every_call_action_fixture_gets_a_valid_callflow() {
    let (c, _) = client();
    for f in fixtures::events().filter(|f| f.name.starts_with("vca_")) {
        let r = c.post(f.json).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", f.name);
        r.callflow();
    }
}

#[tokio::test]
async fn other_events_are_acknowledged_with_200() {
    // Some fixtures share a session id: count every delivery, not unique ones.
    let (c, h) = client_with(|b: WebhookBuilder| b.no_idempotency());
    for f in fixtures::events().filter(|f| !f.name.starts_with("vca_")) {
        let r = c.post(f.json).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", f.name);
        assert_eq!(r.text(), r#"{"received":true}"#, "{}", f.name);
    }
    assert!(h.summaries.load(Ordering::SeqCst) >= 6);
    assert_eq!(h.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn unknown_event_type_is_200_and_reaches_on_unknown() {
    let (c, h) = client();
    let r = c.post(fixtures::get("unknown_event")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(h.unknown.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let (c, h) = client_with(|b: WebhookBuilder| b.max_body_bytes(100));
    let body = testing::call_action().build_json();
    assert!(body.len() > 100);
    let r = c.post(body.clone()).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.error_code().as_deref(), Some("payload_too_large"));
    // Declared too large: refused on the head alone, whatever the body.
    let r = c
        .send(
            Method::POST,
            headers(&[
                ("content-type", "application/json"),
                ("content-length", "5000"),
            ]),
            "{}".into(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(h.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn clearly_non_json_media_types_are_415() {
    let (c, _) = client();
    for ct in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/html",
    ] {
        let r = c
            .send(
                Method::POST,
                headers(&[("content-type", ct)]),
                testing::call_action().build_json().into(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
        assert_eq!(r.error_code().as_deref(), Some("unsupported_media_type"));
    }
}

#[tokio::test]
async fn json_ish_and_missing_content_types_are_accepted() {
    let (c, _) = client();
    for h in [
        headers(&[("content-type", "application/json; charset=utf-8")]),
        headers(&[("content-type", "text/plain")]),
        headers(&[("content-type", "application/cloudevents+json")]),
        HeaderMap::new(),
    ] {
        let r = c
            .send(
                Method::POST,
                h.clone(),
                testing::call_action().build_json().into(),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{h:?}");
    }
}

#[tokio::test]
async fn strict_content_type_refuses_a_missing_content_type() {
    let (c, _) = client_with(|b: WebhookBuilder| b.strict_content_type(true));
    let r = c
        .send(
            Method::POST,
            HeaderMap::new(),
            testing::call_action().build_json().into(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn gzip_bodies_are_415() {
    let (c, _) = client();
    let r = c
        .send(
            Method::POST,
            headers(&[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ]),
            testing::call_action().build_json().into(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        r.error_code().as_deref(),
        Some("unsupported_content_encoding")
    );
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (c, _) = client();
    for body in [
        fixtures::get("malformed_vca_doc_sample"),
        "{\"eventType\":",
        "{,}",
        "nope",
    ] {
        let r = c.post(body).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.error_code().as_deref(), Some("invalid_json"), "{body}");
    }
    let r = c.post(&b"{\"eventType\":\"CALL_\xff\"}"[..]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn known_event_with_wrong_shape_is_400_naming_the_path() {
    let (c, h) = client();
    let r = c
        .post(r#"{"eventType":"CALL_ACTION","payload":{"eventId":"e","sessionId":"s","callStatus":"CALL_RECEIVED","source":"+6591110001","destination":"+6568880000"}}"#)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text(),
        r#"{"error":{"code":"invalid_event","message":"is missing but it is required","path":"$.payload.callId"}}"#
    );
    assert_eq!(h.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn empty_body_is_400() {
    let (c, _) = client();
    let r = c.post("").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code().as_deref(), Some("empty_body"));
}

#[tokio::test]
async fn wrong_method_is_405_with_allow_post() {
    let (c, _) = client();
    for m in [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::OPTIONS,
        Method::DELETE,
    ] {
        let r = c.send(m.clone(), HeaderMap::new(), "".into()).await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{m}");
        assert_eq!(r.0.headers()[ALLOW], "POST");
        assert_eq!(r.error_code().as_deref(), Some("method_not_allowed"));
    }
}

#[tokio::test]
async fn auth_header_is_checked_before_parsing() {
    let config = |b: WebhookBuilder| {
        b.auth_token("Bearer s3cret")
            .auth_token("Bearer old-s3cret")
    };
    let (c, h) = client_with(config);
    // Missing: 401, and the (malformed) body is not even looked at.
    let r = c.post("{not json").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.text(),
        r#"{"error":{"code":"unauthorized","message":"missing or invalid credentials"}}"#
    );
    let wrong = c.clone().header("authorization", "Bearer s3cre");
    let r = wrong.post(testing::call_action().build_json()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(!r.text().contains("s3cret"));
    assert_eq!(h.calls.load(Ordering::SeqCst), 0);
    for token in ["Bearer s3cret", "Bearer old-s3cret"] {
        let right = c.clone().header("authorization", token);
        let r = right.post(testing::call_action().build_json()).await;
        assert_eq!(r.status(), StatusCode::OK, "{token}");
    }
    assert_eq!(h.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn auth_header_name_is_configurable() {
    let config = |b: WebhookBuilder| {
        b.auth_token("mdp1234")
            .auth_header(http::HeaderName::from_static("x-8x8-auth"))
    };
    let (c, _) = client_with(config);
    let r = c
        .clone()
        .header("authorization", "mdp1234")
        .post(testing::call_action().build_json())
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .header("x-8x8-auth", "mdp1234")
        .post(testing::call_action().build_json())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn call_action_handler_error_gets_the_fallback_callflow() {
    let (c, _) = client();
    let r = c
        .post(testing::call_action().from("+6591110001").build_json())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text(), fallback_bytes());
}

#[tokio::test]
async fn call_action_handler_panic_gets_the_fallback_callflow() {
    let (c, h) = client();
    let r = c
        .post(testing::call_action().from("+6591110002").build_json())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text(), fallback_bytes());
    // The webhook keeps working afterwards.
    let r = c
        .post(testing::call_action().from("+6591110000").build_json())
        .await;
    assert!(r.text().contains("makeCall"));
    assert_eq!(h.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn call_action_past_the_deadline_gets_the_fallback_at_the_deadline() {
    let (c, _) = client_with(|b: WebhookBuilder| b.deadline(Duration::from_secs(4)));
    let start = tokio::time::Instant::now();
    let r = c
        .post(testing::call_action().from("+6591110003").build_json())
        .await;
    assert_eq!(r.text(), fallback_bytes());
    assert_eq!(start.elapsed(), Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn default_deadline_is_four_seconds() {
    let (c, _) = client();
    let start = tokio::time::Instant::now();
    let r = c
        .post(testing::call_action().from("+6591110003").build_json())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(start.elapsed(), Duration::from_secs(4));
}

#[tokio::test]
async fn invalid_callflow_from_the_handler_is_replaced_by_the_fallback() {
    let (c, _) = client();
    let r = c
        .post(testing::call_action().from("+6591110004").build_json())
        .await;
    assert_eq!(r.text(), fallback_bytes());
    // Unless validation is switched off.
    let (c, _) = client_with(|b: WebhookBuilder| b.validate_replies(false));
    let r = c
        .post(testing::call_action().from("+6591110004").build_json())
        .await;
    assert!(r.text().contains("not a number"));
}

#[tokio::test]
async fn configured_fallback_is_used() {
    let fallback = CallFlow::builder()
        .play_file("https://example.com/sorry.mp3")
        .hangup();
    let (c, _) = client_with(|b: WebhookBuilder| b.fallback(fallback.clone()).unwrap());
    let r = c
        .post(testing::call_action().from("+6591110001").build_json())
        .await;
    assert_eq!(r.text(), fallback.to_json());
}

#[test]
fn an_invalid_fallback_is_refused_at_configuration() {
    let builder = Webhook::builder(handler_fn(|_e, _c| async {
        Ok(CallFlow::builder().hangup())
    }));
    let refused = builder.fallback(CallFlow::builder().build()).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("fallback callflow is not a valid reply")
    );
}

#[tokio::test]
async fn session_summary_handler_error_is_500_json() {
    let (c, _) = client();
    let r = c
        .post(testing::session_summary().session_id("fail").build_json())
        .await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        r.text(),
        r#"{"error":{"code":"internal_error","message":"the handler failed"}}"#
    );
    assert!(
        !r.text().contains("could not store"),
        "details stay in the log"
    );
}

#[tokio::test]
async fn session_summary_with_its_store_unavailable_is_503_and_runs_again_on_redelivery() {
    let (c, h) = client();
    let body = testing::session_summary()
        .session_id("unavailable")
        .build_json();
    for delivery in 1..=2 {
        let r = c.post(body.clone()).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
        assert_eq!(
            r.text(),
            r#"{"error":{"code":"store_unavailable","message":"the event cannot be handled right now"}}"#
        );
        assert!(!r.text().contains("locked"), "details stay in the log");
        // Not stored as the event's answer: a redelivery runs the handler again.
        assert_eq!(h.summaries.load(Ordering::SeqCst), delivery);
    }
}

#[tokio::test]
async fn call_action_with_its_store_unavailable_gets_the_fallback_callflow() {
    let (c, h) = client();
    let r = c
        .post(testing::call_action().from("+6591110005").build_json())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text(), fallback_bytes());
    assert_eq!(h.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn session_summary_handler_panic_is_500_json() {
    let (c, _) = client();
    let r = c
        .post(testing::session_summary().session_id("panic").build_json())
        .await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.error_code().as_deref(), Some("internal_error"));
}

#[tokio::test(start_paused = true)]
async fn session_summary_past_the_deadline_is_503() {
    let (c, _) = client_with(|b: WebhookBuilder| b.deadline(Duration::from_millis(500)));
    let r = c
        .post(testing::session_summary().session_id("slow").build_json())
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.error_code().as_deref(), Some("deadline_exceeded"));
}

#[tokio::test]
async fn all_error_bodies_share_one_shape() {
    let (c, _) = client_with(|b: WebhookBuilder| b.max_body_bytes(2000));
    let cases = [
        c.send(Method::GET, HeaderMap::new(), "".into()).await,
        c.post("").await,
        c.post("{").await,
        c.post(r#"{"eventType":"CALL_STATUS","payload":7}"#).await,
        c.post("x".repeat(3000)).await,
        c.send(
            Method::POST,
            headers(&[("content-type", "application/xml")]),
            "<a/>".into(),
        )
        .await,
        c.post(testing::session_summary().session_id("fail").build_json())
            .await,
    ];
    for r in cases {
        let j = r.json();
        let obj = j.as_object().unwrap();
        assert_eq!(obj.len(), 1, "{j}");
        let e = j["error"].as_object().unwrap();
        assert!(e["code"].is_string() && e["message"].is_string(), "{j}");
        assert!(
            e.keys()
                .all(|k| ["code", "message", "path"].contains(&k.as_str())),
            "{j}"
        );
        assert_eq!(r.0.headers()[CONTENT_TYPE], "application/json");
    }
}

#[tokio::test]
async fn closure_handlers_see_the_context() {
    let webhook = Webhook::new(handler_fn(|ev, cx| async move {
        assert_eq!(cx.request_id(), "req-42");
        assert_eq!(cx.peer_addr(), Some("203.0.113.9:5000".parse().unwrap()));
        assert_eq!(cx.extensions().get::<u32>(), Some(&7));
        Ok(CallFlow::builder()
            .say(format!("digits {}", ev.dtmf().unwrap_or("none")))
            .hangup())
    }));
    let mut req = WebhookRequest::post_json(testing::call_action().dtmf("42").build_json())
        .with_peer(Some("203.0.113.9:5000".parse().unwrap()));
    req.headers_mut()
        .insert("x-request-id", HeaderValue::from_static("req-42"));
    req.extensions_mut().insert(7u32);
    let r = webhook.dispatch(req).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(std::str::from_utf8(r.body()).unwrap().contains("digits 42"));
}

#[tokio::test]
async fn allow_list_refuses_other_peers_with_403_before_anything_else() {
    use callflow::allow::AllowList;
    let list = AllowList::eight_by_eight_singapore().allow("127.0.0.0/8".parse().unwrap());
    let (_, h) = client();
    let webhook = Webhook::builder(h.clone())
        .allow_list(list)
        .auth_token("t")
        .build();
    let send = |peer: Option<&str>, body: &'static str| {
        let mut req = WebhookRequest::post_json(body).with_peer(peer.map(|p| p.parse().unwrap()));
        req.headers_mut()
            .insert("authorization", HeaderValue::from_static("t"));
        webhook.dispatch(req)
    };
    // A stranger gets 403 even for a malformed body (it is never read) or a wrong method.
    let r = send(Some("203.0.113.7:5000"), "{not json").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        std::str::from_utf8(r.body()).unwrap(),
        r#"{"error":{"code":"forbidden","message":"this address may not call the webhook"}}"#
    );
    // Unknown peer: refused (fail closed).
    assert_eq!(send(None, "{}").await.status(), StatusCode::FORBIDDEN);
    // 8x8's Singapore address and the loopback network are allowed.
    let body: &'static str = Box::leak(
        testing::call_action()
            .from("+6591110000")
            .build_json()
            .into_boxed_str(),
    );
    assert_eq!(
        send(Some("52.74.232.241:443"), body).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(Some("[::ffff:127.0.0.1]:9"), body).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        h.calls.load(Ordering::SeqCst),
        1,
        "the second is a duplicate of the first"
    );
    // X-Forwarded-For is not trusted by default.
    let mut req =
        WebhookRequest::post_json(body).with_peer(Some("203.0.113.7:5000".parse().unwrap()));
    req.headers_mut()
        .insert("authorization", HeaderValue::from_static("t"));
    req.headers_mut()
        .insert("x-forwarded-for", HeaderValue::from_static("52.74.232.241"));
    assert_eq!(webhook.dispatch(req).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn allow_list_is_off_by_default() {
    let (c, _) = client();
    let r = c.post(testing::call_action().build_json()).await;
    assert_eq!(r.status(), StatusCode::OK);
}

// Issue 13, defect 1: a refusal with the body unread closes the connection.

/// A refusal on the head alone says `Connection: close` when the request announces a body
/// still to come (chunked, or a length other than 0), and only then.
#[test]
fn a_head_refusal_closes_the_connection_when_a_body_is_announced() {
    let webhook = Webhook::builder(handler_fn(|_event, _cx| async {
        Ok(CallFlow::builder().hangup())
    }))
    .auth_token("Bearer s3cret")
    .build();
    let refused = |framing: &[(&'static str, &str)]| {
        adapter::check_head(&webhook, &Method::POST, &headers(framing), None)
            .expect("no credentials: refused")
    };
    let chunked = refused(&[("transfer-encoding", "chunked")]);
    assert!(chunked.closes());
    assert_eq!(chunked.headers()["connection"], "close");
    assert!(refused(&[("content-length", "100")]).closes());
    assert!(!refused(&[("content-length", "0")]).closes());
    assert!(!refused(&[]).closes());
}

#[tokio::test]
async fn a_replayed_event_id_from_a_stranger_gets_its_own_answer_not_the_bound_partys() {
    let h = Arc::new(testing::BoundPair::default());
    let c = TestClient::new(Webhook::new(h.clone()));
    let call = testing::call_action().event_id("evt-bound");
    let bound = call.clone().from(testing::CALLER).build_json();
    let stranger = call.from("+6599990009").build_json();

    let first = c.post(bound.clone()).await;
    assert!(first.text().contains(testing::CALLEE), "{}", first.text());
    let replay = c.post(bound.clone()).await;
    assert_eq!(replay.text(), first.text());
    assert_eq!(h.runs(), 1, "same id, same bytes: replayed");

    let other = c.post(stranger).await;
    assert_eq!(h.runs(), 2, "same id, other bytes: the handler ran");
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(other.callflow(), testing::BoundPair::stranger_reply());
    assert!(!other.text().contains(testing::CALLEE), "{}", other.text());

    // The bound party's delivery is still answered from its record.
    assert_eq!(c.post(bound).await.text(), first.text());
    assert_eq!(h.runs(), 2);
}
