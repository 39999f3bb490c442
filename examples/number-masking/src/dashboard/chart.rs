//! The calls-per-hour chart: the last 24 hours in hourly buckets, stacked by outcome,
//! rendered on the server as inline SVG (no script).

/// How many hourly buckets the chart shows.
pub const HOURS: usize = 24;

const HOUR_MS: i64 = 3_600_000;

/// A call's outcome as the chart groups it (from 8x8's `sessionStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `COMPLETED`.
    Completed,
    /// `BUSY`.
    Busy,
    /// `NO_ANSWER` and the like.
    NoAnswer,
    /// `FAILED` and the like.
    Failed,
    /// Anything else.
    Other,
}

impl Outcome {
    /// Every outcome, in the chart's stacking order.
    pub const ALL: [Outcome; 5] = [
        Outcome::Completed,
        Outcome::Busy,
        Outcome::NoAnswer,
        Outcome::Failed,
        Outcome::Other,
    ];

    /// The outcome of `status` (case and separators ignored).
    pub fn of(status: &str) -> Self {
        let s: String = status
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_uppercase();
        match s.as_str() {
            "COMPLETED" | "ANSWERED" => Outcome::Completed,
            "BUSY" => Outcome::Busy,
            "NOANSWER" | "UNANSWERED" | "CANCELED" | "CANCELLED" => Outcome::NoAnswer,
            "FAILED" | "ERROR" | "REJECTED" => Outcome::Failed,
            _ => Outcome::Other,
        }
    }

    /// Its legend.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no answer",
            Outcome::Failed => "failed",
            Outcome::Other => "other",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Outcome::Completed => "#2e7d32",
            Outcome::Busy => "#f9a825",
            Outcome::NoAnswer => "#1565c0",
            Outcome::Failed => "#c62828",
            Outcome::Other => "#757575",
        }
    }

    fn index(self) -> usize {
        Outcome::ALL.iter().position(|o| *o == self).unwrap_or(4)
    }
}

/// Calls per hour and outcome: `counts[hour][outcome]`, hour 0 the oldest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buckets {
    /// The start of the oldest hour (Unix milliseconds).
    pub start_ms: i64,
    /// The counts.
    pub counts: [[u32; 5]; HOURS],
}

impl Buckets {
    /// The 24 hours ending with the one `now_ms` is in (the current hour is the last).
    pub fn new(now_ms: i64) -> Self {
        let current = now_ms.div_euclid(HOUR_MS) * HOUR_MS;
        Self {
            start_ms: current - (HOURS as i64 - 1) * HOUR_MS,
            counts: [[0; 5]; HOURS],
        }
    }

    /// Where `at_ms` falls, if in the window.
    pub fn hour_of(&self, at_ms: i64) -> Option<usize> {
        let i = (at_ms - self.start_ms).div_euclid(HOUR_MS);
        (0..HOURS as i64).contains(&i).then_some(i as usize)
    }

    /// Counts a call recorded at `at_ms`; `false` if it is outside the window.
    pub fn add(&mut self, at_ms: i64, outcome: Outcome) -> bool {
        match self.hour_of(at_ms) {
            Some(h) => {
                self.counts[h][outcome.index()] += 1;
                true
            }
            None => false,
        }
    }

    /// Every call counted.
    pub fn total(&self) -> u32 {
        self.counts.iter().flatten().sum()
    }

