//! The values that go into paths and secrets, checked when they are made.

use std::fmt;

use callflow::PhoneNumber;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::InvalidRequest;

macro_rules! string_serde {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(&*s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// An 8x8 voice sub-account id: 3 to 50 of `A-Z a-z 0-9 - . _ &` (the document's pattern).
///
/// ```
/// use callflow_client::api::SubAccountId;
/// assert!(SubAccountId::new("acme_voice").is_ok());
/// assert!(SubAccountId::new("no/slashes").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubAccountId(String);

impl SubAccountId {
    /// Checks an id.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidRequest> {
        let id = id.into();
        let ok = (3..=50).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'&'));
        if ok {
            Ok(Self(id))
        } else {
            Err(InvalidRequest::bad_field(
                "subAccountId",
                "must be 3 to 50 characters of A-Z, a-z, 0-9, '-', '.', '_' or '&'",
            ))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a path segment (`&` percent-encoded).
    pub fn path_segment(&self) -> String {
        self.0.replace('&', "%26")
    }
}

impl fmt::Display for SubAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(SubAccountId);

/// The id of a call session (a UUID, as 8x8 writes it: `03cc8cac-376b-11ef-a28b-0582ff0039d5`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(String);

impl SessionId {
    /// Checks an id against the document's UUID pattern.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidRequest> {
        let id = id.into();
        let groups: Vec<&str> = id.split('-').collect();
        let ok = groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if ok {
            Ok(Self(id))
        } else {
            Err(InvalidRequest::bad_field(
                "sessionId",
                "must be a UUID (8-4-4-4-12 hexadecimal digits)",
            ))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(SessionId);

/// The id of a log export job, as returned by [`LogExportJob`](super::LogExportJob):
/// 1 to 256 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(String);

impl JobId {
    /// Checks an id.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidRequest> {
        let id = id.into();
        if (1..=256).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(id))
        } else {
            Err(InvalidRequest::bad_field(
                "jobId",
                "must be 1 to 256 printable ASCII characters",
            ))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a path segment: everything but `A-Z a-z 0-9 - . _ ~` percent-encoded.
    pub fn path_segment(&self) -> String {
        percent_encode(&self.0)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(JobId);

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A virtual number to check (`GET /numbers/{number}`): 7 to 10 digits, a leading `+`
/// allowed and dropped, as the document's path pattern `^[0-9]{7,10}$` says. `Debug` and
/// `Display` are masked.
///
/// ```
/// use callflow_client::api::VirtualNumber;
/// let n = VirtualNumber::new("+6568880000").unwrap();
/// assert_eq!(n.path_segment(), "6568880000");
/// assert_eq!(n.to_string(), "65****0000");
/// assert!(VirtualNumber::new("+441234567890").is_err()); // 12 digits: outside the pattern
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VirtualNumber(PhoneNumber);

impl VirtualNumber {
    /// Checks a number.
    pub fn new(number: impl AsRef<str>) -> Result<Self, InvalidRequest> {
        let n = number.as_ref().trim();
        let d = n.strip_prefix('+').unwrap_or(n);
        if (7..=10).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(PhoneNumber::new(d)))
        } else {
            Err(InvalidRequest::bad_field(
                "number",
                "must be 7 to 10 digits (the document's pattern), a leading '+' allowed",
            ))
        }
    }

    /// The digits, in clear: do not log them.
    pub fn path_segment(&self) -> &str {
        self.0.as_str()
    }

    /// The number as a [`PhoneNumber`] (masked when printed).
    pub fn phone(&self) -> &PhoneNumber {
        &self.0
    }
}

impl fmt::Debug for VirtualNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VirtualNumber({:?})", self.0)
    }
}

impl fmt::Display for VirtualNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A secret that goes into a request body (a webhook's `httpAuthHeader`, an upload password):
/// sent as is, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret in clear: do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self)
    }
}

/// Whether `s` is a webhook URL 8x8 takes: the core's URL rule
/// ([`callflow::callflow::is_http_url`]), and no control character either (a URL sent to a
/// REST API is refused here rather than by 8x8).
pub(crate) fn is_http_url(s: &str) -> bool {
    callflow::callflow::is_http_url(s) && !s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(SubAccountId::new("ab").is_err());
        assert!(SubAccountId::new("a".repeat(51)).is_err());
        assert_eq!(SubAccountId::new("a&b").unwrap().path_segment(), "a%26b");
        assert!(SessionId::new("03cc8cac-376b-11ef-a28b-0582ff0039d5").is_ok());
        assert!(SessionId::new("03cc8cac-376b-11ef-a28b-0582ff0039d").is_err());
        assert!(SessionId::new("../../etc").is_err());
        assert!(JobId::new("a/b c").is_err());
        assert_eq!(JobId::new("a/b").unwrap().path_segment(), "a%2Fb");
        assert!(JobId::new("").is_err());
    }

    #[test]
    fn secrets_and_numbers_do_not_print() {
        assert_eq!(
            format!("{:?}", Secret::new("hunter2")),
            "Secret(<redacted>)"
        );
        let n = VirtualNumber::new("6568880000").unwrap();
        assert!(!format!("{n:?} {n}").contains("6568880000"));
        assert!(VirtualNumber::new("12345").is_err());
        assert!(VirtualNumber::new("65-6888").is_err());
    }
}
