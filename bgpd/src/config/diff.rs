//! What a configuration reload changes, sorted by what the daemon must do about it.
//!
//! BIRD's reload is the reference: unrelated sessions never flap. A session is reset only
//! when something it negotiated in OPEN, its transport, or its identity changed; policy
//! changes are applied by re-evaluating routes (RFC 4271 §9.1: the Adj-RIB-In is kept so
//! that "changes in local policy" can be applied without the peer re-sending anything).
//!
//! Neighbours are identified by `address`: changing a neighbour's address is a removal
//! plus an addition.
use super::model::{Config, NeighborConfig};
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// A neighbour whose configuration changed, with the changed field names (YAML names; a
/// global field such as `local_as` appears here when it forces this session's reset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighborChange {
    pub address: IpAddr,
    pub fields: Vec<&'static str>,
}

impl NeighborChange {
    /// The import policy changed: re-run import over this neighbour's Adj-RIB-In (or send
    /// ROUTE-REFRESH, RFC 2918, when it is not kept).
    pub fn import_changed(&self) -> bool {
        self.fields.contains(&"import")
    }

    /// What this neighbour should be sent changed (`export`, `next_hop_self`,
    /// `route_reflector_client`): re-run export towards it.
    pub fn export_changed(&self) -> bool {
        self.fields.iter().any(|f| {
            matches!(*f, "export" | "next_hop_self" | "next_hop_keep" | "route_reflector_client")
        })
    }

    /// `route_reflector_client` changed. RFC 4456 §6: routes from a client are reflected to
    /// all peers, routes from a non-client only to clients; so routes learned from this
    /// neighbour may now go to other iBGP neighbours, or no longer: re-run export towards
    /// every iBGP neighbour.
    pub fn reflection_changed(&self) -> bool {
        self.fields.contains(&"route_reflector_client")
    }
}

/// The difference between the running and the new configuration; built by
/// [`ConfigDiff::between`]. Every list is in the new file's order (removals: the old's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// `router_id` / `local_as` changed. Both are in every OPEN (and `local_as` decides
    /// iBGP vs eBGP), so every kept, enabled neighbour is also listed in `neighbors_reset`.
    pub reset_all: Vec<&'static str>,
    /// Start these sessions (unless their `shutdown` is true).
    pub neighbors_added: Vec<IpAddr>,
    /// Stop these sessions: Cease / "Peer De-configured" (RFC 4486 §4, subcode 3), and
    /// withdraw what was learned from them.
    pub neighbors_removed: Vec<IpAddr>,
    /// Reset with the new configuration: Cease / "Other Configuration Change" (RFC 4486 §4,
    /// subcode 6), then re-establish. `fields` lists every changed field.
    pub neighbors_reset: Vec<NeighborChange>,
    /// Only `import`, `export`, `next_hop_self` or `route_reflector_client` changed (plus
    /// maybe fields from `neighbors_updated`): re-evaluate routes, no reset. See
    /// [`NeighborChange::import_changed`], [`NeighborChange::export_changed`],
    /// [`NeighborChange::reflection_changed`].
    pub neighbors_policy: Vec<NeighborChange>,
    /// Only `description`, `connect_retry` or `max_prefixes` changed: hand the new
    /// [`NeighborConfig`] to the session, which applies it at once (a new `max_prefixes`
    /// is checked against the current count), no reset, no route re-evaluation.
    pub neighbors_updated: Vec<NeighborChange>,
    /// `shutdown` went false -> true: send Cease / "Administrative Shutdown" (RFC 4486 §4
    /// subcode 2, with an RFC 8203 message) and stay down. Dominates other changes.
    pub neighbors_shutdown: Vec<IpAddr>,
    /// `shutdown` went true -> false: start the session with the new configuration.
    pub neighbors_enabled: Vec<IpAddr>,
    /// Prefixes to start advertising (and, with `kernel.blackhole_originated`, install).
    pub originate_added: Vec<IpNet>,
    /// Prefixes to withdraw (and whose blackhole route to remove).
    pub originate_removed: Vec<IpNet>,
    /// Route-selection settings changed (`max_paths`): re-run the decision for every route,
    /// no reset. (A new `cluster_id` resets the iBGP sessions instead, as BIRD restarts a
    /// protocol whose `rr cluster id` changed: the RFC 4456 §8 loop check applies to what
    /// they send, and stored paths were checked against the old one.)
    pub rib_changed: Vec<&'static str>,
    /// Changed `kernel.*` fields: re-sync the kernel (with a new `protocol` or `table`,
    /// remove the routes from the old one first).
    pub kernel_changed: Vec<&'static str>,
    /// `listen` changed: bind the new addresses, close the ones no longer listed
    /// (established sessions are not affected).
    pub listen_changed: bool,
    /// `http_listen` changed: rebind (or stop) the metrics/health endpoint.
    pub http_listen_changed: bool,
    /// `control_socket` changed: create the new socket, remove the old one.
    pub control_socket_changed: bool,
    /// The prefixes kept out of the kernel changed (the datastore's encapsulated pools):
    /// re-sync the routes inside the old and the new ones, nothing else.
    pub kernel_exclude_changed: bool,
    /// `node_name` or `datastore` changed: reconnect to the datastore and re-read the view.
    pub datastore_changed: bool,
    /// `log.level` changed: apply through the logging reload handle.
    pub log_level_changed: bool,
    /// Cannot be applied to a running daemon (`log.format`): takes effect at next start.
    pub restart_required: Vec<&'static str>,
    /// Sent in OPEN but not worth a reset (`hostname`, `graceful_restart.restart_time`):
    /// used from each session's next establishment on.
    pub deferred: Vec<&'static str>,
}

