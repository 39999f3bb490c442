//! The client checked against 8x8's own OpenAPI document, not against ourselves.
//!
//! - `document_examples_parse`: every example answer of the document (success and error)
//!   parses into the client's types, and the document's example requests into its strict
//!   request types.
//! - `prism_validates_every_request`: Stoplight Prism (`tools/prism`, `npm ci --prefix
//!   tools/prism`) serves the document in `--errors` mode on a free 127.0.0.1 port; every
//!   operation of the client runs against it, for its success answer and for every
//!   documented error status (`Prefer: code=…`), and Prism's log must show no request
//!   violation.
//!
//! The document is 8x8's and is not committed: the tests read it from `CALLFLOW_8X8_OPENAPI`
//! (`.ci/run` sets it). Without it, or without Prism, they print SKIPPED and why, and fail
//! under `CI=true`.
//!
//! Known defects of the document itself (each asserted to be exactly that, so a change in
//! the document or the client shows up):
//! 1. `check-virtual-number` types its `number` path parameter as an integer with
//!    `minimum: 7, maximum: 10` next to the pattern `^[0-9]{7,10}$`: no real number passes,
//!    so Prism answers 422 with the single violation "must be <= 10".
//! 2. The `SayAndCapture` schema puts `required: [promptMessage, voiceProfile]` on the action
//!    object instead of its `params`: a correct `sayAndCapture` fails Prism; the same body
//!    with those two keys copied beside `action` passes.
//! 3. The 422 error schema of the webhooks and recording push config `POST`s gives
//!    `timestamp` (a string) an object as example, so Prism cannot produce a 422 that
//!    conforms to it and answers 500 instead.

use callflow::MakeCall;
use std::path::PathBuf;
use std::time::Duration;

use callflow_client::api::{
    self, ApiErrorBody, CreateWebhook, ExportTime, JobId, LogExportRequest, Operation,
    PushProtocol, RecordingPushConfigRequest, SendCallflow, SessionId, SubAccountId, VirtualNumber,
    WebhookType,
};
use callflow_client::testing::{Prism, openapi_document, prism_binary, skip_or_fail};
use callflow_client::{Client, Config, Error, ErrorKind, RetryPolicy};
use serde_json::Value;

// ---- finding the document and Prism ----

fn document() -> Option<(PathBuf, Value)> {
    let path = openapi_document()?;
    match std::fs::read(&path) {
        Ok(bytes) => Some((
            path,
            serde_json::from_slice(&bytes).expect("8x8's document is JSON"),
        )),
        Err(e) => {
            skip_or_fail(&format!(
                "CALLFLOW_8X8_OPENAPI={} cannot be read: {e}",
                path.display()
            ));
            None
        }
    }
}

/// Resolves a local `$ref` (`#/paths/~1api~1v1~1subaccounts~1%7BsubAccountId%7D~1…`).
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r
                .trim_start_matches('#')
                .replace("%7B", "{")
                .replace("%7D", "}");
            resolve(
                doc,
                doc.pointer(&pointer)
                    .unwrap_or_else(|| panic!("unresolved $ref {r}")),
            )
        }
        None => v,
    }
}

/// Every operation of the document: (operation, its JSON).
fn operations(doc: &Value) -> Vec<(Operation, &Value)> {
    let mut out = Vec::new();
    for (_, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "delete", "put", "patch"].contains(&method.as_str()) {
                continue;
            }
            let id = op["operationId"].as_str().unwrap();
            let ours = Operation::ALL
                .into_iter()
                .find(|o| o.operation_id() == id)
                .unwrap_or_else(|| panic!("the client has no operation for {id}"));
            assert_eq!(ours.method().as_str().to_ascii_lowercase(), *method, "{id}");
            out.push((ours, op));
        }
    }
    out
}

// ---- the document's examples ----

