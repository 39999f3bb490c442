//! [`RedisBindingStore`]: number-masking bindings and call records in Redis.

use std::collections::HashMap;
use std::time::Duration;

use callflow::PhoneNumber;
use callflow_masking::{
    Binding, BindingStore, CallRecord, Health, LegRecord, Lookup, NewBinding, StoreError,
    StoreErrorKind, check_conflict, now_millis, pick,
};
use redis::Pipeline;

use crate::{BackendError, BackendErrorKind, Redis};

/// How often `create` re-reads and retries when another instance changed the same
/// (virtual number, party) index between its check and its write.
const CREATE_ATTEMPTS: usize = 50;

/// Bindings fetched per pipeline when listing.
const CHUNK: usize = 500;

/// The fields of a binding's hash that make the [`Binding`]: the routing lookup asks for
/// them by name (`HMGET`) and gets their values in this order. `HGETALL` would also send
/// every field name back, to be parsed and hashed into a map: about 8 k instructions more
/// per lookup (issue #18, BENCHMARKS.md).
const BINDING_FIELDS: [&str; 8] = [
    "id",
    "vn",
    "a",
    "b",
    "expires_at",
    "record",
    "reference",
    "created_at",
];

/// The masking [`BindingStore`] in Redis, shared by every instance (and the CLI) that uses the
/// same server and prefix.
///
/// Data model (every key under the [`Redis::prefix`], default `callflow:`):
///
/// | key | type | holds |
/// |---|---|---|
/// | `binding:{id}` | hash | one binding: `id`, `vn`, `a`, `b`, `expires_at`, `record`, `reference`, `created_at` |
/// | `idx:{vn}:{party}` | set | ids of the bindings holding `party` on virtual number `vn` (the routing key) |
/// | `bindings` | sorted set | every binding id, scored by creation time (listing) |
/// | `call:{session}` | hash | one session's record (legs as JSON), replaced by a repeated summary |
/// | `calls` | sorted set | session ids scored by the time they were recorded |
/// | `purge` | sorted set | `{id} {vn} {a} {b}` of each binding that will be purged, scored by when (Unix ms) |
///
/// - `create` is atomic across instances: it `WATCH`es both parties' index sets on a
///   connection of its own, reads the bindings they hold, applies the shared rule
///   [`check_conflict`], and writes in `MULTI`/`EXEC`; if another instance touched either
///   index in between, `EXEC` does nothing and the check runs again on fresh data. Two
///   instances can therefore never both create conflicting bindings.
/// - `lookup` reads the caller's index (`SMEMBERS`, exactly one per lookup) and those bindings,
///   and applies the shared rule [`pick`].
/// - Expired bindings are kept, as in the other stores, so a caller whose binding expired
///   hears the "expired" message, not "not bound"; `remove` deletes them. With a
///   [`purge_grace`](Self::purge_grace), a binding that expires is purged by Redis itself
///   that long after its expiry: its hash gets `PEXPIREAT` expiry + grace, and each index
///   set the latest purge time of the bindings it holds (none while it holds a binding that
///   never expires). [`prune_purged`](Self::prune_purged), run periodically, then removes
///   the purged ids from the listing and index sets, so nothing is left behind.
/// - Persistence is Redis's own (configure AOF or RDB snapshots).
#[derive(Clone, Debug)]
pub struct RedisBindingStore {
    redis: Redis,
    purge_grace: Option<Duration>,
}

/// A failed Redis operation (unreachable, timed out, refused by the server): retryable.
fn backend(e: BackendError) -> StoreError {
    let kind = match e.kind() {
        BackendErrorKind::TimedOut => StoreErrorKind::TimedOut,
        BackendErrorKind::Corrupt => StoreErrorKind::Corrupt,
        _ => StoreErrorKind::Unavailable,
    };
    StoreError::new(kind, e)
}

/// A record Redis returned that this program cannot read: a retry will not fix it.
fn corrupt(e: BackendError) -> StoreError {
    StoreError::new(
        StoreErrorKind::Corrupt,
        e.of_kind(BackendErrorKind::Corrupt),
    )
}

