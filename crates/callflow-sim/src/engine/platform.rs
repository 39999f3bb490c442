//! What the platform decides on its own: the session status and the meaning of error codes.

use callflow::event::{LegStatus, SessionStatus};

/// The `sessionStatus` 8x8 derives from the legs (docs/protocol.md §5.5, Number Masking table):
/// an inbound error or cancel decides; otherwise the outbound leg does; no outbound leg is
/// `COMPLETED`.
///
/// ```
/// use callflow::event::{LegStatus, SessionStatus};
/// use callflow_sim::session_status_for;
/// assert_eq!(session_status_for(&LegStatus::Completed, Some(&LegStatus::Busy)), SessionStatus::Busy);
/// assert_eq!(session_status_for(&LegStatus::Completed, None), SessionStatus::Completed);
/// assert_eq!(session_status_for(&LegStatus::Error, None), SessionStatus::Error);
/// ```
pub fn session_status_for(a: &LegStatus, b: Option<&LegStatus>) -> SessionStatus {
    match (a, b) {
        (LegStatus::Error, _) => SessionStatus::Error,
        (LegStatus::Canceled, _) => SessionStatus::Canceled,
        (_, None) => SessionStatus::Completed,
        (_, Some(b)) => match b {
            LegStatus::Completed => SessionStatus::Completed,
            LegStatus::NoAnswer => SessionStatus::NoAnswer,
            LegStatus::Busy => SessionStatus::Busy,
            LegStatus::Failed => SessionStatus::Failed,
            LegStatus::Canceled => SessionStatus::Canceled,
            LegStatus::Error => SessionStatus::Error,
            other => SessionStatus::parse(other.as_str()),
        },
    }
}

/// 8x8's meaning of a VSS `errorCode` (docs/protocol.md §9.2).
pub fn error_message(code: i64) -> &'static str {
    match code {
        -2001 => "Internal error",
        -2002 => "Internal connectivity error",
        -2003 => "Invalid call flow",
        -2004 => "No coverage available for requested area",
        -2005 => "TTS synthesis failed",
        -2006 => "Audio file could not be downloaded",
        -2007 => "Callflow validity period expired",
        -2008 => "Source number not whitelisted",
        -2009 => "Invalid scenario parameters",
        -2010 => "Trunk capacity exceeded",
        _ => "Unknown error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of docs/protocol.md §5.5.
    #[test]
    fn session_status_follows_the_number_masking_table() {
        use LegStatus as L;
        use SessionStatus as S;
        let rows = [
            (L::Completed, Some(L::Completed), S::Completed),
            (L::Completed, Some(L::NoAnswer), S::NoAnswer),
            (L::Completed, Some(L::Busy), S::Busy),
            (L::Completed, Some(L::Failed), S::Failed),
            (L::Canceled, Some(L::Canceled), S::Canceled),
            (L::Completed, None, S::Completed),
            (L::Error, None, S::Error),
            (L::Completed, Some(L::Error), S::Error),
        ];
        for (a, b, want) in rows {
            assert_eq!(session_status_for(&a, b.as_ref()), want, "{a:?} / {b:?}");
        }
    }
}
