//! Rate-limited log lines for events an outsider can repeat at will (refused connections):
//! at most one line per source per interval and a bounded number of lines per interval in
//! all, with the suppressed lines counted and reported, so that a flood costs no disk.
//! Sans-IO: the caller passes the time. The Prometheus counters stay exact; only the log
//! lines are thinned.
use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// What to do with one event's log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it, saying how many lines of this source were suppressed since its last one.
    Log { suppressed: u64 },
    /// Do not log it (it is counted).
    Suppress,
}

/// The decision for one event, and the summary of a finished interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// Lines suppressed in the interval that just ended (log it as a summary), if any.
    pub summary: Option<u64>,
}

struct Source {
    last_logged: Instant,
    suppressed: u64,
}

pub struct LogLimiter<K> {
    interval: Duration,
    lines_per_interval: u32,
    max_sources: usize,
    sources: HashMap<K, Source>,
    window_start: Option<Instant>,
    window_lines: u32,
    window_suppressed: u64,
}

impl<K: Hash + Eq + Copy> LogLimiter<K> {
    /// One line per source per `interval`, `lines_per_interval` in all, `max_sources`
    /// sources remembered.
    pub fn new(interval: Duration, lines_per_interval: u32, max_sources: usize) -> Self {
        LogLimiter {
            interval,
            lines_per_interval,
            max_sources,
            sources: HashMap::new(),
            window_start: None,
            window_lines: 0,
            window_suppressed: 0,
        }
    }

    /// An event from `source` at `now`.
    pub fn check(&mut self, source: K, now: Instant) -> Decision {
        let summary = self.roll_window(now);
        let interval = self.interval;
        if self.sources.len() >= self.max_sources && !self.sources.contains_key(&source) {
            self.sources.retain(|_, s| now.saturating_duration_since(s.last_logged) < interval);
        }
        let budget_left = self.window_lines < self.lines_per_interval;
        let room = self.sources.len() < self.max_sources;
        let verdict = match self.sources.get_mut(&source) {
            Some(s) if now.saturating_duration_since(s.last_logged) < interval || !budget_left => {
                s.suppressed += 1;
                Verdict::Suppress
            }
            Some(s) => {
                s.last_logged = now;
                Verdict::Log { suppressed: std::mem::take(&mut s.suppressed) }
            }
            None if budget_left && room => {
                self.sources.insert(source, Source { last_logged: now, suppressed: 0 });
                Verdict::Log { suppressed: 0 }
            }
            None => Verdict::Suppress,
        };
        match verdict {
            Verdict::Log { .. } => self.window_lines += 1,
            Verdict::Suppress => self.window_suppressed += 1,
        }
        Decision { verdict, summary }
    }

    /// Start a new interval when the current one is over; returns its suppressed count.
    fn roll_window(&mut self, now: Instant) -> Option<u64> {
        let start = *self.window_start.get_or_insert(now);
        if now.saturating_duration_since(start) < self.interval {
            return None;
        }
        self.window_start = Some(now);
        self.window_lines = 0;
        Some(std::mem::take(&mut self.window_suppressed)).filter(|&n| n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn one_line_per_source_per_interval_with_the_suppressed_count() {
        let mut l = LogLimiter::new(MIN, 100, 16);
        let t0 = Instant::now();
        assert_eq!(l.check(1, t0).verdict, Verdict::Log { suppressed: 0 });
        for i in 1..=9 {
            assert_eq!(l.check(1, t0 + Duration::from_secs(i)).verdict, Verdict::Suppress);
        }
        // Another source is not held back by the first.
        assert_eq!(
            l.check(2, t0 + Duration::from_secs(10)).verdict,
            Verdict::Log { suppressed: 0 }
        );
        let next = l.check(1, t0 + MIN);
        assert_eq!(next.verdict, Verdict::Log { suppressed: 9 });
        assert_eq!(next.summary, Some(9), "the finished interval is summarised");
    }

    #[test]
    fn many_sources_share_a_bounded_number_of_lines() {
        let mut l = LogLimiter::new(MIN, 3, 1000);
        let t0 = Instant::now();
        let logged =
            (0..500u32).filter(|&s| matches!(l.check(s, t0).verdict, Verdict::Log { .. })).count();
        assert_eq!(logged, 3);
        let later = l.check(9999, t0 + MIN);
        assert_eq!(later.summary, Some(497));
        assert_eq!(later.verdict, Verdict::Log { suppressed: 0 });
    }

    #[test]
    fn the_source_map_stays_bounded() {
        let mut l = LogLimiter::new(MIN, u32::MAX, 4);
        let t0 = Instant::now();
        for s in 0..100u32 {
            l.check(s, t0 + Duration::from_millis(u64::from(s)));
        }
        assert!(l.sources.len() <= 4);
        // Once the remembered ones are older than the interval, new sources are logged again.
        assert_eq!(l.check(1000, t0 + 2 * MIN).verdict, Verdict::Log { suppressed: 0 });
        assert!(l.sources.len() <= 4);
    }
}
