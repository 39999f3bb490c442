//! What a played session produced: transcript, webhook exchanges, outcome and checks, and
//! the three output formats (text, JSON, JUnit XML).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use callflow::PhoneNumber;
use callflow::callflow::Violation;
use callflow::event::{CallDirection, LastAction, LegStatus, SessionStatus};
use callflow::phone::Masked;
use serde_json::{Value, json};

/// The result of playing one scenario.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file, when it was loaded from one.
    pub source: Option<PathBuf>,
    /// The session id used for every event.
    pub session_id: String,
    /// What happened, in order, numbers masked.
    pub transcript: Vec<Line>,
    /// Every webhook call, in the order sent.
    pub exchanges: Vec<Exchange>,
    /// What the session came to (as told in the `SESSION_SUMMARY`).
    pub outcome: SessionOutcome,
    /// Expectations and built-in checks, in order.
    pub checks: Vec<Check>,
    /// Wall-clock time the play took.
    pub elapsed: Duration,
}

impl Report {
    /// Whether every check holds.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The checks that do not hold.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// Every violation found in a `CALL_ACTION` reply.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.exchanges.iter().flat_map(|e| e.violations.iter())
    }

    /// The check with this name, if any.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// One line of the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Simulated time since the call arrived, in milliseconds.
    pub at_ms: u64,
    /// What happened (phone numbers masked).
    pub text: String,
}

/// One webhook call.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Exchange {
    /// Simulated time since the call arrived, in milliseconds.
    pub at_ms: u64,
    /// `CALL_ACTION`, `CALL_STATUS` or `SESSION_SUMMARY`.
    pub event_type: &'static str,
    /// The `callStatus` (or `sessionStatus` for a summary) the event carried.
    pub status: String,
    /// The leg the event is about (`callA`, `callB`), if any.
    pub leg: Option<String>,
    /// The `eventId`, if the event has one.
    pub event_id: Option<String>,
    /// Whether this is the second delivery of the same event (`--duplicate`).
    pub duplicate: bool,
    /// The HTTP status of the reply; `None` when there was no reply.
    pub http_status: Option<u16>,
    /// Why there was no usable reply (connection, timeout, status, invalid callflow).
    pub error: Option<String>,
    /// How long the webhook took to reply.
    pub response_time: Duration,
    /// What was wrong with a `CALL_ACTION` reply, with 8x8's codes.
    pub violations: Vec<Violation>,
}

/// The outcome of the session, as the simulator reported it in the `SESSION_SUMMARY`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SessionOutcome {
    /// `sessionStatus`.
    pub session_status: SessionStatus,
    /// `lastAction` (absent when no action ran).
    pub last_action: Option<LastAction>,
    /// `errorDetails` as (code, message).
    pub error: Option<(i64, String)>,
    /// The legs, `callA` first.
    pub legs: Vec<LegOutcome>,
    /// Every action the webhook returned, in order (`say`, `makeCall`, …).
    pub actions: Vec<String>,
    /// Every `makeCall` returned, as (caller id, destination).
    pub dialled: Vec<(PhoneNumber, PhoneNumber)>,
    /// Every `say` text and `sayAndCapture` prompt returned.
    pub said: Vec<String>,
    /// The `clientActionId`s of the replies that set one.
    pub client_action_ids: Vec<String>,
    /// How many `CALL_ACTION` requests were sent (first deliveries only).
    pub call_actions: usize,
    /// The recording, when a `makeCall` asked for one (`callRecording: true`).
    pub recording: Option<RecordingOutcome>,
}

/// A session's recording, as told in its `CALL_RECORDING_STATUS`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordingOutcome {
    /// `recordingId`.
    pub recording_id: String,
    /// Seconds recorded (the recorded leg's connected time).
    pub duration_seconds: u64,
    /// `filePath`, where the platform put the file.
    pub file_path: String,
    /// Simulated milliseconds since the session started when recording began.
    pub started_at_ms: u64,
}

/// One leg of the session.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LegOutcome {
    /// `callA`, `callB`, …
    pub key: String,
    /// The leg's `callId`.
    pub call_id: String,
    /// `INBOUND` or `OUTBOUND`.
    pub direction: CallDirection,
    /// The caller id of the leg.
    pub source: PhoneNumber,
    /// The number called.
    pub destination: PhoneNumber,
    /// The leg's final status.
    pub status: LegStatus,
    /// Seconds connected.
    pub duration_seconds: u64,
    /// Final SIP code.
    pub sip_code: u16,
}

