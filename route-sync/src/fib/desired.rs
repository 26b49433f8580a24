//! The desired side of [`Fib`]: what the RIB wants (next hops per prefix, blackholes), when
//! stale routes may go, flushing everything at shutdown; and the next hops those routes use,
//! with where each resolves to now, reported to the daemon when that changes.
//!
//! These are the calls the handles make (under the FIB lock, at any time, even while the
//! task has a batch out): they change the desired state, queue the prefix, and never touch
//! the kernel state.

use std::net::IpAddr;

use ipnet::IpNet;

use super::entry::{Entry, Held, BLACKHOLE, FOREIGN, QUEUED, STALE};
use super::Fib;
use crate::events::KernelEvent;
use crate::interfaces::{Interfaces, Resolved};
use crate::intern::Id;

/// How a next hop of the desired routes is used and reached (`Fib::next_hops`).
#[derive(Debug, Clone)]
pub(super) struct NextHopUse {
    /// How many next-hop sets contain it (not routes: a set shared by a million routes
    /// counts once).
    pub(super) routes: u32,
    /// Where it resolves to now (`None`: unreachable).
    pub(super) via: Option<Resolved>,
}

impl Fib {
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
        if e.next_hop_set.and_then(|id| self.next_hop_sets.get(id)).is_some_and(|v| **v == *hops) {
            return;
        }
        let (id, new) = self.next_hop_sets.acquire(hops);
        let old = e.next_hop_set.replace(id);
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
        let Some(hops) = self.next_hop_sets.release(id) else { return };
        if self.memo.as_ref().is_some_and(|m| m.next_hop_set == id) {
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
        let Some(old) = e.next_hop_set.take() else { return };
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
            e.next_hop_set = None;
            e.set(BLACKHOLE, false);
            e.set(FOREIGN, false);
            if !e.has(QUEUED) {
                e.set(QUEUED, true);
                self.dirty.push_back(p);
            }
        }
        self.next_hop_sets.clear();
        self.memo = None;
        self.next_hops.clear();
        self.gc_needed = true;
    }

    // ---- next hops in use -------------------------------------------------------------------

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
}
