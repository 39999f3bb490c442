//! The session state machine: follows the returned callflows, dials B legs, advances the
//! virtual clock and ends the session with its summary.

use bytes::Bytes;
use callflow::callflow::Action;
use callflow::event::{CallDirection, CallStatus, LastAction, LegStatus};
use callflow::{CallFlow, PhoneNumber};

use super::delivery::Outgoing;
use super::{Leg, Routes, Sim, error_message, session_status_for, short};
use crate::events::{SummaryEvent, SummaryLeg};
use crate::scenario::Outcome;

enum Step {
    /// Send this `CALL_ACTION` next.
    Next(Outgoing),
    /// The session is over.
    End,
}

enum DialResult {
    Bridged,
    Ended,
}

fn speech_ms(text: &str, repetition: Option<u32>, speed: Option<f64>) -> u64 {
    // About 15 characters a second at normal speed; at least a second.
    let chars = text.chars().count() as f64;
    let speed = speed.filter(|s| *s > 0.0).unwrap_or(1.0);
    let once = (chars / 15.0 / speed * 1000.0).max(1000.0);
    (once * f64::from(repetition.unwrap_or(1).max(1))) as u64
}

/// A one-line description of a reply's actions (numbers masked later).
fn describe_flow(flow: &CallFlow) -> String {
    let parts: Vec<String> = flow
        .actions()
        .iter()
        .map(|a| match a {
            Action::MakeCall(m) => format!(
                "makeCall {} -> {}",
                m.source.as_str(),
                m.destination.as_str()
            ),
            Action::Say(s) => format!("say \"{}\"", short(&s.text, 60)),
            Action::PlayFile(f) => format!("playFile {}", short(&f.file_url, 60)),
            Action::SayAndCapture(c) => {
                format!("sayAndCapture \"{}\"", short(&c.prompt_message, 60))
            }
            Action::Hangup => "hangup".to_owned(),
        })
        .collect();
    let mut text = parts.join(", ");
    if let Some(id) = flow.client_action_id() {
        // After the actions, not one more of them ("hangup, (clientActionId …)").
        text.push_str(&format!(" (clientActionId {id})"));
    }
    text
}

/// A number as 8x8 shows it in events: `+` and its digits (`6592220002`, `+65 9222-0002` →
/// `+6592220002`); text without digits is kept as is.
pub(crate) fn normalised(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        number.to_owned()
    } else {
        format!("+{digits}")
    }
}