/// One expectation or built-in check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What must hold (numbers masked), e.g. `session status is COMPLETED`.
    pub name: String,
    /// Whether it holds.
    pub passed: bool,
    /// What was found instead, when it does not.
    pub detail: Option<String>,
}

impl Check {
    /// A check that holds when `passed`.
    pub fn new(name: impl Into<String>, passed: bool, detail: Option<String>) -> Self {
        Self {
            name: crate::mask_text(&name.into()),
            passed,
            detail: detail.map(|d| crate::mask_text(&d)),
        }
    }
}

fn fmt_secs(ms: u64) -> String {
    format!("+{}.{}s", ms / 1000, (ms % 1000) / 100)
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The readable form: per scenario, the transcript with response times, the checks, and a
/// verdict; then a total line.
pub fn render_text(reports: &[Report]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&render_text_report(r));
    }
    out.push_str(&render_text_summary(reports));
    out
}

/// One report as text: its transcript, checks and verdict (what `render_text` prints for
/// each scenario, for printing each as it finishes).
pub fn render_text_report(r: &Report) -> String {
    let mut out = String::new();
    let _ = write!(out, "scenario {}", r.scenario);
    if let Some(p) = &r.source {
        let _ = write!(out, " ({})", p.display());
    }
    out.push('\n');
    let _ = writeln!(out, "  session {}", r.session_id);
    for l in &r.transcript {
        let _ = writeln!(out, "  {:>8}  {}", fmt_secs(l.at_ms), l.text);
    }
    out.push_str("  checks:\n");
    for c in &r.checks {
        let mark = if c.passed { "ok  " } else { "FAIL" };
        let _ = write!(out, "    {mark} {}", c.name);
        if let Some(d) = &c.detail {
            let _ = write!(out, ": {d}");
        }
        out.push('\n');
    }
    let failed = r.failures().count();
    let _ = writeln!(
        out,
        "  {} {} ({} of {} checks hold, {} webhook calls, {})\n",
        if failed == 0 { "PASS" } else { "FAIL" },
        r.scenario,
        r.checks.len() - failed,
        r.checks.len(),
        r.exchanges.len(),
        fmt_duration(r.elapsed),
    );
    out
}

/// The closing line of `render_text`: `N scenario(s): P passed, F failed`.
pub fn render_text_summary(reports: &[Report]) -> String {
    let mut out = String::new();
    let passed = reports.iter().filter(|r| r.passed()).count();
    let _ = writeln!(
        out,
        "{} scenario(s): {} passed, {} failed",
        reports.len(),
        passed,
        reports.len() - passed
    );
    out
}

fn violation_json(v: &Violation) -> Value {
    json!({ "code": v.code.as_i32(), "path": v.path, "message": v.message })
}

fn masked(n: &PhoneNumber) -> String {
    Masked(n.as_str()).to_string()
}

