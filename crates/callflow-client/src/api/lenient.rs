//! Field deserializers for answers: numbers that 8x8 sometimes sends as strings (the webhooks
//! API's 422 has `"statusCode": "1001"`), and fields whose documented type drifts.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// The number types a lenient field can hold.
pub(crate) trait Lenient: Sized + std::str::FromStr {
    fn from_i64(v: i64) -> Option<Self>;
    fn from_u64(v: u64) -> Option<Self>;
    fn from_f64(v: f64) -> Option<Self>;
}

impl Lenient for i64 {
    fn from_i64(v: i64) -> Option<Self> {
        Some(v)
    }
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok()
    }
    fn from_f64(v: f64) -> Option<Self> {
        // 13.0 is an integer written as a float; 13.5 is not.
        (v.fract() == 0.0 && v.is_finite() && v.abs() < 9.0e15).then_some(v as i64)
    }
}

impl Lenient for f64 {
    fn from_i64(v: i64) -> Option<Self> {
        Some(v as f64)
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v as f64)
    }
    fn from_f64(v: f64) -> Option<Self> {
        Some(v)
    }
}

struct Opt<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for Opt<T> {
    type Value = Option<T>;

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
        T::from_f64(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<T>()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Other("a non-numeric string"), &self))
    }
}

/// `Option<i64>` from a JSON number, a numeric string, `null` or nothing.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_option(Opt(PhantomData))
}

/// `Option<f64>` from a JSON number, a numeric string, `null` or nothing.
pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_option(Opt(PhantomData))
}

/// `Vec<T>` from an array, `null` or nothing.
pub(crate) fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct N {
        #[serde(default, deserialize_with = "super::opt_i64")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "super::opt_f64")]
        f: Option<f64>,
    }

    #[test]
    fn numbers_or_numeric_strings() {
        let p = |s: &str| serde_json::from_str::<N>(s).map(|n| (n.n, n.f));
        assert_eq!(p(r#"{"n": 1001}"#).unwrap(), (Some(1001), None));
        assert_eq!(p(r#"{"n": "1001"}"#).unwrap(), (Some(1001), None));
        assert_eq!(
            p(r#"{"n": "-1013", "f": "0.5"}"#).unwrap(),
            (Some(-1013), Some(0.5))
        );
        assert_eq!(p(r#"{"n": null, "f": 2}"#).unwrap(), (None, Some(2.0)));
        assert_eq!(p(r#"{}"#).unwrap(), (None, None));
        assert!(p(r#"{"n": "abc"}"#).is_err());
        assert!(p(r#"{"n": 1.5}"#).is_err());
    }
}
