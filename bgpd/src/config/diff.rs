//! What a configuration reload changes, sorted by what the daemon must do about it.
//!
//! - `restart_required`: global settings a running daemon keeps; applied at next start.
//! - `neighbors_reset`: the session must be torn down (Cease/"Other Configuration Change",
//!   RFC 4486 §4 subcode 6) and re-established, because something in OPEN, the transport or
//!   the session's identity changed.
//! - `neighbors_policy`: re-evaluate routes without a reset (re-run import over the stored
//!   Adj-RIB-In or send ROUTE-REFRESH; re-advertise exports).
//! - `neighbors_updated`: takes effect with nothing to do (description, connect_retry).
use super::model::{Config, NeighborConfig};
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// A neighbour whose configuration changed, with the changed field names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighborChange {
    pub address: IpAddr,
    pub fields: Vec<&'static str>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// Global fields whose new value needs a daemon restart (router_id, local_as, listen,
    /// cluster_id, control_socket, http_listen, log.format). The old values stay in force.
    pub restart_required: Vec<&'static str>,
    pub neighbors_added: Vec<IpAddr>,
    pub neighbors_removed: Vec<IpAddr>,
    /// Session must be reset to apply; `fields` lists every changed field.
    pub neighbors_reset: Vec<NeighborChange>,
    /// import/export/route_reflector_client/next_hop_self/max_prefixes changed only.
    pub neighbors_policy: Vec<NeighborChange>,
    /// description/connect_retry changed only: nothing to do beyond using the new config.
    pub neighbors_updated: Vec<NeighborChange>,
    /// `shutdown` went false -> true: send Cease/Administrative Shutdown (RFC 4486 §4
    /// subcode 2) and stay down.
    pub neighbors_shutdown: Vec<IpAddr>,
    /// `shutdown` went true -> false: start the session with the new configuration.
    pub neighbors_enabled: Vec<IpAddr>,
    pub originate_added: Vec<IpNet>,
    pub originate_removed: Vec<IpNet>,
    /// Decision-process settings (max_paths): re-run best path / ECMP and re-advertise.
    pub rib_changed: Vec<&'static str>,
    /// Changed `kernel.*` fields: re-sync the kernel table.
    pub kernel_changed: Vec<&'static str>,
    /// `log.level` changed: apply through the logging reload handle.
    pub log_level_changed: bool,
    /// Used from the next session establishment on, no reset forced (hostname,
    /// graceful_restart.restart_time).
    pub deferred: Vec<&'static str>,
}

/// Fields whose change needs a session reset (they are in OPEN or the transport).
fn reset_fields(old: &NeighborConfig, new: &NeighborConfig) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |changed: bool, name: &'static str| {
        if changed {
            fields.push(name);
        }
    };
    check(old.port != new.port, "port");
    check(old.remote_as != new.remote_as, "remote_as");
    check(old.local_address != new.local_address, "local_address");
    check(old.hold_time != new.hold_time, "hold_time");
    check(old.families != new.families, "families");
    check(old.passive != new.passive, "passive");
    check(old.password != new.password, "password");
    check(old.add_path != new.add_path, "add_path");
    check(old.multihop != new.multihop || old.ttl != new.ttl, "multihop");
    check(old.ttl_security != new.ttl_security, "ttl_security");
    check(old.graceful_restart != new.graceful_restart, "graceful_restart");
    fields
}

/// Fields applied by re-evaluating routes, without a reset.
fn policy_fields(old: &NeighborConfig, new: &NeighborConfig) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |changed: bool, name: &'static str| {
        if changed {
            fields.push(name);
        }
    };
    check(old.import != new.import, "import");
    check(old.export != new.export, "export");
    check(old.route_reflector_client != new.route_reflector_client, "route_reflector_client");
    check(old.next_hop_self != new.next_hop_self, "next_hop_self");
    check(old.max_prefixes != new.max_prefixes, "max_prefixes");
    fields
}

fn other_fields(old: &NeighborConfig, new: &NeighborConfig) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if old.description != new.description {
        fields.push("description");
    }
    if old.connect_retry != new.connect_retry {
        fields.push("connect_retry");
    }
    fields
}

