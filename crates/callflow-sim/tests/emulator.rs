//! `callflow serve`'s emulator over real HTTP on 127.0.0.1: sessions started by Send Callflow
//! and by inbound calls reach a webhook app's separate routes with each webhook's own auth
//! header, and callflow-client's operations work against it.

// Its own file, not part of `common` (which callflow-cli's tests include too, without axum).
#[path = "common/emulated.rs"]
mod emulated;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use callflow::callflow::SayAndCapture;
use callflow::{CallFlow, MakeCall};
use callflow_client::api::{
    CreateWebhook, LogExportRequest, PushProtocol, RecordingPushConfigRequest, SendCallflow,
    SessionId, VirtualNumber, WebhookType,
};
use callflow_client::{Client, ErrorKind};
use callflow_sim::emulator::Emulator;
use emulated::serve_router;
use serde_json::Value;

const KEY: &str = "emulator-test-key";
const SUB: &str = "acme_voice";
const VN: &str = "+6568880000";
const CALLEE: &str = "+6591110001";

/// One request a webhook app received: its route, event type, and whether its
/// `Authorization` was the route's.
#[derive(Clone, Debug)]
struct Received {
    route: &'static str,
    event_type: String,
    accepted: bool,
    body: Value,
}

#[derive(Clone, Default)]
struct App {
    log: Arc<Mutex<Vec<Received>>>,
}

impl App {
    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }
}

/// What the app answers to a `CALL_ACTION` it accepted.
type Reply = fn(&Value) -> String;

/// A route that accepts only `Authorization: {expected}` and answers `CALL_ACTION`s with
/// `reply`; anything else is refused with 401.
fn route(
    name: &'static str,
    expected: &'static str,
    reply: Reply,
) -> axum::routing::MethodRouter<App> {
    post(
        move |State(app): State<App>, headers: HeaderMap, body: Bytes| async move {
            let accepted =
                headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected);
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let event_type = body["eventType"].as_str().unwrap_or("").to_owned();
            app.log.lock().unwrap().push(Received {
                route: name,
                event_type: event_type.clone(),
                accepted,
                body: body.clone(),
            });
            if !accepted {
                return (StatusCode::UNAUTHORIZED, String::new());
            }
            if event_type == "CALL_ACTION" {
                (StatusCode::OK, reply(&body))
            } else {
                (StatusCode::OK, String::new())
            }
        },
    )
}

async fn emulator() -> Emulator {
    emulated::emulator(KEY, SUB, VN).await
}

fn client(emulator: &Emulator, key: &str) -> Client {
    emulated::client(&emulator.url(), key, SUB)
}

/// Waits (at most 10 s) until the emulator's session has ended; returns its record.
async fn ended_session(emulator: &Emulator, id: &str) -> Value {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        let v: Value = http
            .get(format!("{}/emulator/v1/sessions/{id}", emulator.url()))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["state"] == "ended" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("session {id} did not end within 10 s");
}

fn thank_you(_: &Value) -> String {
    r#"{"callflow":[{"action":"say","params":{"text":"Thank you, goodbye.","voiceProfile":"en-GB-Emma"}},{"action":"hangup"}]}"#.to_owned()
}

