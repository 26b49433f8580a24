//! Sessions with configured neighbours: one task per peer (session.rs) running the FSM over
//! TCP, the listener that hands accepted connections to them, and their socket options.
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

use bgp_core::wire::{Notification, RouteRefresh};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::routing::input::RibInput;
use session::{Session, SessionParams};
use status::SharedStatus;

/// What the daemon, the listener and the RIB tell a session.
#[derive(Debug)]
pub enum PeerCommand {
    /// Administrative start (RFC 4271 event 1/4), e.g. `bgpctl neighbor X enable`.
    Start,
    /// Administrative stop: Cease with `subcode` and an RFC 8203 message; stays down.
    Stop { subcode: u8, message: String },
    /// Stop (Cease `subcode`) and start again.
    Reset { subcode: u8, message: String },
    /// The `restart_after` timer of maximum-prefix teardown number `hold` expired: start the
    /// session again if that teardown still holds it down (not an operator's shutdown since).
    RestartAfterPrefixLimit { hold: u64 },
    /// The local system stops the session with this NOTIFICATION and restarts it after the
    /// idle-hold back-off (RFC 4271 event 8), e.g. maximum prefixes reached.
    AutomaticStop(Notification),
    /// A connection from this neighbour's address, accepted by the listener.
    Incoming(TcpStream),
    /// New parameters that need no session reset.
    Reconfigure(Box<SessionParams>),
    /// Ask the peer to re-send its routes (RFC 2918).
    SendRouteRefresh(RouteRefresh),
    /// The daemon is stopping: `graceful` keeps the peer's copy of our routes (RFC 4724).
    Exit { graceful: bool },
}

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
