//! What a session shows to `bgpctl show neighbors`, `/readyz` and the metrics, shared between
//! the session task (writer) and the control/HTTP tasks (readers).
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bgp_core::fsm::State;
use serde::Serialize;

use super::prefix_limit::PrefixHoldState;

#[derive(Debug)]
pub struct PeerStatus {
    pub state: State,
    /// When `state` was entered.
    pub since: Instant,
    pub established_at: Option<Instant>,
    pub established_count: u64,
    pub last_error: Option<String>,
    /// Administratively down (`shutdown: true` or `bgpctl neighbor X shutdown`).
    pub admin_down: bool,
    /// The session gave up for now (e.g. maximum prefixes reached without restart timer).
    pub given_up: bool,
    /// Negotiated session parameters while Established (for `show neighbor`).
    pub negotiated: Option<NegotiatedView>,
    pub messages_in: u64,
    pub messages_out: u64,
    /// The maximum-prefix hold (prefix_limit.rs): kept here so it outlives a session task.
    pub prefix_hold: PrefixHoldState,
}

/// The negotiated parameters, as shown to operators.
#[derive(Clone, Debug, Serialize)]
pub struct NegotiatedView {
    pub peer_as: u32,
    pub peer_router_id: String,
    pub hold_time: u16,
    pub keepalive_secs: u64,
    pub families: Vec<String>,
    pub four_octet_as: bool,
    pub route_refresh: bool,
    pub graceful_restart: bool,
    pub extended_message: bool,
    pub add_path_rx: Vec<String>,
    pub add_path_tx: Vec<String>,
    pub peer_hostname: Option<String>,
    pub local_address: String,
    pub remote_port: u16,
}

impl PeerStatus {
    pub fn new(admin_down: bool) -> Self {
        PeerStatus {
            state: State::Idle,
            since: Instant::now(),
            established_at: None,
            established_count: 0,
            last_error: None,
            admin_down,
            given_up: false,
            negotiated: None,
            messages_in: 0,
            messages_out: 0,
            prefix_hold: PrefixHoldState::default(),
        }
    }

    /// The session task died (supervisor.rs): whatever connection it had is gone, so nothing
    /// may keep showing it as up (`/readyz`, `bgpctl show neighbors`, the uptime gauge).
    pub fn task_died(&mut self) {
        self.state = State::Idle;
        self.since = Instant::now();
        self.established_at = None;
        self.negotiated = None;
    }

    pub fn uptime_secs(&self) -> u64 {
        self.established_at.map(|t| t.elapsed().as_secs()).unwrap_or(0)
    }
}

/// Shared handle; the lock is held only for field reads/writes, never across an await.
#[derive(Clone, Debug)]
pub struct SharedStatus(Arc<Mutex<PeerStatus>>);

impl SharedStatus {
    pub fn new(admin_down: bool) -> Self {
        SharedStatus(Arc::new(Mutex::new(PeerStatus::new(admin_down))))
    }

    pub fn lock(&self) -> MutexGuard<'_, PeerStatus> {
        // A poisoned lock only means a panic elsewhere while writing plain fields.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
