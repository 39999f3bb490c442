//! Rows 1-5, 8 and 11-14: what the body says (malformed or odd JSON, wrong types, missing
//! and unknown fields, an empty body, bad UTF-8, deep nesting, odd numbers, duplicate keys).

use std::time::{Duration, Instant};

use bytes::Bytes;
use callflow::testing::conformance;
use callflow::testing::{self, fixtures};
use http::StatusCode;

use super::Outcome;
use super::support::{ack, answered, exchange, exchanges, post, refused};
use crate::{Framework, Guards, serve_guarded};

/// #1: a truncated body, a trailing comma and 8x8's own doc sample with a `//` comment.
pub(super) async fn malformed_json_is_400_with_the_core_error(framework: Framework) -> Outcome {
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
pub(super) async fn documented_type_variants_are_accepted_and_wrong_types_are_400(
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
pub(super) async fn missing_required_field_is_400_naming_its_path(framework: Framework) -> Outcome {
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
pub(super) async fn unknown_event_type_and_call_status_are_acknowledged(
    framework: Framework,
) -> Outcome {
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
pub(super) async fn unknown_fields_are_ignored(framework: Framework) -> Outcome {
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

/// #8: an empty body, and whitespace only.
pub(super) async fn empty_body_is_400(framework: Framework) -> Outcome {
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

/// #11: a byte that is not UTF-8 inside a JSON string.
pub(super) async fn invalid_utf8_in_a_string_is_400(framework: Framework) -> Outcome {
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
pub(super) async fn deeply_nested_json_is_400_quickly(framework: Framework) -> Outcome {
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
pub(super) async fn huge_and_odd_numbers_are_400_never_a_crash(framework: Framework) -> Outcome {
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
pub(super) async fn duplicate_json_keys_have_a_pinned_answer(framework: Framework) -> Outcome {
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
