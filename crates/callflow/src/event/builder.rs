//! Event builders with realistic defaults: complete, well-formed events to fill in (the
//! payload types are `#[non_exhaustive]`, so code outside this crate cannot write them as
//! struct literals). The simulator and the examples build the events they send with them;
//! `callflow::testing` (feature `testing`) re-exports them for tests.
//!
//! Defaults describe one Number Masking session in Singapore: caller `+6591110001` calls the
//! virtual number `+6568880000` (reference `vn-ref-1`), which bridges to `+6592220002`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::event::{
    CallAction, CallDirection, CallLeg, CallPayload, CallQuality, CallStatus, CallStatusEvent,
    CallType, Envelope, ErrorDetails, EventData, EventDataMap, LastAction, LegStatus, Legs,
    NumberFormat, NumbersPayload, OperationalStatus, RecordingPayload, RecordingState,
    RecordingStatus, SessionStatus, SessionSummary, SummaryPayload, UpdateEventType, UpdateStatus,
    VirtualNumber, VirtualNumberUpdate, event_type,
};
use crate::{PhoneNumber, Timestamp};

/// The default caller (party A).
pub const CALLER: &str = "+6591110001";
/// The default virtual number.
pub const VIRTUAL_NUMBER: &str = "+6568880000";
/// The default callee (party B).
pub const CALLEE: &str = "+6592220002";
/// The default sub-account.
pub const SUB_ACCOUNT: &str = "callflow_test";

/// A fresh id shaped like 8x8's time-based UUIDs, unique within the process.
pub fn fresh_id() -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    format!(
        "{:08x}-{:04x}-11ef-{:04x}-{:012x}",
        t & 0xffff_ffff,
        (t >> 32) & 0xffff,
        n & 0xffff,
        n
    )
}

fn now() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now())
}

fn json_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("events serialize")
}

fn call_payload(status: CallStatus) -> CallPayload {
    CallPayload {
        event_id: fresh_id(),
        call_id: fresh_id(),
        session_id: fresh_id(),
        sub_account_id: Some(SUB_ACCOUNT.into()),
        call_status: status,
        call_direction: Some(CallDirection::Inbound),
        call_type: Some(CallType::Pstn),
        source: PhoneNumber::new(CALLER),
        destination: PhoneNumber::new(VIRTUAL_NUMBER),
        source_format: Some(NumberFormat::Msisdn),
        destination_format: Some(NumberFormat::Msisdn),
        source_country_code: Some("SG".into()),
        destination_country_code: Some("SG".into()),
        source_ref_id: None,
        destination_ref_id: Some("vn-ref-1".into()),
        call_duration: Some(0),
        event_data: None,
        dtmf: None,
        sip_code: Some(200),
        timestamp: Some(now()),
        client_action_id: None,
    }
}

macro_rules! call_builder_methods {
    () => {
        /// Sets `source` (the caller).
        pub fn from(mut self, number: &str) -> Self {
            self.payload.source = PhoneNumber::new(number);
            self
        }
        /// Sets `destination` (the virtual number, for an inbound call).
        pub fn to(mut self, number: &str) -> Self {
            self.payload.destination = PhoneNumber::new(number);
            self
        }
        /// Sets `eventId`.
        pub fn event_id(mut self, id: &str) -> Self {
            self.payload.event_id = id.into();
            self
        }
        /// Sets `sessionId`.
        pub fn session_id(mut self, id: &str) -> Self {
            self.payload.session_id = id.into();
            self
        }
        /// Sets `callId`.
        pub fn call_id(mut self, id: &str) -> Self {
            self.payload.call_id = id.into();
            self
        }
        /// Sets `callStatus`.
        pub fn status(mut self, status: CallStatus) -> Self {
            self.payload.call_status = status;
            self
        }
        /// Sets `callDirection`.
        pub fn direction(mut self, direction: CallDirection) -> Self {
            self.payload.call_direction = Some(direction);
            self
        }
        /// Sets `callDuration`.
        pub fn duration(mut self, seconds: u64) -> Self {
            self.payload.call_duration = Some(seconds);
            self
        }
        /// Changes anything else.
        pub fn with(mut self, f: impl FnOnce(&mut CallPayload)) -> Self {
            f(&mut self.payload);
            self
        }
    };
}

