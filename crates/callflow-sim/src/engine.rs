//! The session engine: plays one scenario against a webhook as 8x8 would.
//!
//! Time is simulated: ringing, talking and prompts advance a virtual clock (used for every
//! timestamp and duration in the events), so a session of several minutes plays in
//! milliseconds. Only the webhook's response times are real.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use callflow::callflow::{Action, Mode, Violation};
use callflow::event::{CallDirection, CallStatus, LastAction, LegStatus, SessionStatus};
use callflow::{CallFlow, PhoneNumber};

use crate::events::{CallEvent, LegView, PayloadStyle, SessionView, SummaryEvent, SummaryLeg};
use crate::http::{HttpError, HttpReply, Target, post_json};
use crate::mask_text;
use crate::report::{Check, Exchange, LegOutcome, Line, Report, SessionOutcome};
use crate::scenario::{Outcome, Scenario};

/// How to play: where the webhook is and which faults to inject.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PlayOptions {
    /// The webhook URL (plain `http://`); every event type is posted to it.
    pub url: String,
    /// Sent verbatim as the `Authorization` header (8x8's `httpAuthHeader`).
    pub auth_header: Option<String>,
    /// Deliver every event twice (same `eventId`), as 8x8 may.
    pub duplicate: bool,
    /// Hold the `CALL_STATUS` events back and deliver them in reverse order just before the
    /// `SESSION_SUMMARY` (8x8 does not guarantee their order).
    pub reorder: bool,
    /// Report (and fail on) every reply slower than this.
    pub slow_after: Option<Duration>,
    /// Where captured digits and other drifting fields go.
    pub payload_style: PayloadStyle,
    /// How long to wait for a reply before treating the webhook as failed (default 10 s).
    pub timeout: Duration,
    /// The most `CALL_ACTION` requests one session may take (default 20): a handler that
    /// keeps re-prompting fails instead of looping forever.
    pub max_call_actions: usize,
}

impl PlayOptions {
    /// Options for `url` with no fault injected.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            auth_header: None,
            duplicate: false,
            reorder: false,
            slow_after: None,
            payload_style: PayloadStyle::Current,
            timeout: Duration::from_secs(10),
            max_call_actions: 20,
        }
    }
}

/// The `sessionStatus` 8x8 derives from the legs (docs/protocol.md §5.5, Number Masking table):
/// an inbound error or cancel decides; otherwise the outbound leg does; no outbound leg is
/// `COMPLETED`.
///
/// ```
/// use callflow::event::{LegStatus, SessionStatus};
/// use callflow_sim::session_status_for;
/// assert_eq!(session_status_for(&LegStatus::Completed, Some(&LegStatus::Busy)), SessionStatus::Busy);
/// assert_eq!(session_status_for(&LegStatus::Completed, None), SessionStatus::Completed);
/// assert_eq!(session_status_for(&LegStatus::Error, None), SessionStatus::Error);
/// ```
pub fn session_status_for(a: &LegStatus, b: Option<&LegStatus>) -> SessionStatus {
    match (a, b) {
        (LegStatus::Error, _) => SessionStatus::Error,
        (LegStatus::Canceled, _) => SessionStatus::Canceled,
        (_, None) => SessionStatus::Completed,
        (_, Some(b)) => match b {
            LegStatus::Completed => SessionStatus::Completed,
            LegStatus::NoAnswer => SessionStatus::NoAnswer,
            LegStatus::Busy => SessionStatus::Busy,
            LegStatus::Failed => SessionStatus::Failed,
            LegStatus::Canceled => SessionStatus::Canceled,
            LegStatus::Error => SessionStatus::Error,
            other => SessionStatus::parse(other.as_str()),
        },
    }
}

/// 8x8's meaning of a VSS `errorCode` (docs/protocol.md §9.2).
pub fn error_message(code: i64) -> &'static str {
    match code {
        -2001 => "Internal error",
        -2002 => "Internal connectivity error",
        -2003 => "Invalid call flow",
        -2004 => "No coverage available for requested area",
        -2005 => "TTS synthesis failed",
        -2006 => "Audio file could not be downloaded",
        -2007 => "Callflow validity period expired",
        -2008 => "Source number not whitelisted",
        -2009 => "Invalid scenario parameters",
        -2010 => "Trunk capacity exceeded",
        _ => "Unknown error",
    }
}

/// Plays every scenario in turn (one session after another) and reports each.
pub async fn play_all(scenarios: &[Scenario], options: &PlayOptions) -> Vec<Report> {
    let mut reports = Vec::with_capacity(scenarios.len());
    for s in scenarios {
        reports.push(play(s, options).await);
    }
    reports
}

