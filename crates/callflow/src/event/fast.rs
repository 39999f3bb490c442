//! The one-pass parse of the common body: `eventType` before `payload`, a known event type.
//!
//! [`super::parse`] reads the envelope first (keeping the payload as raw JSON) and then the
//! payload: two passes over the payload's bytes, simple to get right for every order of keys
//! and every error. This module does the same work in one pass when it can: the payload is
//! deserialized straight into its typed form as soon as the event type is known. Whenever
//! anything is unusual (keys in another order, an unknown event type, a duplicate key, any
//! error), it gives up and the two-pass parse decides, so both always give the same result.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{
    CallAction, CallPayload, CallStatusEvent, Envelope, Event, NumbersPayload, RecordingPayload,
    RecordingStatus, SessionSummary, SummaryPayload, VirtualNumberUpdate, event_type, lenient,
};

/// The envelope keys the two-pass parse knows (the same names, no aliases).
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Key {
    EventType,
    Namespace,
    Description,
    Version,
    Payload,
    #[serde(other)]
    Other,
}

/// `version` with the same lenient number rule as the two-pass parse.
struct Version(Option<u32>);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::opt_num(d).map(Version)
    }
}

enum Payload {
    Call(CallPayload),
    Summary(SummaryPayload),
    Recording(RecordingPayload),
    Numbers(NumbersPayload),
}

struct TopVisitor;

/// Any reason to let the two-pass parse decide; never shown to anyone.
fn give_up<E: de::Error>() -> E {
    E::custom("not the common case")
}

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a webhook body")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let mut event_type: Option<String> = None;
        let mut namespace: Option<Option<String>> = None;
        let mut description: Option<Option<String>> = None;
        let mut version: Option<Option<u32>> = None;
        let mut payload: Option<Payload> = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::EventType if event_type.is_none() => event_type = Some(map.next_value()?),
                Key::Namespace if namespace.is_none() => namespace = Some(map.next_value()?),
                Key::Description if description.is_none() => {
                    description = Some(map.next_value()?);
                }
                Key::Version if version.is_none() => {
                    version = Some(map.next_value::<Version>()?.0);
                }
                Key::Payload if payload.is_none() => {
                    payload = Some(match event_type.as_deref() {
                        Some(event_type::CALL_ACTION | event_type::CALL_STATUS) => {
                            Payload::Call(map.next_value()?)
                        }
                        Some(event_type::SESSION_SUMMARY) => Payload::Summary(map.next_value()?),
                        Some(event_type::CALL_RECORDING_STATUS) => {
                            Payload::Recording(map.next_value()?)
                        }
                        Some(event_type::VIRTUAL_NUMBER_UPDATE) => {
                            Payload::Numbers(map.next_value()?)
                        }
                        // Payload first, or an event type this version does not know.
                        _ => return Err(give_up()),
                    });
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
                // A duplicate key: the two-pass parse reports it.
                _ => return Err(give_up()),
            }
        }
        let (Some(event_type), Some(payload)) = (event_type, payload) else {
            return Err(give_up());
        };
        let envelope = Envelope {
            event_type,
            namespace: namespace.flatten(),
            description: description.flatten(),
            version: version.flatten(),
        };
        Ok(match payload {
            Payload::Call(p) if envelope.event_type == event_type::CALL_ACTION => {
                Event::CallAction(CallAction::new(envelope, p))
            }
            Payload::Call(p) => Event::CallStatus(CallStatusEvent::new(envelope, p)),
            Payload::Summary(p) => Event::SessionSummary(SessionSummary::new(envelope, p)),
            Payload::Recording(p) => Event::RecordingStatus(RecordingStatus::new(envelope, p)),
            Payload::Numbers(p) => {
                Event::VirtualNumberUpdate(VirtualNumberUpdate::new(envelope, p))
            }
        })
    }
}

/// The event, when `text` is the common case and valid; `None` lets the two-pass parse
/// decide (and report errors).
pub(super) fn parse(text: &str) -> Option<Event> {
    let mut de = serde_json::Deserializer::from_str(text);
    let event = de.deserialize_map(TopVisitor).ok()?;
    de.end().ok()?;
    Some(event)
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::super::parse_two_pass;
    use crate::testing::fixtures;

    /// Every body the one-pass parse accepts must give exactly what the two-pass parse gives.
    fn agree(text: &str) {
        if let Some(fast) = super::parse(text) {
            assert_eq!(Ok(fast), parse_two_pass(text), "{text}");
        }
    }

    #[test]
    fn the_one_pass_parse_agrees_with_the_two_pass_parse_on_every_fixture() {
        for f in fixtures::events() {
            agree(f.json);
            // Every known event whose type comes before its payload takes the one pass
            // (8x8's payload-first bodies cost the same either way: the type must be known
            // before the payload can be typed).
            let type_first = f.json.find("\"eventType\"") < f.json.find("\"payload\"");
            let known = f.name.starts_with('v');
            assert_eq!(
                super::parse(f.json).is_some(),
                type_first && known,
                "{}",
                f.name
            );
        }
    }

    #[test]
    fn unusual_bodies_are_left_to_the_two_pass_parse() {
        let payload = r#"{"eventId":"e","callId":"c","sessionId":"s","callStatus":"CALL_RECEIVED","source":"+6591110001","destination":"+6568880000"}"#;
        let cases = [
            // payload before eventType
            format!(r#"{{"payload":{payload},"eventType":"CALL_ACTION"}}"#),
            // duplicate keys
            format!(
                r#"{{"eventType":"CALL_ACTION","eventType":"CALL_STATUS","payload":{payload}}}"#
            ),
            format!(r#"{{"eventType":"CALL_ACTION","payload":{payload},"payload":{payload}}}"#),
            // unknown event type, null event type, null payload, missing payload
            format!(r#"{{"eventType":"NEW_THING","payload":{payload}}}"#),
            format!(r#"{{"eventType":null,"payload":{payload}}}"#),
            r#"{"eventType":"CALL_ACTION","payload":null}"#.to_owned(),
            r#"{"eventType":"CALL_ACTION"}"#.to_owned(),
            // wrong shapes, trailing garbage
            format!(r#"{{"eventType":"CALL_ACTION","version":"x","payload":{payload}}}"#),
            format!(r#"{{"eventType":"CALL_ACTION","payload":{payload}}} x"#),
        ];
        for text in &cases {
            assert!(super::parse(text).is_none(), "{text}");
        }
        // Accepted, and identical to the two-pass result.
        let ok = [
            format!(
                r#"{{"eventType":"CALL_STATUS","payload":{payload},"extra":[1,{{"a":null}}]}}"#
            ),
            format!(
                r#"{{"namespace":null,"eventType":"CALL_ACTION","version":"5","payload":{payload}}}"#
            ),
            format!(r#"{{"event\u0054ype":"CALL_ACTION","payload":{payload}}}"#),
        ];
        for text in &ok {
            assert!(super::parse(text).is_some(), "{text}");
            agree(text);
        }
    }
}
