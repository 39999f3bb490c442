//! `POST /v1/bindings`: the body checked field by field, every invalid field named.

use std::time::Duration;

use callflow_masking::{BindingError, NewBinding, normalize_number, now_millis};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::model::FieldError;

/// The longest reference accepted.
pub const MAX_REFERENCE: usize = 200;

const FIELDS: [&str; 6] = [
    "virtualNumber",
    "parties",
    "ttl",
    "expiresAt",
    "record",
    "reference",
];

/// Parses a create request: 400 for malformed JSON, 422 naming each invalid field.
pub fn parse(body: &[u8]) -> Result<NewBinding, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(ApiError::invalid_json)?;
    let Value::Object(obj) = value else {
        return Err(ApiError::invalid_fields(vec![FieldError {
            path: "$".into(),
            message: "expected a JSON object".into(),
        }]));
    };
    let errors = std::cell::RefCell::new(Vec::new());
    let mut bad = |path: &str, message: String| {
        errors.borrow_mut().push(FieldError {
            path: path.to_owned(),
            message,
        })
    };
    for key in obj.keys() {
        if !FIELDS.contains(&key.as_str()) {
            bad(&format!("$.{key}"), "unknown field".into());
        }
    }
    let vn = number(&obj, "virtualNumber", &mut bad);
    let parties = parties(&obj, &mut bad);
    let ttl = optional(&obj, "ttl", &mut bad, Value::as_str)
        .and_then(|s| crate::ttl::parse_ttl(s).map_err(|e| bad("$.ttl", e)).ok());
    let expires_at = optional(&obj, "expiresAt", &mut bad, Value::as_str).and_then(|s| {
        match time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
            Ok(t) => {
                let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
                if ms <= now_millis() {
                    bad("$.expiresAt", "must be in the future".into());
                    None
                } else {
                    Some(ms)
                }
            }
            Err(e) => {
                bad("$.expiresAt", format!("not an RFC 3339 time: {e}"));
                None
            }
        }
    });
    if obj.get("ttl").is_some_and(|v| !v.is_null())
        && obj.get("expiresAt").is_some_and(|v| !v.is_null())
    {
        bad("$.expiresAt", "give ttl or expiresAt, not both".into());
    }
    let record = optional(&obj, "record", &mut bad, Value::as_bool).unwrap_or(false);
    let reference = optional(&obj, "reference", &mut bad, Value::as_str).and_then(|r| {
        if r.chars().count() > MAX_REFERENCE {
            bad("$.reference", format!("at most {MAX_REFERENCE} characters"));
            None
        } else {
            Some(r.to_owned())
        }
    });
    let new = match (vn, parties) {
        (Some(vn), Some([a, b])) if errors.borrow().is_empty() => {
            match NewBinding::new(&vn, &a, &b) {
                Ok(n) => Some(n),
                Err(BindingError::SameParties) => {
                    bad(
                        "$.parties",
                        "the two parties must be different numbers".into(),
                    );
                    None
                }
                Err(BindingError::PartyIsVirtualNumber) => {
                    bad("$.parties", "a party cannot be the virtual number".into());
                    None
                }
                Err(e) => {
                    bad("$", e.to_string());
                    None
                }
            }
        }
        _ => None,
    };
    match new {
        Some(mut new) if errors.borrow().is_empty() => {
            if let Some(ttl) = ttl {
                new = new.ttl(ttl.min(Duration::from_secs(100 * 365 * 86_400)));
            }
            if let Some(at) = expires_at {
                new = new.expires_at_millis(at);
            }
            new = new.record(record);
            if let Some(r) = reference {
                new = new.reference(r);
            }
            Ok(new)
        }
        _ => Err(ApiError::invalid_fields(errors.into_inner())),
    }
}

/// A required phone number field, normalised.
fn number(
    obj: &Map<String, Value>,
    key: &str,
    bad: &mut impl FnMut(&str, String),
) -> Option<String> {
    let path = format!("$.{key}");
    match obj.get(key) {
        None | Some(Value::Null) => {
            bad(&path, "required".into());
            None
        }
        Some(Value::String(s)) => checked_number(s, &path, bad),
        Some(_) => {
            bad(&path, "expected a string (an E.164 phone number)".into());
            None
        }
    }
}

fn checked_number(s: &str, path: &str, bad: &mut impl FnMut(&str, String)) -> Option<String> {
    // The API is stricter than the CLI: digits with an optional `+`, no separators.
    let digits = s.strip_prefix('+').unwrap_or(s);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        bad(
            path,
            "not an E.164 phone number (digits, `+` optional)".into(),
        );
        return None;
    }
    match normalize_number(s) {
        Ok(n) => Some(n.as_str().to_owned()),
        Err(_) => {
            bad(
                path,
                "not an E.164 phone number (6 to 15 digits, not starting with 0)".into(),
            );
            None
        }
    }
}

fn parties(obj: &Map<String, Value>, bad: &mut impl FnMut(&str, String)) -> Option<[String; 2]> {
    match obj.get("parties") {
        None | Some(Value::Null) => {
            bad("$.parties", "required".into());
            None
        }
        Some(Value::Array(items)) => {
            if items.len() != 2 {
                bad(
                    "$.parties",
                    format!("give exactly two parties (got {})", items.len()),
                );
                return None;
            }
            let mut out = Vec::with_capacity(2);
            for (i, item) in items.iter().enumerate() {
                let path = format!("$.parties[{i}]");
                match item {
                    Value::String(s) => out.extend(checked_number(s, &path, bad)),
                    _ => bad(&path, "expected a string (an E.164 phone number)".into()),
                }
            }
            <[String; 2]>::try_from(out).ok()
        }
        Some(_) => {
            bad("$.parties", "expected an array of two phone numbers".into());
            None
        }
    }
}

/// An optional field of one JSON type (`null` is the same as absent).
fn optional<'a, T>(
    obj: &'a Map<String, Value>,
    key: &str,
    bad: &mut impl FnMut(&str, String),
    get: impl Fn(&'a Value) -> Option<T>,
) -> Option<T> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => {
            let got = get(v);
            if got.is_none() {
                bad(&format!("$.{key}"), "wrong type".into());
            }
            got
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Vec<String> {
        let e = parse(body.as_bytes()).unwrap_err();
        let r = e.into_response();
        let v: Value = serde_json::from_slice(r.body()).unwrap();
        v["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn each_invalid_field_is_named() {
        assert_eq!(
            fields(
                r#"{"virtualNumber":"nope","parties":["+6591110001"],"ttl":"0s","record":"yes"}"#
            ),
            ["$.virtualNumber", "$.parties", "$.ttl", "$.record"]
        );
        assert_eq!(
            fields(r#"{"virtualNumber":"+6568880000","parties":["+6591110001","+6591110001"]}"#),
            ["$.parties"]
        );
        assert_eq!(
            fields(r#"{"parties":[1,"x"],"extra":1}"#),
            ["$.extra", "$.virtualNumber", "$.parties[0]", "$.parties[1]"]
        );
        assert!(parse(br#"{"virtualNumber":"+6568880000","parties":["+6591110001","+6592220002"],"ttl":"2h"}"#).is_ok());
        let e = parse(b"{nope").unwrap_err();
        assert_eq!(e.status(), 400);
    }
}
