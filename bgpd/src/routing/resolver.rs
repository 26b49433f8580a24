//! Next-hop resolution for the decision process (RFC 4271 §9.1.2) from route-sync's view of
//! the connected networks.
use std::net::IpAddr;

use bgp_core::rib::{NextHopResolver, Resolution};
use route_sync::RouteSync;

pub struct KernelResolver(pub RouteSync);

impl NextHopResolver for KernelResolver {
    fn resolve(&self, next_hop: IpAddr) -> Resolution {
        if self.0.is_reachable(next_hop) {
            Resolution::Reachable { igp_cost: None }
        } else {
            Resolution::Unreachable
        }
    }
}
