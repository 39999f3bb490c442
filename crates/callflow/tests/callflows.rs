//! Outbound callflows: exact serialization, the builder, and every validator code.

use callflow::CallFlow;
use callflow::callflow::{Action, Code, MakeCall, Mode, PlayFile, Say, SayAndCapture};
use callflow::testing::fixtures;
use serde_json::{Value, json};

fn codes(json: Value, mode: Mode) -> Vec<(i32, String)> {
    match CallFlow::parse(json.to_string().as_bytes(), mode) {
        Ok(_) => Vec::new(),
        Err(v) => v
            .violations()
            .iter()
            .map(|v| (v.code.as_i32(), v.path.clone()))
            .collect(),
    }
}

fn one(json: Value, mode: Mode) -> (i32, String) {
    let c = codes(json.clone(), mode);
    assert_eq!(
        c.len(),
        1,
        "expected exactly one violation for {json}, got {c:?}"
    );
    c.into_iter().next().unwrap()
}

fn say(params: Value) -> Value {
    json!({"callflow": [{"action": "say", "params": params}]})
}

fn capture(extra: Value) -> Value {
    let mut params = json!({"promptMessage": "Press 1", "voiceProfile": "en-US-BenjaminRUS"});
    for (k, v) in extra.as_object().unwrap() {
        params[k] = v.clone();
    }
    json!({"callflow": [{"action": "sayAndCapture", "params": params}]})
}

#[test]
fn every_documented_callflow_example_validates() {
    let mut n = 0;
    for f in fixtures::callflows() {
        let mode = if f.name == "cf_send_callflow" {
            Mode::SendCallflow
        } else {
            Mode::Reply
        };
        let flow = CallFlow::parse(f.json.as_bytes(), mode)
            .unwrap_or_else(|v| panic!("{} does not validate: {v}", f.name));
        assert!(!flow.actions().is_empty());
        n += 1;
    }
    assert_eq!(n, 5);
}

#[test]
fn documented_examples_serialize_back_to_the_same_json() {
    for f in fixtures::callflows().filter(|f| f.name != "cf_send_callflow") {
        let flow = CallFlow::parse(f.json.as_bytes(), Mode::Reply).unwrap();
        let ours: Value = serde_json::from_str(&flow.to_json()).unwrap();
        let theirs: Value = serde_json::from_str(f.json).unwrap();
        assert_eq!(ours, theirs, "{}", f.name);
    }
}

#[test]
fn builder_output_is_exactly_what_8x8_documents() {
    let bridge = CallFlow::builder()
        .client_action_id("NumberMaskingId1")
        .make_call(
            MakeCall::to("6587654321")
                .caller_id("6512345678")
                .record(true),
        )
        .build();
    assert_eq!(
        bridge.to_json(),
        r#"{"clientActionId":"NumberMaskingId1","callflow":[{"action":"makeCall","params":{"source":"6512345678","destination":"6587654321","callRecording":true}}]}"#
    );

    let tts = CallFlow::builder()
        .say_with(Say::new("Invalid input, please call again.", "en-US-BenjaminRUS").speed(1.0))
        .hangup();
    assert_eq!(
        tts.to_json(),
        r#"{"callflow":[{"action":"say","params":{"text":"Invalid input, please call again.","voiceProfile":"en-US-BenjaminRUS","speed":1}},{"action":"hangup"}]}"#
    );

    let menu = CallFlow::builder()
        .client_action_id("book_table")
        .say_and_capture(
            SayAndCapture::new("Press 1 for today, 2 for tomorrow.")
                .voice("en-US-BenjaminRUS")
                .speed(1.0)
                .digits(1, 1)
                .timeouts(10000, 10000)
                .tries(2),
        )
        .build();
    assert_eq!(
        menu.to_json(),
        r#"{"clientActionId":"book_table","callflow":[{"action":"sayAndCapture","params":{"promptMessage":"Press 1 for today, 2 for tomorrow.","voiceProfile":"en-US-BenjaminRUS","speed":1,"minDigits":1,"maxDigits":1,"digitTimeout":10000,"overallTimeout":10000,"noOfTries":2}}]}"#
    );
    let theirs: Value = serde_json::from_str(fixtures::get("cf_ivr_menu")).unwrap();
    let ours: Value = serde_json::from_str(&menu.to_json()).unwrap();
    assert_eq!(
        ours["callflow"][0]["params"]["maxDigits"],
        theirs["callflow"][0]["params"]["maxDigits"]
    );

    let play = CallFlow::builder()
        .play_file_with(PlayFile::new("https://example.com/hold.mp3").repetition(2))
        .hangup();
    assert_eq!(
        play.to_json(),
        r#"{"callflow":[{"action":"playFile","params":{"fileUrl":"https://example.com/hold.mp3","repetition":2}},{"action":"hangup"}]}"#
    );
}

