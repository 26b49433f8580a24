//! Export: which best paths go to which peer, with which attributes, and the batches of
//! withdrawals and announcements grouped by attribute set (BIRD's `bgp_bucket`) that the
//! daemon turns into UPDATE messages.
use std::collections::HashMap;
use std::sync::Arc;

use ipnet::IpNet;

use super::attrs::Attrs;
use super::core::WARM_BATCH;
use super::decision::DEFAULT_LOCAL_PREF;
use super::path::{Dest, Path, LOCAL_SLOT};
use super::peer::{PeerInfo, PeerSlot};
use super::prefix::SeededState;
use super::{FamilyKey, PeerId, Rib, RibConfig, RibError, Shared};
use crate::wire::{AsPath, Family, Nlri};

/// Announcements of one attribute set (one or more UPDATE messages on the wire).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    pub family: Family,
    /// The attributes as sent; `attrs.next_hop` is the next hop to send.
    pub attrs: Arc<Attrs>,
    pub nlri: Vec<Nlri>,
}

/// What to send to one peer now: withdrawals first, then announcements, then End-of-RIB
/// markers (RFC 4724 §2) once the initial dump of a family is complete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutBatch {
    pub withdrawals: Vec<(Family, Vec<Nlri>)>,
    pub announcements: Vec<Announcement>,
    pub end_of_rib: Vec<Family>,
}

impl OutBatch {
    pub fn is_empty(&self) -> bool {
        self.withdrawals.is_empty() && self.announcements.is_empty() && self.end_of_rib.is_empty()
    }

    /// Prefixes announced in the batch.
    pub fn announced_len(&self) -> usize {
        self.announcements.iter().map(|a| a.nlri.len()).sum()
    }

    /// Prefixes withdrawn in the batch.
    pub fn withdrawn_len(&self) -> usize {
        self.withdrawals.iter().map(|w| w.1.len()).sum()
    }
}

/// May the best path of `net`, from peer slot `src`, be advertised to the peer in slot `dst`
/// whose session facts are `dst_info`? (Not whether `dst` is up: callers know.)
pub(crate) fn exportable(
    peers: &[Option<PeerSlot>],
    src: u16,
    attrs: &Attrs,
    dst: u16,
    dst_info: &PeerInfo,
    family: Family,
    net: &IpNet,
) -> bool {
    // Never send a route back to the peer it came from.
    if src == dst || !dst_info.has_family(family) {
        return false;
    }
    let Some(src_info) = peers.get(usize::from(src)).and_then(Option::as_ref).map(|p| &p.info)
    else {
        return false;
    };
    if !attrs.path.communities.is_empty() && !well_known_communities_allow(attrs, dst_info) {
        return false;
    }
    let local = src == LOCAL_SLOT;
    if !local && src_info.ibgp && dst_info.ibgp {
        // RFC 4271 §9.2: routes learned from an internal peer are not advertised to other
        // internal peers (full mesh) ... unless we reflect them, RFC 4456 §6: "A route from a
        // Non-Client IBGP peer: Reflect to all the Clients. A route from a Client peer:
        // Reflect to all the Non-Client peers and also to the Client peers."
        if !(src_info.rr_client || dst_info.rr_client) {
            return false;
        }
    }
    // We must be able to name a next hop of ours when the export sets one.
    if dst_info.sets_self_next_hop(local) && dst_info.self_next_hop(family).is_none() {
        return false;
    }
    dst_info.export.accepts(net)
}

/// RFC 1997 well-known communities (we are not a confederation member, so the
/// confederation boundary is the AS boundary):
/// - NO_EXPORT (0xFFFFFF01): "All routes received carrying a communities attribute
///   containing this value MUST NOT be advertised outside a BGP confederation boundary".
/// - NO_ADVERTISE (0xFFFFFF02): "All routes received carrying a communities attribute
///   containing this value MUST NOT be advertised to other BGP peers."
/// - NO_EXPORT_SUBCONFED (0xFFFFFF03): "MUST NOT be advertised to external BGP peers".
fn well_known_communities_allow(attrs: &Attrs, dst_info: &PeerInfo) -> bool {
    attrs.path.communities.iter().all(|&c| match c {
        NO_ADVERTISE => false,
        NO_EXPORT | NO_EXPORT_SUBCONFED => dst_info.ibgp,
        _ => true,
    })
}

pub const NO_EXPORT: u32 = 0xFFFF_FF01;
pub const NO_ADVERTISE: u32 = 0xFFFF_FF02;
pub const NO_EXPORT_SUBCONFED: u32 = 0xFFFF_FF03;

