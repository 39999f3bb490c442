//! 8x8's Voice API: the 14 operations of `voice_v1_api.json`, answered with the types of
//! `callflow_client::api`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use callflow::Timestamp;
use callflow::callflow::Action;
use callflow_client::api::{
    ApiErrorBody, ApiStatus, CreateWebhook, DeletedWebhook, InvalidParamBody, JobStatus,
    LogExportJob, LogExportRequest, LogExportStatus, NumberPayload, Open, OperationalStatus,
    Recording, RecordingPushConfig, RecordingPushConfigRequest, Recordings, SendCallflow,
    SendCallflowResponse, SessionStatus, SpeechProfile, SpeechProfiles, SubAccountId,
    VirtualNumberCheck, VirtualNumberInfo, VirtualNumbers, WebhookInfo, WebhookList, WebhookType,
};
use serde::Serialize;

use super::platform::{SessionScript, start_session};
use super::state::{ExportJob, Shared};
use crate::events::country_of;

type St = State<Arc<Shared>>;

const BASE: &str = "/api/v1/subaccounts/{sub}";

/// The Voice API's routes, behind the API key check.
pub(super) fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    let at = |tail: &str| format!("{BASE}{tail}");
    Router::new()
        .route(&at("/callflows"), post(send_callflow))
        .route(&at("/speech-profiles"), get(speech_profiles))
        .route(&at("/webhooks"), get(list_webhooks).post(create_webhook))
        .route(&at("/webhooks/{webhook_type}"), delete(delete_webhook))
        .route(
            &at("/recording-push-config"),
            get(get_push_config)
                .post(create_push_config)
                .delete(delete_push_config),
        )
        .route(&at("/recordings/{session_id}"), get(recording_status))
        .route(&at("/numbers"), get(list_numbers))
        .route(&at("/numbers/{number}"), get(check_number))
        .route(&at("/messages/exports"), post(start_export))
        .route(
            &at("/messages/exports/{job_id}"),
            get(get_export).delete(cancel_export),
        )
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(shared),
            require_key,
        ))
}

