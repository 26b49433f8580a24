//! Routing information bases and the decision process (RFC 4271 §3.2, §9).
//!
//! One [`Rib`] holds, per prefix, every candidate path (the union of all peers' post-policy
//! Adj-RIB-Ins, plus routes rejected by import policy, kept flagged for soft
//! reconfiguration), the best path and the ECMP set. It is sans-IO: the daemon feeds it
//! decoded UPDATEs and session events, and each operation returns [`Changes`]: the kernel
//! next-hop sets that changed and the peers that now have UPDATEs to send, which the daemon
//! fetches with [`Rib::pending_updates`].
//!
//! Memory (the BIRD bar is ~100 bytes per route): attribute sets are interned and shared
//! ([`attrs`]), a prefix is a `u64` key (IPv4) in a hash table with a seeded folded-multiply
//! hash (`prefix.rs`), and a one-path destination is 16 bytes (`path.rs`). The Adj-RIB-Out is
//! implicit, as in BIRD 2 without `export table`: what was advertised to a peer for a prefix
//! is the export of the current best path, a pure function of the best path and the peer's
//! session facts; per peer only the set of prefixes changed since the last flush is kept.
//!
//! Soft reconfiguration: import policy only filters prefixes and never rewrites attributes,
//! so keeping a rejected route costs the same as keeping an accepted one (a flagged path
//! pointing at the shared attribute set). The RIB always keeps them, so [`Rib::set_policy`]
//! re-evaluates without a ROUTE-REFRESH.
//!
//! How the daemon drives it (one owner task):
//! - session Established: [`Rib::peer_up`]; each decoded UPDATE: [`Rib::apply_update`]
//!   (End-of-RIB markers included); session lost: [`Rib::peer_down`] or, with graceful
//!   restart, [`Rib::peer_down_graceful`] then [`Rib::purge_stale`] when the restart timer
//!   fires; ROUTE-REFRESH received: [`Rib::route_refresh`].
//! - config: [`Rib::set_originated`], [`Rib::set_policy`], [`Rib::set_max_paths`]; next-hop
//!   reachability: [`Rib::set_next_hop_reachability`] or [`Rib::set_resolver`].
//! - after each call: apply [`Changes::fib`] to the kernel, and for each peer in
//!   [`Changes::pending_peers`] take [`Rib::pending_updates`] (or the paged
//!   [`Rib::pending_updates_max`]) and write [`OutBatch::encode`]'s messages (logging and
//!   counting the prefixes it reports as [`Encoded::unsendable`]).
//! - `bgpctl`: [`Rib::routes`], [`Rib::explain`], [`Rib::received_from`],
//!   [`Rib::advertised_to`], [`Rib::peer_counts`], [`Rib::stats`].
pub mod as_path_check;
pub mod attrs;
mod core;
pub mod decision;
mod encode;
mod explain;
mod export;
mod import;
mod lifecycle;
pub(crate) mod path;
pub mod peer;
pub(crate) mod prefix;
pub mod resolver;
mod sharded;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnet::IpNet;
use serde::Serialize;

pub use as_path_check::MalformedAsPath;
pub use attrs::Attrs;
pub use decision::{Step, DEFAULT_LOCAL_PREF};
pub use encode::{Encoded, Unsendable};
pub use explain::{PathView, RouteExplain};
pub use export::{Announcement, OutBatch};
pub use peer::{PeerCounts, PeerId, PeerInfo};
pub use resolver::{AllReachable, NextHopResolver, ReachableNetworks, Resolution};

use self::core::Table;
use decision::Candidate;
use peer::PeerSlot;
use prefix::{PrefixKey, SeededState, V4, V6};

/// The router-wide settings the RIB depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RibConfig {
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    /// RFC 4456 CLUSTER_ID (the router id unless configured).
    pub cluster_id: Ipv4Addr,
    /// Most next hops installed for one prefix (ECMP); at least 1.
    pub max_paths: u16,
}