fn reminder() -> SendCallflow {
    let flow = CallFlow::builder()
        .make_call(MakeCall::to(CALLEE).caller_id(VN))
        .say_and_capture(
            SayAndCapture::new("Press 1 to confirm your appointment, 2 to cancel.").max_digits(1),
        )
        .hangup();
    SendCallflow::new(flow).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_callflow_reaches_separate_vca_and_vss_routes_each_with_its_own_auth_header() {
    let emulator = emulator().await;
    let app = App::default();
    let router = Router::new()
        .route("/vca", route("vca", "Bearer vca-secret", thank_you))
        .route("/vss", route("vss", "Bearer vss-secret", thank_you))
        .with_state(app.clone());
    let (base, server) = serve_router(router).await;
    let client = client(&emulator, KEY);
    let hooks = [
        (WebhookType::Vca, "/vca", "Bearer vca-secret"),
        (WebhookType::Vss, "/vss", "Bearer vss-secret"),
        // Status events go to the summary route with the VCA route's value: that route must
        // refuse them, which shows each route checks its own header.
        (WebhookType::Vcs, "/vss", "Bearer vca-secret"),
    ];
    for (t, path, auth) in hooks {
        let hook = CreateWebhook::new(t, format!("{base}{path}"))
            .unwrap()
            .http_auth_header(auth);
        client.create_webhook(&hook).await.unwrap();
    }

    let created = client.send_callflow(&reminder()).await.unwrap();
    let id = created.session_id.clone().unwrap();
    let session = ended_session(&emulator, &id).await;
    assert_eq!(session["direction"], "outbound");
    assert_eq!(session["sessionStatus"], "COMPLETED");

    let got = app.received();
    let at = |route: &str, ty: &str| -> Vec<&Received> {
        got.iter()
            .filter(|r| r.route == route && r.event_type == ty)
            .collect()
    };
    let actions = at("vca", "CALL_ACTION");
    assert_eq!(actions.len(), 1, "{got:#?}");
    assert!(
        actions[0].accepted,
        "the VCA route got the VCA webhook's header"
    );
    assert_eq!(actions[0].body["payload"]["sessionId"], id.as_str());
    assert_eq!(actions[0].body["payload"]["callStatus"], "ACTION_COMPLETED");
    let summaries = at("vss", "SESSION_SUMMARY");
    assert_eq!(summaries.len(), 1, "{got:#?}");
    assert!(
        summaries[0].accepted,
        "the VSS route got the VSS webhook's header"
    );
    assert_eq!(summaries[0].body["payload"]["sessionId"], id.as_str());
    assert!(
        got.iter()
            .all(|r| r.route != "vca" || r.event_type == "CALL_ACTION"),
        "only CALL_ACTION reaches the VCA route: {got:#?}"
    );
    let statuses = at("vss", "CALL_STATUS");
    assert!(!statuses.is_empty(), "CALL_STATUS went to the VCS URL");
    assert!(
        statuses.iter().all(|r| !r.accepted),
        "the VSS route refused the VCA route's header"
    );
    // The emulator saw the refusals too.
    let refused = session["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["eventType"] == "CALL_STATUS")
        .all(|e| e["httpStatus"] == 401);
    assert!(refused, "{session:#}");
    // The callee's number is masked in the emulator's listing.
    assert!(!session.to_string().contains(CALLEE));

    server.abort();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_webhook_registered_for_a_type_means_no_post_of_that_type() {
    let emulator = emulator().await;
    let app = App::default();
    let router = Router::new()
        .route("/vss", route("vss", "Bearer vss-secret", thank_you))
        .with_state(app.clone());
    let (base, server) = serve_router(router).await;
    let client = client(&emulator, KEY);
    let hook = CreateWebhook::new(WebhookType::Vss, format!("{base}/vss"))
        .unwrap()
        .http_auth_header("Bearer vss-secret");
    client.create_webhook(&hook).await.unwrap();
    let flow = CallFlow::builder()
        .make_call(MakeCall::to(CALLEE).caller_id(VN))
        .say("Your parcel arrives today.")
        .hangup();
    let created = client
        .send_callflow(&SendCallflow::new(flow).unwrap())
        .await
        .unwrap();
    ended_session(&emulator, created.session_id.as_deref().unwrap()).await;
    let got = app.received();
    assert_eq!(got.len(), 1, "only the summary is posted: {got:#?}");
    assert_eq!(got[0].event_type, "SESSION_SUMMARY");
    assert!(got[0].accepted);
    server.abort();
    emulator.shutdown().await;
}

fn record_the_bridge(_: &Value) -> String {
    format!(
        r#"{{"callflow":[{{"action":"makeCall","params":{{"source":"{VN}","destination":"+6592220002","callRecording":true}}}}]}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_operations_work_against_the_emulator() {
    let emulator = emulator().await;
    let app = App::default();
    let router = Router::new()
        .route(
            "/voice",
            route("voice", "Bearer app-secret", record_the_bridge),
        )
        .with_state(app.clone());
    let (base, server) = serve_router(router).await;
    let client = client(&emulator, KEY);

    // A wrong key is answered 401, as 8x8 does.
    let err = client_with_wrong_key(&emulator)
        .webhooks()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));

    // Webhooks: create every type, list, delete one.
    for t in [
        WebhookType::Vca,
        WebhookType::Vcs,
        WebhookType::Vss,
        WebhookType::Vru,
    ] {
        let hook = CreateWebhook::new(t, format!("{base}/voice"))
            .unwrap()
            .http_auth_header("Bearer app-secret");
        client.create_webhook(&hook).await.unwrap();
    }
    let list = client.webhooks().await.unwrap();
    assert_eq!(list.count, Some(4));
    assert_eq!(
        list.get(WebhookType::Vca)
            .unwrap()
            .http_auth_header_available,
        Some(true)
    );

    // Numbers and speech profiles.
    let numbers = client.virtual_numbers().await.unwrap();
    assert_eq!(numbers.total_numbers, Some(1));
    let vn = VirtualNumber::new(VN).unwrap();
    let check = client.virtual_number(&vn).await.unwrap();
    assert_eq!(check.payload.unwrap().msisdn.unwrap().as_str(), VN);
    let unknown = client
        .virtual_number(&VirtualNumber::new("6500000000").unwrap())
        .await;
    assert_eq!(unknown.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(
        !client
            .speech_profiles()
            .await
            .unwrap()
            .speech_profiles
            .is_empty()
    );

    // Send Callflow: a refusal carries 8x8's code; a good request creates a session.
    let refused = client
        .send_callflow_json(br#"{"callflow":[{"action":"hangup"}]}"#)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidRequest);
    let created = client.send_callflow(&reminder()).await.unwrap();
    assert!(created.is_created());

    // An inbound call whose reply records the bridged call: the recording's status arrives
    // at the VRU webhook and is readable through the API.
    let http = reqwest::Client::new();
    let placed: Value = http
        .post(format!("{}/emulator/v1/calls", emulator.url()))
        .bearer_auth(KEY)
        .json(&serde_json::json!({"from": CALLEE, "to": VN}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = placed["sessionId"].as_str().unwrap().to_owned();
    ended_session(&emulator, &id).await;
    let got = app.received();
    let recorded: Vec<&Received> = got
        .iter()
        .filter(|r| {
            r.event_type == "CALL_RECORDING_STATUS" && r.body["payload"]["sessionId"] == id.as_str()
        })
        .collect();
    assert_eq!(recorded.len(), 1, "{got:#?}");
    assert_eq!(recorded[0].body["payload"]["durationSeconds"], 20);
    assert!(got.iter().all(|r| r.accepted));
    let recordings = client
        .recordings(&SessionId::new(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(recordings.recordings.len(), 1);
    assert_eq!(
        recordings.recordings[0].session_id.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(recordings.recordings[0].duration, Some(20));
    let never = SessionId::new("00000000-0000-11ef-0000-000000000000").unwrap();
    assert_eq!(
        client.recordings(&never).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // Recording push config: set, read, delete, gone.
    let push =
        RecordingPushConfigRequest::new(PushProtocol::Sftp, "files.example.com", "rec", "pw")
            .unwrap()
            .port(22);
    client.set_recording_push_config(&push).await.unwrap();
    let read = client.recording_push_config().await.unwrap();
    assert_eq!((read.port, read.password_set), (Some(22), Some(true)));
    client.delete_recording_push_config().await.unwrap();
    assert_eq!(
        client.recording_push_config().await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // Log exports: start, read, cancel.
    let job = client
        .start_log_export(&LogExportRequest::new())
        .await
        .unwrap();
    let job = callflow_client::api::JobId::new(job.job_id.unwrap()).unwrap();
    assert!(client.log_export(&job).await.unwrap().status.is_some());
    client.cancel_log_export(&job).await.unwrap();

    // Delete a webhook: its type is no longer listed.
    client.delete_webhook(WebhookType::Vcs).await.unwrap();
    assert!(
        client
            .webhooks()
            .await
            .unwrap()
            .get(WebhookType::Vcs)
            .is_none()
    );

    server.abort();
    emulator.shutdown().await;
}

fn client_with_wrong_key(emulator: &Emulator) -> Client {
    client(emulator, "not-the-key")
}

/// Posts `body` to one of the emulator's own endpoints; returns the status and the JSON.
async fn control(emulator: &Emulator, path: &str, body: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/emulator/v1/{path}", emulator.url()))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// Answers the result of a `sayAndCapture` with the digits it saw, then hangs up; any
/// other `CALL_ACTION` (an inbound call's first) with a one-digit menu.
fn menu_then_echo(body: &Value) -> String {
    let digits = callflow::event::Event::from_slice(body.to_string().as_bytes())
        .ok()
        .and_then(|e| match e {
            callflow::event::Event::CallAction(a) => a.dtmf().map(str::to_owned),
            _ => None,
        });
    match (body["payload"]["callStatus"].as_str(), digits) {
        (Some("CALL_RECEIVED"), _) => r#"{"callflow":[{"action":"sayAndCapture","params":{"promptMessage":"Press 1 or 2.","voiceProfile":"en-GB-Emma","maxDigits":1}}]}"#.to_owned(),
        (_, Some(d)) => format!(
            r#"{{"callflow":[{{"action":"say","params":{{"text":"You pressed {d}.","voiceProfile":"en-GB-Emma"}}}},{{"action":"hangup"}}]}}"#
        ),
        (_, None) => r#"{"callflow":[{"action":"say","params":{"text":"No choice.","voiceProfile":"en-GB-Emma"}},{"action":"hangup"}]}"#.to_owned(),
    }
}

/// An emulator and an app whose VCA and VSS routes are registered (no status route).
async fn with_app(reply: Reply) -> (Emulator, App, Client, tokio::task::JoinHandle<()>) {
    let emulator = emulator().await;
    let app = App::default();
    let router = Router::new()
        .route("/vca", route("vca", "Bearer vca", reply))
        .route("/vss", route("vss", "Bearer vss", reply))
        .with_state(app.clone());
    let (base, server) = serve_router(router).await;
    let client = client(&emulator, KEY);
    for (t, path, auth) in [
        (WebhookType::Vca, "/vca", "Bearer vca"),
        (WebhookType::Vss, "/vss", "Bearer vss"),
    ] {
        let hook = CreateWebhook::new(t, format!("{base}{path}"))
            .unwrap()
            .http_auth_header(auth);
        client.create_webhook(&hook).await.unwrap();
    }
    (emulator, app, client, server)
}

/// Whether the session's transcript shows the platform saying `text`.
fn said(session: &Value, text: &str) -> bool {
    let line = format!("say: \"{text}\"");
    session["transcript"].as_array().is_some_and(|t| {
        t.iter()
            .any(|l| l["text"].as_str().is_some_and(|s| s.contains(&line)))
    })
}

fn of_session<'a>(got: &'a [Received], id: &str, ty: &str) -> Vec<&'a Received> {
    got.iter()
        .filter(|r| r.event_type == ty && r.body["payload"]["sessionId"] == id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_callee_presses_digits_that_the_follow_up_call_action_carries() {
    let (emulator, app, client, server) = with_app(menu_then_echo).await;
    let (status, queued) = control(
        &emulator,
        "callees",
        serde_json::json!({"number": CALLEE, "outcome": "answered", "digits": "2"}),
    )
    .await;
    assert_eq!((status, queued["queued"].as_u64()), (201, Some(1)));
    assert!(!queued.to_string().contains(CALLEE), "masked: {queued}");
    let id = client
        .send_callflow(&reminder())
        .await
        .unwrap()
        .session_id
        .unwrap();
    let session = ended_session(&emulator, &id).await;
    let got = app.received();
    let actions = of_session(&got, &id, "CALL_ACTION");
    assert_eq!(actions.len(), 1, "{got:#?}");
    assert_eq!(actions[0].body["payload"]["eventData"]["dtmf"], "2");
    assert!(said(&session, "You pressed 2."), "{session:#}");
    server.abort();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_script_is_consumed_by_one_session_then_the_default_applies() {
    let (emulator, app, client, server) = with_app(menu_then_echo).await;
    control(
        &emulator,
        "callees",
        serde_json::json!({"number": CALLEE, "outcome": "busy"}),
    )
    .await;
    let (status, _) = control(
        &emulator,
        "callees",
        serde_json::json!({"outcome": "no-answer"}),
    )
    .await;
    assert_eq!(status, 201);
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let id = client
            .send_callflow(&reminder())
            .await
            .unwrap()
            .session_id
            .unwrap();
        ended_session(&emulator, &id).await;
        let got = app.received();
        assert!(
            of_session(&got, &id, "CALL_ACTION").is_empty(),
            "nobody answered: {got:#?}"
        );
        let summary = of_session(&got, &id, "SESSION_SUMMARY");
        assert_eq!(summary.len(), 1);
        outcomes.push(summary[0].body["payload"]["sessionStatus"].clone());
    }
    assert_eq!(outcomes, ["BUSY", "NO_ANSWER"]);
    // Forgotten: the next session is answered again.
    let gone = reqwest::Client::new()
        .delete(format!("{}/emulator/v1/callees", emulator.url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 204);
    let id = client
        .send_callflow(&reminder())
        .await
        .unwrap()
        .session_id
        .unwrap();
    assert_eq!(
        ended_session(&emulator, &id).await["sessionStatus"],
        "COMPLETED"
    );
    server.abort();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_callees_faults_apply_to_its_send_callflow_session() {
    let (emulator, app, client, server) = with_app(menu_then_echo).await;
    control(
        &emulator,
        "callees",
        serde_json::json!({"number": CALLEE, "digits": ["1"],
            "faults": {"duplicate": true, "payload_style": "legacy"}}),
    )
    .await;
    let id = client
        .send_callflow(&reminder())
        .await
        .unwrap()
        .session_id
        .unwrap();
    ended_session(&emulator, &id).await;
    let got = app.received();
    let actions = of_session(&got, &id, "CALL_ACTION");
    assert_eq!(actions.len(), 2, "delivered twice: {got:#?}");
    assert_eq!(
        actions[0].body["payload"]["eventId"],
        actions[1].body["payload"]["eventId"]
    );
    assert_eq!(actions[0].body["payload"]["callStatus"], "DTMF_RECEIVED");
    assert_eq!(actions[0].body["payload"]["dtmf"], "1");
    assert_eq!(of_session(&got, &id, "SESSION_SUMMARY").len(), 2);
    server.abort();
    emulator.shutdown().await;
}

fn bridge_to_b(_: &Value) -> String {
    format!(
        r#"{{"callflow":[{{"action":"makeCall","params":{{"source":"{VN}","destination":"+6592220002"}}}}]}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_calls_b_leg_follows_the_script_of_the_number_it_dials() {
    let (emulator, app, _client, server) = with_app(bridge_to_b).await;
    control(
        &emulator,
        "callees",
        serde_json::json!({"number": "+6592220002", "outcome": "busy"}),
    )
    .await;
    let (status, placed) = control(
        &emulator,
        "calls",
        serde_json::json!({"from": CALLEE, "to": VN}),
    )
    .await;
    assert_eq!(status, 201);
    let id = placed["sessionId"].as_str().unwrap().to_owned();
    ended_session(&emulator, &id).await;
    let got = app.received();
    let summary = of_session(&got, &id, "SESSION_SUMMARY");
    assert_eq!(
        summary[0].body["payload"]["sessionStatus"], "BUSY",
        "{got:#?}"
    );
    assert_eq!(
        summary[0].body["payload"]["details"]["callB"]["callStatus"],
        "BUSY"
    );
    server.abort();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digits_sent_as_a_plain_string_event_data_reach_the_handler() {
    let (emulator, app, _client, server) = with_app(menu_then_echo).await;
    let (status, placed) = control(
        &emulator,
        "calls",
        serde_json::json!({"from": CALLEE, "to": VN, "digits": "1",
            "faults": {"payload_style": "string"}}),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["sessionId"].as_str().unwrap().to_owned();
    let session = ended_session(&emulator, &id).await;
    let got = app.received();
    let actions = of_session(&got, &id, "CALL_ACTION");
    assert_eq!(actions.len(), 2, "{got:#?}");
    assert_eq!(actions[1].body["payload"]["eventData"], "1");
    assert!(actions[1].body["payload"].get("dtmf").is_none());
    // The core's accessor read the digits from that form: the reply echoed them.
    assert!(said(&session, "You pressed 1."), "{session:#}");
    server.abort();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_scripts_are_refused_with_400_naming_the_field() {
    let emulator = emulator().await;
    for (path, body, needle) in [
        (
            "callees",
            serde_json::json!({"number": "12", "outcome": "busy"}),
            "number",
        ),
        ("callees", serde_json::json!({"outcome": "maybe"}), "maybe"),
        ("callees", serde_json::json!({"digits": "1a"}), "digits"),
        (
            "calls",
            serde_json::json!({"from": CALLEE, "to": VN, "faults": {"payload_style": "xml"}}),
            "payload_style",
        ),
        (
            "calls",
            serde_json::json!({"from": CALLEE, "to": VN, "faults": {"twice": true}}),
            "twice",
        ),
    ] {
        let (status, answer) = control(&emulator, path, body).await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(needle),
            "{answer}"
        );
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_five_operations_without_a_documented_401_refuse_a_wrong_or_missing_key_with_401() {
    let emulator = emulator().await;
    let base = format!("{}/api/v1/subaccounts/{SUB}", emulator.url());
    let http = reqwest::Client::new();
    let job = "F1T6z9C5tW2QV1pdMzO9xpMXrYEmfnvq";
    for key in [Some("not-the-key"), None] {
        for (method, path) in [
            (reqwest::Method::GET, "/numbers".to_owned()),
            (reqwest::Method::GET, "/numbers/6568880000".to_owned()),
            (reqwest::Method::POST, "/messages/exports".to_owned()),
            (reqwest::Method::GET, format!("/messages/exports/{job}")),
            (reqwest::Method::DELETE, format!("/messages/exports/{job}")),
        ] {
            let mut request = http
                .request(method.clone(), format!("{base}{path}"))
                .header("content-type", "application/json");
            if method == reqwest::Method::POST {
                request = request.body("{}");
            }
            if let Some(k) = key {
                request = request.bearer_auth(k);
            }
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status().as_u16(), 401, "{method} {path} key {key:?}");
        }
    }
    emulator.shutdown().await;
}
