//! The core of route-sync, without I/O: what the RIB wants, what we believe the kernel holds
//! (our routes only), our nexthop objects, and the netlink requests that close the gap.
//!
//! The kernel executes rtnetlink requests synchronously inside `send()`, so a batch is planned,
//! sent, and its error replies (requests are sent without NLM_F_ACK: silence is success) are
//! all queued on the socket when `send()` returns. [`Fib::complete`] then applies the outcome.
//! No request is ever "in flight" across two batches, which keeps this state exact. (The
//! handles change the desired state between `plan` and `complete` while the task sends;
//! only the task touches the kernel state and the queues it plans from.)
//!
//! Memory: a route is a 12-byte [`entry::Entry`] under a 4-byte IPv4 key (see
//! `prefix_map.rs`, `intern.rs`), plus 8 bytes while it waits in a queue.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST};

use crate::config::{BlackholeKind, KernelConfig, SyncOptions};
use crate::events::{KernelEvent, KernelNextHop, KernelRoute, Stats};
use crate::interfaces::{Interfaces, Resolved};
use crate::intern::{Id, Interner};
use crate::nexthop_msg::{self, NexthopKind, NexthopMessage};
use crate::nexthops::{NhKey, NhTable};
use crate::prefix_map::PrefixMap;
use crate::prefix_queue::PrefixQueue;

mod entry;
use crate::route_msg::{self, ParsedRoute, RouteIdentity, RouteTarget};
use entry::{Entry, Held, BLACKHOLE, FAILED, FOREIGN, QUEUED, REPAIR, REPORTED, STALE};

const EEXIST: i32 = libc::EEXIST;
const ESRCH: i32 = libc::ESRCH;
const ENOENT: i32 = libc::ENOENT;

/// One request of a batch, to be matched with its error reply (if any) by sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// RTM_NEWROUTE (`Some`) or RTM_DELROUTE (`None`); `old` is what the kernel held before
    /// (restored if the request is refused), `repair` counts it as repaired on success.
    Route { prefix: IpNet, new: Option<RouteTarget>, old: Option<RouteTarget>, repair: bool },
    /// RTM_NEWNEXTHOP.
    NhNew(u32),
    /// RTM_DELNEXTHOP of an unused object.
    NhDel(u32),
    /// RTM_DELNEXTHOP that also removes all the routes using the object (those of
    /// `Fib::flushing`).
    NhFlush(u32),
}

/// Requests packed for one `send()`.
#[derive(Debug, Default)]
pub struct Batch {
    pub buf: Vec<u8>,
    pub ops: Vec<(u32, Op)>,
}

/// Interned inline gateway lists of [`Held::Gateways`].
type GatewayLists = Interner<Vec<(IpAddr, u32)>>;

fn target_of(held: Held, gws: &GatewayLists) -> RouteTarget {
    match held {
        Held::Blackhole => RouteTarget::Blackhole,
        Held::Unreachable => RouteTarget::Unreachable,
        Held::Object(id) => RouteTarget::Object(id),
        Held::Gateways(id) => RouteTarget::Gateways(gws.get(id).cloned().unwrap_or_default()),
    }
}

/// Whether the kernel holds exactly `target` (`None`: no route).
fn holds(held: Option<Held>, target: Option<&RouteTarget>, gws: &GatewayLists) -> bool {
    match (held, target) {
        (None, None) => true,
        (Some(Held::Blackhole), Some(RouteTarget::Blackhole)) => true,
        (Some(Held::Unreachable), Some(RouteTarget::Unreachable)) => true,
        (Some(Held::Object(a)), Some(RouteTarget::Object(b))) => a == *b,
        (Some(Held::Gateways(id)), Some(RouteTarget::Gateways(g))) => gws.get(id) == Some(g),
        _ => false,
    }
}

#[derive(Debug, Clone)]
struct NextHopUse {
    routes: u32,
    via: Option<Resolved>,
}

/// The last resolution of next hops to a target: the RIB sends long runs of routes with the
/// same next hops, which then cost one id comparison instead of resolving again. Cleared when
/// the set's id is released (ids are reused).
#[derive(Debug, Clone)]
struct Memo {
    via: Id,
    v6_prefix: bool,
    target: Option<RouteTarget>,
}

/// The parts of [`Fib`] that resolving a target needs, borrowed beside an entry.
struct PlanCtx<'a> {
    id: &'a RouteIdentity,
    nh: &'a mut NhTable,
    seq: &'a mut u32,
    memo: &'a mut Option<Memo>,
    sets: &'a Interner<Vec<IpAddr>>,
    use_objects: bool,
    blackhole: &'a RouteTarget,
}

