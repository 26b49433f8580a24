//! A `bgpctl` request, passed by the control server (`control/server.rs`) to the daemon's
//! main loop, which answers it (`daemon/requests.rs`). The queue is bounded: a flood of
//! requests waits in the server's connection tasks, not in memory of the main loop.
use tokio::sync::oneshot;

use crate::control::protocol::{Request, Response};

/// One request and where its answer goes.
#[derive(Debug)]
pub struct ControlRequest {
    pub request: Request,
    /// The connection task waits here; a dropped sender answers "no answer".
    pub reply: oneshot::Sender<Response>,
}
