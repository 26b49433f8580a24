//! The core of route-sync, without I/O: what the RIB wants, what we believe the kernel holds
//! (our routes only), our nexthop objects, and the netlink requests that close the gap.
//!
//! The kernel executes rtnetlink requests synchronously inside `send()`, so a batch is planned,
//! sent, and its error replies (requests are sent without NLM_F_ACK: silence is success) are
//! all queued on the socket when `send()` returns. [`Fib::complete`] then applies the outcome.
//! No request is ever "in flight" across two batches, which keeps this state exact.

use std::collections::hash_map::Entry as Slot;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST};

use crate::config::{BlackholeKind, KernelConfig, SyncOptions};
use crate::events::{KernelEvent, KernelNextHop, KernelRoute, Stats};
use crate::hash::FastState;
use crate::interfaces::Interfaces;
use crate::nexthop_msg::{self, NexthopKind, NexthopMessage};
use crate::nexthops::{NhKey, NhTable};
use crate::route_msg::{self, ParsedRoute, RouteIdentity, RouteTarget};

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
    /// RTM_DELNEXTHOP that also removes these routes (all the users of the object).
    NhFlush { id: u32, prefixes: Vec<IpNet> },
}

/// Requests packed for one `send()`.
#[derive(Debug, Default)]
pub struct Batch {
    pub buf: Vec<u8>,
    pub ops: Vec<(u32, Op)>,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    /// Next hops the RIB wants (`set`).
    via: Option<Box<[IpAddr]>>,
    /// Blackhole wanted (`set_blackhole`); takes precedence over `via`.
    blackhole: bool,
    /// Our route as the kernel holds it, as far as we know.
    kernel: Option<RouteTarget>,
    /// Left by a previous run (or written by someone else with our protocol) and never set
    /// by the RIB since: removed only once the stale purge is allowed.
    stale: bool,
    /// In one of the work queues.
    queued: bool,
    /// In the retry list.
    failed: bool,
    /// A foreign route holds the slot: not retried until it goes away (or a resync).
    foreign: bool,
    /// The foreign holder was reported (once per episode).
    reported: bool,
    /// The kernel lost or changed it behind our back: count it as repaired when put back.
    repair: bool,
}

impl Entry {
    fn desired(&self) -> bool {
        self.blackhole || self.via.is_some()
    }
}

#[derive(Debug, Clone, Copy)]
struct NextHopUse {
    routes: u32,
    oif: Option<u32>,
}

/// The last resolution of next hops to a target: the RIB sends long runs of routes with the
/// same next hops, which then cost one slice comparison instead of resolving again.
#[derive(Debug, Clone)]
struct Memo {
    via: Box<[IpAddr]>,
    v6_prefix: bool,
    target: Option<RouteTarget>,
}

/// The parts of [`Fib`] that resolving a target needs, borrowed beside an entry.
struct PlanCtx<'a> {
    id: &'a RouteIdentity,
    nh: &'a mut NhTable,
    seq: &'a mut u32,
    memo: &'a mut Option<Memo>,
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
        if e.blackhole {
            return Some(self.blackhole.clone());
        }
        let hops = e.via.as_deref()?;
        let v6_prefix = prefix.addr().is_ipv6();
        if let Some(m) = self.memo.as_ref() {
            if m.v6_prefix == v6_prefix && *m.via == *hops {
                return m.target.clone();
            }
        }
        let target = self.resolve(v6_prefix, hops, ifs, b);
        *self.memo = Some(Memo { via: hops.into(), v6_prefix, target: target.clone() });
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
            .filter_map(|h| ifs.resolve(*h).map(|oif| (*h, oif)))
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
    entries: HashMap<IpNet, Entry, FastState>,
    nh: NhTable,
    dirty: VecDeque<IpNet>,
    /// Routes to remove, held back until `dirty` is empty so that those sharing a nexthop
    /// object can go with one RTM_DELNEXTHOP.
    removals: Vec<(IpNet, Option<u32>)>,
    deletes: VecDeque<IpNet>,
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
}

