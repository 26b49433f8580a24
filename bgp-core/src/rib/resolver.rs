//! Next-hop resolution for the decision process.
//!
//! RFC 4271 §9.1.2: "If the NEXT_HOP attribute of a BGP route depicts an address that is not
//! resolvable, or if it would become unresolvable if the route was installed in the routing
//! table, the BGP route MUST be excluded from the Phase 2 decision function." The RIB asks a
//! [`NextHopResolver`] the daemon supplies (from its view of connected networks and the
//! kernel table); [`AllReachable`] is the default.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
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

/// The resolver behind a cache of its answers for the next hops the decision process asked
/// about (BIRD's host cache, FRR's next-hop tracking). The decision reads the cache, so it
/// stays consistent with what [`NextHopCache::revalidate`] compares against: when the
/// daemon's view of the network changes, only next hops whose answer changed are re-decided,
/// including those of paths that lost because their next hop was unreachable.
pub(crate) struct NextHopCache {
    resolver: Box<dyn NextHopResolver>,
    answers: RefCell<HashMap<IpAddr, Resolution>>,
    /// The last answer given: a full table arrives in long runs with one next hop.
    last: Cell<Option<(IpAddr, Resolution)>>,
    /// Size after the last prune; the next runs when the cache has doubled since.
    pruned_at: usize,
}

impl NextHopCache {
    pub(crate) fn new(resolver: Box<dyn NextHopResolver>) -> Self {
        NextHopCache { resolver, answers: RefCell::default(), last: Cell::new(None), pruned_at: 0 }
    }

    #[inline]
    pub(crate) fn resolve(&self, next_hop: IpAddr) -> Resolution {
        if let Some((nh, r)) = self.last.get() {
            if nh == next_hop {
                return r;
            }
        }
        let r = *self
            .answers
            .borrow_mut()
            .entry(next_hop)
            .or_insert_with(|| self.resolver.resolve(next_hop));
        self.last.set(Some((next_hop, r)));
        r
    }

    /// Asks the resolver again for every cached next hop still `in_use` (sorted) and forgets
    /// the others. Returns the next hops whose answer changed.
    pub(crate) fn revalidate(&mut self, in_use: &[IpAddr]) -> Vec<IpAddr> {
        self.prune(in_use);
        let mut changed = Vec::new();
        for (nh, old) in self.answers.get_mut().iter_mut() {
            let now = self.resolver.resolve(*nh);
            if now != *old {
                *old = now;
                changed.push(*nh);
            }
        }
        changed.sort_unstable();
        changed
    }

    /// Forgets the answers for `next_hops` (the daemon says they changed).
    pub(crate) fn forget(&mut self, next_hops: &[IpAddr]) {
        self.last.set(None);
        let answers = self.answers.get_mut();
        for nh in next_hops {
            answers.remove(nh);
        }
    }

    /// Whether enough next hops were cached since the last prune for a prune (which needs
    /// the list of next hops in use) to pay for itself.
    pub(crate) fn wants_prune(&self) -> bool {
        self.answers.borrow().len() > 2 * self.pruned_at + 1024
    }

    #[cfg(test)]
    pub(crate) fn cached(&self) -> usize {
        self.answers.borrow().len()
    }

    /// Forgets the next hops no longer `in_use` (sorted).
    pub(crate) fn prune(&mut self, in_use: &[IpAddr]) {
        self.last.set(None);
        let answers = self.answers.get_mut();
        answers.retain(|nh, _| in_use.binary_search(nh).is_ok());
        self.pruned_at = answers.len();
    }
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
