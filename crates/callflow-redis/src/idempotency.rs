//! [`RedisIdempotencyStore`]: duplicate detection shared by every instance.

use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use callflow::idempotency::{
    Claim, Fingerprint, IdempotencyError, IdempotencyErrorKind, IdempotencyStore, StoredReply,
};
use redis::Script;

use crate::{BackendError, BackendErrorKind, Redis};

/// Claims `KEYS[1]` for the body with fingerprint `ARGV[3]`: when no record holds it, sets
/// the running claim `ARGV[1]` with the lease `ARGV[2]` ms and returns nil. When a record does,
/// returns, in the same atomic step: `o` if it was made for another fingerprint (the record is
/// left as it is), `r` if it is a running claim for this one, the stored answer if it is one.
/// A value in the format before fingerprints (tags `d` and `r:`) counts as no record.
static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(CLAIM_LUA));
const CLAIM_LUA: &str = r"
local current = redis.call('GET', KEYS[1])
if current then
  local tag = string.sub(current, 1, 1)
  if tag == 'R' or tag == 'D' then
    if string.sub(current, 2, 1 + #ARGV[3]) ~= ARGV[3] then
      return 'o'
    end
    if tag == 'R' then
      return 'r'
    end
    return current
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
";

/// Deletes `KEYS[1]` only if it still holds this instance's running claim `ARGV[1]` for this
/// body (never a stored answer, another instance's claim, or a claim for another body).
static RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(RELEASE_LUA));
const RELEASE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Stored answers: this byte, the body's fingerprint (32 bytes), 3 ASCII digits of HTTP
/// status, then the reply body.
const DONE: u8 = b'D';
/// Running claims: this byte, the body's fingerprint, then the claiming instance's token.
const RUNNING: u8 = b'R';
/// The claim script's answer for a record made for another body.
const OTHER_BODY: &[u8] = b"o";
/// The claim script's answer for a running claim for the same body.
const IN_PROGRESS: &[u8] = b"r";

/// An [`IdempotencyStore`] in Redis, shared by every instance that uses the same server and
/// prefix.
///
/// - `claim`: one atomic script: `SET key running PX lease` when no record holds the key, else
///   what the record says for this body: a record made for another body's fingerprint is
///   [`Claim::OtherBody`] and stays as it is; exactly one delivery of an event wins, across
///   processes; a claim whose owner died expires with its lease.
/// - `complete`: `SET key answer PX ttl`; duplicates with the same body get these exact bytes
///   until the TTL ends.
/// - `release`: deletes the claim if it is still this instance's, for this body, so a retry
///   runs the handler.
///
/// Keys are `{prefix}idem:{event key}`; every value starts with a tag byte (`R` running, `D`
/// done) and the body's SHA-256 ([`Fingerprint`]), the same in every process. Values written
/// before fingerprints were kept (tags `d` and `r:`) are treated as missing: the first
/// delivery after an upgrade claims the key over them and runs the handler once more.
///
/// Every operation is bounded by [`Redis::timeout`]; a failure is an [`IdempotencyError`],
/// which the webhook turns into the fallback callflow (`CALL_ACTION`) or 503
/// `store_unavailable` (other events).
#[derive(Clone, Debug)]
pub struct RedisIdempotencyStore {
    redis: Redis,
    token: [u8; 16],
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
        let mut token = [0; 16];
        token.copy_from_slice(format!("{:016x}", h.finish()).as_bytes());
        Self {
            redis: redis.clone(),
            token,
        }
    }

    /// The Redis handle.
    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    fn key(&self, key: &str) -> String {
        self.redis.key(&["idem", key])
    }

    /// This instance's running claim for the body with `fingerprint`.
    fn running(&self, fingerprint: &Fingerprint) -> Vec<u8> {
        let mut v = Vec::with_capacity(1 + Fingerprint::LEN + self.token.len());
        v.push(RUNNING);
        v.extend_from_slice(fingerprint.as_bytes());
        v.extend_from_slice(&self.token);
        v
    }
}

fn millis(d: Duration) -> u64 {
    // PX must be positive.
    (d.as_millis() as u64).max(1)
}

fn unavailable(e: BackendError) -> IdempotencyError {
    let kind = match e.kind() {
        BackendErrorKind::TimedOut => IdempotencyErrorKind::TimedOut,
        BackendErrorKind::Corrupt => IdempotencyErrorKind::Corrupt,
        _ => IdempotencyErrorKind::Unavailable,
    };
    IdempotencyError::new(kind, e)
}

