//! The hold a maximum-prefix teardown puts on a session (RFC 4486 Cease / Maximum Number of
//! Prefixes Reached) and its `restart_after` timer.
//!
//! The RIB stops the session with `Stop { subcode: CEASE_MAX_PREFIXES }`; with
//! `max_prefixes.restart_after` the session arms a timer that sends it
//! [`PeerCommand::RestartAfterPrefixLimit`]. The restart happens only if that very hold is
//! still the reason the session is down: an operator's `bgpctl neighbor X shutdown` (or
//! enable, reset, a later teardown) meanwhile replaces the hold, and the operator's word wins.
//!
//! The hold lives in the neighbour's [`SharedStatus`], not in the session task: when a session
//! task panics and the supervisor starts a new incarnation (supervisor.rs), the hold, its
//! number and its timer carry over, so the old timer still releases exactly that hold.
use std::time::Duration;

use bgp_core::wire::notification::codes;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tracing::info;

use super::status::SharedStatus;
use crate::messages::PeerCommand;

/// Which maximum-prefix teardown, if any, holds the session down (kept in the shared status).
#[derive(Debug, Default)]
pub struct PrefixHoldState {
    /// Teardowns so far: each arms its own timer, carrying its number.
    count: u64,
    /// The teardown holding the session down now.
    holding: Option<u64>,
    /// The `restart_after` timer of that teardown, aborted when the hold ends.
    timer: Option<AbortHandle>,
}

impl PrefixHoldState {
    /// Whether a maximum-prefix teardown (not the operator) holds the session down.
    pub fn held_by_max_prefix(&self) -> bool {
        self.holding.is_some()
    }

    /// No hold any more: its timer, if any, is cancelled.
    fn release(&mut self) {
        self.holding = None;
        if let Some(timer) = self.timer.take() {
            timer.abort();
        }
    }
}

/// A session's view of its neighbour's hold.
#[derive(Debug)]
pub struct PrefixLimitHold {
    status: SharedStatus,
}

impl PrefixLimitHold {
    pub fn shared(status: SharedStatus) -> Self {
        PrefixLimitHold { status }
    }

