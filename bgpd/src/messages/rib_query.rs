//! Questions the daemon asks the RIB owner task for `bgpctl` ([`super::RibInput::Query`]).
use std::net::IpAddr;

use ipnet::IpNet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// `bgpctl show routes`: the contract's route objects.
    Routes {
        prefix: Option<IpNet>,
        received_from: Option<IpAddr>,
        advertised_to: Option<IpAddr>,
        explain: bool,
    },
    /// `bgpctl show nexthops`: every next hop the RIB's paths use, and how it is reached.
    NextHops,
    /// Per-neighbour prefix counts: `{"ADDR": {"received": n, "accepted": n, "advertised": n}}`.
    PeerCounts,
}

/// Answers are JSON, ready for the control socket.
pub type QueryAnswer = serde_json::Value;
