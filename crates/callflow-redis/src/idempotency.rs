//! [`RedisIdempotencyStore`]: duplicate detection shared by every instance.

use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use callflow::idempotency::{Claim, IdempotencyError, IdempotencyStore, StoredReply};
use redis::Script;

use crate::{BackendError, Redis};

/// Claims `KEYS[1]` with `SET NX PX` (value `ARGV[1]`, lease `ARGV[2]` ms); when it is taken,
/// returns what it holds, in the same atomic step (no gap in which the key could vanish).
static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(CLAIM_LUA));
const CLAIM_LUA: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return false
end
return redis.call('GET', KEYS[1])
";

/// Deletes `KEYS[1]` only if it still holds this instance's running claim `ARGV[1]` (never a
/// stored answer, never another instance's claim).
static RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(RELEASE_LUA));
const RELEASE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Stored answers start with this byte, then 3 ASCII digits of HTTP status, then the body.
const DONE: u8 = b'd';
/// Running claims are `r:` and the claiming instance's token.
const RUNNING: &[u8] = b"r:";

/// An [`IdempotencyStore`] in Redis, shared by every instance that uses the same server and
/// prefix.
///
/// - `claim`: one atomic `SET key running NX PX lease` (in a script that returns the current
///   value when the key is taken): exactly one delivery of an event wins, across processes;
///   a claim whose owner died expires with its lease.
/// - `complete`: `SET key answer PX ttl`; duplicates get these exact bytes until the TTL ends.
/// - `release`: deletes the claim if it is still this instance's, so a retry runs the handler.
///
/// Keys are `{prefix}idem:{event key}`. Every operation is bounded by [`Redis::timeout`]; a
/// failure is an [`IdempotencyError`], which the webhook turns into the fallback callflow
/// (`CALL_ACTION`) or 503 `store_unavailable` (other events).
#[derive(Clone, Debug)]
pub struct RedisIdempotencyStore {
    redis: Redis,
    running: Vec<u8>,
}

impl RedisIdempotencyStore {
    /// A store on `redis` (shares its connection).
    pub fn new(redis: &Redis) -> Self {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        let mut running = RUNNING.to_vec();
        running.extend_from_slice(format!("{:016x}", h.finish()).as_bytes());
        Self {
            redis: redis.clone(),
            running,
        }
    }

    /// The Redis handle.
    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    fn key(&self, key: &str) -> String {
        self.redis.key(&["idem", key])
    }
}

fn millis(d: Duration) -> u64 {
    // PX must be positive.
    (d.as_millis() as u64).max(1)
}

fn unavailable(e: BackendError) -> IdempotencyError {
    IdempotencyError(e.to_string())
}

/// Decodes a stored value: an answer, or a claim in progress.
fn decode(value: &[u8]) -> Option<StoredReply> {
    let (&tag, rest) = value.split_first()?;
    if tag != DONE || rest.len() < 3 {
        return None;
    }
    let status = std::str::from_utf8(&rest[..3]).ok()?.parse().ok()?;
    Some(StoredReply {
        status,
        body: Bytes::copy_from_slice(&rest[3..]),
    })
}

fn encode(reply: &StoredReply) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + reply.body.len());
    v.push(DONE);
    v.extend_from_slice(format!("{:03}", reply.status.min(999)).as_bytes());
    v.extend_from_slice(&reply.body);
    v
}

#[async_trait]
impl IdempotencyStore for RedisIdempotencyStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, IdempotencyError> {
        let mut conn = self.redis.conn();
        let key = self.key(key);
        let running = self.running.clone();
        let current: Option<Vec<u8>> = self
            .redis
            .run(async move {
                CLAIM
                    .key(key)
                    .arg(running)
                    .arg(millis(lease))
                    .invoke_async(&mut conn)
                    .await
            })
            .await
            .map_err(unavailable)?;
        Ok(match current {
            None => Claim::Claimed,
            Some(v) => match decode(&v) {
                Some(reply) => Claim::Done(reply),
                None => Claim::InProgress,
            },
        })
    }

    async fn complete(
        &self,
        key: &str,
        reply: &StoredReply,
        ttl: Duration,
    ) -> Result<(), IdempotencyError> {
        let mut conn = self.redis.conn();
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key))
            .arg(encode(reply))
            .arg("PX")
            .arg(millis(ttl));
        self.redis
            .run(async move { cmd.query_async::<()>(&mut conn).await })
            .await
            .map_err(unavailable)
    }

    async fn release(&self, key: &str) -> Result<(), IdempotencyError> {
        let mut conn = self.redis.conn();
        let key = self.key(key);
        let running = self.running.clone();
        self.redis
            .run(async move {
                RELEASE
                    .key(key)
                    .arg(running)
                    .invoke_async::<i64>(&mut conn)
                    .await
            })
            .await
            .map(drop)
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_and_claims_are_not_answers() {
        let reply = StoredReply {
            status: 200,
            body: Bytes::from_static(br#"{"callflow":[]}"#),
        };
        assert_eq!(decode(&encode(&reply)), Some(reply));
        let empty = StoredReply {
            status: 503,
            body: Bytes::new(),
        };
        assert_eq!(decode(&encode(&empty)), Some(empty));
        assert_eq!(decode(b"r:0123456789abcdef"), None);
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"d20"), None);
    }
}
