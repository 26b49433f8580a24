//! Kernel FIB sync over rtnetlink: turns the Loc-RIB into Linux kernel routes.
//!
//! The daemon says what it wants ([`RouteSync::set`], [`RouteSync::remove`],
//! [`RouteSync::set_blackhole`]); a task owned by this crate makes the kernel match and keeps
//! it matching:
//! - routes carry our protocol number, table and metric ([`KernelConfig`]); routes of another
//!   protocol are never modified or deleted, a foreign route in our slot is reported
//!   ([`KernelEvent::ForeignRoute`]) and left alone;
//! - route changes are applied to the task's table by the handle itself, under a short lock
//!   (no command queued per route); a route costs ~16 bytes there (the next-hop set is
//!   interned and shared, the IPv4 prefix is a 4-byte key), plus 8 bytes while queued;
//! - requests are pipelined: packed ~60 KB per `send()`, no per-route ACK (the kernel answers
//!   only errors, all queued before `send()` returns);
//! - routes point at Linux nexthop objects where the kernel has them (one per gateway and
//!   interface, one group per ECMP set), inline gateways / RTA_MULTIPATH otherwise; routes
//!   whose object has no other user are removed by deleting the object (one request);
//! - next hops resolve to the interface whose connected subnet contains them
//!   (`10.244.2.0/24 via 198.18.0.2 dev eth0`); unresolvable ones are left out of the route
//!   and reported ([`KernelEvent::NextHopsUnreachable`]);
//! - at start the table is read: our routes from a previous run keep forwarding and are taken
//!   over, stale ones are purged per [`Reconcile`];
//! - a monitor socket watches links, addresses and routes: a route of ours deleted or changed
//!   by someone else is put back ([`Stats::repaired`]), interface changes re-resolve
//!   everything; requests the kernel refuses are retried with backoff until it matches.
//!
//! The sockets are opened by [`RouteSync::start`] in the network namespace of the calling
//! thread.

pub mod config;
mod dump;
pub mod events;
mod fib;
mod hash;
pub mod interfaces;
mod intern;
pub mod nexthop_msg;
mod nexthops;
pub mod other_routes;
mod prefix_map;
mod prefix_queue;
pub mod route_msg;
pub mod socket;
mod task;

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock};

use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

pub use config::{BlackholeKind, KernelConfig, Reconcile, SyncOptions};
pub use events::{KernelEvent, KernelNextHop, KernelRoute, Stats};

use crate::fib::Fib;
use crate::interfaces::Interfaces;
use crate::socket::{
    NlSocket, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE,
    RTNLGRP_LINK, RTNLGRP_NEXTHOP,
};
use crate::task::{Command, Shared, Task};

/// Socket buffer of the request socket: holds the error replies of a whole batch.
const REQUEST_SOCKET_BUFFER: i32 = 8 << 20;
const EVENT_QUEUE: usize = 1024;

