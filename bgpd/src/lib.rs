//! bgpd: the daemon. Config, per-peer sessions, the RIB owner task, kernel sync glue, the
//! control socket and the metrics/health endpoints. `bgpd` and `bgpctl` are thin binaries on
//! top of this library.

pub mod config;
pub mod control;
pub mod ctl;
pub mod daemon;
pub mod datastore;
pub mod decode;
pub mod fd_limit;
pub mod health;
pub mod http;
pub mod log_limit;
pub mod logging;
pub mod metrics;
pub mod peer;
pub mod routing;
