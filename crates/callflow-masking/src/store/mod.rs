//! Where bindings and call records live.

mod cache;
mod filter;
mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;

use callflow::PhoneNumber;

pub use cache::{CachedStore, LookupCache};
pub use filter::BindingFilter;
pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use crate::binding::{Binding, BindingError, CallRecord, Lookup, NewBinding, now_millis};
use crate::number::masked;

/// Why a store operation failed. Opaque: branch on [`kind`](Self::kind) (or
/// [`is_unavailable`](Self::is_unavailable)); a refused binding is in
/// [`binding`](Self::binding). Messages and sources never contain a phone number in clear.
///
/// ```
/// use callflow_masking::{StoreError, StoreErrorKind};
/// let e = StoreError::unavailable("database or disk is full");
/// assert_eq!(e.kind(), StoreErrorKind::Unavailable);
/// assert!(e.is_unavailable());
/// assert_eq!(e.to_string(), "store unavailable: database or disk is full");
/// assert!(!StoreError::backend("malformed database schema").is_unavailable());
/// ```
pub struct StoreError {
    kind: StoreErrorKind,
    repr: Repr,
    source: Option<callflow::phone::RedactedError>,
}

enum Repr {
    Binding(BindingError),
    Message(Box<str>),
}

/// What kind of failure a [`StoreError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The binding was refused (invalid, ambiguous, …): see [`StoreError::binding`].
    Refused,
    /// The backend cannot take the operation now, and may later: file read-only, disk full,
    /// I/O error, file deleted or replaced while in use, server unreachable. The webhook
    /// answers 503 `store_unavailable` (the fallback callflow for a call), so 8x8 may deliver
    /// the event again.
    Unavailable,
    /// Like [`Unavailable`](Self::Unavailable), because another connection or process holds
    /// the lock for too long (SQLite busy or locked): no fault of the store itself.
    Locked,
    /// Like [`Unavailable`](Self::Unavailable), because the backend did not answer in time.
    TimedOut,
    /// The backend holds something this program cannot read (a corrupt file or record): a
    /// retry will not fix it.
    Corrupt,
    /// Another failure a retry will not fix (e.g. a schema newer than this program).
    Backend,
}

impl StoreError {
    /// An error of `kind` (not [`Refused`](StoreErrorKind::Refused): a refusal is made from
    /// its [`BindingError`]) with a message; phone numbers in it are masked.
    pub fn new(kind: StoreErrorKind, message: impl std::fmt::Display) -> Self {
        let kind = if kind == StoreErrorKind::Refused {
            StoreErrorKind::Backend
        } else {
            kind
        };
        Self {
            kind,
            repr: Repr::Message(callflow::phone::redact(&message.to_string()).into()),
            source: None,
        }
    }

    /// An [`Unavailable`](StoreErrorKind::Unavailable) error: a later attempt may succeed.
    pub fn unavailable(message: impl std::fmt::Display) -> Self {
        Self::new(StoreErrorKind::Unavailable, message)
    }

    /// A [`Backend`](StoreErrorKind::Backend) error: a retry will not fix it.
    pub fn backend(message: impl std::fmt::Display) -> Self {
        Self::new(StoreErrorKind::Backend, message)
    }

    /// The same error with a cause, kept as a [redacted](callflow::phone::RedactedError)
    /// copy (its text and its chain with phone numbers masked).
    pub fn with_source(mut self, source: &(dyn std::error::Error + 'static)) -> Self {
        self.source = Some(callflow::phone::RedactedError::new(source));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// Whether a later attempt may succeed ([`Unavailable`](StoreErrorKind::Unavailable),
    /// [`Locked`](StoreErrorKind::Locked) or [`TimedOut`](StoreErrorKind::TimedOut)).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self.kind,
            StoreErrorKind::Unavailable | StoreErrorKind::Locked | StoreErrorKind::TimedOut
        )
    }

    /// Why the binding was refused, for a [`Refused`](StoreErrorKind::Refused) error.
    pub fn binding(&self) -> Option<&BindingError> {
        match &self.repr {
            Repr::Binding(b) => Some(b),
            Repr::Message(_) => None,
        }
    }

    /// The same error with its message rewritten (kind and source kept); a refusal is kept
    /// as it is.
    #[cfg(feature = "sqlite")]
    pub(crate) fn map_message(self, f: impl FnOnce(&str) -> String) -> Self {
        match self.repr {
            Repr::Message(m) => Self {
                repr: Repr::Message(callflow::phone::redact(&f(&m)).into()),
                ..self
            },
            Repr::Binding(_) => self,
        }
    }
}