impl PlanCtx<'_> {
    fn target_for(
        &mut self,
        prefix: &IpNet,
        e: &Entry,
        ifs: &Interfaces,
        b: &mut Batch,
    ) -> Option<RouteTarget> {
        if e.has(BLACKHOLE) {
            return Some(self.blackhole.clone());
        }
        let via = e.via?;
        let v6_prefix = prefix.addr().is_ipv6();
        if let Some(m) = self.memo.as_ref() {
            if m.v6_prefix == v6_prefix && m.via == via {
                return m.target.clone();
            }
        }
        let hops = self.sets.get(via)?;
        let target = self.resolve(v6_prefix, hops, ifs, b);
        *self.memo = Some(Memo { via, v6_prefix, target: target.clone() });
        target
    }

    fn resolve(
        &mut self,
        v6_prefix: bool,
        hops: &[IpAddr],
        ifs: &Interfaces,
        b: &mut Batch,
    ) -> Option<RouteTarget> {
        let mut resolved: Vec<(IpAddr, u32)> = hops
            .iter()
            .filter(|h| !(v6_prefix && h.is_ipv4()))
            .filter_map(|h| ifs.resolve(*h))
            .flat_map(|r| r.hops)
            .collect();
        resolved.sort_unstable();
        resolved.dedup();
        if resolved.is_empty() {
            return None;
        }
        if !self.use_objects {
            return Some(RouteTarget::Gateways(resolved));
        }
        let mut ids: Vec<u32> = resolved
            .iter()
            .map(|(gw, oif)| self.ensure_object(NhKey::Gateway(*gw, *oif), b))
            .collect();
        if let [single] = ids[..] {
            return Some(RouteTarget::Object(single));
        }
        ids.sort_unstable();
        Some(RouteTarget::Object(self.ensure_object(NhKey::Group(ids), b)))
    }

    fn ensure_object(&mut self, key: NhKey, b: &mut Batch) -> u32 {
        if let Some(id) = self.nh.find(&key) {
            return id;
        }
        let kind = match &key {
            NhKey::Gateway(gateway, oif) => NexthopKind::Gateway { gateway: *gateway, oif: *oif },
            NhKey::Group(members) => NexthopKind::Group(members.clone()),
        };
        let id = self.nh.create(key);
        let seq = next_seq(self.seq);
        let msg = NexthopMessage { id, protocol: self.id.protocol, kind };
        msg.emit_new(seq, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, &mut b.buf);
        b.ops.push((seq, Op::NhNew(id)));
        id
    }
}

fn next_seq(seq: &mut u32) -> u32 {
    *seq = seq.wrapping_add(1).max(1);
    *seq
}

/// See the module documentation.
pub struct Fib {
    id: RouteIdentity,
    blackhole: RouteTarget,
    use_objects: bool,
    entries: PrefixMap<Entry>,
    nh: NhTable,
    /// Next-hop sets wanted by the RIB (sorted, deduplicated), shared by the routes using them.
    sets: Interner<Vec<IpAddr>>,
    gws: GatewayLists,
    dirty: PrefixQueue,
    /// Routes to remove, held back until `dirty` is empty so that those sharing a nexthop
    /// object can go with one RTM_DELNEXTHOP.
    removals: PrefixQueue,
    /// Routes going with the objects deleted by the batch in flight ([`Op::NhFlush`]).
    flushing: PrefixQueue,
    deletes: PrefixQueue,
    failed: Vec<IpNet>,
    purge_allowed: bool,
    gc_needed: bool,
    installed: u64,
    /// Next hops of desired routes: how many routes use each, and the interface it resolves
    /// to now (`None`: unreachable, reported as such).
    next_hops: HashMap<IpAddr, NextHopUse>,
    events: Vec<KernelEvent>,
    stats: Arc<Stats>,
    seq: u32,
    memo: Option<Memo>,
    /// The desired state changed since [`Fib::take_touched`].
    touched: bool,
}

/// What [`set_kernel`] keeps right beside an entry.
struct KernelRefs<'a> {
    nh: &'a mut NhTable,
    gws: &'a mut GatewayLists,
    installed: &'a mut u64,
}

/// Records a new kernel state for an entry, keeping object users, interned gateway lists and
/// the gauge right.
fn set_kernel(e: &mut Entry, k: KernelRefs<'_>, new: Option<RouteTarget>) {
    match e.kernel() {
        Some(Held::Object(id)) => k.nh.remove_user(id),
        Some(Held::Gateways(id)) => {
            k.gws.release(id);
        }
        Some(_) => {}
        None => *k.installed += 1,
    }
    let held = match new {
        Some(RouteTarget::Object(id)) => {
            k.nh.add_user(id);
            Some(Held::Object(id))
        }
        Some(RouteTarget::Gateways(g)) => Some(Held::Gateways(k.gws.acquire(&g).0)),
        Some(RouteTarget::Blackhole) => Some(Held::Blackhole),
        Some(RouteTarget::Unreachable) => Some(Held::Unreachable),
        None => {
            *k.installed = k.installed.saturating_sub(1);
            None
        }
    };
    e.set_kernel_raw(held);
}