impl RedisBindingStore {
    /// A store on `redis` (shares its connection).
    pub fn new(redis: &Redis) -> Self {
        Self {
            redis: redis.clone(),
            purge_grace: None,
        }
    }

    /// Bindings created through this store are purged by Redis `grace` after they expire
    /// (default: never; a binding without expiry never is). During the grace a caller still
    /// hears the "expired" message. The grace is fixed in Redis when a binding is created.
    pub fn purge_grace(mut self, grace: Duration) -> Self {
        self.purge_grace = Some(grace);
        self
    }

    /// Removes from the listing and the index sets at most `max` bindings whose purge time
    /// has passed (Redis has deleted their hashes, or does on this call); returns how many.
    /// Bounded work: with more than `max` due, call it again.
    pub async fn prune_purged(&self, max: usize) -> Result<usize, StoreError> {
        if max == 0 {
            return Ok(0);
        }
        let mut conn = self.redis.conn();
        let due: Vec<String> = self
            .redis
            .run(
                redis::cmd("ZRANGEBYSCORE")
                    .arg(self.purge_key())
                    .arg("-inf")
                    .arg(now_millis())
                    .arg("LIMIT")
                    .arg(0)
                    .arg(max.min(i64::MAX as usize) as i64)
                    .query_async(&mut conn),
            )
            .await
            .map_err(backend)?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut tx = Pipeline::new();
        tx.atomic();
        for member in &due {
            let mut parts = member.split(' ');
            let (Some(id), Some(vn), Some(a), Some(b)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                tx.cmd("ZREM").arg(self.purge_key()).arg(member).ignore();
                continue;
            };
            let (vn, a, b) = (
                PhoneNumber::new(vn),
                PhoneNumber::new(a),
                PhoneNumber::new(b),
            );
            tx.cmd("DEL").arg(self.binding_key(id)).ignore();
            self.unlink(&mut tx, id, &vn, [&a, &b], member);
        }
        self.redis
            .run(tx.query_async::<()>(&mut conn))
            .await
            .map_err(backend)?;
        Ok(due.len())
    }

    /// Adds to `tx` the removal of binding `id` (of `vn` and `parties`, `purge` member
    /// `member`) from the index sets, the listing and the purge set (its hash aside).
    fn unlink(
        &self,
        tx: &mut Pipeline,
        id: &str,
        vn: &PhoneNumber,
        parties: [&PhoneNumber; 2],
        member: &str,
    ) {
        for party in parties {
            tx.cmd("SREM")
                .arg(self.index_key(vn, party))
                .arg(id)
                .ignore();
        }
        tx.cmd("ZREM")
            .arg(self.all_key())
            .arg(id)
            .ignore()
            .cmd("ZREM")
            .arg(self.purge_key())
            .arg(member)
            .ignore();
    }

    /// When a binding created now is purged (Unix ms): expiry + grace, if both are set.
    fn purge_at(&self, b: &Binding) -> Option<i64> {
        let grace = i64::try_from(self.purge_grace?.as_millis()).unwrap_or(i64::MAX);
        Some(b.expires_at?.saturating_add(grace))
    }

    fn purge_key(&self) -> String {
        self.redis.key(&["purge"])
    }

    /// The Redis handle.
    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    fn binding_key(&self, id: &str) -> String {
        self.redis.key(&["binding", id])
    }

    fn index_key(&self, vn: &PhoneNumber, party: &PhoneNumber) -> String {
        self.redis.key(&["idx", vn.as_str(), party.as_str()])
    }

    fn all_key(&self) -> String {
        self.redis.key(&["bindings"])
    }

    fn call_key(&self, session: &str) -> String {
        self.redis.key(&["call", session])
    }

    fn calls_key(&self) -> String {
        self.redis.key(&["calls"])
    }