/// Collects the names of the fields for which `changed` is true.
#[derive(Default)]
struct Fields(Vec<&'static str>);

impl Fields {
    fn check(&mut self, changed: bool, name: &'static str) {
        if changed {
            self.0.push(name);
        }
    }
}

/// Fields whose change needs a session reset: they are in OPEN (remote_as, hold_time,
/// families, add_path, graceful_restart, password via the TCP option) or the transport.
fn reset_fields(old: &NeighborConfig, new: &NeighborConfig) -> Vec<&'static str> {
    let mut f = Fields::default();
    f.check(old.port != new.port, "port");
    f.check(old.remote_as != new.remote_as, "remote_as");
    f.check(old.local_address != new.local_address, "local_address");
    f.check(old.hold_time != new.hold_time, "hold_time");
    f.check(old.families != new.families, "families");
    f.check(old.passive != new.passive, "passive");
    // Routes dropped by the loop check are not kept: a new limit needs them sent again.
    f.check(old.allow_local_as != new.allow_local_as, "allow_local_as");
    f.check(old.enforce_first_as != new.enforce_first_as, "enforce_first_as");
    // Our next hops are fixed when the session comes up.
    f.check(old.next_hop_v4 != new.next_hop_v4, "next_hop_v4");
    f.check(old.next_hop_v6 != new.next_hop_v6, "next_hop_v6");
    f.check(old.password != new.password, "password");
    f.check(old.add_path != new.add_path, "add_path");
    f.check(old.multihop != new.multihop, "multihop");
    f.check(old.ttl_security != new.ttl_security, "ttl_security");
    f.check(old.graceful_restart != new.graceful_restart, "graceful_restart");
    // The resolved TTL follows from remote_as (iBGP/eBGP), multihop and ttl_security;
    // name it only when none of those explains the change (a `local_as` change).
    f.check(old.ttl != new.ttl && f.0.is_empty(), "ttl");
    f.0
}

/// Fields applied by re-evaluating routes, without a reset.
fn policy_fields(old: &NeighborConfig, new: &NeighborConfig) -> Vec<&'static str> {
    let mut f = Fields::default();
    f.check(old.import != new.import, "import");
    f.check(old.export != new.export, "export");
    f.check(old.route_reflector_client != new.route_reflector_client, "route_reflector_client");
    f.check(old.next_hop_self != new.next_hop_self, "next_hop_self");
    f.check(old.next_hop_keep != new.next_hop_keep, "next_hop_keep");
    f.0
}

