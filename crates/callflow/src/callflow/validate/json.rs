//! Decoding callflow JSON with 8x8's codes: every missing, mistyped or unknown field is a
//! violation with its path, and what decodes is checked by the rules.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Number, Value};

use super::rules::{check_action, check_structure};
use super::schema::{self, Need, Param, Ty};
use super::{Code, Mode, Report, Violations, action_path, path_index};
use crate::callflow::{Action, ActionKind, CallFlow, MakeCall, PlayFile, Say, SayAndCapture};

/// What checking one raw parameter against its row of the table found.
enum Checked {
    /// Absent or `null`.
    Absent,
    /// Present with the wrong type or out of a `u32`'s range (reported).
    Invalid,
    /// Usable; `exact` is false when serde would not take it as it is (a whole float for an
    /// integer).
    Valid { exact: bool },
}

/// The value of an integer parameter: an integer, or a whole float, that fits a `u32`.
fn uint_of(n: &Number) -> Option<u32> {
    let v = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
            .map(|f| f as u64)
    });
    v.and_then(|v| u32::try_from(v).ok())
}

/// Checks `value` against `param`, reporting a wrong type (and, if `required`, absence).
fn check_param(
    r: &mut Report,
    path: &str,
    param: &Param,
    value: Option<&Value>,
    required: bool,
) -> Checked {
    let key = param.name;
    let wrong = |r: &mut Report, message: String| {
        r.push(Code::InvalidEntry, format!("{path}.{key}"), message);
        Checked::Invalid
    };
    match (param.ty, value) {
        (_, None | Some(Value::Null)) => {
            if required {
                r.push(
                    Code::InvalidEntry,
                    format!("{path}.{key}"),
                    "is missing but it is required",
                );
            }
            Checked::Absent
        }
        (Ty::Str, Some(Value::String(_)))
        | (Ty::Number, Some(Value::Number(_)))
        | (Ty::Bool, Some(Value::Bool(_))) => Checked::Valid { exact: true },
        (Ty::Uint, Some(Value::Number(n))) => match uint_of(n) {
            Some(_) => Checked::Valid {
                exact: n.as_u64().is_some(),
            },
            None => wrong(r, format!("must be a non-negative integer (got {n})")),
        },
        (Ty::Str, Some(_)) => wrong(r, "must be a string".into()),
        (Ty::Uint, Some(_)) => wrong(r, "must be an integer".into()),
        (Ty::Number, Some(_)) => wrong(r, "must be a number".into()),
        (Ty::Bool, Some(_)) => wrong(r, "must be true or false".into()),
    }
}

/// The typed parameters of `kind`, built by serde from a JSON object.
fn typed<'de, D: Deserializer<'de>>(kind: ActionKind, d: D) -> Result<Action, D::Error> {
    Ok(match kind {
        ActionKind::MakeCall => Action::MakeCall(MakeCall::deserialize(d)?),
        ActionKind::Say => Action::Say(Say::deserialize(d)?),
        ActionKind::PlayFile => Action::PlayFile(PlayFile::deserialize(d)?),
        ActionKind::SayAndCapture => Action::SayAndCapture(SayAndCapture::deserialize(d)?),
        ActionKind::Hangup => Action::Hangup,
    })
}