    /// `HGETALL` of each key, in one round trip; missing keys give empty maps.
    async fn hashes(
        &self,
        conn: &mut (impl redis::aio::ConnectionLike + Send),
        keys: Vec<String>,
    ) -> Result<Vec<HashMap<String, String>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = Pipeline::new();
        for k in &keys {
            pipe.cmd("HGETALL").arg(k);
        }
        self.redis
            .run(pipe.query_async::<Vec<HashMap<String, String>>>(conn))
            .await
            .map_err(backend)
    }

    /// The bindings with these ids (ids whose binding is gone are skipped).
    async fn bindings(
        &self,
        conn: &mut (impl redis::aio::ConnectionLike + Send),
        ids: &[String],
    ) -> Result<Vec<Binding>, StoreError> {
        Ok(self
            .records(conn, ids)
            .await?
            .into_iter()
            .map(|(b, _)| b)
            .collect())
    }

    /// [`bindings`](Self::bindings), each with its purge time.
    async fn records(
        &self,
        conn: &mut (impl redis::aio::ConnectionLike + Send),
        ids: &[String],
    ) -> Result<Vec<(Binding, Option<i64>)>, StoreError> {
        let keys = ids.iter().map(|id| self.binding_key(id)).collect();
        let maps = self.hashes(conn, keys).await?;
        let mut out = Vec::with_capacity(maps.len());
        for (id, m) in ids.iter().zip(maps) {
            if let Some(b) = self.decode(id, &m)? {
                out.push((b, purge_at_of(&m)));
            }
        }
        out.sort_by(|(a, _), (b, _)| creation_order(a, b));
        Ok(out)
    }

    /// The binding a hash holds; `None` for a hash that is gone (an empty reply: purged while
    /// its id was still listed or indexed).
    fn decode(&self, id: &str, m: &HashMap<String, String>) -> Result<Option<Binding>, StoreError> {
        if m.is_empty() {
            return Ok(None);
        }
        binding_from_hash(m)
            .map(Some)
            .ok_or_else(|| self.corrupt_binding(id))
    }

    /// The error for a hash that holds no valid binding (its id, never its numbers).
    fn corrupt_binding(&self, id: &str) -> StoreError {
        corrupt(self.redis.error(format!("corrupt binding {id}")))
    }
}

/// Oldest first: creation time, then id (the order every listing and lookup uses).
fn creation_order(a: &Binding, b: &Binding) -> std::cmp::Ordering {
    (a.created_at, &a.id).cmp(&(b.created_at, &b.id))
}

/// The `purge` set's member for `b`: what [`RedisBindingStore::prune_purged`] needs to find
/// the binding's keys once its hash is gone (ids and E.164 numbers hold no space).
fn purge_member(b: &Binding) -> String {
    format!(
        "{} {} {} {}",
        b.id,
        b.virtual_number.as_str(),
        b.parties[0].as_str(),
        b.parties[1].as_str()
    )
}

/// The purge time kept in a binding's hash (`purge_at`), if it has one.
fn purge_at_of(m: &HashMap<String, String>) -> Option<i64> {
    m.get("purge_at")?.parse().ok()
}

/// An index set's expiry: the latest purge time of the bindings it holds, or `None` (never)
/// if one of them is never purged.
fn index_expiry(held: impl IntoIterator<Item = Option<i64>>) -> Option<i64> {
    held.into_iter()
        .try_fold(i64::MIN, |latest, at| at.map(|at| latest.max(at)))
}

fn binding_fields(b: &Binding) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("id", b.id.clone()),
        ("vn", b.virtual_number.as_str().to_owned()),
        ("a", b.parties[0].as_str().to_owned()),
        ("b", b.parties[1].as_str().to_owned()),
        ("record", if b.record { "1" } else { "0" }.to_owned()),
        ("created_at", b.created_at.to_string()),
    ];
    if let Some(e) = b.expires_at {
        f.push(("expires_at", e.to_string()));
    }
    if let Some(r) = &b.reference {
        f.push(("reference", r.clone()));
    }
    f
}

fn binding_from_hash(m: &HashMap<String, String>) -> Option<Binding> {
    binding_from_fields(|name| m.get(name).map(String::as_str))
}

