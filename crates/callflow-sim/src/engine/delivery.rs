//! Delivery: building the events about a leg, posting them (twice with `--duplicate`,
//! held back with `--reorder`) and judging the `CALL_ACTION` replies.

use bytes::Bytes;
use callflow::CallFlow;
use callflow::callflow::{Mode, Violation};
use callflow::event::CallStatus;

use super::{Sim, short};
use crate::events::{CallEvent, PayloadStyle};
use crate::http::{HttpError, HttpReply, Target, post_json};
use crate::report::{Exchange, Line};

/// A body waiting to be delivered.
pub(super) struct Outgoing {
    pub(super) event_type: &'static str,
    pub(super) status: String,
    pub(super) leg: Option<String>,
    pub(super) event_id: Option<String>,
    pub(super) body: Bytes,
    pub(super) at_ms: u64,
    pub(super) label: String,
}

/// Why a `CALL_ACTION` reply cannot be used.
pub(super) struct ReplyFailure {
    pub(super) reason: String,
}

impl Sim<'_> {
    /// A `CALL_ACTION` or `CALL_STATUS` about leg `i`.
    pub(super) fn call_event(
        &self,
        action: bool,
        i: usize,
        status: CallStatus,
        capture: Option<Option<&str>>,
        client_action_id: Option<&str>,
    ) -> Outgoing {
        let leg = &self.legs[i];
        let session = self.session_view();
        let view = leg.view();
        let ev = CallEvent {
            action,
            session: &session,
            leg: &view,
            status,
            at_millis: self.start_ms + self.now as i64,
            duration_s: leg.duration_s(self.now),
            sip: leg.sip,
            capture,
            client_action_id,
            style: self.opt.payload_style,
        };
        let (event_id, body) = ev.build();
        let shown_status = match (&capture, self.opt.payload_style) {
            (Some(_), PayloadStyle::Legacy) => CallStatus::DtmfReceived,
            _ => ev.status.clone(),
        };
        let mut label = format!(
            "{} {} {}",
            if action { "CALL_ACTION" } else { "CALL_STATUS" },
            shown_status,
            leg.key
        );
        if action {
            label.push_str(&format!(" {} -> {}", leg.source, leg.destination));
            if let Some(d) = capture {
                label.push_str(&format!(" dtmf {}", d.unwrap_or("(none)")));
            }
            if let Some(id) = client_action_id {
                label.push_str(&format!(" clientActionId {id}"));
            }
        } else if shown_status == CallStatus::CallDisconnected {
            label.push_str(&format!(
                " ({} s, sip {})",
                leg.duration_s(self.now),
                leg.sip
            ));
        }
        Outgoing {
            event_type: if action { "CALL_ACTION" } else { "CALL_STATUS" },
            status: shown_status.as_str().to_owned(),
            leg: Some(leg.key.clone()),
            event_id: Some(event_id),
            body: Bytes::from(body),
            at_ms: self.now,
            label,
        }
    }

    /// Posts `ev` (twice with `--duplicate`) and records every delivery; returns the first
    /// delivery's result.
    pub(super) async fn deliver(
        &mut self,
        target: &Target,
        ev: &Outgoing,
    ) -> Vec<Result<HttpReply, HttpError>> {
        let times = if self.opt.duplicate { 2 } else { 1 };
        let mut results = Vec::with_capacity(times);
        for n in 0..times {
            let (result, took) = post_json(
                target,
                ev.body.clone(),
                self.opt.auth_header.as_deref(),
                self.opt.timeout,
            )
            .await;
            let duplicate = n > 0;
            let mut ex = Exchange {
                at_ms: ev.at_ms,
                event_type: ev.event_type,
                status: ev.status.clone(),
                leg: ev.leg.clone(),
                event_id: ev.event_id.clone(),
                duplicate,
                http_status: None,
                error: None,
                response_time: took,
                violations: Vec::new(),
            };
            let outcome = match &result {
                Ok(reply) => {
                    ex.http_status = Some(reply.status.as_u16());
                    if !reply.status.is_success() {
                        ex.error = Some(format!("HTTP {}", reply.status));
                    }
                    format!("{}", reply.status.as_u16())
                }
                Err(e) => {
                    ex.error = Some(e.to_string());
                    format!("no reply ({e})")
                }
            };
            let dup = match (duplicate, ev.event_id.is_some()) {
                (false, _) => "",
                (true, true) => " (duplicate delivery, same eventId)",
                (true, false) => " (duplicate delivery)",
            };
            let text = format!(
                "-> {}{dup}: {outcome} in {}",
                ev.label,
                crate::report::fmt_duration(took)
            );
            self.transcript.push(Line {
                at_ms: ev.at_ms,
                text: self.labels.apply(&text),
            });
            self.exchanges.push(ex);
            results.push(result);
        }
        results
    }

    /// Delivers a status event now, or holds it back with `--reorder`.
    pub(super) async fn status(&mut self, target: &Target, i: usize, status: CallStatus) {
        let ev = self.call_event(false, i, status, None, None);
        if self.opt.reorder {
            self.held_status.push(ev);
        } else {
            self.deliver(target, &ev).await;
        }
    }

    /// Judges a `CALL_ACTION` reply with the core's validator (reply mode).
    fn judge(
        result: &Result<HttpReply, HttpError>,
    ) -> (Result<CallFlow, ReplyFailure>, Vec<Violation>) {
        match result {
            Err(e) => (
                Err(ReplyFailure {
                    reason: format!("no reply: {e}"),
                }),
                Vec::new(),
            ),
            Ok(r) if !r.status.is_success() => (
                Err(ReplyFailure {
                    reason: format!(
                        "HTTP {} instead of 200 with a callflow (body: {})",
                        r.status,
                        short(&String::from_utf8_lossy(&r.body), 120)
                    ),
                }),
                Vec::new(),
            ),
            Ok(r) => match CallFlow::parse(&r.body, Mode::Reply) {
                Ok(flow) => (Ok(flow), Vec::new()),
                Err(v) => {
                    let list = v.into_vec();
                    let reason = format!(
                        "not a valid callflow: {}",
                        list.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    );
                    (Err(ReplyFailure { reason }), list)
                }
            },
        }
    }

    pub(super) async fn call_action(
        &mut self,
        target: &Target,
        ev: Outgoing,
    ) -> Result<CallFlow, ReplyFailure> {
        self.call_actions += 1;
        let results = self.deliver(target, &ev).await;
        let first_ex = self.exchanges.len() - results.len();
        let mut first: Option<Result<CallFlow, ReplyFailure>> = None;
        let mut first_body: Option<Bytes> = None;
        for (n, result) in results.iter().enumerate() {
            let (judged, violations) = Self::judge(result);
            let ex = &mut self.exchanges[first_ex + n];
            if let Err(f) = &judged
                && ex.error.is_none()
            {
                ex.error = Some(f.reason.clone());
            }
            ex.violations = violations;
            let body = result.as_ref().ok().map(|r| r.body.clone());
            if n == 0 {
                first = Some(judged);
                first_body = body;
            } else {
                if let Err(f) = &judged {
                    self.line(format!(
                        "   duplicate delivery's reply is unusable: {}",
                        f.reason
                    ));
                } else if body != first_body {
                    self.line("   note: the duplicate delivery got a different callflow (the first one is used)");
                }
            }
        }
        first.expect("at least one delivery")
    }
}
