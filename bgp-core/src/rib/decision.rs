//! The decision process of RFC 4271 §9.1, with the route-reflection changes of RFC 4456 §9
//! and a multipath (ECMP) set as BIRD and FRR build it.
//!
//! It is written as the RFC's elimination procedure (§9.1.2.2: "The tie-breaking algorithm
//! begins by considering all equally preferable routes to the same destination, and then
//! selects routes to be removed from consideration. The algorithm terminates as soon as only
//! one route remains in consideration. The criteria MUST be applied in the order
//! specified."), not as a pairwise comparison: the MED step compares only routes from the
//! same neighbouring AS, which is not transitive, and a sort would make the result depend on
//! the order the paths arrived in. Each eliminated path records the step it lost at, which
//! is what `bgpctl show routes --explain` prints.
use std::cmp::Reverse;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use super::path::{Path, BEST, REJECTED, SELECTED};
use super::peer::PeerSlot;
use super::resolver::{NextHopCache, Resolution};

/// Default LOCAL_PREF (RFC 4271 §5.1.5 leaves it to configuration; 100 is what every
/// implementation uses).
pub const DEFAULT_LOCAL_PREF: u32 = 100;

/// The step of the decision process at which a path lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Step {
    /// Not a candidate: the peer's import policy rejected it.
    RejectedByPolicy,
    /// RFC 4271 §9.1.2: the next hop is not resolvable.
    NextHopUnreachable,
    /// A locally originated route exists and wins.
    NotLocallyOriginated,
    /// RFC 4271 §9.1.1 / §9.1.2: lower degree of preference (LOCAL_PREF).
    LowerLocalPref,
    /// §9.1.2.2 a.
    LongerAsPath,
    /// §9.1.2.2 b.
    HigherOrigin,
    /// §9.1.2.2 c (only against routes from the same neighbouring AS).
    HigherMed,
    /// §9.1.2.2 d: an eBGP route exists.
    IbgpPath,
    /// §9.1.2.2 e.
    HigherIgpCost,
    /// §9.1.2.2 f (ORIGINATOR_ID in place of the router id, RFC 4456 §9 a).
    HigherRouterId,
    /// RFC 4456 §9 b, between f) and g).
    LongerClusterList,
    /// §9.1.2.2 g.
    HigherPeerAddress,
    /// Same peer, several ADD-PATH paths: the lowest path id wins (our own last tie-break).
    HigherPathId,
}

impl Step {
    /// Words for `bgpctl show routes --explain`.
    pub fn describe(self) -> &'static str {
        match self {
            Step::RejectedByPolicy => "rejected by import policy",
            Step::NextHopUnreachable => "next hop unreachable",
            Step::NotLocallyOriginated => "a locally originated route is preferred",
            Step::LowerLocalPref => "lower LOCAL_PREF",
            Step::LongerAsPath => "longer AS_PATH",
            Step::HigherOrigin => "higher ORIGIN",
            Step::HigherMed => "higher MED from the same neighbour AS",
            Step::IbgpPath => "iBGP path, an eBGP path exists",
            Step::HigherIgpCost => "higher IGP cost to the next hop",
            Step::HigherRouterId => "higher router id (or ORIGINATOR_ID)",
            Step::LongerClusterList => "longer CLUSTER_LIST",
            Step::HigherPeerAddress => "higher peer address",
            Step::HigherPathId => "higher ADD-PATH path id",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// What the decision process reads besides the paths.
pub(crate) struct Context<'a> {
    pub(crate) peers: &'a [Option<PeerSlot>],
    pub(crate) next_hops: &'a NextHopCache,
    /// The daemon's explicit answers, consulted before `next_hops`.
    pub(crate) overrides: &'a HashMap<IpAddr, Resolution>,
    pub(crate) max_paths: usize,
}

/// One path's decision inputs, gathered once.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub(crate) index: usize,
    pub(crate) lost: Option<Step>,
    pub(crate) igp_cost: Option<u32>,
    /// Survived to the end of the IGP-cost step.
    multipath: bool,
    /// In the ECMP set.
    selected: bool,
    local: bool,
    local_pref: u32,
    as_path_len: u32,
    origin: u8,
    med: u32,
    neighbor_as: Option<u32>,
    ebgp: bool,
    router_id: u32,
    cluster_list_len: usize,
    peer_address: IpAddr,
    path_id: u32,
    next_hop: IpAddr,
}

