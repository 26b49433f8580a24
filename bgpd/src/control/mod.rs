//! The control socket that `bgpctl` talks to: its protocol (one JSON request per line, one
//! JSON response per line), the daemon's server, and the client. The daemon's answers to
//! the requests are in `daemon/requests.rs`; `bgpctl`'s commands and tables in `bgpctl/`.
pub mod client;
pub mod protocol;
pub mod server;
