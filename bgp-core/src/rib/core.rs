//! The change machinery every operation goes through: snapshot a destination, change its
//! paths, run the decision process, then report what changed for the kernel (the ECMP
//! next-hop set) and for each peer (the best path, hence the advertisement).
use std::collections::hash_map::Entry;
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use super::attrs::Attrs;
use super::decision::{self, Context};
use super::export::exportable;
use super::path::{Dest, Path, REJECTED, SELECTED, STALE};
use super::peer::PeerSlot;
use super::prefix::{PrefixMap, SeededState};
use super::{Changes, FamilyKey, FibChange, Shared, FIB_SINK_CHUNK};
use crate::policy::Policy;

/// One address family's destinations.
pub(crate) struct Table<K> {
    pub(crate) destinations: PrefixMap<K, Dest>,
}

impl<K: FamilyKey> Table<K> {
    pub(crate) fn new(hasher: SeededState) -> Self {
        Table { destinations: PrefixMap::with_hasher(hasher) }
    }
}

/// How many keys [`Table::warm`] looks up ahead of the real work.
pub(crate) const WARM_BATCH: usize = 16;

impl<K: FamilyKey> Table<K> {
    /// Look `keys` up without using the answers, so that the cache misses of a large table
    /// overlap (independent loads in a tight loop) instead of being paid one at a time by
    /// the per-prefix work that follows; call it on batches of [`WARM_BATCH`] keys.
    #[inline]
    pub(crate) fn warm(&self, keys: impl Iterator<Item = K>) {
        let mut found = 0usize;
        for key in keys {
            found += usize::from(self.destinations.contains_key(&key));
        }
        std::hint::black_box(found);
    }
}

/// The best path of a destination before a change (kernel set is in `Shared::fib_before`).
pub(crate) struct Before {
    best: Option<(u16, u32, Arc<Attrs>)>,
}

impl Shared {
    /// Record the state of `dest` before changing it.
    pub(crate) fn before(&mut self, dest: Option<&Dest>) -> Before {
        self.fib_before.clear();
        let Some(dest) = dest else { return Before { best: None } };
        for p in dest.paths() {
            if p.has(SELECTED) {
                self.fib_before.push(p.attrs.next_hop_addr());
            }
        }
        Before { best: dest.best().map(|p| (p.slot, p.path_id, p.attrs.clone())) }
    }

    /// Run the decision on `dest` (`None`: the destination is gone) and report the changes.
    pub(crate) fn after<K: FamilyKey>(
        &mut self,
        key: K,
        dest: Option<&mut Dest>,
        before: Before,
        out: &mut Changes,
    ) {
        let dest = dest.map(|d| {
            let ctx = Context {
                peers: &self.peers,
                next_hops: &self.next_hops,
                overrides: &self.overrides,
                max_paths: usize::from(self.config.max_paths),
            };
            decision::run(d.paths_mut(), &ctx, &mut self.candidates);
            &*d
        });

        // The kernel's view: the next hops of the selected paths.
        self.fib_after.clear();
        if let Some(d) = dest {
            for p in d.paths() {
                if p.has(SELECTED) {
                    self.fib_after.push(p.attrs.next_hop_addr());
                }
            }
        }
        if self.fib_after != self.fib_before {
            self.fib_after.sort_unstable();
            self.fib_after.dedup();
            self.fib_before.sort_unstable();
            self.fib_before.dedup();
            if self.fib_after != self.fib_before {
                out.fib.push(FibChange { prefix: key.net(), next_hops: self.fib_after.clone() });
                if out.fib.len() >= FIB_SINK_CHUNK {
                    if let Some(sink) = &mut self.fib_sink {
                        sink(&out.fib);
                        out.fib.clear();
                    }
                }
            }
        }

        // The peers' view: the best path.
        let new_best = dest.and_then(Dest::best);
        let same = match (&before.best, new_best) {
            (None, None) => true,
            (Some((slot, id, attrs)), Some(b)) => {
                *slot == b.slot && *id == b.path_id && Arc::ptr_eq(attrs, &b.attrs)
            }
            _ => false,
        };
        if same || self.exporters.is_empty() {
            return;
        }
        let net = key.net();
        for i in 0..self.exporters.len() {
            let dst = self.exporters[i];
            let Some(dst_info) = self.peer(dst).map(|p| &p.info) else { continue };
            let old_ok = before.best.as_ref().is_some_and(|b| {
                exportable(&self.peers, b.0, &b.2, dst, dst_info, K::FAMILY, &net)
            });
            let new_ok = new_best.is_some_and(|b| {
                exportable(&self.peers, b.slot, &b.attrs, dst, dst_info, K::FAMILY, &net)
            });
            if !(old_ok || new_ok) {
                continue;
            }
            if let Some(p) = self.peer_mut(dst) {
                // Not advertised any more: the mark spares the flush a lookup, unless the
                // prefix is queued again later (the last entry wins).
                PeerSlot::queue(K::dirty(p), if new_ok { key } else { key.marked_withdrawn() });
                p.requeued(&net);
                if new_ok && !old_ok {
                    p.counts.advertised += 1;
                } else if old_ok && !new_ok {
                    p.counts.advertised = p.counts.advertised.saturating_sub(1);
                }
            }
        }
    }

