//! Scripted parties and per-session faults: what the emulator's own endpoints accept beside
//! 8x8's schema, shared by inbound calls (`POST /emulator/v1/calls`) and the callees that
//! Send Callflow sessions dial (`POST /emulator/v1/callees`).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde::Deserialize;

use crate::events::PayloadStyle;
use crate::scenario::{Callee, Outcome};

/// The `faults` object: how the platform misbehaves during one session, as `play`'s options.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FaultsBody {
    #[serde(default)]
    duplicate: bool,
    #[serde(default)]
    reorder: bool,
    #[serde(default)]
    slow_after_ms: Option<u64>,
    #[serde(default)]
    payload_style: Option<String>,
}

/// Faults as the engine takes them.
#[derive(Clone, Debug, Default)]
pub(super) struct Faults {
    /// Every event twice (same `eventId`).
    pub(super) duplicate: bool,
    /// `CALL_STATUS` events held back and delivered in reverse order.
    pub(super) reorder: bool,
    /// Replies slower than this are failed checks in the session's report.
    pub(super) slow_after: Option<Duration>,
    /// Where captured digits go.
    pub(super) payload_style: PayloadStyle,
}

impl FaultsBody {
    pub(super) fn parse(self) -> Result<Faults, String> {
        let payload_style = match self.payload_style.as_deref() {
            None => PayloadStyle::Current,
            Some(name) => PayloadStyle::from_name(name).ok_or_else(|| {
                format!("faults.payload_style: {name:?} is not current, legacy or string")
            })?,
        };
        Ok(Faults {
            duplicate: self.duplicate,
            reorder: self.reorder,
            slow_after: self.slow_after_ms.map(Duration::from_millis),
            payload_style,
        })
    }
}

/// `"digits": "1"` or `"digits": ["1", "2"]`: pressed at each `sayAndCapture`, in order.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Digits {
    One(String),
    Many(Vec<String>),
}

impl Default for Digits {
    fn default() -> Self {
        Digits::Many(Vec::new())
    }
}

impl Digits {
    /// The list, each entry checked to be DTMF (digits, `*`, `#`; empty = no input).
    pub(super) fn parse(self) -> Result<Vec<String>, String> {
        let list = match self {
            Digits::One(d) => vec![d],
            Digits::Many(v) => v,
        };
        if let Some(d) = list.iter().find(|d| {
            !d.chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
        }) {
            return Err(format!("digits: {d:?} is not DTMF (digits, * and # only)"));
        }
        Ok(list)
    }
}

/// The body of `POST /emulator/v1/callees`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CalleeBody {
    /// The number it answers for; absent: the default for every number without a script.
    #[serde(default)]
    pub(super) number: Option<String>,
    #[serde(default)]
    outcome: Outcome,
    #[serde(default)]
    ring_seconds: Option<u64>,
    #[serde(default)]
    talk_seconds: Option<u64>,
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    digits: Digits,
    #[serde(default)]
    faults: FaultsBody,
}

/// How one dialled party behaves: its leg's outcome and, when it is the party that hears
/// the prompts (the `callA` of a Send Callflow session), the digits it presses and the
/// session's faults.
#[derive(Clone, Debug, Default)]
pub(super) struct PartyScript {
    pub(super) callee: Callee,
    pub(super) digits: Vec<String>,
    pub(super) faults: Faults,
}

impl CalleeBody {
    pub(super) fn parse(self) -> Result<PartyScript, String> {
        let defaults = Callee::default();
        let callee = Callee {
            outcome: self.outcome,
            ring_seconds: self.ring_seconds,
            talk_seconds: self.talk_seconds.unwrap_or(defaults.talk_seconds),
            error_code: self.error_code,
        };
        Ok(PartyScript {
            callee,
            digits: self.digits.parse()?,
            faults: self.faults.parse()?,
        })
    }
}

/// Whether `number` looks like a phone number: 7 to 15 digits, with a leading `+`, spaces,
/// dashes and parentheses allowed.
pub(super) fn is_phone_number(number: &str) -> bool {
    let n = number.trim();
    let n = n.strip_prefix('+').unwrap_or(n);
    n.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
        && (7..=15).contains(&key(n).len())
}