/// A prefix whose kernel next-hop set changed. Empty `next_hops` = remove the route.
/// Locally originated prefixes never appear with next hops (the daemon installs those
/// itself, e.g. as blackholes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct FibChange {
    pub prefix: IpNet,
    /// Sorted, distinct.
    pub next_hops: Vec<IpAddr>,
}

/// Takes kernel changes while a long operation is still running (see [`Rib::set_fib_sink`]).
pub type FibSink = Box<dyn FnMut(&[FibChange]) + Send>;

/// FIB changes collected before an operation hands them to the sink, when there is one.
pub(crate) const FIB_SINK_CHUNK: usize = 4096;

/// What an operation changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Kernel routes to replace or remove, at most one entry per prefix. With a
    /// [`FibSink`], only those not handed to it yet.
    pub fib: Vec<FibChange>,
    /// Every established peer that has Adj-RIB-Out work pending (call
    /// [`Rib::pending_updates`] for each).
    pub pending_peers: Vec<PeerId>,
    /// The UPDATE applied was treated as withdrawn for this reason (RFC 7606 §7.2): its
    /// announcements removed the peer's earlier routes for those prefixes instead.
    pub malformed_as_path: Option<MalformedAsPath>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.fib.is_empty() && self.pending_peers.is_empty()
    }
}

/// Operations on a peer the RIB cannot do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RibError {
    /// No such peer (never `peer_up`, or removed by `peer_down`).
    UnknownPeer(PeerId),
    /// The peer's session is not established (after `peer_down_graceful`).
    PeerNotUp(PeerId),
    /// `peer_up` for a peer that is already up.
    PeerAlreadyUp(PeerId),
    /// More than 65534 peers.
    TooManyPeers,
}

impl std::fmt::Display for RibError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RibError::UnknownPeer(p) => write!(f, "unknown peer {}", p.0),
            RibError::PeerNotUp(p) => write!(f, "peer {} is not up", p.0),
            RibError::PeerAlreadyUp(p) => write!(f, "peer {} is already up", p.0),
            RibError::TooManyPeers => f.write_str("too many peers"),
        }
    }
}

impl std::error::Error for RibError {}

/// Sizes for metrics and `bgpctl`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RibStats {
    /// Prefixes in the Loc-RIB with at least one stored path.
    pub ipv4_prefixes: usize,
    pub ipv6_prefixes: usize,
    /// Prefixes that have a best path.
    pub best_paths: usize,
    /// Distinct interned attribute sets.
    pub attribute_sets: usize,
}

/// The state shared by both address families.
pub(crate) struct Shared {
    pub(crate) config: RibConfig,
    /// Slot 0 stands for ourselves (locally originated routes).
    pub(crate) peers: Vec<Option<PeerSlot>>,
    /// The slot in `peers` of each known peer.
    pub(crate) slots: HashMap<PeerId, u16>,
    /// Slots of established peers.
    pub(crate) up_slots: Vec<u16>,
    /// The slots of `up_slots` whose export policy can accept something: the peers a change of
    /// best path is offered to (a peer with `export: none` costs nothing per route).
    pub(crate) exporters: Vec<u16>,
    /// The shared attribute sets every stored path points at.
    pub(crate) interner: attrs::Interner,
    /// The resolver and its answers per next hop.
    pub(crate) next_hops: resolver::NextHopCache,
    /// Next hops the daemon declared reachable or unreachable (over `next_hops`).
    pub(crate) overrides: HashMap<IpAddr, Resolution>,
    /// References dropped during an operation, released to the interner at its end.
    pub(crate) graveyard: Vec<Arc<Attrs>>,
    /// Scratch space of the decision process: one entry per path of the destination decided.
    pub(crate) candidates: Vec<Candidate>,
    /// Scratch: the kernel next hops of the destination being changed, before the change.
    pub(crate) fib_before: Vec<IpAddr>,
    /// Scratch: the same after the change (compared with `fib_before` to emit a [`FibChange`]).
    pub(crate) fib_after: Vec<IpAddr>,
    /// The attribute set of locally originated routes.
    pub(crate) local_attrs: Arc<Attrs>,
    /// Prefixes we originate.
    pub(crate) originated: BTreeSet<IpNet>,
    /// The seeded hasher of the prefix tables, also used for the export grouping tables.
    pub(crate) hasher: SeededState,
    /// Where kernel changes go while an operation runs ([`Rib::set_fib_sink`]).
    pub(crate) fib_sink: Option<FibSink>,
}

