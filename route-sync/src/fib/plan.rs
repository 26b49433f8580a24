//! Planning: the work queues of [`Fib`] turned into one [`Batch`] of netlink requests, and
//! the kernel state recorded as if the kernel had accepted them (`completion.rs` reverts
//! what it refused). The next hops the RIB wants are resolved through the interfaces to a
//! target (a nexthop object, created on the way, or inline gateways).

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};

use super::entry::{Entry, Held, BLACKHOLE, FOREIGN, QUEUED, REPAIR, STALE};
use super::kernel::{holds, set_kernel, target_of};
use super::Fib;
use crate::interfaces::Interfaces;
use crate::intern::{Id, Interner};
use crate::nexthop_msg::{self, NexthopKind, NexthopMessage};
use crate::nexthops::{NhKey, NhTable};
use crate::prefix_map::PrefixMap;
use crate::route_msg::{self, RouteIdentity, RouteTarget};

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

/// The last resolution of next hops to a target: the RIB sends long runs of routes with the
/// same next hops, which then cost one id comparison instead of resolving again. Cleared when
/// the set's id is released (ids are reused).
#[derive(Debug, Clone)]
pub(super) struct Memo {
    /// The next-hop set (an id of `Fib::next_hop_sets`).
    pub(super) next_hop_set: Id,
    /// Resolved for an IPv6 prefix (IPv4 next hops left out).
    pub(super) v6_prefix: bool,
    /// What it resolved to (`None`: no next hop reachable).
    pub(super) target: Option<RouteTarget>,
}

/// The parts of [`Fib`] that resolving a target needs, borrowed beside an entry.
struct PlanCtx<'a> {
    identity: &'a RouteIdentity,
    objects: &'a mut NhTable,
    seq: &'a mut u32,
    memo: &'a mut Option<Memo>,
    next_hop_sets: &'a Interner<Vec<IpAddr>>,
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
        let next_hop_set = e.next_hop_set?;
        let v6_prefix = prefix.addr().is_ipv6();
        if let Some(m) = self.memo.as_ref() {
            if m.v6_prefix == v6_prefix && m.next_hop_set == next_hop_set {
                return m.target.clone();
            }
        }
        let hops = self.next_hop_sets.get(next_hop_set)?;
        let target = self.resolve(v6_prefix, hops, ifs, b);
        *self.memo = Some(Memo { next_hop_set, v6_prefix, target: target.clone() });
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
            .map(|(gateway, oif)| self.ensure_object(NhKey::Gateway(*gateway, *oif), b))
            .collect();
        if let [single] = ids[..] {
            return Some(RouteTarget::Object(single));
        }
        ids.sort_unstable();
        Some(RouteTarget::Object(self.ensure_object(NhKey::Group(ids), b)))
    }

    fn ensure_object(&mut self, key: NhKey, b: &mut Batch) -> u32 {
        if let Some(id) = self.objects.find(&key) {
            return id;
        }
        let kind = match &key {
            NhKey::Gateway(gateway, oif) => NexthopKind::Gateway { gateway: *gateway, oif: *oif },
            NhKey::Group(members) => NexthopKind::Group(members.clone()),
        };
        let id = self.objects.create(key);
        let seq = next_seq(self.seq);
        let msg = NexthopMessage { id, protocol: self.identity.protocol, kind };
        msg.emit_new(seq, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, &mut b.buf);
        b.ops.push((seq, Op::NhNew(id)));
        id
    }
}

/// The next netlink sequence number after `seq` (0 is skipped).
pub(super) fn next_seq(seq: &mut u32) -> u32 {
    *seq = seq.wrapping_add(1).max(1);
    *seq
}

impl Fib {
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
                    for id in self.objects.garbage() {
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
            identity: &self.identity,
            objects: &mut self.objects,
            seq: &mut self.seq,
            memo: &mut self.memo,
            next_hop_sets: &self.next_hop_sets,
            use_objects: self.use_objects,
            blackhole: &self.blackhole,
        };
        let target = ctx.target_for(&prefix, e, ifs, b);
        if target.is_none() {
            // Not installable now (next hop unreachable): installing it later is no repair.
            e.set(REPAIR, false);
        }
        if holds(e.kernel(), target.as_ref(), &self.gateway_lists) {
            return;
        }
        let old = e.kernel().map(|h| target_of(h, &self.gateway_lists));
        match target {
            None if defer => {
                e.set(QUEUED, true);
                self.removals.push_back(prefix);
            }
            None => {
                let seq = next_seq(&mut self.seq);
                route_msg::emit_del_route(&self.identity, &prefix, seq, &mut b.buf);
                set_kernel(e, kernel_refs!(self), None);
                b.ops.push((seq, Op::Route { prefix, new: None, old, repair: false }));
                if !desired {
                    self.entries.remove(&prefix);
                }
            }
            Some(t) => {
                let seq = next_seq(&mut self.seq);
                route_msg::emit_new_route(
                    &self.identity,
                    &prefix,
                    &t,
                    old.is_some(),
                    seq,
                    &mut b.buf,
                );
                let repair = e.take(REPAIR);
                set_kernel(e, kernel_refs!(self), Some(t.clone()));
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
            .filter(|(id, n)| {
                self.objects.get(*id).is_some_and(|o| o.users == *n && o.group_refs == 0)
            })
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
}