/// The digits of a number: the same party however the number is punctuated.
fn key(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The scripts waiting for their number to be rung, and the default.
#[derive(Default)]
pub(super) struct Callees {
    queued: HashMap<String, VecDeque<PartyScript>>,
    default: Option<PartyScript>,
}

impl Callees {
    /// Queues `script` for `number` (the next ring of that number consumes it), or makes
    /// it the default; returns how many scripts now wait for that number.
    pub(super) fn add(&mut self, number: Option<&str>, script: PartyScript) -> usize {
        match number {
            Some(n) => {
                let q = self.queued.entry(key(n)).or_default();
                q.push_back(script);
                q.len()
            }
            None => {
                self.default = Some(script);
                0
            }
        }
    }

    /// The next script queued for `number`, consumed.
    pub(super) fn take(&mut self, number: &str) -> Option<PartyScript> {
        let k = key(number);
        let q = self.queued.get_mut(&k)?;
        let script = q.pop_front();
        if q.is_empty() {
            self.queued.remove(&k);
        }
        script
    }

    /// The default script, if one is set.
    pub(super) fn default_script(&self) -> Option<PartyScript> {
        self.default.clone()
    }

    /// Forgets every queued script and the default.
    pub(super) fn clear(&mut self) {
        self.queued.clear();
        self.default = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(outcome: Outcome) -> PartyScript {
        let mut s = PartyScript::default();
        s.callee.outcome = outcome;
        s
    }

    #[test]
    fn scripts_for_a_number_are_consumed_in_order_whatever_its_punctuation() {
        let mut c = Callees::default();
        assert_eq!(c.add(Some("+65 9111-0001"), script(Outcome::Busy)), 1);
        assert_eq!(c.add(Some("+6591110001"), script(Outcome::NoAnswer)), 2);
        assert_eq!(c.take("6591110001").unwrap().callee.outcome, Outcome::Busy);
        assert_eq!(
            c.take("+6591110001").unwrap().callee.outcome,
            Outcome::NoAnswer
        );
        assert!(c.take("+6591110001").is_none());
    }

    #[test]
    fn phone_numbers_are_seven_to_fifteen_digits() {
        assert!(is_phone_number("+65 9111-0001"));
        assert!(is_phone_number("6591110001"));
        assert!(!is_phone_number("12"));
        assert!(!is_phone_number("abc6591110001"));
        assert!(!is_phone_number("+1234567890123456"));
    }

    #[test]
    fn the_default_is_kept_until_cleared() {
        let mut c = Callees::default();
        c.add(None, script(Outcome::Failed));
        assert_eq!(c.default_script().unwrap().callee.outcome, Outcome::Failed);
        assert_eq!(c.default_script().unwrap().callee.outcome, Outcome::Failed);
        assert!(c.take("+6591110001").is_none());
        c.clear();
        assert!(c.default_script().is_none());
    }

    #[test]
    fn a_body_with_one_digit_string_and_faults_parses() {
        let body: CalleeBody = serde_json::from_str(
            r#"{"number":"+6591110001","outcome":"answered","digits":"1",
                "faults":{"duplicate":true,"payload_style":"string","slow_after_ms":200}}"#,
        )
        .unwrap();
        let s = body.parse().unwrap();
        assert_eq!(s.digits, vec!["1".to_owned()]);
        assert!(s.faults.duplicate);
        assert_eq!(s.faults.payload_style, PayloadStyle::PlainString);
        assert_eq!(s.faults.slow_after, Some(Duration::from_millis(200)));
    }

    #[test]
    fn bad_digits_and_styles_are_refused_with_the_field_named() {
        let body: CalleeBody = serde_json::from_str(r#"{"digits":["1x"]}"#).unwrap();
        assert!(body.parse().unwrap_err().starts_with("digits:"));
        let body: CalleeBody =
            serde_json::from_str(r#"{"faults":{"payload_style":"xml"}}"#).unwrap();
        assert!(
            body.parse()
                .unwrap_err()
                .starts_with("faults.payload_style")
        );
        assert!(serde_json::from_str::<CalleeBody>(r#"{"outcome":"maybe"}"#).is_err());
    }
}
