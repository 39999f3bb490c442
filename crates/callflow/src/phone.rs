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

/// Compares the text exactly (see [`PhoneNumber::same_as`] to ignore a leading `+`).
impl PartialEq<str> for PhoneNumber {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// Compares the text exactly (see [`PhoneNumber::same_as`] to ignore a leading `+`).
impl PartialEq<&str> for PhoneNumber {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<&PhoneNumber> for PhoneNumber {
    fn from(n: &PhoneNumber) -> Self {
        n.clone()
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
