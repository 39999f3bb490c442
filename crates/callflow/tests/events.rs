//! Inbound event parsing: every fixture, and every tolerance rule of the issue.

use callflow::event::{
    CallDirection, CallStatus, CallType, Event, EventData, LastAction, LegStatus, NumberFormat,
    OperationalStatus, ParseErrorKind, RecordingState, SessionStatus, UpdateEventType,
};
use callflow::testing::fixtures;

/// The value an open enum keeps for `text`, checked to be one this version does not know.
macro_rules! unrecognized {
    ($ty:ident, $text:literal) => {{
        let v = $ty::from($text);
        assert!(
            v.is_unrecognized(),
            "{} is a known {}",
            $text,
            stringify!($ty)
        );
        assert_eq!(v.as_str(), $text);
        v
    }};
}

fn parse(name: &str) -> Event {
    Event::from_slice(fixtures::get(name).as_bytes())
        .unwrap_or_else(|e| panic!("fixture {name} does not parse: {e}"))
}

fn call_action(name: &str) -> callflow::event::CallAction {
    match parse(name) {
        Event::CallAction(e) => e,
        other => panic!("{name}: expected CALL_ACTION, got {}", other.event_type()),
    }
}

fn summary(name: &str) -> callflow::event::SessionSummary {
    match parse(name) {
        Event::SessionSummary(e) => e,
        other => panic!(
            "{name}: expected SESSION_SUMMARY, got {}",
            other.event_type()
        ),
    }
}

#[test]
fn every_valid_fixture_parses_to_its_event_type() {
    let mut n = 0;
    for f in fixtures::events() {
        let ev = Event::from_slice(f.json.as_bytes())
            .unwrap_or_else(|e| panic!("fixture {} does not parse: {e}", f.name));
        let expected = match f.name {
            n if n.starts_with("vca_") => "CALL_ACTION",
            n if n.starts_with("vcs") => "CALL_STATUS",
            n if n.starts_with("vss_") => "SESSION_SUMMARY",
            "vru" => "CALL_RECORDING_STATUS",
            "vnu" => "VIRTUAL_NUMBER_UPDATE",
            _ => "CALL_TRANSCRIPTION",
        };
        assert_eq!(ev.event_type(), expected, "{}", f.name);
        n += 1;
    }
    assert!(n >= 19, "only {n} event fixtures");
}

#[test]
fn the_malformed_doc_sample_is_a_syntax_error() {
    let e = Event::from_slice(fixtures::get("malformed_vca_doc_sample").as_bytes()).unwrap_err();
    assert_eq!(e.kind(), ParseErrorKind::Syntax);
}

#[test]
fn number_masking_inbound_call_has_every_field() {
    let ev = call_action("vca_nm_inbound");
    let p = &ev.payload;
    assert_eq!(p.event_id, "eb0fc709-9693-11ea-454d-1705dde98182");
    assert_eq!(p.call_id, "a1d6a5e3-efec-11e9-b999-7d370b5f90d1");
    assert_eq!(p.session_id, "a1d6a5e2-efec-11e9-b999-efc71013a78f");
    assert_eq!(p.sub_account_id.as_deref(), Some("your_subaccount_id"));
    assert_eq!(p.call_status, CallStatus::CallReceived);
    assert_eq!(p.call_direction, Some(CallDirection::Inbound));
    assert_eq!(p.call_type, Some(CallType::Pstn));
    assert_eq!(p.source.as_str(), "+65123456789");
    assert_eq!(p.destination.as_str(), "+65987654321");
    assert_eq!(p.source_format, Some(NumberFormat::Msisdn));
    assert_eq!(p.destination_format, Some(NumberFormat::Msisdn));
    assert_eq!(p.source_country_code.as_deref(), Some("SG"));
    assert_eq!(p.destination_country_code.as_deref(), Some("SG"));
    assert_eq!(p.destination_ref_id.as_deref(), Some("vn-ref-1"));
    assert_eq!(p.source_ref_id, None);
    assert_eq!(p.call_duration, Some(0));
    assert_eq!(p.sip_code, Some(200));
    assert_eq!(
        p.timestamp.as_ref().unwrap().unix_millis(),
        Some(1_571_213_521_000)
    );
    assert_eq!(ev.envelope.namespace.as_deref(), Some("VOICE"));
    assert_eq!(
        ev.envelope.description.as_deref(),
        Some("Action request of a call")
    );
    assert!(ev.is_call_received());
    assert_eq!(ev.dtmf(), None);
    assert_eq!(ev.client_action_id(), None);
}

