//! 8x8's callflow rules, reported with 8x8's own status codes and JSON paths.
//!
//! Where 8x8's prose and its own examples disagree, the examples win: every official
//! `sayAndCapture` example sets `digitTimeout` equal to `overallTimeout`, which the prose
//! ("must be less than") would reject, so equality is accepted and only
//! `digitTimeout > overallTimeout` is -1006.

use std::fmt;

use serde_json::{Map, Value};

use super::{
    Action, ActionKind, CallFlow, DEFAULT_VOICE_PROFILE, MakeCall, PlayFile, Say, SayAndCapture,
};

/// Which request the callflow is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The body of a reply to a `CALL_ACTION` webhook: any action may come first.
    Reply,
    /// The body of a Send Callflow API request: the first action must be `makeCall`, and
    /// `makeCall` takes only `source` and `destination` (the schema's `maxProperties: 2`).
    SendCallflow,
}

/// 8x8's callflow validation status codes (Send Callflow `statusCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
#[non_exhaustive]
pub enum Code {
    /// -1001: the body is not valid JSON.
    InvalidJson = -1001,
    /// -1002: invalid speech profile or language.
    InvalidSpeechProfile = -1002,
    /// -1003: `minDigits` given without a valid `maxDigits`.
    MinDigitsWithoutMaxDigits = -1003,
    /// -1005: `digitTimeout` given without a valid `overallTimeout`.
    DigitTimeoutWithoutOverallTimeout = -1005,
    /// -1006: `overallTimeout` must not be smaller than `digitTimeout`.
    OverallTimeoutTooSmall = -1006,
    /// -1007: unknown action type.
    UnknownAction = -1007,
    /// -1008: `completeOnHash` false without a valid `maxDigits`.
    CompleteOnHashWithoutMaxDigits = -1008,
    /// -1009: invalid callflow entry (missing, mistyped or out-of-range parameter).
    InvalidEntry = -1009,
    /// -1010: more actions than allowed (more than two `makeCall`).
    TooManyActions = -1010,
    /// -1012: `hangup` used incorrectly (anywhere but last).
    HangupMisplaced = -1012,
    /// -1013: the first action is not `makeCall` (Send Callflow).
    FirstActionNotMakeCall = -1013,
    /// -1017: the destination is not a valid MSISDN.
    InvalidDestination = -1017,
}

impl Code {
    /// The numeric code 8x8 uses.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_i32())
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// 8x8's status code for it.
    pub code: Code,
    /// JSON path, e.g. `$.callflow[0].params.text`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code, self.path, self.message)
    }
}

/// Every rule a callflow breaks (never empty).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// The violations, in document order.
    pub fn violations(&self) -> &[Violation] {
        &self.0
    }

    /// Whether any violation has `code`.
    pub fn has(&self, code: Code) -> bool {
        self.0.iter().any(|v| v.code == code)
    }

    /// Consumes into the list.
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

const MAX_TEXT_CHARS: usize = 3000;

#[derive(Default)]
struct Report(Vec<Violation>);

impl Report {
    fn push(&mut self, code: Code, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation {
            code,
            path: path.into(),
            message: message.into(),
        });
    }

    fn finish<T>(self, ok: T) -> Result<T, Violations> {
        if self.0.is_empty() {
            Ok(ok)
        } else {
            Err(Violations(self.0))
        }
    }
}

fn action_path(i: usize) -> String {
    format!("$.callflow[{i}]")
}

/// The path of an action's parameters, formatted only when a violation is reported (the
/// valid path allocates nothing).
#[derive(Clone, Copy)]
struct At(usize);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "$.callflow[{}].params", self.0)
    }
}

