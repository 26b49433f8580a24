//! Introspection for `bgpctl show routes [PREFIX] --explain`: every path of a prefix, which
//! is best, which are in the ECMP set, and for each other path the decision step it lost at.
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::attrs::Attrs;
use super::decision::{self, Step};
use super::path::{Dest, BEST, SELECTED, STALE};
use super::prefix::{PrefixKey, V4, V6};
use super::{FamilyKey, FibChange, PeerId, Rib};
use crate::wire::Family;

/// One path of a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathView {
    /// `None` for a locally originated route.
    pub peer: Option<PeerId>,
    pub peer_address: Option<IpAddr>,
    pub path_id: u32,
    pub attrs: Arc<Attrs>,
    pub best: bool,
    /// In the ECMP set installed in the kernel.
    pub multipath: bool,
    pub stale: bool,
    /// IGP cost to the next hop, when the resolver knows it.
    pub igp_cost: Option<u32>,
    /// Why it is not the best path (`None` for the best).
    pub lost: Option<Step>,
}

/// All paths of one prefix, best first, then the others from the closest to winning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteExplain {
    pub prefix: IpNet,
    pub paths: Vec<PathView>,
}

impl Rib {
    /// The paths of exactly `prefix` and the decision explained; `None` if none is stored.
    pub fn explain(&self, prefix: &IpNet) -> Option<RouteExplain> {
        let prefix = prefix.trunc();
        let dest = match prefix {
            IpNet::V4(_) => self.v4.dests.get(&V4::from_net(&prefix)?),
            IpNet::V6(_) => self.v6.dests.get(&V6::from_net(&prefix)?),
        }?;
        Some(RouteExplain { prefix, paths: self.views(dest) })
    }

    fn views(&self, dest: &Dest) -> Vec<PathView> {
        let mut paths = dest.paths().to_vec();
        let ctx = self.sh.context();
        let mut cands = Vec::new();
        decision::decide(&mut paths, &ctx, &mut cands);
        let mut views: Vec<PathView> = cands
            .iter()
            .filter_map(|c| paths.get(c.index).map(|p| (p, c)))
            .map(|(p, c)| {
                let peer = self.sh.peer(p.slot).filter(|_| !p.is_local());
                PathView {
                    peer: peer.map(|s| s.id),
                    peer_address: peer.map(|s| s.info.address),
                    path_id: p.path_id,
                    attrs: p.attrs.clone(),
                    best: p.has(BEST),
                    multipath: p.has(SELECTED),
                    stale: p.has(STALE),
                    igp_cost: c.igp_cost,
                    lost: c.lost,
                }
            })
            .collect();
        // Best, then ECMP members, then losers by how far they got (a later step first).
        views.sort_by_key(|v| (!v.best, !v.multipath, std::cmp::Reverse(v.lost)));
        views
    }

    /// Prefixes stored for `family`, sorted.
    pub fn prefixes(&self, family: Family) -> Vec<IpNet> {
        let mut list: Vec<IpNet> = match family {
            Family::IPV4_UNICAST => self.v4.dests.keys().map(|k| k.net()).collect(),
            Family::IPV6_UNICAST => self.v6.dests.keys().map(|k| k.net()).collect(),
            _ => Vec::new(),
        };
        list.sort_unstable();
        list
    }

    /// The kernel next hops of `prefix` now (empty: none, or locally originated).
    pub fn fib_next_hops(&self, prefix: &IpNet) -> Vec<IpAddr> {
        let dest = match prefix.trunc() {
            p @ IpNet::V4(_) => V4::from_net(&p).and_then(|k| self.v4.dests.get(&k)),
            p @ IpNet::V6(_) => V6::from_net(&p).and_then(|k| self.v6.dests.get(&k)),
        };
        dest.map_or_else(Vec::new, fib_of)
    }

    /// Every prefix with kernel next hops (for route-sync's reconciliation at start-up).
    pub fn fib_table(&self) -> Vec<FibChange> {
        let mut out = Vec::new();
        collect_fib::<V4>(self, &mut out);
        collect_fib::<V6>(self, &mut out);
        out
    }
}

fn fib_of(dest: &Dest) -> Vec<IpAddr> {
    let mut hops: Vec<IpAddr> =
        dest.paths().iter().filter(|p| p.has(SELECTED)).map(|p| p.attrs.next_hop_addr()).collect();
    hops.sort_unstable();
    hops.dedup();
    hops
}

fn collect_fib<K: FamilyKey>(rib: &Rib, out: &mut Vec<FibChange>) {
    for (key, dest) in &K::table(rib).dests {
        let next_hops = fib_of(dest);
        if !next_hops.is_empty() {
            out.push(FibChange { prefix: key.net(), next_hops });
        }
    }
}