/// Parses an example answer of `op` with `status` into the client's type for it.
fn parse_answer(op: Operation, status: u16, v: &Value) -> Result<(), String> {
    fn p<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(v.clone())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    if status != op.success_status() {
        let body: ApiErrorBody = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        let documented = v.get("statusCode").or(v.get("code")).and_then(|c| {
            c.as_i64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        });
        if body.error_code() != documented {
            return Err(format!("code {:?} != {documented:?}", body.error_code()));
        }
        return Ok(());
    }
    match op {
        Operation::SendCallflow => p::<api::SendCallflowResponse>(v),
        Operation::GetSpeechProfiles => p::<api::SpeechProfiles>(v),
        Operation::ListWebhooks | Operation::CreateWebhook => p::<api::WebhookList>(v),
        Operation::DeleteWebhook => p::<api::DeletedWebhook>(v),
        Operation::GetRecordingPushConfig
        | Operation::CreateRecordingPushConfig
        | Operation::DeleteRecordingPushConfig => p::<api::RecordingPushConfig>(v),
        Operation::GetRecordingStatus => p::<api::Recordings>(v),
        Operation::ListVirtualNumbers => p::<api::VirtualNumbers>(v),
        Operation::CheckVirtualNumber => p::<api::VirtualNumberCheck>(v),
        Operation::StartLogExport => p::<api::LogExportJob>(v),
        Operation::GetLogExport => p::<api::LogExportStatus>(v),
        _ => Err(format!("no answer type for {op:?}")),
    }
}

#[test]
fn document_examples_parse() {
    let Some((_, doc)) = document() else { return };
    let mut answers = 0;
    for (op, json) in operations(&doc) {
        for (status, resp) in json["responses"].as_object().unwrap() {
            let status: u16 = status.parse().unwrap();
            let Some(content) = resp.get("content").and_then(|c| c.get("application/json")) else {
                continue;
            };
            let schema = content.get("schema").map(|s| resolve(&doc, s));
            let mut examples: Vec<&Value> = Vec::new();
            examples.extend(content.get("example"));
            if let Some(named) = content.get("examples").and_then(Value::as_object) {
                examples.extend(named.values().filter_map(|e| e.get("value")));
            }
            examples.extend(schema.and_then(|s| s.get("example")));
            for ex in examples {
                parse_answer(op, status, ex).unwrap_or_else(|e| {
                    panic!(
                        "{} {status} example does not parse: {e}\n{ex}",
                        op.operation_id()
                    )
                });
                answers += 1;
            }
            // The one item-level example: a recording.
            if let Some(item) =
                schema.and_then(|s| s.pointer("/properties/recordings/items/example"))
            {
                serde_json::from_value::<api::Recording>(item.clone()).unwrap();
                answers += 1;
            }
        }
    }
    assert!(answers >= 20, "only {answers} example answers found");

    // The document's example requests fit the strict request types.
    let body = |id: &str| {
        let (_, op) = operations(&doc)
            .into_iter()
            .find(|(o, _)| o.operation_id() == id)
            .unwrap();
        resolve(
            &doc,
            &op["requestBody"]["content"]["application/json"]["schema"],
        )
        .clone()
    };
    let send = &body("Send-Callflow")["anyOf"][0]["default"];
    SendCallflow::from_json(send.to_string().as_bytes())
        .expect("8x8's Send Callflow example is valid");
    serde_json::from_value::<CreateWebhook>(body("create-a-new-webhook")["example"].clone())
        .unwrap();
    serde_json::from_value::<RecordingPushConfigRequest>(
        body("create-a-new-recording-push-config")["default"].clone(),
    )
    .unwrap();

    // The three callflows in Send Callflow's description: the voice messages are valid; the
    // IVR example sets `digitTimeout` without `overallTimeout`, which 8x8's own code table
    // calls -1005, so the validator refuses it (a contradiction in 8x8's documentation).
    let (_, send_op) = operations(&doc)
        .into_iter()
        .find(|(o, _)| *o == Operation::SendCallflow)
        .unwrap();
    let text = send_op["description"].as_str().unwrap();
    let blocks: Vec<&str> = text
        .split("```json")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 3, "the description's examples changed");
    let codes: Vec<Option<i64>> = blocks
        .iter()
        .map(|b| {
            SendCallflow::from_json(b.as_bytes())
                .err()
                .and_then(|e| e.code())
        })
        .collect();
    assert_eq!(codes, [Some(-1005), None, None]);
    eprintln!("document_examples_parse: {answers} example answers and 6 example requests checked");
}

/// Prism's request violations in one block of its log.
fn violations(lines: &[String]) -> Vec<String> {
    if lines
        .iter()
        .any(|l| l.contains("The request passed the validation rules"))
    {
        return Vec::new();
    }
    let mut v: Vec<String> = lines
        .iter()
        .filter(|l| {
            l.contains("[VALIDATOR]") && l.contains("error") && !l.contains("Violation: request")
        })
        .map(|l| l.split("error").nth(1).unwrap_or(l).trim().to_owned())
        .collect();
    if v.is_empty() {
        v.push("the request did not pass the validation rules".to_owned());
    }
    v
}