/// Fields the session applies as they are.
fn update_fields(old: &NeighborConfig, new: &NeighborConfig) -> Vec<&'static str> {
    let mut f = Fields::default();
    f.check(old.description != new.description, "description");
    f.check(old.connect_retry != new.connect_retry, "connect_retry");
    f.check(old.max_prefixes != new.max_prefixes, "max_prefixes");
    f.check(old.source != new.source, "source");
    // Announced in the next OPEN (RFC 4724 §3); no reason to reset the session now.
    f.check(old.restart_time != new.restart_time, "restart_time");
    f.0
}

impl ConfigDiff {
    /// What changes when the running configuration `old` is replaced by `new`.
    pub fn between(old: &Config, new: &Config) -> ConfigDiff {
        let mut diff = ConfigDiff::default();
        let mut reset_all = Fields::default();
        reset_all.check(old.router_id != new.router_id, "router_id");
        reset_all.check(old.local_as != new.local_as, "local_as");
        diff.reset_all = reset_all.0;

        let mut rib = Fields::default();
        rib.check(old.max_paths != new.max_paths, "max_paths");
        rib.check(
            old.graceful_restart.max_restart_time != new.graceful_restart.max_restart_time,
            "graceful_restart.max_restart_time",
        );
        diff.rib_changed = rib.0;
        let mut ibgp_reset = Fields::default();
        // (Follows router_id when not set: then every session is reset anyway.)
        ibgp_reset
            .check(old.cluster_id != new.cluster_id && diff.reset_all.is_empty(), "cluster_id");

        let (k, n) = (&old.kernel, &new.kernel);
        let mut kernel = Fields::default();
        kernel.check(k.enabled != n.enabled, "kernel.enabled");
        kernel.check(k.protocol != n.protocol, "kernel.protocol");
        kernel.check(k.table != n.table, "kernel.table");
        kernel.check(k.metric != n.metric, "kernel.metric");
        kernel
            .check(k.blackhole_originated != n.blackhole_originated, "kernel.blackhole_originated");
        diff.kernel_changed = kernel.0;
        diff.kernel_exclude_changed = k.exclude != n.exclude;

        diff.listen_changed = old.listen != new.listen;
        diff.http_listen_changed = old.http_listen != new.http_listen;
        diff.control_socket_changed = old.control_socket != new.control_socket;
        diff.datastore_changed = old.datastore != new.datastore || old.node_name != new.node_name;
        diff.log_level_changed = old.log.level != new.log.level;
        let mut restart = Fields::default();
        restart.check(old.log.format != new.log.format, "log.format");
        diff.restart_required = restart.0;
        let mut deferred = Fields::default();
        deferred.check(old.hostname != new.hostname, "hostname");
        deferred.check(
            old.graceful_restart.restart_time != new.graceful_restart.restart_time,
            "graceful_restart.restart_time",
        );
        diff.deferred = deferred.0;

        diff.originate_added =
            new.originate.iter().filter(|p| !old.originate.contains(p)).copied().collect();
        diff.originate_removed =
            old.originate.iter().filter(|p| !new.originate.contains(p)).copied().collect();

        diff.neighbors_removed = old
            .neighbors
            .iter()
            .filter(|n| new.neighbor(n.address).is_none())
            .map(|n| n.address)
            .collect();
        for new_neighbor in &new.neighbors {
            let ibgp = new_neighbor.remote_as == new.local_as;
            let extra = if ibgp { &ibgp_reset.0[..] } else { &[] };
            match old.neighbor(new_neighbor.address) {
                None => diff.neighbors_added.push(new_neighbor.address),
                Some(old_neighbor) => diff.neighbor(old_neighbor, new_neighbor, extra),
            }
        }
        diff
    }