#[test]
fn dtmf_is_found_in_event_data_map() {
    let ev = call_action("vca_ivr_dtmf");
    assert_eq!(ev.payload.call_status, CallStatus::ActionCompleted);
    assert_eq!(ev.dtmf(), Some("1"));
    assert_eq!(ev.client_action_id(), Some("ivr1_level1"));
    assert_eq!(ev.payload.source_ref_id.as_deref(), Some("SOME-VN-REF-ID"));
    assert_eq!(
        ev.payload.timestamp.as_ref().unwrap().unix_millis(),
        Some(1_715_832_731_217)
    );
}

#[test]
fn asr_captured_is_exposed_next_to_dtmf() {
    let ev = call_action("vca_ivr_dtmf_asr");
    assert_eq!(ev.dtmf(), Some("7534"));
    assert_eq!(ev.payload.asr_captured(), Some("hello world"));
}

#[test]
fn null_dtmf_and_asr_mean_nothing_captured() {
    let ev = call_action("vca_ivr_dtmf_null");
    assert!(matches!(ev.payload.event_data, Some(EventData::Map(_))));
    assert_eq!(ev.dtmf(), None);
    assert_eq!(ev.payload.asr_captured(), None);
}

#[test]
fn dtmf_is_found_in_event_data_string() {
    let ev = call_action("vca_3p_eventdata_string");
    assert_eq!(ev.payload.event_data, Some(EventData::Text("1".into())));
    assert_eq!(ev.dtmf(), Some("1"));
    assert_eq!(ev.payload.destination_ref_id, None);
}

#[test]
fn dtmf_is_found_directly_in_payload_with_legacy_status() {
    let ev = call_action("vca_ivr_legacy_dtmf_received");
    assert_eq!(ev.payload.call_status, CallStatus::DtmfReceived);
    assert_eq!(ev.dtmf(), Some("3"));
    assert_eq!(ev.client_action_id(), Some("ivr-1-stage-3"));
}

#[test]
fn numeric_dtmf_and_numbers_as_strings_are_accepted() {
    let ev = call_action("vca_legacy_numeric_dtmf");
    assert_eq!(ev.dtmf(), Some("3"));
    assert_eq!(ev.payload.call_duration, Some(0));
    assert_eq!(ev.payload.sip_code, Some(200));
}

