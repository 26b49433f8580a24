//! Next-hop resolution for the decision process (RFC 4271 §9.1.2) from route-sync's view of
//! the connected networks and the main table's other routes (cost: 0 connected, else the
//! metric of the route that reaches the next hop).
use std::net::IpAddr;

use bgp_core::rib::{NextHopResolver, Resolution};
use route_sync::RouteSync;

pub struct KernelResolver(pub RouteSync);

impl NextHopResolver for KernelResolver {
    fn resolve(&self, next_hop: IpAddr) -> Resolution {
        match self.0.next_hop_cost(next_hop) {
            Some(cost) => Resolution::Reachable { igp_cost: Some(cost) },
            None => Resolution::Unreachable,
        }
    }
}
