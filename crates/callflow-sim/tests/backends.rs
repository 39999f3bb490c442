//! One client scenario against both backends: Prism serving 8x8's document (every request
//! the client sends is valid for the document) and the emulator (the session really runs and
//! its events reach the webhooks). The scenario: create the VCA, VSS and VRU webhooks, send a
//! callflow, then read a session's recording status (on the emulator, of an inbound call whose
//! reply records the bridge: Send Callflow itself cannot record).

// Its own file, not part of `common` (which callflow-cli's tests include too, without axum).
#[path = "common/emulated.rs"]
mod emulated;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use callflow::{CallFlow, MakeCall};
use callflow_client::api::{CreateWebhook, Recordings, SendCallflow, SessionId, WebhookType};
use callflow_client::testing::Prism;
use callflow_client::{Client, Error};
use emulated::serve_router;
use serde_json::Value;

const KEY: &str = "backends-test-key";
const SUB: &str = "acme_voice";
const VN: &str = "+6568880000";
/// Every request the test webhook received: (the path's webhook type, the body).
type Log = Arc<Mutex<Vec<(String, Value)>>>;

/// The reply to an inbound call: bridge to a second number, recorded.
const RECORD_THE_BRIDGE: &str = r#"{"callflow":[{"action":"makeCall","params":{"source":"+6568880000","destination":"+6592220002","callRecording":true}}]}"#;

fn client(api_base: &str) -> Client {
    emulated::client(api_base, KEY, SUB)
}

/// The scenario's first half: the VCA, VSS and VRU webhooks at `hook_base`, then a voice
/// message by Send Callflow; returns its session id.
async fn register_and_send(client: &Client, hook_base: &str) -> Result<String, Error> {
    for kind in [WebhookType::Vca, WebhookType::Vss, WebhookType::Vru] {
        let hook = CreateWebhook::new(kind, format!("{hook_base}/{}", kind.as_str()))?
            .http_auth_header("Bearer hook-secret");
        client.create_webhook(&hook).await?;
    }
    let flow = CallFlow::builder()
        .make_call(MakeCall::to("+6591110001").caller_id(VN))
        .say("Your parcel arrives today between 2 and 4 p.m.")
        .hangup();
    let created = client.send_callflow(&SendCallflow::new(flow)?).await?;
    Ok(created.session_id.clone().expect("a session id"))
}

/// The scenario's second half: the recording status of `session` (retried while the
/// backend has not finished the session).
async fn recording_status(client: &Client, session: &str) -> Result<Recordings, Error> {
    let id = SessionId::new(session)?;
    let mut tries = 0;
    loop {
        match client.recordings(&id).await {
            Err(e) if tries < 100 && e.kind() == callflow_client::ErrorKind::NotFound => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_the_emulator_the_sessions_events_reach_the_webhooks_and_its_recording_is_readable()
{
    let emulator = emulated::emulator(KEY, SUB, VN).await;
    let got: Log = Arc::default();
    let app = Router::new()
        .route(
            "/{kind}",
            post(
                |State(got): State<Log>,
                 axum::extract::Path(kind): axum::extract::Path<String>,
                 body: Bytes| async move {
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let action = v["eventType"] == "CALL_ACTION";
                    got.lock().unwrap().push((kind, v));
                    if action { RECORD_THE_BRIDGE } else { "" }
                },
            ),
        )
        .with_state(Arc::clone(&got));
    let (hooks, server) = serve_router(app).await;

    let client = client(&emulator.url());
    let sent = register_and_send(&client, &hooks).await.unwrap();
    // Send Callflow cannot record (8x8's -1009), so the recorded session is an inbound call
    // whose CALL_ACTION reply bridges with `callRecording` (the emulator's own endpoint).
    let placed: Value = reqwest::Client::new()
        .post(format!("{}/emulator/v1/calls", emulator.url()))
        .bearer_auth(KEY)
        .json(&serde_json::json!({"from": "+6591110002", "to": VN}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded = placed["sessionId"].as_str().unwrap().to_owned();
    let recordings = recording_status(&client, &recorded).await.unwrap();
    assert_eq!(recordings.recordings.len(), 1);
    assert_eq!(
        recordings.recordings[0].session_id.as_deref(),
        Some(recorded.as_str())
    );
    // The sessions run as their own tasks: the recorded one has ended, but the Send Callflow
    // session's summary may still be on its way. Wait (10 s at most) until every expected
    // event has arrived, then check that each came exactly once.
    let expected = [
        ("VSS", "SESSION_SUMMARY", &sent),
        ("VCA", "CALL_ACTION", &recorded),
        ("VSS", "SESSION_SUMMARY", &recorded),
        ("VRU", "CALL_RECORDING_STATUS", &recorded),
    ];
    let count = |got: &[(String, Value)], kind: &str, ty: &str, session: &str| {
        got.iter()
            .filter(|(k, v)| {
                k == kind && v["eventType"] == ty && v["payload"]["sessionId"] == session
            })
            .count()
    };
    let waited = std::time::Instant::now();
    while waited.elapsed() < Duration::from_secs(10)
        && expected
            .iter()
            .any(|(k, t, s)| count(&got.lock().unwrap(), k, t, s) == 0)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = got.lock().unwrap().clone();
    let of = |kind: &str, ty: &str, session: &str| count(&got, kind, ty, session);
    assert_eq!(of("VSS", "SESSION_SUMMARY", &sent), 1, "{got:#?}");
    assert_eq!(of("VCA", "CALL_ACTION", &recorded), 1, "{got:#?}");
    assert_eq!(of("VSS", "SESSION_SUMMARY", &recorded), 1, "{got:#?}");
    assert_eq!(of("VRU", "CALL_RECORDING_STATUS", &recorded), 1, "{got:#?}");
    server.abort();
    emulator.shutdown().await;
}

#[test]
fn against_prism_every_request_of_the_scenario_is_valid_for_8x8s_document() {
    let Some(prism) = Prism::start_or_skip() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = client(&prism.url());
    rt.block_on(async {
        let session = register_and_send(&client, "https://hooks.example.com")
            .await
            .unwrap();
        recording_status(&client, &session).await.unwrap();
    });
    let requests = prism.logged_requests(5);
    assert_eq!(
        requests.len(),
        5,
        "3 webhooks, Send Callflow, recordings: {requests:#?}"
    );
    for (what, lines) in &requests {
        assert!(
            lines
                .iter()
                .any(|l| l.contains("The request passed the validation rules")),
            "{what}: {lines:#?}"
        );
    }
}