fn client(base: &str, prefer: Option<&str>) -> Client {
    let mut http = reqwest::Client::builder();
    if let Some(p) = prefer {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("prefer", p.parse().unwrap());
        http = http.default_headers(h);
    }
    let config = Config::new("prism-test-key", SubAccountId::new("acme_voice").unwrap())
        .base_url(base)
        .timeout(Duration::from_secs(20))
        .retry(RetryPolicy::none())
        .http_client(http.build().unwrap());
    Client::new(config).unwrap()
}

/// Runs one operation of the client; `Ok(())` when it succeeded.
async fn run(c: &Client, op: Operation) -> Result<(), Error> {
    let session = SessionId::new("03cc8cac-376b-11ef-a28b-0582ff0039d5").unwrap();
    let job =
        JobId::new("F1T6z9C5tW2QV1pdMzO9xpMXrYEmfnvqORGqpePJGpgzjTJ80TSaZEE7aX2wrgix").unwrap();
    match op {
        Operation::SendCallflow => {
            let flow = callflow::CallFlow::builder()
                .make_call(MakeCall::to("+6590000000").caller_id("+6588000000"))
                .say("Hello, this is a reminder about your appointment tomorrow at 2 PM.")
                .play_file("https://example.com/audio/notification.mp3")
                .hangup();
            let req = SendCallflow::new(flow)
                .unwrap()
                .valid_until(api::ValidUntil::after(Duration::from_secs(3600)));
            let r = c.send_callflow(&req).await?;
            assert!(r.is_created());
        }
        Operation::GetSpeechProfiles => {
            let r = c.speech_profiles().await?;
            assert!(!r.speech_profiles.is_empty());
        }
        Operation::ListWebhooks => {
            c.webhooks().await?;
        }
        Operation::CreateWebhook => {
            let req = CreateWebhook::new(WebhookType::Vca, "https://your.host/webhooks/voice")
                .unwrap()
                .http_auth_header("Bearer change-me")
                .enabled(true);
            c.create_webhook(&req).await?;
        }
        Operation::DeleteWebhook => {
            c.delete_webhook(WebhookType::Vss).await?;
        }
        Operation::GetRecordingPushConfig => {
            c.recording_push_config().await?;
        }
        Operation::CreateRecordingPushConfig => {
            let req = RecordingPushConfigRequest::new(
                PushProtocol::S3,
                "ap-southeast-2",
                "myusername",
                "mypassword",
            )
            .unwrap()
            .port(443)
            .path("/my-recordings-path/");
            c.set_recording_push_config(&req).await?;
        }
        Operation::DeleteRecordingPushConfig => {
            c.delete_recording_push_config().await?;
        }
        Operation::GetRecordingStatus => {
            c.recordings(&session).await?;
        }
        Operation::ListVirtualNumbers => {
            c.virtual_numbers().await?;
        }
        Operation::CheckVirtualNumber => {
            c.virtual_number(&VirtualNumber::new("+6568880000").unwrap())
                .await?;
        }
        Operation::StartLogExport => {
            let req = LogExportRequest::new()
                .from(ExportTime::parse("2020-07-01T13:00:00+07:00").unwrap())
                .to(ExportTime::parse("2020-07-08T00:00:00Z").unwrap())
                .limit(0);
            let r = c.start_log_export(&req).await?;
            assert!(r.job_id.is_some());
        }
        Operation::GetLogExport => {
            c.log_export(&job).await?;
        }
        Operation::CancelLogExport => {
            c.cancel_log_export(&job).await?;
        }
        _ => unreachable!("an operation the suite does not know"),
    }
    Ok(())
}

fn expected_kind(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Unauthorized,
        404 => ErrorKind::NotFound,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::InvalidRequest,
    }
}

