//! `callflow_sim::play` over real HTTP against handlers served on 127.0.0.1:0.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use callflow::Webhook;
use callflow_sim::{PayloadStyle, PlayOptions, Report, Scenario, play, render_text};
use common::{Greeter, Ivr, Masking, Server, SlowMasking, load, shipped_scenarios};

fn assert_passed(report: &Report) {
    assert!(
        report.passed(),
        "scenario {} failed:\n{}",
        report.scenario,
        render_text(std::slice::from_ref(report))
    );
}

fn scenarios_for(handler: &str) -> Vec<Scenario> {
    let list: Vec<Scenario> = shipped_scenarios()
        .into_iter()
        .map(|p| Scenario::load(p).unwrap())
        .filter(|s| s.handler.as_deref() == Some(handler))
        .collect();
    assert!(!list.is_empty(), "no shipped scenario for {handler}");
    list
}

#[tokio::test]
async fn every_shipped_scenario_declares_a_known_handler_and_loads() {
    let all = shipped_scenarios();
    assert!(
        all.len() >= 8,
        "expected the shipped scenarios, found {all:?}"
    );
    for p in all {
        let s = Scenario::load(&p).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(s.handler.as_deref(), Some("number-masking" | "ivr")),
            "{}: handler {:?}",
            p.display(),
            s.handler
        );
        assert!(
            !s.description.trim().is_empty(),
            "{} has no description",
            p.display()
        );
    }
}

#[tokio::test]
async fn every_number_masking_scenario_passes_against_a_masking_handler_over_http() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let opts = PlayOptions::new(&server.url);
    for s in scenarios_for("number-masking") {
        let report = play(&s, &opts).await;
        assert_passed(&report);
        assert!(report.checks.len() >= 4, "{}: too few checks", s.name);
    }
}

#[tokio::test]
async fn every_ivr_scenario_passes_against_the_ivr_test_handler_over_http() {
    let server = Server::webhook(Webhook::new(Ivr)).await;
    let opts = PlayOptions::new(&server.url);
    for s in scenarios_for("ivr") {
        assert_passed(&play(&s, &opts).await);
    }
}

#[tokio::test]
async fn ivr_walks_two_menu_levels_echoing_client_action_ids_and_digits() {
    let server = Server::webhook(Webhook::new(Ivr)).await;
    let report = play(
        &load("ivr/two-level-menu.toml"),
        &PlayOptions::new(&server.url),
    )
    .await;
    assert_passed(&report);
    let actions: Vec<_> = server
        .received()
        .into_iter()
        .filter(|r| r.event_type() == "CALL_ACTION")
        .collect();
    assert_eq!(actions.len(), 3);
    assert_eq!(actions[0].status(), "CALL_RECEIVED");
    assert!(actions[0].payload().get("clientActionId").is_none());
    assert_eq!(actions[1].status(), "ACTION_COMPLETED");
    assert_eq!(actions[1].payload()["eventData"]["dtmf"], "1");
    assert_eq!(actions[1].payload()["clientActionId"], "main-menu");
    assert_eq!(actions[2].payload()["eventData"]["dtmf"], "2");
    assert_eq!(actions[2].payload()["clientActionId"], "sales-menu");
}

#[tokio::test]
async fn ivr_scenario_fails_against_the_masking_handler_naming_what_differs() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let report = play(
        &load("ivr/two-level-menu.toml"),
        &PlayOptions::new(&server.url),
    )
    .await;
    assert!(!report.passed());
    let failed: Vec<&str> = report.failures().map(|c| c.name.as_str()).collect();
    assert!(
        failed.iter().any(|n| n.starts_with("clientActionIds")),
        "{failed:?}"
    );
}

#[tokio::test]
async fn unknown_caller_scenario_passes_against_the_greeter_of_the_minimal_examples() {
    let server = Server::webhook(Webhook::new(Greeter)).await;
    assert_passed(&play(&load("unknown-caller.toml"), &PlayOptions::new(&server.url)).await);
}

#[tokio::test]
async fn masked_scenarios_fail_against_a_greeter_because_no_b_leg_is_dialled() {
    let server = Server::webhook(Webhook::new(Greeter)).await;
    let report = play(
        &load("masked-call-answered.toml"),
        &PlayOptions::new(&server.url),
    )
    .await;
    assert!(!report.passed());
    let dial = report
        .check("B leg dialled to +65****0002 with caller id +65****0000")
        .expect("the dial expectation is checked");
    assert!(!dial.passed);
    assert_eq!(dial.detail.as_deref(), Some("no such makeCall"));
}

