//! The sync task: commands from the daemon, notifications from the kernel, timers, and the
//! batches that carry [`crate::fib::Fib`]'s plan to the kernel.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;

use crate::config::SyncOptions;
use crate::dump;
use crate::events::{KernelEvent, KernelRoute, Stats};
use crate::fib::Fib;
use crate::interfaces::Interfaces;
use crate::nexthop_msg::{NexthopMessage, RTM_DELNEXTHOP, RTM_NEWNEXTHOP};
use crate::route_msg;
use crate::socket::{
    messages, NlSocket, RTM_DELADDR, RTM_DELLINK, RTM_DELROUTE, RTM_NEWADDR, RTM_NEWLINK,
    RTM_NEWROUTE,
};
use netlink_packet_route::address::AddressHeader;
use netlink_packet_route::link::LinkHeader;

/// What the handle asks through the channel. Route changes (`set`, `remove`, blackholes) do
/// not travel here: the handle applies them to the shared [`Fib`] directly and wakes the task,
/// so a million of them cost no queued command each, and a prefix changed twice before the
/// task runs is planned once.
pub(crate) enum Command {
    InitialSyncDone,
    Snapshot(oneshot::Sender<Vec<KernelRoute>>),
    Shutdown { flush: bool, done: oneshot::Sender<()> },
}

/// Commands applied per round before the next batch goes out.
const COMMANDS_PER_ROUND: usize = 64;
const RETRY_BASE: Duration = Duration::from_millis(500);
/// Removals wait this long after the last command for more of them (a peer's withdrawals
/// arriving in pieces) so that routes sharing a nexthop object go with one request...
const REMOVAL_COALESCE: Duration = Duration::from_millis(20);
/// ...but never longer than this in total.
const REMOVAL_HOLD_MAX: Duration = Duration::from_secs(2);
/// How soon a `NetworkChanged` that found the event channel full is sent again.
const EVENTS_RETRY: Duration = Duration::from_millis(100);
/// Interface events come in bursts (link down drops addresses too): resync once after them.
const RESYNC_DELAY: Duration = Duration::from_millis(50);

/// State shared by the handles and the task. Lock order: `ifs` before `fib`; the task never
/// holds the `fib` lock across an `await` (a guard is not `Send`) nor while sending to the
/// kernel.
pub(crate) struct Shared {
    pub fib: Mutex<Fib>,
    /// Route changes were made: the task has planning to do.
    pub wake: Notify,
}