/// Handle to the sync task; cheap to clone. Dropping every handle stops the task and leaves
/// the routes in place (like `shutdown(false)`).
#[derive(Clone)]
pub struct RouteSync {
    tx: mpsc::UnboundedSender<Command>,
    stats: Arc<Stats>,
    ifs: Arc<RwLock<Interfaces>>,
    found_at_start: usize,
    /// Routes with the legacy identity (186/20) in the main table at start.
    legacy_at_start: usize,
    /// Route changes go straight into the task's state (see [`RouteSync::set`]).
    shared: Arc<Shared>,
    /// The sync task, until [`RouteSync::take_task`] hands it to a supervisor.
    task: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl RouteSync {
    /// Spawns the sync task on the current tokio runtime, with sockets in the current thread's
    /// network namespace, after reading the kernel's interfaces, nexthop objects and routes.
    /// See [`Reconcile`] for when stale routes of a previous run are removed.
    pub async fn start(
        cfg: KernelConfig,
        reconcile: Reconcile,
    ) -> io::Result<(RouteSync, mpsc::Receiver<KernelEvent>)> {
        Self::start_with(cfg, reconcile, SyncOptions::default()).await
    }

    /// [`RouteSync::start`] with tuning options.
    pub async fn start_with(
        cfg: KernelConfig,
        reconcile: Reconcile,
        opts: SyncOptions,
    ) -> io::Result<(RouteSync, mpsc::Receiver<KernelEvent>)> {
        let request_socket = NlSocket::open(&[], REQUEST_SOCKET_BUFFER)?;
        let groups = [
            RTNLGRP_LINK,
            RTNLGRP_IPV4_IFADDR,
            RTNLGRP_IPV6_IFADDR,
            RTNLGRP_IPV4_ROUTE,
            RTNLGRP_IPV6_ROUTE,
        ];
        // The monitor is open before the first dump so that no change falls in between.
        let monitor_socket = NlSocket::open(&groups, opts.monitor_buffer_bytes)?;
        if let Err(e) = monitor_socket.join(RTNLGRP_NEXTHOP) {
            tracing::debug!(error = %e, "no nexthop notifications on this kernel");
        }
        monitor_socket.drop_echoes_of(request_socket.port_id()?)?;
        let stats = Arc::new(Stats::default());
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let shared_ifs = Arc::new(RwLock::new(Interfaces::default()));
        let shared = Arc::new(Shared {
            fib: std::sync::Mutex::new(Fib::new(&cfg, &opts, stats.clone())),
            wake: tokio::sync::Notify::new(),
        });
        let mut task = Task {
            shared: shared.clone(),
            request_socket,
            monitor_socket,
            ifs: Interfaces::default(),
            shared_ifs: shared_ifs.clone(),
            events: events_tx,
            stats: stats.clone(),
            purge_at: match reconcile {
                Reconcile::Now => None,
                Reconcile::AfterGrace(grace) => Some(Instant::now() + grace),
            },
            opts,
            retry_at: None,
            retry_interval: std::time::Duration::from_millis(500),
            resync_at: None,
            last_in_sync: None,
            last_command: Instant::now(),
            removals_since: None,
            network_changed: false,
            events_retry_at: None,
            legacy_routes: 0,
        };
        task.resync().await?;
        let legacy_at_start = task.legacy_routes;
        if let Some(line) = config::legacy_routes_warning(legacy_at_start) {
            tracing::warn!(routes = legacy_at_start, "{line}");
        }
        let (found_at_start, uses_objects) = {
            let fib = shared.fib();
            (fib.len(), fib.uses_objects())
        };
        tracing::info!(
            protocol = cfg.protocol,
            table = cfg.table,
            metric = cfg.metric,
            nexthop_objects = uses_objects,
            existing = found_at_start,
            "route-sync started"
        );
        let (tx, rx) = mpsc::unbounded_channel();
        let task = Arc::new(std::sync::Mutex::new(Some(tokio::spawn(task.run(rx)))));
        let handle =
            RouteSync { tx, stats, ifs: shared_ifs, found_at_start, legacy_at_start, shared, task };
        Ok((handle, events_rx))
    }

    /// The sync task's handle, once (later calls: `None`), for the owner to supervise: if the
    /// task panics, the kernel is no longer kept in sync and the handle's requests go nowhere,
    /// which the owner must not leave unnoticed. The task ends normally only after
    /// [`RouteSync::shutdown`] or when every handle is dropped.
    pub fn take_task(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.task.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn send(&self, cmd: Command) {
        if self.tx.send(cmd).is_err() {
            tracing::warn!("route-sync task is gone, command dropped");
        }
    }

    /// Desired state: `prefix` via `next_hops` (ECMP when more than one, duplicates ignored);
    /// replaces the previous next hops. An empty list is `remove`.
    ///
    /// Route changes are applied to the task's table right here (a short lock, no queued
    /// command): next-hop sets are interned, so the routes of one peer share a single copy,
    /// and a prefix changed again before the task gets to it is planned once.
    pub fn set(&self, prefix: IpNet, next_hops: Vec<IpAddr>) {
        self.set_many(std::iter::once((prefix, next_hops.as_slice())));
    }

    /// Many [`RouteSync::set`]s under one lock (a whole UPDATE's NLRI). The task cannot plan
    /// while the iterator runs: keep it cheap, and chunks in the thousands.
    pub fn set_many<'a>(&self, routes: impl IntoIterator<Item = (IpNet, &'a [IpAddr])>) {
        let ifs = self.ifs.read().unwrap_or_else(PoisonError::into_inner);
        let mut fib = self.shared.fib();
        for (prefix, next_hops) in routes {
            fib.set(prefix, next_hops, &ifs);
        }
        drop(fib);
        drop(ifs);
        self.shared.wake.notify_one();
    }