macro_rules! held {
    ($self:ident) => {
        KernelRefs { nh: &mut $self.nh, gws: &mut $self.gws, installed: &mut $self.installed }
    };
}

/// Gateways in a canonical order so that what we read compares equal to what we would write.
fn normalize(target: RouteTarget) -> RouteTarget {
    match target {
        RouteTarget::Gateways(mut hops) => {
            hops.sort_unstable();
            hops.dedup();
            RouteTarget::Gateways(hops)
        }
        other => other,
    }
}

impl Fib {
    pub fn new(cfg: &KernelConfig, opts: &SyncOptions, stats: Arc<Stats>) -> Fib {
        Fib {
            id: RouteIdentity { protocol: cfg.protocol, table: cfg.table, metric: cfg.metric },
            blackhole: match opts.blackhole_kind {
                BlackholeKind::Blackhole => RouteTarget::Blackhole,
                BlackholeKind::Unreachable => RouteTarget::Unreachable,
            },
            use_objects: opts.nexthop_objects,
            entries: PrefixMap::default(),
            nh: NhTable::new(opts.nexthop_id_base),
            sets: Interner::default(),
            gws: Interner::default(),
            dirty: PrefixQueue::default(),
            removals: PrefixQueue::default(),
            flushing: PrefixQueue::default(),
            deletes: PrefixQueue::default(),
            failed: Vec::new(),
            purge_allowed: false,
            gc_needed: false,
            installed: 0,
            next_hops: HashMap::new(),
            events: Vec::new(),
            stats,
            seq: 0,
            memo: None,
            touched: false,
        }
    }

    pub fn identity(&self) -> RouteIdentity {
        self.id
    }

    /// Whether routes point at nexthop objects (false when the kernel lacks them).
    pub fn uses_objects(&self) -> bool {
        self.use_objects
    }

    pub fn disable_objects(&mut self) {
        self.use_objects = false;
        self.memo = None;
    }

    /// Whether `set`, `remove` or `set_blackhole` were called since the last call.
    pub fn take_touched(&mut self) -> bool {
        std::mem::take(&mut self.touched)
    }

    pub fn take_events(&mut self) -> Vec<KernelEvent> {
        std::mem::take(&mut self.events)
    }

    pub fn next_seq(&mut self) -> u32 {
        next_seq(&mut self.seq)
    }

    fn mark_dirty(&mut self, prefix: IpNet) {
        if let Some(e) = self.entries.get_mut(&prefix) {
            if !e.has(QUEUED) {
                e.set(QUEUED, true);
                self.dirty.push_back(prefix);
            }
        }
    }

    // ---- desired state -------------------------------------------------------------------

    /// The RIB wants `prefix` via `next_hops` (ECMP when more than one); replaces the previous
    /// wish. An empty list is the same as `remove`.
    pub fn set(&mut self, prefix: IpNet, next_hops: &[IpAddr], ifs: &Interfaces) {
        let prefix = prefix.trunc();
        if next_hops.is_empty() {
            return self.remove(prefix);
        }
        self.touched = true;
        let sorted;
        let hops = if next_hops.windows(2).all(|w| w[0] < w[1]) {
            next_hops
        } else {
            let mut v = next_hops.to_vec();
            v.sort_unstable();
            v.dedup();
            sorted = v;
            &sorted[..]
        };
        let e = self.entries.get_or_insert_with(&prefix, Entry::default);
        e.set(STALE, false);
        if e.via.and_then(|id| self.sets.get(id)).is_some_and(|v| **v == *hops) {
            return;
        }
        let (id, new) = self.sets.acquire(hops);
        let old = e.via.replace(id);
        if !e.has(QUEUED) {
            e.set(QUEUED, true);
            self.dirty.push_back(prefix);
        }
        if new {
            // Next hops are counted per set: routes sharing a set cost nothing here.
            let mut new_unreachable = Vec::new();
            for h in hops {
                let usage = self.next_hops.entry(*h).or_insert_with(|| {
                    let via = ifs.resolve(*h);
                    if via.is_none() {
                        new_unreachable.push(*h);
                    }
                    NextHopUse { routes: 0, via }
                });
                usage.routes += 1;
            }
            if !new_unreachable.is_empty() {
                self.events.push(KernelEvent::NextHopsUnreachable(new_unreachable));
            }
        }
        if let Some(old) = old {
            self.release_set(old);
        }
    }