impl Shared {
    pub fn fib(&self) -> MutexGuard<'_, Fib> {
        self.fib.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sync task's state (built by [`crate::RouteSync::start_with`]).
pub(crate) struct Task {
    /// The FIB, shared with the handles.
    pub shared: Arc<Shared>,
    /// Our requests and dumps, and their replies.
    pub request_socket: NlSocket,
    /// Kernel notifications (links, addresses, routes, nexthop objects), without the
    /// echoes of our own requests.
    pub monitor_socket: NlSocket,
    /// The task's view of links, addresses and the main table's other routes.
    pub ifs: Interfaces,
    /// The copy of `ifs` the handles read (next-hop cost and reachability for the RIB).
    pub shared_ifs: Arc<RwLock<Interfaces>>,
    /// Events to the daemon.
    pub events: mpsc::Sender<KernelEvent>,
    pub stats: Arc<Stats>,
    pub opts: SyncOptions,
    /// When stale routes are purged if `InitialSyncDone` has not come by then (the end of
    /// the graceful-restart grace period, [`crate::Reconcile::AfterGrace`]); `None`: no
    /// deadline.
    pub purge_at: Option<Instant>,
    /// When the requests the kernel refused are retried; `None`: none armed.
    pub retry_at: Option<Instant>,
    /// The backoff of the next retry (doubled up to `opts.max_retry_interval`).
    pub retry_interval: Duration,
    /// When the kernel is read again (after interface changes or lost notifications).
    pub resync_at: Option<Instant>,
    /// The last `InSync` reported (`None`: not yet, or to be sent again).
    pub last_in_sync: Option<bool>,
    /// The last command or route change from the handles.
    pub last_command: Instant,
    /// Since when removals have been held back (`None`: none held).
    pub removals_since: Option<Instant>,
    /// The interface/route view changed since the last [`KernelEvent::NetworkChanged`].
    pub network_changed: bool,
    /// The event channel was full when `NetworkChanged` was due: wake up then to resend.
    pub events_retry_at: Option<Instant>,
    /// Routes of the legacy identity (186/20) in the main table at the last resync, for the
    /// start-up warning ([`crate::config::legacy_routes_warning`]).
    pub legacy_routes: usize,
}

impl Task {
    pub async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            let mut shutdown = None;
            for _ in 0..COMMANDS_PER_ROUND {
                match rx.try_recv() {
                    Ok(cmd) => {
                        if let Some(s) = self.command(cmd).await {
                            shutdown = Some(s);
                            break;
                        }
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        shutdown = Some((false, None));
                        break;
                    }
                }
            }
            if let Some((flush, done)) = shutdown {
                self.shutdown(flush).await;
                if let Some(done) = done {
                    let _ = done.send(());
                }
                return;
            }
            let touched = self.fib().take_touched();
            if touched {
                self.last_command = Instant::now();
            }
            self.drain_monitor();
            self.timers().await;
            let hold = self.hold_removals(touched || !rx.is_empty());
            let (work, removals) = {
                let fib = self.fib();
                (fib.has_work(), fib.has_removals())
            };
            if work || (removals && !hold) {
                self.run_batch(hold).await;
                self.publish_events();
                tokio::task::yield_now().await;
                continue;
            }
            self.publish_events();
            let release = self
                .removals_since
                .map(|since| (self.last_command + REMOVAL_COALESCE).min(since + REMOVAL_HOLD_MAX));
            let deadline = [
                self.purge_at,
                self.retry_at,
                self.resync_at,
                release,
                self.events_retry_at.take(),
            ]
            .into_iter()
            .flatten()
            .min();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => {
                        if let Some((flush, done)) = self.command(cmd).await {
                            self.shutdown(flush).await;
                            if let Some(done) = done {
                                let _ = done.send(());
                            }
                            return;
                        }
                    }
                    None => {
                        self.shutdown(false).await;
                        return;
                    }
                },
                _ = self.shared.wake.notified() => {}
                r = self.monitor_socket.readable() => {
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "monitor socket");
                    }
                }
                _ = sleep => {}
            }
        }
    }

    fn fib(&self) -> MutexGuard<'_, Fib> {
        self.shared.fib()
    }

    /// Whether held removals should wait for more commands.
    /// (Judged before planning: the batch itself turns queued removals into held ones.)
    fn hold_removals(&mut self, commands_queued: bool) -> bool {
        let now = Instant::now();
        let more_coming = commands_queued || now < self.last_command + REMOVAL_COALESCE;
        if !self.fib().has_removals() {
            self.removals_since = None;
            return more_coming;
        }
        let since = *self.removals_since.get_or_insert(now);
        more_coming && now < since + REMOVAL_HOLD_MAX
    }

    /// Applies one command; `Some` asks for shutdown.
    async fn command(&mut self, cmd: Command) -> Option<(bool, Option<oneshot::Sender<()>>)> {
        self.last_command = Instant::now();
        match cmd {
            Command::InitialSyncDone => {
                tracing::info!("initial sync done: purging stale routes");
                self.purge_at = None;
                self.fib().allow_purge();
            }
            Command::Snapshot(reply) => {
                let _ = reply.send(self.snapshot().await);
            }
            Command::Shutdown { flush, done } => return Some((flush, Some(done))),
        }
        None
    }

    async fn snapshot(&mut self) -> Vec<KernelRoute> {
        let (seq, id) = {
            let mut fib = self.fib();
            let seq = fib.next_seq();
            fib.next_seq();
            (seq, fib.identity())
        };
        match dump::routes(&mut self.request_socket, &id, seq).await {
            Ok(routes) => self.fib().view(routes, &self.ifs),
            Err(e) => {
                tracing::warn!(error = %e, "route dump for snapshot failed");
                Vec::new()
            }
        }
    }

    async fn shutdown(&mut self, flush: bool) {
        if !flush {
            // Apply what was asked before the shutdown, then leave everything in place.
            while self.fib().pending() {
                self.run_batch(false).await;
            }
            self.publish_events();
            tracing::info!("route-sync stopping, routes left in place");
            return;
        }
        tracing::info!("route-sync stopping, flushing our routes");
        self.fib().clear_all();
        let mut rounds = 0u32;
        loop {
            let (pending, failed) = {
                let fib = self.fib();
                (fib.pending(), fib.has_failed())
            };
            if !pending && !failed {
                break;
            }
            if !pending {
                rounds += 1;
                if rounds > 3 {
                    break;
                }
                self.fib().retry_failed();
            }
            self.run_batch(false).await;
        }
        self.publish_events();
    }

    async fn timers(&mut self) {
        let now = Instant::now();
        if self.purge_at.is_some_and(|t| now >= t) {
            tracing::info!("graceful restart grace period over: purging stale routes");
            self.purge_at = None;
            self.fib().allow_purge();
        }
        if self.retry_at.is_some_and(|t| now >= t) {
            self.retry_at = None;
            self.fib().retry_failed();
        }
        if self.resync_at.is_some_and(|t| now >= t) {
            self.resync_at = None;
            if let Err(e) = self.resync().await {
                Stats::add(&self.stats.netlink_errors, 1);
                tracing::warn!(error = %e, "resync failed, trying again");
                self.resync_at = Some(Instant::now() + Duration::from_secs(1));
            }
        }
    }

    fn schedule_resync(&mut self) {
        let at = Instant::now() + RESYNC_DELAY;
        if self.resync_at.is_none_or(|t| t > at) {
            self.resync_at = Some(at);
        }
    }

    /// Reads links, addresses, the main table's other routes, nexthop objects and our routes
    /// again and re-plans everything.
    pub async fn resync(&mut self) -> io::Result<()> {
        let seq = self.fib().next_seq();
        for _ in 0..3 {
            self.fib().next_seq();
        }
        let mut ifs = dump::interfaces(&mut self.request_socket, seq).await?;
        let (seq, protocol) = {
            let mut fib = self.fib();
            let seq = fib.next_seq();
            fib.next_seq();
            (seq, fib.identity().protocol)
        };
        let (other_routes, legacy_routes) =
            dump::other_routes(&mut self.request_socket, protocol, seq).await?;
        self.legacy_routes = legacy_routes;
        // Every object: ours for the FIB, the others' for routes that name them.
        let seq = self.fib().next_seq();
        let found = dump::nexthops(&mut self.request_socket, seq).await?;
        ifs.set_other_routes(other_routes, found.as_deref().unwrap_or_default(), protocol);
        self.ifs = ifs;
        self.publish_interfaces();
        let nexthops: Option<Vec<NexthopMessage>> = if self.fib().uses_objects() {
            if found.is_none() {
                tracing::info!("kernel has no nexthop objects: routes carry their gateways");
                self.fib().disable_objects();
            }
            found
        } else {
            None
        };
        let (seq, id) = {
            let mut fib = self.fib();
            let seq = fib.next_seq();
            fib.next_seq();
            (seq, fib.identity())
        };
        let routes = dump::routes(&mut self.request_socket, &id, seq).await?;
        tracing::debug!(routes = routes.len(), "kernel view loaded");
        self.fib().load_kernel(routes, nexthops.as_deref());
        Ok(())
    }

    /// Hands the interface view in `self.ifs` to the handles and the FIB; true when a next
    /// hop in use now goes through other gateways.
    fn publish_interfaces(&mut self) -> bool {
        self.network_changed = true;
        if let Ok(mut shared) = self.shared_ifs.write() {
            *shared = self.ifs.clone();
        }
        self.shared.fib().interfaces_changed(&self.ifs)
    }

    fn drain_monitor(&mut self) {
        // Links, addresses or the other routes changed: next hops may resolve differently.
        let mut view_changed = false;
        let mut resync = false;
        // Links that went down or lost an address: the kernel may have flushed routes through
        // them without telling (IPv4 sends no RTM_DELROUTE for those).
        let mut links_hit: Vec<u32> = Vec::new();
        let protocol = self.fib().identity().protocol;
        loop {
            let datagram = match self.monitor_socket.try_recv() {
                Ok(Some(d)) => d,
                Ok(None) => break,
                Err(e) => {
                    // ENOBUFS: notifications were lost; read the kernel again.
                    Stats::add(&self.stats.netlink_errors, 1);
                    tracing::warn!(error = %e, "monitor socket lost notifications, resyncing");
                    resync = true;
                    break;
                }
            };
            for m in messages(datagram) {
                match m.message_type {
                    RTM_NEWROUTE | RTM_DELROUTE => {
                        if let Some(r) = route_msg::parse_route(m.payload) {
                            let deleted = m.message_type == RTM_DELROUTE;
                            view_changed |= self.ifs.apply_route(&r, deleted, m.flags, protocol);
                            self.shared.fib().on_route_event(deleted, m.flags, r);
                        }
                    }
                    RTM_NEWLINK | RTM_DELLINK
                        if self.ifs.apply_link(m.payload, m.message_type == RTM_DELLINK) =>
                    {
                        view_changed = true;
                        links_hit.extend(LinkHeader::parse(m.payload).map(|h| h.index));
                    }
                    RTM_NEWADDR | RTM_DELADDR => {
                        let deleted = m.message_type == RTM_DELADDR;
                        if self.ifs.apply_address(m.payload, deleted) {
                            view_changed = true;
                            if deleted {
                                links_hit.extend(AddressHeader::parse(m.payload).map(|h| h.index));
                            }
                        }
                    }
                    RTM_NEWNEXTHOP | RTM_DELNEXTHOP => {
                        let Some(nh) = NexthopMessage::parse(m.payload) else { continue };
                        if nh.protocol == protocol {
                            // Someone else touched one of our objects (our own changes are
                            // filtered out).
                            tracing::info!("nexthop object of ours changed behind our back");
                            resync = true;
                        } else {
                            let deleted = m.message_type == RTM_DELNEXTHOP;
                            view_changed |= self.ifs.apply_object(&nh, deleted, protocol);
                        }
                    }
                    _ => {}
                }
            }
        }
        if view_changed {
            // The kernel flushes routes through a link that goes down (IPv4 without telling):
            // read the other routes again when one of them used it.
            let used = links_hit.iter().any(|i| self.ifs.other_routes_use(*i)) || {
                let fib = self.fib();
                links_hit.iter().any(|i| fib.uses_interface(*i))
            };
            // Pod interfaces come and go all the time: only changes that touch our next hops
            // are worth reading the table again.
            resync |= self.publish_interfaces() || used;
        }
        if resync {
            self.schedule_resync();
        }
    }

    async fn run_batch(&mut self, hold_removals: bool) {
        let batch = self.shared.fib().plan(&self.ifs, self.opts.batch_bytes, hold_removals);
        if batch.ops.is_empty() {
            return;
        }
        if let Err(e) = self.request_socket.send(&batch.buf) {
            tracing::warn!(error = %e, requests = batch.ops.len(), "netlink send failed, will retry");
            self.fib().batch_lost(batch.ops);
            self.arm_retry();
            return;
        }
        // The kernel ran every request inside send(): all error replies are queued now.
        let mut errors = HashMap::new();
        loop {
            match self.request_socket.try_recv() {
                Ok(Some(datagram)) => {
                    for m in messages(datagram) {
                        if let Some(code) = m.error_code().filter(|c| *c != 0) {
                            errors.insert(m.seq, code);
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // Error replies were dropped (ENOBUFS): we no longer know which requests
                    // failed. Apply what we have, then read the kernel again.
                    Stats::add(&self.stats.netlink_errors, 1);
                    tracing::warn!(error = %e, "lost netlink error replies, resyncing");
                    self.schedule_resync();
                    break;
                }
            }
        }
        let conflicts = self.fib().complete(batch.ops, &errors);
        for prefix in conflicts {
            let seq = self.fib().next_seq();
            let owner = dump::slot_owner(&mut self.request_socket, &prefix, seq).await;
            self.fib().conflict_owner(prefix, owner);
        }
        let failed = self.fib().has_failed();
        if failed {
            self.arm_retry();
        } else {
            self.retry_interval = RETRY_BASE;
        }
    }

    fn arm_retry(&mut self) {
        if self.retry_at.is_none() {
            self.retry_at = Some(Instant::now() + self.retry_interval);
            self.retry_interval = (self.retry_interval * 2).min(self.opts.max_retry_interval);
        }
    }

    fn publish_events(&mut self) {
        let (mut events, idle, in_sync) = {
            let mut fib = self.fib();
            (fib.take_events(), !fib.pending(), fib.in_sync())
        };
        if std::mem::take(&mut self.network_changed) {
            events.push(KernelEvent::NetworkChanged);
        }
        // Judged only when idle, so that ordinary route churn does not flip it.
        if idle && self.last_in_sync != Some(in_sync) {
            self.last_in_sync = Some(in_sync);
            events.push(KernelEvent::InSync(in_sync));
        }
        let again = deliver(&self.events, events, &self.stats);
        if again.network_changed {
            self.network_changed = true;
        }
        if again.in_sync {
            // Forget that it was announced: the next idle round sends the state of then.
            self.last_in_sync = None;
        }
        if again.network_changed || again.in_sync {
            self.events_retry_at = Some(Instant::now() + EVENTS_RETRY);
        }
    }
}

/// Events that found the channel full and must be sent again.
#[derive(Debug, Default, PartialEq, Eq)]
struct Redeliver {
    network_changed: bool,
    in_sync: bool,
}

/// Sends `events` without waiting. `NetworkChanged` (the RIB re-checks every next hop then)
/// and `InSync` (the daemon's readiness waits for it: a lost `InSync(true)` would keep
/// `/readyz` failing for ever) are never lost: they are reported back to be sent again, the
/// latest state winning. Any other event that finds the channel full is dropped, logged and
/// counted.
fn deliver(tx: &mpsc::Sender<KernelEvent>, events: Vec<KernelEvent>, stats: &Stats) -> Redeliver {
    let mut again = Redeliver::default();
    for ev in events {
        let Err(e) = tx.try_send(ev) else { continue };
        match e.into_inner() {
            KernelEvent::NetworkChanged => again.network_changed = true,
            KernelEvent::InSync(_) => again.in_sync = true,
            ev => {
                Stats::add(&stats.events_dropped, 1);
                tracing::warn!(event = ?ev, "event channel full, event dropped");
            }
        }
    }
    again
}

#[cfg(test)]
mod deliver_tests {
    use super::*;

    #[test]
    fn in_sync_and_network_changed_are_kept_for_later_when_the_channel_is_full() {
        let (tx, mut rx) = mpsc::channel(1);
        let stats = Stats::default();
        let first = deliver(&tx, vec![KernelEvent::InSync(false)], &stats);
        assert_eq!(first, Redeliver::default());
        let events = vec![
            KernelEvent::InSync(true),
            KernelEvent::NetworkChanged,
            KernelEvent::NextHopsReachable(vec![]),
        ];
        let full = deliver(&tx, events, &stats);
        assert_eq!(full, Redeliver { network_changed: true, in_sync: true });
        assert_eq!(stats.events_dropped(), 1, "only the other event is dropped, and counted");
        assert_eq!(rx.try_recv().ok(), Some(KernelEvent::InSync(false)));
        let room = deliver(&tx, vec![KernelEvent::InSync(true)], &stats);
        assert_eq!(room, Redeliver::default());
        assert_eq!(rx.try_recv().ok(), Some(KernelEvent::InSync(true)));
    }
}