#[tokio::test]
async fn one_session_id_one_call_id_per_leg_and_a_fresh_event_id_per_event() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let report = play(
        &load("masked-call-answered.toml"),
        &PlayOptions::new(&server.url),
    )
    .await;
    assert_passed(&report);
    let got = server.received();
    // CALL_ACTION, CALL_STATUS x6 (A received/connected/disconnected, B initiated/connected/disconnected), SUMMARY.
    assert_eq!(
        got.len(),
        8,
        "{:#?}",
        got.iter()
            .map(|r| (r.event_type().to_owned(), r.status().to_owned()))
            .collect::<Vec<_>>()
    );
    let sessions: HashSet<&str> = got
        .iter()
        .map(|r| r.payload()["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(sessions.len(), 1);
    assert!(sessions.contains(report.session_id.as_str()));
    let event_ids: Vec<&str> = got
        .iter()
        .filter_map(|r| r.payload()["eventId"].as_str())
        .collect();
    assert_eq!(event_ids.len(), 7);
    assert_eq!(
        event_ids.iter().collect::<HashSet<_>>().len(),
        7,
        "event ids repeat"
    );
    let mut legs: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    for r in got.iter().filter(|r| r.event_type() != "SESSION_SUMMARY") {
        legs.entry(r.payload()["callDirection"].as_str().unwrap())
            .or_default()
            .insert(r.payload()["callId"].as_str().unwrap());
    }
    assert_eq!(legs["INBOUND"].len(), 1);
    assert_eq!(legs["OUTBOUND"].len(), 1);
    let summary = got.last().unwrap();
    assert_eq!(summary.event_type(), "SESSION_SUMMARY");
    let d = &summary.payload()["details"];
    assert!(legs["INBOUND"].contains(d["callA"]["callId"].as_str().unwrap()));
    assert!(legs["OUTBOUND"].contains(d["callB"]["callId"].as_str().unwrap()));
}

#[tokio::test]
async fn session_summaries_follow_the_number_masking_status_table() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let cases = [
        (
            "masked-call-answered.toml",
            "COMPLETED",
            "COMPLETED",
            Some("COMPLETED"),
        ),
        ("masked-call-busy.toml", "BUSY", "COMPLETED", Some("BUSY")),
        (
            "masked-call-no-answer.toml",
            "NO_ANSWER",
            "COMPLETED",
            Some("NO_ANSWER"),
        ),
        (
            "masked-call-unreachable.toml",
            "FAILED",
            "COMPLETED",
            Some("FAILED"),
        ),
        (
            "caller-hangs-up-while-ringing.toml",
            "CANCELED",
            "CANCELED",
            Some("CANCELED"),
        ),
        ("unknown-caller.toml", "COMPLETED", "COMPLETED", None),
    ];
    for (file, session, a, b) in cases {
        let before = server.received().len();
        assert_passed(&play(&load(file), &PlayOptions::new(&server.url)).await);
        let got = server.received();
        let summary = &got[got.len() - 1];
        assert!(got.len() > before);
        let p = summary.payload();
        assert_eq!(p["sessionStatus"], session, "{file}");
        assert_eq!(p["details"]["callA"]["callStatus"], a, "{file}");
        assert_eq!(p["details"]["callB"]["callStatus"].as_str(), b, "{file}");
        assert_eq!(p["callCount"], if b.is_some() { 2 } else { 1 }, "{file}");
        assert!(p.get("errorDetails").is_none(), "{file}");
        let answered = session == "COMPLETED" && b.is_some();
        assert_eq!(
            p["details"]["callB"].get("connectedTimestamp").is_some(),
            answered,
            "{file}"
        );
    }
}