/// Builds a `CALL_ACTION`; see [`call_action`].
#[derive(Clone, Debug)]
pub struct CallActionBuilder {
    payload: CallPayload,
}

/// A `CALL_ACTION` for a call that just arrived (`CALL_RECEIVED`, inbound, caller
/// [`CALLER`] to [`VIRTUAL_NUMBER`]), with fresh ids.
///
/// ```
/// let ev = callflow::event::builder::call_action().from("+6591110001").to("+6568880000").build();
/// assert!(ev.is_call_received());
/// ```
pub fn call_action() -> CallActionBuilder {
    CallActionBuilder {
        payload: call_payload(CallStatus::CallReceived),
    }
}

impl CallActionBuilder {
    call_builder_methods!();

    /// The result of a `sayAndCapture`: `ACTION_COMPLETED` with `eventData.dtmf` (the
    /// current documented form).
    pub fn dtmf(mut self, digits: &str) -> Self {
        self.payload.call_status = CallStatus::ActionCompleted;
        self.payload.event_data =
            Some(EventData::Map(EventDataMap::with_dtmf(Some(digits.into()))));
        self
    }

    /// Sets the echoed `clientActionId`.
    pub fn client_action_id(mut self, id: &str) -> Self {
        self.payload.client_action_id = Some(id.into());
        self
    }

    /// The event.
    pub fn build(self) -> CallAction {
        CallAction::new(Envelope::voice(event_type::CALL_ACTION), self.payload)
    }

    /// The webhook body 8x8 would POST.
    pub fn build_json(self) -> String {
        json_of(&self.build())
    }
}

/// Builds a `CALL_STATUS`; see [`call_status`].
#[derive(Clone, Debug)]
pub struct CallStatusBuilder {
    payload: CallPayload,
}

/// A `CALL_STATUS` (`CALL_CONNECTED` by default) with the default parties.
pub fn call_status() -> CallStatusBuilder {
    CallStatusBuilder {
        payload: call_payload(CallStatus::CallConnected),
    }
}

impl CallStatusBuilder {
    call_builder_methods!();

    /// The event.
    pub fn build(self) -> CallStatusEvent {
        CallStatusEvent::new(Envelope::voice(event_type::CALL_STATUS), self.payload)
    }

    /// The webhook body 8x8 would POST.
    pub fn build_json(self) -> String {
        json_of(&self.build())
    }
}

/// Builds a `SESSION_SUMMARY`; see [`session_summary`].
#[derive(Clone, Debug)]
pub struct SessionSummaryBuilder {
    payload: SummaryPayload,
}

fn leg(direction: CallDirection, source: &str, destination: &str, seconds: u64) -> CallLeg {
    let inbound = direction == CallDirection::Inbound;
    CallLeg {
        call_id: Some(fresh_id()),
        call_direction: Some(direction),
        call_type: Some(CallType::Pstn),
        initiated_timestamp: Some(Timestamp::new("2024-03-25T06:01:28Z")),
        connected_timestamp: Some(Timestamp::new("2024-03-25T06:01:37Z")),
        disconnected_timestamp: Some(Timestamp::new("2024-03-25T06:01:50Z")),
        source: Some(PhoneNumber::new(source)),
        destination: Some(PhoneNumber::new(destination)),
        source_format: Some(NumberFormat::Msisdn),
        destination_format: Some(NumberFormat::Msisdn),
        source_country_code: Some("SG".into()),
        destination_country_code: Some("SG".into()),
        source_ref_id: (!inbound).then(|| "vn-ref-1".to_owned()),
        destination_ref_id: inbound.then(|| "vn-ref-1".to_owned()),
        call_status: Some(LegStatus::Completed),
        call_duration: Some(seconds),
        call_quality: Some(CallQuality {
            mos: Some(4.5),
            packet_loss_rate: Some(0.0),
            jitter: Some(20.0),
        }),
    }
}

