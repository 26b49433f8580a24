//! The RIB owner task's loop and input handling.
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bgp_core::rib::{AllReachable, Changes, FibChange, PeerId, PeerInfo, Rib, RibConfig};
use bgp_core::wire::{Family, Update};
use ipnet::IpNet;
use route_sync::RouteSync;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::kernel_filter::{inside_any, KernelFilter};
use super::malformed;
use super::next_hops::{self, NextHops};
use super::peers::{LiveSession, Peers};
use super::resolver::KernelResolver;
use crate::config::Config;
use crate::health::Health;
use crate::log_limit::LogLimiter;
use crate::messages::{GlobalSettings, KernelEvent, PeerCommand, PeerKey, PeerSettings, RibInput};
use crate::metrics::Metrics;

/// Inputs handled before outputs are flushed.
const BATCH: usize = 2048;
/// Quiet time after which the RIB gives back the memory of withdrawn routes.
const COMPACT_WHEN_IDLE: Duration = Duration::from_secs(2);
/// Without graceful restart, how long start-up waits for every peer's End-of-RIB before the
/// kernel's leftover routes of ours are purged anyway.
const INITIAL_SYNC_BOUND: Duration = Duration::from_secs(30);

pub struct RibTask {
    pub(super) rib: Rib,
    pub(super) peers: Peers,
    pub(super) kernel: Option<RouteSync>,
    /// Prefixes not installed into the kernel (routes inside encapsulated Calico pools).
    kernel_filter: KernelFilter,
    blackhole: bool,
    originated: Vec<IpNet>,
    /// `graceful_restart.max_restart_time`: the longest a peer's routes are kept stale,
    /// whatever Restart Time it announced.
    max_restart_time: u16,
    pub(super) metrics: Arc<Metrics>,
    health: Arc<Health>,
    /// Log limits of the lines a neighbour can cause at will (the counters stay exact).
    pub(super) malformed_log: LogLimiter<PeerKey>,
    pub(super) unsendable_log: LogLimiter<PeerKey>,
    /// Peers with Adj-RIB-Out work or a backlog to push.
    pub(super) dirty: BTreeSet<PeerId>,
    /// ROUTE-REFRESH requests waiting for the end of the input batch: one per peer and
    /// family however many the peer sent (each one walks the whole table).
    refresh_pending: BTreeSet<(PeerId, Family)>,
    started: Instant,
    /// When the last input from a session was handled (the RIB compacts when idle).
    last_input: Instant,
    initial_sync_bound: Duration,
    initial_sync_done: bool,
    kernel_in_sync: bool,
    /// The daemon has configured every neighbour (until then "every peer sent End-of-RIB"
    /// would be vacuously true).
    configured: bool,
}