    /// The session was stopped with Cease `subcode`. A maximum-prefix stop takes the hold
    /// and, with `restart_after`, arms the restart; any other stop (the operator's) drops it.
    pub fn stopped(
        &mut self,
        subcode: u8,
        restart_after: Option<u32>,
        commands: &mpsc::UnboundedSender<PeerCommand>,
    ) {
        let mut st = self.status.lock();
        let state = &mut st.prefix_hold;
        state.release();
        if subcode != codes::CEASE_MAX_PREFIXES {
            return;
        }
        state.count += 1;
        let hold = state.count;
        state.holding = Some(hold);
        if let Some(after) = restart_after {
            let commands = commands.clone();
            let timer = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(u64::from(after))).await;
                let _ = commands.send(PeerCommand::RestartAfterPrefixLimit { hold });
            });
            state.timer = Some(timer.abort_handle());
        }
    }

    /// The session was started (by the operator, a reset or a restart): no hold any more.
    pub fn started(&mut self) {
        self.status.lock().prefix_hold.release();
    }

    /// Whether the restart timer of teardown `hold` may start the session: only if that
    /// teardown still holds it down.
    pub fn restart_due(&self, hold: u64) -> bool {
        let due = self.status.lock().prefix_hold.holding == Some(hold);
        if !due {
            info!(hold, "maximum-prefix restart timer fired after an operator command: staying as the operator left it");
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bgp_core::fsm::State;
    use tokio::sync::mpsc;

    use super::*;
    use crate::metrics::Metrics;
    use crate::peer::PeerHandle;

    /// A passive session (it never dials) with `max_prefixes.restart_after: 60`.
    fn session() -> (PeerHandle, mpsc::Receiver<crate::messages::RibInput>) {
        let text = "router_id: 198.18.0.1\nlocal_as: 64512\nneighbors:\n  - address: 198.18.0.2\n    remote_as: 64512\n    passive: true\n    max_prefixes: {limit: 10, restart_after: 60}\n";
        let config = crate::config::parse(text, "bgpd.yaml").unwrap();
        let params = crate::peer::params::session_params(&config, &config.neighbors[0], false);
        let (rib, rib_rx) = mpsc::channel(16);
        (PeerHandle::spawn(params, rib, Arc::new(Metrics::new())), rib_rx)
    }

    fn limit_teardown(peer: &PeerHandle) {
        peer.send(PeerCommand::Stop { subcode: codes::CEASE_MAX_PREFIXES, message: String::new() });
    }

    fn state(peer: &PeerHandle) -> (State, bool) {
        let st = peer.status.lock();
        (st.state, st.admin_down)
    }

    #[tokio::test(start_paused = true)]
    async fn restart_after_starts_the_session_again() {
        let (peer, _rib) = session();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(state(&peer), (State::Active, false), "passive: waiting for the peer");
        limit_teardown(&peer);
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert_eq!(state(&peer), (State::Idle, true));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(state(&peer), (State::Active, false), "restarted after 60 s");
    }

    #[tokio::test(start_paused = true)]
    async fn an_operator_shutdown_after_the_teardown_wins_over_restart_after() {
        let (peer, _rib) = session();
        tokio::time::sleep(Duration::from_secs(1)).await;
        limit_teardown(&peer);
        tokio::time::sleep(Duration::from_secs(10)).await;
        // `bgpctl neighbor 198.18.0.2 shutdown`
        peer.send(PeerCommand::Stop {
            subcode: codes::CEASE_ADMIN_SHUTDOWN,
            message: "maintenance".into(),
        });
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(state(&peer), (State::Idle, true), "still shut down");
    }

    #[tokio::test(start_paused = true)]
    async fn the_timer_of_an_earlier_teardown_does_not_cut_a_later_hold_short() {
        let (peer, _rib) = session();
        tokio::time::sleep(Duration::from_secs(1)).await;
        limit_teardown(&peer);
        tokio::time::sleep(Duration::from_secs(10)).await;
        peer.send(PeerCommand::Stop {
            subcode: codes::CEASE_ADMIN_SHUTDOWN,
            message: String::new(),
        });
        peer.send(PeerCommand::Start);
        tokio::time::sleep(Duration::from_secs(10)).await;
        limit_teardown(&peer); // at 21 s: its own timer fires at 81 s
        tokio::time::sleep(Duration::from_secs(50)).await; // 71 s: the first timer has fired
        assert_eq!(state(&peer), (State::Idle, true));
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_eq!(state(&peer).0, State::Active);
    }

    /// The `restart_after` timer of a hold that ended is cancelled, not left to fire.
    #[tokio::test(start_paused = true)]
    async fn the_timer_of_a_released_hold_is_aborted() {
        let status = crate::peer::status::SharedStatus::new(false);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut hold = PrefixLimitHold::shared(status.clone());
        hold.stopped(codes::CEASE_MAX_PREFIXES, Some(60), &tx);
        assert!(status.lock().prefix_hold.held_by_max_prefix());
        hold.started();
        assert!(!status.lock().prefix_hold.held_by_max_prefix());
        // A later hold replaces (and cancels) the earlier one's timer too.
        hold.stopped(codes::CEASE_MAX_PREFIXES, Some(30), &tx);
        hold.stopped(codes::CEASE_MAX_PREFIXES, Some(60), &tx);
        tokio::time::sleep(Duration::from_secs(120)).await;
        let fired: Vec<String> =
            std::iter::from_fn(|| rx.try_recv().ok()).map(|c| format!("{c:?}")).collect();
        assert_eq!(fired, ["RestartAfterPrefixLimit { hold: 3 }"]);
    }
}