/// The attributes of `path` (from `src_info`) as advertised to `dst_info`.
pub(crate) fn export_attrs(
    config: &RibConfig,
    path: &Path,
    src_info: &PeerInfo,
    dst_info: &PeerInfo,
    family: Family,
) -> Option<Attrs> {
    let local = path.slot == LOCAL_SLOT;
    let mut a = path.attrs.path.clone();
    // RFC 4271 §5 / §9.1.3: optional non-transitive attributes we do not know are dropped,
    // optional transitive ones passed on with the Partial bit.
    a.prepare_for_export();
    let next_hop;
    if !dst_info.ibgp {
        // RFC 4271 §5.1.2: "When a given BGP speaker advertises the route to an external
        // peer, the advertising speaker updates the AS_PATH attribute as follows: [...] the
        // local system prepends its own AS number as the last element of the sequence".
        match &mut a.as_path {
            Some(p) => p.prepend(config.local_as),
            None => a.as_path = Some(AsPath::from_sequence(vec![config.local_as])),
        }
        a.two_octet = None;
        // RFC 4271 §5.1.3: to an external peer "the NEXT_HOP attribute is set to the IP
        // address of the interface used to reach the peer" (next-hop-self), unless
        // configured to keep a third-party next hop (next_hop_keep).
        next_hop = if dst_info.sets_self_next_hop(local) {
            dst_info.self_next_hop(family)?
        } else {
            path.attrs.next_hop
        };
        // RFC 4271 §5.1.5: "A BGP speaker MUST NOT include this attribute in UPDATE messages
        // it sends to external peers".
        a.local_pref = None;
        // RFC 4271 §5.1.4: "The MULTI_EXIT_DISC attribute received from a neighboring AS
        // MUST NOT be propagated to other neighboring ASes."
        if !local {
            a.med = None;
        }
        // RFC 4456 §8: ORIGINATOR_ID and CLUSTER_LIST are iBGP-only (non-transitive).
        a.originator_id = None;
        a.cluster_list.clear();
    } else {
        // RFC 4271 §5.1.5: "A BGP speaker MUST include this attribute in UPDATE messages
        // that it sends to other internal peers."
        a.local_pref = Some(a.local_pref.unwrap_or(DEFAULT_LOCAL_PREF));
        next_hop = if dst_info.sets_self_next_hop(local) {
            dst_info.self_next_hop(family)?
        } else {
            path.attrs.next_hop
        };
        if !local && src_info.ibgp {
            // Reflection, RFC 4456 §8: "ORIGINATOR_ID [...] This attribute is created by an
            // RR in reflecting a route. This attribute carries the BGP Identifier of the
            // originator of the route in the local AS. A BGP speaker SHOULD NOT create an
            // ORIGINATOR_ID attribute if one already exists." and "When an RR reflects a
            // route, it MUST prepend the local CLUSTER_ID to the CLUSTER_LIST."
            if a.originator_id.is_none() {
                a.originator_id = Some(src_info.router_id);
            }
            a.cluster_list.insert(0, config.cluster_id);
        }
    }
    Some(Attrs::new(a, next_hop))
}

impl Rib {
    /// Take the pending Adj-RIB-Out work of `peer` as one batch (empty when nothing is
    /// pending). Withdrawals are only for prefixes that were or may have been advertised.
    pub fn pending_updates(&mut self, peer: PeerId) -> Result<OutBatch, RibError> {
        self.pending_updates_max(peer, usize::MAX)
    }

    /// Like [`Rib::pending_updates`], but at most `max_prefixes` prefixes (withdrawn plus
    /// announced), IPv4 first; the rest stays pending (for a daemon that waits for its socket
    /// to drain). End-of-RIB comes in the batch that empties the work list.
    pub fn pending_updates_max(
        &mut self,
        peer: PeerId,
        max_prefixes: usize,
    ) -> Result<OutBatch, RibError> {
        let slot = self.shared.up_slot_of(peer)?;
        let mut batch = OutBatch::default();
        let left = flush::<super::prefix::V4>(self, slot, &mut batch, max_prefixes);
        flush::<super::prefix::V6>(self, slot, &mut batch, left);
        if let Some(p) = self.shared.peer_mut(slot) {
            if !p.has_work_list() {
                batch.end_of_rib = std::mem::take(&mut p.eor_pending);
            }
        }
        Ok(batch)
    }