/// One report as JSON; phone numbers masked unless `show_numbers`.
pub(crate) fn report_json(r: &Report, show_numbers: bool) -> Value {
    let o = &r.outcome;
    let masked = |n: &PhoneNumber| {
        if show_numbers {
            n.as_str().to_owned()
        } else {
            masked(n)
        }
    };
    json!({
        "scenario": r.scenario,
        "file": r.source.as_ref().map(|p| p.display().to_string()),
        "passed": r.passed(),
        "sessionId": r.session_id,
        "elapsedMs": r.elapsed.as_secs_f64() * 1000.0,
        "outcome": {
            "sessionStatus": o.session_status.as_str(),
            "lastAction": o.last_action.as_ref().map(|a| a.as_str().to_owned()),
            "callCount": o.legs.len(),
            "errorDetails": o.error.as_ref().map(|(code, msg)| json!({"errorCode": code, "errorMsg": crate::mask_text(msg)})),
            "legs": o.legs.iter().map(|l| json!({
                "key": l.key,
                "callId": l.call_id,
                "callDirection": l.direction.as_str(),
                "source": masked(&l.source),
                "destination": masked(&l.destination),
                "callStatus": l.status.as_str(),
                "callDuration": l.duration_seconds,
                "sipCode": l.sip_code,
            })).collect::<Vec<_>>(),
            "actions": o.actions,
            "dialled": o.dialled.iter().map(|(s, d)| json!({"callerId": masked(s), "destination": masked(d)})).collect::<Vec<_>>(),
            "clientActionIds": o.client_action_ids,
            "callActions": o.call_actions,
        },
        "checks": r.checks.iter().map(|c| json!({"name": c.name, "passed": c.passed, "detail": c.detail})).collect::<Vec<_>>(),
        "exchanges": r.exchanges.iter().map(|e| json!({
            "atMs": e.at_ms,
            "eventType": e.event_type,
            "status": e.status,
            "leg": e.leg,
            "eventId": e.event_id,
            "duplicate": e.duplicate,
            "httpStatus": e.http_status,
            "responseTimeMs": e.response_time.as_secs_f64() * 1000.0,
            "error": e.error.as_deref().map(crate::mask_text),
            "violations": e.violations.iter().map(violation_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "transcript": r.transcript.iter().map(|l| json!({"atMs": l.at_ms, "text": l.text})).collect::<Vec<_>>(),
    })
}

/// All reports as one JSON document: `{"passed": …, "total": …, "failed": …, "scenarios": […]}`.
pub fn render_json(reports: &[Report]) -> String {
    let failed = reports.iter().filter(|r| !r.passed()).count();
    let doc = json!({
        "tool": "callflow-sim",
        "passed": failed == 0,
        "total": reports.len(),
        "failed": failed,
        "scenarios": reports.iter().map(|r| report_json(r, false)).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
    s.push('\n');
    s
}

/// Escapes text for XML 1.0 attribute values and character data, dropping the control
/// characters XML cannot carry.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Character data: like [`xml_escape`] but keeps line breaks as they are.
fn xml_text(text: &str) -> String {
    text.split('\n')
        .map(xml_escape)
        .collect::<Vec<_>>()
        .join("\n")
}

/// JUnit XML: one `<testsuite>` per scenario, one `<testcase>` per check (a `<failure>` when
/// it does not hold), the transcript in `<system-out>`.
pub fn render_junit(reports: &[Report]) -> String {
    let total: usize = reports.iter().map(|r| r.checks.len()).sum();
    let failures: usize = reports.iter().map(|r| r.failures().count()).sum();
    let time: f64 = reports.iter().map(|r| r.elapsed.as_secs_f64()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"callflow-sim\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">"
    );
    for r in reports {
        let suite = xml_escape(&r.scenario);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{:.3}\">",
            r.checks.len(),
            r.failures().count(),
            r.elapsed.as_secs_f64()
        );
        out.push_str("    <properties>\n");
        let mut props = vec![
            ("sessionId", r.session_id.clone()),
            (
                "sessionStatus",
                r.outcome.session_status.as_str().to_owned(),
            ),
        ];
        if let Some(p) = &r.source {
            props.push(("file", p.display().to_string()));
        }
        for (k, v) in props {
            let _ = writeln!(
                out,
                "      <property name=\"{k}\" value=\"{}\"/>",
                xml_escape(&v)
            );
        }
        out.push_str("    </properties>\n");
        for c in &r.checks {
            let _ = write!(
                out,
                "    <testcase classname=\"callflow-sim.{suite}\" name=\"{}\" time=\"0\"",
                xml_escape(&c.name)
            );
            if c.passed {
                out.push_str("/>\n");
            } else {
                let detail = c.detail.as_deref().unwrap_or("does not hold");
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"expectation\" message=\"{}\">{}</failure>\n    </testcase>",
                    xml_escape(detail),
                    xml_text(&format!("{}: {detail}", c.name))
                );
            }
        }
        let mut transcript = String::new();
        for l in &r.transcript {
            let _ = writeln!(transcript, "{:>8}  {}", fmt_secs(l.at_ms), l.text);
        }
        let _ = writeln!(
            out,
            "    <system-out>{}</system-out>\n  </testsuite>",
            xml_text(&transcript)
        );
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_handles_markup_and_control_characters() {
        assert_eq!(
            xml_escape("a<b & \"c\" 'd'\u{1}>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(xml_text("x\ny<"), "x\ny&lt;");
    }

    #[test]
    fn simulated_time_is_shown_in_tenths_of_seconds() {
        assert_eq!(fmt_secs(0), "+0.0s");
        assert_eq!(fmt_secs(23_450), "+23.4s");
    }
}