    /// The SVG (bars stacked by outcome, each with a `<title>` giving its count).
    pub fn svg(&self) -> String {
        const W: i64 = 720;
        const H: i64 = 200;
        const TOP: i64 = 10;
        const BOTTOM: i64 = 30;
        let plot = H - TOP - BOTTOM;
        let bar_w = W / HOURS as i64;
        let max = self
            .counts
            .iter()
            .map(|h| h.iter().sum::<u32>())
            .max()
            .unwrap_or(0)
            .max(1) as i64;
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{}\" viewBox=\"0 0 {W} {}\" role=\"img\" aria-label=\"Calls per hour by outcome, last 24 hours\">",
            H + 20,
            H + 20
        );
        out.push_str(&format!(
            "<text x=\"0\" y=\"{TOP}\" font-size=\"10\" dominant-baseline=\"hanging\">max {max}/h</text>"
        ));
        for (h, counts) in self.counts.iter().enumerate() {
            let x = h as i64 * bar_w;
            let mut y = TOP + plot;
            for outcome in Outcome::ALL {
                let n = counts[outcome.index()] as i64;
                if n == 0 {
                    continue;
                }
                let height = (n * plot / max).max(1);
                y -= height;
                out.push_str(&format!(
                    "<rect class=\"bar\" data-hour=\"{h}\" data-outcome=\"{}\" x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{height}\" fill=\"{}\"><title>{n} {}</title></rect>",
                    outcome.label(),
                    x + 2,
                    bar_w - 4,
                    outcome.color(),
                    outcome.label()
                ));
            }
            if h % 3 == 0 {
                let hour = (self.start_ms + h as i64 * HOUR_MS).div_euclid(HOUR_MS) % 24;
                out.push_str(&format!(
                    "<text x=\"{}\" y=\"{}\" font-size=\"10\">{hour:02}:00</text>",
                    x + 2,
                    TOP + plot + 14
                ));
            }
        }
        out.push_str(&format!(
            "<line x1=\"0\" y1=\"{0}\" x2=\"{W}\" y2=\"{0}\" stroke=\"#999\"/>",
            TOP + plot
        ));
        for (i, outcome) in Outcome::ALL.iter().enumerate() {
            let x = i as i64 * 120;
            out.push_str(&format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>",
                H + 2,
                outcome.color(),
                x + 14,
                H + 11,
                outcome.label()
            ));
        }
        out.push_str("</svg>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_600_000_000 + 25 * 60_000; // some hour + 25 minutes

    #[test]
    fn calls_fall_in_their_hour_and_older_ones_are_left_out() {
        let mut b = Buckets::new(NOW);
        assert!(b.add(NOW, Outcome::Completed), "now: the last bucket");
        assert!(b.add(NOW - HOUR_MS, Outcome::Busy));
        assert!(
            b.add(b.start_ms, Outcome::Failed),
            "the oldest hour's first instant"
        );
        assert!(!b.add(b.start_ms - 1, Outcome::Failed), "25 h ago is out");
        assert!(
            !b.add(NOW + HOUR_MS, Outcome::Completed),
            "the future is out"
        );
        assert_eq!(b.counts[HOURS - 1][0], 1);
        assert_eq!(b.counts[HOURS - 2][1], 1);
        assert_eq!(b.counts[0][3], 1);
        assert_eq!(b.total(), 3);
        assert_eq!(b.start_ms % HOUR_MS, 0);
        assert!(NOW - b.start_ms < 24 * HOUR_MS);
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(Outcome::of("COMPLETED"), Outcome::Completed);
        assert_eq!(Outcome::of("no_answer"), Outcome::NoAnswer);
        assert_eq!(Outcome::of("NO ANSWER"), Outcome::NoAnswer);
        assert_eq!(Outcome::of("BUSY"), Outcome::Busy);
        assert_eq!(Outcome::of("FAILED"), Outcome::Failed);
        assert_eq!(Outcome::of("???"), Outcome::Other);
    }

    #[test]
    fn the_svg_has_one_bar_per_hour_and_outcome_with_its_count() {
        let mut b = Buckets::new(NOW);
        for _ in 0..3 {
            b.add(NOW, Outcome::Completed);
        }
        b.add(NOW, Outcome::Busy);
        let svg = b.svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
        assert!(svg.contains("data-hour=\"23\" data-outcome=\"completed\""));
        assert!(svg.contains("<title>3 completed</title>"));
        assert!(svg.contains("<title>1 busy</title>"));
        assert!(!svg.contains("<script"));
        assert_eq!(Buckets::new(NOW).svg().matches("class=\"bar\"").count(), 0);
    }
}