impl RibTask {
    pub fn new(
        config: &Config,
        kernel: Option<RouteSync>,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
    ) -> Self {
        let mut rib = Rib::new(RibConfig {
            local_as: config.local_as,
            router_id: config.router_id,
            cluster_id: config.cluster_id,
            max_paths: config.max_paths.max(1),
        });
        let kernel_filter = KernelFilter::default();
        kernel_filter.replace(config.kernel.exclude.clone());
        match &kernel {
            Some(k) => {
                rib.set_resolver(Box::new(KernelResolver(k.clone())));
                // Large operations (a peer with a full table going down) hand their kernel
                // changes over as they go instead of collecting them all first.
                let (sink, filter) = (k.clone(), kernel_filter.clone());
                rib.set_fib_sink(Box::new(move |changes| filter.to_kernel(&sink, changes)));
            }
            None => {
                rib.set_resolver(Box::new(AllReachable));
            }
        }
        let initial_sync_bound = if config.graceful_restart.enabled {
            Duration::from_secs(u64::from(config.graceful_restart.restart_time))
        } else {
            INITIAL_SYNC_BOUND
        };
        RibTask {
            rib,
            peers: Peers::default(),
            kernel,
            kernel_filter,
            blackhole: config.kernel.blackhole_originated,
            originated: Vec::new(),
            max_restart_time: config.graceful_restart.max_restart_time,
            metrics,
            health,
            malformed_log: malformed::per_neighbour_log_limit(),
            unsendable_log: malformed::per_neighbour_log_limit(),
            dirty: BTreeSet::new(),
            refresh_pending: BTreeSet::new(),
            started: Instant::now(),
            last_input: Instant::now(),
            initial_sync_bound,
            initial_sync_done: false,
            kernel_in_sync: false,
            configured: false,
        }
    }

    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<RibInput>,
        mut events: Option<mpsc::Receiver<KernelEvent>>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                input = rx.recv() => {
                    let Some(input) = input else { return };
                    self.last_input = Instant::now();
                    self.handle(input);
                    let mut n = 1;
                    while n < BATCH {
                        match rx.try_recv() {
                            Ok(input) => self.handle(input),
                            Err(_) => break,
                        }
                        n += 1;
                    }
                }
                Some(event) = recv_opt(&mut events) => self.kernel_event(event),
                _ = tick.tick() => self.housekeeping(),
            }
            self.apply_refreshes();
            self.flush();
        }
    }

    fn handle(&mut self, input: RibInput) {
        match input {
            RibInput::PeerUp { peer, negotiated, local_address, out, control } => {
                let Some(entry) = self.peers.get_mut(&peer) else {
                    warn!(neighbor = %peer, "session up for an unconfigured neighbour");
                    return;
                };
                let local = local_address.to_canonical();
                let configured =
                    NextHops { v4: entry.settings.next_hop_v4, v6: entry.settings.next_hop_v6 };
                let next_hops = next_hops::for_session(
                    peer,
                    local,
                    configured,
                    &negotiated.families,
                    self.kernel.as_ref(),
                    &self.originated,
                    &self.metrics,
                );
                let info = PeerInfo {
                    address: peer,
                    asn: negotiated.peer_as,
                    router_id: negotiated.peer_router_id,
                    ibgp: entry.settings.ibgp,
                    rr_client: entry.settings.route_reflector_client,
                    local_v4: next_hops.v4,
                    local_v6: next_hops.v6,
                    local_v6_link_local: None,
                    families: negotiated.families.clone(),
                    import: entry.settings.import.clone(),
                    export: entry.settings.export.clone(),
                    next_hop_self: entry.settings.next_hop_self,
                    next_hop_keep: entry.settings.next_hop_keep,
                    allow_local_as: entry.settings.allow_local_as,
                    enforce_first_as: entry.settings.enforce_first_as,
                };
                let id = entry.id;
                entry.restart_time =
                    negotiated.peer_graceful_restart.as_ref().map(|g| g.restart_time).unwrap_or(0);
                entry.session = Some(LiveSession {
                    out,
                    tx: negotiated.tx.clone(),
                    families: negotiated.families.clone(),
                    control,
                    backlog: Default::default(),
                    eor_received: Vec::new(),
                    peer_gr: negotiated.peer_graceful_restart.clone(),
                    warned_max_prefix: false,
                    local_address: local,
                    next_hops,
                });
                match self.rib.peer_up(id, info) {
                    Ok(changes) => self.absorb(changes),
                    Err(e) => warn!(neighbor = %peer, error = %e, "RIB refused peer up"),
                }
                self.drop_unpreserved_stale(peer);
                self.dirty.insert(id);
            }
            RibInput::Update { peer, update } => self.update(peer, &update),
            RibInput::PeerDown { peer, graceful } => {
                // A refresh asked for by the session that ended is moot.
                if let Some(entry) = self.peers.get(&peer) {
                    let id = entry.id;
                    self.refresh_pending.retain(|(p, _)| *p != id);
                }
                self.peer_down(peer, graceful)
            }
            RibInput::RouteRefresh { peer, request } => {
                let Some(entry) = self.peers.get(&peer) else { return };
                // RFC 7313 §4: BoRR/EoRR from the peer only frame its own re-advertisement.
                if request.subtype != bgp_core::wire::route_refresh::SUBTYPE_NORMAL {
                    return;
                }
                // Coalesced: answered once at the end of the batch (`apply_refreshes`).
                if !self.refresh_pending.insert((entry.id, request.family)) {
                    let label = peer.to_string();
                    self.metrics.route_refresh_coalesced.with_label_values(&[&label]).inc();
                    debug!(neighbor = %peer, family = ?request.family, "ROUTE-REFRESH merged with the pending one");
                }
            }
            RibInput::Writable { peer } => {
                if let Some(entry) = self.peers.get(&peer) {
                    self.dirty.insert(entry.id);
                }
            }
            RibInput::Configure { peer, settings } => self.configure(peer, *settings),
            RibInput::Deconfigure { peer } => {
                if let Some(entry) = self.peers.remove(&peer) {
                    self.refresh_pending.retain(|(p, _)| *p != entry.id);
                    if let Ok(changes) = self.rib.peer_down(entry.id) {
                        self.absorb(changes);
                    }
                }
            }
            RibInput::Originate(prefixes) => self.originate(prefixes),
            RibInput::KernelExclude(excluded) => self.kernel_exclude(excluded),
            RibInput::Global(g) => self.global(g),
            RibInput::ConfigurationComplete => self.configured = true,
            RibInput::Query { query, reply } => {
                let _ = reply.send(self.answer(query));
            }
            #[cfg(test)]
            RibInput::InjectPanic => panic!("injected RIB fault"),
        }
    }

    /// Answer the ROUTE-REFRESH requests of the batch just handled (RFC 2918 §4: re-send the
    /// Adj-RIB-Out), once per peer and family.
    fn apply_refreshes(&mut self) {
        for (id, family) in std::mem::take(&mut self.refresh_pending) {
            match self.rib.route_refresh(id, family) {
                Ok(changes) => self.absorb(changes),
                Err(e) => debug!(peer = ?id, error = %e, "route refresh ignored"),
            }
            self.dirty.insert(id);
        }
    }

    /// New prefixes to keep out of the kernel: routes now inside one are removed from it,
    /// routes no longer inside one are installed with the RIB's current next hops.
    /// Originated prefixes inside an exclusion lose their blackhole route; those no longer
    /// inside one get it back.
    fn kernel_exclude(&mut self, excluded: Vec<IpNet>) {
        let blackholed = self.blackholed();
        let old = self.kernel_filter.replace(excluded.clone());
        self.sync_blackholes(&blackholed);
        let Some(kernel) = &self.kernel else { return };
        let changed: Vec<FibChange> = self
            .rib
            .fib_table()
            .into_iter()
            .filter(|c| inside_any(&old, &c.prefix) != inside_any(&excluded, &c.prefix))
            .collect();
        if !changed.is_empty() {
            info!(routes = changed.len(), "kernel exclusions changed: routes re-synced");
        }
        self.kernel_filter.to_kernel(kernel, &changed);
    }

    /// RFC 4724 §4.2: after the peer restarted, "If the Forwarding State bit is not set for an
    /// address family, or the new session has no Graceful Restart capability, the Receiving
    /// Speaker MUST immediately remove all the stale routes from the peer" for that family.
    fn drop_unpreserved_stale(&mut self, peer: PeerKey) {
        let Some(entry) = self.peers.get(&peer) else { return };
        if entry.stale_since.is_none() {
            return;
        }
        let Some(session) = entry.session.as_ref() else { return };
        let id = entry.id;
        let preserved: Vec<Family> = restart_families(session)
            .into_iter()
            .filter(|(_, forwarding)| *forwarding)
            .map(|(family, _)| family)
            .collect();
        let drop: Vec<_> =
            [bgp_core::wire::Family::IPV4_UNICAST, bgp_core::wire::Family::IPV6_UNICAST]
                .into_iter()
                .filter(|f| !preserved.contains(f))
                .collect();
        let stale = |rib: &Rib| rib.peer_counts(id).map_or(0, |c| c.stale);
        for family in drop {
            let before = stale(&self.rib);
            if let Ok(changes) = self.rib.end_of_rib(id, family) {
                let removed = before.saturating_sub(stale(&self.rib));
                if removed > 0 {
                    info!(neighbor = %peer, ?family, removed, "forwarding state not preserved: stale routes removed");
                    self.count_stale_purge(peer, "forwarding_not_preserved");
                }
                self.absorb(changes);
            }
        }
    }

    fn count_stale_purge(&self, peer: PeerKey, reason: &str) {
        self.metrics.stale_route_purges.with_label_values(&[&peer.to_string(), reason]).inc();
    }

    fn configure(&mut self, peer: PeerKey, settings: PeerSettings) {
        let old = self.peers.get(&peer).map(|e| e.settings.clone());
        let entry = self.peers.configure(peer, settings.clone());
        let id = entry.id;
        let up = entry.session.is_some();
        if let (Some(old), true) = (old, up) {
            if old.route_reflector_client != settings.route_reflector_client
                || old.next_hop_self != settings.next_hop_self
                || old.next_hop_keep != settings.next_hop_keep
            {
                // What we export to and through this peer changes (RFC 4456 §6 reflection
                // rules, next hop): re-establish the session so every export is recomputed.
                if let Some(s) = self.peers.get(&peer).and_then(|e| e.session.as_ref()) {
                    let _ = s.control.send(PeerCommand::Reset {
                        subcode: bgp_core::wire::notification::codes::CEASE_OTHER_CONFIG_CHANGE,
                        message: "route reflection or next-hop settings changed".to_string(),
                    });
                }
                return;
            }
            if old.import != settings.import || old.export != settings.export {
                match self.rib.set_policy(id, settings.import.clone(), settings.export.clone()) {
                    Ok(changes) => self.absorb(changes),
                    Err(e) => warn!(neighbor = %peer, error = %e, "policy change not applied"),
                }
            }
        }
    }

    fn update(&mut self, peer: PeerKey, update: &Update) {
        let Some(entry) = self.peers.get_mut(&peer) else { return };
        let id = entry.id;
        if let Some(family) = update.end_of_rib_family() {
            // RFC 4724 §4.2: End-of-RIB ends the stale period for that family.
            if let Some(s) = entry.session.as_mut() {
                if !s.eor_received.contains(&family) {
                    s.eor_received.push(family);
                }
                if s.families.iter().all(|f| s.eor_received.contains(f)) {
                    entry.stale_since = None;
                }
            }
            info!(neighbor = %peer, family = ?family, "End-of-RIB received");
            match self.rib.end_of_rib(id, family) {
                Ok(changes) => self.absorb(changes),
                Err(e) => debug!(neighbor = %peer, error = %e, "End-of-RIB ignored"),
            }
            return;
        }
        match self.rib.apply_update(id, update) {
            Ok(changes) => {
                if let Some(why) = changes.malformed_as_path {
                    self.report_malformed_as_path(peer, why, !update.issues.is_empty());
                }
                self.absorb(changes)
            }
            Err(e) => debug!(neighbor = %peer, error = %e, "UPDATE ignored"),
        }
        self.check_max_prefixes(peer);
    }

    fn peer_down(&mut self, peer: PeerKey, graceful: bool) {
        let Some(entry) = self.peers.get_mut(&peer) else { return };
        let id = entry.id;
        let session = entry.session.take();
        // RFC 4724 §4.2: "the Receiving Speaker MUST retain the routes received from the
        // Restarting Speaker for all the address families that were previously received in
        // the Graceful Restart Capability": only those (and only negotiated ones).
        let retained: Vec<Family> = session
            .as_ref()
            .map(restart_families)
            .unwrap_or_default()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        let restart_time = entry.restart_time.min(self.max_restart_time);
        let received = |rib: &Rib| rib.peer_counts(id).map_or(0, |c| c.received);
        let result = if graceful && restart_time > 0 && !retained.is_empty() {
            // The restart timer runs from the first loss: a peer that comes back and goes
            // again before it sent End-of-RIB does not restart it, or its stale routes would
            // be kept for ever by a peer that flaps faster than its restart time.
            let still_stale = self.rib.peer_counts(id).is_some_and(|c| c.stale > 0);
            if entry.stale_since.is_none() || !still_stale {
                entry.stale_since = Some(Instant::now());
            }
            let flushed: Vec<Family> = session
                .iter()
                .flat_map(|s| s.families.iter().copied())
                .filter(|f| !retained.contains(f))
                .collect();
            info!(neighbor = %peer, restart_time, ?retained, "keeping routes as stale (graceful restart)");
            let before = received(&self.rib);
            let result = self.rib.peer_down_graceful(id, &retained);
            // Counted only when those families had routes to remove.
            if !flushed.is_empty() && before > received(&self.rib) {
                let removed = before - received(&self.rib);
                info!(neighbor = %peer, ?flushed, removed, "families outside the peer's graceful restart capability: routes removed");
                self.count_stale_purge(peer, "family_not_retained");
            }
            result
        } else {
            if graceful && restart_time > 0 && session.as_ref().is_some_and(|s| s.peer_gr.is_some())
            {
                // RFC 4724 §3: a capability without address families only says the peer
                // helps others restart; it keeps none of its own forwarding state.
                info!(neighbor = %peer, "the peer's graceful restart capability lists no negotiated address family: its routes are removed, not kept stale");
            }
            entry.stale_since = None;
            self.rib.peer_down(id)
        };
        match result {
            Ok(changes) => self.absorb(changes),
            Err(e) => debug!(neighbor = %peer, error = %e, "peer down"),
        }
        self.dirty.remove(&id);
    }

    fn originate(&mut self, prefixes: Vec<IpNet>) {
        let blackholed = self.blackholed();
        self.originated = prefixes.clone();
        self.sync_blackholes(&blackholed);
        let changes = self.rib.set_originated(prefixes);
        self.absorb(changes);
    }

    /// The originated prefixes that get a blackhole route: all of them when
    /// `kernel.blackhole_originated` is on, except those inside `kernel.exclude` (service
    /// ranges, encapsulated pools: never programmed on this node).
    fn blackholed(&self) -> Vec<IpNet> {
        if !self.blackhole {
            return Vec::new();
        }
        let excluded = self.kernel_filter.excluded();
        self.originated.iter().filter(|p| !inside_any(&excluded, p)).copied().collect()
    }

    /// Installs and removes blackhole routes so that the kernel holds [`Self::blackholed`],
    /// given that it held `before`.
    fn sync_blackholes(&self, before: &[IpNet]) {
        let Some(kernel) = &self.kernel else { return };
        let after = self.blackholed();
        for old in before.iter().filter(|p| !after.contains(p)) {
            kernel.set_blackhole(*old, false);
        }
        for new in after.iter().filter(|p| !before.contains(p)) {
            kernel.set_blackhole(*new, true);
        }
    }

    fn global(&mut self, settings: GlobalSettings) {
        self.max_restart_time = settings.max_restart_time;
        let current = self.rib.config();
        if current.max_paths != settings.max_paths.max(1) {
            let changes = self.rib.set_max_paths(settings.max_paths.max(1));
            self.absorb(changes);
        }
        let current = self.rib.config();
        if current.router_id != settings.router_id
            || current.local_as != settings.local_as
            || current.cluster_id != settings.cluster_id
        {
            info!(router_id = %settings.router_id, local_as = settings.local_as, cluster_id = %settings.cluster_id, "new identity");
            self.rib.set_identity(settings.router_id, settings.local_as, settings.cluster_id);
        }
    }

    fn kernel_event(&mut self, event: KernelEvent) {
        match event {
            // route-sync logs these; NetworkChanged follows them and covers every next hop
            // the RIB holds, not only those of installed routes.
            KernelEvent::NextHopsUnreachable(_) | KernelEvent::NextHopsReachable(_) => {}
            KernelEvent::NetworkChanged => {
                let changes = self.rib.revalidate_next_hops();
                self.absorb(changes);
                let kernel = self.kernel.clone();
                self.recheck_local_next_hops(|local, v6| {
                    kernel.as_ref().and_then(|k| k.address_beside(local, v6))
                });
            }
            KernelEvent::ForeignRoute { prefix, protocol } => {
                warn!(%prefix, protocol, "a route of another protocol holds this prefix; not touching it");
            }
            KernelEvent::InSync(in_sync) => {
                self.kernel_in_sync = in_sync;
                if self.initial_sync_done && in_sync {
                    self.health.kernel_in_sync.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }

    /// Our next hops taken from the interface addresses (not configured) follow those
    /// addresses: on a session whose derived next hop went or came or changed, the RIB
    /// re-exports with the new one (`beside`: route-sync's view, see [`next_hops::choose`]).
    pub(super) fn recheck_local_next_hops(
        &mut self,
        beside: impl Fn(IpAddr, bool) -> Option<IpAddr>,
    ) {
        let mut changed = Vec::new();
        for (addr, entry) in self.peers.iter_mut() {
            let Some(session) = entry.session.as_mut() else { continue };
            let configured =
                NextHops { v4: entry.settings.next_hop_v4, v6: entry.settings.next_hop_v6 };
            let Some(new) = next_hops::recheck(
                *addr,
                session.local_address,
                configured,
                session.next_hops,
                &session.families,
                &beside,
                &self.metrics,
            ) else {
                continue;
            };
            session.next_hops = new;
            changed.push((entry.id, new));
        }
        for (id, new) in changed {
            match self.rib.set_local_next_hops(id, new.v4, new.v6) {
                Ok(changes) => self.absorb(changes),
                Err(e) => debug!(peer = ?id, error = %e, "next hop change not applied"),
            }
            self.dirty.insert(id);
        }
    }

    /// Collect what an operation changed: kernel routes now, peers to pump at the flush.
    pub(super) fn absorb(&mut self, changes: Changes) {
        if let Some(kernel) = &self.kernel {
            self.kernel_filter.to_kernel(kernel, &changes.fib);
        }
        self.dirty.extend(changes.pending_peers);
    }

    fn housekeeping(&mut self) {
        self.health.rib_beat();
        self.expire_stale();
        self.check_initial_sync();
        if self.last_input.elapsed() >= COMPACT_WHEN_IDLE {
            self.rib.compact();
        }
        self.metrics.rib_routes.with_label_values(&["loc"]).set(self.rib.prefix_count() as i64);
        let ids: Vec<(PeerKey, PeerId)> = self.peers.iter().map(|(a, e)| (*a, e.id)).collect();
        let mut received_total = 0;
        for (addr, id) in ids {
            if let Some(c) = self.rib.peer_counts(id) {
                received_total += c.received;
                let label = [addr.to_string()];
                self.metrics.prefixes_received.with_label_values(&label).set(c.received as i64);
                self.metrics.prefixes_accepted.with_label_values(&label).set(c.accepted as i64);
                self.metrics.prefixes_advertised.with_label_values(&label).set(c.advertised as i64);
            }
        }
        self.metrics.rib_routes.with_label_values(&["in"]).set(received_total as i64);
    }

    /// RFC 4724 §4.2: "If the session does not get re-established within the "Restart Time"
    /// that the peer advertised previously, the Receiving Speaker MUST delete all the stale
    /// routes from the peer". Once re-established, the stale routes not refreshed by End-of-RIB
    /// are deleted after a further restart time at the latest.
    fn expire_stale(&mut self) {
        let mut expired = Vec::new();
        let stale = |rib: &Rib, id| rib.peer_counts(id).map_or(0, |c| c.stale);
        for (addr, entry) in self.peers.iter_mut() {
            let Some(since) = entry.stale_since else { continue };
            // Nothing stale left (every path refreshed, or removed when the peer came back
            // without forwarding state): the stale period is over, End-of-RIB or not.
            if entry.session.is_some() && stale(&self.rib, entry.id) == 0 {
                entry.stale_since = None;
                continue;
            }
            let restart_time = entry.restart_time.min(self.max_restart_time);
            let limit = Duration::from_secs(u64::from(restart_time.max(1)));
            let limit = if entry.session.is_some() { limit * 2 } else { limit };
            if since.elapsed() >= limit {
                entry.stale_since = None;
                expired.push((*addr, entry.id, entry.session.is_some()));
            }
        }
        for (addr, id, up) in expired {
            let before = stale(&self.rib, id);
            let result = if up { self.rib.purge_stale(id) } else { self.rib.peer_down(id) };
            if let Ok(changes) = result {
                self.absorb(changes);
            }
            let removed = before.saturating_sub(stale(&self.rib, id));
            if removed > 0 {
                info!(neighbor = %addr, removed, "graceful restart timer expired: stale routes removed");
                self.count_stale_purge(addr, "restart_timer");
            }
        }
    }

    /// Tell route-sync the RIB has converged once every configured peer has sent End-of-RIB
    /// for all its families, or the start-up bound has passed. Stale kernel routes of a
    /// previous run go then, not before (no black hole while peers come back).
    fn check_initial_sync(&mut self) {
        if self.initial_sync_done {
            return;
        }
        let all_eor = self.peers.iter().all(|(_, e)| {
            e.session
                .as_ref()
                .is_some_and(|s| s.families.iter().all(|f| s.eor_received.contains(f)))
        });
        let all_eor = all_eor && self.configured;
        if all_eor || self.started.elapsed() >= self.initial_sync_bound {
            self.initial_sync_done = true;
            info!(all_eor, "initial routing convergence reached");
            match &self.kernel {
                Some(k) => {
                    k.initial_sync_done();
                    if self.kernel_in_sync {
                        self.health
                            .kernel_in_sync
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                None => {
                    self.health.kernel_in_sync.store(true, std::sync::atomic::Ordering::Relaxed)
                }
            }
        }
    }
}

/// The negotiated families of the peer's Graceful Restart capability on `session`, with their
/// Forwarding State bit (RFC 4724 §3); empty without the capability.
fn restart_families(session: &LiveSession) -> Vec<(Family, bool)> {
    let Some(gr) = session.peer_gr.as_ref() else { return Vec::new() };
    gr.families.iter().copied().filter(|(f, _)| session.families.contains(f)).collect()
}

async fn recv_opt<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
#[path = "stale_tests.rs"]
mod stale_tests;

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod refresh_tests;

#[cfg(test)]
#[path = "malformed_tests.rs"]
mod malformed_tests;

#[cfg(test)]
#[path = "next_hop_tests.rs"]
mod next_hop_tests;

#[cfg(test)]
mod blackhole_tests {
    use ipnet::IpNet;

    use super::stale_tests::task;
    use crate::messages::RibInput;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn originated_prefixes_inside_exclusions_get_no_blackhole() {
        let mut t = task(120);
        t.blackhole = true;
        t.handle(RibInput::Originate(nets(&["198.19.1.0/26", "10.96.0.0/12", "10.96.0.10/32"])));
        assert_eq!(t.blackholed(), nets(&["198.19.1.0/26", "10.96.0.0/12", "10.96.0.10/32"]));
        t.handle(RibInput::KernelExclude(nets(&["10.96.0.0/12"])));
        assert_eq!(t.blackholed(), nets(&["198.19.1.0/26"]));
        t.handle(RibInput::Originate(nets(&["198.19.1.0/26", "10.96.0.11/32"])));
        assert_eq!(t.blackholed(), nets(&["198.19.1.0/26"]));
        t.handle(RibInput::KernelExclude(Vec::new()));
        assert_eq!(t.blackholed(), nets(&["198.19.1.0/26", "10.96.0.11/32"]));
        t.blackhole = false;
        assert!(t.blackholed().is_empty());
    }
}
