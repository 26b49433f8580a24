//! Sessions with configured neighbours: one task per peer (session.rs) running the FSM over
//! TCP, the listener that hands accepted connections to them, and their socket options.
//! Sessions take [`PeerCommand`]s and send the RIB [`RibInput`]s (`crate::messages`).
pub mod connection;
pub mod listener;
pub mod params;
mod prefix_limit;
pub mod session;
pub mod socket;
pub mod source_limit;
pub mod status;
pub mod supervisor;
pub mod timers;
pub mod views;
pub mod writer;

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::messages::{PeerCommand, RibInput};
use crate::metrics::Metrics;
use session::{Session, SessionParams};
use status::SharedStatus;

/// The daemon's handle on one session task.
pub struct PeerHandle {
    pub params: SessionParams,
    pub commands: mpsc::UnboundedSender<PeerCommand>,
    pub status: SharedStatus,
    pub task: JoinHandle<()>,
}

impl PeerHandle {
    pub fn spawn(
        params: SessionParams,
        rib: mpsc::Sender<RibInput>,
        metrics: Arc<Metrics>,
    ) -> PeerHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let status = SharedStatus::new(params.neighbor.shutdown);
        // Each incarnation of the session (supervisor.rs restarts one that panics).
        let start = {
            let (tx, rib, status, metrics) =
                (tx.clone(), rib.clone(), status.clone(), metrics.clone());
            move |params: SessionParams, rx| {
                let session = Session::new(
                    params,
                    rx,
                    tx.clone(),
                    rib.clone(),
                    status.clone(),
                    metrics.clone(),
                );
                session.run()
            }
        };
        let ctx = supervisor::Supervised { rib, status: status.clone(), metrics };
        let task = tokio::spawn(supervisor::supervise(params.clone(), rx, start, ctx));
        PeerHandle { params, commands: tx, status, task }
    }

    pub fn send(&self, cmd: PeerCommand) {
        let _ = self.commands.send(cmd);
    }
}