/// The binding of one `HMGET` reply, its values in [`BINDING_FIELDS`] order (`None` if one
/// it needs is missing or malformed).
fn binding_from_row<S: AsRef<str>>(row: &[Option<S>]) -> Option<Binding> {
    binding_from_fields(|name| {
        let at = BINDING_FIELDS.iter().position(|f| *f == name)?;
        row.get(at)?.as_ref().map(AsRef::as_ref)
    })
}

/// The binding whose hash has these fields (`None` if one it needs is missing or malformed).
fn binding_from_fields<'a>(field: impl Fn(&str) -> Option<&'a str>) -> Option<Binding> {
    Some(Binding {
        id: field("id")?.to_owned(),
        virtual_number: PhoneNumber::new(field("vn")?),
        parties: [PhoneNumber::new(field("a")?), PhoneNumber::new(field("b")?)],
        expires_at: match field("expires_at") {
            Some(e) => Some(e.parse().ok()?),
            None => None,
        },
        record: field("record") == Some("1"),
        reference: field("reference").map(str::to_owned),
        created_at: field("created_at")?.parse().ok()?,
    })
}

fn call_fields(c: &CallRecord) -> Result<Vec<(&'static str, String)>, StoreError> {
    let legs =
        serde_json::to_string(&c.legs).map_err(|e| StoreError::backend(format!("legs: {e}")))?;
    let mut f = vec![
        ("session_id", c.session_id.clone()),
        ("status", c.status.clone()),
        ("duration_secs", c.duration_secs.to_string()),
        ("legs", legs),
        ("recorded_at", c.recorded_at.to_string()),
    ];
    let optional = [
        ("binding_id", c.binding_id.clone()),
        (
            "virtual_number",
            c.virtual_number.as_ref().map(|n| n.as_str().to_owned()),
        ),
        ("error_code", c.error_code.map(|e| e.to_string())),
        ("error_message", c.error_message.clone()),
        ("started_at", c.started_at.clone()),
        ("ended_at", c.ended_at.clone()),
    ];
    f.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
    Ok(f)
}

fn call_from_hash(m: &HashMap<String, String>) -> Option<CallRecord> {
    let opt = |k: &str| m.get(k).cloned();
    Some(CallRecord {
        session_id: m.get("session_id")?.clone(),
        binding_id: opt("binding_id"),
        virtual_number: opt("virtual_number").map(PhoneNumber::new),
        status: m.get("status")?.clone(),
        duration_secs: m.get("duration_secs")?.parse().ok()?,
        legs: serde_json::from_str::<Vec<LegRecord>>(m.get("legs")?).unwrap_or_default(),
        error_code: match m.get("error_code") {
            Some(e) => Some(e.parse().ok()?),
            None => None,
        },
        error_message: opt("error_message"),
        started_at: opt("started_at"),
        ended_at: opt("ended_at"),
        recorded_at: m.get("recorded_at")?.parse().ok()?,
    })
}

