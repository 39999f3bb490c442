//! Open enums: the documented values as variants, anything else kept as `Other(String)`.

/// Declares an open string enum: documented values (with accepted spelling variants) as
/// variants, and `Other(String)` for values this version does not know. Matching is exact
/// first, then ASCII case-insensitive; serialization uses the canonical spelling.
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
            /// A value this version of the library does not know, kept as received.
            Other(String),
        }

        impl $name {
            /// The canonical spelling (what 8x8's current documentation uses), or the text
            /// as received for [`Self::Other`].
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $canon, )+
                    Self::Other(s) => s.as_str(),
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
                Self::Other(s.to_owned())
            }

            /// Whether this is a value the library does not know.
            pub fn is_other(&self) -> bool {
                matches!(self, Self::Other(_))
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
