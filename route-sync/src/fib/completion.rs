//! Completion: the kernel's answer to a sent [`Batch`](super::plan::Batch) applied to [`Fib`]
//! (planning recorded every request as accepted: the refused ones are reverted here and
//! queued for a retry, EEXIST on a create is a foreign route in our slot), a batch lost
//! altogether, and the retry of refused requests.

use std::collections::{HashMap, HashSet};

use ipnet::IpNet;

use super::entry::{Entry, Held, FAILED, FOREIGN, QUEUED, REPAIR};
use super::kernel::set_kernel;
use super::{Fib, Op};
use crate::events::Stats;
use crate::route_msg::RouteTarget;

const EEXIST: i32 = libc::EEXIST;
const ESRCH: i32 = libc::ESRCH;
const ENOENT: i32 = libc::ENOENT;

impl Fib {
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
                        self.objects.forget(id, errno == EEXIST);
                        self.memo = None;
                    }
                }
                Op::NhDel(id) => match err {
                    None | Some(ENOENT) => {
                        self.objects.forget(id, false);
                        self.memo = None;
                        self.gc_needed = true;
                    }
                    Some(errno) => {
                        tracing::warn!(id, errno, "nexthop object delete refused");
                        self.objects.block_gc(id);
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
        set_kernel(e, kernel_refs!(self), old.clone());
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
                self.objects.block_gc(*id);
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
                    set_kernel(e, kernel_refs!(self), None);
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
            self.objects.forget(id, false);
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
                Op::NhNew(id) => self.objects.forget(id, false),
                Op::NhDel(_) => self.gc_needed = true,
                Op::NhFlush(_) => self.deletes.append(&mut self.flushing),
                Op::Route { prefix, old, repair, .. } => {
                    let e = self.entries.get_or_insert_with(&prefix, Entry::default);
                    set_kernel(e, kernel_refs!(self), old);
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

    /// Requests the kernel refused wait for a retry.
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
}
