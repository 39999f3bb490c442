//! Open enums: the documented values as variants, anything else kept as an opaque
//! [`UnrecognizedValue`].

use std::fmt;

/// A value of an open enum that this version of the library does not know, kept as received.
///
/// Opaque on purpose: read the text with the enum's `as_str()`, never by taking this value
/// apart, so that code written today keeps its meaning when a later version adds the value
/// as a variant of its own. Match a value that is not a variant yet with a guard on
/// `as_str()`, which goes on matching once it becomes one:
///
/// ```
/// use callflow::event::CallStatus;
/// fn describe(s: &CallStatus) -> &'static str {
///     match s {
///         CallStatus::CallReceived => "new call",
///         other if other.as_str() == "CALL_TRANSFERRED" => "transferred",
///         _ => "something else",
///     }
/// }
/// assert_eq!(describe(&CallStatus::from("CALL_TRANSFERRED")), "transferred");
/// assert_eq!(describe(&CallStatus::from("CALL_RECEIVED")), "new call");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnrecognizedValue(Box<str>);

impl UnrecognizedValue {
    pub(crate) fn new(s: &str) -> Self {
        Self(s.into())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UnrecognizedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// Declares an open string enum: documented values (with accepted spelling variants) as
/// variants, and `Unrecognized` (an opaque [`UnrecognizedValue`]) for values this version
/// does not know. Matching is exact first, then ASCII case-insensitive; serialization uses
/// the canonical spelling.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $canon:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the library does not know, kept as received: read it
            /// with [`as_str`](Self::as_str) (see [`UnrecognizedValue`](crate::event::UnrecognizedValue)).
            Unrecognized($crate::event::UnrecognizedValue),
        }

        impl $name {
            /// The canonical spelling (what 8x8's current documentation uses), or the text
            /// as received for [`Self::Unrecognized`].
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $canon, )+
                    Self::Unrecognized(v) => v.as_str(),
                }
            }

            /// Maps a text to a variant, accepting documented spelling variants and any ASCII
            /// case; never fails.
            pub fn parse(s: &str) -> Self {
                match s {
                    $( $canon $(| $alias)* => return Self::$variant, )+
                    _ => {}
                }
                $(
                    if s.eq_ignore_ascii_case($canon) $(|| s.eq_ignore_ascii_case($alias))* {
                        return Self::$variant;
                    }
                )+
                Self::Unrecognized($crate::event::UnrecognizedValue::new(s))
            }

            /// Whether this is a value the library does not know.
            pub fn is_unrecognized(&self) -> bool {
                matches!(self, Self::Unrecognized(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            /// Same as [`parse`](Self::parse): `From::from("CALL_RECEIVED")` is the variant.
            fn from(s: &str) -> Self {
                Self::parse(s)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(s))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::parse(v))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

pub(crate) use open_enum;