/// A JSON answer.
pub(super) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).expect("answers serialize");
    let mut r = (status, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn now_text() -> String {
    Timestamp::from_unix_millis(unix_millis())
        .as_str()
        .to_owned()
}

fn status_body(code: i64, message: &str) -> ApiErrorBody {
    let mut b = ApiErrorBody::default();
    b.status = ApiStatus::new(code, message);
    b
}

/// Send Callflow's refusal shape: `sessionStatus`, `callFlowRequestId`, `statusCode`,
/// `statusMessage`.
fn callflow_refusal(http: StatusCode, code: i64, message: &str) -> Response {
    let mut b = status_body(code, message);
    b.session_status = Some(Open::Known(SessionStatus::NotCreated));
    b.call_flow_request_id = Some(callflow::event::builder::fresh_id());
    json(http, &b)
}

fn invalid_param(code: i64, message: &str) -> Response {
    let body = InvalidParamBody::new(
        callflow::event::builder::fresh_id(),
        code,
        message,
        now_text(),
    );
    json(StatusCode::UNPROCESSABLE_ENTITY, &body)
}

fn not_found(message: &str) -> Response {
    json(StatusCode::NOT_FOUND, &status_body(404, message))
}

/// The API key check: `Authorization: Bearer KEY` with a configured key (any key when none
/// is configured). Refused as 8x8 does: 401, in Send Callflow's shape on its path.
async fn require_key(State(shared): St, request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if shared.authorized(header) {
        return next.run(request).await;
    }
    const MESSAGE: &str = "Authentication header not found or token invalid";
    if request.uri().path().ends_with("/callflows") {
        callflow_refusal(StatusCode::UNAUTHORIZED, 401, MESSAGE)
    } else {
        json(
            StatusCode::UNAUTHORIZED,
            &status_body(401, "API key not found or invalid"),
        )
    }
}

/// The sub-account of the path: any id of the document's pattern exists (the emulator keeps
/// a fresh state for each), anything else is not found.
fn sub_account(sub: &str) -> Option<String> {
    SubAccountId::new(sub).ok().map(|s| s.as_str().to_owned())
}

/// 8x8's HTTP status for a Send Callflow validation code: 400 for a body that is not a
/// callflow at all (-1001 not JSON, -1007 unknown action, -1009 invalid entry), 422 for a
/// callflow that breaks a rule (the document's two examples: -1007 is 400, -1013 is 422).
fn callflow_http_status(code: i64) -> StatusCode {
    match code {
        -1001 | -1007 | -1009 => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn send_callflow(State(shared): St, Path(sub): Path<String>, body: Bytes) -> Response {
    let Some(sub) = sub_account(&sub) else {
        return callflow_refusal(
            StatusCode::NOT_FOUND,
            404,
            &format!("SubAccount not found by Id : {sub}"),
        );
    };
    let request = match SendCallflow::from_json(&body) {
        Ok(r) => r,
        Err(e) => {
            let code = e.code().unwrap_or(-1009);
            return callflow_refusal(callflow_http_status(code), code, &e.to_string());
        }
    };
    if let Err(e) = request.check_not_expired(SystemTime::now()) {
        return callflow_refusal(StatusCode::UNPROCESSABLE_ENTITY, -1015, &e.to_string());
    }
    let flow = request.callflow();
    let Some(Action::MakeCall(first)) = flow.actions().first() else {
        return callflow_refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            -1013,
            "Invalid Callflow : First action should be a MakeCall action",
        );
    };
    let numbers = &shared.config.virtual_numbers;
    if !numbers.is_empty() && !numbers.iter().any(|vn| vn.same_as(first.source.as_str())) {
        return callflow_refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            -1014,
            "Source / caller ID not allowed: use one of the sub-account's virtual numbers",
        );
    }
    let session_id = start_session(
        &shared,
        &sub,
        first.source.as_str(),
        first.destination.as_str(),
        SessionScript::outbound(&shared, first.destination.as_str()),
        Some(flow.clone()),
    );
    let mut answer = SendCallflowResponse::default();
    answer.session_id = Some(session_id);
    answer.session_status = Some(Open::Known(SessionStatus::Created));
    answer.call_flow_request_id = Some(callflow::event::builder::fresh_id());
    answer.valid_until = request.valid_until_time().map(|t| t.as_str().to_owned());
    answer.status = ApiStatus::new(1, "Created");
    json(StatusCode::OK, &answer)
}

/// The speech profiles the emulator offers (a few of 8x8's).
const PROFILES: &[(&str, &str, &str, &str)] = &[
    ("en-US-Standard-A", "en-US", "EnglishUS", "M"),
    ("en-US-Standard-C", "en-US", "EnglishUS", "F"),
    ("en-GB-Emma", "en-GB", "EnglishUK", "F"),
    ("en-SG-Standard-A", "en-SG", "EnglishSingapore", "F"),
];

async fn speech_profiles(Path(sub): Path<String>) -> Response {
    if sub_account(&sub).is_none() {
        return not_found("sub-account not found");
    }
    let mut answer = SpeechProfiles::default();
    answer.speech_profiles = PROFILES
        .iter()
        .map(|(code, locale, description, gender)| {
            let mut p = SpeechProfile::default();
            p.speech_profile_code = Some((*code).to_owned());
            p.locale_code = Some((*locale).to_owned());
            p.locale_description = Some((*description).to_owned());
            p.gender = Some((*gender).to_owned());
            p
        })
        .collect();
    answer.status = ApiStatus::new(0, "ok");
    json(StatusCode::OK, &answer)
}

fn webhook_info(hook: &CreateWebhook) -> WebhookInfo {
    let mut w = WebhookInfo::default();
    w.webhook_type = Some(Open::Known(hook.webhook_type()));
    w.url = Some(hook.url().to_owned());
    w.enabled = Some(hook.is_enabled().unwrap_or(true));
    w.http_auth_header_available = Some(hook.auth_header().is_some());
    w
}

fn webhook_list(shared: &Shared, sub: &str) -> WebhookList {
    let mut list = WebhookList::default();
    list.sub_account_id = Some(sub.to_owned());
    list.webhooks = shared.account(sub, |a| a.webhooks.values().map(webhook_info).collect());
    list.count = Some(list.webhooks.len() as i64);
    list.status = ApiStatus::new(0, "ok");
    list
}

async fn list_webhooks(State(shared): St, Path(sub): Path<String>) -> Response {
    let Some(sub) = sub_account(&sub) else {
        return not_found("sub-account not found");
    };
    json(StatusCode::OK, &webhook_list(&shared, &sub))
}

/// 8x8's code for a body that is not JSON (`1001 Invalid JSON request body`), else for an
/// invalid parameter (the document names only 1001; the emulator uses 1002).
fn body_error(e: &serde_json::Error) -> Response {
    if e.is_syntax() || e.is_eof() {
        invalid_param(1001, "Invalid JSON request body")
    } else {
        invalid_param(1002, &format!("Invalid param: {e}"))
    }
}

async fn create_webhook(State(shared): St, Path(sub): Path<String>, body: Bytes) -> Response {
    let Some(sub) = sub_account(&sub) else {
        return not_found("sub-account not found");
    };
    let hook: CreateWebhook = match serde_json::from_slice(&body) {
        Ok(h) => h,
        Err(e) => return body_error(&e),
    };
    shared.account(&sub, |a| a.webhooks.insert(hook.webhook_type(), hook));
    json(StatusCode::OK, &webhook_list(&shared, &sub))
}

async fn delete_webhook(
    State(shared): St,
    Path((sub, webhook_type)): Path<(String, String)>,
) -> Response {
    let Some(sub) = sub_account(&sub) else {
        return not_found("sub-account not found");
    };
    let Some(t) = webhook_type
        .parse::<WebhookType>()
        .ok()
        .filter(|t| t.deletable())
    else {
        return not_found("webhook type not found");
    };
    match shared.account(&sub, |a| a.webhooks.remove(&t)) {
        Some(hook) => {
            let mut d = DeletedWebhook::default();
            d.sub_account_id = Some(sub);
            d.webhook = webhook_info(&hook);
            d.status = ApiStatus::new(0, "deleted");
            json(StatusCode::OK, &d)
        }
        None => not_found("no webhook of this type is registered"),
    }
}

fn push_config(sub: &str, req: &RecordingPushConfigRequest, deleted: bool) -> RecordingPushConfig {
    let mut c = RecordingPushConfig::default();
    c.delete = Some(deleted);
    c.sub_account_id = Some(sub.to_owned());
    c.protocol = Some(Open::Known(req.protocol()));
    c.host = Some(req.host().to_owned());
    c.port = req.port_number().map(i64::from);
    c.username = Some(req.username().to_owned());
    c.password_set = Some(true);
    c.path = req.remote_path().map(str::to_owned);
    c.status = ApiStatus::new(0, "ok");
    c
}

async fn get_push_config(State(shared): St, Path(sub): Path<String>) -> Response {
    let Some(sub) = sub_account(&sub) else {
        return not_found("sub-account not found");
    };
    match shared.account(&sub, |a| a.push.clone()) {
        Some(req) => {
            let mut c = push_config(&sub, &req, false);
            c.delete = None;
            json(StatusCode::OK, &c)
        }
        None => not_found("no recording push config"),
    }
}

async fn create_push_config(State(shared): St, Path(sub): Path<String>, body: Bytes) -> Response {
    let Some(sub) = sub_account(&sub) else {
        return not_found("sub-account not found");
    };
    let req: RecordingPushConfigRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return body_error(&e),
    };
    let answer = push_config(&sub, &req, false);
    shared.account(&sub, |a| a.push = Some(req));
    json(StatusCode::OK, &answer)
}

