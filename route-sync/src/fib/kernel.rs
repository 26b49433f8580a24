//! The kernel side of [`Fib`]: what the kernel holds of ours, learnt from a dump (start-up
//! and resync), from route notifications (someone else changed or deleted a route of ours,
//! or put a foreign route in one of our slots) and from the owner of a slot that refused a
//! create; the bookkeeping that goes with every change of an entry's [`Held`] state; and
//! the display of our routes.

use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::NLM_F_REPLACE;

use super::entry::{Entry, Held, FAILED, FOREIGN, QUEUED, REPAIR, REPORTED};
use super::Fib;
use crate::events::{KernelEvent, KernelNextHop, KernelRoute, Stats};
use crate::interfaces::Interfaces;
use crate::intern::Interner;
use crate::nexthop_msg::NexthopMessage;
use crate::nexthops::NhTable;
use crate::route_msg::{ParsedRoute, RouteTarget};

/// Interned inline gateway lists of [`Held::Gateways`].
pub(super) type GatewayLists = Interner<Vec<(IpAddr, u32)>>;

/// The route the kernel holds for `held`, its gateway list looked up.
pub(super) fn target_of(held: Held, gateway_lists: &GatewayLists) -> RouteTarget {
    match held {
        Held::Blackhole => RouteTarget::Blackhole,
        Held::Unreachable => RouteTarget::Unreachable,
        Held::Object(id) => RouteTarget::Object(id),
        Held::Gateways(id) => {
            RouteTarget::Gateways(gateway_lists.get(id).cloned().unwrap_or_default())
        }
    }
}

/// Whether the kernel holds exactly `target` (`None`: no route).
pub(super) fn holds(
    held: Option<Held>,
    target: Option<&RouteTarget>,
    gateway_lists: &GatewayLists,
) -> bool {
    match (held, target) {
        (None, None) => true,
        (Some(Held::Blackhole), Some(RouteTarget::Blackhole)) => true,
        (Some(Held::Unreachable), Some(RouteTarget::Unreachable)) => true,
        (Some(Held::Object(a)), Some(RouteTarget::Object(b))) => a == *b,
        (Some(Held::Gateways(id)), Some(RouteTarget::Gateways(g))) => {
            gateway_lists.get(id) == Some(g)
        }
        _ => false,
    }
}

/// What [`set_kernel`] keeps right beside an entry (borrowed from [`Fib`] with
/// `kernel_refs!`, beside a borrowed entry).
pub(super) struct KernelRefs<'a> {
    pub objects: &'a mut NhTable,
    pub gateway_lists: &'a mut GatewayLists,
    pub installed: &'a mut u64,
}

/// The [`KernelRefs`] of a [`Fib`] (`kernel_refs!(self)`): a macro rather than a method so
/// that an entry of `self.entries` can stay borrowed.
macro_rules! kernel_refs {
    ($fib:ident) => {
        $crate::fib::kernel::KernelRefs {
            objects: &mut $fib.objects,
            gateway_lists: &mut $fib.gateway_lists,
            installed: &mut $fib.installed,
        }
    };
}

/// Records a new kernel state for an entry, keeping object users, interned gateway lists and
/// the gauge right.
pub(super) fn set_kernel(e: &mut Entry, k: KernelRefs<'_>, new: Option<RouteTarget>) {
    match e.kernel() {
        Some(Held::Object(id)) => k.objects.remove_user(id),
        Some(Held::Gateways(id)) => {
            k.gateway_lists.release(id);
        }
        Some(_) => {}
        None => *k.installed += 1,
    }
    let held = match new {
        Some(RouteTarget::Object(id)) => {
            k.objects.add_user(id);
            Some(Held::Object(id))
        }
        Some(RouteTarget::Gateways(g)) => Some(Held::Gateways(k.gateway_lists.acquire(&g).0)),
        Some(RouteTarget::Blackhole) => Some(Held::Blackhole),
        Some(RouteTarget::Unreachable) => Some(Held::Unreachable),
        None => {
            *k.installed = k.installed.saturating_sub(1);
            None
        }
    };
    e.set_kernel_raw(held);
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
    /// Replaces our view of the kernel by a fresh dump (start-up, and resync after interface
    /// changes or lost notifications) and re-examines every prefix. `nexthops` is `None` when
    /// the kernel has no nexthop objects.
    pub fn load_kernel(&mut self, routes: Vec<ParsedRoute>, nexthops: Option<&[NexthopMessage]>) {
        self.objects.load(nexthops.unwrap_or(&[]), self.identity.protocol);
        self.memo = None;
        self.installed = 0;
        self.dirty.clear();
        self.removals.clear();
        self.flushing.clear();
        self.deletes.clear();
        self.failed.clear();
        self.gateway_lists.clear();
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
            set_kernel(e, kernel_refs!(self), Some(normalize(r.target)));
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
        r.table == self.identity.table
            && r.protocol == self.identity.protocol
            && r.metric == self.identity.metric
    }

    /// A route notification from the monitor socket (our own requests' echoes are filtered
    /// out before they get here). Returns true when it concerned one of our prefixes.
    pub fn on_route_event(&mut self, deleted: bool, flags: u16, r: ParsedRoute) -> bool {
        if r.table != self.identity.table || r.metric != self.identity.metric {
            return false;
        }
        let prefix = r.prefix;
        if r.protocol == self.identity.protocol {
            if deleted {
                let Some(e) = self.entries.get_mut(&prefix) else { return false };
                if e.kernel().is_none() {
                    return false;
                }
                set_kernel(e, kernel_refs!(self), None);
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
                if holds(e.kernel(), Some(&target), &self.gateway_lists) {
                    return true;
                }
                set_kernel(e, kernel_refs!(self), Some(target));
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
            set_kernel(e, kernel_refs!(self), None);
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
        if protocol == Some(self.identity.protocol) {
            // Our own route, which we had lost track of: replace it.
            e.set(FOREIGN, false);
            set_kernel(e, kernel_refs!(self), Some(RouteTarget::Gateways(vec![])));
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
                        (self.objects.gateways(id).into_iter().map(hop).collect(), false, Some(id))
                    }
                    RouteTarget::Gateways(g) => (g.into_iter().map(hop).collect(), false, None),
                };
                KernelRoute { prefix: r.prefix, next_hops, blackhole, nexthop_id }
            })
            .collect();
        out.sort_by_key(|r| r.prefix);
        out
    }
}