    /// The Adj-RIB-Out of `peer`: every prefix advertised to it, with the attributes as
    /// sent (computed from the best paths, as the flush does), sorted by prefix.
    pub fn advertised_to(&self, peer: PeerId) -> Result<Vec<(IpNet, Attrs)>, RibError> {
        let slot = self.shared.up_slot_of(peer)?;
        let mut out = Vec::new();
        advertised::<super::prefix::V4>(self, slot, &mut out);
        advertised::<super::prefix::V6>(self, slot, &mut out);
        out.sort_by_key(|r| r.0);
        Ok(out)
    }
}

impl Rib {
    /// Record the prefixes of `peer`'s last batch that the encoder withdrew instead of
    /// announcing ([`super::Encoded::unsendable`], RFC 4271 §9.2): they are not in its
    /// Adj-RIB-Out, so [`Rib::advertised_to`], [`Rib::advertised`] and the advertised count
    /// leave them out until they are queued again. Call it right after encoding the batch.
    pub fn set_unsendable(&mut self, peer: PeerId, unsendable: &[super::Unsendable]) {
        let Ok(slot) = self.shared.up_slot_of(peer) else { return };
        let nets: Vec<IpNet> = unsendable
            .iter()
            .flat_map(|u| u.nlri.iter().map(|n| n.prefix.trunc()))
            .filter(|net| match net {
                IpNet::V4(_) => exported::<super::prefix::V4>(self, slot, net),
                IpNet::V6(_) => exported::<super::prefix::V6>(self, slot, net),
            })
            .collect();
        if let Some(p) = self.shared.peer_mut(slot) {
            p.unsendable.extend(nets);
        }
    }

    /// What we advertise to `peer` for exactly `prefix` (the attributes as sent), or `None`
    /// when the prefix is not in its Adj-RIB-Out (queued changes count as sent).
    pub fn advertised(&self, peer: PeerId, prefix: &IpNet) -> Option<Attrs> {
        let slot = self.shared.up_slot_of(peer).ok()?;
        let prefix = prefix.trunc();
        match prefix {
            IpNet::V4(_) => advertised_one::<super::prefix::V4>(self, slot, &prefix),
            IpNet::V6(_) => advertised_one::<super::prefix::V6>(self, slot, &prefix),
        }
    }
}

fn advertised_one<K: FamilyKey>(rib: &Rib, slot: u16, prefix: &IpNet) -> Option<Attrs> {
    let shared = &rib.shared;
    let dst = shared.peer(slot)?;
    if dst.unsendable.contains(prefix) {
        return None;
    }
    let b = K::table(rib).destinations.get(&K::from_net(prefix)?)?.best()?;
    if !exportable(&shared.peers, b.slot, &b.attrs, slot, &dst.info, K::FAMILY, prefix) {
        return None;
    }
    export_attrs(&shared.config, b, &shared.peer(b.slot)?.info, &dst.info, K::FAMILY)
}

/// Is the best path of `prefix` exportable to `slot` (counted in its advertised prefixes)?
fn exported<K: FamilyKey>(rib: &Rib, slot: u16, prefix: &IpNet) -> bool {
    let shared = &rib.shared;
    let Some(dst) = shared.peer(slot) else { return false };
    let best = K::from_net(prefix).and_then(|k| K::table(rib).destinations.get(&k)?.best());
    best.is_some_and(|b| {
        exportable(&shared.peers, b.slot, &b.attrs, slot, &dst.info, K::FAMILY, prefix)
    })
}

fn advertised<K: FamilyKey>(rib: &Rib, slot: u16, out: &mut Vec<(IpNet, Attrs)>) {
    let shared = &rib.shared;
    let Some(dst) = shared.peer(slot) else { return };
    for (key, dest) in &K::table(rib).destinations {
        let Some(b) = dest.best() else { continue };
        let net = key.net();
        if !exportable(&shared.peers, b.slot, &b.attrs, slot, &dst.info, K::FAMILY, &net)
            || (!dst.unsendable.is_empty() && dst.unsendable.contains(&net))
        {
            continue;
        }
        let Some(src) = shared.peer(b.slot) else { continue };
        if let Some(attrs) = export_attrs(&shared.config, b, &src.info, &dst.info, K::FAMILY) {
            out.push((net, attrs));
        }
    }
}