impl From<BindingError> for StoreError {
    fn from(e: BindingError) -> Self {
        Self {
            kind: StoreErrorKind::Refused,
            repr: Repr::Binding(e),
            source: None,
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.repr {
            Repr::Binding(b) => std::fmt::Display::fmt(b, f),
            Repr::Message(m) if self.is_unavailable() => write!(f, "store unavailable: {m}"),
            Repr::Message(m) => write!(f, "store backend error: {m}"),
        }
    }
}

impl std::fmt::Debug for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("StoreError");
        d.field("kind", &self.kind);
        match &self.repr {
            Repr::Binding(b) => d.field("binding", b),
            Repr::Message(m) => d.field("message", m),
        };
        d.field("source", &self.source).finish()
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr {
            Repr::Binding(b) => b.source(),
            Repr::Message(_) => self.source.as_ref().map(|s| s as _),
        }
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
///
/// The methods return `impl Future + Send`: implement them with plain `async fn`. The trait
/// is not dyn-compatible: [`MaskingHandler`](crate::MaskingHandler) is generic over its store,
/// and a store chosen at run time (SQLite or Redis, say) is an `enum` of the stores that
/// implements this trait by delegating to them.
pub trait BindingStore: Send + Sync + 'static {
    /// Stores a new binding, refusing one that would make (virtual number, party) ambiguous
    /// with an active binding.
    fn create(&self, new: NewBinding) -> impl Future<Output = Result<Binding, StoreError>> + Send;

    /// Finds the binding that routes a call from `caller` to `virtual_number` (both
    /// normalised, see [`normalize_number`](crate::normalize_number)).
    fn lookup(
        &self,
        virtual_number: &PhoneNumber,
        caller: &PhoneNumber,
    ) -> impl Future<Output = Result<Lookup, StoreError>> + Send;

    /// The binding with this id.
    fn get(&self, id: &str) -> impl Future<Output = Result<Option<Binding>, StoreError>> + Send;

    /// Every binding, oldest first (expired ones included until removed).
    fn list(&self) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send;

    /// At most `limit` bindings that `filter` selects, in creation order (creation time, then
    /// id), starting after its cursor: one page of a listing. Default: [`list`](Self::list)
    /// filtered in memory; a store that can filter and stop early (an indexed query) should
    /// override it.
    fn list_page(
        &self,
        filter: &BindingFilter,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send {
        let filter = filter.clone();
        async move {
            let all = self.list().await?;
            Ok(filter.page_of(all, limit, now_millis()))
        }
    }

    /// Removes a binding; `false` if there was none with this id.
    fn remove(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records (or replaces) the outcome of a session.
    fn record_call(
        &self,
        record: CallRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The most recent call records, newest first.
    fn calls(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CallRecord>, StoreError>> + Send;

    /// Whether the store is usable now (a health endpoint asks, e.g. once a second). Must
    /// answer promptly whatever the backend does. Default: ready (an in-process store).
    fn health(&self) -> impl Future<Output = Health> + Send {
        async { Health::ready("in memory") }
    }
}

/// A store behind an [`Arc`](std::sync::Arc) is the same store: one instance shared by
/// several handlers (or by a handler and the code that manages its bindings) without a
/// forwarding wrapper.
impl<S: BindingStore> BindingStore for std::sync::Arc<S> {
    fn create(&self, new: NewBinding) -> impl Future<Output = Result<Binding, StoreError>> + Send {
        (**self).create(new)
    }

    fn lookup(
        &self,
        virtual_number: &PhoneNumber,
        caller: &PhoneNumber,
    ) -> impl Future<Output = Result<Lookup, StoreError>> + Send {
        (**self).lookup(virtual_number, caller)
    }

    fn get(&self, id: &str) -> impl Future<Output = Result<Option<Binding>, StoreError>> + Send {
        (**self).get(id)
    }

    fn list(&self) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send {
        (**self).list()
    }

    fn list_page(
        &self,
        filter: &BindingFilter,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send {
        (**self).list_page(filter, limit)
    }

    fn remove(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).remove(id)
    }

    fn record_call(
        &self,
        record: CallRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).record_call(record)
    }

    fn calls(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CallRecord>, StoreError>> + Send {
        (**self).calls(limit)
    }

    fn health(&self) -> impl Future<Output = Health> + Send {
        (**self).health()
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
