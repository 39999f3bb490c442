//! The session engine: plays one scenario against a webhook as 8x8 would.
//!
//! Time is simulated: ringing, talking and prompts advance a virtual clock (used for every
//! timestamp and duration in the events), so a session of several minutes plays in
//! milliseconds. Only the webhook's response times are real.

mod delivery;
mod expect;
mod platform;
mod session;

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use callflow::PhoneNumber;
use callflow::event::{CallDirection, LastAction, LegStatus, SessionStatus};

use crate::Labels;
use crate::events::{LegView, PayloadStyle, SessionView};
use crate::http::Target;
use crate::report::{Exchange, LegOutcome, Line, RecordingOutcome, Report, SessionOutcome};
use crate::scenario::{Callee, Scenario};
use delivery::Outgoing;
pub(crate) use delivery::one_line;

pub use platform::{error_message, session_status_for};

/// How to play: where the webhook is and which faults to inject.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PlayOptions {
    /// The webhook URL (`http://` or `https://`); every event type is posted to it.
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
    /// Print phone numbers in the transcript in clear. Default: masked, each followed by a
    /// label that is the same for the same number throughout a transcript
    /// (`+65****0001 (#1)`), so that numbers with the same masked form stay apart.
    pub show_numbers: bool,
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
            show_numbers: false,
        }
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
        Ok(target) => {
            let routes = Routes::all(Route {
                target,
                auth_header: options.auth_header.clone(),
            });
            sim.run(&routes).await
        }
        Err(e) => {
            sim.line(format!("cannot play: {e}"));
            sim.setup_error = Some(e.to_string());
        }
    }
    sim.finish(started.elapsed())
}

/// Where one webhook type is posted: a URL and the `Authorization` value sent with it.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub(crate) target: Target,
    pub(crate) auth_header: Option<String>,
}

/// Where each event type goes, as registered per webhook type on 8x8: `CALL_ACTION` to VCA,
/// `CALL_STATUS` to VCS, `SESSION_SUMMARY` to VSS, `CALL_RECORDING_STATUS` to VRU. A type
/// without a route is not posted.
#[derive(Clone, Debug, Default)]
pub(crate) struct Routes {
    pub(crate) action: Option<Route>,
    pub(crate) status: Option<Route>,
    pub(crate) summary: Option<Route>,
    pub(crate) recording: Option<Route>,
}

impl Routes {
    /// Every event type to one route (`callflow play`).
    pub(crate) fn all(route: Route) -> Self {
        Self {
            action: Some(route.clone()),
            status: Some(route.clone()),
            summary: Some(route.clone()),
            recording: Some(route),
        }
    }

    /// The route of an event type, if one is registered.
    pub(crate) fn for_event(&self, event_type: &str) -> Option<&Route> {
        match event_type {
            "CALL_ACTION" => self.action.as_ref(),
            "CALL_STATUS" => self.status.as_ref(),
            "SESSION_SUMMARY" => self.summary.as_ref(),
            "CALL_RECORDING_STATUS" => self.recording.as_ref(),
            _ => None,
        }
    }
}

/// The webhook type 8x8 posts an event type to.
pub(crate) fn webhook_type_of(event_type: &str) -> &'static str {
    match event_type {
        "CALL_ACTION" => "VCA",
        "CALL_STATUS" => "VCS",
        "SESSION_SUMMARY" => "VSS",
        "CALL_RECORDING_STATUS" => "VRU",
        _ => "?",
    }
}

/// How a session the emulator runs begins.
#[cfg_attr(not(feature = "emulator"), allow(dead_code))]
pub(crate) enum Start {
    /// An inbound call from the scenario's caller to its number.
    Inbound,
    /// A Send Callflow request: its first `makeCall` dials.
    Outbound(callflow::CallFlow),
}

/// Who answers a dialled number: asked each time a session's `makeCall` rings one (the
/// emulator's scripted callees); `None` falls back to the scenario's callee.
#[cfg_attr(not(feature = "emulator"), allow(dead_code))]
pub(crate) type CalleeBook = std::sync::Arc<dyn Fn(&str) -> Option<Callee> + Send + Sync>;

/// Runs one session with the given id and routes (the emulator's sessions).
#[cfg_attr(not(feature = "emulator"), allow(dead_code))]
pub(crate) async fn run_session(
    scenario: &Scenario,
    options: &PlayOptions,
    routes: &Routes,
    session_id: String,
    start: Start,
    callees: Option<CalleeBook>,
) -> Report {
    let started = Instant::now();
    let mut sim = Sim::new(scenario, options);
    sim.session_id = session_id;
    sim.callees = callees;
    match start {
        Start::Inbound => sim.run(routes).await,
        Start::Outbound(flow) => sim.run_outbound(routes, &flow).await,
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
    labels: Labels,
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
    recording: Option<RecordingOutcome>,
    /// Scripted callees by number (the emulator); `None` in `play`.
    callees: Option<CalleeBook>,
    /// How long the bridged parties talk (the answering callee's `talk_seconds`).
    talk_seconds: u64,
}

fn unix_millis_now() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    ms - ms % 1000
}

fn short(text: &str, max: usize) -> String {
    let t: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        format!("{t}…")
    } else {
        t
    }
}

impl<'a> Sim<'a> {
    fn new(sc: &'a Scenario, opt: &'a PlayOptions) -> Self {
        let a = Leg {
            key: "callA".to_owned(),
            call_id: callflow::event::builder::fresh_id(),
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
            session_id: callflow::event::builder::fresh_id(),
            legs: vec![a],
            bridged: false,
            digits: sc.call.digits.iter().cloned().collect(),
            transcript: Vec::new(),
            labels: Labels::new(opt.show_numbers),
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
            recording: None,
            callees: None,
            talk_seconds: sc.callee.talk_seconds,
        }
    }

    fn line(&mut self, text: impl AsRef<str>) {
        self.transcript.push(Line {
            at_ms: self.now,
            text: self.labels.apply(text.as_ref()),
        });
    }

    /// `text` as the transcript shows it: numbers masked unless `show_numbers`.
    fn session_view(&self) -> SessionView<'_> {
        SessionView {
            session_id: &self.session_id,
            sub_account: &self.sc.call.sub_account,
        }
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
            recording: self.recording.clone(),
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
}
