//! Field deserializers that accept the variants 8x8's documentation drifts between.
//!
//! - numbers documented as strings in some tables (`callDuration`, `errorCode`, `sipCode`):
//!   a JSON number or a string holding a number;
//! - digits (`dtmf`): a string, or a JSON number in legacy payloads;
//! - reference ids: `null`, missing, or the string `"null"` (a documented typo) are all `None`.
//!
//! The event types use them; they are public for code that reads other 8x8 JSON (the REST
//! API's answers) with the same tolerance, through `#[serde(default, deserialize_with = …)]`:
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Answer {
//!     #[serde(default, deserialize_with = "callflow::event::lenient::opt_num")]
//!     status_code: Option<i64>,
//! }
//! let a: Answer = serde_json::from_str(r#"{"status_code": "1001"}"#).unwrap();
//! assert_eq!(a.status_code, Some(1001));
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// Integer types [`opt_num`] can produce (`i32`, `i64`, `u16`, `u32`, `u64`).
pub trait LenientInt: Sized + FromStr + Copy {
    /// `v` in this type, or `None` when out of range.
    fn from_i64(v: i64) -> Option<Self>;
    /// `v` in this type, or `None` when out of range.
    fn from_u64(v: u64) -> Option<Self>;
}

macro_rules! lenient_int {
    ($($t:ty),*) => {$(
        impl LenientInt for $t {
            fn from_i64(v: i64) -> Option<Self> { <$t>::try_from(v).ok() }
            fn from_u64(v: u64) -> Option<Self> { <$t>::try_from(v).ok() }
        }
    )*};
}
lenient_int!(i32, i64, u16, u32, u64);

struct OptNum<T>(PhantomData<T>);

impl<'de, T: LenientInt> Visitor<'de> for OptNum<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string holding an integer")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::from_i64(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::from_u64(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // 13.0 is an integer written as a float; 13.5 is not.
        if v.fract() == 0.0 && v.is_finite() && v.abs() < 9.0e15 {
            return self.visit_i64(v as i64);
        }
        Err(E::invalid_value(de::Unexpected::Float(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("null") {
            return Ok(None);
        }
        t.parse::<T>()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// An optional integer given as a JSON number or a numeric string. `null`, `""` and `"null"`
/// are `None`; anything else that is not an integer in range is an error.
pub fn opt_num<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: LenientInt,
{
    d.deserialize_option(OptNum(PhantomData))
}

struct OptFloat;

impl<'de> Visitor<'de> for OptFloat {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a string holding a number")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("null") {
            return Ok(None);
        }
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// An optional finite float given as a JSON number or a numeric string.
pub fn opt_float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_option(OptFloat)
}

struct OptDigits;

impl<'de> Visitor<'de> for OptDigits {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("digits as a string or a number")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        if v < 0 {
            return Err(E::invalid_value(de::Unexpected::Signed(v), &self));
        }
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
}

/// Optional DTMF digits: a string (kept as is), a non-negative JSON integer (legacy payloads),
/// or `null`.
pub fn opt_digits<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(OptDigits)
}

/// An optional reference id: `null`, `""` and the string `"null"` (a typo in one of 8x8's
/// examples) are all `None`.
pub fn opt_ref<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.filter(|s| {
        let t = s.trim();
        !t.is_empty() && !t.eq_ignore_ascii_case("null")
    }))
}

/// A list given as an array, `null` or nothing (then empty).
pub fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}