    /// A route stopped using the next-hop set `id`.
    fn release_set(&mut self, id: Id) {
        let Some(hops) = self.sets.release(id) else { return };
        if self.memo.as_ref().is_some_and(|m| m.via == id) {
            self.memo = None;
        }
        for h in hops.iter() {
            if let Some(usage) = self.next_hops.get_mut(h) {
                usage.routes -= 1;
                if usage.routes == 0 {
                    self.next_hops.remove(h);
                }
            }
        }
    }

    /// The RIB no longer has `prefix` (a blackhole set for it stays).
    pub fn remove(&mut self, prefix: IpNet) {
        let prefix = prefix.trunc();
        self.touched = true;
        let Some(e) = self.entries.get_mut(&prefix) else { return };
        // A stale route the RIB never set stays stale (purged with the others).
        let Some(old) = e.via.take() else { return };
        // The common case (a peer's routes withdrawn) goes straight to the removals, where
        // routes sharing a nexthop object are grouped: no second lookup through `dirty`.
        if !e.has(QUEUED) {
            e.set(QUEUED, true);
            match e.kernel() {
                Some(Held::Object(_)) if !e.has(BLACKHOLE) => self.removals.push_back(prefix),
                _ => self.dirty.push_back(prefix),
            }
        }
        self.release_set(old);
    }

    pub fn set_blackhole(&mut self, prefix: IpNet, on: bool) {
        let prefix = prefix.trunc();
        self.touched = true;
        let e = self.entries.get_or_insert_with(&prefix, Entry::default);
        if on {
            e.set(STALE, false);
        }
        if e.has(BLACKHOLE) != on {
            e.set(BLACKHOLE, on);
            self.mark_dirty(prefix);
        }
    }

    /// Stale routes may now be removed.
    pub fn allow_purge(&mut self) {
        if self.purge_allowed {
            return;
        }
        self.purge_allowed = true;
        let stale: Vec<IpNet> =
            self.entries.iter().filter(|(_, e)| e.has(STALE)).map(|(p, _)| p).collect();
        for p in stale {
            self.mark_dirty(p);
        }
    }

    /// Shutdown with flush: nothing is desired any more, everything of ours goes.
    pub fn clear_all(&mut self) {
        self.purge_allowed = true;
        for (p, e) in self.entries.iter_mut() {
            e.via = None;
            e.set(BLACKHOLE, false);
            e.set(FOREIGN, false);
            if !e.has(QUEUED) {
                e.set(QUEUED, true);
                self.dirty.push_back(p);
            }
        }
        self.sets.clear();
        self.memo = None;
        self.next_hops.clear();
        self.gc_needed = true;
    }

    // ---- kernel view ------------------------------------------------------------------------

    /// Replaces our view of the kernel by a fresh dump (start-up, and resync after interface
    /// changes or lost notifications) and re-examines every prefix. `nexthops` is `None` when
    /// the kernel has no nexthop objects.
    pub fn load_kernel(&mut self, routes: Vec<ParsedRoute>, nexthops: Option<&[NexthopMessage]>) {
        self.nh.load(nexthops.unwrap_or(&[]), self.id.protocol);
        self.memo = None;
        self.installed = 0;
        self.dirty.clear();
        self.removals.clear();
        self.flushing.clear();
        self.deletes.clear();
        self.failed.clear();
        self.gws.clear();
        for e in self.entries.values_mut() {
            // Believed installed: if the dump lacks it, someone removed it (the notification
            // may have been lost), and installing it again is a repair.
            let installed = e.kernel().is_some() && e.desired();
            e.set(REPAIR, e.has(REPAIR) || installed);
            e.set_kernel_raw(None);
            e.set(QUEUED, false);
            e.set(FAILED, false);
            e.set(FOREIGN, false);
        }
        for r in routes {
            if !self.is_ours(&r) {
                continue;
            }
            let purge = self.purge_allowed;
            let e = self.entries.get_or_insert_with(&r.prefix, || Entry::stale(!purge));
            set_kernel(e, held!(self), Some(normalize(r.target)));
        }
        self.entries.retain(|e| e.desired() || e.kernel().is_some());
        let mut missing = 0u64;
        for (p, e) in self.entries.iter_mut() {
            if e.kernel().is_some() {
                e.set(REPAIR, false);
            } else if e.has(REPAIR) {
                missing += 1;
            }
            e.set(QUEUED, true);
            self.dirty.push_back(p);
        }
        if missing > 0 {
            tracing::info!(missing, "routes of ours missing from the kernel, putting them back");
        }
        self.gc_needed = true;
        self.sync_gauges();
    }

    fn is_ours(&self, r: &ParsedRoute) -> bool {
        r.table == self.id.table && r.protocol == self.id.protocol && r.metric == self.id.metric
    }