/// Plays `scenario` against the webhook in `options` and reports what happened.
///
/// Needs a Tokio runtime with the I/O and time drivers.
pub async fn play(scenario: &Scenario, options: &PlayOptions) -> Report {
    let started = Instant::now();
    let mut sim = Sim::new(scenario, options);
    match Target::parse(&options.url) {
        Ok(target) => sim.run(&target).await,
        Err(e) => {
            sim.line(format!("cannot play: {e}"));
            sim.setup_error = Some(e.to_string());
        }
    }
    sim.finish(started.elapsed())
}

struct Leg {
    key: String,
    call_id: String,
    direction: CallDirection,
    source: String,
    destination: String,
    source_ref: Option<String>,
    destination_ref: Option<String>,
    initiated: u64,
    connected: Option<u64>,
    disconnected: Option<u64>,
    status: Option<LegStatus>,
    sip: u16,
}

impl Leg {
    fn view(&self) -> LegView<'_> {
        LegView {
            call_id: &self.call_id,
            direction: self.direction.clone(),
            source: &self.source,
            destination: &self.destination,
            source_ref: self.source_ref.as_deref(),
            destination_ref: self.destination_ref.as_deref(),
        }
    }

    /// Whole seconds connected up to `now` (or the disconnect).
    fn duration_s(&self, now: u64) -> u64 {
        match self.connected {
            Some(c) => (self.disconnected.unwrap_or(now).saturating_sub(c)) / 1000,
            None => 0,
        }
    }
}

/// A body waiting to be delivered.
struct Outgoing {
    event_type: &'static str,
    status: String,
    leg: Option<String>,
    event_id: Option<String>,
    body: Bytes,
    at_ms: u64,
    label: String,
}

/// Why a `CALL_ACTION` reply cannot be used.
struct ReplyFailure {
    reason: String,
}

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

struct Sim<'a> {
    sc: &'a Scenario,
    opt: &'a PlayOptions,
    start_ms: i64,
    now: u64,
    session_id: String,
    legs: Vec<Leg>,
    bridged: bool,
    digits: VecDeque<String>,
    transcript: Vec<Line>,
    exchanges: Vec<Exchange>,
    held_status: Vec<Outgoing>,
    actions: Vec<String>,
    dialled: Vec<(PhoneNumber, PhoneNumber)>,
    said: Vec<String>,
    client_action_ids: Vec<String>,
    call_actions: usize,
    last_action: Option<LastAction>,
    error: Option<(i64, String, Option<LastAction>)>,
    loop_exceeded: bool,
    setup_error: Option<String>,
    summary_status: SessionStatus,
}

fn unix_millis_now() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    ms - ms % 1000
}

fn speech_ms(text: &str, repetition: Option<u32>, speed: Option<f64>) -> u64 {
    // About 15 characters a second at normal speed; at least a second.
    let chars = text.chars().count() as f64;
    let speed = speed.filter(|s| *s > 0.0).unwrap_or(1.0);
    let once = (chars / 15.0 / speed * 1000.0).max(1000.0);
    (once * f64::from(repetition.unwrap_or(1).max(1))) as u64
}

fn short(text: &str, max: usize) -> String {
    let t: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        format!("{t}…")
    } else {
        t
    }
}

/// A one-line description of a reply's actions (numbers masked later).
fn describe_flow(flow: &CallFlow) -> String {
    let mut parts: Vec<String> = flow
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
    if let Some(id) = flow.client_action_id() {
        parts.push(format!("(clientActionId {id})"));
    }
    parts.join(", ")
}

impl<'a> Sim<'a> {
    fn new(sc: &'a Scenario, opt: &'a PlayOptions) -> Self {
        let a = Leg {
            key: "callA".to_owned(),
            call_id: callflow::testing::fresh_id(),
            direction: CallDirection::Inbound,
            source: sc.call.from.clone(),
            destination: sc.call.to.clone(),
            source_ref: None,
            destination_ref: Some(sc.call.ref_id.clone()),
            initiated: 0,
            connected: None,
            disconnected: None,
            status: None,
            sip: 200,
        };
        Self {
            sc,
            opt,
            start_ms: unix_millis_now(),
            now: 0,
            session_id: callflow::testing::fresh_id(),
            legs: vec![a],
            bridged: false,
            digits: sc.call.digits.iter().cloned().collect(),
            transcript: Vec::new(),
            exchanges: Vec::new(),
            held_status: Vec::new(),
            actions: Vec::new(),
            dialled: Vec::new(),
            said: Vec::new(),
            client_action_ids: Vec::new(),
            call_actions: 0,
            last_action: None,
            error: None,
            loop_exceeded: false,
            setup_error: None,
            summary_status: SessionStatus::Completed,
        }
    }