#[test]
fn dtmf_precedence_is_event_data_map_then_string_then_payload() {
    let body = |event_data: &str, dtmf: &str| {
        format!(
            r#"{{"eventType":"CALL_ACTION","payload":{{"eventId":"e","callId":"c","sessionId":"s",
            "callStatus":"ACTION_COMPLETED","source":"+6591110001","destination":"+6568880000",
            "eventData":{event_data},"dtmf":{dtmf}}}}}"#
        )
    };
    let dtmf = |ed: &str, d: &str| match Event::from_slice(body(ed, d).as_bytes()).unwrap() {
        Event::CallAction(e) => e.dtmf().map(str::to_owned),
        _ => unreachable!(),
    };
    assert_eq!(dtmf(r#"{"dtmf":"12"}"#, r#""9""#).as_deref(), Some("12"));
    assert_eq!(dtmf(r#""34""#, r#""9""#).as_deref(), Some("34"));
    assert_eq!(dtmf(r#"{"dtmf":null}"#, r#""9""#).as_deref(), Some("9"));
    assert_eq!(dtmf(r#"" ""#, "42").as_deref(), Some("42"));
    assert_eq!(dtmf("null", "null"), None);
    assert_eq!(dtmf(r#"{"dtmf":7}"#, "null").as_deref(), Some("7"));
}

#[test]
fn unknown_fields_are_ignored() {
    let body = br#"{"eventType":"CALL_ACTION","brandNew":1,"payload":{"eventId":"e","callId":"c",
        "sessionId":"s","callStatus":"CALL_RECEIVED","source":"+6591110001",
        "destination":"+6568880000","futureField":{"nested":[1,2]},"anotherOne":"x"}}"#;
    assert!(matches!(Event::from_slice(body), Ok(Event::CallAction(_))));
}

#[test]
fn unknown_enum_values_are_kept_as_other() {
    let body = br#"{"eventType":"CALL_STATUS","payload":{"eventId":"e","callId":"c",
        "sessionId":"s","callStatus":"CALL_TRANSFERRED","callDirection":"SIDEWAYS",
        "callType":"WEBRTC","sourceFormat":"SIP_URI","destinationFormat":"E164",
        "source":"+6591110001","destination":"+6568880000"}}"#;
    let Event::CallStatus(ev) = Event::from_slice(body).unwrap() else {
        panic!()
    };
    assert_eq!(
        ev.payload.call_status,
        unrecognized!(CallStatus, "CALL_TRANSFERRED")
    );
    assert_eq!(
        ev.payload.call_direction,
        Some(unrecognized!(CallDirection, "SIDEWAYS"))
    );
    assert_eq!(
        ev.payload.call_type,
        Some(unrecognized!(CallType, "WEBRTC"))
    );
    assert_eq!(
        ev.payload.source_format,
        Some(unrecognized!(NumberFormat, "SIP_URI"))
    );
    assert_eq!(
        ev.payload.destination_format,
        Some(unrecognized!(NumberFormat, "E164"))
    );

    let body = br#"{"eventType":"SESSION_SUMMARY","payload":{"sessionId":"s",
        "sessionStatus":"PARTIALLY_COMPLETED","lastAction":"TRANSFER",
        "details":{"callA":{"callStatus":"ON_HOLD"}}}}"#;
    let Event::SessionSummary(ev) = Event::from_slice(body).unwrap() else {
        panic!()
    };
    assert_eq!(
        ev.payload.session_status,
        unrecognized!(SessionStatus, "PARTIALLY_COMPLETED")
    );
    assert_eq!(
        ev.payload.last_action,
        Some(unrecognized!(LastAction, "TRANSFER"))
    );
    assert_eq!(
        ev.payload.details.call_a().unwrap().call_status,
        Some(unrecognized!(LegStatus, "ON_HOLD"))
    );

    let body =
        br#"{"eventType":"CALL_RECORDING_STATUS","payload":{"sessionId":"s","status":"ARCHIVED"}}"#;
    let Event::RecordingStatus(ev) = Event::from_slice(body).unwrap() else {
        panic!()
    };
    assert_eq!(
        ev.payload.status,
        Some(unrecognized!(RecordingState, "ARCHIVED"))
    );
}

#[test]
fn placeholder_values_from_old_docs_are_kept_not_rejected() {
    let Event::CallStatus(ev) = parse("vcs_seed") else {
        panic!()
    };
    assert_eq!(
        ev.payload.call_direction,
        Some(unrecognized!(CallDirection, "INBOUND | OUTBOUND"))
    );
    assert_eq!(
        ev.payload.event_data,
        Some(EventData::Text("additional event data".into()))
    );
    assert_eq!(ev.payload.call_duration, Some(10));
    let Event::CallStatus(ev) = parse("vcs_old_placeholders") else {
        panic!()
    };
    assert_eq!(ev.payload.source_country_code, None);
    assert_eq!(ev.payload.destination_ref_id, None);
    assert_eq!(
        ev.payload.source_ref_id.as_deref(),
        Some("NumberRef1 | Null")
    );
    assert_eq!(
        ev.payload.dtmf(),
        None,
        "a blank eventData string is not digits"
    );
}

#[test]
fn nullable_country_codes_and_ref_ids_are_none() {
    let body =
        br#"{"eventType":"CALL_ACTION","payload":{"eventId":"e","callId":"c","sessionId":"s",
        "callStatus":"CALL_RECEIVED","source":"+6591110001","destination":"+6568880000",
        "sourceCountryCode":null,"destinationCountryCode":null,"sourceRefId":null,
        "destinationRefId":"null"}}"#;
    let Event::CallAction(ev) = Event::from_slice(body).unwrap() else {
        panic!()
    };
    assert_eq!(ev.payload.source_country_code, None);
    assert_eq!(ev.payload.destination_country_code, None);
    assert_eq!(ev.payload.source_ref_id, None);
    assert_eq!(ev.payload.destination_ref_id, None);
}

#[test]
fn timestamps_with_and_without_fractional_seconds() {
    let s = summary("vss_spelling_variants");
    let a = s.payload.details.call_a().unwrap();
    let start = s.payload.start_time.as_ref().unwrap();
    let end = s.payload.end_time.as_ref().unwrap();
    assert!(start.as_str().contains('.'), "{}", start.as_str());
    assert!(!end.as_str().contains('.'), "{}", end.as_str());
    assert!(start.unix_millis().is_some() && end.unix_millis().is_some());
    assert!(
        a.connected_timestamp
            .as_ref()
            .unwrap()
            .unix_millis()
            .is_some()
    );
    assert!(
        a.initiated_timestamp
            .as_ref()
            .unwrap()
            .unix_millis()
            .is_some()
    );
}

#[test]
fn no_answer_spelled_with_a_space_and_numbers_as_strings() {
    let s = summary("vss_spelling_variants");
    assert_eq!(s.payload.session_status, SessionStatus::NoAnswer);
    let b = s.payload.details.call_b().unwrap();
    assert_eq!(b.call_status, Some(LegStatus::NoAnswer));
    assert_eq!(b.call_duration, Some(0));
    assert_eq!(
        s.payload.error_details.as_ref().unwrap().error_code,
        Some(-2004)
    );
}

#[test]
fn cancelled_with_double_l_is_canceled() {
    let s = summary("vss_cancelled");
    assert_eq!(s.payload.session_status, SessionStatus::Canceled);
    assert_eq!(
        s.payload.details.call_a().unwrap().call_status,
        Some(LegStatus::Canceled)
    );
    assert_eq!(
        s.payload.details.call_b().unwrap().call_status,
        Some(LegStatus::Canceled)
    );
}

#[test]
fn capital_call_a_and_source_ref_id_are_accepted() {
    let s = summary("vss_vm_capital_calla");
    let a = s.payload.details.call_a().expect("CallA found as callA");
    assert_eq!(
        s.payload.details.get("CALLA").map(|l| &l.call_id),
        Some(&a.call_id)
    );
    assert_eq!(
        a.source_ref_id, None,
        "\"SourceRefId\": \"null\" is no reference"
    );
    assert_eq!(s.payload.last_action, Some(LastAction::Say));

    let body =
        br#"{"eventType":"SESSION_SUMMARY","payload":{"sessionId":"s","sessionStatus":"COMPLETED",
        "details":{"CallA":{"SourceRefId":"vn-7","callDuration":"12"}}}}"#;
    let Event::SessionSummary(s) = Event::from_slice(body).unwrap() else {
        panic!()
    };
    let a = s.payload.details.call_a().unwrap();
    assert_eq!(a.source_ref_id.as_deref(), Some("vn-7"));
    assert_eq!(a.call_duration, Some(12));
}

