//! The rules over the typed model: ordering of actions and every parameter's limits.

use super::formats::{is_http_url, is_msisdn};
use super::{At, Code, Mode, Report, Violations, action_path};
use crate::callflow::{Action, ActionKind, CallFlow, MakeCall, PlayFile, Say, SayAndCapture};

const MAX_TEXT_CHARS: usize = 3000;

/// Ordering rules over the action kinds (`None` = an entry whose action is unknown).
pub(super) fn check_structure(
    len: usize,
    kind_at: impl Fn(usize) -> Option<ActionKind>,
    mode: Mode,
    r: &mut Report,
) {
    if len == 0 {
        r.push(
            Code::InvalidEntry,
            "$.callflow",
            "must contain at least one action",
        );
        return;
    }
    if mode == Mode::SendCallflow && kind_at(0) != Some(ActionKind::MakeCall) {
        r.push(
            Code::FirstActionNotMakeCall,
            "$.callflow[0].action",
            "the first action of a Send Callflow request must be makeCall",
        );
    }
    let mut make_calls = 0;
    for i in 0..len {
        match kind_at(i) {
            Some(ActionKind::MakeCall) => {
                make_calls += 1;
                if make_calls == 3 {
                    r.push(
                        Code::TooManyActions,
                        format!("{}.action", action_path(i)),
                        "at most two makeCall actions are allowed in one callflow",
                    );
                }
            }
            Some(ActionKind::Hangup) if i + 1 != len => r.push(
                Code::HangupMisplaced,
                format!("{}.action", action_path(i)),
                "hangup must be the last action",
            ),
            _ => {}
        }
    }
}

fn check_text(r: &mut Report, p: At, name: &str, text: &str, required: bool) {
    if text.trim().is_empty() {
        if required {
            r.push(
                Code::InvalidEntry,
                format!("{p}.{name}"),
                "must not be empty",
            );
        }
    } else if text.len() > MAX_TEXT_CHARS && text.chars().count() > MAX_TEXT_CHARS {
        r.push(
            Code::InvalidEntry,
            format!("{p}.{name}"),
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        );
    }
}

fn check_repetition(r: &mut Report, p: At, rep: Option<u32>) {
    if let Some(n) = rep
        && !(1..=3).contains(&n)
    {
        r.push(
            Code::InvalidEntry,
            format!("{p}.repetition"),
            format!("must be 1, 2 or 3 (got {n})"),
        );
    }
}

fn check_speed(r: &mut Report, p: At, speed: Option<f64>) {
    if let Some(s) = speed
        && !(0.5..=2.0).contains(&s)
    {
        r.push(
            Code::InvalidEntry,
            format!("{p}.speed"),
            format!("must be between 0.5 and 2.0 (got {s})"),
        );
    }
}

fn check_voice(r: &mut Report, p: At, voice: &str) {
    if voice.trim().is_empty() {
        r.push(
            Code::InvalidEntry,
            format!("{p}.voiceProfile"),
            "must not be empty",
        );
    }
}

fn check_make_call(r: &mut Report, p: At, m: &MakeCall, mode: Mode) {
    if !is_msisdn(&m.source) {
        r.push(
            Code::InvalidEntry,
            format!("{p}.source"),
            "is not a valid MSISDN (E.164 digits, `+` optional)",
        );
    }
    if !is_msisdn(&m.destination) {
        r.push(
            Code::InvalidDestination,
            format!("{p}.destination"),
            "is not a valid MSISDN (E.164 digits, `+` optional)",
        );
    }
    if mode == Mode::SendCallflow && m.call_recording.is_some() {
        r.push(
            Code::InvalidEntry,
            format!("{p}.callRecording"),
            "is not allowed in a Send Callflow request (only in replies to CALL_ACTION)",
        );
    }
}

fn check_say(r: &mut Report, p: At, s: &Say) {
    check_text(r, p, "text", &s.text, true);
    check_voice(r, p, &s.voice_profile);
    check_repetition(r, p, s.repetition);
    check_speed(r, p, s.speed);
}

fn check_play_file(r: &mut Report, p: At, f: &PlayFile) {
    if !is_http_url(&f.file_url) {
        r.push(
            Code::InvalidEntry,
            format!("{p}.fileUrl"),
            "must be a public http(s) URL",
        );
    }
    check_repetition(r, p, f.repetition);
}

fn check_capture(r: &mut Report, p: At, c: &SayAndCapture) {
    check_text(r, p, "promptMessage", &c.prompt_message, true);
    check_voice(r, p, &c.voice_profile);
    check_speed(r, p, c.speed);
    check_repetition(r, p, c.repetition);
    for (name, msg) in [
        ("successMessage", &c.success_message),
        ("failureMessage", &c.failure_message),
    ] {
        if let Some(m) = msg {
            check_text(r, p, name, m, false);
        }
    }
    match c.max_digits {
        Some(max) if !(1..=25).contains(&max) => r.push(
            Code::InvalidEntry,
            format!("{p}.maxDigits"),
            format!("must be between 1 and 25 (got {max})"),
        ),
        None if c.min_digits.is_some() => r.push(
            Code::MinDigitsWithoutMaxDigits,
            format!("{p}.maxDigits"),
            "is required when minDigits is given",
        ),
        None if c.complete_on_hash == Some(false) => r.push(
            Code::CompleteOnHashWithoutMaxDigits,
            format!("{p}.maxDigits"),
            "is required when completeOnHash is false",
        ),
        _ => {}
    }
    if let Some(min) = c.min_digits {
        if min < 1 {
            r.push(
                Code::InvalidEntry,
                format!("{p}.minDigits"),
                "must be at least 1",
            );
        } else if let Some(max) = c.max_digits.filter(|m| min > *m) {
            r.push(
                Code::InvalidEntry,
                format!("{p}.minDigits"),
                format!("must not exceed maxDigits ({min} > {max})"),
            );
        }
    }
    for (name, v) in [
        ("digitTimeout", c.digit_timeout),
        ("overallTimeout", c.overall_timeout),
        ("noOfTries", c.no_of_tries),
    ] {
        if v == Some(0) {
            r.push(
                Code::InvalidEntry,
                format!("{p}.{name}"),
                "must be at least 1",
            );
        }
    }
    match (c.digit_timeout, c.overall_timeout) {
        (Some(_), None) => r.push(
            Code::DigitTimeoutWithoutOverallTimeout,
            format!("{p}.overallTimeout"),
            "is required when digitTimeout is given",
        ),
        (Some(d), Some(o)) if d > o => r.push(
            Code::OverallTimeoutTooSmall,
            format!("{p}.overallTimeout"),
            format!("must not be smaller than digitTimeout ({o} < {d})"),
        ),
        _ => {}
    }
}

pub(super) fn check_action(r: &mut Report, i: usize, a: &Action, mode: Mode) {
    let p = At(i);
    match a {
        Action::MakeCall(m) => check_make_call(r, p, m, mode),
        Action::Say(s) => check_say(r, p, s),
        Action::PlayFile(f) => check_play_file(r, p, f),
        Action::SayAndCapture(c) => check_capture(r, p, c),
        Action::Hangup => {}
    }
}

pub(in crate::callflow) fn validate_flow(flow: &CallFlow, mode: Mode) -> Result<(), Violations> {
    let mut r = Report::default();
    check_structure(
        flow.actions.len(),
        |i| Some(flow.actions[i].kind()),
        mode,
        &mut r,
    );
    for (i, a) in flow.actions.iter().enumerate() {
        check_action(&mut r, i, a, mode);
    }
    r.finish(())
}