async fn delete_push_config(State(shared): St, Path(sub): Path<String>) -> Response {
    let Some(sub) = sub_account(&sub) else {
        return not_found("sub-account not found");
    };
    match shared.account(&sub, |a| a.push.take()) {
        Some(req) => json(StatusCode::OK, &push_config(&sub, &req, true)),
        None => not_found("no recording push config"),
    }
}

async fn recording_status(
    State(shared): St,
    Path((sub, session_id)): Path<(String, String)>,
) -> Response {
    let Some(sub) = sub_account(&sub) else {
        return not_found("sub-account not found");
    };
    let recording = shared
        .session(&session_id)
        .filter(|s| s.sub_account == sub)
        .and_then(|s| {
            let report = s.report?;
            let rec = report.outcome.recording?;
            let started = s.started + std::time::Duration::from_millis(rec.started_at_ms);
            let started_ms = started
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            let mut r = Recording::default();
            r.recording_id = Some(rec.recording_id);
            r.session_id = Some(s.id);
            r.sub_account_id = Some(sub.clone());
            r.status = Some("completed".to_owned());
            r.external_file_url = Some(rec.file_path);
            r.duration = Some(rec.duration_seconds as i64);
            r.start_recording_time =
                Some(Timestamp::from_unix_millis(started_ms).as_str().to_owned());
            Some(r)
        });
    match recording {
        Some(r) => {
            let mut answer = Recordings::default();
            answer.recordings = vec![r];
            answer.status = ApiStatus::new(0, "ok");
            json(StatusCode::OK, &answer)
        }
        None => not_found("no recording for this session"),
    }
}