#[tokio::test]
async fn outbound_leg_error_ends_the_session_in_error_with_error_details() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let s = Scenario::from_toml_str(
        r#"
        [call]
        from = "+6591110001"
        to = "+6568880000"
        [callee]
        outcome = "error"
        [expect]
        session_status = "ERROR"
        error_code = -2004
        "#,
    )
    .unwrap();
    assert_passed(&play(&s, &PlayOptions::new(&server.url)).await);
    let summary = server.received().pop().unwrap();
    assert_eq!(summary.payload()["details"]["callB"]["callStatus"], "ERROR");
    assert_eq!(summary.payload()["errorDetails"]["errorCode"], -2004);
}

#[tokio::test]
async fn invalid_callflow_reply_fails_with_the_validator_code_and_ends_the_session_in_error_2003() {
    // `say` without text or voice: -1009 twice. Served raw: the core's Webhook would replace an
    // invalid callflow with its fallback.
    let server = Server::fixed(200, r#"{"callflow":[{"action":"say","params":{}}]}"#).await;
    let report = play(
        &load("masked-call-answered.toml"),
        &PlayOptions::new(&server.url),
    )
    .await;
    assert!(!report.passed());
    let codes: Vec<i32> = report.violations().map(|v| v.code.as_i32()).collect();
    assert_eq!(codes, [-1009, -1009]);
    assert_eq!(report.outcome.session_status.as_str(), "ERROR");
    assert_eq!(report.outcome.error.as_ref().map(|e| e.0), Some(-2003));
    let text = render_text(std::slice::from_ref(&report));
    assert!(
        text.contains("FAIL every CALL_ACTION is answered with 200 and a valid callflow"),
        "{text}"
    );
    assert!(text.contains("-1009 $.callflow[0].params.text"), "{text}");
    assert!(text.contains("ERROR (-2003"), "{text}");
    let summary = server.received().pop().unwrap();
    assert_eq!(summary.event_type(), "SESSION_SUMMARY");
    assert_eq!(summary.payload()["sessionStatus"], "ERROR");
    assert_eq!(summary.payload()["errorDetails"]["errorCode"], -2003);
    assert_eq!(summary.payload()["details"]["callA"]["callStatus"], "ERROR");
    assert_eq!(summary.payload()["callCount"], 1);
}

#[tokio::test]
async fn unknown_action_and_non_json_replies_get_1007_and_1001() {
    let server = Server::fixed(200, r#"{"callflow":[{"action":"dance"}]}"#).await;
    let report = play(&load("unknown-caller.toml"), &PlayOptions::new(&server.url)).await;
    assert_eq!(
        report.violations().next().map(|v| v.code.as_i32()),
        Some(-1007)
    );
    let server = Server::fixed(200, "<html>oops</html>").await;
    let report = play(&load("unknown-caller.toml"), &PlayOptions::new(&server.url)).await;
    assert_eq!(
        report.violations().next().map(|v| v.code.as_i32()),
        Some(-1001)
    );
    assert!(!report.passed());
}

#[tokio::test]
async fn http_error_status_and_unreachable_webhook_end_the_session_in_error() {
    let server = Server::fixed(500, r#"{"error":"boom"}"#).await;
    let report = play(
        &load("masked-call-answered.toml"),
        &PlayOptions::new(&server.url),
    )
    .await;
    assert!(!report.passed());
    assert_eq!(report.outcome.session_status.as_str(), "ERROR");
    assert!(
        report.exchanges[0]
            .error
            .as_deref()
            .unwrap()
            .contains("HTTP 500")
    );

    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }; // closed again: nothing listens there
    let report = play(
        &load("masked-call-answered.toml"),
        &PlayOptions::new(format!("http://{addr}/webhooks/voice")),
    )
    .await;
    assert!(!report.passed());
    let detail = report.failures().next().unwrap().detail.clone().unwrap();
    assert!(detail.contains("cannot connect"), "{detail}");
}

#[tokio::test]
async fn a_scenario_expecting_a_failing_handler_can_pass() {
    let server = Server::fixed(200, r#"{"callflow":[]}"#).await;
    let s = Scenario::from_toml_str(
        r#"
        [call]
        from = "+6591110001"
        to = "+6568880000"
        [expect]
        valid_replies = false
        session_status = "ERROR"
        error_code = -2003
        "#,
    )
    .unwrap();
    assert_passed(&play(&s, &PlayOptions::new(&server.url)).await);
}

#[tokio::test]
async fn duplicate_delivers_every_event_twice_with_the_same_event_id() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let mut opts = PlayOptions::new(&server.url);
    opts.duplicate = true;
    let report = play(&load("masked-call-answered.toml"), &opts).await;
    assert_passed(&report);
    let got = server.received();
    assert_eq!(got.len(), 16);
    for pair in got.chunks(2) {
        assert_eq!(
            pair[0].body, pair[1].body,
            "the duplicate is the same event"
        );
    }
    assert_eq!(report.exchanges.iter().filter(|e| e.duplicate).count(), 8);
    let text = render_text(std::slice::from_ref(&report));
    assert!(text.contains("duplicate delivery, same eventId"));
}

#[tokio::test]
async fn duplicate_catches_a_handler_that_is_not_idempotent() {
    // Answers the first delivery of an event and fails the second one.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(HashSet::<String>::new()));
    let server = Server::start(move |_, _, body| {
        let seen = seen.clone();
        async move {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let key = v["payload"]["eventId"]
                .as_str()
                .or_else(|| v["payload"]["sessionId"].as_str())
                .unwrap()
                .to_owned();
            if seen.lock().unwrap().insert(key) {
                (http::StatusCode::OK, bytes::Bytes::from_static(br#"{"callflow":[{"action":"makeCall","params":{"source":"+6568880000","destination":"+6592220002"}}]}"#))
            } else {
                (http::StatusCode::CONFLICT, bytes::Bytes::from_static(b"{}"))
            }
        }
    })
    .await;
    let mut opts = PlayOptions::new(&server.url);
    let plain = play(&load("masked-call-answered.toml"), &opts).await;
    assert_passed(&plain);
    opts.duplicate = true;
    let report = play(&load("masked-call-answered.toml"), &opts).await;
    assert!(!report.passed());
    let failing: Vec<&str> = report.failures().map(|c| c.name.as_str()).collect();
    assert!(
        failing.contains(&"every CALL_STATUS and SESSION_SUMMARY is acknowledged with 2xx"),
        "{failing:?}"
    );
}

#[tokio::test]
async fn reorder_delivers_status_events_out_of_order_before_the_summary() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let mut opts = PlayOptions::new(&server.url);
    opts.reorder = true;
    assert_passed(&play(&load("masked-call-answered.toml"), &opts).await);
    let got = server.received();
    let kinds: Vec<&str> = got.iter().map(|r| r.event_type()).collect();
    assert_eq!(kinds.first(), Some(&"CALL_ACTION"));
    assert_eq!(kinds.last(), Some(&"SESSION_SUMMARY"));
    let b_statuses: Vec<&str> = got
        .iter()
        .filter(|r| r.event_type() == "CALL_STATUS" && r.payload()["callDirection"] == "OUTBOUND")
        .map(|r| r.status())
        .collect();
    assert_eq!(
        b_statuses,
        ["CALL_DISCONNECTED", "CALL_CONNECTED", "CALL_INITIATED"]
    );
    // The timestamps tell the real order.
    let stamps: Vec<&str> = got
        .iter()
        .filter(|r| r.event_type() == "CALL_STATUS")
        .map(|r| r.payload()["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort();
    assert_ne!(stamps, sorted, "status events arrive out of time order");
}

#[tokio::test]
async fn slow_after_fails_replies_slower_than_the_deadline() {
    let server = Server::webhook(Webhook::new(SlowMasking(Duration::from_millis(300)))).await;
    let mut opts = PlayOptions::new(&server.url);
    opts.slow_after = Some(Duration::from_millis(100));
    let report = play(&load("masked-call-answered.toml"), &opts).await;
    assert!(!report.passed());
    let check = report.check("every reply arrives within 100 ms").unwrap();
    assert!(!check.passed);
    assert!(
        check
            .detail
            .as_deref()
            .unwrap()
            .starts_with("CALL_ACTION CALL_RECEIVED took")
    );
    assert!(report.exchanges[0].response_time >= Duration::from_millis(300));

    opts.slow_after = Some(Duration::from_millis(5_000));
    assert_passed(&play(&load("masked-call-answered.toml"), &opts).await);
}

#[tokio::test]
async fn a_reply_slower_than_the_timeout_is_a_failed_webhook() {
    let server = Server::webhook(
        Webhook::builder(SlowMasking(Duration::from_millis(500)))
            .no_deadline()
            .build(),
    )
    .await;
    let mut opts = PlayOptions::new(&server.url);
    opts.timeout = Duration::from_millis(100);
    let report = play(&load("masked-call-answered.toml"), &opts).await;
    assert_eq!(report.outcome.session_status.as_str(), "ERROR");
    assert!(
        report.exchanges[0]
            .error
            .as_deref()
            .unwrap()
            .contains("no reply within 100 ms")
    );
}

#[tokio::test]
async fn legacy_payload_style_sends_dtmf_received_with_digits_in_payload_dtmf() {
    let server = Server::webhook(Webhook::new(Ivr)).await;
    let mut opts = PlayOptions::new(&server.url);
    opts.payload_style = PayloadStyle::Legacy;
    // The core's `dtmf()` finds the digits wherever they are, so the IVR still works.
    assert_passed(&play(&load("ivr/two-level-menu.toml"), &opts).await);
    let actions: Vec<_> = server
        .received()
        .into_iter()
        .filter(|r| r.event_type() == "CALL_ACTION")
        .collect();
    assert_eq!(actions[1].status(), "DTMF_RECEIVED");
    assert_eq!(actions[1].payload()["dtmf"], "1");
    assert!(actions[1].payload()["eventData"].is_string());
    assert_eq!(actions[2].payload()["dtmf"], "2");
    assert_eq!(actions[2].payload()["clientActionId"], "sales-menu");
    for r in server
        .received()
        .iter()
        .filter(|r| r.event_type() != "SESSION_SUMMARY")
    {
        assert!(
            r.payload()["eventData"].is_string(),
            "eventData is a string in legacy payloads"
        );
    }
}

#[tokio::test]
async fn string_payload_style_sends_the_digits_as_event_data_and_the_ivr_still_works() {
    let server = Server::webhook(Webhook::new(Ivr)).await;
    let mut opts = PlayOptions::new(&server.url);
    opts.payload_style = PayloadStyle::PlainString;
    // The core's `dtmf()` reads `"eventData": "1"`, so the two-level menu is walked.
    assert_passed(&play(&load("ivr/two-level-menu.toml"), &opts).await);
    let actions: Vec<_> = server
        .received()
        .into_iter()
        .filter(|r| r.event_type() == "CALL_ACTION")
        .collect();
    assert_eq!(actions[1].status(), "ACTION_COMPLETED");
    assert_eq!(actions[1].payload()["eventData"], "1");
    assert!(actions[1].payload().get("dtmf").is_none());
    assert_eq!(actions[2].payload()["eventData"], "2");
}

#[tokio::test]
async fn legacy_payload_style_breaks_a_handler_that_only_reads_event_data_dtmf() {
    use callflow::CallFlow;
    let server = Server::webhook(Webhook::new(callflow::handler_fn(|ev, _cx| async move {
        let digits = match &ev.payload.event_data {
            Some(callflow::event::EventData::Map(m)) => m.dtmf.clone(),
            _ => None,
        };
        Ok(match (ev.is_call_received(), digits.as_deref()) {
            (true, _) => CallFlow::builder()
                .client_action_id("main-menu")
                .say_and_capture(
                    callflow::callflow::SayAndCapture::new("Press 1 for sales.")
                        .voice("en-US-BenjaminRUS")
                        .max_digits(1),
                )
                .build(),
            (false, Some("9")) => CallFlow::builder()
                .say("Sorry, that is not a valid choice.")
                .hangup(),
            _ => CallFlow::builder().say("I did not get that.").hangup(),
        })
    })))
    .await;
    let current = play(
        &load("ivr/invalid-choice.toml"),
        &PlayOptions::new(&server.url),
    )
    .await;
    assert_passed(&current);
    let mut opts = PlayOptions::new(&server.url);
    opts.payload_style = PayloadStyle::Legacy;
    let legacy = play(&load("ivr/invalid-choice.toml"), &opts).await;
    assert!(!legacy.passed(), "the drift is caught");
}

#[tokio::test]
async fn auth_header_is_sent_verbatim_and_a_401_fails_the_session() {
    let webhook = Webhook::builder(Masking)
        .auth_token("Bearer s3cret")
        .build();
    let server = Server::webhook(webhook).await;
    let mut opts = PlayOptions::new(&server.url);
    opts.auth_header = Some("Bearer s3cret".to_owned());
    assert_passed(&play(&load("masked-call-answered.toml"), &opts).await);
    assert!(
        server
            .received()
            .iter()
            .all(|r| r.headers.get("authorization").unwrap() == "Bearer s3cret")
    );
    let report = play(
        &load("masked-call-answered.toml"),
        &PlayOptions::new(&server.url),
    )
    .await;
    assert!(!report.passed());
    assert_eq!(report.exchanges[0].http_status, Some(401));
}

#[tokio::test]
async fn transcript_masks_every_phone_number_and_shows_response_times() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let report = play(
        &load("masked-call-answered.toml"),
        &PlayOptions::new(&server.url),
    )
    .await;
    let text = render_text(std::slice::from_ref(&report));
    for n in ["6591110001", "6568880000", "6592220002"] {
        assert!(!text.contains(n), "{n} in clear:\n{text}");
    }
    assert!(text.contains("+65****0001"));
    assert!(
        text.contains("makeCall +65****0000 (#2) -> +65****0002 (#3)"),
        "{text}"
    );
    let timed = text
        .lines()
        .filter(|l| l.contains("-> CALL_") || l.contains("-> SESSION_SUMMARY"))
        .collect::<Vec<_>>();
    assert_eq!(timed.len(), 8);
    assert!(timed.iter().all(|l| l.contains(" ms")), "{timed:#?}");
    let json = callflow_sim::render_json(std::slice::from_ref(&report));
    let junit = callflow_sim::render_junit(std::slice::from_ref(&report));
    for n in ["6591110001", "6568880000", "6592220002"] {
        assert!(!json.contains(n) && !junit.contains(n), "{n} in clear");
    }
}

#[tokio::test]
async fn a_handler_that_re_prompts_forever_is_stopped_and_fails() {
    let server = Server::fixed(
        200,
        r#"{"clientActionId":"again","callflow":[{"action":"sayAndCapture","params":{"promptMessage":"Press 1.","voiceProfile":"en-US-BenjaminRUS","maxDigits":1}}]}"#,
    )
    .await;
    let mut opts = PlayOptions::new(&server.url);
    opts.max_call_actions = 5;
    let report = play(&load("unknown-caller.toml"), &opts).await;
    assert!(!report.passed());
    assert!(
        report
            .check("the session ends within 5 CALL_ACTION requests")
            .is_some()
    );
    assert_eq!(report.outcome.call_actions, 5);
}

#[tokio::test]
async fn urls_other_than_http_and_https_are_refused_with_a_clear_message() {
    let report = play(
        &load("unknown-caller.toml"),
        &PlayOptions::new("ftp://example.com/v"),
    )
    .await;
    assert!(!report.passed());
    assert!(report.exchanges.is_empty());
    assert!(
        report
            .failures()
            .next()
            .unwrap()
            .detail
            .as_deref()
            .unwrap()
            .contains("must start with http:// or https://")
    );
}

/// An `https://` URL is spoken to with TLS: against a plain-HTTP server the handshake fails,
/// and the session ends with a webhook failure instead of a refusal of the URL.
#[tokio::test]
async fn https_urls_are_posted_with_tls() {
    let server = Server::fixed(200, r#"{"callflow":[{"action":"hangup"}]}"#).await;
    let url = server.url.replacen("http://", "https://", 1);
    let mut opts = PlayOptions::new(&url);
    opts.timeout = std::time::Duration::from_secs(5);
    let report = play(&load("unknown-caller.toml"), &opts).await;
    assert!(!report.passed());
    let first = &report.exchanges[0];
    assert_eq!(first.event_type, "CALL_ACTION");
    assert_eq!(
        first.http_status, None,
        "no HTTP answer over a failed TLS handshake"
    );
    assert!(first.error.is_some());
}

/// The recipe for the workspace integration tests: every scenario directly in
/// `SCENARIOS_DIR` against one number-masking service.
#[tokio::test]
async fn play_all_over_the_scenarios_dir_is_the_number_masking_set() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let scenarios = Scenario::load_dir(callflow_sim::SCENARIOS_DIR).unwrap();
    assert_eq!(scenarios.len(), 7);
    let reports = callflow_sim::play_all(&scenarios, &PlayOptions::new(&server.url)).await;
    for r in &reports {
        assert_passed(r);
    }
}
