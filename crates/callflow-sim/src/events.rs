//! The webhook bodies the simulator sends, built from the core's typed events so they have
//! exactly the shape the core (and 8x8) use, then adjusted for the payload style.

use callflow::event::builder;
use callflow::event::{
    CallDirection, CallLeg, CallQuality, CallStatus, CallType, ErrorDetails, LastAction, LegStatus,
    Legs, NumberFormat, SessionStatus,
};
use callflow::{PhoneNumber, Timestamp};
use serde_json::{Value, json};

/// Where a `sayAndCapture` result and other drifting fields go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PayloadStyle {
    /// 8x8's current documentation: `callStatus: ACTION_COMPLETED`, digits in
    /// `payload.eventData.dtmf`, `eventData` a map.
    #[default]
    Current,
    /// Older documentation and captures: `callStatus: DTMF_RECEIVED`, digits in
    /// `payload.dtmf`, `eventData` a (blank) string.
    Legacy,
    /// A third documented capture: `callStatus: ACTION_COMPLETED`, the digits as `eventData`
    /// itself (`"eventData": "1"`, an empty string for no input), no `payload.dtmf`.
    PlainString,
}

impl PayloadStyle {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadStyle::Current => "current",
            PayloadStyle::Legacy => "legacy",
            PayloadStyle::PlainString => "string",
        }
    }

    /// The style named `name` on the command line or in the emulator's `faults`
    /// (`current`, `legacy`, `string`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "current" => Some(PayloadStyle::Current),
            "legacy" => Some(PayloadStyle::Legacy),
            "string" => Some(PayloadStyle::PlainString),
            _ => None,
        }
    }
}

/// The ISO 3166-1 alpha-2 country of a number, from its calling code (a few common ones).
pub(crate) fn country_of(number: &str) -> Option<&'static str> {
    let d = number.trim().trim_start_matches('+');
    const CODES: &[(&str, &str)] = &[
        ("852", "HK"),
        ("880", "BD"),
        ("971", "AE"),
        ("65", "SG"),
        ("60", "MY"),
        ("62", "ID"),
        ("63", "PH"),
        ("66", "TH"),
        ("84", "VN"),
        ("91", "IN"),
        ("94", "LK"),
        ("61", "AU"),
        ("64", "NZ"),
        ("81", "JP"),
        ("82", "KR"),
        ("86", "CN"),
        ("44", "GB"),
        ("49", "DE"),
        ("33", "FR"),
        ("34", "ES"),
        ("39", "IT"),
        ("31", "NL"),
        ("1", "US"),
    ];
    CODES
        .iter()
        .find(|(code, _)| d.starts_with(code))
        .map(|(_, cc)| *cc)
}

/// One call leg as the events describe it.
#[derive(Clone, Debug)]
pub(crate) struct LegView<'a> {
    pub call_id: &'a str,
    pub direction: CallDirection,
    pub source: &'a str,
    pub destination: &'a str,
    pub source_ref: Option<&'a str>,
    pub destination_ref: Option<&'a str>,
}

/// Session-wide fields.
#[derive(Clone, Debug)]
pub(crate) struct SessionView<'a> {
    pub session_id: &'a str,
    pub sub_account: &'a str,
}

/// A `CALL_ACTION` or `CALL_STATUS` body.
pub(crate) struct CallEvent<'a> {
    pub action: bool,
    pub session: &'a SessionView<'a>,
    pub leg: &'a LegView<'a>,
    pub status: CallStatus,
    pub at_millis: i64,
    pub duration_s: u64,
    pub sip: u16,
    /// `Some` for the result of a `sayAndCapture` (the digits, or `None` for no input).
    pub capture: Option<Option<&'a str>>,
    pub client_action_id: Option<&'a str>,
    pub style: PayloadStyle,
}

