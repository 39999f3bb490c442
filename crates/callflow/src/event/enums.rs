//! The open enums of 8x8's voice events.

use super::open_enum::open_enum;

open_enum! {
    /// `callStatus` of a call leg in `CALL_ACTION` and `CALL_STATUS` events.
    pub enum CallStatus {
        /// A call arrived (inbound leg).
        CallReceived = "CALL_RECEIVED",
        /// A callflow action (e.g. `sayAndCapture`) finished; digits are in the event.
        ActionCompleted = "ACTION_COMPLETED",
        /// Digits received; the older spelling of the `sayAndCapture` result.
        DtmfReceived = "DTMF_RECEIVED",
        /// An outbound leg was started.
        CallInitiated = "CALL_INITIATED",
        /// A leg was answered.
        CallConnected = "CALL_CONNECTED",
        /// A leg ended.
        CallDisconnected = "CALL_DISCONNECTED",
        /// A leg was updated (meaning not documented by 8x8).
        CallUpdated = "CALL_UPDATED",
    }
}

open_enum! {
    /// `callDirection` of a leg.
    pub enum CallDirection {
        /// The leg came into the platform (a caller dialled the virtual number).
        Inbound = "INBOUND",
        /// The leg was dialled by the platform (`makeCall`).
        Outbound = "OUTBOUND",
    }
}

open_enum! {
    /// `callType` of a leg.
    pub enum CallType {
        /// Public telephone network.
        Pstn = "PSTN",
        /// App / Voice SDK user.
        Voip = "VOIP",
    }
}

open_enum! {
    /// `sourceFormat` / `destinationFormat`.
    pub enum NumberFormat {
        /// A phone number.
        Msisdn = "MSISDN",
    }
}

open_enum! {
    /// `sessionStatus` of a `SESSION_SUMMARY`: the final outcome of a session.
    pub enum SessionStatus {
        /// Both parties talked, or the callflow ran to its end.
        Completed = "COMPLETED",
        /// The callee did not answer (also spelled `NO ANSWER`).
        NoAnswer = "NO_ANSWER" | "NO ANSWER",
        /// The callee was busy.
        Busy = "BUSY",
        /// The caller hung up before the outcome was known (also spelled `CANCELLED`).
        Canceled = "CANCELED" | "CANCELLED",
        /// The outbound leg failed (switched off, invalid number, …).
        Failed = "FAILED",
        /// An error; `errorDetails` says which.
        Error = "ERROR",
        /// Voice Messaging: completed and the contact unsubscribed.
        CompletedUnsubscribed = "COMPLETED_UNSUBSCRIBED",
        /// Voice Messaging: completed, unsubscribing failed.
        CompletedUnsubError = "COMPLETED_UNSUB_ERROR",
        /// Voice Messaging: the contact had unsubscribed; no call was made.
        UnsubscribedContact = "UNSUBSCRIBED_CONTACT",
    }
}

open_enum! {
    /// `callStatus` of one leg in a `SESSION_SUMMARY`.
    pub enum LegStatus {
        /// The leg was answered and ended normally.
        Completed = "COMPLETED",
        /// Not answered (also spelled `NO ANSWER`).
        NoAnswer = "NO_ANSWER" | "NO ANSWER",
        /// Busy.
        Busy = "BUSY",
        /// Cancelled by the caller (also spelled `CANCELLED`).
        Canceled = "CANCELED" | "CANCELLED",
        /// Failed.
        Failed = "FAILED",
        /// Error (seen in examples although 8x8 says it does not occur at leg level).
        Error = "ERROR",
    }
}

open_enum! {
    /// `lastAction` of a `SESSION_SUMMARY`: the callflow action running when the session ended.
    pub enum LastAction {
        /// `makeCall` (older spelling `MakeCall`).
        MakeCall = "MAKE_CALL" | "MakeCall",
        /// `say` (also reported as `PLAY_TTS`, older `PlayTTS`).
        Say = "SAY" | "PLAY_TTS" | "PlayTTS",
        /// `sayAndCapture`.
        SayAndCapture = "SAY_AND_CAPTURE" | "SayAndCapture",
        /// `playFile` (older `PlayFile`).
        PlayFile = "PLAY_FILE" | "PlayFile",
        /// `hangup`.
        Hangup = "HANGUP" | "Hangup",
    }
}

open_enum! {
    /// `status` of a `CALL_RECORDING_STATUS` event.
    pub enum RecordingState {
        /// The recording is being processed.
        Processing = "PROCESSING",
        /// Processing failed.
        ProcessingFailed = "PROCESSING_FAILED",
        /// Uploaded to the recording push target.
        UploadCompleted = "UPLOAD_COMPLETED",
        /// Upload failed.
        UploadFailed = "UPLOAD_FAILED",
        /// Callback done.
        CallbackCompleted = "CALLBACK_COMPLETED",
        /// Callback failed.
        CallbackFailed = "CALLBACK_FAILED",
        /// 8x8's own "unknown".
        Unknown = "UNKNOWN",
    }
}

open_enum! {
    /// `operationalStatus` of a virtual number (8x8 writes it in mixed case).
    pub enum OperationalStatus {
        /// In service.
        Active = "Active",
        /// Failing health checks.
        Unhealthy = "Unhealthy",
        /// About to expire.
        Expiring = "Expiring",
        /// Out of service.
        Inactive = "Inactive",
    }
}

open_enum! {
    /// `updateEventType` of a `VIRTUAL_NUMBER_UPDATE`.
    pub enum UpdateEventType {
        /// The full list of numbers.
        Snapshot = "SNAPSHOT",
        /// Only changed numbers.
        Updates = "UPDATES",
    }
}

open_enum! {
    /// `updateStatus` of one number in a `VIRTUAL_NUMBER_UPDATE`.
    pub enum UpdateStatus {
        /// Unchanged.
        NoChange = "NO_CHANGE",
        /// Changed.
        Updated = "UPDATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_spelling_variants_map_to_one_variant() {
        assert_eq!(SessionStatus::parse("NO ANSWER"), SessionStatus::NoAnswer);
        assert_eq!(SessionStatus::parse("NO_ANSWER"), SessionStatus::NoAnswer);
        assert_eq!(SessionStatus::parse("CANCELLED"), SessionStatus::Canceled);
        assert_eq!(LegStatus::parse("CANCELLED"), LegStatus::Canceled);
        assert_eq!(LastAction::parse("PLAY_TTS"), LastAction::Say);
        assert_eq!(LastAction::parse("MakeCall"), LastAction::MakeCall);
        assert_eq!(
            OperationalStatus::parse("ACTIVE"),
            OperationalStatus::Active
        );
        assert_eq!(CallType::parse("VoIP"), CallType::Voip);
    }

    #[test]
    fn unknown_values_are_kept_as_unrecognized() {
        let v: CallStatus = serde_json::from_str("\"CALL_TRANSFERRED\"").unwrap();
        assert_eq!(v, CallStatus::from("CALL_TRANSFERRED"));
        assert_eq!(v.as_str(), "CALL_TRANSFERRED");
        assert!(v.is_unrecognized());
        assert_eq!(CallStatus::from("CALL_RECEIVED"), CallStatus::CallReceived);
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"CALL_TRANSFERRED\"");
    }

    #[test]
    fn canonical_spelling_is_serialized() {
        let v: SessionStatus = serde_json::from_str("\"NO ANSWER\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"NO_ANSWER\"");
        assert_eq!(v.to_string(), "NO_ANSWER");
    }
}
