//! The emulator's own endpoints: place an inbound call, script callees, list sessions, read
//! one.
//!
//! - `POST /emulator/v1/calls` with `{"from": CALLER, "to": VIRTUAL_NUMBER}` and optionally
//!   `"digits": "1"` or `["1", …]` (pressed at each `sayAndCapture`), `"callee": {"outcome":
//!   "busy", "ring_seconds": 3, "talk_seconds": 20, "error_code": -2004}` (as in a scenario
//!   file: every B leg of this session without a script of its own), and `"faults":
//!   {"duplicate": true, "reorder": true, "slow_after_ms": 500, "payload_style":
//!   "current|legacy|string"}` → `201 {"sessionId": …}`.
//! - `POST /emulator/v1/callees` with `{"number": N, "outcome": …, "ring_seconds": …,
//!   "talk_seconds": …, "error_code": …, "digits": …, "faults": {…}}` → `201`: queued for
//!   `N`, consumed by the next ring of `N` (Send Callflow's `callA` or any `makeCall`);
//!   without `number` it is the default for every number without a script. Digits and
//!   faults apply when the script answers a Send Callflow session's `callA` (the party that
//!   hears the prompts). `DELETE /emulator/v1/callees` → `204`, forgets them all.
//! - `GET /emulator/v1/sessions` → `{"sessions": [{sessionId, subAccountId, direction, from,
//!   to, state, sessionStatus}]}`.
//! - `GET /emulator/v1/sessions/{id}` → the same fields and, once it ended, the session's
//!   outcome, exchanges, checks and transcript.
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
use super::script::{CalleeBody, Digits, FaultsBody, is_phone_number};
use super::state::{SessionEntry, Shared};
use super::voice_api::json;
use crate::mask_text;
use crate::scenario::Callee;

type St = State<Arc<Shared>>;

pub(super) fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/emulator/v1/calls", post(place_call))
        .route(
            "/emulator/v1/callees",
            post(add_callee).delete(clear_callees),
        )
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
#[serde(deny_unknown_fields)]
struct PlaceCall {
    from: String,
    to: String,
    #[serde(default)]
    digits: Digits,
    #[serde(default)]
    callee: Option<Callee>,
    #[serde(default)]
    faults: FaultsBody,
}

async fn place_call(State(shared): St, body: Bytes) -> Response {
    let call: PlaceCall = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &mask_text(&e.to_string())),
    };
    if !is_phone_number(&call.from) {
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
    let (digits, faults) = match (call.digits.parse(), call.faults.parse()) {
        (Ok(d), Ok(f)) => (d, f),
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let script = SessionScript {
        digits,
        use_default: call.callee.is_none(),
        callee: call
            .callee
            .or_else(|| shared.callees(|c| c.default_script()).map(|p| p.callee))
            .unwrap_or_default(),
        faults,
    };
    let sub = shared.config.sub_account.clone();
    let id = start_session(&shared, &sub, &call.from, &call.to, script, None);
    json(StatusCode::CREATED, &json!({ "sessionId": id }))
}

async fn add_callee(State(shared): St, body: Bytes) -> Response {
    let body: CalleeBody = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &mask_text(&e.to_string())),
    };
    let number = body.number.clone();
    if let Some(n) = &number
        && !is_phone_number(n)
    {
        return error(StatusCode::BAD_REQUEST, "`number` must be a phone number");
    }
    let script = match body.parse() {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let queued = shared.callees(|c| c.add(number.as_deref(), script));
    let answer = match &number {
        Some(n) => json!({ "number": shown(&shared, n), "queued": queued }),
        None => json!({ "default": true }),
    };
    json(StatusCode::CREATED, &answer)
}

async fn clear_callees(State(shared): St) -> Response {
    shared.callees(|c| c.clear());
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(axum::body::Body::empty())
        .expect("a static response builds")
}

fn shown(shared: &Shared, n: &str) -> String {
    if shared.config.reveal {
        n.to_owned()
    } else {
        mask_text(n)
    }
}

fn summary(shared: &Shared, s: &SessionEntry) -> Value {
    let shown = |n: &str| shown(shared, n);
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
        for key in ["outcome", "exchanges", "checks", "transcript"] {
            v[key] = detail[key].clone();
        }
    }
    json(StatusCode::OK, &v)
}