    /// A route notification from the monitor socket (our own requests' echoes are filtered
    /// out before they get here). Returns true when it concerned one of our prefixes.
    pub fn on_route_event(&mut self, deleted: bool, flags: u16, r: ParsedRoute) -> bool {
        if r.table != self.id.table || r.metric != self.id.metric {
            return false;
        }
        let prefix = r.prefix;
        if r.protocol == self.id.protocol {
            if deleted {
                let Some(e) = self.entries.get_mut(&prefix) else { return false };
                if e.kernel().is_none() {
                    return false;
                }
                set_kernel(e, held!(self), None);
                if e.desired() {
                    e.set(REPAIR, true);
                    tracing::info!(%prefix, "route of ours deleted behind our back, putting it back");
                    self.mark_dirty(prefix);
                } else if !e.has(QUEUED) {
                    self.entries.remove(&prefix);
                }
            } else {
                let purge = self.purge_allowed;
                let target = normalize(r.target);
                let e = self.entries.get_or_insert_with(&prefix, || Entry::stale(!purge));
                if holds(e.kernel(), Some(&target), &self.gws) {
                    return true;
                }
                set_kernel(e, held!(self), Some(target));
                e.set(REPAIR, e.desired());
                tracing::info!(%prefix, "route of ours changed behind our back");
                self.mark_dirty(prefix);
            }
            self.gc_needed = true;
            self.sync_gauges();
            return true;
        }
        let Some(e) = self.entries.get_mut(&prefix) else { return false };
        if deleted {
            if e.has(FOREIGN) {
                tracing::info!(%prefix, protocol = r.protocol, "foreign route gone, installing ours");
                e.set(FOREIGN, false);
                e.set(REPORTED, false);
                self.mark_dirty(prefix);
            }
            return true;
        }
        if flags & NLM_F_REPLACE != 0 && e.kernel().is_some() {
            // The kernel replaced ours with it: same slot.
            set_kernel(e, held!(self), None);
            self.gc_needed = true;
        }
        if e.desired() {
            if e.kernel().is_none() {
                e.set(FOREIGN, true);
            }
            if !e.has(REPORTED) {
                e.set(REPORTED, true);
                Stats::add(&self.stats.foreign_conflicts, 1);
                tracing::warn!(%prefix, protocol = r.protocol, "foreign route in our slot, leaving it alone");
                self.events.push(KernelEvent::ForeignRoute { prefix, protocol: r.protocol });
            }
        } else if e.kernel().is_none() && !e.has(QUEUED) {
            self.entries.remove(&prefix);
        }
        self.sync_gauges();
        true
    }

    /// Who holds the slot that refused our create with EEXIST (looked up by the caller).
    pub fn conflict_owner(&mut self, prefix: IpNet, protocol: Option<u8>) {
        let Some(e) = self.entries.get_mut(&prefix) else { return };
        if protocol == Some(self.id.protocol) {
            // Our own route, which we had lost track of: replace it.
            e.set(FOREIGN, false);
            set_kernel(e, held!(self), Some(RouteTarget::Gateways(vec![])));
            self.mark_dirty(prefix);
            return;
        }
        e.set(FOREIGN, true);
        Stats::add(&self.stats.foreign_conflicts, 1);
        if !e.has(REPORTED) {
            e.set(REPORTED, true);
            let protocol = protocol.unwrap_or(0);
            tracing::warn!(%prefix, protocol, "foreign route in our slot (EEXIST), leaving it alone");
            self.events.push(KernelEvent::ForeignRoute { prefix, protocol });
        }
    }

    /// Whether a next hop in use resolves through interface `ifindex`.
    pub fn uses_interface(&self, ifindex: u32) -> bool {
        self.next_hops
            .values()
            .filter_map(|u| u.via.as_ref())
            .any(|r| r.hops.iter().any(|(_, oif)| *oif == ifindex))
    }

    /// Re-resolves every next hop in use after an interface or route change and reports
    /// reachability transitions (a next hop that now resolves differently counts as reachable
    /// again: its cost may have changed). Returns true when any next hop now goes through
    /// other gateways (kernel routes must change).
    pub fn interfaces_changed(&mut self, ifs: &Interfaces) -> bool {
        self.memo = None;
        let mut down = Vec::new();
        let mut up = Vec::new();
        let mut changed = false;
        for (h, usage) in self.next_hops.iter_mut() {
            let via = ifs.resolve(*h);
            if via == usage.via {
                continue;
            }
            // A new cost alone changes no kernel route (the RIB weighs it).
            changed |= via.as_ref().map(|r| &r.hops) != usage.via.as_ref().map(|r| &r.hops);
            match (&usage.via, &via) {
                (Some(_), None) => down.push(*h),
                (_, Some(_)) => up.push(*h),
                (None, None) => {}
            }
            usage.via = via;
        }
        down.sort_unstable();
        up.sort_unstable();
        if !down.is_empty() {
            tracing::warn!(?down, "next hops became unreachable");
            self.events.push(KernelEvent::NextHopsUnreachable(down));
        }
        if !up.is_empty() {
            tracing::info!(?up, "next hops reachable again");
            self.events.push(KernelEvent::NextHopsReachable(up));
        }
        changed
    }