#[test]
fn session_summary_success_has_legs_with_call_quality() {
    let s = summary("vss_nm_success");
    let p = &s.payload;
    assert_eq!(p.session_status, SessionStatus::Completed);
    assert_eq!(p.last_action, Some(LastAction::MakeCall));
    assert_eq!(p.call_count, Some(2));
    assert_eq!(p.details.len(), 2);
    let a = p.details.call_a().unwrap();
    let b = p.details.call_b().unwrap();
    assert_eq!(a.call_direction, Some(CallDirection::Inbound));
    assert_eq!(a.destination_ref_id.as_deref(), Some("PSTN1"));
    assert_eq!(b.call_direction, Some(CallDirection::Outbound));
    assert_eq!(b.source_ref_id.as_deref(), Some("PSTN1"));
    assert_eq!(b.destination.as_ref().unwrap().as_str(), "+6591178965");
    assert_eq!(a.call_duration, Some(13));
    let q = a.call_quality.as_ref().unwrap();
    assert_eq!(
        (q.mos, q.packet_loss_rate, q.jitter),
        (Some(4.5), Some(0.0), Some(20.0))
    );
    assert!(a.connected_timestamp.is_some());
}

#[test]
fn session_summary_failure_has_error_details() {
    let s = summary("vss_nm_failure");
    assert_eq!(s.payload.session_status, SessionStatus::Error);
    assert_eq!(
        s.payload.last_action,
        Some(LastAction::Say),
        "PLAY_TTS is say"
    );
    let e = s.payload.error_details.as_ref().unwrap();
    assert_eq!(e.error_code, Some(-2004));
    assert_eq!(
        e.error_msg.as_deref(),
        Some("No coverage available for requested area")
    );
    let a = s.payload.details.call_a().unwrap();
    assert_eq!(a.call_status, Some(LegStatus::Error));
    assert_eq!(a.connected_timestamp, None);
    assert_eq!(a.call_quality, None);
}