/// Records a new kernel state for an entry, keeping object users and the gauge right.
fn set_kernel(e: &mut Entry, nh: &mut NhTable, installed: &mut u64, new: Option<RouteTarget>) {
    match &e.kernel {
        Some(RouteTarget::Object(id)) => nh.remove_user(*id),
        Some(_) => {}
        None => *installed += 1,
    }
    match &new {
        Some(RouteTarget::Object(id)) => nh.add_user(*id),
        Some(_) => {}
        None => *installed = installed.saturating_sub(1),
    }
    e.kernel = new;
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
            entries: HashMap::default(),
            nh: NhTable::new(opts.nexthop_id_base),
            dirty: VecDeque::new(),
            removals: Vec::new(),
            deletes: VecDeque::new(),
            failed: Vec::new(),
            purge_allowed: false,
            gc_needed: false,
            installed: 0,
            next_hops: HashMap::new(),
            events: Vec::new(),
            stats,
            seq: 0,
            memo: None,
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

    pub fn take_events(&mut self) -> Vec<KernelEvent> {
        std::mem::take(&mut self.events)
    }

    pub fn next_seq(&mut self) -> u32 {
        next_seq(&mut self.seq)
    }

    fn mark_dirty(&mut self, prefix: IpNet) {
        if let Some(e) = self.entries.get_mut(&prefix) {
            if !e.queued {
                e.queued = true;
                self.dirty.push_back(prefix);
            }
        }
    }

    // ---- desired state -------------------------------------------------------------------

    /// The RIB wants `prefix` via `next_hops` (ECMP when more than one); replaces the previous
    /// wish. An empty list is the same as `remove`.
    pub fn set(&mut self, prefix: IpNet, mut next_hops: Vec<IpAddr>, ifs: &Interfaces) {
        let prefix = prefix.trunc();
        if next_hops.is_empty() {
            return self.remove(prefix);
        }
        next_hops.sort_unstable();
        next_hops.dedup();
        let e = self.entries.entry(prefix).or_default();
        e.stale = false;
        if e.via.as_deref() == Some(&next_hops[..]) {
            return;
        }
        let old = e.via.replace(next_hops.clone().into_boxed_slice());
        for h in old.iter().flat_map(|v| v.iter()) {
            self.unref_next_hop(*h);
        }
        let mut new_unreachable = Vec::new();
        for h in next_hops {
            let usage = self.next_hops.entry(h).or_insert_with(|| {
                let oif = ifs.resolve(h);
                if oif.is_none() {
                    new_unreachable.push(h);
                }
                NextHopUse { routes: 0, oif }
            });
            usage.routes += 1;
        }
        if !new_unreachable.is_empty() {
            self.events.push(KernelEvent::NextHopsUnreachable(new_unreachable));
        }
        self.mark_dirty(prefix);
    }

    fn unref_next_hop(&mut self, h: IpAddr) {
        if let Some(usage) = self.next_hops.get_mut(&h) {
            usage.routes -= 1;
            if usage.routes == 0 {
                self.next_hops.remove(&h);
            }
        }
    }

    /// The RIB no longer has `prefix` (a blackhole set for it stays).
    pub fn remove(&mut self, prefix: IpNet) {
        let prefix = prefix.trunc();
        let Some(e) = self.entries.get_mut(&prefix) else { return };
        // A stale route the RIB never set stays stale (purged with the others).
        let Some(old) = e.via.take() else { return };
        // The common case (a peer's routes withdrawn) goes straight to the removals, where
        // routes sharing a nexthop object are grouped: no second lookup through `dirty`.
        match &e.kernel {
            Some(RouteTarget::Object(id)) if !e.queued && !e.blackhole => {
                e.queued = true;
                self.removals.push((prefix, Some(*id)));
            }
            _ => self.mark_dirty(prefix),
        }
        for h in old.iter() {
            self.unref_next_hop(*h);
        }
    }

    pub fn set_blackhole(&mut self, prefix: IpNet, on: bool) {
        let prefix = prefix.trunc();
        let e = self.entries.entry(prefix).or_default();
        if on {
            e.stale = false;
        }
        if e.blackhole != on {
            e.blackhole = on;
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
            self.entries.iter().filter(|(_, e)| e.stale).map(|(p, _)| *p).collect();
        for p in stale {
            self.mark_dirty(p);
        }
    }

    /// Shutdown with flush: nothing is desired any more, everything of ours goes.
    pub fn clear_all(&mut self) {
        self.purge_allowed = true;
        let all: Vec<IpNet> = self.entries.keys().copied().collect();
        for p in all {
            if let Some(e) = self.entries.get_mut(&p) {
                e.via = None;
                e.blackhole = false;
                e.foreign = false;
            }
            self.mark_dirty(p);
        }
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
        self.deletes.clear();
        self.failed.clear();
        for e in self.entries.values_mut() {
            e.kernel = None;
            e.queued = false;
            e.failed = false;
            e.foreign = false;
        }
        for r in routes {
            if !self.is_ours(&r) {
                continue;
            }
            let purge = self.purge_allowed;
            let e = self
                .entries
                .entry(r.prefix)
                .or_insert_with(|| Entry { stale: !purge, ..Entry::default() });
            set_kernel(e, &mut self.nh, &mut self.installed, Some(normalize(r.target)));
        }
        self.entries.retain(|_, e| e.desired() || e.kernel.is_some());
        for (p, e) in self.entries.iter_mut() {
            e.queued = true;
            self.dirty.push_back(*p);
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
                if e.kernel.is_none() {
                    return false;
                }
                set_kernel(e, &mut self.nh, &mut self.installed, None);
                if e.desired() {
                    e.repair = true;
                    tracing::info!(%prefix, "route of ours deleted behind our back, putting it back");
                    self.mark_dirty(prefix);
                } else if !e.queued {
                    self.entries.remove(&prefix);
                }
            } else {
                let purge = self.purge_allowed;
                let target = normalize(r.target);
                let e = self
                    .entries
                    .entry(prefix)
                    .or_insert_with(|| Entry { stale: !purge, ..Entry::default() });
                if e.kernel.as_ref() == Some(&target) {
                    return true;
                }
                set_kernel(e, &mut self.nh, &mut self.installed, Some(target));
                e.repair = e.desired();
                tracing::info!(%prefix, "route of ours changed behind our back");
                self.mark_dirty(prefix);
            }
            self.gc_needed = true;
            self.sync_gauges();
            return true;
        }
        let Some(e) = self.entries.get_mut(&prefix) else { return false };
        if deleted {
            if e.foreign {
                tracing::info!(%prefix, protocol = r.protocol, "foreign route gone, installing ours");
                e.foreign = false;
                e.reported = false;
                self.mark_dirty(prefix);
            }
            return true;
        }
        if flags & NLM_F_REPLACE != 0 && e.kernel.is_some() {
            // The kernel replaced ours with it: same slot.
            set_kernel(e, &mut self.nh, &mut self.installed, None);
            self.gc_needed = true;
        }
        if e.desired() {
            if e.kernel.is_none() {
                e.foreign = true;
            }
            if !e.reported {
                e.reported = true;
                Stats::add(&self.stats.foreign_conflicts, 1);
                tracing::warn!(%prefix, protocol = r.protocol, "foreign route in our slot, leaving it alone");
                self.events.push(KernelEvent::ForeignRoute { prefix, protocol: r.protocol });
            }
        } else if e.kernel.is_none() && !e.queued {
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
            e.foreign = false;
            set_kernel(e, &mut self.nh, &mut self.installed, Some(RouteTarget::Gateways(vec![])));
            self.mark_dirty(prefix);
            return;
        }
        e.foreign = true;
        Stats::add(&self.stats.foreign_conflicts, 1);
        if !e.reported {
            e.reported = true;
            let protocol = protocol.unwrap_or(0);
            tracing::warn!(%prefix, protocol, "foreign route in our slot (EEXIST), leaving it alone");
            self.events.push(KernelEvent::ForeignRoute { prefix, protocol });
        }
    }

    /// Whether a next hop in use resolves through interface `ifindex`.
    pub fn uses_interface(&self, ifindex: u32) -> bool {
        self.next_hops.values().any(|u| u.oif == Some(ifindex))
    }

    /// Re-resolves every next hop in use after an interface change and reports reachability
    /// transitions. Returns true when any next hop now resolves differently.
    pub fn interfaces_changed(&mut self, ifs: &Interfaces) -> bool {
        self.memo = None;
        let mut down = Vec::new();
        let mut up = Vec::new();
        let mut changed = false;
        for (h, usage) in self.next_hops.iter_mut() {
            let oif = ifs.resolve(*h);
            if oif == usage.oif {
                continue;
            }
            changed = true;
            match (usage.oif, oif) {
                (Some(_), None) => down.push(*h),
                (None, Some(_)) => up.push(*h),
                _ => {}
            }
            usage.oif = oif;
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

    pub fn has_failed(&self) -> bool {
        !self.failed.is_empty()
    }

    /// Moves the routes the kernel refused back into the work queue.
    pub fn retry_failed(&mut self) {
        for p in std::mem::take(&mut self.failed) {
            if let Some(e) = self.entries.get_mut(&p) {
                e.failed = false;
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
        e.queued = false;
        let desired = e.desired();
        if desired && e.foreign {
            return;
        }
        if !desired && e.kernel.is_none() {
            self.entries.remove(&prefix);
            return;
        }
        if e.stale && !self.purge_allowed {
            return;
        }
        let mut ctx = PlanCtx {
            id: &self.id,
            nh: &mut self.nh,
            seq: &mut self.seq,
            memo: &mut self.memo,
            use_objects: self.use_objects,
            blackhole: &self.blackhole,
        };
        let target = ctx.target_for(&prefix, e, ifs, b);
        if target == e.kernel {
            return;
        }
        let old = e.kernel.clone();
        match target {
            None if defer => {
                e.queued = true;
                let object = match &e.kernel {
                    Some(RouteTarget::Object(id)) if !desired => Some(*id),
                    _ => None,
                };
                self.removals.push((prefix, object));
            }
            None => {
                let seq = next_seq(&mut self.seq);
                route_msg::emit_del_route(&self.id, &prefix, seq, &mut b.buf);
                set_kernel(e, &mut self.nh, &mut self.installed, None);
                b.ops.push((seq, Op::Route { prefix, new: None, old, repair: false }));
                if !desired {
                    self.entries.remove(&prefix);
                }
            }
            Some(t) => {
                let seq = next_seq(&mut self.seq);
                route_msg::emit_new_route(&self.id, &prefix, &t, old.is_some(), seq, &mut b.buf);
                let repair = std::mem::take(&mut e.repair);
                set_kernel(e, &mut self.nh, &mut self.installed, Some(t.clone()));
                b.ops.push((seq, Op::Route { prefix, new: Some(t), old, repair }));
            }
        }
    }

    /// Removals: an object whose users are all going is deleted (taking its routes with it);
    /// the rest is deleted route by route.
    fn plan_removals(&mut self, b: &mut Batch) {
        let mut per_object: HashMap<u32, Vec<IpNet>> = HashMap::new();
        for (p, object) in std::mem::take(&mut self.removals) {
            match object {
                Some(id) => per_object.entry(id).or_default().push(p),
                None => self.deletes.push_back(p),
            }
        }
        for (id, prefixes) in per_object {
            let all_users = self
                .nh
                .get(id)
                .is_some_and(|o| o.users == prefixes.len() as u64 && o.group_refs == 0);
            if all_users {
                let seq = next_seq(&mut self.seq);
                nexthop_msg::emit_delete(id, seq, NLM_F_REQUEST, &mut b.buf);
                b.ops.push((seq, Op::NhFlush { id, prefixes }));
            } else {
                self.deletes.extend(prefixes);
            }
        }
    }

    // ---- outcome ----------------------------------------------------------------------------

    /// Applies the outcome of a sent batch: `errors` maps sequence numbers to errno (positive)
    /// of the requests the kernel refused. Returns the prefixes refused with EEXIST, whose
    /// holder the caller should look up ([`Fib::conflict_owner`]).
    pub fn complete(&mut self, ops: Vec<(u32, Op)>, errors: &HashMap<u32, i32>) -> Vec<IpNet> {
        let mut conflicts = Vec::new();
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
                Op::NhFlush { id, prefixes } => removed += self.flush_done(id, prefixes, err),
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
        let e = self.entries.entry(prefix).or_default();
        set_kernel(e, &mut self.nh, &mut self.installed, old.clone());
        e.repair |= repair;
        if installing && errno == EEXIST && old.is_none() {
            e.foreign = true;
            conflicts.push(prefix);
            return;
        }
        if installing {
            Stats::add(&self.stats.install_failed, 1);
        }
        tracing::debug!(%prefix, errno, "kernel refused route request, will retry");
        if !e.failed {
            e.failed = true;
            self.failed.push(prefix);
        }
    }

    /// Returns how many routes went with the object.
    fn flush_done(&mut self, id: u32, prefixes: Vec<IpNet>, err: Option<i32>) -> u64 {
        if let Some(errno) = err.filter(|e| *e != ENOENT) {
            tracing::warn!(id, errno, "nexthop object flush refused, deleting routes one by one");
            self.nh.block_gc(id);
            for p in prefixes {
                self.deletes.push_back(p);
            }
            return 0;
        }
        let mut removed = 0;
        for p in prefixes {
            let Slot::Occupied(mut slot) = self.entries.entry(p) else { continue };
            let e = slot.get_mut();
            if e.kernel == Some(RouteTarget::Object(id)) {
                set_kernel(e, &mut self.nh, &mut self.installed, None);
                removed += 1;
            }
            e.queued = false;
            if e.desired() {
                e.queued = true;
                self.dirty.push_back(p);
            } else {
                slot.remove();
            }
        }
        self.nh.forget(id, false);
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
                Op::NhFlush { prefixes, .. } => self.deletes.extend(prefixes),
                Op::Route { prefix, old, repair, .. } => {
                    let e = self.entries.entry(prefix).or_default();
                    set_kernel(e, &mut self.nh, &mut self.installed, old);
                    e.repair |= repair;
                    if !e.failed {
                        e.failed = true;
                        self.failed.push(prefix);
                    }
                }
            }
        }
        self.sync_gauges();
    }

    fn sync_gauges(&self) {
        Stats::set(&self.stats.installed, self.installed);
        let pending =
            self.dirty.len() + self.removals.len() + self.deletes.len() + self.failed.len();
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
