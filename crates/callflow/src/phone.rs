//! Phone numbers as personal data.
//!
//! Number masking exists to hide phone numbers, so this crate never prints one in clear:
//! [`PhoneNumber`]'s `Debug` and `Display` show `+65****4321`. Use
//! [`PhoneNumber::as_str`] when you really need the digits (to build a callflow, to look a
//! party up in a store).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A phone number (normally E.164, with or without the leading `+`) as 8x8 sent it.
///
/// The text is kept exactly as received; `Debug` and `Display` are masked.
///
/// ```
/// use callflow::PhoneNumber;
/// let n = PhoneNumber::new("+6591234321");
/// assert_eq!(n.to_string(), "+65****4321");
/// assert_eq!(n.as_str(), "+6591234321");
/// assert_eq!(n.digits(), "6591234321");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Wraps a number as given.
    pub fn new(number: impl Into<String>) -> Self {
        Self(number.into())
    }

    /// The number in clear, exactly as received. Do not log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the wrapper and returns the number in clear.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The number without a leading `+` (and without surrounding white space): the form to
    /// compare numbers that may or may not carry `+`.
    pub fn digits(&self) -> &str {
        let t = self.0.trim();
        t.strip_prefix('+').unwrap_or(t)
    }

    /// Whether two numbers are the same once a leading `+` is ignored.
    pub fn same_as(&self, other: &str) -> bool {
        let o = other.trim();
        self.digits() == o.strip_prefix('+').unwrap_or(o)
    }

    /// A displayable, masked form (`+65****4321`); the same as `Display`.
    pub fn masked(&self) -> Masked<'_> {
        Masked(&self.0)
    }
}

impl From<String> for PhoneNumber {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for PhoneNumber {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<&PhoneNumber> for String {
    fn from(n: &PhoneNumber) -> Self {
        n.0.clone()
    }
}

impl From<PhoneNumber> for String {
    fn from(n: PhoneNumber) -> Self {
        n.0
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.masked())
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.masked(), f)
    }
}

/// A masked view of any text that may hold a phone number: keeps a leading `+`, the first two
/// digits and the last four, and replaces the rest with `****`. Text of six characters or
/// fewer becomes `****` entirely.
///
/// ```
/// use callflow::phone::Masked;
/// assert_eq!(Masked("+6591110001").to_string(), "+65****0001");
/// assert_eq!(Masked("6591110001").to_string(), "65****0001");
/// assert_eq!(Masked("12345").to_string(), "****");
/// ```
#[derive(Clone, Copy)]
pub struct Masked<'a>(pub &'a str);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.trim();
        let (plus, rest) = match s.strip_prefix('+') {
            Some(r) => ("+", r),
            None => ("", s),
        };
        let chars: Vec<char> = rest.chars().collect();
        if chars.len() <= 6 {
            return f.write_str("****");
        }
        let head: String = chars[..2].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        write!(f, "{plus}{head}****{tail}")
    }
}

impl fmt::Debug for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// `text` with every run of seven or more digits (and the `+` before it) masked like
/// [`Masked`]: for messages that carry text from elsewhere (a database's or a server's error,
/// a configuration value) and might hold a phone number.
///
/// ```
/// use callflow::phone::redact;
/// assert_eq!(redact("no binding for +6591110001 on 6568880000"), "no binding for +65****0001 on 65****0000");
/// assert_eq!(redact("10.0.0.0/8: timed out after 2000 ms"), "10.0.0.0/8: timed out after 2000 ms");
/// ```
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    const MIN_DIGITS: usize = 7;
    let bytes = text.as_bytes();
    let mut out = String::new();
    let (mut copied, mut i) = (0, 0);
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = if i > 0 && bytes[i - 1] == b'+' {
            i - 1
        } else {
            i
        };
        let mut end = i;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        if end - i >= MIN_DIGITS {
            out.push_str(&text[copied..start]);
            out.push_str(&Masked(&text[start..end]).to_string());
            copied = end;
        }
        i = end;
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    std::borrow::Cow::Owned(out)
}

/// A copy of an error and its causes with every phone number masked ([`redact`]): what the
/// library's errors keep as their [`source`](std::error::Error::source), so that neither
/// `Display` nor `Debug` of a chain shows a number in clear.
///
/// ```
/// use std::error::Error;
/// use callflow::phone::RedactedError;
/// let io = std::io::Error::other("no such key: binding:+6591110001");
/// let e = RedactedError::new(&io);
/// assert_eq!(e.to_string(), "no such key: binding:+65****0001");
/// assert!(e.source().is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedError {
    message: Box<str>,
    source: Option<Box<RedactedError>>,
}

impl RedactedError {
    /// The redacted copy of `error` and of its chain of causes.
    pub fn new(error: &(dyn std::error::Error + 'static)) -> Self {
        Self {
            message: redact(&error.to_string()).into(),
            source: error.source().map(|s| Box::new(Self::new(s))),
        }
    }
}

impl fmt::Display for RedactedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for RedactedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RedactedError");
        d.field("message", &self.message);
        if let Some(s) = &self.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl std::error::Error for RedactedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_number_in_clear() {
        let n = PhoneNumber::new("+6591234321");
        assert_eq!(format!("{n:?}"), "\"+65****4321\"");
        assert_eq!(format!("{n}"), "+65****4321");
        assert!(!format!("{n:?}").contains("9123"));
    }

    #[test]
    fn short_and_odd_numbers_are_fully_masked() {
        assert_eq!(Masked("").to_string(), "****");
        assert_eq!(Masked("+123").to_string(), "****");
        assert_eq!(Masked("INBOUND | OUTBOUND").to_string(), "IN****OUND");
    }

    #[test]
    fn numbers_match_with_or_without_plus() {
        let n = PhoneNumber::new("+6591110001");
        assert!(n.same_as("6591110001"));
        assert!(n.same_as("+6591110001"));
        assert!(!n.same_as("+6591110002"));
        assert_eq!(PhoneNumber::new(" 6591110001 ").digits(), "6591110001");
    }
}