impl BindingStore for RedisBindingStore {
    async fn create(&self, new: NewBinding) -> Result<Binding, StoreError> {
        let vn = new.virtual_number();
        let [a, b] = new.parties();
        let (idx_a, idx_b) = (self.index_key(vn, a), self.index_key(vn, b));
        // WATCH is connection state: it needs a connection no concurrent command shares.
        let mut conn = self.redis.dedicated().await.map_err(backend)?;
        for _ in 0..CREATE_ATTEMPTS {
            self.redis
                .run(
                    redis::cmd("WATCH")
                        .arg(&idx_a)
                        .arg(&idx_b)
                        .query_async::<()>(&mut conn),
                )
                .await
                .map_err(backend)?;
            let ids: Vec<String> = self
                .redis
                .run(
                    redis::cmd("SUNION")
                        .arg(&idx_a)
                        .arg(&idx_b)
                        .query_async(&mut conn),
                )
                .await
                .map_err(backend)?;
            let records = self.records(&mut conn, &ids).await?;
            let existing: Vec<Binding> = records.iter().map(|(b, _)| b.clone()).collect();
            let now = now_millis();
            if let Err(e) = check_conflict(&existing, &new, now) {
                let _ = self
                    .redis
                    .run(redis::cmd("UNWATCH").query_async::<()>(&mut conn))
                    .await;
                return Err(e.into());
            }
            let binding = new.clone().into_binding(now);
            let key = self.binding_key(&binding.id);
            let purge_at = self.purge_at(&binding);
            let mut fields = binding_fields(&binding);
            if let Some(at) = purge_at {
                fields.push(("purge_at", at.to_string()));
            }
            let mut tx = Pipeline::new();
            tx.atomic()
                .cmd("HSET")
                .arg(&key)
                .arg(fields)
                .ignore()
                .cmd("SADD")
                .arg(&idx_a)
                .arg(&binding.id)
                .ignore()
                .cmd("SADD")
                .arg(&idx_b)
                .arg(&binding.id)
                .ignore()
                .cmd("ZADD")
                .arg(self.all_key())
                .arg(binding.created_at)
                .arg(&binding.id)
                .ignore();
            if let Some(at) = purge_at {
                tx.cmd("PEXPIREAT")
                    .arg(&key)
                    .arg(at)
                    .ignore()
                    .cmd("ZADD")
                    .arg(self.purge_key())
                    .arg(at)
                    .arg(purge_member(&binding))
                    .ignore();
            }
            for (idx, party) in [(&idx_a, a), (&idx_b, b)] {
                let held = records
                    .iter()
                    .filter(|(b, _)| b.has_party(party))
                    .map(|(_, at)| *at)
                    .chain([purge_at]);
                match index_expiry(held) {
                    Some(at) => tx.cmd("PEXPIREAT").arg(idx).arg(at).ignore(),
                    None => tx.cmd("PERSIST").arg(idx).ignore(),
                };
            }
            let done: Option<()> = self
                .redis
                .run(tx.query_async(&mut conn))
                .await
                .map_err(backend)?;
            if done.is_some() {
                return Ok(binding);
            }
            // Another instance changed an index we read: check again on fresh data.
            tokio::task::yield_now().await;
        }
        Err(backend(self.redis.error(
            "too much contention on the binding indexes; try again",
        )))
    }

    async fn lookup(&self, vn: &PhoneNumber, caller: &PhoneNumber) -> Result<Lookup, StoreError> {
        let mut conn = self.redis.conn();
        let ids: Vec<String> = self
            .redis
            .run(
                redis::cmd("SMEMBERS")
                    .arg(self.index_key(vn, caller))
                    .query_async(&mut conn),
            )
            .await
            .map_err(backend)?;
        if ids.is_empty() {
            return Ok(Lookup::NotFound);
        }
        let mut pipe = Pipeline::new();
        for id in &ids {
            pipe.cmd("HMGET")
                .arg(self.binding_key(id))
                .arg(&BINDING_FIELDS[..]);
        }
        let rows: Vec<Vec<Option<String>>> = self
            .redis
            .run(pipe.query_async(&mut conn))
            .await
            .map_err(backend)?;
        let mut candidates = Vec::new();
        for (id, row) in ids.into_iter().zip(rows) {
            // A hash that is gone (purged while its id was still indexed) holds no binding.
            if row.iter().all(Option::is_none) {
                continue;
            }
            let b = binding_from_row(&row).ok_or_else(|| self.corrupt_binding(&id))?;
            if &b.virtual_number == vn && b.has_party(caller) {
                candidates.push(b);
            }
        }
        candidates.sort_by(creation_order);
        Ok(pick(candidates, now_millis()))
    }

    async fn get(&self, id: &str) -> Result<Option<Binding>, StoreError> {
        let mut conn = self.redis.conn();
        Ok(self
            .bindings(&mut conn, &[id.to_owned()])
            .await?
            .into_iter()
            .next())
    }

