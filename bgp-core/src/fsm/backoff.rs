//! The idle-hold back-off (RFC 4271 §8.1.1 DampPeerOscillations, left to implementations;
//! modelled on BIRD's `error wait time` / `error forget time`).
use std::time::Duration;

use super::config::IdleHoldConfig;

/// Consecutive session errors, and the wait before the next automatic restart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    errors: u32,
}

impl Backoff {
    /// Count one more error and return the IdleHold delay: `initial`, doubling with every
    /// consecutive error, never above `max`.
    pub fn next_delay(&mut self, config: &IdleHoldConfig) -> Duration {
        self.errors = self.errors.saturating_add(1);
        let shift = (self.errors - 1).min(31);
        config.initial.saturating_mul(1u32 << shift).min(config.max)
    }

    /// Forget the error sequence (ErrorForget timer expired, or ManualStart).
    pub fn reset(&mut self) {
        self.errors = 0;
    }

    /// Consecutive errors counted so far.
    pub fn errors(&self) -> u32 {
        self.errors
    }
}
