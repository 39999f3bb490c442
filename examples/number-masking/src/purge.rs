//! The purge of expired bindings: `--purge-grace` after a binding expires it is deleted, so
//! the store does not grow for ever; until then a caller hears the "expired" message.
//!
//! - SQLite: every `--purge-interval` (default 1 min) a pass deletes at most [`BATCH`]
//!   bindings whose expiry + grace has passed, in one short write transaction; a full batch
//!   means more are due, and the next pass follows after [`CATCH_UP`] instead.
//! - Redis: Redis itself deletes a binding at expiry + grace (the grace is set when the
//!   binding is created); the same passes remove the purged ids from the shared listing and
//!   index sets.

use std::time::Duration;

use crate::metrics::Metrics;
use crate::store::Store;

/// The default grace: a day after its expiry a binding is purged.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);

/// The default time between two passes.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// The most bindings one pass deletes.
pub const BATCH: usize = 1000;

/// The pause before the next pass when a pass was full.
pub const CATCH_UP: Duration = Duration::from_secs(1);

/// `--purge-grace`: a duration (`24h`, `30m`, …) or `off` (expired bindings are kept until
/// removed).
pub fn parse_grace(s: &str) -> Result<Grace, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(Grace(None));
    }
    crate::ttl::parse_ttl(s).map(|d| Grace(Some(d)))
}

/// How long after its expiry a binding is purged; `None`: never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grace(pub Option<Duration>);

/// Runs the passes for ever (spawn it; it ends with the runtime). A failed pass is logged
/// and retried at the next interval.
pub async fn run(store: std::sync::Arc<Store>, grace: Duration, every: Duration, metrics: Metrics) {
    loop {
        let pause = match store.purge(grace, BATCH).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(purged = n, "purged expired bindings");
                    metrics.purged(n);
                }
                if n >= BATCH {
                    CATCH_UP.min(every)
                } else {
                    every
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "purge of expired bindings failed; retrying later");
                every
            }
        };
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_is_a_duration_or_off() {
        assert_eq!(parse_grace("24h"), Ok(Grace(Some(DEFAULT_GRACE))));
        assert_eq!(parse_grace("OFF"), Ok(Grace(None)));
        assert!(parse_grace("0s").is_err());
        assert!(parse_grace("soon").is_err());
    }
}