impl Context<'_> {
    #[inline]
    pub(crate) fn resolve(&self, next_hop: IpAddr) -> Resolution {
        if !self.overrides.is_empty() {
            if let Some(r) = self.overrides.get(&next_hop) {
                return *r;
            }
        }
        self.next_hops.resolve(next_hop)
    }

    fn candidate(&self, index: usize, path: &Path) -> Candidate {
        let a = &path.attrs;
        let peer = self.peers.get(usize::from(path.slot)).and_then(Option::as_ref);
        let (peer_rid, peer_address, ebgp) = peer
            .map_or((Ipv4Addr::UNSPECIFIED, IpAddr::V4(Ipv4Addr::UNSPECIFIED), false), |p| {
                (p.info.router_id, p.info.address, !p.info.ibgp)
            });
        let (lost, igp_cost) = if path.has(REJECTED) {
            (Some(Step::RejectedByPolicy), None)
        } else if path.is_local() {
            (None, None)
        } else {
            match self.resolve(a.next_hop_addr()) {
                Resolution::Unreachable => (Some(Step::NextHopUnreachable), None),
                Resolution::Reachable { igp_cost } => (None, igp_cost),
            }
        };
        Candidate {
            index,
            lost,
            igp_cost,
            multipath: false,
            selected: false,
            local: path.is_local(),
            local_pref: a.path.local_pref.unwrap_or(DEFAULT_LOCAL_PREF),
            as_path_len: a.as_path_len(),
            origin: a.origin_rank(),
            // RFC 4271 §9.1.2.2 c: "Routes that do not have the MULTI_EXIT_DISC attribute
            // are considered to have the lowest possible MULTI_EXIT_DISC value."
            med: a.path.med.unwrap_or(0),
            neighbor_as: a.neighbor_as(),
            ebgp,
            // RFC 4456 §9 a: "If a route carries the ORIGINATOR_ID attribute, then in Step f)
            // of Section 9.1.2.2 of [1], the ORIGINATOR_ID SHOULD be treated as the BGP
            // Identifier of the BGP speaker that has advertised the route."
            router_id: u32::from(a.path.originator_id.unwrap_or(peer_rid)),
            cluster_list_len: a.path.cluster_list.len(),
            peer_address,
            path_id: path.path_id,
            next_hop: a.next_hop_addr(),
        }
    }
}

/// Remove from consideration every candidate still in it whose `key` is not the smallest.
fn keep_min<T: Ord + Copy>(
    candidates: &mut [Candidate],
    step: Step,
    key: impl Fn(&Candidate) -> T,
) {
    let alive = || candidates.iter().filter(|c| c.lost.is_none());
    if alive().nth(1).is_none() {
        return; // "terminates as soon as only one route remains"
    }
    let Some(best) = alive().map(&key).min() else { return };
    for c in candidates.iter_mut().filter(|c| c.lost.is_none()) {
        if key(c) != best {
            c.lost = Some(step);
        }
    }
}

/// The elimination steps up to and including the IGP cost: what survives is the multipath
/// set (the routes the RFC calls "equally preferable" before the arbitrary tie-breakers).
fn eliminate_to_igp(candidates: &mut [Candidate]) {
    // Locally originated routes are preferred over learned ones.
    keep_min(candidates, Step::NotLocallyOriginated, |c| !c.local);
    // RFC 4271 §9.1.2: "the route with the highest degree of preference" (LOCAL_PREF for
    // internal routes, §9.1.1; the configured default for external ones).
    keep_min(candidates, Step::LowerLocalPref, |c| Reverse(c.local_pref));
    // §9.1.2.2 a) "Remove from consideration all routes that are not tied for having the
    // smallest number of AS numbers present in their AS_PATH attributes. Note that when
    // counting this number, an AS_SET counts as 1, no matter how many ASes are in the set."
    keep_min(candidates, Step::LongerAsPath, |c| c.as_path_len);
    // b) "Remove from consideration all routes that are not tied for having the lowest
    // Origin number in their Origin attribute."
    keep_min(candidates, Step::HigherOrigin, |c| c.origin);
    // c) "Remove from consideration routes with less-preferred MULTI_EXIT_DISC attributes.
    // MULTI_EXIT_DISC is only comparable between routes learned from the same neighboring AS
    // (the neighboring AS is determined from the AS_PATH attribute)."
    //     for m = all routes still under consideration
    //         for n = all routes still under consideration
    //             if (neighborAS(m) == neighborAS(n)) and (MED(n) < MED(m))
    //                 remove route m from consideration
    // The lowest MED of each neighbour AS is never removed, so this keeps exactly the routes
    // whose MED is the lowest of their neighbour AS, whatever the iteration order.
    // Compared with every route still in consideration when the step began (one removed in
    // this step has a higher MED than another of its AS, so comparing with it changes
    // nothing).
    if candidates.iter().filter(|c| c.lost.is_none()).nth(1).is_some() {
        for i in 0..candidates.len() {
            let Some(m) = candidates.get(i).filter(|c| c.lost.is_none()) else { continue };
            let beaten = candidates.iter().any(|n| {
                matches!(n.lost, None | Some(Step::HigherMed))
                    && n.neighbor_as == m.neighbor_as
                    && n.med < m.med
            });
            if beaten {
                candidates[i].lost = Some(Step::HigherMed);
            }
        }
    }
    // d) "If at least one of the candidate routes was received via EBGP, remove from
    // consideration all routes that were received via IBGP."
    keep_min(candidates, Step::IbgpPath, |c| !c.ebgp);
    // e) "Remove from consideration any routes with less-preferred interior cost. [...] If
    // the NEXT_HOP hop for a route is reachable, but no cost can be determined, then this step
    // should be skipped (equivalently, consider all routes to have equal costs)."
    if candidates.iter().filter(|c| c.lost.is_none()).all(|c| c.igp_cost.is_some()) {
        keep_min(candidates, Step::HigherIgpCost, |c| c.igp_cost);
    }
}

