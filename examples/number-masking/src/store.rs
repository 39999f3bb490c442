//! `--store URL`: a SQLite file (one machine) or Redis (many instances).

use std::path::PathBuf;
use std::sync::Arc;

use callflow::PhoneNumber;
use callflow_masking::{
    Binding, BindingFilter, BindingStore, CallRecord, Health, Lookup, LookupCache, NewBinding,
    SqliteStore, StoreError,
};
use callflow_redis::{Redis, RedisBindingStore, RedisIdempotencyStore};

use crate::metrics::StoreMetrics;

/// The default database file, as `--db` has always had it.
pub const DEFAULT_DB: &str = "number-masking.db";

/// Where bindings and call records live, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite:FILE` (or `--db FILE`).
    Sqlite(PathBuf),
    /// `redis://HOST:PORT/DB`, kept whole; `address` is `HOST:PORT/DB` without credentials.
    Redis {
        /// The URL as given.
        url: String,
        /// For messages.
        address: String,
    },
}

impl StoreUrl {
    /// Parses `sqlite:FILE` or `redis://HOST:PORT/DB` (clap value parser: a bad URL is a
    /// usage error naming what is expected).
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("sqlite: needs a file, e.g. sqlite:number-masking.db".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("redis://") {
            return callflow_redis::validate_url(s)
                .map(|address| Self::Redis {
                    url: s.to_owned(),
                    address,
                })
                .map_err(|e| e.to_string());
        }
        let scheme = s
            .split_once(':')
            .map_or("no scheme", |(scheme, _)| scheme)
            .chars()
            .take(20)
            .collect::<String>();
        Err(format!(
            "unsupported store `{scheme}`: expected sqlite:FILE or redis://HOST:PORT/DB"
        ))
    }

    /// What it is, for messages (never a password).
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{}", path.display()),
            Self::Redis { address, .. } => format!("redis://{address}"),
        }
    }
}

/// The open store, with the metrics of its operations once [`Store::metered`].
pub struct Store {
    backend: Backend,
    metrics: Option<StoreMetrics>,
    /// `serve --cache-max-age`: lookups of active bindings answered from memory.
    cache: Option<LookupCache>,
}

/// Bindings the lookup cache of `serve --cache-max-age` holds at most (least recently used
/// dropped first).
pub const CACHE_ENTRIES: usize = 100_000;

enum Backend {
    /// A SQLite file.
    Sqlite(SqliteStore),
    /// A Redis server (with the handle the idempotency store shares).
    Redis(RedisBindingStore),
}

impl Store {
    /// Opens the store. Redis is connected on first use, so a server may start before it.
    /// On Redis, a binding created through this store is purged by Redis `purge_grace` after
    /// it expires (SQLite's purge is [`purge`](Self::purge), which `serve` runs).
    pub async fn open(
        url: &StoreUrl,
        redis_prefix: &str,
        purge_grace: Option<std::time::Duration>,
    ) -> Result<Self, StoreError> {
        let backend = match url {
            StoreUrl::Sqlite(path) => Backend::Sqlite(SqliteStore::open_async(path).await?),
            StoreUrl::Redis { url, .. } => {
                let redis = Redis::open_with(url, redis_prefix, callflow_redis::DEFAULT_TIMEOUT)
                    .map_err(StoreError::backend)?;
                let store = RedisBindingStore::new(&redis);
                Backend::Redis(match purge_grace {
                    Some(grace) => store.purge_grace(grace),
                    None => store,
                })
            }
        };
        Ok(Self {
            backend,
            metrics: None,
            cache: None,
        })
    }

    /// A SQLite store already open.
    pub fn sqlite(store: SqliteStore) -> Self {
        Self {
            backend: Backend::Sqlite(store),
            metrics: None,
            cache: None,
        }
    }

    /// The same store, timing every operation into `metrics`.
    pub fn metered(mut self, metrics: StoreMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The same store, answering repeated lookups of an active binding from memory for at
    /// most `max_age` (`CachedStore`'s rules: this process's own writes are seen at once,
    /// a removal by another process or the CLI after at most `max_age`); zero: no cache.
    pub fn cached(mut self, max_age: std::time::Duration) -> Self {
        self.cache = (!max_age.is_zero()).then(|| LookupCache::new(max_age, CACHE_ENTRIES));
        self
    }

    /// Runs `op` named `name`, timed and counted when metered.
    async fn timed<T>(
        &self,
        name: &'static str,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = std::time::Instant::now();
        let result = op.await;
        if let Some(m) = &self.metrics {
            m.observe(name, started.elapsed(), result.as_ref().err());
        }
        result
    }

    /// The duplicate-delivery store `serve` uses: Redis (shared by every instance) with a
    /// Redis store, `None` (the in-memory default of one process) with SQLite.
    pub fn idempotency(&self) -> Option<Arc<RedisIdempotencyStore>> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Redis(s) => Some(Arc::new(RedisIdempotencyStore::new(s.redis()))),
        }
    }

    /// One pass of the purge (see [`crate::purge`]): at most `max` bindings expired more
    /// than `grace` ago deleted (SQLite), or removed from the listing once Redis has purged
    /// them; returns how many.
    pub async fn purge(&self, grace: std::time::Duration, max: usize) -> Result<usize, StoreError> {
        self.timed("purge", async {
            match &self.backend {
                Backend::Sqlite(s) => {
                    let grace = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
                    s.purge_expired(callflow_masking::now_millis().saturating_sub(grace), max)
                        .await
                }
                Backend::Redis(s) => s.prune_purged(max).await,
            }
        })
        .await
    }

    /// For Redis: checks that it answers (a server warns and starts anyway when it does not).
    pub async fn check(&self) -> Result<(), String> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Redis(s) => s.redis().ping().await.map_err(|e| e.to_string()),
        }
    }

    /// For SQLite: proves the file takes writes (`serve` refuses to start otherwise). Redis
    /// may come up after the server, so it is only [`check`](Self::check)ed.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.check_writable().await,
            Backend::Redis(_) => Ok(()),
        }
    }
}