/// Checks the raw parameters of one action against the table ([`schema::params`]), then has
/// serde build the typed action from them. `None` when any parameter is missing, mistyped or
/// unknown (each reported): the typed checks run only on entries that parsed cleanly, so a
/// `say` with only the legacy `language` (an empty voice profile) is not a second violation.
fn parse_params(
    r: &mut Report,
    kind: ActionKind,
    params: &Value,
    map: &Map<String, Value>,
    path: String,
) -> Option<Action> {
    let table = schema::params(kind);
    let before = r.0.len();
    // Bit i: parameter i has a usable value.
    let mut valid: u32 = 0;
    // Whether serde needs a normalized copy (a whole float for an integer, a stand-in used).
    let mut normalize = false;
    for (i, param) in table.iter().enumerate() {
        let required = param.need == Need::Required;
        if let Checked::Valid { exact } =
            check_param(r, &path, param, map.get(param.name), required)
        {
            valid |= 1 << i;
            normalize |= !exact;
        }
        // A parameter this one stands in for is required when neither is given.
        for (j, earlier) in table[..i].iter().enumerate() {
            if earlier.need == Need::UnlessGiven(param.name) && valid & (1 << i | 1 << j) == 0 {
                check_param(r, &path, earlier, map.get(earlier.name), true);
            }
        }
    }
    // Parameters this action does not have (typos such as `voiceprofile`).
    for key in map.keys() {
        if !table.iter().any(|p| p.name == key) {
            r.push(
                Code::InvalidEntry,
                format!("{path}.{key}"),
                format!("is not a parameter of {}", kind.as_str()),
            );
        }
    }
    if r.0.len() != before {
        return None;
    }
    normalize |= table
        .iter()
        .enumerate()
        .any(|(i, p)| matches!(p.need, Need::UnlessGiven(_)) && valid & (1 << i) == 0);
    let built = if normalize {
        // Only the usable values, integers as integers, a stand-in's parameter empty.
        let mut clean = Map::new();
        for (i, p) in table.iter().enumerate() {
            let value = match map.get(p.name) {
                Some(Value::Number(n)) if valid & (1 << i) != 0 && p.ty == Ty::Uint => {
                    uint_of(n).map(Value::from)
                }
                Some(v) if valid & (1 << i) != 0 => Some(v.clone()),
                _ => matches!(p.need, Need::UnlessGiven(_)).then(|| Value::String(String::new())),
            };
            if let Some(v) = value {
                clean.insert(p.name.to_owned(), v);
            }
        }
        typed(kind, Value::Object(clean))
    } else {
        typed(kind, params)
    };
    match built {
        Ok(action) => Some(action),
        Err(e) => {
            // The table and the model agree (a test holds them together); if they ever did
            // not, the entry is refused rather than half-read.
            r.push(Code::InvalidEntry, path, format!("cannot be read: {e}"));
            None
        }
    }
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
                (_, Some(v @ Value::Object(m))) => parse_params(&mut r, k, v, m, params_path),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn say(params: &str) -> Result<CallFlow, Violations> {
        let json = format!(r#"{{"callflow":[{{"action":"say","params":{params}}}]}}"#);
        parse_flow(json.as_bytes(), Mode::Reply)
    }

    #[test]
    fn whole_floats_nulls_and_the_legacy_language_reach_the_model() {
        let flow =
            say(r#"{"text":"Hi","voiceProfile":"v","repetition":2.0,"speed":null}"#).unwrap();
        let Action::Say(s) = &flow.actions()[0] else {
            panic!()
        };
        assert_eq!((s.repetition, s.speed), (Some(2), None));
        // The legacy `language` stands in for a missing voice profile: the entry decodes
        // (an empty profile), and only the rule on the typed model speaks.
        for params in [
            r#"{"text":"Hi","language":"en-US"}"#,
            r#"{"text":"Hi","voiceProfile":null,"language":"en-US"}"#,
        ] {
            let v = say(params).unwrap_err().into_vec();
            assert_eq!(v.len(), 1, "{v:?}");
            assert_eq!(v[0].path, "$.callflow[0].params.voiceProfile");
            assert_eq!(v[0].message, "must not be empty");
        }
    }

    #[test]
    fn a_voice_profile_is_required_without_language_and_a_wrong_type_says_so() {
        let paths = |v: Violations| -> Vec<(Code, String, String)> {
            v.into_vec()
                .into_iter()
                .map(|v| (v.code, v.path, v.message))
                .collect()
        };
        let p = "$.callflow[0].params";
        assert_eq!(
            paths(say(r#"{"text":"Hi"}"#).unwrap_err()),
            [(
                Code::InvalidEntry,
                format!("{p}.voiceProfile"),
                "is missing but it is required".to_owned()
            )]
        );
        // As before the table: the wrong type is reported where it is read and again where
        // the stand-in is found missing.
        let got =
            paths(say(r#"{"text":"Hi","voiceProfile":1,"speed":"x","extra":1}"#).unwrap_err());
        let want: Vec<(Code, String, String)> = [
            ("voiceProfile", "must be a string"),
            ("voiceProfile", "must be a string"),
            ("speed", "must be a number"),
            ("extra", "is not a parameter of say"),
        ]
        .into_iter()
        .map(|(k, m)| (Code::InvalidEntry, format!("{p}.{k}"), m.to_owned()))
        .collect();
        assert_eq!(got, want);
    }
}