    fn line(&mut self, text: impl AsRef<str>) {
        self.transcript.push(Line {
            at_ms: self.now,
            text: mask_text(text.as_ref()),
        });
    }

    fn session_view(&self) -> SessionView<'_> {
        SessionView {
            session_id: &self.session_id,
            sub_account: &self.sc.call.sub_account,
        }
    }

    /// A `CALL_ACTION` or `CALL_STATUS` about leg `i`.
    fn call_event(
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
    async fn deliver(
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
                text: mask_text(&text),
            });
            self.exchanges.push(ex);
            results.push(result);
        }
        results
    }

    /// Delivers a status event now, or holds it back with `--reorder`.
    async fn status(&mut self, target: &Target, i: usize, status: CallStatus) {
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

    async fn call_action(
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

    fn connect_a(&mut self) -> bool {
        let a = &mut self.legs[0];
        if a.connected.is_none() {
            a.connected = Some(self.now);
            true
        } else {
            false
        }
    }

    async fn connect_a_and_report(&mut self, target: &Target) {
        if self.connect_a() {
            self.status(target, 0, CallStatus::CallConnected).await;
        }
    }

    /// Ends leg `i` with `status` and `sip` now, and reports it.
    async fn end_leg(&mut self, target: &Target, i: usize, status: LegStatus, sip: u16) {
        let leg = &mut self.legs[i];
        if leg.disconnected.is_some() {
            return;
        }
        leg.disconnected = Some(self.now);
        leg.status = Some(status);
        leg.sip = sip;
        self.status(target, i, CallStatus::CallDisconnected).await;
    }

    async fn run(&mut self, target: &Target) {
        self.line(format!(
            "inbound call from {} to {}",
            self.sc.call.from, self.sc.call.to
        ));
        let mut request = self.call_event(true, 0, CallStatus::CallReceived, None, None);
        let mut first = true;
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
            for a in flow.actions() {
                self.actions.push(a.kind().as_str().to_owned());
            }
            if let Some(id) = flow.client_action_id() {
                self.client_action_ids.push(id.to_owned());
            }
            match self.execute(target, &flow).await {
                Step::Next(next) => request = next,
                Step::End => {
                    self.finish_session(target).await;
                    return;
                }
            }
        }
    }

    async fn execute(&mut self, target: &Target, flow: &CallFlow) -> Step {
        let actions = flow.actions();
        for (i, action) in actions.iter().enumerate() {
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
                        DialResult::Bridged => {}
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
            let talk = self.sc.callee.talk_seconds;
            self.line(format!("   the parties talk for {talk} s, then hang up"));
            self.now += talk * 1000;
        } else {
            self.line("   the callflow ends without hangup: the platform ends the call");
        }
        Step::End
    }

    async fn dial(&mut self, target: &Target, source: &str, destination: &str) -> DialResult {
        let key = format!("call{}", char::from(b'A' + self.legs.len().min(25) as u8));
        let vn = PhoneNumber::new(self.sc.call.to.as_str());
        let leg = Leg {
            key: key.clone(),
            call_id: callflow::testing::fresh_id(),
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
        let callee = &self.sc.callee;
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
    async fn finish_session(&mut self, target: &Target) {
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
        let b = self.legs.last().filter(|_| self.legs.len() > 1);
        let status = session_status_for(&a, b.and_then(|l| l.status.as_ref()));
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
    }

    fn outcome(&self) -> SessionOutcome {
        SessionOutcome {
            session_status: self.summary_status.clone(),
            last_action: self.last_action.clone(),
            error: self.error.as_ref().map(|(c, m, _)| (*c, m.clone())),
            legs: self
                .legs
                .iter()
                .map(|l| LegOutcome {
                    key: l.key.clone(),
                    call_id: l.call_id.clone(),
                    direction: l.direction.clone(),
                    source: PhoneNumber::new(l.source.as_str()),
                    destination: PhoneNumber::new(l.destination.as_str()),
                    status: l.status.clone().unwrap_or(LegStatus::Completed),
                    duration_seconds: l.duration_s(self.now),
                    sip_code: l.sip,
                })
                .collect(),
            actions: self.actions.clone(),
            dialled: self.dialled.clone(),
            said: self.said.clone(),
            client_action_ids: self.client_action_ids.clone(),
            call_actions: self.call_actions,
        }
    }

    fn finish(self, elapsed: Duration) -> Report {
        let outcome = self.outcome();
        let checks = self.checks(&outcome);
        Report {
            scenario: self.sc.name.clone(),
            source: self.sc.source.clone(),
            session_id: self.session_id,
            transcript: self.transcript,
            exchanges: self.exchanges,
            outcome,
            checks,
            elapsed,
        }
    }

    fn checks(&self, o: &SessionOutcome) -> Vec<Check> {
        let mut checks = Vec::new();
        if let Some(e) = &self.setup_error {
            checks.push(Check::new(
                "the webhook URL is usable",
                false,
                Some(e.clone()),
            ));
            return checks;
        }
        let e = &self.sc.expect;

        // Built-in checks.
        let actions: Vec<&Exchange> = self
            .exchanges
            .iter()
            .filter(|x| x.event_type == "CALL_ACTION")
            .collect();
        if e.valid_replies {
            let bad: Vec<String> = actions
                .iter()
                .filter_map(|x| {
                    x.error.as_ref().map(|err| {
                        format!(
                            "CALL_ACTION {}{}: {err}",
                            x.status,
                            if x.duplicate { " (duplicate)" } else { "" }
                        )
                    })
                })
                .collect();
            checks.push(Check::new(
                "every CALL_ACTION is answered with 200 and a valid callflow",
                bad.is_empty(),
                (!bad.is_empty()).then(|| bad.join("; ")),
            ));
        }
        let bad_acks: Vec<String> = self
            .exchanges
            .iter()
            .filter(|x| x.event_type != "CALL_ACTION")
            .filter_map(|x| {
                x.error.as_ref().map(|err| {
                    format!(
                        "{} {} {}: {err}",
                        x.event_type,
                        x.status,
                        x.leg.as_deref().unwrap_or("")
                    )
                })
            })
            .collect();
        checks.push(Check::new(
            "every CALL_STATUS and SESSION_SUMMARY is acknowledged with 2xx",
            bad_acks.is_empty(),
            (!bad_acks.is_empty()).then(|| bad_acks.join("; ")),
        ));
        if let Some(limit) = self.opt.slow_after {
            let slow: Vec<String> = self
                .exchanges
                .iter()
                .filter(|x| x.response_time > limit)
                .map(|x| {
                    format!(
                        "{} {} took {}",
                        x.event_type,
                        x.status,
                        crate::report::fmt_duration(x.response_time)
                    )
                })
                .collect();
            checks.push(Check::new(
                format!("every reply arrives within {} ms", limit.as_millis()),
                slow.is_empty(),
                (!slow.is_empty()).then(|| slow.join("; ")),
            ));
        }
        if self.loop_exceeded {
            checks.push(Check::new(
                format!(
                    "the session ends within {} CALL_ACTION requests",
                    self.opt.max_call_actions
                ),
                false,
                Some("the webhook kept the call going (re-prompting?)".to_owned()),
            ));
        }

        // Scenario expectations.
        if let Some(s) = &e.session_status {
            let got = o.session_status.as_str();
            checks.push(Check::new(
                format!("session {s}"),
                got == s,
                (got != s).then(|| format!("the session ended {got}{}", error_suffix(o))),
            ));
        }
        if let Some(want) = &e.last_action {
            let got = o.last_action.as_ref().map_or("none", |a| a.as_str());
            checks.push(Check::new(
                format!("lastAction {want}"),
                got == want,
                (got != want).then(|| format!("lastAction was {got}")),
            ));
        }
        if let Some(n) = e.call_count {
            let got = o.legs.len() as u32;
            checks.push(Check::new(
                format!("{n} leg(s) (callCount)"),
                got == n,
                (got != n).then(|| format!("callCount was {got}")),
            ));
        }
        if let Some(code) = e.error_code {
            let got = o.error.as_ref().map(|(c, _)| *c);
            checks.push(Check::new(
                format!("errorDetails.errorCode {code}"),
                got == Some(code),
                (got != Some(code)).then(|| match got {
                    Some(c) => format!("errorCode was {c}"),
                    None => "no errorDetails".to_owned(),
                }),
            ));
        }
        if let Some(dials) = &e.dialled {
            if dials.is_empty() {
                checks.push(Check::new(
                    "no B leg dialled",
                    o.dialled.is_empty(),
                    (!o.dialled.is_empty()).then(|| describe_dialled(&o.dialled)),
                ));
            }
            for (i, d) in dials.iter().enumerate() {
                let ord = if dials.len() > 1 {
                    format!(" (makeCall #{})", i + 1)
                } else {
                    String::new()
                };
                let mut name = format!("B leg dialled to {}", d.destination);
                if let Some(cid) = &d.caller_id {
                    name.push_str(&format!(" with caller id {cid}"));
                }
                name.push_str(&ord);
                let got = o.dialled.get(i);
                let ok = got.is_some_and(|(src, dst)| {
                    dst.same_as(&d.destination)
                        && d.caller_id.as_ref().is_none_or(|c| src.same_as(c))
                });
                let detail = match got {
                    None => "no such makeCall".to_owned(),
                    Some((src, dst)) if !dst.same_as(&d.destination) => format!(
                        "another destination was dialled: {} (caller id {})",
                        dst.as_str(),
                        src.as_str()
                    ),
                    Some((src, _)) => format!("another caller id was shown: {}", src.as_str()),
                };
                checks.push(Check::new(name, ok, (!ok).then_some(detail)));
            }
            if !dials.is_empty() && o.dialled.len() > dials.len() {
                checks.push(Check::new(
                    format!("exactly {} makeCall(s)", dials.len()),
                    false,
                    Some(describe_dialled(&o.dialled)),
                ));
            }
        }
        if let Some(want) = &e.actions {
            checks.push(Check::new(
                format!("webhook returns actions [{}]", want.join(", ")),
                &o.actions == want,
                (&o.actions != want).then(|| format!("got [{}]", o.actions.join(", "))),
            ));
        }
        for text in &e.said {
            let needle = text.to_lowercase();
            let ok = o.said.iter().any(|s| s.to_lowercase().contains(&needle));
            checks.push(Check::new(
                format!("a prompt says \"{text}\""),
                ok,
                (!ok).then(|| {
                    if o.said.is_empty() {
                        "nothing was said".to_owned()
                    } else {
                        format!(
                            "said: {}",
                            o.said
                                .iter()
                                .map(|s| format!("\"{}\"", short(s, 60)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                }),
            ));
        }
        if let Some(want) = &e.client_action_ids {
            checks.push(Check::new(
                format!("clientActionIds [{}]", want.join(", ")),
                &o.client_action_ids == want,
                (&o.client_action_ids != want)
                    .then(|| format!("got [{}]", o.client_action_ids.join(", "))),
            ));
        }
        if let Some(n) = e.call_actions {
            checks.push(Check::new(
                format!("{n} CALL_ACTION request(s)"),
                o.call_actions == n,
                (o.call_actions != n).then(|| format!("{} sent", o.call_actions)),
            ));
        }
        checks
    }
}

fn error_suffix(o: &SessionOutcome) -> String {
    match &o.error {
        Some((c, m)) => format!(" ({c}: {m})"),
        None => String::new(),
    }
}

fn describe_dialled(d: &[(PhoneNumber, PhoneNumber)]) -> String {
    let list: Vec<String> = d
        .iter()
        .map(|(s, t)| format!("{} with caller id {}", t.as_str(), s.as_str()))
        .collect();
    format!("dialled {}", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of docs/protocol.md §5.5.
    #[test]
    fn session_status_follows_the_number_masking_table() {
        use LegStatus as L;
        use SessionStatus as S;
        let rows = [
            (L::Completed, Some(L::Completed), S::Completed),
            (L::Completed, Some(L::NoAnswer), S::NoAnswer),
            (L::Completed, Some(L::Busy), S::Busy),
            (L::Completed, Some(L::Failed), S::Failed),
            (L::Canceled, Some(L::Canceled), S::Canceled),
            (L::Completed, None, S::Completed),
            (L::Error, None, S::Error),
            (L::Completed, Some(L::Error), S::Error),
        ];
        for (a, b, want) in rows {
            assert_eq!(session_status_for(&a, b.as_ref()), want, "{a:?} / {b:?}");
        }
    }

    #[test]
    fn speech_takes_time_by_length_repetition_and_speed() {
        assert_eq!(speech_ms("hi", None, None), 1000);
        assert_eq!(speech_ms(&"x".repeat(150), None, None), 10_000);
        assert_eq!(speech_ms(&"x".repeat(150), Some(2), None), 20_000);
        assert_eq!(speech_ms(&"x".repeat(150), None, Some(2.0)), 5_000);
    }
}
