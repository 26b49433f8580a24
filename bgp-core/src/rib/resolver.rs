//! Next-hop resolution for the decision process.
//!
//! RFC 4271 §9.1.2: "If the NEXT_HOP attribute of a BGP route depicts an address that is not
//! resolvable, or if it would become unresolvable if the route was installed in the routing
//! table, the BGP route MUST be excluded from the Phase 2 decision function." The RIB asks a
//! [`NextHopResolver`] the daemon supplies (from its view of connected networks and the
//! kernel table); [`AllReachable`] is the default.
use std::net::IpAddr;

use ipnet::IpNet;

/// What the routing table says about a next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Unreachable,
    /// Reachable, with the interior cost to it when known (RFC 4271 §9.1.2.2 e).
    Reachable {
        igp_cost: Option<u32>,
    },
}

pub trait NextHopResolver: Send {
    fn resolve(&self, next_hop: IpAddr) -> Resolution;
}

/// Every next hop is reachable at an unknown cost (directly connected peers).
#[derive(Clone, Copy, Debug, Default)]
pub struct AllReachable;

impl NextHopResolver for AllReachable {
    fn resolve(&self, _: IpAddr) -> Resolution {
        Resolution::Reachable { igp_cost: None }
    }
}

/// Next hops inside one of a set of networks are reachable at that network's cost (the most
/// specific network wins); all others are unreachable. The daemon builds one from its
/// connected networks and IGP routes and installs it with `Rib::set_resolver`.
#[derive(Clone, Debug, Default)]
pub struct ReachableNetworks {
    nets: Vec<(IpNet, Option<u32>)>,
}

impl ReachableNetworks {
    pub fn new(nets: impl IntoIterator<Item = (IpNet, Option<u32>)>) -> Self {
        let mut nets: Vec<_> = nets.into_iter().collect();
        // Most specific first, so the first containing network is the longest match.
        nets.sort_by_key(|n| std::cmp::Reverse(n.0.prefix_len()));
        ReachableNetworks { nets }
    }
}

impl NextHopResolver for ReachableNetworks {
    fn resolve(&self, next_hop: IpAddr) -> Resolution {
        self.nets
            .iter()
            .find(|(net, _)| net.contains(&next_hop))
            .map_or(Resolution::Unreachable, |&(_, igp_cost)| Resolution::Reachable { igp_cost })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_match_wins() {
        let r = ReachableNetworks::new([
            ("198.18.0.0/15".parse().unwrap(), Some(10)),
            ("198.18.1.0/24".parse().unwrap(), Some(1)),
        ]);
        assert_eq!(
            r.resolve("198.18.1.7".parse().unwrap()),
            Resolution::Reachable { igp_cost: Some(1) }
        );
        assert_eq!(
            r.resolve("198.19.0.1".parse().unwrap()),
            Resolution::Reachable { igp_cost: Some(10) }
        );
        assert_eq!(r.resolve("10.0.0.1".parse().unwrap()), Resolution::Unreachable);
    }
}