impl CallEvent<'_> {
    /// The event id and the JSON body.
    pub fn build(&self) -> (String, Vec<u8>) {
        let event_id = builder::fresh_id();
        let leg = self.leg;
        let status = match (&self.capture, self.style) {
            (Some(_), PayloadStyle::Legacy) => CallStatus::DtmfReceived,
            _ => self.status.clone(),
        };
        let fill = |p: &mut callflow::event::CallPayload| {
            p.event_id.clone_from(&event_id);
            p.call_id = leg.call_id.to_owned();
            p.session_id = self.session.session_id.to_owned();
            p.sub_account_id = Some(self.session.sub_account.to_owned());
            p.call_status = status.clone();
            p.call_direction = Some(leg.direction.clone());
            p.call_type = Some(CallType::Pstn);
            p.source = PhoneNumber::new(leg.source);
            p.destination = PhoneNumber::new(leg.destination);
            p.source_format = Some(NumberFormat::Msisdn);
            p.destination_format = Some(NumberFormat::Msisdn);
            p.source_country_code = country_of(leg.source).map(str::to_owned);
            p.destination_country_code = country_of(leg.destination).map(str::to_owned);
            p.source_ref_id = leg.source_ref.map(str::to_owned);
            p.destination_ref_id = leg.destination_ref.map(str::to_owned);
            p.call_duration = Some(self.duration_s);
            p.event_data = None;
            p.dtmf = None;
            p.sip_code = Some(self.sip);
            p.timestamp = Some(Timestamp::from_unix_millis(self.at_millis));
            p.client_action_id = self.client_action_id.map(str::to_owned);
        };
        let mut value = if self.action {
            serde_json::to_value(builder::call_action().with(fill).build())
        } else {
            serde_json::to_value(builder::call_status().with(fill).build())
        }
        .expect("events serialize");
        let payload = value
            .get_mut("payload")
            .and_then(Value::as_object_mut)
            .expect("events have a payload object");
        match self.style {
            PayloadStyle::Current => {
                if let Some(digits) = self.capture {
                    payload.insert("eventData".into(), json!({ "dtmf": digits }));
                }
            }
            PayloadStyle::Legacy => {
                payload.insert("eventData".into(), json!(" "));
                if let Some(digits) = self.capture {
                    payload.insert("dtmf".into(), json!(digits));
                }
            }
            PayloadStyle::PlainString => {
                if let Some(digits) = self.capture {
                    payload.insert("eventData".into(), json!(digits.unwrap_or("")));
                }
            }
        }
        (
            event_id,
            serde_json::to_vec(&value).expect("JSON values serialize"),
        )
    }
}

/// One leg of the final summary.
pub(crate) struct SummaryLeg<'a> {
    pub key: &'a str,
    pub view: LegView<'a>,
    pub initiated: i64,
    pub connected: Option<i64>,
    pub disconnected: i64,
    pub status: LegStatus,
    pub duration_s: u64,
}

/// A `SESSION_SUMMARY` body.
pub(crate) struct SummaryEvent<'a> {
    pub session: &'a SessionView<'a>,
    pub status: SessionStatus,
    pub start: i64,
    pub end: i64,
    pub last_action: Option<LastAction>,
    pub error: Option<(i64, String, Option<LastAction>)>,
    pub legs: Vec<SummaryLeg<'a>>,
}

/// 8x8 writes session and leg times to the second (`2024-03-25T06:01:30Z`).
fn seconds(millis: i64) -> Timestamp {
    let t = Timestamp::from_unix_millis(millis);
    let raw = t.as_str();
    match raw.split_once('.') {
        Some((head, _)) => Timestamp::new(format!("{head}Z")),
        None => t,
    }
}

fn action_name(a: &LastAction) -> String {
    a.as_str().to_owned()
}

