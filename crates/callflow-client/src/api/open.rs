//! Enums of 8x8's API: closed where the library sends them, open where it reads them.
//!
//! A request can only hold a value 8x8 documents (a [`WebhookType`](super::WebhookType) is
//! one of five), while an answer keeps whatever 8x8 sent: a field typed [`Open<T>`] is either
//! a known `T` or an [`UnknownValue`] that can only be read back with `as_str()`. Code that
//! matches on `Open::Known(..)` today keeps its meaning when a later version learns a new
//! value (the pattern of the AWS SDKs).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An enum whose values are 8x8's documented strings.
pub trait ApiEnum: Sized + Copy + Eq + fmt::Debug + 'static {
    /// Every documented value, in the order 8x8's document lists them.
    const ALL: &'static [Self];
    /// What the enum is, for messages (`"webhook type"`).
    const WHAT: &'static str;

    /// The spelling 8x8 documents (what the library sends).
    fn as_str(self) -> &'static str;

    /// Other spellings 8x8's pages use for the same value.
    fn aliases(self) -> &'static [&'static str] {
        &[]
    }

    /// The value for a text: the documented spelling or an alias, exactly, then in any ASCII
    /// case.
    fn from_api(s: &str) -> Option<Self> {
        let exact = Self::ALL
            .iter()
            .find(|v| v.as_str() == s || v.aliases().contains(&s));
        exact
            .or_else(|| {
                Self::ALL.iter().find(|v| {
                    v.as_str().eq_ignore_ascii_case(s)
                        || v.aliases().iter().any(|a| a.eq_ignore_ascii_case(s))
                })
            })
            .copied()
    }
}

/// A text that is not one of an enum's documented values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}` (8x8 documents: {allowed})")]
pub struct UnknownVariant {
    what: &'static str,
    value: String,
    allowed: String,
}

impl UnknownVariant {
    pub(crate) fn new<T: ApiEnum>(value: &str) -> Self {
        Self {
            what: T::WHAT,
            // Shown in messages: keep it short and on one line.
            value: value.chars().take(40).filter(|c| !c.is_control()).collect(),
            allowed: T::ALL
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Parses a closed enum strictly (for requests).
pub(crate) fn parse_closed<T: ApiEnum>(s: &str) -> Result<T, UnknownVariant> {
    T::from_api(s).ok_or_else(|| UnknownVariant::new::<T>(s))
}

/// Declares a closed enum of 8x8's strings with `ApiEnum`, `Display`, `FromStr` and serde
/// (deserialization refuses unknown values).
macro_rules! api_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $canon:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $crate::api::ApiEnum for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            const WHAT: &'static str = $what;
            fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $canon,)+ }
            }
            fn aliases(self) -> &'static [&'static str] {
                match self { $(Self::$variant => &[$($alias),*],)+ }
            }
        }

        impl $name {
            /// The spelling 8x8 documents.
            pub fn as_str(self) -> &'static str {
                <Self as $crate::api::ApiEnum>::as_str(self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::api::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::api::open::parse_closed(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str>>::deserialize(d)?;
                $crate::api::open::parse_closed(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use api_enum;

/// A value 8x8 sent that this version of the library does not know, kept as received.
///
/// It cannot be built outside the library: match on [`Open::Known`] and treat
/// [`Open::Unknown`] as "something else".
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnknownValue(String);

impl UnknownValue {
    /// The text as 8x8 sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A documented value of `T`, or one this version does not know (for answers).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Open<T> {
    /// One of the values 8x8 documents.
    Known(T),
    /// Anything else, kept as received.
    Unknown(UnknownValue),
}

impl<T: ApiEnum> Open<T> {
    /// Maps a text to a known value (documented spellings, aliases, any ASCII case) or keeps
    /// it as unknown; never fails.
    pub fn parse(s: &str) -> Self {
        match T::from_api(s) {
            Some(v) => Open::Known(v),
            None => Open::Unknown(UnknownValue(s.to_owned())),
        }
    }

    /// The known value, if it is one.
    pub fn known(&self) -> Option<T> {
        match self {
            Open::Known(v) => Some(*v),
            Open::Unknown(_) => None,
        }
    }

    /// The documented spelling of a known value, or the text as received.
    pub fn as_str(&self) -> &str {
        match self {
            Open::Known(v) => v.as_str(),
            Open::Unknown(u) => u.as_str(),
        }
    }
}

impl<T> From<T> for Open<T> {
    fn from(v: T) -> Self {
        Open::Known(v)
    }
}

impl<T: PartialEq> PartialEq<T> for Open<T> {
    fn eq(&self, other: &T) -> bool {
        matches!(self, Open::Known(v) if v == other)
    }
}

impl<T: ApiEnum> fmt::Display for Open<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<T: ApiEnum> Serialize for Open<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de, T: ApiEnum> Deserialize<'de> for Open<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Open::parse(&s))
    }
}
