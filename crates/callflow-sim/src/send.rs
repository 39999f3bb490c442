//! `send`: post one realistic event and show the reply.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use callflow::CallFlow;
use callflow::callflow::{Mode, Violation};
use callflow::event::builder::{CALLEE, CALLER, VIRTUAL_NUMBER, fresh_id};
use callflow::event::{CallDirection, CallStatus, LastAction, LegStatus, SessionStatus};

use crate::events::{CallEvent, LegView, PayloadStyle, SessionView, SummaryEvent, SummaryLeg};
use crate::http::{Target, UrlError, post_json};
use crate::{mask_json, mask_text};

/// Which event to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `CALL_ACTION` (`CALL_RECEIVED`, or `ACTION_COMPLETED` with digits).
    CallAction,
    /// `CALL_STATUS` (`CALL_CONNECTED` unless told otherwise).
    CallStatus,
    /// `SESSION_SUMMARY` (`COMPLETED` unless told otherwise).
    SessionSummary,
}

/// What to send, and where.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SendOptions {
    /// The webhook URL (`http://` or `https://`).
    pub url: String,
    /// Sent verbatim as the `Authorization` header.
    pub auth_header: Option<String>,
    /// The event type.
    pub event: EventKind,
    /// The caller (default `+6591110001`).
    pub from: Option<String>,
    /// The number called (default the virtual number `+6568880000`).
    pub to: Option<String>,
    /// Digits: makes a `CALL_ACTION` the result of a `sayAndCapture`.
    pub dtmf: Option<String>,
    /// The echoed `clientActionId` of a `CALL_ACTION`.
    pub client_action_id: Option<String>,
    /// `callStatus` of a `CALL_STATUS`, or `sessionStatus` of a `SESSION_SUMMARY`.
    pub status: Option<String>,
    /// Where digits go.
    pub payload_style: PayloadStyle,
    /// How long to wait for the reply.
    pub timeout: Duration,
}

