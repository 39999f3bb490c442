//! Bindings: which two parties may reach each other through which virtual number.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use callflow::PhoneNumber;
use serde::{Deserialize, Serialize};

use crate::number::normalize_number;

/// Milliseconds since the Unix epoch.
pub fn unix_millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// Now, in Unix milliseconds.
pub fn now_millis() -> i64 {
    unix_millis(SystemTime::now())
}

/// A random id: 16 hex digits from the standard library's randomly seeded hasher.
pub(crate) fn random_id() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_millis());
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// Why a binding was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BindingError {
    /// A number is not an E.164 phone number (shown masked).
    #[error("not a valid phone number: {0} (expected E.164 digits, `+` optional)")]
    InvalidNumber(String),
    /// Both parties are the same number.
    #[error("the two parties must be different numbers")]
    SameParties,
    /// A party is the virtual number itself.
    #[error("a party cannot be the virtual number itself")]
    PartyIsVirtualNumber,
    /// Another active binding on the same virtual number already has this party, so a call
    /// from that party could not be routed unambiguously.
    #[error(
        "ambiguous: party {party} already has an active binding ({existing}) on virtual number {virtual_number}"
    )]
    Ambiguous {
        /// The virtual number (masked).
        virtual_number: String,
        /// The party (masked).
        party: String,
        /// The id of the binding that already holds the party.
        existing: String,
    },
    /// The expiry is not in the future.
    #[error("the expiry must be in the future")]
    ExpiryInPast,
}

/// A request to bind two parties to a virtual number; checked by [`NewBinding::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBinding {
    pub(crate) virtual_number: PhoneNumber,
    pub(crate) parties: [PhoneNumber; 2],
    pub(crate) expires_at: Option<i64>,
    pub(crate) record: bool,
    pub(crate) reference: Option<String>,
}

impl NewBinding {
    /// Binds `party_a` and `party_b` to `virtual_number`. Numbers are normalised (see
    /// [`normalize_number`](crate::normalize_number)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use callflow_masking::NewBinding;
    /// let b = NewBinding::new("+6568880000", "6591110001", "+6592220002")
    ///     .unwrap()
    ///     .ttl(Duration::from_secs(2 * 3600))
    ///     .record(true)
    ///     .reference("order-42");
    /// # let _ = b;
    /// ```
    pub fn new(virtual_number: &str, party_a: &str, party_b: &str) -> Result<Self, BindingError> {
        let vn = normalize_number(virtual_number)?;
        let a = normalize_number(party_a)?;
        let b = normalize_number(party_b)?;
        if a == b {
            return Err(BindingError::SameParties);
        }
        if a == vn || b == vn {
            return Err(BindingError::PartyIsVirtualNumber);
        }
        Ok(Self {
            virtual_number: vn,
            parties: [a, b],
            expires_at: None,
            record: false,
            reference: None,
        })
    }

    /// Expires `ttl` from now.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.expires_at = Some(now_millis().saturating_add(ttl.as_millis() as i64));
        self
    }

    /// Expires at `at` (Unix milliseconds).
    pub fn expires_at_millis(mut self, at: i64) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Records the bridged calls (`makeCall` with `callRecording`).
    pub fn record(mut self, on: bool) -> Self {
        self.record = on;
        self
    }

    /// Your own reference, e.g. an order id.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// The virtual number (normalised).
    pub fn virtual_number(&self) -> &PhoneNumber {
        &self.virtual_number
    }

    /// The two parties (normalised).
    pub fn parties(&self) -> &[PhoneNumber; 2] {
        &self.parties
    }

    /// The expiry in Unix milliseconds, if any.
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }

    /// Makes the binding to store, with a fresh id, created at `now` (Unix milliseconds).
    /// For [`BindingStore`](crate::BindingStore) implementations.
    pub fn into_binding(self, now: i64) -> Binding {
        Binding {
            id: random_id(),
            virtual_number: self.virtual_number,
            parties: self.parties,
            expires_at: self.expires_at,
            record: self.record,
            reference: self.reference,
            created_at: now,
        }
    }
}

/// A stored binding.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// Id (16 hex digits).
    pub id: String,
    /// The virtual number both parties call.
    pub virtual_number: PhoneNumber,
    /// The two parties.
    pub parties: [PhoneNumber; 2],
    /// Expiry in Unix milliseconds, if any.
    pub expires_at: Option<i64>,
    /// Whether bridged calls are recorded.
    pub record: bool,
    /// Your reference (e.g. an order id).
    pub reference: Option<String>,
    /// Creation time in Unix milliseconds.
    pub created_at: i64,
}

impl Binding {
    /// Whether the binding has expired at `now` (Unix milliseconds).
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// Whether `number` is one of the parties (with or without `+`).
    pub fn has_party(&self, number: &PhoneNumber) -> bool {
        self.parties.iter().any(|p| p == number)
    }

    /// The party a call from `caller` is bridged to.
    pub fn other_party(&self, caller: &PhoneNumber) -> Option<&PhoneNumber> {
        match &self.parties {
            [a, b] if a == caller => Some(b),
            [a, b] if b == caller => Some(a),
            _ => None,
        }
    }
}

impl fmt::Debug for Binding {
    // Numbers masked by PhoneNumber's own Debug.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Binding")
            .field("id", &self.id)
            .field("virtual_number", &self.virtual_number)
            .field("parties", &self.parties)
            .field("expires_at", &self.expires_at)
            .field("record", &self.record)
            .field("reference", &self.reference)
            .finish()
    }
}

/// The result of looking a caller up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// An active binding has the caller on that virtual number.
    Active(Binding),
    /// Only expired bindings have the caller on that virtual number (the newest is given).
    Expired(Binding),
    /// No binding has the caller on that virtual number.
    NotFound,
}

/// The outcome of one session, from 8x8's `SESSION_SUMMARY`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// 8x8's session id (one record per session; a repeated summary replaces it).
    pub session_id: String,
    /// The binding the call went through, when it could be matched.
    pub binding_id: Option<String>,
    /// The virtual number called.
    pub virtual_number: Option<PhoneNumber>,
    /// `sessionStatus` (`COMPLETED`, `BUSY`, …).
    pub status: String,
    /// Longest leg duration in seconds (the talk time of a bridged call).
    pub duration_secs: u64,
    /// The legs, without phone numbers.
    pub legs: Vec<LegRecord>,
    /// `errorDetails.errorCode`, if any.
    pub error_code: Option<i64>,
    /// `errorDetails.errorMsg`, if any.
    pub error_message: Option<String>,
    /// Session start as 8x8 sent it.
    pub started_at: Option<String>,
    /// Session end as 8x8 sent it.
    pub ended_at: Option<String>,
    /// When the record was written (Unix milliseconds).
    pub recorded_at: i64,
}

/// One leg of a recorded call (no phone numbers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegRecord {
    /// `callA`, `callB`, …
    pub key: String,
    /// `INBOUND` / `OUTBOUND`.
    pub direction: Option<String>,
    /// Leg status.
    pub status: Option<String>,
    /// Seconds connected.
    pub duration_secs: Option<u64>,
}