/// The Loc-RIB, the Adj-RIBs-In and the (implicit) Adj-RIBs-Out.
pub struct Rib {
    /// IPv4 unicast destinations.
    pub(crate) v4: Table<V4>,
    /// IPv6 unicast destinations.
    pub(crate) v6: Table<V6>,
    /// Peers, attribute sets, next hops and scratch space, used by both families.
    pub(crate) shared: Shared,
}

/// Access to one family's table and the per-peer work list of that family.
pub(crate) trait FamilyKey: PrefixKey {
    fn split(rib: &mut Rib) -> (&mut Table<Self>, &mut Shared);
    fn table(rib: &Rib) -> &Table<Self>;
    fn dirty(peer: &mut PeerSlot) -> &mut Vec<Self>;
    fn paging(peer: &mut PeerSlot) -> &mut Vec<Self>;
}

impl FamilyKey for V4 {
    fn split(rib: &mut Rib) -> (&mut Table<Self>, &mut Shared) {
        (&mut rib.v4, &mut rib.shared)
    }
    fn table(rib: &Rib) -> &Table<Self> {
        &rib.v4
    }
    fn dirty(peer: &mut PeerSlot) -> &mut Vec<Self> {
        &mut peer.dirty4
    }
    fn paging(peer: &mut PeerSlot) -> &mut Vec<Self> {
        &mut peer.paging4
    }
}

impl FamilyKey for V6 {
    fn split(rib: &mut Rib) -> (&mut Table<Self>, &mut Shared) {
        (&mut rib.v6, &mut rib.shared)
    }
    fn table(rib: &Rib) -> &Table<Self> {
        &rib.v6
    }
    fn dirty(peer: &mut PeerSlot) -> &mut Vec<Self> {
        &mut peer.dirty6
    }
    fn paging(peer: &mut PeerSlot) -> &mut Vec<Self> {
        &mut peer.paging6
    }
}

impl Rib {
    /// An empty RIB; every next hop counts as reachable until [`Rib::set_resolver`].
    pub fn new(config: RibConfig) -> Self {
        let hasher = SeededState::random();
        let mut interner = attrs::Interner::default();
        let local_attrs = interner.intern(Attrs::local());
        let local = PeerSlot::new(
            PeerId(u32::MAX),
            PeerInfo {
                address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                asn: config.local_as,
                router_id: config.router_id,
                ibgp: false,
                rr_client: false,
                local_v4: None,
                local_v6: None,
                local_v6_link_local: None,
                families: Vec::new(),
                import: crate::policy::Policy::All,
                export: crate::policy::Policy::None,
                next_hop_self: false,
                next_hop_keep: false,
                allow_local_as: 0,
                enforce_first_as: false,
            },
        );
        Rib {
            v4: Table::new(hasher),
            v6: Table::new(hasher),
            shared: Shared {
                config,
                peers: vec![Some(local)],
                slots: HashMap::new(),
                up_slots: Vec::new(),
                exporters: Vec::new(),
                interner,
                next_hops: resolver::NextHopCache::new(Box::new(AllReachable)),
                overrides: HashMap::new(),
                graveyard: Vec::new(),
                candidates: Vec::new(),
                fib_before: Vec::new(),
                fib_after: Vec::new(),
                local_attrs,
                originated: BTreeSet::new(),
                hasher,
                fib_sink: None,
            },
        }
    }