impl Config {
    /// What changes between `old` and `new`; see [`ConfigDiff`].
    pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
        let mut diff = ConfigDiff::default();
        let global = |changed: bool, name: &'static str, into: &mut Vec<&'static str>| {
            if changed {
                into.push(name);
            }
        };
        let restart = &mut diff.restart_required;
        global(old.router_id != new.router_id, "router_id", restart);
        global(old.local_as != new.local_as, "local_as", restart);
        global(old.listen != new.listen, "listen", restart);
        global(old.cluster_id != new.cluster_id, "cluster_id", restart);
        global(old.control_socket != new.control_socket, "control_socket", restart);
        global(old.http_listen != new.http_listen, "http_listen", restart);
        global(old.log.format != new.log.format, "log.format", restart);
        global(old.max_paths != new.max_paths, "max_paths", &mut diff.rib_changed);
        let kernel = &mut diff.kernel_changed;
        global(old.kernel.enabled != new.kernel.enabled, "kernel.enabled", kernel);
        global(old.kernel.protocol != new.kernel.protocol, "kernel.protocol", kernel);
        global(old.kernel.table != new.kernel.table, "kernel.table", kernel);
        global(old.kernel.metric != new.kernel.metric, "kernel.metric", kernel);
        global(
            old.kernel.blackhole_originated != new.kernel.blackhole_originated,
            "kernel.blackhole_originated",
            kernel,
        );
        let deferred = &mut diff.deferred;
        global(old.hostname != new.hostname, "hostname", deferred);
        global(
            old.graceful_restart.restart_time != new.graceful_restart.restart_time,
            "graceful_restart.restart_time",
            deferred,
        );
        diff.log_level_changed = old.log.level != new.log.level;

        diff.originate_added =
            new.originate.iter().filter(|p| !old.originate.contains(p)).copied().collect();
        diff.originate_removed =
            old.originate.iter().filter(|p| !new.originate.contains(p)).copied().collect();

        for old_neighbor in &old.neighbors {
            if new.neighbor(old_neighbor.address).is_none() {
                diff.neighbors_removed.push(old_neighbor.address);
            }
        }
        for new_neighbor in &new.neighbors {
            let address = new_neighbor.address;
            let Some(old_neighbor) = old.neighbor(address) else {
                diff.neighbors_added.push(address);
                continue;
            };
            match (old_neighbor.shutdown, new_neighbor.shutdown) {
                (false, true) => {
                    diff.neighbors_shutdown.push(address);
                    continue;
                }
                (true, false) => {
                    diff.neighbors_enabled.push(address);
                    continue;
                }
                _ => {}
            }
            let reset = reset_fields(old_neighbor, new_neighbor);
            let policy = policy_fields(old_neighbor, new_neighbor);
            let other = other_fields(old_neighbor, new_neighbor);
            if !reset.is_empty() {
                let fields = reset.into_iter().chain(policy).chain(other).collect();
                diff.neighbors_reset.push(NeighborChange { address, fields });
            } else if !policy.is_empty() {
                let fields = policy.into_iter().chain(other).collect();
                diff.neighbors_policy.push(NeighborChange { address, fields });
            } else if !other.is_empty() {
                diff.neighbors_updated.push(NeighborChange { address, fields: other });
            }
        }
        diff
    }
}

impl ConfigDiff {
    /// Nothing changed at all.
    pub fn is_empty(&self) -> bool {
        *self == ConfigDiff::default()
    }
}

impl fmt::Display for ConfigDiff {
    /// One line per kind of change, for the reload log and the `bgpctl reload` answer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no changes");
        }
        let mut lines: Vec<String> = Vec::new();
        let join = |items: &[IpAddr]| items.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ");
        let changes = |items: &[NeighborChange]| {
            items
                .iter()
                .map(|c| format!("{} ({})", c.address, c.fields.join(", ")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let prefixes = |items: &[IpNet]| items.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ");
        if !self.restart_required.is_empty() {
            lines.push(format!("needs a restart to apply: {}", self.restart_required.join(", ")));
        }
        if !self.neighbors_added.is_empty() {
            lines.push(format!("neighbors added: {}", join(&self.neighbors_added)));
        }
        if !self.neighbors_removed.is_empty() {
            lines.push(format!("neighbors removed: {}", join(&self.neighbors_removed)));
        }
        if !self.neighbors_reset.is_empty() {
            lines.push(format!("sessions reset: {}", changes(&self.neighbors_reset)));
        }
        if !self.neighbors_policy.is_empty() {
            lines.push(format!("policy re-applied: {}", changes(&self.neighbors_policy)));
        }
        if !self.neighbors_updated.is_empty() {
            lines.push(format!("neighbors updated: {}", changes(&self.neighbors_updated)));
        }
        if !self.neighbors_shutdown.is_empty() {
            lines.push(format!("neighbors shut down: {}", join(&self.neighbors_shutdown)));
        }
        if !self.neighbors_enabled.is_empty() {
            lines.push(format!("neighbors enabled: {}", join(&self.neighbors_enabled)));
        }
        if !self.originate_added.is_empty() {
            lines.push(format!("originate added: {}", prefixes(&self.originate_added)));
        }
        if !self.originate_removed.is_empty() {
            lines.push(format!("originate removed: {}", prefixes(&self.originate_removed)));
        }
        if !self.rib_changed.is_empty() {
            lines.push(format!("best paths recomputed: {}", self.rib_changed.join(", ")));
        }
        if !self.kernel_changed.is_empty() {
            lines.push(format!("kernel re-synced: {}", self.kernel_changed.join(", ")));
        }
        if self.log_level_changed {
            lines.push("log level changed".to_string());
        }
        if !self.deferred.is_empty() {
            lines.push(format!("applied at next session start: {}", self.deferred.join(", ")));
        }
        f.write_str(&lines.join("\n"))
    }
}