    /// Recompute [`Shared::exporters`] after a peer came up or went down or changed its
    /// export policy.
    pub(crate) fn refresh_exporters(&mut self) {
        let peers = &self.peers;
        self.exporters.clear();
        self.exporters.extend(self.up_slots.iter().copied().filter(|&slot| {
            peers
                .get(usize::from(slot))
                .and_then(Option::as_ref)
                .is_some_and(|p| p.info.export != Policy::None)
        }));
    }

    /// Counters for a path entering a peer's Adj-RIB-In.
    pub(crate) fn count_in(&mut self, path: &Path) {
        if let Some(p) = self.peer_mut(path.slot) {
            p.counts.received += 1;
            p.counts.accepted += u64::from(!path.has(REJECTED));
            p.counts.stale += u64::from(path.has(STALE));
        }
    }

    /// Counters for a path leaving a peer's Adj-RIB-In.
    pub(crate) fn count_out(&mut self, path: &Path) {
        if let Some(p) = self.peer_mut(path.slot) {
            let c = &mut p.counts;
            c.received = c.received.saturating_sub(1);
            c.accepted = c.accepted.saturating_sub(u64::from(!path.has(REJECTED)));
            c.stale = c.stale.saturating_sub(u64::from(path.has(STALE)));
        }
    }

    /// A path removed from the RIB: counters, and its attributes to the interner.
    pub(crate) fn gone(&mut self, path: Path) {
        self.count_out(&path);
        // A peer's paths share a few sets: when the graveyard already holds this one, this
        // reference just drops (it is released with that entry), so a million removals do
        // not make a million-entry graveyard.
        if !self.graveyard.last().is_some_and(|g| Arc::ptr_eq(g, &path.attrs)) {
            self.graveyard.push(path.attrs);
        }
    }

    /// End of an operation: release dropped attribute sets, list the peers with work.
    pub(crate) fn finish(&mut self, out: &mut Changes) {
        for attrs in std::mem::take(&mut self.graveyard) {
            self.interner.release(attrs);
        }
        self.interner.maybe_sweep();
        out.pending_peers.clear();
        for &slot in &self.up_slots {
            if let Some(p) = self.peer(slot) {
                if p.has_pending() {
                    out.pending_peers.push(p.id);
                }
            }
        }
    }
}

/// Add or replace (same peer slot and path id) a path: RFC 4271 §9: "If the UPDATE message
/// contains a feasible route, the Adj-RIB-In will be updated with this route as follows: if
/// the NLRI of the new route is identical to the one of a route currently stored in the
/// Adj-RIB-In, then the new route SHALL replace the older route in the Adj-RIB-In".
pub(crate) fn upsert<K: FamilyKey>(
    table: &mut Table<K>,
    shared: &mut Shared,
    out: &mut Changes,
    key: K,
    new: Path,
) {
    match table.destinations.entry(key) {
        Entry::Vacant(entry) => {
            shared.count_in(&new);
            let before = shared.before(None);
            let dest = entry.insert(Dest::One(new));
            shared.after(key, Some(dest), before, out);
        }
        Entry::Occupied(mut entry) => {
            let dest = entry.get_mut();
            let kept = STALE | REJECTED;
            if let Some(i) = dest.find(new.slot, new.path_id) {
                let old = &dest.paths()[i];
                if Arc::ptr_eq(&old.attrs, &new.attrs) && old.flags & kept == new.flags & kept {
                    return; // a duplicate announcement changes nothing
                }
                let before = shared.before(Some(dest));
                let old = &mut dest.paths_mut()[i];
                let replaced = std::mem::replace(old, new);
                shared.count_in(old);
                shared.gone(replaced);
                shared.after(key, Some(dest), before, out);
            } else {
                let before = shared.before(Some(dest));
                shared.count_in(&new);
                dest.push(new);
                shared.after(key, Some(dest), before, out);
            }
        }
    }
}

/// Remove the path of `slot` with `path_id`, if stored.
pub(crate) fn remove<K: FamilyKey>(
    table: &mut Table<K>,
    shared: &mut Shared,
    out: &mut Changes,
    key: K,
    slot: u16,
    path_id: u32,
) {
    let Entry::Occupied(mut entry) = table.destinations.entry(key) else { return };
    if entry.get().find(slot, path_id).is_none() {
        return;
    }
    let before = shared.before(Some(entry.get()));
    let keep = entry
        .get_mut()
        .remove_where(|p| p.slot == slot && p.path_id == path_id, |p| shared.gone(p));
    if keep {
        shared.after(key, Some(entry.get_mut()), before, out);
    } else {
        entry.remove();
        shared.after(key, None, before, out);
    }
}

/// Visit every destination for which `touch` says so: `change` alters its paths (returning
/// whether any remain), then the decision runs and changes are reported. Destinations left
/// without paths are dropped. One pass over the table.
pub(crate) fn walk<K: FamilyKey>(
    table: &mut Table<K>,
    shared: &mut Shared,
    out: &mut Changes,
    mut touch: impl FnMut(&Dest) -> bool,
    mut change: impl FnMut(K, &mut Dest, &mut Shared) -> bool,
) {
    table.destinations.retain(|&key, dest| {
        if !touch(dest) {
            return true;
        }
        let before = shared.before(Some(dest));
        let keep = change(key, dest, shared);
        shared.after(key, keep.then_some(dest), before, out);
        keep
    });
}

/// Does any path of `dest` use one of `next_hops`?
pub(crate) fn uses_next_hop(dest: &Dest, next_hops: &HashSet<IpAddr>) -> bool {
    dest.paths().iter().any(|p| next_hops.contains(&p.attrs.next_hop_addr()))
}