fn number_info(shared: &Shared, i: usize) -> VirtualNumberInfo {
    let vn = &shared.config.virtual_numbers[i];
    let mut n = VirtualNumberInfo::default();
    n.msisdn = Some(vn.clone());
    n.date_created = Some(now_text());
    n.date_updated = Some(now_text());
    n.country_code = country_of(vn.as_str()).map(str::to_owned);
    n.operational_status = Some(Open::Known(OperationalStatus::Active));
    n.reference_id = Some(format!("vn-ref-{}", i + 1));
    n.number_health_check_enabled = Some(false);
    n.number_type = Some("Local".to_owned());
    n
}

/// The sub-account's numbers: all of them for the owner, none for any other.
fn numbers_of(shared: &Shared, sub: &str) -> Vec<usize> {
    if sub == shared.config.sub_account {
        (0..shared.config.virtual_numbers.len()).collect()
    } else {
        Vec::new()
    }
}

async fn list_numbers(State(shared): St, Path(sub): Path<String>) -> Response {
    let sub = sub_account(&sub).unwrap_or_default();
    let mut answer = VirtualNumbers::default();
    answer.numbers = numbers_of(&shared, &sub)
        .into_iter()
        .map(|i| number_info(&shared, i))
        .collect();
    answer.total_numbers = Some(answer.numbers.len() as i64);
    answer.last_updated_at = Some(now_text());
    answer.status = ApiStatus::new(0, "ok");
    json(StatusCode::OK, &answer)
}

async fn check_number(State(shared): St, Path((sub, number)): Path<(String, String)>) -> Response {
    let sub = sub_account(&sub).unwrap_or_default();
    let found = numbers_of(&shared, &sub)
        .into_iter()
        .find(|i| shared.config.virtual_numbers[*i].same_as(&number));
    let mut answer = VirtualNumberCheck::default();
    answer.timestamp = Some(now_text());
    match found {
        Some(i) => {
            let info = number_info(&shared, i);
            let mut p = NumberPayload::default();
            p.reference_id = info.reference_id;
            p.msisdn = info.msisdn;
            p.country_code = info.country_code;
            answer.payload = Some(p);
            answer.status = ApiStatus::new(0, "ok");
            json(StatusCode::OK, &answer)
        }
        None => {
            answer.status = ApiStatus::new(404, "Virtual number not found");
            json(StatusCode::NOT_FOUND, &answer)
        }
    }
}

/// Starts a log export. The document gives this operation one answer, 202, so a request the
/// emulator cannot read is accepted too and its job ends `failed`.
async fn start_export(State(shared): St, Path(sub): Path<String>, body: Bytes) -> Response {
    let sub = sub_account(&sub).unwrap_or_default();
    let readable = body.iter().all(u8::is_ascii_whitespace)
        || serde_json::from_slice::<LogExportRequest>(&body).is_ok();
    let job_id = format!(
        "job{}",
        callflow::event::builder::fresh_id().replace('-', "")
    );
    let status = if readable {
        JobStatus::Empty
    } else {
        JobStatus::Failed
    };
    shared.account(&sub, |a| {
        a.exports.insert(job_id.clone(), ExportJob { status })
    });
    let mut answer = LogExportJob::default();
    answer.job_id = Some(job_id);
    json(StatusCode::ACCEPTED, &answer)
}

fn no_such_job() -> Response {
    let mut b = ApiErrorBody::default();
    b.code = Some(4018);
    b.message = Some("Invalid jobId".to_owned());
    b.error_id = Some(callflow::event::builder::fresh_id());
    b.timestamp = Some(serde_json::Value::String(now_text()));
    json(StatusCode::NOT_FOUND, &b)
}

async fn get_export(State(shared): St, Path((sub, job_id)): Path<(String, String)>) -> Response {
    let sub = sub_account(&sub).unwrap_or_default();
    match shared.account(&sub, |a| a.exports.get(&job_id).cloned()) {
        Some(job) => {
            let mut answer = LogExportStatus::default();
            answer.status = Some(Open::Known(job.status));
            json(StatusCode::OK, &answer)
        }
        None => no_such_job(),
    }
}

async fn cancel_export(State(shared): St, Path((sub, job_id)): Path<(String, String)>) -> Response {
    let sub = sub_account(&sub).unwrap_or_default();
    let found = shared.account(&sub, |a| match a.exports.get_mut(&job_id) {
        Some(job) => {
            job.status = JobStatus::Cancelled;
            true
        }
        None => false,
    });
    if found {
        StatusCode::NO_CONTENT.into_response()
    } else {
        no_such_job()
    }
}
