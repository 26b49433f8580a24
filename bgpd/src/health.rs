//! Liveness and readiness, as `/healthz` and `/readyz` report them.
//!
//! Liveness: the daemon loop and the RIB loop each stamp a heartbeat every second; the process
//! is healthy while both stamps are fresh. Readiness (Calico's `bird-ready` is the reference):
//! every enabled neighbour is Established, or start-up has run past the bound after which we
//! stop waiting for the ones that are not; and the kernel has been brought in sync.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A neighbour still down this long after start no longer holds readiness back.
pub const READY_WAIT_BOUND: Duration = Duration::from_secs(60);
/// A heartbeat older than this means the loop is stuck.
const STALE_AFTER: Duration = Duration::from_secs(10);

pub struct Health {
    started: Instant,
    daemon_beat: AtomicU64,
    rib_beat: AtomicU64,
    /// Every enabled neighbour Established (set by the daemon loop).
    pub sessions_ready: AtomicBool,
    /// The kernel FIB has been brought in line with the RIB once (or kernel sync is off).
    pub kernel_in_sync: AtomicBool,
}

impl Health {
    pub fn new() -> Health {
        Health {
            started: Instant::now(),
            daemon_beat: AtomicU64::new(0),
            rib_beat: AtomicU64::new(0),
            sessions_ready: AtomicBool::new(false),
            kernel_in_sync: AtomicBool::new(false),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn daemon_beat(&self) {
        self.daemon_beat.store(self.now_ms(), Ordering::Relaxed);
    }

    pub fn rib_beat(&self) {
        self.rib_beat.store(self.now_ms(), Ordering::Relaxed);
    }

    /// `Err(reason)` when a loop has not turned recently.
    pub fn live(&self) -> Result<(), String> {
        let now = self.now_ms();
        let stale = STALE_AFTER.as_millis() as u64;
        for (name, beat) in [("daemon", &self.daemon_beat), ("rib", &self.rib_beat)] {
            let last = beat.load(Ordering::Relaxed);
            if now.saturating_sub(last) > stale && self.started.elapsed() > STALE_AFTER {
                return Err(format!("{name} loop has not turned for {} ms", now - last));
            }
        }
        Ok(())
    }

    pub fn ready(&self) -> Result<(), String> {
        self.live()?;
        if !self.kernel_in_sync.load(Ordering::Relaxed) {
            return Err("kernel routes not in sync yet".to_string());
        }
        if !self.sessions_ready.load(Ordering::Relaxed) && self.started.elapsed() < READY_WAIT_BOUND
        {
            return Err("waiting for neighbours to establish".to_string());
        }
        Ok(())
    }
}

impl Default for Health {
    fn default() -> Self {
        Health::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_needs_kernel_and_sessions() {
        let h = Health::new();
        h.daemon_beat();
        h.rib_beat();
        assert!(h.live().is_ok());
        assert!(h.ready().unwrap_err().contains("kernel"));
        h.kernel_in_sync.store(true, Ordering::Relaxed);
        assert!(h.ready().unwrap_err().contains("neighbours"));
        h.sessions_ready.store(true, Ordering::Relaxed);
        assert!(h.ready().is_ok());
    }
}
