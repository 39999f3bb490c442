//! The authorised client's figures.

use std::time::Duration;

use crate::legit::{Answer, Sample};

/// Counts and latency percentiles of a run.
#[derive(Debug, PartialEq)]
pub struct Summary {
    sent: usize,
    bridged: usize,
    wrong: usize,
    broken: usize,
    timed_out: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Summary {
    /// Over every sample: a failed request counts at the time it failed (a timeout at the
    /// timeout), so that the percentiles cannot look better by leaving failures out.
    pub fn of(samples: &[Sample]) -> Self {
        let mut took: Vec<Duration> = samples.iter().map(|s| s.took).collect();
        took.sort_unstable();
        let count = |f: fn(&Answer) -> bool| samples.iter().filter(|s| f(&s.answer)).count();
        Self {
            sent: samples.len(),
            bridged: count(|a| *a == Answer::Bridged),
            wrong: count(|a| matches!(a, Answer::Wrong(_))),
            broken: count(|a| *a == Answer::Broken),
            timed_out: count(|a| *a == Answer::TimedOut),
            p50: percentile(&took, 50.0),
            p99: percentile(&took, 99.0),
            max: took.last().copied().unwrap_or_default(),
        }
    }

    /// The share of requests that were bridged, in percent.
    pub fn success_pct(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        self.bridged as f64 * 100.0 / self.sent as f64
    }

    /// `key=value` pairs for the result line.
    pub fn line(&self) -> String {
        format!(
            "sent={} ok={} success_pct={:.1} wrong={} broken={} timed_out={} p50_ms={:.1} p99_ms={:.1} max_ms={:.1}",
            self.sent,
            self.bridged,
            self.success_pct(),
            self.wrong,
            self.broken,
            self.timed_out,
            millis(self.p50),
            millis(self.p99),
            millis(self.max),
        )
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], pct: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((pct / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(answer: Answer, ms: u64) -> Sample {
        Sample {
            answer,
            took: Duration::from_millis(ms),
        }
    }

    #[test]
    fn failures_count_in_the_rate_and_the_percentiles() {
        let mut samples: Vec<Sample> = (1..=98).map(|ms| sample(Answer::Bridged, ms)).collect();
        samples.push(sample(Answer::TimedOut, 12_000));
        samples.push(sample(Answer::Wrong(503), 5));
        let s = Summary::of(&samples);
        assert_eq!((s.sent, s.bridged, s.timed_out, s.wrong), (100, 98, 1, 1));
        assert_eq!(s.success_pct(), 98.0);
        assert_eq!(s.p50, Duration::from_millis(49));
        assert_eq!(s.p99, Duration::from_millis(98));
        assert_eq!(s.max, Duration::from_millis(12_000));
        assert!(s.line().contains("success_pct=98.0 "), "{}", s.line());
        assert!(s.line().contains(" p99_ms=98.0 "), "{}", s.line());
    }

    #[test]
    fn no_samples_is_zero_percent() {
        let s = Summary::of(&[]);
        assert_eq!(s.success_pct(), 0.0);
        assert_eq!(s.p99, Duration::ZERO);
    }
}
