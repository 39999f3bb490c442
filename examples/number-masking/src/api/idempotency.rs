//! `Idempotency-Key`: a repeated create answers the first result; the same key with another
//! body is a 422. A key is forgotten when the binding it created is deleted (so it never
//! answers with a binding that is gone). Kept in memory for [`KEEP`] (one process: behind a load balancer, send a
//! client's retries to the same instance, or rely on the 409 of a repeated binding).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// How long a key's result is kept.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

/// At most this many keys are kept (the oldest go first).
pub const MAX_KEYS: usize = 10_000;

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A stored result.
#[derive(Clone)]
pub struct Stored {
    /// The status answered.
    pub status: StatusCode,
    /// The body answered.
    pub body: Bytes,
    /// The binding it created, if it did.
    pub binding_id: Option<String>,
}

struct Entry {
    request: [u8; 32],
    at: Instant,
    result: Stored,
}

/// The keys seen and their results.
#[derive(Default)]
pub struct Idempotency {
    entries: Mutex<HashMap<String, Entry>>,
}

/// What to do with a request under a key.
pub enum Seen {
    /// The same request: answer this again.
    Repeat(Stored),
    /// The key was used with another body.
    Mismatch,
}

impl Idempotency {
    /// Runs `create` once per `key` and `body`: a repeat gets the stored result, another
    /// body under the same key [`Seen::Mismatch`]. Requests under one key are serialised.
    pub async fn run<F>(&self, key: &str, body: &[u8], create: F) -> Result<Stored, Seen>
    where
        F: Future<Output = Stored>,
    {
        let request: [u8; 32] = Sha256::digest(body).into();
        // One lock for every key: creates with a key are serialised (they are rare and fast).
        let mut entries = self.entries.lock().await;
        let now = Instant::now();
        entries.retain(|_, e| now.duration_since(e.at) < KEEP);
        if let Some(e) = entries.get(key) {
            return Err(if e.request == request {
                Seen::Repeat(e.result.clone())
            } else {
                Seen::Mismatch
            });
        }
        let result = create.await;
        // A server error is not kept: the client may retry with the same key.
        if !result.status.is_server_error() {
            if entries.len() >= MAX_KEYS
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.at)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
            entries.insert(
                key.to_owned(),
                Entry {
                    request,
                    at: now,
                    result: result.clone(),
                },
            );
        }
        Ok(result)
    }

    /// Forgets the key that created binding `id`, if any.
    pub async fn forget_binding(&self, id: &str) {
        self.entries
            .lock()
            .await
            .retain(|_, e| e.result.binding_id.as_deref() != Some(id));
    }
}
