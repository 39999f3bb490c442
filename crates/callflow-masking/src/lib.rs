//! # callflow-masking
//!
//! Number masking for 8x8 voice webhooks: a customer and a driver (or a buyer and a seller)
//! call each other through an 8x8 virtual number and never see each other's real number.
//!
//! - [`NewBinding`] / [`Binding`]: a virtual number, two parties, an optional expiry,
//!   recording flag and reference. One virtual number serves many bindings at once; the
//!   routing key is (virtual number, caller), and a binding that would make it ambiguous is
//!   refused.
//! - [`BindingStore`]: [`SqliteStore`] (the embedded default: a real SQLite file in WAL
//!   mode, safe for a CLI and a server at once) and [`MemoryStore`] (tests);
//!   [`CachedStore`] in front of any store answers repeated lookups of an active binding
//!   from memory for a bounded time.
//! - [`MaskingHandler`]: the [`CallHandler`](callflow::CallHandler) that bridges, turns away
//!   and records outcomes.
//! - [`testing`] (feature `testing`): the masking rules as a test suite any store runs with
//!   one line, [`binding_store_rules!`].
//!
//! ```no_run
//! use callflow::Webhook;
//! use callflow_masking::{BindingStore, MaskingHandler, NewBinding, SqliteStore};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::open_async("number-masking.db").await?;
//! store.create(NewBinding::new("+6568880000", "+6591110001", "+6592220002")?).await?;
//! let webhook = Webhook::new(MaskingHandler::new(store));
//! // mount `webhook` with callflow-axum, callflow-actix-web or callflow-warp
//! # let _ = webhook; Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod binding;
mod handler;
mod number;
mod store;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use binding::{
    Binding, BindingError, CallRecord, LegRecord, Lookup, NewBinding, now_millis, unix_millis,
};
pub use handler::{CallOutcome, MaskingHandler, Messages, WriteFailures};
pub use number::normalize_number;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use store::SqliteStore;
pub use store::{
    BindingFilter, BindingStore, CachedStore, Health, LookupCache, MemoryStore, StoreError,
    StoreErrorKind, check_conflict, pick,
};
