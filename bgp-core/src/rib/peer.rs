//! What the RIB knows about each peer: the session facts that import, the decision process
//! and export depend on, its counters, and its pending Adj-RIB-Out work.
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use serde::Serialize;

use super::prefix::{PrefixKey, V4, V6};
use crate::policy::Policy;
use crate::wire::{Family, MpNextHop};

/// The daemon's name for a peer (any number it likes, stable while the peer exists).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PeerId(pub u32);

/// The facts of an established session that the RIB needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    pub address: IpAddr,
    pub asn: u32,
    /// The peer's BGP Identifier from its OPEN.
    pub router_id: Ipv4Addr,
    /// `asn == local AS`.
    pub ibgp: bool,
    /// RFC 4456 route-reflector client (iBGP only).
    pub rr_client: bool,
    /// Our address on this session, the next hop we advertise for IPv4 NLRI (next-hop-self).
    pub local_v4: Option<Ipv4Addr>,
    /// Our IPv6 address on this session, the next hop for IPv6 NLRI.
    pub local_v6: Option<Ipv6Addr>,
    /// Our link-local address on the session's interface, sent as the second IPv6 next hop
    /// (RFC 2545 §3) when set.
    pub local_v6_link_local: Option<Ipv6Addr>,
    /// Negotiated families (routes of others are ignored and none are sent).
    pub families: Vec<Family>,
    pub import: Policy,
    pub export: Policy,
    /// Advertise our address as next hop to this iBGP peer (eBGP gets it unless
    /// `next_hop_keep`).
    pub next_hop_self: bool,
    /// To this eBGP peer, pass learned routes on with their next hop unchanged (a
    /// third-party next hop, RFC 4271 §5.1.3; BIRD's `next hop keep`, Calico's
    /// `keepOriginalNextHop`). Our own routes still carry our address.
    pub next_hop_keep: bool,
    /// Accept routes from this eBGP peer whose AS_PATH holds our AS up to this many times
    /// (0: the RFC 4271 §9.1.2 loop check as written). BIRD's `allow local as`, Calico's
    /// `numAllowedLocalASNumbers`, for sites that reuse one AS on several islands.
    pub allow_local_as: u8,
    /// From this eBGP peer, a route whose AS_PATH does not start with the peer's AS is
    /// treated as withdrawn (RFC 4271 §6.3 enforce-first-AS, RFC 7606 §7.2). Off for a route
    /// server, which does not prepend its AS.
    pub enforce_first_as: bool,
}

impl PeerInfo {
    /// Whether a route from `local` (originated here) or learned goes to this peer with our
    /// address as next hop.
    pub fn sets_self_next_hop(&self, local: bool) -> bool {
        local || self.next_hop_self || (!self.ibgp && !self.next_hop_keep)
    }
}

impl PeerInfo {
    /// Our next hop for `family` on this session (next-hop-self), if we have an address.
    pub fn self_next_hop(&self, family: Family) -> Option<MpNextHop> {
        if family == Family::IPV4_UNICAST {
            self.local_v4.map(|a| MpNextHop { global: IpAddr::V4(a), link_local: None })
        } else {
            self.local_v6
                .map(|a| MpNextHop { global: IpAddr::V6(a), link_local: self.local_v6_link_local })
        }
    }

    pub(crate) fn has_family(&self, family: Family) -> bool {
        self.families.contains(&family)
    }
}

/// Route counts of one peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PeerCounts {
    /// Paths in the pre-policy Adj-RIB-In (accepted + rejected by import policy; routes
    /// dropped by the loop checks are not kept and counted in `looped`).
    pub received: u64,
    /// Paths that passed the import policy (the post-policy Adj-RIB-In).
    pub accepted: u64,
    /// Of `received`, paths marked stale by graceful restart.
    pub stale: u64,
    /// Announcements dropped by the AS-path / ORIGINATOR_ID / CLUSTER_LIST loop checks
    /// (cumulative).
    pub looped: u64,
    /// Announcements treated as withdrawn for a malformed AS_PATH found by the RIB's
    /// session-aware checks (confederation segments, enforce-first-AS; cumulative).
    pub malformed_as_path: u64,
    /// Prefixes advertised to this peer (the Adj-RIB-Out, counting queued changes), less
    /// those the encoder had to withdraw instead ([`super::Rib::set_unsendable`]).
    pub advertised: u64,
}

