//! The one table of every action's parameters: name, JSON type and whether it is required.
//!
//! The JSON decoder (`json.rs`) checks raw parameters against it (missing, mistyped and
//! unknown parameters, each -1009 at its path) and then lets serde build the typed model
//! ([`MakeCall`](crate::callflow::MakeCall), …) from what passed; the rules check the typed
//! model's limits. A test holds the table to the serde model, field for field, so a new
//! parameter is a field on its struct and a row here, and forgetting the row fails the build's
//! tests instead of being silently accepted or refused.

use crate::callflow::ActionKind;

/// The JSON type a parameter must have (`null` always counts as absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ty {
    /// A string.
    Str,
    /// A non-negative integer that fits a `u32` (a whole float such as `2.0` is accepted).
    Uint,
    /// Any number.
    Number,
    /// `true` or `false`.
    Bool,
}

/// Whether a parameter must be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Need {
    /// It may be left out.
    Optional,
    /// It must be given.
    Required,
    /// It must be given unless the named parameter is (`say`'s legacy `language` stands in
    /// for `voiceProfile`); the model holds an empty value then.
    UnlessGiven(&'static str),
}

/// One parameter of an action.
#[derive(Clone, Copy, Debug)]
pub(super) struct Param {
    /// The JSON name, exactly as 8x8 spells it.
    pub(super) name: &'static str,
    /// Its JSON type.
    pub(super) ty: Ty,
    /// Whether it must be given.
    pub(super) need: Need,
}

const fn p(name: &'static str, ty: Ty, need: Need) -> Param {
    Param { name, ty, need }
}

use Need::{Optional, Required, UnlessGiven};
use Ty::{Bool, Number, Str, Uint};

/// `makeCall`.
const MAKE_CALL: &[Param] = &[
    p("source", Str, Required),
    p("destination", Str, Required),
    p("callRecording", Bool, Optional),
];

/// `say`.
const SAY: &[Param] = &[
    p("text", Str, Required),
    p("voiceProfile", Str, UnlessGiven("language")),
    p("language", Str, Optional),
    p("repetition", Uint, Optional),
    p("speed", Number, Optional),
];

/// `playFile`.
const PLAY_FILE: &[Param] = &[p("fileUrl", Str, Required), p("repetition", Uint, Optional)];

/// `sayAndCapture`.
const SAY_AND_CAPTURE: &[Param] = &[
    p("promptMessage", Str, Required),
    p("voiceProfile", Str, Required),
    p("speed", Number, Optional),
    p("completeOnHash", Bool, Optional),
    p("minDigits", Uint, Optional),
    p("maxDigits", Uint, Optional),
    p("digitTimeout", Uint, Optional),
    p("overallTimeout", Uint, Optional),
    p("noOfTries", Uint, Optional),
    p("successMessage", Str, Optional),
    p("failureMessage", Str, Optional),
    p("repetition", Uint, Optional),
];

/// The parameters of `kind`, in the order they are checked (and violations reported).
pub(super) fn params(kind: ActionKind) -> &'static [Param] {
    match kind {
        ActionKind::MakeCall => MAKE_CALL,
        ActionKind::Say => SAY,
        ActionKind::PlayFile => PLAY_FILE,
        ActionKind::SayAndCapture => SAY_AND_CAPTURE,
        ActionKind::Hangup => &[],
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use serde::Deserialize;
    use serde::de::{self, Deserializer, Visitor};

    use super::*;
    use crate::callflow::{MakeCall, PlayFile, Say, SayAndCapture};

    /// A deserializer that only records the field names serde's derive asks for.
    struct Fields(Option<&'static [&'static str]>);

    #[derive(Debug)]
    struct Stop;

    impl fmt::Display for Stop {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("stop")
        }
    }

    impl std::error::Error for Stop {}

    impl de::Error for Stop {
        fn custom<T: fmt::Display>(_: T) -> Self {
            Stop
        }
    }

    impl<'de> Deserializer<'de> for &mut Fields {
        type Error = Stop;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    /// The JSON field names of `T`'s serde model.
    fn serde_fields<'de, T: Deserialize<'de>>() -> Vec<&'static str> {
        let mut d = Fields(None);
        let _ = T::deserialize(&mut d);
        let mut names = d.0.expect("a struct").to_vec();
        names.sort_unstable();
        names
    }

    fn table_names(kind: ActionKind) -> Vec<&'static str> {
        let mut names: Vec<_> = params(kind).iter().map(|p| p.name).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn the_table_has_exactly_the_serde_models_parameters() {
        for kind in ActionKind::ALL {
            let model = match kind {
                ActionKind::MakeCall => serde_fields::<MakeCall>(),
                ActionKind::Say => serde_fields::<Say>(),
                ActionKind::PlayFile => serde_fields::<PlayFile>(),
                ActionKind::SayAndCapture => serde_fields::<SayAndCapture>(),
                ActionKind::Hangup => Vec::new(),
            };
            assert_eq!(table_names(kind), model, "{}", kind.as_str());
        }
    }

    #[test]
    fn no_parameter_is_listed_twice_and_every_stand_in_exists() {
        for kind in ActionKind::ALL {
            let names = table_names(kind);
            let mut unique = names.clone();
            unique.dedup();
            assert_eq!(names, unique, "{}", kind.as_str());
            for p in params(kind) {
                if let Need::UnlessGiven(other) = p.need {
                    assert!(names.contains(&other), "{}.{}", kind.as_str(), p.name);
                }
            }
        }
    }
}
