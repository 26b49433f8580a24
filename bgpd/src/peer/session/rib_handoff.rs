//! The session's side of the hand-off to the RIB (the queue itself: `rib_feed.rs`): queueing
//! an input, and what the session does when the RIB has taken everything that waited (the
//! Hold Timer starts over, buffered messages are decoded again).
use std::time::Duration;

use bgp_core::fsm::TimerKind;
use tracing::debug;

use super::Session;
use crate::messages::RibInput;

impl Session {
    /// Start the Hold Timer over with its current length: negotiated (Established,
    /// OpenConfirm) or the large OpenSent value.
    pub(super) fn restart_hold(&mut self) {
        let hold = match self.fsm.negotiated() {
            Some(n) => Duration::from_secs(u64::from(n.hold_time)),
            None => self.params.fsm.open_hold_time,
        };
        self.timers.start(TimerKind::Hold, hold);
    }

    /// The RIB took everything that waited: give the peer a full Hold Time for what we did
    /// not read meanwhile, and go on with the messages already buffered.
    pub(super) async fn rib_unblocked(&mut self) {
        if self.fsm.timer_running(TimerKind::Hold) {
            self.restart_hold();
        }
        self.drain_frames().await;
    }

    /// Queue `input` for the RIB (see rib_feed.rs); counted when it has to wait.
    pub(super) fn feed_rib(&mut self, input: RibInput) {
        if self.rib.push(input) {
            self.metrics.rib_queue_waits.with_label_values(&[&self.label]).inc();
            debug!(neighbor = %self.label, "RIB queue full: not reading from the peer until it has room");
        }
    }
}