/// Reads the claim script's answer (see [`CLAIM_LUA`]).
fn decode(answer: Option<Vec<u8>>) -> Result<Claim, IdempotencyError> {
    let Some(value) = answer else {
        return Ok(Claim::Claimed);
    };
    match value.as_slice() {
        OTHER_BODY => return Ok(Claim::OtherBody),
        IN_PROGRESS => return Ok(Claim::InProgress),
        _ => {}
    }
    decode_done(&value).map(Claim::Done).ok_or_else(|| {
        IdempotencyError::new(
            IdempotencyErrorKind::Corrupt,
            "unexpected answer from the claim script",
        )
    })
}

/// A stored answer: tag, fingerprint (already compared by the script), status, body.
fn decode_done(value: &[u8]) -> Option<StoredReply> {
    let rest = value.strip_prefix(&[DONE])?.get(Fingerprint::LEN..)?;
    let status = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    Some(StoredReply {
        status,
        body: Bytes::copy_from_slice(&rest[3..]),
    })
}

fn encode(fingerprint: &Fingerprint, reply: &StoredReply) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + Fingerprint::LEN + 3 + reply.body.len());
    v.push(DONE);
    v.extend_from_slice(fingerprint.as_bytes());
    v.extend_from_slice(format!("{:03}", reply.status.min(999)).as_bytes());
    v.extend_from_slice(&reply.body);
    v
}

#[async_trait]
impl IdempotencyStore for RedisIdempotencyStore {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Claim, IdempotencyError> {
        let mut conn = self.redis.conn();
        let key = self.key(key);
        let running = self.running(fingerprint);
        let fingerprint = *fingerprint.as_bytes();
        let answer: Option<Vec<u8>> = self
            .redis
            .run(async move {
                CLAIM
                    .key(key)
                    .arg(running)
                    .arg(millis(lease))
                    .arg(&fingerprint[..])
                    .invoke_async(&mut conn)
                    .await
            })
            .await
            .map_err(unavailable)?;
        decode(answer)
    }

    async fn complete(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
        reply: &StoredReply,
        ttl: Duration,
    ) -> Result<(), IdempotencyError> {
        let mut conn = self.redis.conn();
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key))
            .arg(encode(fingerprint, reply))
            .arg("PX")
            .arg(millis(ttl));
        self.redis
            .run(async move { cmd.query_async::<()>(&mut conn).await })
            .await
            .map_err(unavailable)
    }

    async fn release(&self, key: &str, fingerprint: &Fingerprint) -> Result<(), IdempotencyError> {
        let mut conn = self.redis.conn();
        let key = self.key(key);
        let running = self.running(fingerprint);
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
    fn answers_round_trip_and_other_script_answers_are_not_answers() {
        let fp = Fingerprint::of(b"body");
        let reply = StoredReply {
            status: 200,
            body: Bytes::from_static(br#"{"callflow":[]}"#),
        };
        assert_eq!(
            decode(Some(encode(&fp, &reply))).unwrap(),
            Claim::Done(reply)
        );
        let empty = StoredReply {
            status: 503,
            body: Bytes::new(),
        };
        assert_eq!(
            decode(Some(encode(&fp, &empty))).unwrap(),
            Claim::Done(empty)
        );
        assert_eq!(decode(None).unwrap(), Claim::Claimed);
        assert_eq!(decode(Some(b"o".to_vec())).unwrap(), Claim::OtherBody);
        assert_eq!(decode(Some(b"r".to_vec())).unwrap(), Claim::InProgress);
        for odd in [&b""[..], b"d200{}", b"D20", b"x"] {
            assert!(decode(Some(odd.to_vec())).is_err(), "{odd:?}");
        }
    }

    #[tokio::test]
    async fn a_running_claim_names_the_body_and_the_instance() {
        let redis =
            Redis::open_with("redis://127.0.0.1:1/0", "p:", Duration::from_secs(1)).unwrap();
        let store = RedisIdempotencyStore::new(&redis);
        let fp = Fingerprint::of(b"body");
        let running = store.running(&fp);
        assert_eq!(running[0], RUNNING);
        assert_eq!(&running[1..33], fp.as_bytes());
        assert_ne!(running, store.running(&Fingerprint::of(b"other")));
        assert_ne!(running, RedisIdempotencyStore::new(&redis).running(&fp));
    }
}