/// The arbitrary tie-breakers after the IGP cost.
fn tie_break(candidates: &mut [Candidate]) {
    // f) "Remove from consideration all routes other than the route that was advertised by
    // the BGP speaker with the lowest BGP Identifier value."
    keep_min(candidates, Step::HigherRouterId, |c| c.router_id);
    // RFC 4456 §9 b: "a BGP Speaker SHOULD prefer a route with the shorter CLUSTER_LIST
    // length."
    keep_min(candidates, Step::LongerClusterList, |c| c.cluster_list_len);
    // g) "Prefer the route received from the lowest peer address."
    keep_min(candidates, Step::HigherPeerAddress, |c| c.peer_address);
    keep_min(candidates, Step::HigherPathId, |c| c.path_id);
    // Two paths equal in everything (same peer, same path id) cannot both be stored; keep
    // the first should it ever happen.
    let mut seen = false;
    for c in candidates.iter_mut().filter(|c| c.lost.is_none()) {
        if seen {
            c.lost = Some(Step::HigherPathId);
        }
        seen = true;
    }
}

/// Run the decision for one destination: sets [`BEST`] on the best path and [`SELECTED`] on
/// the paths whose next hops go to the kernel (none when the best is locally originated).
/// `candidates` is scratch space; on return it holds each path's outcome (`index` names the path;
/// the order is not the paths' order).
pub(crate) fn decide(paths: &mut [Path], ctx: &Context<'_>, candidates: &mut Vec<Candidate>) {
    candidates.clear();
    candidates.extend(paths.iter().enumerate().map(|(i, p)| ctx.candidate(i, p)));
    for p in paths.iter_mut() {
        p.set(BEST | SELECTED, false);
    }
    eliminate_to_igp(candidates);
    for c in candidates.iter_mut() {
        c.multipath = c.lost.is_none();
    }
    tie_break(candidates);
    let Some(best) = candidates.iter().find(|c| c.lost.is_none()) else { return };
    let (best_index, best_med, best_local) = (best.index, best.med, best.local);
    if let Some(p) = paths.get_mut(best_index) {
        p.set(BEST, true);
    }
    if best_local {
        return;
    }
    // ECMP: the routes equal through the IGP cost step that also have the best route's MED
    // (LOCAL_PREF, AS_PATH length, ORIGIN and eBGP/iBGP are equal by then), best first, then
    // in tie-break order; one path per distinct next hop, at most `max_paths`.
    let member = |c: &Candidate| c.multipath && c.med == best_med;
    candidates.sort_by_key(|c| {
        (
            !member(c),
            c.index != best_index,
            c.router_id,
            c.cluster_list_len,
            c.peer_address,
            c.path_id,
        )
    });
    let mut chosen = 0;
    for i in 0..candidates.len() {
        if chosen >= ctx.max_paths.max(1) || !member(&candidates[i]) {
            break;
        }
        let next_hop = candidates[i].next_hop;
        if candidates[..i].iter().any(|d| d.selected && d.next_hop == next_hop) {
            continue;
        }
        candidates[i].selected = true;
        chosen += 1;
        if let Some(p) = paths.get_mut(candidates[i].index) {
            p.set(SELECTED, true);
        }
    }
}

/// The common case of a destination with one path, without the scratch machinery.
#[inline]
pub(crate) fn decide_single(path: &mut Path, ctx: &Context<'_>) {
    path.set(BEST | SELECTED, false);
    if path.has(REJECTED) {
        return;
    }
    if path.is_local() {
        path.set(BEST, true);
        return;
    }
    if ctx.resolve(path.attrs.next_hop_addr()) != Resolution::Unreachable {
        path.set(BEST | SELECTED, true);
    }
}

/// Run the decision on `paths`, whatever their number.
pub(crate) fn run(paths: &mut [Path], ctx: &Context<'_>, candidates: &mut Vec<Candidate>) {
    match paths {
        [one] => decide_single(one, ctx),
        _ => decide(paths, ctx, candidates),
    }
}