    async fn list(&self) -> Result<Vec<Binding>, StoreError> {
        let mut conn = self.redis.conn();
        let ids: Vec<String> = self
            .redis
            .run(
                redis::cmd("ZRANGE")
                    .arg(self.all_key())
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn),
            )
            .await
            .map_err(backend)?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            out.extend(self.bindings(&mut conn, chunk).await?);
        }
        out.sort_by(creation_order);
        Ok(out)
    }

    async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.redis.conn();
        let Some(b) = self.get(id).await? else {
            // Drop a dangling listing entry, if any.
            let _ = self
                .redis
                .run(
                    redis::cmd("ZREM")
                        .arg(self.all_key())
                        .arg(id)
                        .query_async::<()>(&mut conn),
                )
                .await;
            return Ok(false);
        };
        let mut tx = Pipeline::new();
        tx.atomic().cmd("DEL").arg(self.binding_key(id));
        let [a, p] = &b.parties;
        self.unlink(&mut tx, id, &b.virtual_number, [a, p], &purge_member(&b));
        let (deleted,): (i64,) = self
            .redis
            .run(tx.query_async(&mut conn))
            .await
            .map_err(backend)?;
        Ok(deleted > 0)
    }

    async fn record_call(&self, record: CallRecord) -> Result<(), StoreError> {
        let mut conn = self.redis.conn();
        let key = self.call_key(&record.session_id);
        let mut tx = Pipeline::new();
        tx.atomic()
            .cmd("DEL")
            .arg(&key)
            .ignore()
            .cmd("HSET")
            .arg(&key)
            .arg(call_fields(&record)?)
            .ignore()
            .cmd("ZADD")
            .arg(self.calls_key())
            .arg(record.recorded_at)
            .arg(&record.session_id)
            .ignore();
        self.redis
            .run(tx.query_async::<()>(&mut conn))
            .await
            .map_err(backend)
    }

    async fn calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.redis.conn();
        let ids: Vec<String> = self
            .redis
            .run(
                redis::cmd("ZREVRANGE")
                    .arg(self.calls_key())
                    .arg(0)
                    .arg(limit.min(i64::MAX as usize) as i64 - 1)
                    .query_async(&mut conn),
            )
            .await
            .map_err(backend)?;
        let keys = ids.iter().map(|s| self.call_key(s)).collect();
        let maps = self.hashes(&mut conn, keys).await?;
        let mut out = Vec::with_capacity(maps.len());
        for (id, m) in ids.iter().zip(maps) {
            if m.is_empty() {
                continue;
            }
            out.push(
                call_from_hash(&m).ok_or_else(|| {
                    corrupt(self.redis.error(format!("corrupt call record {id}")))
                })?,
            );
        }
        Ok(out)
    }

    /// Ready when Redis answers `PING` within the handle's time bound.
    async fn health(&self) -> Health {
        match self.redis.ping().await {
            Ok(()) => Health::ready(format!("redis at {}: reachable", self.redis.address())),
            Err(e) => Health::not_ready(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookup_reads_back_every_field_a_binding_is_written_with() {
        let b = Binding {
            id: "b-1".to_owned(),
            virtual_number: PhoneNumber::new("+6568880000"),
            parties: [
                PhoneNumber::new("+6591110001"),
                PhoneNumber::new("+6592220002"),
            ],
            expires_at: Some(1_700_000_000_000),
            record: true,
            reference: Some("order 7".to_owned()),
            created_at: 1_690_000_000_000,
        };
        let written = binding_fields(&b);
        let mut names: Vec<&str> = written.iter().map(|(k, _)| *k).collect();
        let mut read: Vec<&str> = BINDING_FIELDS.to_vec();
        names.sort_unstable();
        read.sort_unstable();
        assert_eq!(
            names, read,
            "BINDING_FIELDS must list what binding_fields writes"
        );
        // The values in BINDING_FIELDS order, as `HMGET` returns them, give the binding.
        let values: Vec<Option<&str>> = BINDING_FIELDS
            .iter()
            .map(|f| {
                written
                    .iter()
                    .find(|(k, _)| k == f)
                    .map(|(_, v)| v.as_str())
            })
            .collect();
        assert_eq!(binding_from_row(&values), Some(b));
    }
}