impl Sim<'_> {
    fn connect_a(&mut self) -> bool {
        let a = &mut self.legs[0];
        if a.connected.is_none() {
            a.connected = Some(self.now);
            true
        } else {
            false
        }
    }

    async fn connect_a_and_report(&mut self, target: &Routes) {
        if self.connect_a() {
            self.status(target, 0, CallStatus::CallConnected).await;
        }
    }

    /// Ends leg `i` with `status` and `sip` now, and reports it.
    pub(super) async fn end_leg(&mut self, target: &Routes, i: usize, status: LegStatus, sip: u16) {
        let leg = &mut self.legs[i];
        if leg.disconnected.is_some() {
            return;
        }
        leg.disconnected = Some(self.now);
        leg.status = Some(status);
        leg.sip = sip;
        self.status(target, i, CallStatus::CallDisconnected).await;
    }

    pub(super) async fn run(&mut self, target: &Routes) {
        self.line(format!(
            "inbound call from {} to {}",
            self.sc.call.from, self.sc.call.to
        ));
        let request = self.call_event(true, 0, CallStatus::CallReceived, None, None);
        self.drive(target, request, true).await;
    }

    /// An outbound session started by Send Callflow: the first `makeCall` dials `callA`
    /// (its outcome is the scenario's callee), the rest of the callflow runs once it answers,
    /// and every `CALL_ACTION` after a `sayAndCapture` goes to the VCA webhook.
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub(crate) async fn run_outbound(&mut self, target: &Routes, flow: &CallFlow) {
        let Some(Action::MakeCall(m)) = flow.actions().first() else {
            self.line("Send Callflow: the callflow does not start with makeCall");
            self.finish_session(target).await;
            return;
        };
        {
            let a = &mut self.legs[0];
            a.direction = CallDirection::Outbound;
            a.source = m.source.as_str().to_owned();
            a.destination = m.destination.as_str().to_owned();
            a.source_ref = Some(self.sc.call.ref_id.clone());
            a.destination_ref = None;
            a.sip = 100;
        }
        self.record_actions(flow);
        self.last_action = Some(LastAction::MakeCall);
        self.dialled.push((m.source.clone(), m.destination.clone()));
        let callee = &self.sc.callee;
        let ring = callee.ring();
        let outcome = callee.outcome;
        self.line(format!(
            "Send Callflow: callA dials {} with caller id {}; scripted outcome: {} after {ring} s",
            m.destination.as_str(),
            m.source.as_str(),
            outcome.as_str()
        ));
        self.status(target, 0, CallStatus::CallInitiated).await;
        self.now += ring * 1000;
        let answered = match outcome {
            Outcome::Answered => true,
            Outcome::Busy => {
                self.line("   callA is busy");
                self.end_leg(target, 0, LegStatus::Busy, 486).await;
                false
            }
            Outcome::NoAnswer | Outcome::CallerHangsUp => {
                self.line("   callA does not answer");
                self.end_leg(target, 0, LegStatus::NoAnswer, 480).await;
                false
            }
            Outcome::Failed => {
                self.line("   callA cannot be reached");
                self.end_leg(target, 0, LegStatus::Failed, 404).await;
                false
            }
            Outcome::Error => {
                let code = self.sc.callee.error_code.unwrap_or(-2004);
                self.line(format!(
                    "   callA fails on the platform: {code} {}",
                    error_message(code)
                ));
                self.error = Some((
                    code,
                    error_message(code).to_owned(),
                    Some(LastAction::MakeCall),
                ));
                self.end_leg(target, 0, LegStatus::Error, 503).await;
                false
            }
        };
        if !answered {
            self.finish_session(target).await;
            return;
        }
        let a = &mut self.legs[0];
        a.connected = Some(self.now);
        a.sip = 200;
        self.line("   callA answers");
        self.status(target, 0, CallStatus::CallConnected).await;
        if m.call_recording == Some(true) {
            self.start_recording();
        }
        match self.execute_from(target, flow, 1).await {
            Step::Next(next) => self.drive(target, next, false).await,
            Step::End => self.finish_session(target).await,
        }
    }

    fn record_actions(&mut self, flow: &CallFlow) {
        for a in flow.actions() {
            self.actions.push(a.kind().as_str().to_owned());
        }
        if let Some(id) = flow.client_action_id() {
            self.client_action_ids.push(id.to_owned());
        }
    }

    fn start_recording(&mut self) {
        if self.recording.is_none() {
            let recording_id = callflow::event::builder::fresh_id();
            self.line("   the call is recorded");
            self.recording = Some(crate::report::RecordingOutcome {
                file_path: format!("recordings/{}/{recording_id}.mp3", self.session_id),
                recording_id,
                duration_seconds: 0,
                started_at_ms: self.now,
            });
        }
    }

    /// Sends `request` and follows the callflows that come back until the session ends.
    async fn drive(
        &mut self,
        target: &Routes,
        mut request: super::delivery::Outgoing,
        mut first: bool,
    ) {
        loop {
            if self.call_actions >= self.opt.max_call_actions {
                self.loop_exceeded = true;
                self.line(format!(
                    "the session took {} CALL_ACTION requests without ending: the caller gives up",
                    self.call_actions
                ));
                self.finish_session(target).await;
                return;
            }
            let reply = self.call_action(target, request).await;
            match &reply {
                Ok(flow) => self.line(format!("   reply: {}", describe_flow(flow))),
                Err(f) if f.reason.starts_with("not a valid callflow") => {
                    self.line(format!("   INVALID reply: {}", f.reason));
                }
                Err(f) => self.line(format!("   webhook failed: {}", f.reason)),
            }
            if first {
                first = false;
                self.status(target, 0, CallStatus::CallReceived).await;
            }
            let flow = match reply {
                Ok(flow) => flow,
                Err(f) => {
                    let msg = format!("{}: {}", error_message(-2003), f.reason);
                    self.error = Some((-2003, msg, self.last_action.clone()));
                    self.line(
                        "   the platform ends the session in ERROR (-2003 invalid call flow)",
                    );
                    self.finish_session(target).await;
                    return;
                }
            };
            self.record_actions(&flow);
            match self.execute_from(target, &flow, 0).await {
                Step::Next(next) => request = next,
                Step::End => {
                    self.finish_session(target).await;
                    return;
                }
            }
        }
    }

    /// Runs the actions of `flow` from index `start` on.
    async fn execute_from(&mut self, target: &Routes, flow: &CallFlow, start: usize) -> Step {
        let actions = flow.actions();
        for (i, action) in actions.iter().enumerate().skip(start) {
            let rest = actions.len() - i - 1;
            match action {
                Action::Say(s) => {
                    self.connect_a_and_report(target).await;
                    self.last_action = Some(LastAction::Say);
                    self.said.push(s.text.clone());
                    self.line(format!("   say: \"{}\"", short(&s.text, 100)));
                    self.now += speech_ms(&s.text, s.repetition, s.speed);
                }
                Action::PlayFile(f) => {
                    self.connect_a_and_report(target).await;
                    self.last_action = Some(LastAction::PlayFile);
                    self.line(format!("   playFile: {}", short(&f.file_url, 100)));
                    self.now += 5_000 * u64::from(f.repetition.unwrap_or(1).max(1));
                }
                Action::SayAndCapture(c) => {
                    self.connect_a_and_report(target).await;
                    self.last_action = Some(LastAction::SayAndCapture);
                    self.said.push(c.prompt_message.clone());
                    self.line(format!(
                        "   sayAndCapture: \"{}\"",
                        short(&c.prompt_message, 100)
                    ));
                    self.now += speech_ms(&c.prompt_message, c.repetition, c.speed);
                    let digits = self.digits.pop_front().filter(|d| !d.is_empty());
                    match &digits {
                        Some(d) => {
                            self.line(format!("   caller presses {d}"));
                            if let Some(max) = c.max_digits
                                && d.trim_end_matches('#').len() > max as usize
                            {
                                self.line(format!(
                                    "   note: {} digits entered, maxDigits is {max}",
                                    d.len()
                                ));
                            }
                            self.now += 700 * d.len() as u64;
                            if let Some(m) = &c.success_message {
                                self.said.push(m.clone());
                                self.line(format!("   successMessage: \"{}\"", short(m, 100)));
                                self.now += speech_ms(m, None, c.speed);
                            }
                        }
                        None => {
                            let overall = u64::from(c.overall_timeout.unwrap_or(5_000));
                            let tries = u64::from(c.no_of_tries.unwrap_or(1).max(1));
                            self.line(format!(
                                "   caller enters nothing: the capture times out ({tries} x {overall} ms)"
                            ));
                            self.now += overall * tries;
                            if let Some(m) = &c.failure_message {
                                self.said.push(m.clone());
                                self.line(format!("   failureMessage: \"{}\"", short(m, 100)));
                                self.now += speech_ms(m, None, c.speed);
                            }
                        }
                    }
                    if rest > 0 {
                        self.line(format!(
                            "   note: {rest} action(s) after sayAndCapture are not run: the next CALL_ACTION decides"
                        ));
                    }
                    let cid = flow.client_action_id().map(str::to_owned);
                    let next = self.call_event(
                        true,
                        0,
                        CallStatus::ActionCompleted,
                        Some(digits.as_deref()),
                        cid.as_deref(),
                    );
                    return Step::Next(next);
                }
                Action::MakeCall(m) => {
                    self.last_action = Some(LastAction::MakeCall);
                    self.dialled.push((
                        PhoneNumber::new(m.source.as_str()),
                        PhoneNumber::new(m.destination.as_str()),
                    ));
                    match self
                        .dial(target, m.source.as_str(), m.destination.as_str())
                        .await
                    {
                        DialResult::Bridged => {
                            if m.call_recording == Some(true) {
                                self.start_recording();
                            }
                        }
                        DialResult::Ended => {
                            if rest > 0 {
                                self.line(format!(
                                    "   note: {rest} action(s) after makeCall are not run: the dialled leg did not answer"
                                ));
                            }
                            return Step::End;
                        }
                    }
                }
                Action::Hangup => {
                    self.last_action = Some(LastAction::Hangup);
                    self.line("   hangup");
                    return Step::End;
                }
            }
        }
        if self.bridged {
            let talk = self.talk_seconds;
            self.line(format!("   the parties talk for {talk} s, then hang up"));
            self.now += talk * 1000;
        } else {
            self.line("   the callflow ends without hangup: the platform ends the call");
        }
        Step::End
    }

    async fn dial(&mut self, target: &Routes, source: &str, destination: &str) -> DialResult {
        let key = format!("call{}", char::from(b'A' + self.legs.len().min(25) as u8));
        // 8x8 shows a dialled leg's numbers as `+` and digits, whatever the callflow wrote.
        let source = &normalised(source);
        let destination = &normalised(destination);
        let vn = PhoneNumber::new(self.sc.call.to.as_str());
        let leg = Leg {
            key: key.clone(),
            call_id: callflow::event::builder::fresh_id(),
            direction: CallDirection::Outbound,
            source: source.to_owned(),
            destination: destination.to_owned(),
            source_ref: vn.same_as(source).then(|| self.sc.call.ref_id.clone()),
            destination_ref: None,
            initiated: self.now,
            connected: None,
            disconnected: None,
            status: None,
            sip: 100,
        };
        self.legs.push(leg);
        let i = self.legs.len() - 1;
        let callee = self
            .callees
            .as_ref()
            .and_then(|book| book(destination))
            .unwrap_or_else(|| self.sc.callee.clone());
        let ring = callee.ring();
        self.line(format!(
            "   makeCall: {key} dials {destination} with caller id {source}; scripted outcome: {} after {ring} s",
            callee.outcome.as_str()
        ));
        self.status(target, i, CallStatus::CallInitiated).await;
        self.now += ring * 1000;
        match callee.outcome {
            Outcome::Answered => {
                self.legs[i].connected = Some(self.now);
                self.legs[i].sip = 200;
                self.line(format!("   {key} answers: the caller is bridged"));
                self.status(target, i, CallStatus::CallConnected).await;
                self.connect_a_and_report(target).await;
                self.bridged = true;
                self.talk_seconds = callee.talk_seconds;
                DialResult::Bridged
            }
            Outcome::Busy => {
                self.line(format!("   {key} is busy"));
                self.end_leg(target, i, LegStatus::Busy, 486).await;
                DialResult::Ended
            }
            Outcome::NoAnswer => {
                self.line(format!("   {key} does not answer"));
                self.end_leg(target, i, LegStatus::NoAnswer, 480).await;
                DialResult::Ended
            }
            Outcome::Failed => {
                self.line(format!("   {key} cannot be reached"));
                self.end_leg(target, i, LegStatus::Failed, 404).await;
                DialResult::Ended
            }
            Outcome::Error => {
                let code = callee.error_code.unwrap_or(-2004);
                self.line(format!(
                    "   {key} fails on the platform: {code} {}",
                    error_message(code)
                ));
                self.error = Some((
                    code,
                    error_message(code).to_owned(),
                    Some(LastAction::MakeCall),
                ));
                self.end_leg(target, i, LegStatus::Error, 503).await;
                DialResult::Ended
            }
            Outcome::CallerHangsUp => {
                self.line(format!("   the caller hangs up while {key} is ringing"));
                self.end_leg(target, 0, LegStatus::Canceled, 487).await;
                self.end_leg(target, i, LegStatus::Canceled, 487).await;
                DialResult::Ended
            }
        }
    }

    /// Disconnects what is still up, delivers held-back status events and the summary.
    async fn finish_session(&mut self, target: &Routes) {
        let a_status = if self.error.as_ref().is_some_and(|(c, _, _)| *c == -2003) {
            LegStatus::Error
        } else {
            LegStatus::Completed
        };
        for i in (1..self.legs.len()).rev() {
            self.end_leg(target, i, LegStatus::Completed, 200).await;
        }
        let a_sip = if a_status == LegStatus::Error {
            500
        } else {
            200
        };
        self.end_leg(target, 0, a_status, a_sip).await;

        if !self.held_status.is_empty() {
            let held: Vec<Outgoing> = self.held_status.drain(..).rev().collect();
            self.line(format!(
                "--reorder: delivering the {} held-back CALL_STATUS events in reverse order",
                held.len()
            ));
            for ev in &held {
                self.deliver(target, ev).await;
            }
        }

        let a = self.legs[0].status.clone().unwrap_or(LegStatus::Completed);
        let status = if self.legs.len() == 1 && self.legs[0].direction == CallDirection::Outbound {
            // Send Callflow: the dialled callA decides, as an outbound leg does.
            session_status_for(&LegStatus::Completed, Some(&a))
        } else {
            let b = self.legs.last().filter(|_| self.legs.len() > 1);
            session_status_for(&a, b.and_then(|l| l.status.as_ref()))
        };
        self.summary_status = status.clone();
        let session = self.session_view();
        let legs: Vec<SummaryLeg<'_>> = self
            .legs
            .iter()
            .map(|l| SummaryLeg {
                key: &l.key,
                view: l.view(),
                initiated: self.start_ms + l.initiated as i64,
                connected: l.connected.map(|c| self.start_ms + c as i64),
                disconnected: self.start_ms + l.disconnected.unwrap_or(self.now) as i64,
                status: l.status.clone().unwrap_or(LegStatus::Completed),
                duration_s: l.duration_s(self.now),
            })
            .collect();
        let body = SummaryEvent {
            session: &session,
            status: status.clone(),
            start: self.start_ms,
            end: self.start_ms + self.now as i64,
            last_action: self.last_action.clone(),
            error: self.error.clone(),
            legs,
        }
        .build();
        let mut label = format!(
            "SESSION_SUMMARY {status} (lastAction {}, {} leg(s)",
            self.last_action.as_ref().map_or("none", |a| a.as_str()),
            self.legs.len()
        );
        if let Some((code, _, _)) = &self.error {
            label.push_str(&format!(", errorCode {code}"));
        }
        label.push(')');
        let ev = Outgoing {
            event_type: "SESSION_SUMMARY",
            status: status.as_str().to_owned(),
            leg: None,
            event_id: None,
            body: Bytes::from(body),
            at_ms: self.now,
            label,
        };
        self.deliver(target, &ev).await;
        self.finish_recording(target).await;
    }

    /// Posts the `CALL_RECORDING_STATUS` of a recorded session (`UPLOAD_COMPLETED`).
    async fn finish_recording(&mut self, target: &Routes) {
        let Some(rec) = self.recording.as_mut() else {
            return;
        };
        rec.duration_seconds = self.now.saturating_sub(rec.started_at_ms) / 1000;
        let rec = rec.clone();
        let mut event = callflow::event::builder::recording_status();
        event.payload.session_id.clone_from(&self.session_id);
        event.payload.recording_id = Some(rec.recording_id.clone());
        event.payload.duration_seconds = Some(rec.duration_seconds);
        event.payload.file_path = Some(rec.file_path.clone());
        let body = serde_json::to_vec(&event).expect("events serialize");
        let ev = Outgoing {
            event_type: "CALL_RECORDING_STATUS",
            status: "UPLOAD_COMPLETED".to_owned(),
            leg: None,
            event_id: None,
            body: Bytes::from(body),
            at_ms: self.now,
            label: format!(
                "CALL_RECORDING_STATUS UPLOAD_COMPLETED ({} s)",
                rec.duration_seconds
            ),
        };
        self.deliver(target, &ev).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialled_numbers_are_normalised_to_plus_and_digits() {
        assert_eq!(normalised("6592220002"), "+6592220002");
        assert_eq!(normalised("+65 9222-0002"), "+6592220002");
        assert_eq!(normalised("+6592220002"), "+6592220002");
        assert_eq!(normalised("anonymous"), "anonymous");
    }

    #[test]
    fn a_client_action_id_follows_the_actions_without_a_comma() {
        let flow = CallFlow::parse(
            br#"{"clientActionId":"menu","callflow":[{"action":"say","params":{"text":"Bye","voiceProfile":"en-US-BenjaminRUS"}},{"action":"hangup"}]}"#,
            callflow::callflow::Mode::Reply,
        )
        .unwrap();
        assert_eq!(
            describe_flow(&flow),
            "say \"Bye\", hangup (clientActionId menu)"
        );
    }

    #[test]
    fn speech_takes_time_by_length_repetition_and_speed() {
        assert_eq!(speech_ms("hi", None, None), 1000);
        assert_eq!(speech_ms(&"x".repeat(150), None, None), 10_000);
        assert_eq!(speech_ms(&"x".repeat(150), Some(2), None), 20_000);
        assert_eq!(speech_ms(&"x".repeat(150), None, Some(2.0)), 5_000);
    }
}
