//! Introspection for `bgpctl show routes [PREFIX] --explain`: every path of a prefix, which
//! is best, which are in the ECMP set, and for each other path the decision step it lost at.
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::Serialize;

use super::attrs::Attrs;
use super::decision::{self, Step};
use super::path::{Dest, BEST, SELECTED, STALE};
use super::prefix::{PrefixKey, V4, V6};
use super::{FamilyKey, FibChange, PeerId, Rib, RibError};
use crate::wire::Family;

/// One path of a prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathView {
    /// `None` for a locally originated route.
    pub peer: Option<PeerId>,
    pub peer_address: Option<IpAddr>,
    pub path_id: u32,
    #[serde(serialize_with = "serialize_attrs")]
    pub attrs: Arc<Attrs>,
    pub best: bool,
    /// In the ECMP set installed in the kernel.
    pub multipath: bool,
    pub stale: bool,
    /// IGP cost to the next hop, when the resolver knows it.
    pub igp_cost: Option<u32>,
    /// Why it is not the best path (`None` for the best).
    pub lost: Option<Step>,
    /// `lost` in words ("lower LOCAL_PREF", "next hop unreachable" ...).
    pub reason: Option<&'static str>,
}

fn serialize_attrs<S: serde::Serializer>(attrs: &Arc<Attrs>, s: S) -> Result<S::Ok, S::Error> {
    attrs.as_ref().serialize(s)
}

/// All paths of one prefix, best first, then the others from the closest to winning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteExplain {
    pub prefix: IpNet,
    pub paths: Vec<PathView>,
}

impl Rib {
    /// The paths of exactly `prefix` and the decision explained; `None` if none is stored.
    pub fn explain(&self, prefix: &IpNet) -> Option<RouteExplain> {
        let prefix = prefix.trunc();
        let dest = match prefix {
            IpNet::V4(_) => self.v4.destinations.get(&V4::from_net(&prefix)?),
            IpNet::V6(_) => self.v6.destinations.get(&V6::from_net(&prefix)?),
        }?;
        Some(RouteExplain { prefix, paths: self.views(dest) })
    }

    fn views(&self, dest: &Dest) -> Vec<PathView> {
        let mut paths = dest.paths().to_vec();
        let ctx = self.shared.context();
        let mut candidates = Vec::new();
        decision::decide(&mut paths, &ctx, &mut candidates);
        let mut views: Vec<PathView> = candidates
            .iter()
            .filter_map(|c| paths.get(c.index).map(|p| (p, c)))
            .map(|(p, c)| {
                let peer = self.shared.peer(p.slot).filter(|_| !p.is_local());
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
                    reason: c.lost.map(Step::describe),
                }
            })
            .collect();
        // Best, then ECMP members, then losers by how far they got (a later step first).
        views.sort_by_key(|v| (!v.best, !v.multipath, std::cmp::Reverse(v.lost)));
        views
    }

    /// `bgpctl show routes [PREFIX]`: every prefix (or only `prefix`) with its paths
    /// explained, sorted by prefix.
    pub fn routes(&self, prefix: Option<&IpNet>) -> Vec<RouteExplain> {
        if let Some(p) = prefix {
            return self.explain(p).into_iter().collect();
        }
        let mut out: Vec<RouteExplain> = Vec::new();
        for (key, dest) in &self.v4.destinations {
            out.push(RouteExplain { prefix: key.net(), paths: self.views(dest) });
        }
        for (key, dest) in &self.v6.destinations {
            out.push(RouteExplain { prefix: key.net(), paths: self.views(dest) });
        }
        out.sort_by_key(|r| r.prefix);
        out
    }

    /// The Adj-RIB-In of `peer` (pre-policy: paths its import policy rejected are there,
    /// with `lost == Some(Step::RejectedByPolicy)`), one entry per prefix with only that
    /// peer's paths, sorted by prefix.
    pub fn received_from(&self, peer: PeerId) -> Result<Vec<RouteExplain>, RibError> {
        let slot = self.shared.slot_of(peer)?;
        let mut out: Vec<RouteExplain> = Vec::new();
        let mine = |d: &&Dest| d.paths().iter().any(|p| p.slot == slot);
        let keep = |mut views: Vec<PathView>| {
            views.retain(|v| v.peer == Some(peer));
            views
        };
        for (key, dest) in self.v4.destinations.iter().filter(|(_, d)| mine(d)) {
            out.push(RouteExplain { prefix: key.net(), paths: keep(self.views(dest)) });
        }
        for (key, dest) in self.v6.destinations.iter().filter(|(_, d)| mine(d)) {
            out.push(RouteExplain { prefix: key.net(), paths: keep(self.views(dest)) });
        }
        out.sort_by_key(|r| r.prefix);
        Ok(out)
    }

    /// The distinct next hops of the stored paths (what a kernel watcher should follow).
    pub fn next_hops(&self) -> Vec<IpAddr> {
        let mut hops = self.shared.interner.next_hops();
        hops.retain(|h| !h.is_unspecified());
        hops.sort_unstable();
        hops.dedup();
        hops
    }

    /// Prefixes stored for `family`, sorted.
    pub fn prefixes(&self, family: Family) -> Vec<IpNet> {
        let mut list: Vec<IpNet> = match family {
            Family::IPV4_UNICAST => self.v4.destinations.keys().map(|k| k.net()).collect(),
            Family::IPV6_UNICAST => self.v6.destinations.keys().map(|k| k.net()).collect(),
            _ => Vec::new(),
        };
        list.sort_unstable();
        list
    }

    /// The kernel next hops of `prefix` now (empty: none, or locally originated).
    pub fn fib_next_hops(&self, prefix: &IpNet) -> Vec<IpAddr> {
        let dest = match prefix.trunc() {
            p @ IpNet::V4(_) => V4::from_net(&p).and_then(|k| self.v4.destinations.get(&k)),
            p @ IpNet::V6(_) => V6::from_net(&p).and_then(|k| self.v6.destinations.get(&k)),
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
    for (key, dest) in &K::table(rib).destinations {
        let next_hops = fib_of(dest);
        if !next_hops.is_empty() {
            out.push(FibChange { prefix: key.net(), next_hops });
        }
    }
}