    // ---- planning ---------------------------------------------------------------------------

    /// Something to plan (held removals excepted, see [`Fib::has_removals`]).
    pub fn has_work(&self) -> bool {
        !self.dirty.is_empty() || !self.deletes.is_empty() || self.gc_needed
    }

    /// Everything installable is installed and nothing waits for a retry.
    pub fn in_sync(&self) -> bool {
        self.dirty.is_empty()
            && self.removals.is_empty()
            && self.deletes.is_empty()
            && self.failed.is_empty()
    }

    /// Planning to do, held removals included.
    pub fn pending(&self) -> bool {
        self.has_work() || self.has_removals()
    }

    pub fn has_failed(&self) -> bool {
        !self.failed.is_empty()
    }

    /// Moves the routes the kernel refused back into the work queue.
    pub fn retry_failed(&mut self) {
        for p in std::mem::take(&mut self.failed) {
            if let Some(e) = self.entries.get_mut(&p) {
                e.set(FAILED, false);
            }
            self.mark_dirty(p);
        }
    }

    /// Removals are waiting (held back while more commands may follow).
    pub fn has_removals(&self) -> bool {
        !self.removals.is_empty()
    }

    /// Packs requests into one batch of about `max_bytes`. `hold_removals`: more commands are
    /// coming (a peer's withdrawals still arriving), keep removals back so that they can be
    /// grouped per nexthop object.
    pub fn plan(&mut self, ifs: &Interfaces, max_bytes: usize, hold_removals: bool) -> Batch {
        let mut b = Batch { buf: Vec::with_capacity(max_bytes + 4096), ops: Vec::new() };
        self.dirty.spread();
        while b.buf.len() < max_bytes {
            if let Some(p) = self.dirty.pop_front() {
                self.plan_prefix(p, ifs, &mut b, true);
            } else if !self.removals.is_empty() {
                if hold_removals {
                    break;
                }
                self.plan_removals(&mut b);
            } else if let Some(p) = self.deletes.pop_front() {
                self.plan_prefix(p, ifs, &mut b, false);
            } else {
                if self.gc_needed && b.ops.is_empty() {
                    self.gc_needed = false;
                    for id in self.nh.garbage() {
                        let seq = next_seq(&mut self.seq);
                        nexthop_msg::emit_delete(id, seq, NLM_F_REQUEST, &mut b.buf);
                        b.ops.push((seq, Op::NhDel(id)));
                    }
                }
                break;
            }
        }
        b
    }

    /// Plans one prefix. Our view of the kernel is updated right away (optimistically): the
    /// batch goes out before anything else happens, and [`Fib::complete`] reverts the requests
    /// the kernel refused, so the common case costs no second lookup.
    fn plan_prefix(&mut self, prefix: IpNet, ifs: &Interfaces, b: &mut Batch, defer: bool) {
        let Some(e) = self.entries.get_mut(&prefix) else { return };
        e.set(QUEUED, false);
        let desired = e.desired();
        if desired && e.has(FOREIGN) {
            return;
        }
        if !desired && e.kernel().is_none() {
            self.entries.remove(&prefix);
            return;
        }
        if e.has(STALE) && !self.purge_allowed {
            return;
        }
        let mut ctx = PlanCtx {
            id: &self.id,
            nh: &mut self.nh,
            seq: &mut self.seq,
            memo: &mut self.memo,
            sets: &self.sets,
            use_objects: self.use_objects,
            blackhole: &self.blackhole,
        };
        let target = ctx.target_for(&prefix, e, ifs, b);
        if target.is_none() {
            // Not installable now (next hop unreachable): installing it later is no repair.
            e.set(REPAIR, false);
        }
        if holds(e.kernel(), target.as_ref(), &self.gws) {
            return;
        }
        let old = e.kernel().map(|h| target_of(h, &self.gws));
        match target {
            None if defer => {
                e.set(QUEUED, true);
                self.removals.push_back(prefix);
            }
            None => {
                let seq = next_seq(&mut self.seq);
                route_msg::emit_del_route(&self.id, &prefix, seq, &mut b.buf);
                set_kernel(e, held!(self), None);
                b.ops.push((seq, Op::Route { prefix, new: None, old, repair: false }));
                if !desired {
                    self.entries.remove(&prefix);
                }
            }
            Some(t) => {
                let seq = next_seq(&mut self.seq);
                route_msg::emit_new_route(&self.id, &prefix, &t, old.is_some(), seq, &mut b.buf);
                let repair = e.take(REPAIR);
                set_kernel(e, held!(self), Some(t.clone()));
                b.ops.push((seq, Op::Route { prefix, new: Some(t), old, repair }));
            }
        }
    }

