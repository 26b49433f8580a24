//! Liveness and readiness, as `/healthz` and `/readyz` report them.
//!
//! Liveness: the daemon loop and the RIB loop each stamp a heartbeat every second; the process
//! is healthy while both stamps are fresh. Readiness (Calico's `bird-ready` is the reference):
//! every enabled neighbour is Established, or start-up has run past the bound after which we
//! stop waiting for the ones that are not; and the kernel has been brought in sync.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A neighbour still down this long after start no longer holds readiness back.
pub const READY_WAIT_BOUND: Duration = Duration::from_secs(60);
/// A heartbeat older than this means the loop is stuck.
const STALE_AFTER: Duration = Duration::from_secs(10);
/// `/readyz` names at most this many of the neighbours it waits for.
const WAITING_NAMED: usize = 5;

pub struct Health {
    started: Instant,
    daemon_beat: AtomicU64,
    rib_beat: AtomicU64,
    /// Enabled neighbours not Established yet, as the daemon loop last counted them; `None`
    /// until it has counted once. See [`Health::set_waiting_for`].
    sessions_waiting: Mutex<Option<Vec<String>>>,
    /// The kernel FIB has been brought in line with the RIB once (or kernel sync is off).
    pub kernel_in_sync: AtomicBool,
    /// Routes waiting for a kernel request to be sent or retried (set by the daemon loop),
    /// named by `/readyz` while the kernel is not in sync.
    pub kernel_pending: AtomicU64,
    /// A task the daemon cannot run without failed (daemon/supervise.rs): what and how.
    failed: Mutex<Option<String>>,
}

impl Health {
    pub fn new() -> Health {
        Health {
            started: Instant::now(),
            daemon_beat: AtomicU64::new(0),
            rib_beat: AtomicU64::new(0),
            sessions_waiting: Mutex::new(None),
            kernel_in_sync: AtomicBool::new(false),
            kernel_pending: AtomicU64::new(0),
            failed: Mutex::new(None),
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

    /// A critical task failed (`what`: `rib panicked: ...`): not live from now on, while the
    /// daemon shuts down to exit.
    pub fn set_failed(&self, what: String) {
        *self.failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(what);
    }

    /// `Err(reason)` when a critical task failed or a loop has not turned recently.
    pub fn live(&self) -> Result<(), String> {
        if let Some(what) = self.failed.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            return Err(format!("failed: {what}"));
        }
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

    /// The daemon loop's count: the enabled neighbours that are not Established (empty: every
    /// one is), in the order `/readyz` names them.
    pub fn set_waiting_for(&self, neighbours: Vec<String>) {
        *self.sessions_waiting.lock().unwrap_or_else(PoisonError::into_inner) = Some(neighbours);
    }

    /// Why the sessions hold readiness back, naming the neighbours; `None` when they do not.
    fn sessions_missing(&self) -> Option<String> {
        let waiting = self.sessions_waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let names = match waiting.as_deref() {
            None => return Some("waiting for neighbours to establish".to_string()),
            Some([]) => return None,
            Some(names) => names,
        };
        let mut text = format!(
            "waiting for neighbours to establish: {}",
            names.iter().take(WAITING_NAMED).map(String::as_str).collect::<Vec<_>>().join(", ")
        );
        if names.len() > WAITING_NAMED {
            text.push_str(&format!(" (+{} more)", names.len() - WAITING_NAMED));
        }
        Some(text)
    }

    pub fn ready(&self) -> Result<(), String> {
        self.live()?;
        if !self.kernel_in_sync.load(Ordering::Relaxed) {
            return Err(match self.kernel_pending.load(Ordering::Relaxed) {
                0 => "kernel routes not in sync yet".to_string(),
                n => format!("kernel routes not in sync yet: {n} routes waiting to be installed"),
            });
        }
        if self.started.elapsed() < READY_WAIT_BOUND {
            if let Some(missing) = self.sessions_missing() {
                return Err(missing);
            }
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
        assert_eq!(h.ready().unwrap_err(), "kernel routes not in sync yet");
        h.kernel_pending.store(12, Ordering::Relaxed);
        assert_eq!(
            h.ready().unwrap_err(),
            "kernel routes not in sync yet: 12 routes waiting to be installed"
        );
        h.kernel_in_sync.store(true, Ordering::Relaxed);
        assert!(h.ready().unwrap_err().contains("neighbours"));
        h.set_waiting_for(vec![]);
        assert!(h.ready().is_ok());
    }

    #[test]
    fn readiness_names_the_neighbours_it_waits_for() {
        let h = Health::new();
        h.daemon_beat();
        h.rib_beat();
        h.kernel_in_sync.store(true, Ordering::Relaxed);
        h.set_waiting_for(vec!["198.18.0.2".into(), "198.18.0.3".into()]);
        assert_eq!(
            h.ready().unwrap_err(),
            "waiting for neighbours to establish: 198.18.0.2, 198.18.0.3"
        );
        h.set_waiting_for((1..=8).map(|i| format!("198.18.0.{i}")).collect());
        let e = h.ready().unwrap_err();
        assert!(e.ends_with("198.18.0.4, 198.18.0.5 (+3 more)"), "{e}");
        h.set_waiting_for(vec![]);
        assert!(h.ready().is_ok());
    }
}
