//! ISO-8601 / RFC 3339 timestamps as 8x8 sends them, with or without fractional seconds.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A timestamp from an 8x8 event.
///
/// The text is kept exactly as received ([`Timestamp::as_str`]); [`Timestamp::unix_millis`]
/// gives the instant when the text is a valid RFC 3339 date-time (`2024-05-16T04:12:11.217Z`,
/// `2019-10-16T08:12:01Z`, or with a `±HH:MM` offset). An unparseable timestamp is kept, not
/// rejected: 8x8's documentation drifts, and a webhook must not drop a call over a date format.
///
/// ```
/// use callflow::Timestamp;
/// let t = Timestamp::new("2019-10-16T08:12:01Z");
/// assert_eq!(t.unix_millis(), Some(1_571_213_521_000));
/// let t = Timestamp::new("2024-05-16T04:12:11.217Z");
/// assert_eq!(t.unix_millis(), Some(1_715_832_731_217));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    raw: String,
    millis: Option<i64>,
}

impl Timestamp {
    /// Wraps and parses a timestamp text.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let millis = parse_rfc3339_millis(&raw);
        Self { raw, millis }
    }

    /// A timestamp for a point in time, formatted like 8x8 does (`…T04:12:11.217Z`).
    pub fn from_system_time(t: SystemTime) -> Self {
        let millis = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i64,
            Err(e) => -(e.duration().as_millis() as i64),
        };
        Self::from_unix_millis(millis)
    }

    /// A timestamp for milliseconds since the Unix epoch.
    pub fn from_unix_millis(millis: i64) -> Self {
        let secs = millis.div_euclid(1000);
        let ms = millis.rem_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let raw = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        );
        Self {
            raw,
            millis: Some(millis),
        }
    }

    /// The text exactly as received.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Milliseconds since the Unix epoch, if the text is a valid RFC 3339 date-time.
    pub fn unix_millis(&self) -> Option<i64> {
        self.millis
    }

    /// The instant as a [`SystemTime`], if the text parsed.
    pub fn to_system_time(&self) -> Option<SystemTime> {
        let ms = self.millis?;
        if ms >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_millis(ms as u64))
        } else {
            UNIX_EPOCH.checked_sub(Duration::from_millis(ms.unsigned_abs()))
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.raw, f)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(Self::new(raw))
    }
}

fn num(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into Unix milliseconds.
fn parse_rfc3339_millis(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (hour, min, sec) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let mut ms = 0;
        for i in 0..3 {
            ms = ms * 10
                + frac
                    .get(i)
                    .filter(|_| i < n)
                    .map_or(0, |d| i64::from(d - b'0'));
        }
        millis = ms;
        rest = &frac[n..];
    }
    let offset_secs = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = num(&[*h1, *h2])?;
            let m = num(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec.min(59) - offset_secs;
    Some(secs * 1000 + millis)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil and its inverse.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_with_and_without_fractional_seconds() {
        assert_eq!(
            Timestamp::new("2019-10-16T08:12:01Z").unix_millis(),
            Some(1_571_213_521_000)
        );
        assert_eq!(
            Timestamp::new("2024-05-16T04:12:11.217Z").unix_millis(),
            Some(1_715_832_731_217)
        );
        assert_eq!(
            Timestamp::new("2024-05-16T04:12:11.2Z").unix_millis(),
            Some(1_715_832_731_200)
        );
        assert_eq!(
            Timestamp::new("2024-05-16T04:12:11.217999Z").unix_millis(),
            Some(1_715_832_731_217)
        );
    }

    #[test]
    fn offsets_are_applied() {
        assert_eq!(
            Timestamp::new("2024-05-16T12:12:11+08:00").unix_millis(),
            Timestamp::new("2024-05-16T04:12:11Z").unix_millis()
        );
    }

    #[test]
    fn unparseable_timestamps_are_kept_not_rejected() {
        for bad in [
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "",
        ] {
            let t = Timestamp::new(bad);
            assert_eq!(t.as_str(), bad);
            assert_eq!(t.unix_millis(), None, "{bad}");
        }
    }

    #[test]
    fn formatting_round_trips() {
        let t = Timestamp::from_unix_millis(1_715_832_731_217);
        assert_eq!(t.as_str(), "2024-05-16T04:12:11.217Z");
        assert_eq!(
            Timestamp::new(t.as_str()).unix_millis(),
            Some(1_715_832_731_217)
        );
        let t = Timestamp::from_unix_millis(-1);
        assert_eq!(t.as_str(), "1969-12-31T23:59:59.999Z");
    }
}