    pub fn config(&self) -> &RibConfig {
        &self.shared.config
    }

    /// Hand kernel changes to `sink` in chunks while an operation runs, instead of
    /// collecting them all in [`Changes::fib`]: a peer with a million routes going down
    /// would otherwise hold a million [`FibChange`]s at once. The chunks come in the order
    /// of the changes, before the operation's own [`Changes::fib`] (the rest).
    pub fn set_fib_sink(&mut self, sink: FibSink) {
        self.shared.fib_sink = Some(sink);
    }

    /// Destinations in the Loc-RIB, both families (cheap: no pass over the tables).
    pub fn prefix_count(&self) -> usize {
        self.v4.destinations.len() + self.v6.destinations.len()
    }

    /// Table statistics; counting the best paths is a pass over both tables.
    pub fn stats(&self) -> RibStats {
        let best4 = self.v4.destinations.values().filter(|d| d.best().is_some()).count();
        let best6 = self.v6.destinations.values().filter(|d| d.best().is_some()).count();
        RibStats {
            ipv4_prefixes: self.v4.destinations.len(),
            ipv6_prefixes: self.v6.destinations.len(),
            best_paths: best4 + best6,
            attribute_sets: self.shared.interner.len(),
        }
    }

    /// Route counts of `peer` (`None` for an unknown peer).
    pub fn peer_counts(&self, peer: PeerId) -> Option<PeerCounts> {
        let slot = *self.shared.slots.get(&peer)?;
        self.shared.peers.get(usize::from(slot))?.as_ref().map(PeerSlot::counts)
    }

    /// Is there anything to send to `peer`?
    pub fn has_pending(&self, peer: PeerId) -> bool {
        self.shared
            .slot_of(peer)
            .is_ok_and(|s| self.shared.peer(s).is_some_and(PeerSlot::has_pending))
    }

    /// Prefixes we originate.
    pub fn originated(&self) -> impl Iterator<Item = &IpNet> {
        self.shared.originated.iter()
    }
}

impl Rib {
    /// End of a public operation: release dropped attribute sets, list the peers with work.
    pub(crate) fn done(&mut self, out: &mut Changes) {
        self.shared.finish(out);
    }

    /// Give memory back when a table has shrunk to a quarter of its capacity (after a peer
    /// with a full table went away). Shrinking rehashes what is left, so the daemon calls
    /// this when the RIB is idle rather than after every operation: after a full withdrawal
    /// the table is empty by then and shrinking it costs nothing.
    pub fn compact(&mut self) {
        self.v4.destinations.shrink_sparse();
        self.v6.destinations.shrink_sparse();
        if self.shared.next_hops.wants_prune() {
            let in_use = self.next_hops();
            self.shared.next_hops.prune(&in_use);
        }
    }
}

impl Shared {
    pub(crate) fn context(&self) -> decision::Context<'_> {
        decision::Context {
            peers: &self.peers,
            next_hops: &self.next_hops,
            overrides: &self.overrides,
            max_paths: usize::from(self.config.max_paths),
        }
    }

    pub(crate) fn slot_of(&self, peer: PeerId) -> Result<u16, RibError> {
        self.slots.get(&peer).copied().ok_or(RibError::UnknownPeer(peer))
    }

    pub(crate) fn up_slot_of(&self, peer: PeerId) -> Result<u16, RibError> {
        let slot = self.slot_of(peer)?;
        if self.peer(slot).is_some_and(|p| p.up) {
            Ok(slot)
        } else {
            Err(RibError::PeerNotUp(peer))
        }
    }

    #[inline]
    pub(crate) fn peer(&self, slot: u16) -> Option<&PeerSlot> {
        self.peers.get(usize::from(slot)).and_then(Option::as_ref)
    }

    #[inline]
    pub(crate) fn peer_mut(&mut self, slot: u16) -> Option<&mut PeerSlot> {
        self.peers.get_mut(usize::from(slot)).and_then(Option::as_mut)
    }
}