/// A `SESSION_SUMMARY` of a completed masked call: `callA` inbound from [`CALLER`] to
/// [`VIRTUAL_NUMBER`], `callB` outbound from the virtual number to [`CALLEE`], 13 s each.
pub fn session_summary() -> SessionSummaryBuilder {
    let mut legs = Legs::default();
    legs.0.insert(
        "callA".into(),
        leg(CallDirection::Inbound, CALLER, VIRTUAL_NUMBER, 13),
    );
    legs.0.insert(
        "callB".into(),
        leg(CallDirection::Outbound, VIRTUAL_NUMBER, CALLEE, 13),
    );
    SessionSummaryBuilder {
        payload: SummaryPayload {
            session_id: fresh_id(),
            sub_account_id: Some(SUB_ACCOUNT.into()),
            session_status: SessionStatus::Completed,
            start_time: Some(Timestamp::new("2024-03-25T06:01:30Z")),
            end_time: Some(Timestamp::new("2024-03-25T06:01:50Z")),
            last_action: Some(LastAction::MakeCall),
            call_count: Some(2),
            client_request_id: None,
            error_details: None,
            details: legs,
        },
    }
}

impl SessionSummaryBuilder {
    /// Sets `sessionId`.
    pub fn session_id(mut self, id: &str) -> Self {
        self.payload.session_id = id.into();
        self
    }

    /// Sets `sessionStatus`; for anything but `COMPLETED` the B leg gets the matching status,
    /// no connection time and no duration.
    pub fn status(mut self, status: SessionStatus) -> Self {
        let leg_status = LegStatus::parse(status.as_str());
        if status != SessionStatus::Completed
            && let Some(b) = self.payload.details.0.get_mut("callB")
        {
            b.call_status = Some(leg_status);
            b.connected_timestamp = None;
            b.call_quality = None;
            b.call_duration = Some(0);
        }
        self.payload.session_status = status;
        self
    }

    /// Marks the session failed with 8x8's `errorDetails`.
    pub fn error(mut self, code: i64, message: &str) -> Self {
        self.payload.session_status = SessionStatus::Error;
        self.payload.error_details = Some(ErrorDetails {
            error_msg: Some(message.into()),
            error_code: Some(code),
            ..ErrorDetails::default()
        });
        self
    }

    /// Changes anything else.
    pub fn with(mut self, f: impl FnOnce(&mut SummaryPayload)) -> Self {
        f(&mut self.payload);
        self
    }

    /// The event.
    pub fn build(self) -> SessionSummary {
        SessionSummary::new(Envelope::voice(event_type::SESSION_SUMMARY), self.payload)
    }

    /// The webhook body 8x8 would POST.
    pub fn build_json(self) -> String {
        json_of(&self.build())
    }
}

/// A `CALL_RECORDING_STATUS` (`UPLOAD_COMPLETED`, 25 s) for a fresh session id.
pub fn recording_status() -> RecordingStatus {
    let session_id = fresh_id();
    let recording_id = fresh_id();
    RecordingStatus::new(
        Envelope::voice(event_type::CALL_RECORDING_STATUS),
        RecordingPayload {
            file_path: Some(format!("recordings/{session_id}/{recording_id}.mp3")),
            session_id,
            recording_id: Some(recording_id),
            duration_seconds: Some(25),
            status: Some(RecordingState::UploadCompleted),
        },
    )
}

/// A `VIRTUAL_NUMBER_UPDATE` snapshot with [`VIRTUAL_NUMBER`] active.
pub fn virtual_number_update() -> VirtualNumberUpdate {
    VirtualNumberUpdate::new(
        Envelope::voice(event_type::VIRTUAL_NUMBER_UPDATE),
        NumbersPayload {
            sub_account_id: Some(SUB_ACCOUNT.into()),
            total_numbers: Some(1),
            update_event_type: Some(UpdateEventType::Snapshot),
            virtual_numbers: vec![VirtualNumber {
                msisdn: PhoneNumber::new(VIRTUAL_NUMBER),
                updated_timestamp: Some(now()),
                country_code: Some("SG".into()),
                operational_status: Some(OperationalStatus::Active),
                reference_id: Some("vn-ref-1".into()),
                rental_price: Some(10.5),
                incoming_rate: Some(0.01),
                billing_unit: Some(60),
                billing_currency: Some("SGD".into()),
                number_health_check_enabled: Some(true),
                update_status: Some(UpdateStatus::NoChange),
            }],
        },
    )
}