/// Whether `s` is an MSISDN: an optional `+` then 6–15 digits, not starting with 0.
pub(crate) fn is_msisdn(s: &str) -> bool {
    let d = s.strip_prefix('+').unwrap_or(s);
    (6..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
}

fn is_http_url(s: &str) -> bool {
    let lower = s.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let rest = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !s.chars().any(char::is_whitespace)
}

/// Ordering rules over the action kinds (`None` = an entry whose action is unknown).
fn check_structure(
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
    if !is_msisdn(m.source.as_str()) {
        r.push(
            Code::InvalidEntry,
            format!("{p}.source"),
            "is not a valid MSISDN (E.164 digits, `+` optional)",
        );
    }
    if !is_msisdn(m.destination.as_str()) {
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
    check_voice(
        r,
        p,
        c.voice_profile.as_deref().unwrap_or(DEFAULT_VOICE_PROFILE),
    );
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

fn check_action(r: &mut Report, i: usize, a: &Action, mode: Mode) {
    let p = At(i);
    match a {
        Action::MakeCall(m) => check_make_call(r, p, m, mode),
        Action::Say(s) => check_say(r, p, s),
        Action::PlayFile(f) => check_play_file(r, p, f),
        Action::SayAndCapture(c) => check_capture(r, p, c),
        Action::Hangup => {}
    }
}

pub(super) fn validate_flow(flow: &CallFlow, mode: Mode) -> Result<(), Violations> {
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

// ---- parsing JSON with codes ----

struct Params<'a> {
    map: &'a Map<String, Value>,
    path: String,
    used: Vec<&'static str>,
}

impl<'a> Params<'a> {
    fn str(&mut self, r: &mut Report, key: &'static str, required: bool) -> Option<String> {
        self.used.push(key);
        match self.map.get(key) {
            None | Some(Value::Null) => {
                if required {
                    r.push(
                        Code::InvalidEntry,
                        format!("{}.{key}", self.path),
                        "is missing but it is required",
                    );
                }
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                r.push(
                    Code::InvalidEntry,
                    format!("{}.{key}", self.path),
                    "must be a string",
                );
                None
            }
        }
    }

    fn uint(&mut self, r: &mut Report, key: &'static str) -> Option<u32> {
        self.used.push(key);
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => {
                let v = n.as_u64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                        .map(|f| f as u64)
                });
                match v.and_then(|v| u32::try_from(v).ok()) {
                    Some(v) => Some(v),
                    None => {
                        r.push(
                            Code::InvalidEntry,
                            format!("{}.{key}", self.path),
                            format!("must be a non-negative integer (got {n})"),
                        );
                        None
                    }
                }
            }
            Some(_) => {
                r.push(
                    Code::InvalidEntry,
                    format!("{}.{key}", self.path),
                    "must be an integer",
                );
                None
            }
        }
    }

    fn number(&mut self, r: &mut Report, key: &'static str) -> Option<f64> {
        self.used.push(key);
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => {
                r.push(
                    Code::InvalidEntry,
                    format!("{}.{key}", self.path),
                    "must be a number",
                );
                None
            }
        }
    }

    fn boolean(&mut self, r: &mut Report, key: &'static str) -> Option<bool> {
        self.used.push(key);
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                r.push(
                    Code::InvalidEntry,
                    format!("{}.{key}", self.path),
                    "must be true or false",
                );
                None
            }
        }
    }

    /// Reports parameters this action does not have (typos such as `voiceprofile`).
    fn finish(self, r: &mut Report, action: ActionKind) {
        for key in self.map.keys() {
            if !self.used.contains(&key.as_str()) {
                r.push(
                    Code::InvalidEntry,
                    format!("{}.{key}", self.path),
                    format!("is not a parameter of {}", action.as_str()),
                );
            }
        }
    }
}

fn parse_params(
    r: &mut Report,
    kind: ActionKind,
    map: &Map<String, Value>,
    path: String,
) -> Option<Action> {
    let mut p = Params {
        map,
        path,
        used: Vec::new(),
    };
    let before = r.0.len();
    let action = match kind {
        ActionKind::MakeCall => {
            let source = p.str(r, "source", true);
            let destination = p.str(r, "destination", true);
            let call_recording = p.boolean(r, "callRecording");
            Action::MakeCall(MakeCall {
                source: source.unwrap_or_default().into(),
                destination: destination.unwrap_or_default().into(),
                call_recording,
            })
        }
        ActionKind::Say => {
            let text = p.str(r, "text", true);
            let voice = p.str(r, "voiceProfile", false);
            let language = p.str(r, "language", false);
            if voice.is_none() && language.is_none() {
                p.str(r, "voiceProfile", true);
            }
            Action::Say(Say {
                text: text.unwrap_or_default(),
                voice_profile: voice.unwrap_or_default(),
                language,
                repetition: p.uint(r, "repetition"),
                speed: p.number(r, "speed"),
            })
        }
        ActionKind::PlayFile => {
            let url = p.str(r, "fileUrl", true);
            Action::PlayFile(PlayFile {
                file_url: url.unwrap_or_default(),
                repetition: p.uint(r, "repetition"),
            })
        }
        ActionKind::SayAndCapture => {
            let prompt = p.str(r, "promptMessage", true);
            let voice = p.str(r, "voiceProfile", true);
            Action::SayAndCapture(SayAndCapture {
                prompt_message: prompt.unwrap_or_default(),
                voice_profile: voice,
                speed: p.number(r, "speed"),
                complete_on_hash: p.boolean(r, "completeOnHash"),
                min_digits: p.uint(r, "minDigits"),
                max_digits: p.uint(r, "maxDigits"),
                digit_timeout: p.uint(r, "digitTimeout"),
                overall_timeout: p.uint(r, "overallTimeout"),
                no_of_tries: p.uint(r, "noOfTries"),
                success_message: p.str(r, "successMessage", false),
                failure_message: p.str(r, "failureMessage", false),
                repetition: p.uint(r, "repetition"),
            })
        }
        ActionKind::Hangup => Action::Hangup,
    };
    p.finish(r, kind);
    // A Say with only the legacy `language` has an empty voice profile; that is not a second
    // violation, so the typed checks below run only on entries that parsed cleanly.
    (r.0.len() == before).then_some(action)
}

