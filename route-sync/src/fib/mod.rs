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
//!
//! One file per phase, each adding its own `impl Fib` block:
//! - `desired.rs`: what the RIB wants (`set`, `remove`, blackholes, the stale purge, flush at
//!   shutdown) and the next hops those routes use, re-resolved when interfaces change;
//! - `kernel.rs`: what the kernel holds (a start-up or resync dump, route notifications,
//!   EEXIST conflicts) and the bookkeeping of [`entry::Held`] states;
//! - `plan.rs`: turning the difference into a [`Batch`](plan::Batch) of requests;
//! - `completion.rs`: applying the kernel's answer to a batch, retries.
//!
//! `entry.rs` packs one prefix into 12 bytes; `tests.rs` drives the whole cycle.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::config::{BlackholeKind, KernelConfig, SyncOptions};
use crate::events::{KernelEvent, Stats};
use crate::intern::Interner;
use crate::nexthops::NhTable;
use crate::prefix_map::PrefixMap;
use crate::prefix_queue::PrefixQueue;
use crate::route_msg::{RouteIdentity, RouteTarget};

// First: its `kernel_refs!` macro is used by the modules below.
#[macro_use]
mod kernel;

mod completion;
mod desired;
mod entry;
mod plan;

use desired::NextHopUse;
use entry::{Entry, QUEUED};
use kernel::GatewayLists;
use plan::Memo;
pub use plan::Op;

/// See the module documentation.
///
/// Two sides meet in each [`Entry`] of `entries`: the desired state (written by the handles
/// through `set`/`remove`/`set_blackhole`, at any time) and the kernel state (written only by
/// the task: by planning, which records requests optimistically, by completion, which reverts
/// refused ones, and by dumps and notifications). A prefix whose two sides differ is
/// queued (in one of `dirty`, `removals`, `flushing` and `deletes`: its `QUEUED` flag says
/// so, and keeps it from being queued twice) or waits in `failed` for a retry, unless it
/// waits for something outside (a foreign route in its slot, an unreachable next hop, the
/// stale purge).
pub struct Fib {
    /// Protocol, table and metric of our routes: what makes a kernel route ours. Fixed.
    identity: RouteIdentity,
    /// What a blackhole wish installs (`blackhole` or `unreachable` route type). Fixed.
    blackhole: RouteTarget,
    /// Routes point at nexthop objects (false: inline gateways). Starts from the options;
    /// turned off for good by [`Fib::disable_objects`] when the kernel has no objects.
    use_objects: bool,
    /// Every prefix we track: desired by the RIB, held by the kernel as ours, or both. An
    /// entry is dropped once it is neither (and not queued).
    entries: PrefixMap<Entry>,
    /// Our nexthop objects and how many routes (kernel side) and groups use each. Planning
    /// creates objects, `kernel::set_kernel` counts their users, completion
    /// forgets deleted or refused ones, a dump reloads the table.
    objects: NhTable,
    /// Next-hop sets wanted by the RIB (sorted, deduplicated), shared by the routes using
    /// them: `Entry::next_hop_set` holds one reference. Desired side only.
    next_hop_sets: Interner<Vec<IpAddr>>,
    /// Inline gateway lists the kernel holds for our routes (`Held::Gateways`), shared by
    /// the routes holding them: one reference per entry, kept right by `set_kernel`. Kernel
    /// side only; emptied with it by [`Fib::load_kernel`].
    gateway_lists: GatewayLists,
    /// Prefixes to look at again (desired or kernel state changed), in spread order when
    /// long. Filled by both sides, drained by [`Fib::plan`].
    dirty: PrefixQueue,
    /// Routes to remove, held back until `dirty` is empty so that those sharing a nexthop
    /// object can go with one RTM_DELNEXTHOP.
    removals: PrefixQueue,
    /// Routes going with the objects deleted by the batch in flight ([`Op::NhFlush`]):
    /// filled by planning, emptied by the completion of that batch.
    flushing: PrefixQueue,
    /// Removals that could not go with their object: deleted route by route after `dirty`.
    deletes: PrefixQueue,
    /// Prefixes whose request the kernel refused (`FAILED` flag set), moved back to `dirty`
    /// by [`Fib::retry_failed`] on the task's backoff timer.
    failed: Vec<IpNet>,
    /// Stale routes (left by a previous run) may be removed: set once by
    /// [`Fib::allow_purge`] (or a flush) and never cleared.
    purge_allowed: bool,
    /// Object users may have dropped to zero: look for unused objects to delete once the
    /// queues are empty. Set by a completed batch, a dump, a notification about our routes
    /// and a flush; cleared when planning looks.
    gc_needed: bool,
    /// How many of our routes the kernel holds, as far as we know (the `installed` gauge);
    /// kept by `set_kernel`.
    installed: u64,
    /// Next hops of desired routes: how many next-hop sets use each, and the interface it
    /// resolves to now (`None`: unreachable, reported as such). Counted once per set in
    /// `next_hop_sets`, so that it holds exactly the addresses of those sets.
    next_hops: HashMap<IpAddr, NextHopUse>,
    /// Reports for the daemon (unreachable next hops, foreign routes), taken by the task.
    events: Vec<KernelEvent>,
    /// Counters and gauges shared with the handles and the metrics.
    stats: Arc<Stats>,
    /// The last netlink sequence number used (never 0): for our requests and the task's
    /// dumps alike ([`Fib::next_seq`]).
    seq: u32,
    /// The last resolution of a next-hop set to a target, for runs of routes with the same
    /// next hops. Cleared whenever what it was computed from may have changed (the set
    /// released, objects forgotten, interfaces changed, a dump).
    memo: Option<Memo>,
    /// The desired state changed since [`Fib::take_touched`].
    touched: bool,
}

impl Fib {
    pub fn new(cfg: &KernelConfig, opts: &SyncOptions, stats: Arc<Stats>) -> Fib {
        Fib {
            identity: RouteIdentity {
                protocol: cfg.protocol,
                table: cfg.table,
                metric: cfg.metric,
            },
            blackhole: match opts.blackhole_kind {
                BlackholeKind::Blackhole => RouteTarget::Blackhole,
                BlackholeKind::Unreachable => RouteTarget::Unreachable,
            },
            use_objects: opts.nexthop_objects,
            entries: PrefixMap::default(),
            objects: NhTable::new(opts.nexthop_id_base),
            next_hop_sets: Interner::default(),
            gateway_lists: Interner::default(),
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
        self.identity
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
        plan::next_seq(&mut self.seq)
    }

    /// Number of prefixes we track (desired or present).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn mark_dirty(&mut self, prefix: IpNet) {
        if let Some(e) = self.entries.get_mut(&prefix) {
            if !e.has(QUEUED) {
                e.set(QUEUED, true);
                self.dirty.push_back(prefix);
            }
        }
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
}

#[cfg(test)]
mod tests;
