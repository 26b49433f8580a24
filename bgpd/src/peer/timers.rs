//! The FSM's timers (RFC 4271 §8.1.3 / §10) as deadlines the session task sleeps on.
//!
//! The FSM never reads a clock: it asks for `StartTimer(kind, duration)` / `StopTimer(kind)`,
//! and the session feeds `Event::timer_expired(kind)` back when a deadline passes.
use std::time::Duration;

use bgp_core::fsm::TimerKind;
use tokio::time::Instant;

/// How many kinds of timer the FSM has.
const KINDS: usize = TimerKind::ALL.len();

/// `kind`'s place in [`TimerKind::ALL`], and in [`Timers::deadlines`].
fn slot(kind: TimerKind) -> usize {
    TimerKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// At most one deadline per timer kind.
#[derive(Debug, Default)]
pub struct Timers {
    /// Indexed like [`TimerKind::ALL`].
    deadlines: [Option<Instant>; KINDS],
}

impl Timers {
    pub fn start(&mut self, kind: TimerKind, after: Duration) {
        self.deadlines[slot(kind)] = Some(Instant::now() + after);
    }

    pub fn stop(&mut self, kind: TimerKind) {
        self.deadlines[slot(kind)] = None;
    }

    pub fn stop_all(&mut self) {
        self.deadlines = [None; KINDS];
    }

    pub fn is_running(&self, kind: TimerKind) -> bool {
        self.deadlines[slot(kind)].is_some()
    }

    /// The earliest deadline and its timer, if any runs.
    pub fn next(&self) -> Option<(Instant, TimerKind)> {
        self.deadlines
            .iter()
            .zip(TimerKind::ALL)
            .filter_map(|(d, k)| d.map(|d| (d, k)))
            .min_by_key(|(d, _)| *d)
    }

    /// Take the earliest timer if it has expired by `now`.
    pub fn take_expired(&mut self, now: Instant) -> Option<TimerKind> {
        let (deadline, kind) = self.next()?;
        if deadline <= now {
            self.stop(kind);
            Some(kind)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn earliest_timer_expires_first() {
        let mut t = Timers::default();
        t.start(TimerKind::Hold, Duration::from_secs(9));
        t.start(TimerKind::Keepalive, Duration::from_secs(3));
        assert_eq!(t.next().map(|(_, k)| k), Some(TimerKind::Keepalive));
        assert_eq!(t.take_expired(Instant::now()), None);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(t.take_expired(Instant::now()), Some(TimerKind::Keepalive));
        assert!(!t.is_running(TimerKind::Keepalive));
        assert!(t.is_running(TimerKind::Hold));
        t.stop_all();
        assert!(t.next().is_none());
    }
}