/// One entry of the RIB's peer table.
pub(crate) struct PeerSlot {
    pub(crate) id: PeerId,
    pub(crate) info: PeerInfo,
    /// Session established: we export to it. False while only stale paths are kept.
    pub(crate) up: bool,
    /// `counts.advertised` counts every exportable prefix; [`PeerSlot::counts`] leaves out
    /// these.
    pub(crate) counts: PeerCounts,
    /// Exportable prefixes whose last announcement the encoder could not send (RFC 4271
    /// §9.2: withdrawn instead): not in the Adj-RIB-Out. A prefix leaves the set when it is
    /// queued again (its route changed, a refresh, a new session) and is put back if it still
    /// cannot be sent. Usually empty.
    pub(crate) unsendable: BTreeSet<IpNet>,
    /// Prefixes whose advertisement to this peer may have changed since the last
    /// `pending_updates` (the implicit Adj-RIB-Out's work list). Appending is cheaper than a
    /// hash set (no random access); duplicates are removed when the list is taken, and
    /// compacted on growth so a flapping prefix cannot make it grow without bound.
    pub(crate) dirty4: Vec<V4>,
    pub(crate) dirty6: Vec<V6>,
    /// The work list being sent, page by page: a sorted, deduplicated snapshot of `dirty`,
    /// in descending order so that each page comes off the end (no copy of the rest). New
    /// changes meanwhile go to `dirty` and form the next snapshot.
    pub(crate) paging4: Vec<V4>,
    pub(crate) paging6: Vec<V6>,
    /// Families still owed an End-of-RIB after the initial dump (RFC 4724 §2).
    pub(crate) eor_pending: Vec<Family>,
}

impl PeerSlot {
    pub(crate) fn new(id: PeerId, info: PeerInfo) -> Self {
        PeerSlot {
            id,
            info,
            up: false,
            counts: PeerCounts::default(),
            unsendable: BTreeSet::new(),
            dirty4: Vec::new(),
            dirty6: Vec::new(),
            paging4: Vec::new(),
            paging6: Vec::new(),
            eor_pending: Vec::new(),
        }
    }

    /// Queue `key` on `list`, compacting the list instead of growing it when at least half of
    /// it is duplicates.
    #[inline]
    pub(crate) fn queue<K: PrefixKey>(list: &mut Vec<K>, key: K) {
        if list.len() == list.capacity() && list.len() >= 4096 {
            K::sort_dedup(list);
            if list.len() * 2 > list.capacity() {
                list.reserve(list.len());
            }
        }
        list.push(key);
    }

    /// The peer's counts as reported: unsendable prefixes are not advertised.
    pub(crate) fn counts(&self) -> PeerCounts {
        let mut c = self.counts;
        c.advertised = c.advertised.saturating_sub(self.unsendable.len() as u64);
        c
    }

    /// `net` is queued again: whether it can be sent is for the encoder to say anew.
    #[inline]
    pub(crate) fn requeued(&mut self, net: &IpNet) {
        if !self.unsendable.is_empty() {
            self.unsendable.remove(net);
        }
    }

    pub(crate) fn has_pending(&self) -> bool {
        self.up && (self.has_work_list() || !self.eor_pending.is_empty())
    }

    /// Prefixes whose advertisement may still change (queued or being paged out).
    pub(crate) fn has_work_list(&self) -> bool {
        !(self.dirty4.is_empty()
            && self.dirty6.is_empty()
            && self.paging4.is_empty()
            && self.paging6.is_empty())
    }
}
