//! Canonical phone numbers for bindings.

use callflow::PhoneNumber;

use crate::BindingError;

/// Normalises a phone number to E.164 with a leading `+` (`6591110001` and `+65 9111 0001`
/// both become `+6591110001`), so numbers match whether or not they carry `+`.
///
/// Accepts digits with an optional leading `+`, and spaces, dashes, dots or parentheses as
/// separators; the result must have 6 to 15 digits and not start with 0.
///
/// ```
/// use callflow_masking::normalize_number;
/// assert_eq!(normalize_number("6591110001").unwrap().as_str(), "+6591110001");
/// assert_eq!(normalize_number("+65 9111-0001").unwrap().as_str(), "+6591110001");
/// assert!(normalize_number("call me").is_err());
/// ```
pub fn normalize_number(input: &str) -> Result<PhoneNumber, BindingError> {
    let t = input.trim();
    let body = t.strip_prefix('+').unwrap_or(t);
    // Built in place (no second string through `format!`): this runs twice per call.
    let mut out = String::with_capacity(16);
    out.push('+');
    for c in body.bytes() {
        match c {
            b'0'..=b'9' => out.push(char::from(c)),
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ => return Err(BindingError::InvalidNumber(masked(input))),
        }
    }
    let digits = &out[1..];
    if !(6..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(BindingError::InvalidNumber(masked(input)));
    }
    Ok(PhoneNumber::new(out))
}

/// The masked form of any text that may be a number, for error messages.
pub(crate) fn masked(s: &str) -> String {
    callflow::phone::Masked(s).to_string()
}
