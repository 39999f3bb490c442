//! Masking phone numbers in everything the simulator prints.

use callflow::phone::Masked;
use serde_json::Value;

/// Replaces every phone-number-like run in `text` (an optional `+` and 7 or more digits,
/// standing alone) with its masked form (`+65****0001`).
pub(crate) fn mask_text(text: &str) -> String {
    replace_numbers(text, |number| Masked(number).to_string())
}

/// Calls `with` on every phone-number-like run in `text` and puts what it returns instead.
fn replace_numbers(text: &str, mut with: impl FnMut(&str) -> String) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let start = i;
        let plus = bytes[i] == b'+';
        let digits_from = if plus { i + 1 } else { i };
        let mut j = digits_from;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        let run = j - digits_from;
        let before_ok = start == 0 || !is_word(bytes[start - 1]);
        let after_ok = j == bytes.len() || !is_word(bytes[j]);
        if run >= 7 && before_ok && after_ok {
            out.push_str(&text[copied..start]);
            out.push_str(&with(&text[start..j]));
            copied = j;
            i = j;
        } else {
            i = if run > 0 { j } else { i + 1 };
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The numbers of one transcript: each is masked and followed by a short label, the same
/// for the same number throughout the transcript (`+65****0001 (#1)`), so that two numbers
/// with the same masked form stay apart without being revealed. Labels count distinct
/// numbers (with or without `+`) in the order they first appear. With `show` the numbers
/// are printed in clear, unlabelled.
#[derive(Debug, Default)]
pub(crate) struct Labels {
    seen: Vec<String>,
    show: bool,
}

impl Labels {
    /// Labels for a new transcript; `show`: numbers in clear.
    pub(crate) fn new(show: bool) -> Self {
        Self {
            seen: Vec::new(),
            show,
        }
    }

    /// `text` with every number masked and labelled (or as it is, with `show`).
    pub(crate) fn apply(&mut self, text: &str) -> String {
        if self.show {
            return text.to_owned();
        }
        replace_numbers(text, |number| {
            let digits = number.trim_start_matches('+');
            let n = match self.seen.iter().position(|d| d == digits) {
                Some(i) => i + 1,
                None => {
                    self.seen.push(digits.to_owned());
                    self.seen.len()
                }
            };
            format!("{} (#{n})", Masked(number))
        })
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'*'
}

/// A copy of `value` with every phone number in its strings masked.
pub fn mask_json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(mask_text(s)),
        Value::Array(a) => Value::Array(a.iter().map(mask_json).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), mask_json(v))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_numbers_but_not_ids_or_short_digits() {
        assert_eq!(mask_text("+6591110001"), "+65****0001");
        assert_eq!(mask_text("call 6591110001."), "call 65****0001.");
        assert_eq!(mask_text("press 1 or 22"), "press 1 or 22");
        assert_eq!(
            mask_text("12345678-1234-11ef-0001-000000000001"),
            "12345678-1234-11ef-0001-000000000001"
        );
        assert_eq!(mask_text("took 1234567 ms"), "took 12****4567 ms");
        assert_eq!(mask_text("+65****0001"), "+65****0001");
        assert_eq!(mask_text("é +6591110001 ü"), "é +65****0001 ü");
        assert_eq!(
            mask_text("dial +6592220002 from 6568880000, press 1"),
            "dial +65****0002 from 65****0000, press 1"
        );
    }

    #[test]
    fn numbers_with_the_same_masked_form_get_different_stable_labels() {
        let mut labels = Labels::new(false);
        assert_eq!(
            labels.apply("call from +6591110001 to +6568880000"),
            "call from +65****0001 (#1) to +65****0000 (#2)"
        );
        assert_eq!(
            labels.apply("callB dials +6594440001, caller 6591110001"),
            "callB dials +65****0001 (#3), caller 65****0001 (#1)"
        );
        assert_eq!(labels.apply("press 1"), "press 1");
        assert!(!labels.apply("+6594440001").contains("9444"));
    }

    #[test]
    fn shown_numbers_are_in_clear_and_unlabelled() {
        let mut labels = Labels::new(true);
        assert_eq!(labels.apply("dial +6594440001"), "dial +6594440001");
    }

    #[test]
    fn masks_json_strings_only() {
        let v = json!({"callflow": [{"action": "makeCall", "params": {"source": "+6568880000", "destination": "6592220002"}}], "n": 6592220002u64});
        let m = mask_json(&v);
        assert_eq!(m["callflow"][0]["params"]["source"], "+65****0000");
        assert_eq!(m["callflow"][0]["params"]["destination"], "65****0002");
        assert_eq!(m["n"], 6592220002u64);
    }
}
