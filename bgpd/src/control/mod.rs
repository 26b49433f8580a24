//! The control socket that `bgpctl` talks to.
pub mod protocol;
pub mod server;
