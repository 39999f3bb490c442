//! When a request is sent again, and after how long.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::api::{Operation, time::parse_http_date};

/// The retry rules of a [`Client`](crate::Client).
///
/// A request is sent again only where that cannot do anything twice:
///
/// - `GET` and `DELETE` after a connection failure, a timeout, 429, 500, 502, 503 or 504,
///   with jittered exponential backoff (or the `Retry-After` 8x8 gave);
/// - any other request (`POST`) only when 8x8 answered 429 or 503 **with** `Retry-After`
///   (it refused the request and said when to come back), after that delay;
/// - Send Callflow never, unless [`RetryPolicy::retry_send_callflow`] is on (a second request
///   could place a second call; a 503 may come from a proxy after 8x8 started the call): then
///   under the `POST` rule.
///
/// Attempts are bounded by [`max_attempts`](RetryPolicy::max_attempts) and the total time,
/// sleeps included, by [`max_elapsed`](RetryPolicy::max_elapsed); a `Retry-After` longer than
/// what is left is not waited for, and the error carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    retry_send_callflow: bool,
}

impl Default for RetryPolicy {
    /// 3 attempts, backoff from 200 ms up to 5 s, 30 s in all, Send Callflow never retried.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            retry_send_callflow: false,
        }
    }
}

/// How one attempt ended, for the retry decision.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    Status(u16, Option<Duration>),
    Timeout,
    Connection,
}

impl RetryPolicy {
    /// Never send a request twice.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// At most `n` requests per call (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The first backoff and its cap (each retry doubles it; the delay is drawn between half
    /// and all of it).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The total time of one call, attempts and sleeps included.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Whether Send Callflow may be sent again after a 429 or 503 with `Retry-After` (off by
    /// default: a second request may place a second call).
    pub fn retry_send_callflow(mut self, on: bool) -> Self {
        self.retry_send_callflow = on;
        self
    }

    /// The attempt bound.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The total time bound.
    pub fn elapsed_budget(&self) -> Duration {
        self.max_elapsed
    }

    /// The delay before sending again after `outcome` of attempt `attempt` (1-based), or
    /// `None` when the request must not be repeated.
    pub(crate) fn delay(&self, op: Operation, outcome: Outcome, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        if op == Operation::SendCallflow && !self.retry_send_callflow {
            return None;
        }
        let idempotent = op.method().is_idempotent();
        match outcome {
            Outcome::Status(429 | 503, Some(after)) => Some(after),
            Outcome::Status(429 | 500 | 502 | 503 | 504, None)
            | Outcome::Timeout
            | Outcome::Connection
                if idempotent =>
            {
                Some(self.backoff_for(attempt))
            }
            _ => None,
        }
    }

    /// Exponential backoff with "equal jitter": half the step fixed, half random.
    fn backoff_for(&self, attempt: u32) -> Duration {
        let step = self
            .initial_backoff
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.max_backoff);
        let half = step / 2;
        let nanos = half.as_nanos() as u64;
        let jitter = if nanos == 0 {
            0
        } else {
            random() % (nanos + 1)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// A random number from the standard library's per-process hash keys and a counter (enough
/// for jitter; no extra dependency).
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// `Retry-After`: delta-seconds or an HTTP-date; capped at one day.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    const DAY: u64 = 86_400;
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(DAY)));
    }
    let at = parse_http_date(v)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(Duration::from_secs((at - now).clamp(0, DAY as i64) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_requests_are_repeated() {
        let p = RetryPolicy::default();
        let ra = Some(Duration::from_secs(1));
        // GET/DELETE: failures and 5xx.
        assert!(
            p.delay(Operation::ListWebhooks, Outcome::Status(503, None), 1)
                .is_some()
        );
        assert!(
            p.delay(Operation::DeleteWebhook, Outcome::Connection, 1)
                .is_some()
        );
        assert!(
            p.delay(Operation::GetLogExport, Outcome::Timeout, 2)
                .is_some()
        );
        assert!(
            p.delay(Operation::ListWebhooks, Outcome::Status(404, None), 1)
                .is_none()
        );
        assert!(
            p.delay(Operation::ListWebhooks, Outcome::Status(503, None), 3)
                .is_none()
        );
        // POST: only 429/503 with Retry-After.
        assert_eq!(
            p.delay(Operation::CreateWebhook, Outcome::Status(503, ra), 1),
            ra
        );
        assert_eq!(
            p.delay(Operation::StartLogExport, Outcome::Status(429, ra), 1),
            ra
        );
        assert!(
            p.delay(Operation::CreateWebhook, Outcome::Status(503, None), 1)
                .is_none()
        );
        assert!(
            p.delay(Operation::CreateWebhook, Outcome::Status(500, ra), 1)
                .is_none()
        );
        assert!(
            p.delay(Operation::CreateWebhook, Outcome::Timeout, 1)
                .is_none()
        );
        // Send Callflow: never, unless opted in.
        assert!(
            p.delay(Operation::SendCallflow, Outcome::Status(503, ra), 1)
                .is_none()
        );
        let opted = p.clone().retry_send_callflow(true);
        assert_eq!(
            opted.delay(Operation::SendCallflow, Outcome::Status(503, ra), 1),
            ra
        );
        assert!(
            opted
                .delay(Operation::SendCallflow, Outcome::Timeout, 1)
                .is_none()
        );
        assert!(
            RetryPolicy::none()
                .delay(Operation::ListWebhooks, Outcome::Timeout, 1)
                .is_none()
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let p =
            RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(350));
        for _ in 0..100 {
            let d1 = p.backoff_for(1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d3 = p.backoff_for(3);
            assert!(
                d3 >= Duration::from_millis(175) && d3 <= Duration::from_millis(350),
                "{d3:?}"
            );
        }
        let draws: std::collections::HashSet<_> = (0..20).map(|_| p.backoff_for(2)).collect();
        assert!(draws.len() > 1, "jitter");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("999999"),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