#[test]
fn prism_validates_every_request() {
    let Some((doc_path, doc)) = document() else {
        return;
    };
    let Some(bin) = prism_binary() else { return };
    let prism = Prism::start(&bin, &doc_path);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ops = operations(&doc);
    assert_eq!(ops.len(), 14);
    let base = prism.url();
    let mut sent = 0;
    let mut defects: Vec<String> = Vec::new();

    rt.block_on(async {
        // 1. Every operation, for its success answer.
        let plain = client(&base, None);
        for (op, _) in &ops {
            let r = run(&plain, *op).await;
            sent += 1;
            match (op, r) {
                (Operation::CheckVirtualNumber, Err(e)) => {
                    // Defect 1: Prism refuses every real number (asserted on its log below).
                    assert_eq!(e.status(), Some(422), "{e}");
                }
                (_, r) => r.unwrap_or_else(|e| panic!("{}: {e}", op.operation_id())),
            }
        }

        // 2. Every documented error status, through the client's error mapping.
        for (op, json) in &ops {
            if *op == Operation::CheckVirtualNumber {
                continue; // Defect 1: Prism answers 422 whatever is asked.
            }
            for (status, resp) in json["responses"].as_object().unwrap() {
                let status: u16 = status.parse().unwrap();
                if status == op.success_status() {
                    continue;
                }
                let c = client(&base, Some(&format!("code={status}")));
                let err = run(&c, *op).await.expect_err("an error status");
                sent += 1;
                let content = resp.pointer("/content/application~1json");
                let example = content.and_then(|c| {
                    c.get("example")
                        .or_else(|| c.pointer("/examples/response/value"))
                        .cloned()
                });
                if err.status() == Some(500) && status != 500 {
                    // Defect 3: Prism could not produce a conforming answer.
                    assert!(example.is_none(), "{}: {err}", op.operation_id());
                    defects.push(format!("{} {status}: Prism answered 500 (schema example invalid)", op.operation_id()));
                    continue;
                }
                assert_eq!(err.status(), Some(status), "{}: {err}", op.operation_id());
                assert_eq!(err.kind(), expected_kind(status), "{}: {err}", op.operation_id());
                if let Some(ex) = example {
                    let code = ex.get("statusCode").or(ex.get("code")).and_then(Value::as_i64);
                    assert_eq!(err.code(), code, "{} {status}: {err}", op.operation_id());
                }
                assert!(!err.to_string().contains("prism-test-key"));
            }
        }

        // 3. Defect 2: a correct sayAndCapture fails the document's schema…
        let capture = br#"{"callflow":[{"action":"makeCall","params":{"source":"+6588000000","destination":"+6590000000"}},{"action":"sayAndCapture","params":{"promptMessage":"Press 1 for Sales, Press 2 for Support","voiceProfile":"en-US-Neural2-C","minDigits":1,"maxDigits":1,"digitTimeout":5000,"overallTimeout":5000,"completeOnHash":false}}]}"#;
        let err = plain.send_callflow_json(capture).await.unwrap_err();
        assert_eq!(err.status(), Some(422), "{err}");
        sent += 1;
        // …and passes with the two keys also beside `action`, which proves why.
        let mut patched: Value = serde_json::from_slice(capture).unwrap();
        let entry = &mut patched["callflow"][1];
        entry["promptMessage"] = entry["params"]["promptMessage"].clone();
        entry["voiceProfile"] = entry["params"]["voiceProfile"].clone();
        let raw = reqwest::Client::new()
            .post(format!("{base}/api/v1/subaccounts/acme_voice/callflows"))
            .bearer_auth("prism-test-key")
            .json(&patched)
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 200);
        sent += 1;
    });

    // Prism's verdict on every request, from its log (once it has logged them all).
    let blocks = prism.logged_requests(sent);
    assert_eq!(blocks.len(), sent, "one log block per request");
    let mut passed = 0;
    let mut failures = Vec::new();
    for (i, (what, lines)) in blocks.iter().enumerate() {
        let v = violations(lines);
        let is_number_check = what.starts_with("get /api/v1/subaccounts/acme_voice/numbers/");
        let is_capture_demo = i == sent - 2;
        if v.is_empty() {
            passed += 1;
        } else if is_number_check {
            assert_eq!(
                v,
                ["Request path parameter number must be <= 10"],
                "defect 1 changed"
            );
            defects.push("check-virtual-number: the `number` parameter's maximum 10".into());
        } else if is_capture_demo {
            assert!(
                v.iter().all(|m| m.contains("callflow.1")
                    || m.contains("Request body must match a schema in anyOf")),
                "defect 2 changed: {v:?}"
            );
            defects.push("Send-Callflow: sayAndCapture's `required` on the action object".into());
        } else {
            failures.push(format!("#{i} {what}: {v:?}"));
        }
    }
    eprintln!(
        "prism: {} requests, {passed} passed Prism's validation; document defects: {defects:#?}",
        blocks.len()
    );
    assert!(
        failures.is_empty(),
        "Prism found request violations:\n{}",
        failures.join("\n")
    );
    assert_eq!(passed, sent - 2, "all but the two document defects pass");
}