    /// Removals: an object whose users are all going is deleted (taking its routes with it);
    /// the rest is deleted route by route.
    /// (The object of each route is looked up here rather than carried in the list, which
    /// stays at one `IpNet` per route: a million withdrawals are queued at once.)
    fn plan_removals(&mut self, b: &mut Batch) {
        fn object_of(entries: &PrefixMap<Entry>, p: &IpNet) -> Option<u32> {
            let e = entries.get(p).filter(|e| !e.desired())?;
            match e.kernel() {
                Some(Held::Object(id)) => Some(id),
                _ => None,
            }
        }
        let mut list = std::mem::take(&mut self.removals);
        // The object of each route, in list order (0: none; object ids are never 0).
        let objects: Vec<u32> =
            list.iter().map(|p| object_of(&self.entries, &p).unwrap_or(0)).collect();
        let mut per_object: HashMap<u32, u64> = HashMap::new();
        for id in objects.iter().filter(|id| **id != 0) {
            *per_object.entry(*id).or_default() += 1;
        }
        let mut flushed: Vec<u32> = per_object
            .into_iter()
            .filter(|(id, n)| self.nh.get(*id).is_some_and(|o| o.users == *n && o.group_refs == 0))
            .map(|(id, _)| id)
            .collect();
        flushed.sort_unstable();
        let deletes = &mut self.deletes;
        let mut objects = objects.into_iter();
        list.retain(|p| {
            let id = objects.next().unwrap_or(0);
            let going = id != 0 && flushed.binary_search(&id).is_ok();
            if !going {
                deletes.push_back(p);
            }
            going
        });
        for id in flushed {
            let seq = next_seq(&mut self.seq);
            nexthop_msg::emit_delete(id, seq, NLM_F_REQUEST, &mut b.buf);
            b.ops.push((seq, Op::NhFlush(id)));
        }
        self.flushing.append(&mut list);
    }

    // ---- outcome ----------------------------------------------------------------------------

    /// Applies the outcome of a sent batch: `errors` maps sequence numbers to errno (positive)
    /// of the requests the kernel refused. Returns the prefixes refused with EEXIST, whose
    /// holder the caller should look up ([`Fib::conflict_owner`]).
    pub fn complete(&mut self, ops: Vec<(u32, Op)>, errors: &HashMap<u32, i32>) -> Vec<IpNet> {
        let mut conflicts = Vec::new();
        let mut flushes = Vec::new();
        let (mut installed_ok, mut removed, mut repaired) = (0, 0, 0);
        // Object users may have dropped to zero: look for garbage once the queues are empty.
        self.gc_needed |= !ops.is_empty();
        Stats::add(&self.stats.netlink_errors, errors.len() as u64);
        for (seq, op) in ops {
            let err = errors.get(&seq).copied();
            match op {
                Op::NhNew(id) => {
                    if let Some(errno) = err {
                        tracing::warn!(id, errno, "nexthop object refused");
                        self.nh.forget(id, errno == EEXIST);
                        self.memo = None;
                    }
                }
                Op::NhDel(id) => match err {
                    None | Some(ENOENT) => {
                        self.nh.forget(id, false);
                        self.memo = None;
                        self.gc_needed = true;
                    }
                    Some(errno) => {
                        tracing::warn!(id, errno, "nexthop object delete refused");
                        self.nh.block_gc(id);
                    }
                },
                Op::NhFlush(id) => flushes.push((id, err)),
                Op::Route { prefix, new, old, repair } => match (err, new.is_some()) {
                    (None, true) => {
                        installed_ok += 1;
                        repaired += u64::from(repair);
                    }
                    (None, false) => removed += 1,
                    (Some(ESRCH), false) => {}
                    (Some(errno), installing) => {
                        self.refused(prefix, old, repair, errno, installing, &mut conflicts)
                    }
                },
            }
        }
        if !self.flushing.is_empty() || !flushes.is_empty() {
            removed += self.flush_done(&flushes);
        }
        Stats::add(&self.stats.install_ok, installed_ok);
        Stats::add(&self.stats.removed, removed);
        Stats::add(&self.stats.repaired, repaired);
        self.sync_gauges();
        conflicts
    }

