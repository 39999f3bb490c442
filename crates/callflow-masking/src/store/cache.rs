//! [`CachedStore`]: a bounded local cache of lookups in front of any [`BindingStore`].

use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use callflow::PhoneNumber;
use hashlink::LruCache;

use super::{BindingFilter, BindingStore, Health, StoreError};
use crate::binding::{Binding, CallRecord, Lookup, NewBinding, now_millis};

/// A [`BindingStore`] that answers repeated lookups of an active binding from memory, for at
/// most `max_age`.
///
/// What it caches: the *active* binding a lookup of (virtual number, caller) found, for at
/// most `max_age` after the lookup that fetched it *started*, and at most `max_entries`
/// of them (least recently used evicted first). Nothing else: a caller found unbound or
/// only expired is asked of the store every time, so a binding created by another process
/// is seen at once.
///
/// What it guarantees:
///
/// - **removal by this store** ([`remove`](BindingStore::remove), and
///   [`create`](BindingStore::create) on the same parties) is seen by the next lookup: the
///   entries are dropped when the write returns, and a lookup that was in flight during the
///   write does not put its (possibly stale) answer into the cache;
/// - **removal by another process** (another `serve` instance, the CLI) is never served
///   more than `max_age` after it happened: an entry is served only while less than
///   `max_age` has passed since its lookup began, and a lookup that began after the
///   removal cannot have returned the binding;
/// - **expiry** is re-evaluated on every hit from the cached binding's own expiry: a cached
///   binding that has expired is never bridged; the entry is dropped and the store answers
///   (expired, or a newer active binding).
///
/// Every other operation goes straight to the wrapped store.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use callflow_masking::{BindingStore, CachedStore, Lookup, MemoryStore, NewBinding, normalize_number};
///
/// let store = CachedStore::new(MemoryStore::new(), Duration::from_secs(1), 10_000);
/// let b = store.create(NewBinding::new("+6568880000", "+6591110001", "+6592220002")?).await?;
/// let (vn, caller) = (normalize_number("+6568880000")?, normalize_number("+6591110001")?);
/// assert!(matches!(store.lookup(&vn, &caller).await?, Lookup::Active(_)));
/// assert!(matches!(store.lookup(&vn, &caller).await?, Lookup::Active(_))); // from the cache
/// store.remove(&b.id).await?;
/// assert_eq!(store.lookup(&vn, &caller).await?, Lookup::NotFound); // own removal: at once
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct CachedStore<S> {
    inner: S,
    cache: LookupCache,
}

/// The cache of [`CachedStore`] on its own, for a store type that cannot be wrapped (an
/// `enum` of stores, a store with metrics around it): route its
/// [`lookup`](BindingStore::lookup) through [`LookupCache::lookup`], and tell it of every
/// successful [`create`](BindingStore::create) ([`LookupCache::created`]) and every
/// [`remove`](BindingStore::remove), failed ones included ([`LookupCache::removed`]). The
/// guarantees listed on [`CachedStore`] hold when it does.
pub struct LookupCache {
    max_age: Duration,
    enabled: bool,
    hasher: RandomState,
    state: Mutex<State>,
}

struct State {
    entries: LruCache<Key, Entry, RandomState>,
    /// Bumped by every invalidation: a lookup that began under an older generation does not
    /// cache its answer (it may predate the write).
    generation: u64,
}

/// (virtual number, caller).
type Key = (PhoneNumber, PhoneNumber);

struct Entry {
    binding: Binding,
    /// When the lookup that fetched it began.
    fetched: Instant,
}