/// Turn up to `max` prefixes of the work list of one family into withdrawals and buckets;
/// returns how many more the batch may take.
fn flush<K: FamilyKey>(rib: &mut Rib, slot: u16, batch: &mut OutBatch, max: usize) -> usize {
    let (table, shared) = K::split(rib);
    let hasher = shared.hasher;
    let Some(peer) = shared.peer_mut(slot) else { return max };
    if max == 0 || (K::paging(peer).is_empty() && K::dirty(peer).is_empty()) {
        return max;
    }
    if K::paging(peer).is_empty() {
        // Sorted: duplicates go, and prefixes of one UPDATE (one source set) come together.
        let mut snapshot = std::mem::take(K::dirty(peer));
        K::sort_dedup(&mut snapshot);
        snapshot.reverse();
        *K::paging(peer) = snapshot;
    }
    let paging = K::paging(peer);
    let mut dirty = paging.split_off(paging.len().saturating_sub(max));
    dirty.reverse();
    if paging.is_empty() {
        *paging = Vec::new();
    }
    let left = max - dirty.len();
    let shared: &Shared = shared;
    let Some(dst) = shared.peer(slot) else { return left };
    let mut withdrawn = Vec::new();
    // Per (source attribute set, source peer): the bucket, or None if no next hop could be
    // named. The source sets are alive for the whole flush (held by the table).
    let mut by_source: HashMap<(usize, u16), Option<usize>, SeededState> =
        HashMap::with_hasher(hasher);
    let mut last: Option<((usize, u16), Option<usize>)> = None;
    let mut by_attrs: HashMap<Attrs, usize> = HashMap::new();
    let first_bucket = batch.announcements.len();
    for (i, &entry) in dirty.iter().enumerate() {
        if i % WARM_BATCH == 0 {
            let next = dirty[i..].iter().take(WARM_BATCH);
            table.warm(next.filter(|k| !k.is_marked_withdrawn()).copied());
        }
        let key = entry.unmarked();
        let net = key.net();
        if entry.is_marked_withdrawn() {
            // The last change queued for this prefix took it away from the peer.
            withdrawn.push(Nlri::new(net));
            continue;
        }
        let best = table.destinations.get(&key).and_then(Dest::best);
        let bucket = best
            .filter(|b| {
                exportable(&shared.peers, b.slot, &b.attrs, slot, &dst.info, K::FAMILY, &net)
            })
            .and_then(|b| {
                let source = (Arc::as_ptr(&b.attrs) as usize, b.slot);
                if let Some((s, bucket)) = last {
                    if s == source {
                        return bucket;
                    }
                }
                let bucket = *by_source.entry(source).or_insert_with(|| {
                    let src_info = &shared.peer(b.slot)?.info;
                    let attrs = export_attrs(&shared.config, b, src_info, &dst.info, K::FAMILY)?;
                    let next = first_bucket + by_attrs.len();
                    let index = *by_attrs.entry(attrs.clone()).or_insert(next);
                    if index == next {
                        batch.announcements.push(Announcement {
                            family: K::FAMILY,
                            attrs: Arc::new(attrs),
                            nlri: Vec::new(),
                        });
                    }
                    Some(index)
                });
                last = Some((source, bucket));
                bucket
            });
        match bucket.and_then(|i| batch.announcements.get_mut(i)) {
            Some(a) => a.nlri.push(Nlri::new(net)),
            None => withdrawn.push(Nlri::new(net)),
        }
    }
    if !withdrawn.is_empty() {
        batch.withdrawals.push((K::FAMILY, withdrawn));
    }
    left
}

/// Queue every prefix of family `K` whose best path is exportable to `slot` (initial dump,
/// route refresh); returns how many.
pub(crate) fn queue_all<K: FamilyKey>(rib: &mut Rib, slot: u16) -> u64 {
    let (table, shared) = K::split(rib);
    let Some(peer) = shared.peer_mut(slot) else { return 0 };
    let mut dirty = std::mem::take(K::dirty(peer));
    let Some(dst) = shared.peer(slot) else { return 0 };
    let mut n = 0;
    for (key, dest) in &table.destinations {
        if let Some(b) = dest.best() {
            if exportable(&shared.peers, b.slot, &b.attrs, slot, &dst.info, K::FAMILY, &key.net()) {
                PeerSlot::queue(&mut dirty, *key);
                n += 1;
            }
        }
    }
    if let Some(peer) = shared.peer_mut(slot) {
        *K::dirty(peer) = dirty;
        // All of the family is queued again.
        peer.unsendable.retain(|net| K::from_net(net).is_none());
    }
    n
}
