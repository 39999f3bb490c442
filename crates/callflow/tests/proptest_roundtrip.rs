//! Property tests: round trips of what the webhook sends and receives.
//!
//! - Callflows: build (builder) → serialize → parse (`CallFlow::parse`) → validate. Any
//!   callflow the builder makes within 8x8's documented ranges must come back identical and
//!   valid, whatever its texts contain (quotes, backslashes, control and non-ASCII
//!   characters).
//! - Events: build (test kit) → serialize → parse (`Event::from_slice`) gives the same event,
//!   whatever the ids, numbers, statuses and digits.
//! - Parsing never panics on arbitrary bytes, and a callflow that fails to parse says why.

use callflow::callflow::{MakeCall, Mode, PlayFile, Say, SayAndCapture};
use callflow::event::{CallDirection, CallStatus};
use callflow::{CallFlow, CallFlowBuilder, Event};
use proptest::prelude::*;

/// Text 8x8 will speak: not blank, up to a few hundred characters of anything.
fn text() -> impl Strategy<Value = String> {
    "[ -~\u{a0}-\u{17f}\u{4e00}-\u{4e20}\n\t\"\\\\]{1,200}"
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

fn voice() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("en-US-BenjaminRUS".to_owned()),
        Just("en-GB-Susan".to_owned()),
        "[a-z]{2}-[A-Z]{2}-[A-Za-z]{3,12}",
    ]
}

/// A phone number as 8x8 accepts it: 6–15 digits, no leading 0, `+` optional.
fn msisdn() -> impl Strategy<Value = String> {
    ("[+]?", "[1-9][0-9]{5,14}").prop_map(|(plus, digits)| format!("{plus}{digits}"))
}

/// A speaking rate as written in callflows: 0.5–2.0 in hundredths. (Arbitrary `f64`s with 17
/// significant digits can come back one ulp off: serde_json's default float parser is not
/// exact without its `float_roundtrip` feature.)
fn speed() -> impl Strategy<Value = f64> {
    (50u32..=200).prop_map(|hundredths| f64::from(hundredths) / 100.0)
}

fn say() -> impl Strategy<Value = Say> {
    (
        text(),
        voice(),
        proptest::option::of(1u32..=3),
        proptest::option::of(speed()),
    )
        .prop_map(|(text, voice, repetition, speed)| {
            let mut say = Say::new(text, voice);
            if let Some(n) = repetition {
                say = say.repetition(n);
            }
            if let Some(s) = speed {
                say = say.speed(s);
            }
            say
        })
}

fn play_file() -> impl Strategy<Value = PlayFile> {
    (
        "https?://[a-z]{1,12}\\.example\\.com/[a-z0-9_/]{1,30}\\.(mp3|wav)",
        proptest::option::of(1u32..=3),
    )
        .prop_map(|(url, repetition)| {
            let play = PlayFile::new(url);
            match repetition {
                Some(n) => play.repetition(n),
                None => play,
            }
        })
}

fn capture() -> impl Strategy<Value = SayAndCapture> {
    (
        (text(), voice(), proptest::option::of(speed())),
        (1u32..=25, proptest::option::of(1u32..=25), any::<bool>()),
        (
            proptest::option::of((1u32..=10_000, 0u32..=20_000)),
            proptest::option::of(1u32..=5),
        ),
        (proptest::option::of(text()), proptest::option::of(text())),
    )
        .prop_map(
            |((prompt, voice, speed), (max, min, hash), (timeouts, tries), (ok, ko))| {
                let mut c = SayAndCapture::new(prompt)
                    .voice(voice)
                    .complete_on_hash(hash);
                c = match min {
                    Some(min) => c.digits(min.min(max), max),
                    None => c.max_digits(max),
                };
                if let Some((digit, extra)) = timeouts {
                    c = c.timeouts(digit, digit + extra);
                }
                if let Some(n) = tries {
                    c = c.tries(n);
                }
                if let Some(s) = speed {
                    c = c.speed(s);
                }
                if let Some(m) = ok {
                    c = c.success_message(m);
                }
                if let Some(m) = ko {
                    c = c.failure_message(m);
                }
                c
            },
        )
}

#[derive(Clone, Debug)]
enum Step {
    Say(Say),
    Play(PlayFile),
    Capture(SayAndCapture),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        say().prop_map(Step::Say),
        play_file().prop_map(Step::Play),
        capture().prop_map(Step::Capture),
    ]
}