#[test]
fn fractional_speed_is_sent_as_a_fraction() {
    let flow = CallFlow::builder()
        .say_with(Say::new("Hi", "en-GB-Emma").speed(0.75))
        .build();
    assert!(
        flow.to_json().contains(r#""speed":0.75"#),
        "{}",
        flow.to_json()
    );
}

#[test]
fn hangup_is_serialized_without_params_and_ends_the_builder() {
    let flow = CallFlow::builder().say("Bye").hangup();
    // `hangup()` returns the finished CallFlow: the builder is gone, nothing can follow.
    assert_eq!(flow.actions().last(), Some(&Action::Hangup));
    assert!(flow.to_json().ends_with(r#"{"action":"hangup"}]}"#));
    assert!(flow.validate(Mode::Reply).is_ok());
}

#[test]
fn builder_voice_applies_to_following_says() {
    let flow = CallFlow::builder()
        .voice("en-GB-Emma")
        .say("one")
        .say("two")
        .build();
    for a in flow.actions() {
        let Action::Say(s) = a else { panic!() };
        assert_eq!(s.voice_profile, "en-GB-Emma");
    }
}

#[test]
fn builder_voice_applies_to_say_and_capture_unless_it_sets_its_own() {
    let flow = CallFlow::builder()
        .voice("en-GB-Emma")
        .say_and_capture(SayAndCapture::new("Press 1").max_digits(1))
        .say_and_capture(
            SayAndCapture::new("Press 2")
                .voice("en-AU-Natasha")
                .max_digits(1),
        )
        .build();
    let voices: Vec<_> = flow
        .actions()
        .iter()
        .map(|a| match a {
            Action::SayAndCapture(c) => c.voice_profile.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        voices,
        [
            Some("en-GB-Emma".to_owned()),
            Some("en-AU-Natasha".to_owned())
        ]
    );
    assert!(
        flow.to_json()
            .contains(r#""promptMessage":"Press 1","voiceProfile":"en-GB-Emma""#)
    );
    // Without a builder, the default voice is sent (the parameter is required).
    let alone = CallFlow::from_actions(None, vec![Action::SayAndCapture(SayAndCapture::new("Hi"))]);
    assert_eq!(
        alone.to_json(),
        r#"{"callflow":[{"action":"sayAndCapture","params":{"promptMessage":"Hi","voiceProfile":"en-US-BenjaminRUS"}}]}"#
    );
    assert!(alone.validate(Mode::Reply).is_ok());
}

#[test]
fn make_call_names_its_numbers_and_debug_masks_them() {
    let flow = CallFlow::builder()
        .make_call(MakeCall::to("+6591110001").caller_id("+6568880000"))
        .build();
    let Action::MakeCall(m) = &flow.actions()[0] else {
        panic!()
    };
    assert_eq!(m.destination, "+6591110001");
    assert_eq!(m.source, "+6568880000");
    // The JSON carries the numbers as strings, as 8x8 expects, in the documented order.
    assert_eq!(
        flow.to_json(),
        r#"{"callflow":[{"action":"makeCall","params":{"source":"+6568880000","destination":"+6591110001"}}]}"#
    );
    let debug = format!("{flow:?}");
    for clear in ["91110001", "68880000"] {
        assert!(!debug.contains(clear), "{debug}");
    }
    assert!(debug.contains("+65****0001"), "{debug}");
}

#[test]
fn hangup_params_as_empty_object_is_accepted() {
    let j = json!({"callflow": [{"action": "say", "params": {"text": "x", "voiceProfile": "v"}}, {"action": "hangup", "params": {}}]});
    assert!(codes(j, Mode::Reply).is_empty());
    let j = json!({"callflow": [{"action": "hangup", "params": {"now": true}}]});
    assert_eq!(one(j, Mode::Reply), (-1009, "$.callflow[0].params".into()));
}

#[test]
fn invalid_json_is_1001() {
    let e = CallFlow::parse(b"{\"callflow\": [", Mode::Reply).unwrap_err();
    assert_eq!(e.violations()[0].code, Code::InvalidJson);
    assert_eq!(e.violations()[0].code.as_i32(), -1001);
}

#[test]
fn min_digits_without_max_digits_is_1003() {
    assert_eq!(
        one(capture(json!({"minDigits": 1})), Mode::Reply),
        (-1003, "$.callflow[0].params.maxDigits".into())
    );
}

#[test]
fn digit_timeout_without_overall_timeout_is_1005() {
    assert_eq!(
        one(capture(json!({"digitTimeout": 5000})), Mode::Reply),
        (-1005, "$.callflow[0].params.overallTimeout".into())
    );
}

#[test]
fn overall_timeout_smaller_than_digit_timeout_is_1006_but_equal_is_allowed() {
    assert_eq!(
        one(
            capture(json!({"digitTimeout": 5000, "overallTimeout": 4000})),
            Mode::Reply
        ),
        (-1006, "$.callflow[0].params.overallTimeout".into())
    );
    // 8x8's own examples use equal values.
    assert!(
        codes(
            capture(json!({"digitTimeout": 10000, "overallTimeout": 10000})),
            Mode::Reply
        )
        .is_empty()
    );
}

#[test]
fn unknown_action_is_1007() {
    let j = json!({"callflow": [{"action": "record", "params": {}}]});
    assert_eq!(one(j, Mode::Reply), (-1007, "$.callflow[0].action".into()));
    // Action names are case-sensitive camelCase.
    let j = json!({"callflow": [{"action": "MakeCall", "params": {"source": "6512345678", "destination": "6587654321"}}]});
    assert_eq!(one(j, Mode::Reply), (-1007, "$.callflow[0].action".into()));
}

#[test]
fn complete_on_hash_false_without_max_digits_is_1008() {
    assert_eq!(
        one(capture(json!({"completeOnHash": false})), Mode::Reply),
        (-1008, "$.callflow[0].params.maxDigits".into())
    );
    assert!(
        codes(
            capture(json!({"completeOnHash": false, "maxDigits": 4})),
            Mode::Reply
        )
        .is_empty()
    );
}

#[test]
fn missing_and_out_of_range_parameters_are_1009() {
    let p = |s: &str| format!("$.callflow[0].params.{s}");
    assert_eq!(
        one(say(json!({"voiceProfile": "v"})), Mode::Reply),
        (-1009, p("text"))
    );
    assert_eq!(
        one(say(json!({"text": "x"})), Mode::Reply),
        (-1009, p("voiceProfile"))
    );
    assert_eq!(
        one(
            say(json!({"text": "x".repeat(3001), "voiceProfile": "v"})),
            Mode::Reply
        ),
        (-1009, p("text"))
    );
    assert!(
        codes(
            say(json!({"text": "é".repeat(3000), "voiceProfile": "v"})),
            Mode::Reply
        )
        .is_empty()
    );
    for bad in [0, 4] {
        assert_eq!(
            one(
                say(json!({"text": "x", "voiceProfile": "v", "repetition": bad})),
                Mode::Reply
            ),
            (-1009, p("repetition"))
        );
    }
    for bad in [0.49, 2.01, 0.0] {
        assert_eq!(
            one(
                say(json!({"text": "x", "voiceProfile": "v", "speed": bad})),
                Mode::Reply
            ),
            (-1009, p("speed"))
        );
    }
    for ok in [json!(0.5), json!(1), json!(2.0)] {
        assert!(
            codes(
                say(json!({"text": "x", "voiceProfile": "v", "speed": ok})),
                Mode::Reply
            )
            .is_empty()
        );
    }
    for bad in [0, 26] {
        assert_eq!(
            one(capture(json!({"maxDigits": bad})), Mode::Reply),
            (-1009, p("maxDigits"))
        );
    }
    assert!(codes(capture(json!({"maxDigits": 25})), Mode::Reply).is_empty());
    for url in [
        "ftp://example.com/a.mp3",
        "example.com/a.mp3",
        "file:///tmp/a.wav",
        "",
    ] {
        let j = json!({"callflow": [{"action": "playFile", "params": {"fileUrl": url}}]});
        assert_eq!(one(j, Mode::Reply), (-1009, p("fileUrl")), "{url}");
    }
    let j = json!({"callflow": [{"action": "playFile", "params": {"fileUrl": "https://x.io/a.mp3", "repetition": 5}}]});
    assert_eq!(one(j, Mode::Reply), (-1009, p("repetition")));
    // Wrong types and unknown parameters (typos) are -1009 too.
    assert_eq!(
        one(say(json!({"text": 5, "voiceProfile": "v"})), Mode::Reply),
        (-1009, p("text"))
    );
    assert_eq!(
        one(
            say(json!({"text": "x", "voiceprofile": "v", "voiceProfile": "v"})),
            Mode::Reply
        ),
        (-1009, p("voiceprofile"))
    );
    let j = json!({"callflow": [{"action": "say"}]});
    assert_eq!(one(j, Mode::Reply), (-1009, "$.callflow[0].params".into()));
    let j = json!({"callflow": []});
    assert_eq!(one(j, Mode::Reply), (-1009, "$.callflow".into()));
    let j = json!({"clientActionId": "x"});
    assert_eq!(one(j, Mode::Reply), (-1009, "$.callflow".into()));
}

#[test]
fn more_than_two_make_calls_is_1010() {
    let mc = json!({"action": "makeCall", "params": {"source": "6512345678", "destination": "6587654321"}});
    let j = json!({"callflow": [mc.clone(), mc.clone()]});
    assert!(codes(j, Mode::Reply).is_empty());
    let j = json!({"callflow": [mc.clone(), mc.clone(), mc]});
    assert_eq!(one(j, Mode::Reply), (-1010, "$.callflow[2].action".into()));
}

#[test]
fn hangup_not_last_is_1012() {
    let j = json!({"callflow": [{"action": "hangup"}, {"action": "say", "params": {"text": "x", "voiceProfile": "v"}}]});
    assert_eq!(one(j, Mode::Reply), (-1012, "$.callflow[0].action".into()));
    let flow = CallFlow::from_actions(None, vec![Action::Hangup, Action::Hangup]);
    let v = flow.validate(Mode::Reply).unwrap_err();
    assert_eq!(v.violations().len(), 1);
    assert_eq!(v.violations()[0].code, Code::HangupMisplaced);
}

#[test]
fn send_callflow_must_start_with_make_call_1013() {
    let j = say(json!({"text": "x", "voiceProfile": "v"}));
    assert!(
        codes(j.clone(), Mode::Reply).is_empty(),
        "a reply may start with say"
    );
    assert_eq!(
        one(j, Mode::SendCallflow),
        (-1013, "$.callflow[0].action".into())
    );
}

#[test]
fn destination_not_an_msisdn_is_1017() {
    for bad in [
        "abc",
        "+65 9111 0001",
        "0065911100",
        "123",
        "+1234567890123456",
    ] {
        let j = json!({"callflow": [{"action": "makeCall", "params": {"source": "6512345678", "destination": bad}}]});
        assert_eq!(
            one(j, Mode::Reply),
            (-1017, "$.callflow[0].params.destination".into()),
            "{bad}"
        );
    }
    let j = json!({"callflow": [{"action": "makeCall", "params": {"source": "+6512345678", "destination": "+6587654321"}}]});
    assert!(codes(j, Mode::Reply).is_empty());
}

#[test]
fn call_recording_is_for_replies_only() {
    let j = json!({"callflow": [{"action": "makeCall", "params": {"source": "6512345678", "destination": "6587654321", "callRecording": true}}]});
    assert!(codes(j.clone(), Mode::Reply).is_empty());
    assert_eq!(
        one(j, Mode::SendCallflow),
        (-1009, "$.callflow[0].params.callRecording".into())
    );
}

#[test]
fn every_violation_is_reported_in_document_order() {
    let j = json!({"callflow": [
        {"action": "say", "params": {"text": "", "voiceProfile": "v", "repetition": 9}},
        {"action": "hangup"},
        {"action": "dance"},
        {"action": "sayAndCapture", "params": {"promptMessage": "p", "voiceProfile": "v", "minDigits": 2, "digitTimeout": 5}},
    ]});
    let got = codes(j, Mode::SendCallflow);
    assert_eq!(
        got,
        vec![
            (-1013, "$.callflow[0].action".into()),
            (-1009, "$.callflow[0].params.text".into()),
            (-1009, "$.callflow[0].params.repetition".into()),
            (-1012, "$.callflow[1].action".into()),
            (-1007, "$.callflow[2].action".into()),
            (-1003, "$.callflow[3].params.maxDigits".into()),
            (-1005, "$.callflow[3].params.overallTimeout".into()),
        ]
    );
}

#[test]
fn typed_and_parsed_validation_agree() {
    let flow = CallFlow::from_actions(
        Some("x".into()),
        vec![
            Action::MakeCall(MakeCall::to("not-a-number").caller_id("6512345678")),
            Action::Say(Say::new("hi", "v").repetition(7)),
        ],
    );
    let typed = flow.validate(Mode::Reply).unwrap_err();
    let parsed = CallFlow::parse(flow.to_json().as_bytes(), Mode::Reply).unwrap_err();
    assert_eq!(typed, parsed);
    assert!(typed.has(Code::InvalidDestination));
    assert!(
        typed
            .to_string()
            .contains("-1017 $.callflow[0].params.destination")
    );
}

#[test]
fn parsed_callflow_keeps_client_action_id_and_actions() {
    let flow = CallFlow::parse(fixtures::get("cf_nm_bridge").as_bytes(), Mode::Reply).unwrap();
    assert_eq!(flow.client_action_id(), Some("NumberMaskingId1"));
    let Action::MakeCall(m) = &flow.actions()[0] else {
        panic!()
    };
    assert_eq!(m.call_recording, Some(true));
    assert_eq!(m.destination, "6587654321");
}
