//! The two timestamp forms 8x8's requests take, checked before they leave, without a date
//! library.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::InvalidRequest;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Parses `YYYY-MM-DDTHH:MM:SS` (the first 19 bytes) into seconds since the epoch (UTC).
fn date_time_prefix(b: &[u8]) -> Option<i64> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let y = i64::from(digits(&b[0..4])?);
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let s = digits(&b[17..19])?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s))
}

/// Formats seconds since the epoch and milliseconds as `YYYY-MM-DDTHH:MM:SS.SSSZ`.
fn format_utc_millis(secs: i64, millis: u32) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

fn system_time_parts(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
        // Before 1970: not a time anyone sends; clamp to the epoch.
        Err(_) => (0, 0),
    }
}

/// Send Callflow's `validUntil`: exactly `YYYY-MM-DDTHH:MM:SS.SSSZ` (UTC, milliseconds), the
/// format 8x8's document gives. After it 8x8 refuses the request (-1015) or ends the session
/// (-2007); the library does not compare it with the clock.
///
/// ```
/// use callflow_client::api::ValidUntil;
/// let t = ValidUntil::parse("2024-07-03T05:59:32.226Z").unwrap();
/// assert_eq!(t.as_str(), "2024-07-03T05:59:32.226Z");
/// assert!(ValidUntil::parse("2024-07-03T05:59:32Z").is_err()); // no milliseconds
/// let in_an_hour = ValidUntil::after(std::time::Duration::from_secs(3600));
/// assert_eq!(in_an_hour.as_str().len(), 24);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValidUntil(String);

impl ValidUntil {
    /// Checks a text in 8x8's format.
    pub fn parse(s: &str) -> Result<Self, InvalidRequest> {
        let b = s.as_bytes();
        let ok = b.len() == 24
            && date_time_prefix(b).is_some()
            && b[19] == b'.'
            && digits(&b[20..23]).is_some()
            && b[23] == b'Z';
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidRequest::bad_field(
                "validUntil",
                "must be a UTC time written YYYY-MM-DDTHH:MM:SS.SSSZ (e.g. 2024-07-03T05:59:32.226Z)",
            ))
        }
    }

    /// A point in time, written in 8x8's format.
    pub fn at(t: SystemTime) -> Self {
        let (secs, millis) = system_time_parts(t);
        Self(format_utc_millis(secs, millis))
    }

    /// Now plus `d`.
    pub fn after(d: Duration) -> Self {
        Self::at(SystemTime::now() + d)
    }

    /// The text sent to 8x8.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn unix_millis(&self) -> i64 {
        let b = self.0.as_bytes();
        let secs = date_time_prefix(b).expect("checked when made");
        let millis = digits(&b[20..23]).expect("checked when made");
        secs * 1000 + i64::from(millis)
    }

    /// Whether the time is before `now` (8x8 refuses such a request with -1015).
    pub fn has_passed(&self, now: SystemTime) -> bool {
        let (secs, millis) = system_time_parts(now);
        self.unix_millis() < secs * 1000 + i64::from(millis)
    }
}

impl fmt::Display for ValidUntil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ValidUntil {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ValidUntil {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A `from` or `to` bound of a log export: an RFC 3339 date-time with an offset,
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
///
/// 8x8's prose also allows a bare date and a time without an offset, but its schema types both
/// fields `format: date-time`, which those forms fail; the library sends only what both
/// accept.
///
/// ```
/// use callflow_client::api::ExportTime;
/// assert!(ExportTime::parse("2020-07-01T13:00:00+07:00").is_ok());
/// assert!(ExportTime::parse("2020-07-01T13:00:00Z").is_ok());
/// assert!(ExportTime::parse("2020-07-01").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExportTime {
    text: String,
    /// Seconds since the epoch, UTC (for ordering `from` before `to`).
    unix: i64,
}

impl ExportTime {
    /// Checks a text.
    pub fn parse(s: &str) -> Result<Self, InvalidRequest> {
        Self::parse_inner(s).ok_or_else(|| {
            InvalidRequest::bad_field(
                "from/to",
                "must be a date-time with an offset, YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS+HH:MM",
            )
        })
    }

    fn parse_inner(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let base = date_time_prefix(b)?;
        let mut rest = &b[19..];
        if let Some(frac) = rest.strip_prefix(b".") {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            rest = &frac[n..];
        }
        let offset = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let h = digits(&[*h1, *h2])?;
                let m = digits(&[*m1, *m2])?;
                if h > 23 || m > 59 {
                    return None;
                }
                let o = i64::from(h * 3600 + m * 60);
                if *sign == b'+' { o } else { -o }
            }
            _ => return None,
        };
        Some(Self {
            text: s.to_owned(),
            unix: base - offset,
        })
    }

    /// A point in time, written in UTC (`…Z`).
    pub fn at(t: SystemTime) -> Self {
        let (secs, _) = system_time_parts(t);
        let mut text = format_utc_millis(secs, 0);
        // Whole seconds: `2020-07-01T13:00:00Z`.
        text.replace_range(19..23, "");
        Self { text, unix: secs }
    }

    /// The text sent to 8x8.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(&self) -> i64 {
        self.unix
    }
}

impl fmt::Display for ExportTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for ExportTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ExportTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An HTTP-date in the IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`), as seconds since
/// the epoch. The obsolete forms are not accepted.
#[cfg_attr(not(feature = "client"), allow(dead_code))]
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() != 29 || &b[3..5] != b", " || &b[25..] != b" GMT" {
        return None;
    }
    let d = digits(&b[5..7])?;
    let mon = match &b[8..11] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let y = i64::from(digits(&b[12..16])?);
    if b[7] != b' ' || b[11] != b' ' || b[16] != b' ' {
        return None;
    }
    let mut iso = format!("{y:04}-{mon:02}-{d:02}T").into_bytes();
    iso.extend_from_slice(&b[17..25]);
    date_time_prefix(&iso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for days in [-1, 0, 1, 365, 10_957, 19_905, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn valid_until_is_strict() {
        assert!(ValidUntil::parse("2024-07-03T05:59:32.226Z").is_ok());
        for bad in [
            "2024-07-03T05:59:32Z",
            "2024-07-03T05:59:32.226",
            "2024-02-30T05:59:32.226Z",
            "2024-07-03 05:59:32.226Z",
            "2024-07-03T25:59:32.226Z",
            "",
        ] {
            assert!(ValidUntil::parse(bad).is_err(), "{bad}");
        }
        let t = UNIX_EPOCH + Duration::from_millis(1_719_813_023_550);
        let v = ValidUntil::at(t);
        assert_eq!(v.as_str(), "2024-07-01T05:50:23.550Z");
        assert_eq!(v.unix_millis(), 1_719_813_023_550);
        assert!(v.has_passed(t + Duration::from_millis(1)));
        assert!(!v.has_passed(t));
    }

    #[test]
    fn export_times_order_across_offsets() {
        let a = ExportTime::parse("2020-07-01T13:00:00+07:00").unwrap();
        let b = ExportTime::parse("2020-07-01T06:00:00Z").unwrap();
        assert_eq!(a.unix_seconds(), b.unix_seconds());
        assert!(ExportTime::parse("2020-07-01T13:00:00").is_err());
        assert!(ExportTime::parse("2020-07-01T13:00:00.5-03:30").is_ok());
        let t = UNIX_EPOCH + Duration::from_secs(1_593_608_400);
        assert_eq!(ExportTime::at(t).as_str(), "2020-07-01T13:00:00Z");
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("120"), None);
    }
}