#[derive(Clone, Debug)]
enum Ending {
    Hangup,
    Bridge(Vec<(String, String, Option<bool>)>),
    Open,
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        Just(Ending::Hangup),
        proptest::collection::vec(
            (msisdn(), msisdn(), proptest::option::of(any::<bool>())),
            1..=2
        )
        .prop_map(Ending::Bridge),
        Just(Ending::Open),
    ]
}

/// A valid reply callflow built with the builder: some prompts, then a hangup, one or two
/// bridges, or nothing more (at least one action in all).
fn callflow() -> impl Strategy<Value = CallFlow> {
    (
        proptest::option::of("[A-Za-z0-9_-]{1,24}"),
        proptest::collection::vec(step(), 0..5),
        ending(),
    )
        .prop_filter("at least one action", |(_, steps, end)| {
            !steps.is_empty() || !matches!(end, Ending::Open)
        })
        .prop_map(|(id, steps, end)| {
            let mut b: CallFlowBuilder = CallFlow::builder();
            if let Some(id) = id {
                b = b.client_action_id(id);
            }
            for s in steps {
                b = match s {
                    Step::Say(s) => b.say_with(s),
                    Step::Play(p) => b.play_file_with(p),
                    Step::Capture(c) => b.say_and_capture(c),
                };
            }
            match end {
                Ending::Hangup => b.hangup(),
                Ending::Bridge(calls) => {
                    for (from, to, record) in calls {
                        let mut call = MakeCall::to(to).caller_id(from);
                        if let Some(r) = record {
                            call = call.record(r);
                        }
                        b = b.make_call(call);
                    }
                    b.build()
                }
                Ending::Open => b.build(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Failures are reported with their minimal input; nothing is written to the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// build → serialize → parse → validate: the same callflow, valid.
    #[test]
    fn built_callflows_round_trip_and_validate(flow in callflow()) {
        prop_assert!(flow.validate(Mode::Reply).is_ok(), "{:?}", flow.validate(Mode::Reply));
        let bytes = flow.to_bytes();
        let parsed = CallFlow::parse(&bytes, Mode::Reply)
            .map_err(|v| TestCaseError::fail(format!("{v}: {}", String::from_utf8_lossy(&bytes))))?;
        prop_assert_eq!(&parsed, &flow);
        prop_assert!(parsed.validate(Mode::Reply).is_ok());
        // Serializing again gives the very same bytes.
        prop_assert_eq!(parsed.to_bytes(), bytes);
    }

    /// An event built by the test kit parses back to itself.
    #[test]
    fn call_action_events_round_trip(
        event_id in "[a-f0-9-]{1,40}",
        session_id in "[a-f0-9-]{1,40}",
        call_id in "[a-f0-9-]{1,40}",
        from in msisdn(),
        to in msisdn(),
        status in prop_oneof![
            Just(CallStatus::CallReceived),
            Just(CallStatus::CallConnected),
            "[A-Z_]{3,20}".prop_map(|s| CallStatus::parse(&s)),
        ],
        direction in prop_oneof![Just(CallDirection::Inbound), Just(CallDirection::Outbound)],
        duration in any::<u32>(),
        digits in proptest::option::of("[0-9*#]{1,25}"),
        client_action_id in proptest::option::of("[ -~]{1,30}"),
    ) {
        let mut b = callflow::testing::call_action()
            .event_id(&event_id)
            .session_id(&session_id)
            .call_id(&call_id)
            .from(&from)
            .to(&to)
            .direction(direction)
            .duration(u64::from(duration));
        if let Some(d) = &digits {
            b = b.dtmf(d);
        } else {
            b = b.status(status);
        }
        if let Some(id) = &client_action_id {
            b = b.client_action_id(id);
        }
        let built = b.clone().build();
        let json = b.build_json();
        match Event::from_slice(json.as_bytes()) {
            Ok(Event::CallAction(parsed)) => {
                prop_assert_eq!(&parsed, &built);
                prop_assert_eq!(parsed.dtmf(), digits.as_deref());
            }
            other => prop_assert!(false, "{json} parsed as {other:?}"),
        }
    }

    /// Arbitrary bytes never panic either parser.
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Event::from_slice(&bytes);
        if let Err(v) = CallFlow::parse(&bytes, Mode::Reply) {
            prop_assert!(!v.violations().is_empty());
        }
    }
}