    /// Classifies one neighbour present in both configurations.
    /// `extra`: global fields that force this session's reset (besides `reset_all`).
    fn neighbor(&mut self, old: &NeighborConfig, new: &NeighborConfig, extra: &[&'static str]) {
        let address = new.address;
        match (old.shutdown, new.shutdown) {
            (false, true) => self.neighbors_shutdown.push(address),
            (true, false) => self.neighbors_enabled.push(address),
            // Down before and after: nothing to do now; it starts with whatever the
            // configuration says when enabled.
            (true, true) => {}
            (false, false) => self.running_neighbor(old, new, extra),
        }
    }

    /// Classifies a neighbour that is enabled in both configurations.
    fn running_neighbor(
        &mut self,
        old: &NeighborConfig,
        new: &NeighborConfig,
        extra: &[&'static str],
    ) {
        let address = new.address;
        let reset: Vec<&'static str> =
            self.reset_all.iter().chain(extra).copied().chain(reset_fields(old, new)).collect();
        let policy = policy_fields(old, new);
        let update = update_fields(old, new);
        if !reset.is_empty() {
            let fields = reset.into_iter().chain(policy).chain(update).collect();
            self.neighbors_reset.push(NeighborChange { address, fields });
        } else if !policy.is_empty() {
            let fields = policy.into_iter().chain(update).collect();
            self.neighbors_policy.push(NeighborChange { address, fields });
        } else if !update.is_empty() {
            self.neighbors_updated.push(NeighborChange { address, fields: update });
        }
    }

    /// Nothing changed at all.
    pub fn is_empty(&self) -> bool {
        *self == ConfigDiff::default()
    }

    /// Some kept, enabled session will be reset to apply this diff.
    pub fn resets_sessions(&self) -> bool {
        !self.neighbors_reset.is_empty()
    }
}

impl Config {
    /// Same as [`ConfigDiff::between`]`(self, new)`.
    pub fn diff(&self, new: &Config) -> ConfigDiff {
        ConfigDiff::between(self, new)
    }
}

impl fmt::Display for ConfigDiff {
    /// One line per kind of change, for the reload log and the `bgpctl reload` answer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no changes");
        }
        fn list<T: fmt::Display>(items: &[T]) -> String {
            items.iter().map(|item| item.to_string()).collect::<Vec<_>>().join(", ")
        }
        fn changes(items: &[NeighborChange]) -> String {
            let each = items.iter().map(|c| format!("{} ({})", c.address, c.fields.join(", ")));
            each.collect::<Vec<_>>().join(", ")
        }
        let entries = [
            (!self.reset_all.is_empty(), format!("all sessions reset: {}", list(&self.reset_all))),
            (
                !self.neighbors_added.is_empty(),
                format!("neighbors added: {}", list(&self.neighbors_added)),
            ),
            (
                !self.neighbors_removed.is_empty(),
                format!("neighbors removed: {}", list(&self.neighbors_removed)),
            ),
            (
                !self.neighbors_reset.is_empty(),
                format!("sessions reset: {}", changes(&self.neighbors_reset)),
            ),
            (
                !self.neighbors_policy.is_empty(),
                format!("policy re-applied: {}", changes(&self.neighbors_policy)),
            ),
            (
                !self.neighbors_updated.is_empty(),
                format!("neighbors updated: {}", changes(&self.neighbors_updated)),
            ),
            (
                !self.neighbors_shutdown.is_empty(),
                format!("neighbors shut down: {}", list(&self.neighbors_shutdown)),
            ),
            (
                !self.neighbors_enabled.is_empty(),
                format!("neighbors enabled: {}", list(&self.neighbors_enabled)),
            ),
            (
                !self.originate_added.is_empty(),
                format!("originate added: {}", list(&self.originate_added)),
            ),
            (
                !self.originate_removed.is_empty(),
                format!("originate removed: {}", list(&self.originate_removed)),
            ),
            (
                !self.rib_changed.is_empty(),
                format!("routes re-evaluated: {}", list(&self.rib_changed)),
            ),
            (
                !self.kernel_changed.is_empty(),
                format!("kernel re-synced: {}", list(&self.kernel_changed)),
            ),
            (self.listen_changed, "listen addresses changed".to_string()),
            (self.http_listen_changed, "http_listen changed".to_string()),
            (self.control_socket_changed, "control_socket changed".to_string()),
            (self.datastore_changed, "datastore reconnected".to_string()),
            (self.kernel_exclude_changed, "kernel exclusions changed".to_string()),
            (self.log_level_changed, "log level changed".to_string()),
            (
                !self.restart_required.is_empty(),
                format!("needs a restart to apply: {}", list(&self.restart_required)),
            ),
            (
                !self.deferred.is_empty(),
                format!("applied at next session start: {}", list(&self.deferred)),
            ),
        ];
        let lines: Vec<String> =
            entries.into_iter().filter(|(present, _)| *present).map(|(_, text)| text).collect();
        f.write_str(&lines.join("\n"))
    }
}