#[test]
fn ivr_summary_carries_version() {
    let s = summary("vss_ivr_busy");
    assert_eq!(s.envelope.version, Some(5));
    assert_eq!(s.payload.session_status, SessionStatus::Busy);
    assert_eq!(
        s.payload.details.call_b().unwrap().call_status,
        Some(LegStatus::Busy)
    );
}

#[test]
fn recording_and_number_updates_parse_every_field() {
    let Event::RecordingStatus(r) = parse("vru") else {
        panic!()
    };
    assert_eq!(r.payload.session_id, "e35e3d0e-065a-11ec-b119-676cb2bc33ef");
    assert_eq!(
        r.payload.recording_id.as_deref(),
        Some("eef54fc2-065a-11ec-bce9-ed1000154345")
    );
    assert_eq!(r.payload.duration_seconds, Some(25));
    assert_eq!(r.payload.status, Some(RecordingState::UploadCompleted));
    assert!(r.payload.file_path.as_deref().unwrap().ends_with(".mp3"));

    let Event::VirtualNumberUpdate(v) = parse("vnu") else {
        panic!()
    };
    assert_eq!(v.payload.total_numbers, Some(2));
    assert_eq!(v.payload.update_event_type, Some(UpdateEventType::Snapshot));
    assert_eq!(v.payload.virtual_numbers.len(), 2);
    let n = &v.payload.virtual_numbers[0];
    assert_eq!(n.msisdn.as_str(), "+6568880000");
    assert_eq!(n.operational_status, Some(OperationalStatus::Active));
    assert_eq!(n.rental_price, Some(10.5));
    assert_eq!(n.billing_unit, Some(60));
    assert_eq!(n.number_health_check_enabled, Some(true));
    assert_eq!(
        v.payload.virtual_numbers[1].operational_status,
        Some(OperationalStatus::Expiring)
    );
}

#[test]
fn unknown_event_type_is_kept_whole() {
    let Event::Unknown(u) = parse("unknown_event") else {
        panic!()
    };
    assert_eq!(u.event_type, "CALL_TRANSCRIPTION");
    assert!(u.raw["payload"]["sessionId"].is_string());
    let ev = Event::Unknown(u);
    assert!(ev.ids().session_id.is_some());
}

fn shape_error(body: &str) -> (Option<String>, String) {
    let e = Event::from_slice(body.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), ParseErrorKind::Shape, "{e}");
    (e.path().map(str::to_owned), e.message().to_owned())
}