impl SendOptions {
    /// A `CALL_ACTION` (`CALL_RECEIVED`) from the default caller to the default virtual number.
    pub fn new(url: impl Into<String>, event: EventKind) -> Self {
        Self {
            url: url.into(),
            auth_header: None,
            event,
            from: None,
            to: None,
            dtmf: None,
            client_action_id: None,
            status: None,
            payload_style: PayloadStyle::Current,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What came back.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SendResult {
    /// `CALL_ACTION`, `CALL_STATUS` or `SESSION_SUMMARY`.
    pub event_type: &'static str,
    /// The body that was posted.
    pub request: Bytes,
    /// The reply's HTTP status, if there was a reply.
    pub http_status: Option<u16>,
    /// The reply body.
    pub body: Bytes,
    /// Why there was no reply.
    pub error: Option<String>,
    /// How long the reply took.
    pub response_time: Duration,
    /// For a `CALL_ACTION`: the callflow's violations (empty when valid).
    pub violations: Vec<Violation>,
}

impl SendResult {
    /// Whether the webhook answered 2xx and, for a `CALL_ACTION`, with a valid callflow.
    pub fn ok(&self) -> bool {
        self.error.is_none()
            && self.http_status.is_some_and(|s| (200..300).contains(&s))
            && self.violations.is_empty()
    }

    /// A readable account: the request line, the status and response time, the reply as
    /// pretty JSON (numbers masked unless `show_numbers`), and the validation result.
    pub fn render(&self, url: &str, show_numbers: bool) -> String {
        let mut out = String::new();
        let req: serde_json::Value =
            serde_json::from_slice(&self.request).unwrap_or(serde_json::Value::Null);
        let p = &req["payload"];
        let status = p["callStatus"]
            .as_str()
            .or_else(|| p["sessionStatus"].as_str())
            .unwrap_or("");
        let _ = writeln!(out, "POST {url}");
        let _ = write!(out, "event: {} {status}", self.event_type);
        if let (Some(s), Some(d)) = (p["source"].as_str(), p["destination"].as_str()) {
            let _ = write!(out, " {} -> {}", mask_text(s), mask_text(d));
        }
        if let Some(id) = p["eventId"].as_str() {
            let _ = write!(out, " (eventId {id})");
        }
        out.push('\n');
        let took = crate::report::fmt_duration(self.response_time);
        match (self.http_status, &self.error) {
            (Some(s), _) => {
                let reason = http::StatusCode::from_u16(s)
                    .ok()
                    .and_then(|c| c.canonical_reason())
                    .unwrap_or("");
                let _ = writeln!(out, "reply: HTTP {s} {reason} in {took}");
            }
            (None, Some(e)) => {
                let _ = writeln!(out, "reply: none in {took}: {e}");
            }
            (None, None) => {}
        }
        if !self.body.is_empty() {
            match serde_json::from_slice::<serde_json::Value>(&self.body) {
                Ok(v) => {
                    let v = if show_numbers { v } else { mask_json(&v) };
                    let _ = writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&v).expect("JSON values serialize")
                    );
                }
                Err(_) => {
                    // Not JSON (an HTML error page): one line, cut to 200 characters.
                    let text = crate::engine::one_line(&String::from_utf8_lossy(&self.body), 200);
                    let text = if show_numbers { text } else { mask_text(&text) };
                    let _ = writeln!(out, "{text}");
                }
            }
        }
        if self.event_type == "CALL_ACTION" && self.http_status.is_some() {
            if self.violations.is_empty() && self.error.is_none() {
                out.push_str("validation: ok, a valid callflow (reply mode)\n");
            } else if self.violations.is_empty() {
                let _ = writeln!(
                    out,
                    "validation: FAILED: {}",
                    self.error.as_deref().unwrap_or("")
                );
            } else {
                out.push_str(
                    "validation: INVALID callflow (8x8 would end the session in ERROR, -2003)\n",
                );
                for v in &self.violations {
                    let _ = writeln!(out, "  {}: {} {}", v.path, v.code, v.message);
                }
            }
        } else if self.ok() {
            out.push_str("validation: ok, acknowledged\n");
        } else if let Some(e) = &self.error {
            let _ = writeln!(out, "validation: FAILED: {e}");
        }
        out
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Builds the event `opts` describes: `(eventType, body)`.
pub(crate) fn build_event(opts: &SendOptions) -> (&'static str, Vec<u8>) {
    let from = opts.from.as_deref().unwrap_or(CALLER);
    let to = opts.to.as_deref().unwrap_or(VIRTUAL_NUMBER);
    let session_id = fresh_id();
    let session = SessionView {
        session_id: &session_id,
        sub_account: "callflow_sim",
    };
    let a_id = fresh_id();
    let a = LegView {
        call_id: &a_id,
        direction: CallDirection::Inbound,
        source: from,
        destination: to,
        source_ref: None,
        destination_ref: Some("vn-ref-1"),
    };
    let now = now_millis();
    match opts.event {
        EventKind::CallAction | EventKind::CallStatus => {
            let action = opts.event == EventKind::CallAction;
            let status = match (&opts.status, action, &opts.dtmf) {
                (Some(s), _, _) => CallStatus::parse(s),
                (None, true, Some(_)) => CallStatus::ActionCompleted,
                (None, true, None) => CallStatus::CallReceived,
                (None, false, _) => CallStatus::CallConnected,
            };
            let capture = opts.dtmf.as_deref().map(Some);
            let (_, body) = CallEvent {
                action,
                session: &session,
                leg: &a,
                status,
                at_millis: now,
                duration_s: if capture.is_some() { 8 } else { 0 },
                sip: 200,
                capture,
                client_action_id: opts.client_action_id.as_deref(),
                style: opts.payload_style,
            }
            .build();
            (if action { "CALL_ACTION" } else { "CALL_STATUS" }, body)
        }
        EventKind::SessionSummary => {
            let status = opts
                .status
                .as_deref()
                .map_or(SessionStatus::Completed, SessionStatus::parse);
            let b_id = fresh_id();
            let b = LegView {
                call_id: &b_id,
                direction: CallDirection::Outbound,
                source: to,
                destination: CALLEE,
                source_ref: Some("vn-ref-1"),
                destination_ref: None,
            };
            let answered = status == SessionStatus::Completed;
            let start = now - 25_000;
            let b_status = match status {
                SessionStatus::Error => LegStatus::Error,
                ref s => LegStatus::parse(s.as_str()),
            };
            let a_status = if status == SessionStatus::Canceled {
                LegStatus::Canceled
            } else {
                LegStatus::Completed
            };
            let body = SummaryEvent {
                session: &session,
                status: status.clone(),
                start,
                end: now,
                last_action: Some(LastAction::MakeCall),
                error: (status == SessionStatus::Error).then(|| {
                    (
                        -2004,
                        crate::error_message(-2004).to_owned(),
                        Some(LastAction::MakeCall),
                    )
                }),
                legs: vec![
                    SummaryLeg {
                        key: "callA",
                        view: a,
                        initiated: start - 2_000,
                        connected: answered.then_some(start + 5_000),
                        disconnected: now,
                        status: a_status,
                        duration_s: if answered { 20 } else { 0 },
                    },
                    SummaryLeg {
                        key: "callB",
                        view: b,
                        initiated: start,
                        connected: answered.then_some(start + 5_000),
                        disconnected: now,
                        status: b_status,
                        duration_s: if answered { 20 } else { 0 },
                    },
                ],
            }
            .build();
            ("SESSION_SUMMARY", body)
        }
    }
}

/// Posts one event and reports the reply.
pub async fn send(opts: &SendOptions) -> Result<SendResult, UrlError> {
    let target = Target::parse(&opts.url)?;
    let (event_type, body) = build_event(opts);
    let request = Bytes::from(body);
    let (result, took) = post_json(
        &target,
        request.clone(),
        opts.auth_header.as_deref(),
        opts.timeout,
    )
    .await;
    let mut out = SendResult {
        event_type,
        request,
        http_status: None,
        body: Bytes::new(),
        error: None,
        response_time: took,
        violations: Vec::new(),
    };
    match result {
        Ok(reply) => {
            out.http_status = Some(reply.status.as_u16());
            if !reply.status.is_success() {
                out.error = Some(format!("HTTP {}", reply.status));
            } else if event_type == "CALL_ACTION"
                && let Err(v) = CallFlow::parse(&reply.body, Mode::Reply)
            {
                out.violations = v.into_vec();
            }
            out.body = reply.body;
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    Ok(out)
}