pub(super) fn parse_flow(json: &[u8], mode: Mode) -> Result<CallFlow, Violations> {
    let mut r = Report::default();
    let root: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => {
            r.push(Code::InvalidJson, "$", format!("not valid JSON: {e}"));
            return r.finish(CallFlow::from_actions(None, Vec::new()));
        }
    };
    let Value::Object(root) = root else {
        r.push(Code::InvalidEntry, "$", "must be a JSON object");
        return r.finish(CallFlow::from_actions(None, Vec::new()));
    };
    let allowed: &[&str] = match mode {
        Mode::Reply => &["clientActionId", "callflow"],
        Mode::SendCallflow => &["clientActionId", "callflow", "validUntil"],
    };
    for key in root.keys() {
        if !allowed.contains(&key.as_str()) {
            r.push(
                Code::InvalidEntry,
                format!("$.{key}"),
                "is not allowed here",
            );
        }
    }
    let client_action_id = match root.get("clientActionId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            r.push(Code::InvalidEntry, "$.clientActionId", "must be a string");
            None
        }
    };
    if let Some(v) = root.get("validUntil")
        && !v.is_string()
    {
        r.push(Code::InvalidEntry, "$.validUntil", "must be a string");
    }
    let entries: &[Value] = match root.get("callflow") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => {
            r.push(
                Code::InvalidEntry,
                "$.callflow",
                "is missing but it is required",
            );
            return r.finish(CallFlow::from_actions(client_action_id, Vec::new()));
        }
        Some(_) => {
            r.push(Code::InvalidEntry, "$.callflow", "must be an array");
            return r.finish(CallFlow::from_actions(client_action_id, Vec::new()));
        }
    };

    let mut kinds = Vec::with_capacity(entries.len());
    let mut parsed: Vec<(usize, Option<Action>)> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let base = action_path(i);
        let Value::Object(obj) = entry else {
            r.push(Code::InvalidEntry, base, "must be an object");
            kinds.push(None);
            parsed.push((i, None));
            continue;
        };
        let kind = match obj.get("action") {
            Some(Value::String(name)) => match ActionKind::from_name(name) {
                Some(k) => Some(k),
                None => {
                    r.push(
                        Code::UnknownAction,
                        format!("{base}.action"),
                        "should be one of: say,playFile,sayAndCapture,makeCall,hangup",
                    );
                    None
                }
            },
            None => {
                r.push(
                    Code::InvalidEntry,
                    format!("{base}.action"),
                    "is missing but it is required",
                );
                None
            }
            Some(_) => {
                r.push(
                    Code::UnknownAction,
                    format!("{base}.action"),
                    "must be a string",
                );
                None
            }
        };
        kinds.push(kind);
        for key in obj.keys() {
            if key != "action" && key != "params" {
                r.push(
                    Code::InvalidEntry,
                    format!("{base}.{key}"),
                    "is not allowed here",
                );
            }
        }
        let action = kind.and_then(|k| {
            let params_path = format!("{base}.params");
            match (k, obj.get("params")) {
                (ActionKind::Hangup, None | Some(Value::Null)) => Some(Action::Hangup),
                (ActionKind::Hangup, Some(Value::Object(m))) if m.is_empty() => {
                    Some(Action::Hangup)
                }
                (ActionKind::Hangup, Some(_)) => {
                    r.push(
                        Code::InvalidEntry,
                        params_path,
                        "hangup takes no parameters",
                    );
                    None
                }
                (_, Some(Value::Object(m))) => parse_params(&mut r, k, m, params_path),
                (_, None | Some(Value::Null)) => {
                    r.push(
                        Code::InvalidEntry,
                        params_path,
                        "is missing but it is required",
                    );
                    None
                }
                (_, Some(_)) => {
                    r.push(Code::InvalidEntry, params_path, "must be an object");
                    None
                }
            }
        });
        parsed.push((i, action));
    }

    check_structure(kinds.len(), |i| kinds[i], mode, &mut r);
    for (i, a) in &parsed {
        if let Some(a) = a {
            check_action(&mut r, *i, a, mode);
        }
    }
    // Report in document order: by action index, structural first.
    r.0.sort_by_key(|v| path_index(&v.path));
    let actions = parsed.into_iter().filter_map(|(_, a)| a).collect();
    r.finish(CallFlow::from_actions(client_action_id, actions))
}

/// The action index in a path (`$.callflow[3].…` → 3), or `None` before any action.
fn path_index(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("$.callflow[")?;
    rest.split(']').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msisdn_accepts_e164_with_or_without_plus() {
        assert!(is_msisdn("+6591110001"));
        assert!(is_msisdn("6512345678"));
        assert!(!is_msisdn("06512345678"));
        assert!(!is_msisdn("+65 9111 0001"));
        assert!(!is_msisdn("12345"));
        assert!(!is_msisdn("+1234567890123456"));
        assert!(!is_msisdn("sip:alice@example.com"));
    }

    #[test]
    fn http_urls_only() {
        assert!(is_http_url("https://example.com/a.mp3"));
        assert!(is_http_url("HTTP://example.com/a.wav"));
        assert!(!is_http_url("ftp://example.com/a.mp3"));
        assert!(!is_http_url("https:///a.mp3"));
        assert!(!is_http_url("file:///etc/passwd"));
        assert!(!is_http_url("https://exa mple.com/a.mp3"));
    }
}
