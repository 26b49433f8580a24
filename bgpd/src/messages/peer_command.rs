//! What the daemon, the listener, the RIB and the session itself tell a session task
//! (`peer/session.rs`). The queue is unbounded: commands are few, and the session's
//! supervisor (`peer/supervisor.rs`) owns the receiver and forwards them to the running
//! session.
use bgp_core::wire::{Notification, RouteRefresh};
use tokio::net::TcpStream;

use super::SessionParams;

/// One command for a session.
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
