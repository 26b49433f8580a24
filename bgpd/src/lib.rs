//! bgpd: the daemon. Config, per-peer sessions, the RIB owner task, kernel sync glue, the
//! control socket and the metrics/health endpoints. `bgpd` and `bgpctl` are thin binaries on
//! top of this library.
//!
//! The tasks and what they send each other: [`messages`]. A session (`peer/`) and the RIB
//! owner task (`routing/`) know each other only through those messages.

pub mod bgpctl;
pub mod config;
pub mod control;
pub mod daemon;
pub mod datastore;
pub mod decode;
pub mod fd_limit;
pub mod health;
pub mod http;
pub mod log_limit;
pub mod logging;
pub mod messages;
pub mod metrics;
pub mod peer;
pub mod routing;
