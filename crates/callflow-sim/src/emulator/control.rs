//! The emulator's own endpoints: place an inbound call, list sessions, read one.
//!
//! - `POST /emulator/v1/calls` with `{"from": CALLER, "to": VIRTUAL_NUMBER}` and optionally
//!   `"digits": ["1", …]` (pressed at each `sayAndCapture`), `"callee": {"outcome": "busy",
//!   "ring_seconds": 3, "talk_seconds": 20, "error_code": -2004}` (as in a scenario file),
//!   `"duplicate": true`, `"reorder": true`, `"payloadStyle": "legacy"` → `201
//!   {"sessionId": …}`.
//! - `GET /emulator/v1/sessions` → `{"sessions": [{sessionId, subAccountId, direction, from,
//!   to, state, sessionStatus}]}`.
//! - `GET /emulator/v1/sessions/{id}` → the same fields and, once it ended, the session's
//!   outcome, exchanges and transcript.
//!
//! Numbers are masked unless the emulator runs with `reveal`. The same API key as the Voice
//! API is required.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::platform::{SessionScript, start_session};
use super::state::{SessionEntry, Shared};
use super::voice_api::json;
use crate::events::PayloadStyle;
use crate::mask_text;
use crate::scenario::Callee;

type St = State<Arc<Shared>>;

pub(super) fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/emulator/v1/calls", post(place_call))
        .route("/emulator/v1/sessions", get(list_sessions))
        .route("/emulator/v1/sessions/{id}", get(get_session))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(shared),
            require_key,
        ))
}

fn error(status: StatusCode, message: &str) -> Response {
    json(status, &json!({ "error": message }))
}

async fn require_key(State(shared): St, request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if shared.authorized(header) {
        next.run(request).await
    } else {
        error(StatusCode::UNAUTHORIZED, "API key not found or invalid")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PlaceCall {
    from: String,
    to: String,
    #[serde(default)]
    digits: Vec<String>,
    #[serde(default)]
    callee: Option<Callee>,
    #[serde(default)]
    duplicate: bool,
    #[serde(default)]
    reorder: bool,
    #[serde(default)]
    payload_style: Option<String>,
}

async fn place_call(State(shared): St, body: Bytes) -> Response {
    let call: PlaceCall = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &mask_text(&e.to_string())),
    };
    if callflow::PhoneNumber::new(call.from.as_str())
        .digits()
        .len()
        < 7
    {
        return error(StatusCode::BAD_REQUEST, "`from` must be a phone number");
    }
    if !shared
        .config
        .virtual_numbers
        .iter()
        .any(|vn| vn.same_as(&call.to))
    {
        return error(
            StatusCode::NOT_FOUND,
            "`to` is not one of the emulator's virtual numbers (--virtual-number)",
        );
    }
    if let Some(d) = call.digits.iter().find(|d| {
        !d.chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    }) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("digits: {d:?} is not DTMF (digits, * and # only)"),
        );
    }
    let payload_style = match call.payload_style.as_deref() {
        None | Some("current") => PayloadStyle::Current,
        Some("legacy") => PayloadStyle::Legacy,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("payloadStyle: {other:?} is not current or legacy"),
            );
        }
    };
    let script = SessionScript {
        digits: call.digits,
        callee: call.callee.unwrap_or_default(),
        duplicate: call.duplicate,
        reorder: call.reorder,
        payload_style,
    };
    let sub = shared.config.sub_account.clone();
    let id = start_session(&shared, &sub, &call.from, &call.to, script, None);
    json(StatusCode::CREATED, &json!({ "sessionId": id }))
}

fn summary(shared: &Shared, s: &SessionEntry) -> Value {
    let shown = |n: &str| {
        if shared.config.reveal {
            n.to_owned()
        } else {
            mask_text(n)
        }
    };
    json!({
        "sessionId": s.id,
        "subAccountId": s.sub_account,
        "direction": s.direction,
        "from": shown(&s.from),
        "to": shown(&s.to),
        "state": if s.report.is_some() { "ended" } else { "running" },
        "sessionStatus": s.report.as_ref().map(|r| r.outcome.session_status.as_str().to_owned()),
    })
}

async fn list_sessions(State(shared): St) -> Response {
    let sessions: Vec<Value> = shared
        .sessions()
        .iter()
        .map(|s| summary(&shared, s))
        .collect();
    json(StatusCode::OK, &json!({ "sessions": sessions }))
}

async fn get_session(State(shared): St, Path(id): Path<String>) -> Response {
    let Some(s) = shared.session(&id) else {
        return error(StatusCode::NOT_FOUND, "no such session");
    };
    let mut v = summary(&shared, &s);
    if let Some(r) = &s.report {
        let detail = crate::report::report_json(r, shared.config.reveal);
        for key in ["outcome", "exchanges", "transcript"] {
            v[key] = detail[key].clone();
        }
    }
    json(StatusCode::OK, &v)
}
