//! Decoding callflow JSON with 8x8's codes: every missing, mistyped or unknown field is a
//! violation with its path, and what decodes is checked by the rules.

use serde_json::{Map, Value};

use super::rules::{check_action, check_structure};
use super::{Code, Mode, Report, Violations, action_path, path_index};
use crate::callflow::{Action, ActionKind, CallFlow, MakeCall, PlayFile, Say, SayAndCapture};

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
                source: source.unwrap_or_default(),
                destination: destination.unwrap_or_default(),
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
                voice_profile: voice.unwrap_or_default(),
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

pub(in crate::callflow) fn parse_flow(json: &[u8], mode: Mode) -> Result<CallFlow, Violations> {
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
