//! `--store URL`: a SQLite file (one machine) or Redis (many instances).

use std::path::PathBuf;
use std::sync::Arc;

use callflow::PhoneNumber;
use callflow::idempotency::IdempotencyStore;
use callflow_masking::{
    Binding, BindingStore, CallRecord, Health, Lookup, NewBinding, SqliteStore, StoreError,
};
use callflow_redis::{Redis, RedisBindingStore, RedisIdempotencyStore};

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

/// The open store.
pub enum Store {
    /// A SQLite file.
    Sqlite(SqliteStore),
    /// A Redis server (with the handle the idempotency store shares).
    Redis(RedisBindingStore),
}

impl Store {
    /// Opens the store. Redis is connected on first use, so a server may start before it.
    pub async fn open(url: &StoreUrl, redis_prefix: &str) -> Result<Self, StoreError> {
        match url {
            StoreUrl::Sqlite(path) => Ok(Self::Sqlite(SqliteStore::open_async(path).await?)),
            StoreUrl::Redis { url, .. } => {
                let redis = Redis::open_with(url, redis_prefix, callflow_redis::DEFAULT_TIMEOUT)
                    .map_err(StoreError::backend)?;
                Ok(Self::Redis(RedisBindingStore::new(&redis)))
            }
        }
    }

    /// The duplicate-delivery store `serve` uses: Redis (shared by every instance) with a
    /// Redis store, `None` (the in-memory default of one process) with SQLite.
    pub fn idempotency(&self) -> Option<Arc<dyn IdempotencyStore>> {
        match self {
            Self::Sqlite(_) => None,
            Self::Redis(s) => Some(Arc::new(RedisIdempotencyStore::new(s.redis()))),
        }
    }

    /// For Redis: checks that it answers (a server warns and starts anyway when it does not).
    pub async fn check(&self) -> Result<(), String> {
        match self {
            Self::Sqlite(_) => Ok(()),
            Self::Redis(s) => s.redis().ping().await.map_err(|e| e.to_string()),
        }
    }

    /// For SQLite: proves the file takes writes (`serve` refuses to start otherwise). Redis
    /// may come up after the server, so it is only [`check`](Self::check)ed.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(s) => s.check_writable().await,
            Self::Redis(_) => Ok(()),
        }
    }
}

#[callflow::async_trait]
impl BindingStore for Store {
    async fn create(&self, new: NewBinding) -> Result<Binding, StoreError> {
        match self {
            Self::Sqlite(s) => s.create(new).await,
            Self::Redis(s) => s.create(new).await,
        }
    }

    async fn lookup(&self, vn: &PhoneNumber, caller: &PhoneNumber) -> Result<Lookup, StoreError> {
        match self {
            Self::Sqlite(s) => s.lookup(vn, caller).await,
            Self::Redis(s) => s.lookup(vn, caller).await,
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Binding>, StoreError> {
        match self {
            Self::Sqlite(s) => s.get(id).await,
            Self::Redis(s) => s.get(id).await,
        }
    }

    async fn list(&self) -> Result<Vec<Binding>, StoreError> {
        match self {
            Self::Sqlite(s) => s.list().await,
            Self::Redis(s) => s.list().await,
        }
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        match self {
            Self::Sqlite(s) => s.remove(id).await,
            Self::Redis(s) => s.remove(id).await,
        }
    }

    async fn record_call(&self, record: CallRecord) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(s) => s.record_call(record).await,
            Self::Redis(s) => s.record_call(record).await,
        }
    }

    async fn calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError> {
        match self {
            Self::Sqlite(s) => s.calls(limit).await,
            Self::Redis(s) => s.calls(limit).await,
        }
    }

    async fn health(&self) -> Health {
        match self {
            Self::Sqlite(s) => s.health().await,
            Self::Redis(s) => s.health().await,
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
}