impl SummaryEvent<'_> {
    /// The JSON body.
    pub fn build(&self) -> Vec<u8> {
        let base = builder::session_summary().build();
        let template: CallLeg = base
            .payload
            .details
            .call_a()
            .cloned()
            .expect("the test kit's summary has a callA leg");
        let mut legs = Legs::default();
        for l in &self.legs {
            let mut leg = template.clone();
            leg.call_id = Some(l.view.call_id.to_owned());
            leg.call_direction = Some(l.view.direction.clone());
            leg.call_type = Some(CallType::Pstn);
            leg.initiated_timestamp = Some(seconds(l.initiated));
            leg.connected_timestamp = l.connected.map(seconds);
            leg.disconnected_timestamp = Some(seconds(l.disconnected));
            leg.source = Some(PhoneNumber::new(l.view.source));
            leg.destination = Some(PhoneNumber::new(l.view.destination));
            leg.source_format = Some(NumberFormat::Msisdn);
            leg.destination_format = Some(NumberFormat::Msisdn);
            leg.source_country_code = country_of(l.view.source).map(str::to_owned);
            leg.destination_country_code = country_of(l.view.destination).map(str::to_owned);
            leg.source_ref_id = l.view.source_ref.map(str::to_owned);
            leg.destination_ref_id = l.view.destination_ref.map(str::to_owned);
            leg.call_status = Some(l.status.clone());
            leg.call_duration = Some(l.duration_s);
            leg.call_quality = l.connected.map(|_| {
                let mut q = CallQuality::default();
                q.mos = Some(4.4);
                q.packet_loss_rate = Some(0.0);
                q.jitter = Some(12.0);
                q
            });
            legs.0.insert(l.key.to_owned(), leg);
        }
        let summary = builder::session_summary()
            .with(|p| {
                p.session_id = self.session.session_id.to_owned();
                p.sub_account_id = Some(self.session.sub_account.to_owned());
                p.session_status = self.status.clone();
                p.start_time = Some(seconds(self.start));
                p.end_time = Some(seconds(self.end));
                p.last_action = self.last_action.clone();
                p.call_count = Some(self.legs.len() as u32);
                p.client_request_id = None;
                p.error_details = self.error.as_ref().map(|(code, msg, action)| {
                    let mut e = ErrorDetails::default();
                    e.error_code = Some(*code);
                    e.error_msg = Some(msg.clone());
                    e.action = action.as_ref().map(action_name);
                    e
                });
                p.details = legs;
            })
            .build();
        serde_json::to_vec(&summary).expect("events serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callflow::event::Event;

    fn views() -> (SessionView<'static>, LegView<'static>) {
        (
            SessionView {
                session_id: "s-1",
                sub_account: "acct",
            },
            LegView {
                call_id: "c-1",
                direction: CallDirection::Inbound,
                source: "+6591110001",
                destination: "+6568880000",
                source_ref: None,
                destination_ref: Some("vn-ref-1"),
            },
        )
    }

    fn capture(style: PayloadStyle, digits: Option<&str>) -> Value {
        let (s, l) = views();
        let (_, body) = CallEvent {
            action: true,
            session: &s,
            leg: &l,
            status: CallStatus::ActionCompleted,
            at_millis: 1_700_000_000_000,
            duration_s: 4,
            sip: 200,
            capture: Some(digits),
            client_action_id: Some("menu"),
            style,
        }
        .build();
        let Event::CallAction(ev) = Event::from_slice(&body).unwrap() else {
            panic!("not a CALL_ACTION")
        };
        assert_eq!(ev.dtmf(), digits);
        assert_eq!(ev.client_action_id(), Some("menu"));
        serde_json::from_slice(&body).unwrap()
    }

    #[test]
    fn current_style_puts_digits_in_event_data_map() {
        let v = capture(PayloadStyle::Current, Some("12"));
        assert_eq!(v["payload"]["callStatus"], "ACTION_COMPLETED");
        assert_eq!(v["payload"]["eventData"], json!({"dtmf": "12"}));
        assert!(v["payload"].get("dtmf").is_none());
        let v = capture(PayloadStyle::Current, None);
        assert_eq!(v["payload"]["eventData"], json!({"dtmf": null}));
    }

    #[test]
    fn legacy_style_puts_digits_in_payload_with_dtmf_received() {
        let v = capture(PayloadStyle::Legacy, Some("3"));
        assert_eq!(v["payload"]["callStatus"], "DTMF_RECEIVED");
        assert_eq!(v["payload"]["dtmf"], "3");
        assert_eq!(v["payload"]["eventData"], " ");
    }

    #[test]
    fn string_style_puts_the_digits_in_event_data_itself() {
        let v = capture(PayloadStyle::PlainString, Some("1"));
        assert_eq!(v["payload"]["callStatus"], "ACTION_COMPLETED");
        assert_eq!(v["payload"]["eventData"], "1");
        assert!(v["payload"].get("dtmf").is_none());
        let v = capture(PayloadStyle::PlainString, None);
        assert_eq!(v["payload"]["eventData"], "");
    }

    #[test]
    fn styles_are_named_as_on_the_command_line() {
        for style in [
            PayloadStyle::Current,
            PayloadStyle::Legacy,
            PayloadStyle::PlainString,
        ] {
            assert_eq!(PayloadStyle::from_name(style.as_str()), Some(style));
        }
        assert_eq!(PayloadStyle::from_name("xml"), None);
    }

    #[test]
    fn summary_times_are_whole_seconds() {
        assert_eq!(seconds(1_711_346_490_123).as_str(), "2024-03-25T06:01:30Z");
    }

    #[test]
    fn countries_from_calling_codes() {
        assert_eq!(country_of("+6591110001"), Some("SG"));
        assert_eq!(country_of("12314377870"), Some("US"));
        assert_eq!(country_of("+85212345678"), Some("HK"));
        assert_eq!(country_of("+999"), None);
    }
}