    /// Reverts our view for a refused route request and decides what follows.
    fn refused(
        &mut self,
        prefix: IpNet,
        old: Option<RouteTarget>,
        repair: bool,
        errno: i32,
        installing: bool,
        conflicts: &mut Vec<IpNet>,
    ) {
        // A refused delete of a route nobody wants any more: the entry was dropped.
        let e = self.entries.get_or_insert_with(&prefix, Entry::default);
        set_kernel(e, held!(self), old.clone());
        e.set(REPAIR, e.has(REPAIR) | repair);
        if installing && errno == EEXIST && old.is_none() {
            e.set(FOREIGN, true);
            conflicts.push(prefix);
            return;
        }
        if installing {
            Stats::add(&self.stats.install_failed, 1);
        }
        tracing::debug!(%prefix, errno, "kernel refused route request, will retry");
        if !e.has(FAILED) {
            e.set(FAILED, true);
            self.failed.push(prefix);
        }
    }

    /// Outcome of the object deletes (`(id, errno)`) for the routes of `flushing`. Returns
    /// how many routes went with the objects.
    fn flush_done(&mut self, flushes: &[(u32, Option<i32>)]) -> u64 {
        let mut gone = HashSet::new();
        let mut refused = HashSet::new();
        for (id, err) in flushes {
            if let Some(errno) = err.filter(|e| *e != ENOENT) {
                tracing::warn!(
                    id,
                    errno,
                    "nexthop object flush refused, deleting routes one by one"
                );
                self.nh.block_gc(*id);
                refused.insert(*id);
            } else {
                gone.insert(*id);
            }
        }
        let mut removed = 0;
        for p in std::mem::take(&mut self.flushing) {
            let Some(e) = self.entries.get_mut(&p) else { continue };
            match e.kernel() {
                Some(Held::Object(id)) if refused.contains(&id) => {
                    self.deletes.push_back(p);
                    continue;
                }
                Some(Held::Object(id)) if gone.contains(&id) => {
                    set_kernel(e, held!(self), None);
                    removed += 1;
                }
                _ => {}
            }
            e.set(QUEUED, false);
            if e.desired() {
                e.set(QUEUED, true);
                self.dirty.push_back(p);
            } else {
                self.entries.remove(&p);
            }
        }
        for id in gone {
            self.nh.forget(id, false);
        }
        self.memo = None;
        removed
    }

    /// The whole batch was lost (send failed): our view is reverted, everything is retried.
    pub fn batch_lost(&mut self, ops: Vec<(u32, Op)>) {
        Stats::add(&self.stats.netlink_errors, 1);
        self.memo = None;
        for (_, op) in ops.into_iter().rev() {
            match op {
                Op::NhNew(id) => self.nh.forget(id, false),
                Op::NhDel(_) => self.gc_needed = true,
                Op::NhFlush(_) => self.deletes.append(&mut self.flushing),
                Op::Route { prefix, old, repair, .. } => {
                    let e = self.entries.get_or_insert_with(&prefix, Entry::default);
                    set_kernel(e, held!(self), old);
                    e.set(REPAIR, e.has(REPAIR) | repair);
                    if !e.has(FAILED) {
                        e.set(FAILED, true);
                        self.failed.push(prefix);
                    }
                }
            }
        }
        self.sync_gauges();
    }

    fn sync_gauges(&self) {
        Stats::set(&self.stats.installed, self.installed);
        let pending = self.dirty.len()
            + self.removals.len()
            + self.deletes.len()
            + self.failed.len()
            + self.flushing.len();
        Stats::set(&self.stats.pending, pending as u64);
    }

    /// Our routes of a fresh dump, for display.
    pub fn view(&self, dump: Vec<ParsedRoute>, ifs: &Interfaces) -> Vec<KernelRoute> {
        let hop = |(gateway, ifindex): (IpAddr, u32)| KernelNextHop {
            gateway,
            ifindex,
            dev: ifs.name(ifindex).to_string(),
        };
        let mut out: Vec<KernelRoute> = dump
            .into_iter()
            .filter(|r| self.is_ours(r))
            .map(|r| {
                let (next_hops, blackhole, nexthop_id) = match r.target {
                    RouteTarget::Blackhole | RouteTarget::Unreachable => (vec![], true, None),
                    RouteTarget::Object(id) => {
                        (self.nh.gateways(id).into_iter().map(hop).collect(), false, Some(id))
                    }
                    RouteTarget::Gateways(g) => (g.into_iter().map(hop).collect(), false, None),
                };
                KernelRoute { prefix: r.prefix, next_hops, blackhole, nexthop_id }
            })
            .collect();
        out.sort_by_key(|r| r.prefix);
        out
    }

    /// Number of prefixes we track (desired or present).
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests;
