//! The `api` types used from another crate the way a server of 8x8's API (the emulator) uses
//! them: strict requests in, answers built and serialized out.

use callflow_client::api::{
    ApiErrorBody, ApiStatus, CreateWebhook, LogExportRequest, Open, Operation, SendCallflow,
    SendCallflowResponse, SessionStatus, WebhookInfo, WebhookList, WebhookType,
};

#[test]
fn requests_are_parsed_strictly_with_8x8_codes() {
    // A Send Callflow body with two broken rules: every violation, with 8x8's codes and paths.
    let body = br#"{"callflow":[{"action":"say","params":{"text":"hi","voiceProfile":"en-GB-Emma"}},{"action":"hangup"},{"action":"dance"}]}"#;
    let err = SendCallflow::from_json(body).unwrap_err();
    let codes: Vec<(i32, &str)> = err
        .violations()
        .unwrap()
        .violations()
        .iter()
        .map(|v| (v.code.as_i32(), v.path.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            (-1013, "$.callflow[0].action"),
            (-1012, "$.callflow[1].action"),
            (-1007, "$.callflow[2].action"),
        ]
    );
    // The other requests refuse unknown fields and values.
    assert!(
        serde_json::from_str::<CreateWebhook>(
            r#"{"type":"VCA","url":"https://x.example","active":true}"#
        )
        .is_err()
    );
    assert!(serde_json::from_str::<LogExportRequest>(r#"{"limit":-1}"#).is_err());
    let ok: CreateWebhook =
        serde_json::from_str(r#"{"type":"VSS","url":"https://x.example/vss"}"#).unwrap();
    assert_eq!(ok.webhook_type(), WebhookType::Vss);
}

#[test]
fn answers_are_built_and_serialized_as_8x8_writes_them() {
    let mut hook = WebhookInfo::default();
    hook.webhook_type = Some(Open::Known(WebhookType::Vca));
    hook.url = Some("https://sample.com/test".into());
    hook.enabled = Some(true);
    hook.http_auth_header_available = Some(true);
    let mut list = WebhookList::default();
    list.sub_account_id = Some("XXXX".into());
    list.count = Some(1);
    list.webhooks.push(hook);
    list.status = ApiStatus::new(0, "ok");
    assert_eq!(
        serde_json::to_string(&list).unwrap(),
        r#"{"subAccountId":"XXXX","count":1,"webhooks":[{"type":"VCA","url":"https://sample.com/test","enabled":true,"httpAuthHeaderAvailable":true}],"statusCode":0,"statusMessage":"ok"}"#
    );

    let mut created = SendCallflowResponse::default();
    created.session_id = Some("03cc8cac-376b-11ef-a28b-0582ff0039d5".into());
    created.session_status = Some(SessionStatus::Created.into());
    created.call_flow_request_id = Some("03cc3e8b-376b-11ef-a28b-4dd5d900ecb3".into());
    created.status = ApiStatus::new(1, "Created");
    assert!(created.is_created());
    let back: SendCallflowResponse =
        serde_json::from_str(&serde_json::to_string(&created).unwrap()).unwrap();
    assert_eq!(back, created);

    let mut refused = ApiErrorBody::default();
    refused.session_status = Some(SessionStatus::NotCreated.into());
    refused.status = ApiStatus::new(
        -1013,
        "Invalid Callflow : First action should be a MakeCall action",
    );
    let json = serde_json::to_value(&refused).unwrap();
    assert_eq!(json["sessionStatus"], "NOT_CREATED");
    assert_eq!(json["statusCode"], -1013);

    // The routes a server mounts.
    let routes: Vec<String> = Operation::ALL
        .iter()
        .map(|o| format!("{} {}", o.method().as_str(), o.path_template()))
        .collect();
    assert!(
        routes.contains(
            &"DELETE /api/v1/subaccounts/{subAccountId}/webhooks/{webhook-type}".to_owned()
        )
    );
}