    /// The RIB no longer has `prefix`: our route goes (a blackhole set for it stays).
    pub fn remove(&self, prefix: IpNet) {
        self.remove_many(std::iter::once(prefix));
    }

    /// Many [`RouteSync::remove`]s under one lock.
    pub fn remove_many(&self, prefixes: impl IntoIterator<Item = IpNet>) {
        let mut fib = self.shared.fib();
        for prefix in prefixes {
            fib.remove(prefix);
        }
        drop(fib);
        self.shared.wake.notify_one();
    }

    /// Blackhole route for `prefix` (the node's own Pod CIDR, as Calico does). While on, it
    /// takes precedence over next hops `set` for the same prefix.
    pub fn set_blackhole(&self, prefix: IpNet, on: bool) {
        self.shared.fib().set_blackhole(prefix, on);
        self.shared.wake.notify_one();
    }

    /// The RIB has converged after start (End-of-RIB from the peers): stale routes of a
    /// previous run that the RIB did not set again are removed now.
    pub fn initial_sync_done(&self) {
        self.send(Command::InitialSyncDone);
    }

    /// Routes of ours (protocol, table, metric) found in the kernel at start: left by a
    /// previous run, kept until the stale purge ([`Reconcile`]).
    pub fn found_at_start(&self) -> usize {
        self.found_at_start
    }

    /// Routes of another protocol with the legacy identity (protocol 186, metric 20: an
    /// older bgpd's, or FRR's) found in the main table at start; warned about in the log.
    pub fn legacy_at_start(&self) -> usize {
        self.legacy_at_start
    }

    /// Counters, updated by the task.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Whether `addr` is reachable now as a next hop, and its interior cost: 0 inside a
    /// connected subnet of an interface that is up, else the metric of the main-table route
    /// that reaches it (see [`interfaces::Interfaces::resolve`]). Never one of our own
    /// addresses, never a link-local one. This is the test route-sync itself applies.
    pub fn next_hop_cost(&self, addr: IpAddr) -> Option<u32> {
        self.ifs.read().ok().and_then(|ifs| ifs.cost(addr))
    }

    /// How `addr` is reached now as a next hop: its interior cost and the immediate
    /// gateways with their interface names (`bgpctl show nexthops`); `None`: unreachable.
    pub fn next_hop_route(&self, addr: IpAddr) -> Option<(u32, Vec<(IpAddr, String)>)> {
        let ifs = self.ifs.read().ok()?;
        let r = ifs.resolve(addr)?;
        let hops = r.hops.iter().map(|(gw, oif)| (*gw, ifs.name(*oif).to_string())).collect();
        Some((r.cost, hops))
    }

    /// A global address of the family `v6` on the interface that holds `local` (see
    /// [`interfaces::Interfaces::address_beside`]): bgpd's next hop for the other family
    /// on a session whose local address is `local`.
    pub fn address_beside(&self, local: IpAddr, v6: bool) -> Option<IpAddr> {
        self.ifs.read().ok()?.address_beside(local, v6)
    }

    /// Whether `addr` is reachable now as a next hop ([`RouteSync::next_hop_cost`]).
    pub fn is_reachable(&self, addr: IpAddr) -> bool {
        self.next_hop_cost(addr).is_some()
    }

    /// Our routes as the kernel has them right now (a fresh dump), sorted by prefix.
    pub async fn snapshot(&self) -> Vec<KernelRoute> {
        let (reply, wait) = oneshot::channel();
        self.send(Command::Snapshot(reply));
        wait.await.unwrap_or_default()
    }

    /// Stops the task once the commands sent before have been applied. `flush = true` removes
    /// every route (and nexthop object) of ours first; `false` leaves them forwarding
    /// (graceful restart: the next run takes them over).
    pub async fn shutdown(self, flush: bool) {
        let (done, wait) = oneshot::channel();
        self.send(Command::Shutdown { flush, done });
        let _ = wait.await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn handle_can_be_shared_across_tasks() {
        fn ok<T: Send + Sync + Clone + 'static>() {}
        ok::<super::RouteSync>();
    }
}