impl<S> CachedStore<S> {
    /// `inner` with a cache of at most `max_entries` active bindings, each served for at
    /// most `max_age` after it was fetched. A zero `max_age` or `max_entries` caches nothing.
    pub fn new(inner: S, max_age: Duration, max_entries: usize) -> Self {
        Self {
            inner,
            cache: LookupCache::new(max_age, max_entries),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The cache.
    pub fn cache(&self) -> &LookupCache {
        &self.cache
    }

    /// The longest time a cached binding is served after the lookup that fetched it began.
    pub fn max_age(&self) -> Duration {
        self.cache.max_age
    }

    /// How many bindings are cached now.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether nothing is cached now.
    pub fn is_empty(&self) -> bool {
        self.cache.len() == 0
    }
}

impl LookupCache {
    /// At most `max_entries` active bindings, each served for at most `max_age` after the
    /// lookup that fetched it began. A zero `max_age` or `max_entries` caches nothing.
    pub fn new(max_age: Duration, max_entries: usize) -> Self {
        let hasher = RandomState::new();
        Self {
            max_age,
            enabled: !max_age.is_zero() && max_entries > 0,
            state: Mutex::new(State {
                entries: LruCache::with_hasher(max_entries.max(1), hasher.clone()),
                generation: 0,
            }),
            hasher,
        }
    }

    /// The longest time a cached binding is served after the lookup that fetched it began.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// How many bindings are cached now.
    pub fn len(&self) -> usize {
        self.state().entries.len()
    }

    /// Whether nothing is cached now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lookup of (vn, caller): a cached active binding not yet expired, else what
    /// `fetch` (the store's own lookup, not started unless needed) answers, cached when it
    /// is an active binding.
    pub async fn lookup(
        &self,
        vn: &PhoneNumber,
        caller: &PhoneNumber,
        fetch: impl Future<Output = Result<Lookup, StoreError>>,
    ) -> Result<Lookup, StoreError> {
        if !self.enabled {
            return fetch.await;
        }
        let (cached, generation) = self.hit(vn, caller);
        if let Some(b) = cached {
            if !b.is_expired_at(now_millis()) {
                return Ok(Lookup::Active(b));
            }
            // Expired since it was cached: never bridged; the store says what is true now.
            self.forget(vn, caller);
            return fetch.await;
        }
        let began = Instant::now();
        let found = fetch.await?;
        if let Lookup::Active(b) = &found {
            self.insert(vn, caller, b, began, generation);
        }
        Ok(found)
    }

    /// After `binding` was created: drops the entries of its two parties.
    pub fn created(&self, binding: &Binding) {
        for party in &binding.parties {
            self.forget(&binding.virtual_number, party);
        }
    }

    /// After a removal of the binding `id` was attempted (successful or not: a failed one
    /// may have happened): drops its entries (a scan: removals are rare) and bars lookups
    /// in flight from caching.
    pub fn removed(&self, id: &str) {
        let mut state = self.state();
        state.generation += 1;
        let stale: Vec<Key> = state
            .entries
            .iter()
            .filter(|(_, e)| e.binding.id == id)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            state.entries.remove(&k);
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Every change under the lock is a single map operation: a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached binding of (vn, caller) if fetched less than `max_age` ago, and the
    /// current generation. An entry too old is dropped.
    fn hit(&self, vn: &PhoneNumber, caller: &PhoneNumber) -> (Option<Binding>, u64) {
        let hash = self.hasher.hash_one((vn, caller));
        let mut state = self.state();
        let generation = state.generation;
        let found = match state
            .entries
            .raw_entry_mut()
            .from_hash(hash, |(v, c)| v == vn && c == caller)
        {
            hashlink::linked_hash_map::RawEntryMut::Occupied(mut e) => {
                if e.get().fetched.elapsed() < self.max_age {
                    e.to_back();
                    Some(e.get().binding.clone())
                } else {
                    e.remove();
                    None
                }
            }
            hashlink::linked_hash_map::RawEntryMut::Vacant(_) => None,
        };
        (found, generation)
    }

    /// Caches `binding` for (vn, caller), unless a write invalidated entries since
    /// `generation` was read.
    fn insert(
        &self,
        vn: &PhoneNumber,
        caller: &PhoneNumber,
        binding: &Binding,
        fetched: Instant,
        generation: u64,
    ) {
        let mut state = self.state();
        if state.generation == generation {
            state.entries.insert(
                (vn.clone(), caller.clone()),
                Entry {
                    binding: binding.clone(),
                    fetched,
                },
            );
        }
    }

    /// Drops the entry of (vn, caller) and bars lookups in flight from caching.
    fn forget(&self, vn: &PhoneNumber, caller: &PhoneNumber) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.remove(&(vn.clone(), caller.clone()));
    }
}

impl<S> std::fmt::Debug for CachedStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStore")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LookupCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupCache")
            .field("max_age", &self.max_age)
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl<S: BindingStore> BindingStore for CachedStore<S> {
    async fn create(&self, new: NewBinding) -> Result<Binding, StoreError> {
        let created = self.inner.create(new).await;
        if let Ok(b) = &created {
            self.cache.created(b);
        }
        created
    }

    async fn lookup(&self, vn: &PhoneNumber, caller: &PhoneNumber) -> Result<Lookup, StoreError> {
        self.cache
            .lookup(vn, caller, self.inner.lookup(vn, caller))
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<Binding>, StoreError> {
        self.inner.get(id).await
    }

    async fn list(&self) -> Result<Vec<Binding>, StoreError> {
        self.inner.list().await
    }

    async fn list_page(
        &self,
        filter: &BindingFilter,
        limit: usize,
    ) -> Result<Vec<Binding>, StoreError> {
        self.inner.list_page(filter, limit).await
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let removed = self.inner.remove(id).await;
        self.cache.removed(id);
        removed
    }

    async fn record_call(&self, record: CallRecord) -> Result<(), StoreError> {
        self.inner.record_call(record).await
    }

    async fn calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError> {
        self.inner.calls(limit).await
    }

    async fn health(&self) -> Health {
        self.inner.health().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::MemoryStore;

    fn numbers() -> (PhoneNumber, PhoneNumber) {
        (
            PhoneNumber::new("+6568880000"),
            PhoneNumber::new("+6591110001"),
        )
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_binding_removed_elsewhere_is_served_until_max_age_and_never_after() {
        let shared = Arc::new(MemoryStore::new());
        // The `Arc` written around the cache stands for another process sharing the store.
        let store = CachedStore::new(shared.clone(), Duration::from_millis(200), 100);
        let (vn, caller) = numbers();
        let b = shared
            .create(NewBinding::new(vn.as_str(), caller.as_str(), "+6592220002").unwrap())
            .await
            .unwrap();
        assert!(matches!(
            store.lookup(&vn, &caller).await.unwrap(),
            Lookup::Active(_)
        ));
        let removed = Instant::now();
        assert!(shared.remove(&b.id).await.unwrap());
        // Within the bound, the cached binding may still be served (this is the trade).
        if removed.elapsed() < Duration::from_millis(150) {
            assert!(matches!(
                store.lookup(&vn, &caller).await.unwrap(),
                Lookup::Active(_)
            ));
        }
        tokio::time::sleep(Duration::from_millis(210)).await;
        assert_eq!(store.lookup(&vn, &caller).await.unwrap(), Lookup::NotFound);
        assert!(store.is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn its_own_removal_is_seen_by_the_next_lookup() {
        let store = CachedStore::new(MemoryStore::new(), Duration::from_secs(3600), 100);
        let (vn, caller) = numbers();
        let b = store
            .create(NewBinding::new(vn.as_str(), caller.as_str(), "+6592220002").unwrap())
            .await
            .unwrap();
        assert!(matches!(
            store.lookup(&vn, &caller).await.unwrap(),
            Lookup::Active(_)
        ));
        assert_eq!(store.len(), 1);
        assert!(store.remove(&b.id).await.unwrap());
        assert!(store.is_empty());
        assert_eq!(store.lookup(&vn, &caller).await.unwrap(), Lookup::NotFound);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_cached_binding_that_expires_is_answered_expired_never_bridged() {
        let store = CachedStore::new(MemoryStore::new(), Duration::from_secs(3600), 100);
        let (vn, caller) = numbers();
        // Long enough for the create and a lookup on a loaded machine.
        let expires = now_millis() + 1000;
        store
            .create(
                NewBinding::new(vn.as_str(), caller.as_str(), "+6592220002")
                    .unwrap()
                    .expires_at_millis(expires),
            )
            .await
            .unwrap();
        assert!(matches!(
            store.lookup(&vn, &caller).await.unwrap(),
            Lookup::Active(_)
        ));
        assert_eq!(store.len(), 1);
        while now_millis() <= expires {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(matches!(
            store.lookup(&vn, &caller).await.unwrap(),
            Lookup::Expired(_)
        ));
        assert!(store.is_empty(), "the expired entry is dropped");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn unbound_and_expired_callers_are_not_cached_and_the_entry_count_is_bounded() {
        let shared = Arc::new(MemoryStore::new());
        let store = CachedStore::new(shared.clone(), Duration::from_secs(3600), 2);
        let vn = PhoneNumber::new("+6568880000");
        let caller = PhoneNumber::new("+6591110001");
        assert_eq!(store.lookup(&vn, &caller).await.unwrap(), Lookup::NotFound);
        // Created by "another process": seen at once, since "not found" was not cached.
        shared
            .create(NewBinding::new(vn.as_str(), caller.as_str(), "+6592220002").unwrap())
            .await
            .unwrap();
        assert!(matches!(
            store.lookup(&vn, &caller).await.unwrap(),
            Lookup::Active(_)
        ));
        for i in 0..5 {
            let c = format!("+659333000{i}");
            shared
                .create(NewBinding::new(vn.as_str(), &c, &format!("+659444000{i}")).unwrap())
                .await
                .unwrap();
            store.lookup(&vn, &PhoneNumber::new(c)).await.unwrap();
        }
        assert_eq!(store.len(), 2);
    }

    /// A store whose lookups pause after reading, until released.
    struct Paused {
        inner: MemoryStore,
        read: tokio::sync::Notify,
        release: tokio::sync::Notify,
    }

    impl BindingStore for Paused {
        async fn create(&self, new: NewBinding) -> Result<Binding, StoreError> {
            self.inner.create(new).await
        }
        async fn lookup(&self, vn: &PhoneNumber, c: &PhoneNumber) -> Result<Lookup, StoreError> {
            let found = self.inner.lookup(vn, c).await;
            self.read.notify_one();
            self.release.notified().await;
            found
        }
        async fn get(&self, id: &str) -> Result<Option<Binding>, StoreError> {
            self.inner.get(id).await
        }
        async fn list(&self) -> Result<Vec<Binding>, StoreError> {
            self.inner.list().await
        }
        async fn remove(&self, id: &str) -> Result<bool, StoreError> {
            self.inner.remove(id).await
        }
        async fn record_call(&self, r: CallRecord) -> Result<(), StoreError> {
            self.inner.record_call(r).await
        }
        async fn calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError> {
            self.inner.calls(limit).await
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_lookup_in_flight_during_its_own_removal_does_not_cache_the_removed_binding() {
        let store = CachedStore::new(
            Paused {
                inner: MemoryStore::new(),
                read: tokio::sync::Notify::new(),
                release: tokio::sync::Notify::new(),
            },
            Duration::from_secs(3600),
            100,
        );
        let (vn, caller) = numbers();
        let b = store
            .create(NewBinding::new(vn.as_str(), caller.as_str(), "+6592220002").unwrap())
            .await
            .unwrap();
        let (in_flight, ()) = tokio::join!(store.lookup(&vn, &caller), async {
            store.inner().read.notified().await;
            // The lookup has read the binding; it is removed before the lookup returns.
            assert!(store.remove(&b.id).await.unwrap());
            store.inner().release.notify_one();
        });
        assert!(matches!(in_flight.unwrap(), Lookup::Active(_)));
        assert!(
            store.is_empty(),
            "the answer of a lookup older than the removal is not cached"
        );
        // The next lookup goes to the store, which no longer has it.
        let (next, ()) = tokio::join!(store.lookup(&vn, &caller), async {
            store.inner().read.notified().await;
            store.inner().release.notify_one();
        });
        assert_eq!(next.unwrap(), Lookup::NotFound);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_zero_max_age_caches_nothing() {
        let store = CachedStore::new(MemoryStore::new(), Duration::ZERO, 100);
        let (vn, caller) = numbers();
        store
            .create(NewBinding::new(vn.as_str(), caller.as_str(), "+6592220002").unwrap())
            .await
            .unwrap();
        assert!(matches!(
            store.lookup(&vn, &caller).await.unwrap(),
            Lookup::Active(_)
        ));
        assert!(store.is_empty());
    }
}
