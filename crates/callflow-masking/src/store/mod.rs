//! Where bindings and call records live.

mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;

use async_trait::async_trait;
use callflow::PhoneNumber;

pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use crate::binding::{Binding, BindingError, CallRecord, Lookup, NewBinding};
use crate::number::masked;

/// Why a store operation failed. Messages never contain a phone number in clear.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The binding was refused (invalid, ambiguous, …).
    #[error(transparent)]
    Binding(#[from] BindingError),
    /// The backend failed in a way a retry will not fix (a corrupt file or record, a schema
    /// newer than this program).
    #[error("store backend error: {0}")]
    Backend(String),
    /// The backend cannot take the operation now, and may later: database locked for too
    /// long, file read-only, disk full, I/O error, file deleted or replaced while in use,
    /// server unreachable or timed out. The webhook answers 503 `store_unavailable` (the
    /// fallback callflow for a call), so 8x8 may deliver the event again.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Whether a later attempt may succeed ([`StoreError::Unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// What a store says about itself (the service's health endpoint reports it): whether it can
/// take writes now, and a short description for operators (never a phone number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// Whether the store is usable: it answers and can take writes.
    pub ready: bool,
    /// What was checked, or why it is not usable, e.g. `sqlite:nm.db: file deleted while in
    /// use`.
    pub detail: String,
}

impl Health {
    /// A usable store.
    pub fn ready(detail: impl Into<String>) -> Self {
        Self {
            ready: true,
            detail: detail.into(),
        }
    }

    /// A store that cannot be used now, and why.
    pub fn not_ready(detail: impl Into<String>) -> Self {
        Self {
            ready: false,
            detail: detail.into(),
        }
    }
}

/// Bindings and call records, shared by the webhook server and the CLI.
///
/// Implementations must make [`create`](Self::create) atomic: the ambiguity check and the
/// insert happen together, even across processes.
#[async_trait]
pub trait BindingStore: Send + Sync + 'static {
    /// Stores a new binding, refusing one that would make (virtual number, party) ambiguous
    /// with an active binding.
    async fn create(&self, new: NewBinding) -> Result<Binding, StoreError>;

    /// Finds the binding that routes a call from `caller` to `virtual_number` (both
    /// normalised, see [`normalize_number`](crate::normalize_number)).
    async fn lookup(
        &self,
        virtual_number: &PhoneNumber,
        caller: &PhoneNumber,
    ) -> Result<Lookup, StoreError>;

    /// The binding with this id.
    async fn get(&self, id: &str) -> Result<Option<Binding>, StoreError>;

    /// Every binding, oldest first (expired ones included until removed).
    async fn list(&self) -> Result<Vec<Binding>, StoreError>;

    /// Removes a binding; `false` if there was none with this id.
    async fn remove(&self, id: &str) -> Result<bool, StoreError>;

    /// Records (or replaces) the outcome of a session.
    async fn record_call(&self, record: CallRecord) -> Result<(), StoreError>;

    /// The most recent call records, newest first.
    async fn calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError>;

    /// Whether the store is usable now (a health endpoint asks, e.g. once a second). Must
    /// answer promptly whatever the backend does. Default: ready (an in-process store).
    async fn health(&self) -> Health {
        Health::ready("in memory")
    }
}

/// The ambiguity rule, shared by every store: among `existing` bindings (on the same virtual
/// number), an active one that already holds a party of `new` refuses it; so does an expiry
/// that is not in the future. [`BindingStore::create`] implementations call it with the
/// bindings that hold either party on the virtual number, atomically with the insert.
pub fn check_conflict(
    existing: &[Binding],
    new: &NewBinding,
    now: i64,
) -> Result<(), BindingError> {
    if new.expires_at.is_some_and(|e| e <= now) {
        return Err(BindingError::ExpiryInPast);
    }
    for b in existing {
        if b.virtual_number != new.virtual_number || b.is_expired_at(now) {
            continue;
        }
        if let Some(p) = new.parties.iter().find(|p| b.has_party(p)) {
            return Err(BindingError::Ambiguous {
                virtual_number: masked(new.virtual_number.as_str()),
                party: masked(p.as_str()),
                existing: b.id.clone(),
            });
        }
    }
    Ok(())
}

/// The lookup rule, shared by every store: among `candidates` (bindings holding the caller
/// on the virtual number), the active one wins; otherwise the newest expired one.
pub fn pick(candidates: Vec<Binding>, now: i64) -> Lookup {
    let mut newest_expired: Option<Binding> = None;
    for b in candidates {
        if !b.is_expired_at(now) {
            return Lookup::Active(b);
        }
        if newest_expired
            .as_ref()
            .is_none_or(|n| b.created_at >= n.created_at)
        {
            newest_expired = Some(b);
        }
    }
    newest_expired.map_or(Lookup::NotFound, Lookup::Expired)
}