impl BindingStore for Store {
    async fn create(&self, new: NewBinding) -> Result<Binding, StoreError> {
        let created = self
            .timed("create", async {
                match &self.backend {
                    Backend::Sqlite(s) => s.create(new).await,
                    Backend::Redis(s) => s.create(new).await,
                }
            })
            .await;
        if let (Some(cache), Ok(b)) = (&self.cache, &created) {
            cache.created(b);
        }
        created
    }

    async fn lookup(&self, vn: &PhoneNumber, caller: &PhoneNumber) -> Result<Lookup, StoreError> {
        self.timed("lookup", async {
            let fetch = async {
                match &self.backend {
                    Backend::Sqlite(s) => s.lookup(vn, caller).await,
                    Backend::Redis(s) => s.lookup(vn, caller).await,
                }
            };
            match &self.cache {
                Some(cache) => cache.lookup(vn, caller, fetch).await,
                None => fetch.await,
            }
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<Binding>, StoreError> {
        self.timed("get", async {
            match &self.backend {
                Backend::Sqlite(s) => s.get(id).await,
                Backend::Redis(s) => s.get(id).await,
            }
        })
        .await
    }

    async fn list(&self) -> Result<Vec<Binding>, StoreError> {
        self.timed("list", async {
            match &self.backend {
                Backend::Sqlite(s) => s.list().await,
                Backend::Redis(s) => s.list().await,
            }
        })
        .await
    }

    async fn list_page(
        &self,
        filter: &BindingFilter,
        limit: usize,
    ) -> Result<Vec<Binding>, StoreError> {
        self.timed("list", async {
            match &self.backend {
                Backend::Sqlite(s) => s.list_page(filter, limit).await,
                Backend::Redis(s) => s.list_page(filter, limit).await,
            }
        })
        .await
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let removed = self
            .timed("remove", async {
                match &self.backend {
                    Backend::Sqlite(s) => s.remove(id).await,
                    Backend::Redis(s) => s.remove(id).await,
                }
            })
            .await;
        if let Some(cache) = &self.cache {
            cache.removed(id);
        }
        removed
    }

    async fn record_call(&self, record: CallRecord) -> Result<(), StoreError> {
        self.timed("record_call", async {
            match &self.backend {
                Backend::Sqlite(s) => s.record_call(record).await,
                Backend::Redis(s) => s.record_call(record).await,
            }
        })
        .await
    }

    async fn calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError> {
        self.timed("calls", async {
            match &self.backend {
                Backend::Sqlite(s) => s.calls(limit).await,
                Backend::Redis(s) => s.calls(limit).await,
            }
        })
        .await
    }

    async fn health(&self) -> Health {
        match &self.backend {
            Backend::Sqlite(s) => s.health().await,
            Backend::Redis(s) => s.health().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        assert_eq!(
            StoreUrl::parse("sqlite:nm.db"),
            Ok(StoreUrl::Sqlite("nm.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/nm.db"),
            Ok(StoreUrl::Sqlite("/var/lib/nm.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("redis://127.0.0.1:6380/2").map(|s| s.describe()),
            Ok("redis://127.0.0.1:6380/2".into())
        );
        assert_eq!(
            StoreUrl::parse("redis://:pw@10.0.0.1/").map(|s| s.describe()),
            Ok("redis://10.0.0.1:6379/0".into())
        );
        for bad in [
            "sqlite:",
            "postgres://x",
            "nm.db",
            "redis://h:port/0",
            "rediss://h/0",
        ] {
            let e = StoreUrl::parse(bad).unwrap_err();
            assert!(
                e.contains("expected") || e.contains("needs a file"),
                "{bad}: {e}"
            );
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn with_a_lookup_cache_a_binding_removed_through_the_store_is_not_bridged_again() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteStore::open_async(dir.path().join("nm.db"))
            .await
            .unwrap();
        let store = Store::sqlite(sqlite).cached(std::time::Duration::from_secs(3600));
        let b = store
            .create(NewBinding::new("+6568880000", "+6591110001", "+6592220002").unwrap())
            .await
            .unwrap();
        let (vn, a) = (
            PhoneNumber::new("+6568880000"),
            PhoneNumber::new("+6591110001"),
        );
        for _ in 0..2 {
            assert!(matches!(
                store.lookup(&vn, &a).await.unwrap(),
                Lookup::Active(_)
            ));
        }
        assert_eq!(store.cache.as_ref().map(LookupCache::len), Some(1));
        assert!(store.remove(&b.id).await.unwrap());
        assert_eq!(store.lookup(&vn, &a).await.unwrap(), Lookup::NotFound);
        assert!(
            Store::sqlite(
                SqliteStore::open_async(dir.path().join("nm.db"))
                    .await
                    .unwrap()
            )
            .cached(std::time::Duration::ZERO)
            .cache
            .is_none()
        );
    }
}