#[test]
fn known_event_with_wrong_shape_names_the_json_path() {
    let (path, msg) = shape_error(r#"{"eventType":"CALL_ACTION","payload":"nope"}"#);
    assert_eq!(path.as_deref(), Some("$.payload"), "{msg}");

    let (path, _) = shape_error(
        r#"{"eventType":"CALL_ACTION","payload":{"eventId":"e","sessionId":"s",
        "callStatus":"CALL_RECEIVED","source":"+6591110001","destination":"+6568880000"}}"#,
    );
    assert_eq!(path.as_deref(), Some("$.payload.callId"));

    let (path, msg) = shape_error(
        r#"{"eventType":"CALL_ACTION","payload":{"eventId":"e","callId":"c","sessionId":"s",
        "callStatus":"CALL_RECEIVED","source":"+6591110001","destination":"+6568880000",
        "callDuration":"soon"}}"#,
    );
    assert_eq!(path.as_deref(), Some("$.payload.callDuration"), "{msg}");

    let (path, _) = shape_error(
        r#"{"eventType":"SESSION_SUMMARY","payload":{"sessionId":"s","sessionStatus":"COMPLETED",
        "details":{"callB":{"callDuration":[1]}}}}"#,
    );
    assert_eq!(
        path.as_deref(),
        Some("$.payload.details.callB.callDuration")
    );

    let (path, _) = shape_error(
        r#"{"eventType":"VIRTUAL_NUMBER_UPDATE","payload":{"virtualNumbers":[{"msisdn":"+6568880000"},{}]}}"#,
    );
    assert_eq!(path.as_deref(), Some("$.payload.virtualNumbers[1].msisdn"));

    let (path, _) = shape_error(r#"{"eventType":"SESSION_SUMMARY"}"#);
    assert_eq!(path.as_deref(), Some("$.payload"));

    let (path, _) = shape_error(r#"{"payload":{}}"#);
    assert_eq!(path.as_deref(), Some("$.eventType"));

    let (path, _) = shape_error(r#"[1,2,3]"#);
    assert_eq!(path.as_deref(), Some("$"));
}

#[test]
fn wrong_shape_is_never_silently_unknown() {
    // A known type with a broken payload is an error, whatever else is in the body.
    for body in [
        r#"{"eventType":"CALL_STATUS","payload":[]}"#,
        r#"{"eventType":"SESSION_SUMMARY","payload":{"sessionStatus":"COMPLETED"}}"#,
        r#"{"eventType":"CALL_RECORDING_STATUS","payload":{"sessionId":7}}"#,
    ] {
        assert!(Event::from_slice(body.as_bytes()).is_err(), "{body}");
    }
}

#[test]
fn empty_invalid_utf8_deep_and_huge_inputs_are_errors_not_panics() {
    assert_eq!(
        Event::from_slice(b"").unwrap_err().kind(),
        ParseErrorKind::Empty
    );
    assert_eq!(
        Event::from_slice(b"  \n").unwrap_err().kind(),
        ParseErrorKind::Empty
    );
    assert_eq!(
        Event::from_slice(b"{\"eventType\":\"CALL_ACTION\xff\"}")
            .unwrap_err()
            .kind(),
        ParseErrorKind::Syntax
    );
    let deep = "[".repeat(10_000);
    assert_eq!(
        Event::from_slice(deep.as_bytes()).unwrap_err().kind(),
        ParseErrorKind::Syntax
    );
    let huge =
        br#"{"eventType":"CALL_ACTION","payload":{"eventId":"e","callId":"c","sessionId":"s",
        "callStatus":"CALL_RECEIVED","source":"+6591110001","destination":"+6568880000",
        "callDuration":1e999}}"#;
    assert!(Event::from_slice(huge).is_err());
    let negative =
        br#"{"eventType":"CALL_ACTION","payload":{"eventId":"e","callId":"c","sessionId":"s",
        "callStatus":"CALL_RECEIVED","source":"+6591110001","destination":"+6568880000",
        "callDuration":-5}}"#;
    let e = Event::from_slice(negative).unwrap_err();
    assert_eq!(e.path(), Some("$.payload.callDuration"));
}

#[test]
fn duplicate_keys_in_the_envelope_are_a_shape_error() {
    let body = br#"{"eventType":"CALL_ACTION","eventType":"CALL_STATUS","payload":{}}"#;
    assert_eq!(
        Event::from_slice(body).unwrap_err().kind(),
        ParseErrorKind::Shape
    );
}

#[test]
fn debug_output_masks_phone_numbers() {
    for f in fixtures::events() {
        let ev = Event::from_slice(f.json.as_bytes()).unwrap();
        let dbg = format!("{ev:?}");
        for number in [
            "65123456789",
            "65987654321",
            "6591178965",
            "6568332048",
            "6568880000",
        ] {
            assert!(!dbg.contains(number), "{} leaks {number}: {dbg}", f.name);
        }
    }
    let ev = callflow::testing::call_action().from("+6591234321").build();
    assert!(format!("{ev:?}").contains("+65****4321"));
}

#[test]
fn events_round_trip_through_serialize() {
    for f in fixtures::events() {
        let ev = Event::from_slice(f.json.as_bytes()).unwrap();
        let json = match &ev {
            Event::CallAction(e) => serde_json::to_string(e),
            Event::CallStatus(e) => serde_json::to_string(e),
            Event::SessionSummary(e) => serde_json::to_string(e),
            Event::RecordingStatus(e) => serde_json::to_string(e),
            Event::VirtualNumberUpdate(e) => serde_json::to_string(e),
            Event::Unknown(e) => serde_json::to_string(&e.raw),
            _ => unreachable!(),
        }
        .unwrap();
        let again = Event::from_slice(json.as_bytes()).unwrap();
        assert_eq!(ev, again, "{}", f.name);
    }
}
