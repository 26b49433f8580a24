//! Configuration reload (SIGHUP, `bgpctl reload`), BIRD-style: parse and validate first (a bad
//! file changes nothing), then apply only the difference. Unrelated sessions never flap.
use std::time::Duration;

use bgp_core::wire::notification::codes;
use route_sync::{Reconcile, RouteSync};
use tracing::info;

use super::error::{ReloadError, StartError};
use super::Daemon;
use crate::config::{self, Config, ConfigDiff, NeighborConfig};
use crate::messages::{GlobalSettings, PeerCommand, PeerSettings, RibInput};
use crate::peer::params;

pub fn global_settings(config: &Config) -> RibInput {
    RibInput::Global(GlobalSettings {
        local_as: config.local_as,
        router_id: config.router_id,
        cluster_id: config.cluster_id,
        max_paths: config.max_paths,
        max_restart_time: config.graceful_restart.max_restart_time,
    })
}

pub fn peer_settings(n: &NeighborConfig) -> PeerSettings {
    PeerSettings {
        remote_as: n.remote_as,
        ibgp: n.ibgp,
        route_reflector_client: n.route_reflector_client,
        next_hop_self: n.next_hop_self,
        next_hop_keep: n.next_hop_keep,
        allow_local_as: n.allow_local_as,
        next_hop_v4: n.next_hop_v4,
        next_hop_v6: n.next_hop_v6,
        enforce_first_as: n.enforce_first_as,
        import: n.import.clone(),
        export: n.export.clone(),
        max_prefixes: n.max_prefixes,
    }
}

/// Kernel sync handle, its event stream, and whether we restart gracefully.
pub type KernelStart =
    (Option<RouteSync>, Option<tokio::sync::mpsc::Receiver<route_sync::KernelEvent>>, bool);

/// Start kernel sync when enabled. Returns whether our routes from a previous run are still in
/// the kernel (then, with graceful restart on, we are a restarting speaker: the routes stay
/// until the peers have re-sent theirs, RFC 4724 §4.1).
pub async fn start_kernel(config: &Config) -> Result<KernelStart, StartError> {
    if !config.kernel.enabled {
        return Ok((None, None, false));
    }
    let reconcile = if config.graceful_restart.enabled {
        Reconcile::AfterGrace(Duration::from_secs(u64::from(config.graceful_restart.restart_time)))
    } else {
        Reconcile::Now
    };
    let kernel_config = route_sync::KernelConfig {
        protocol: config.kernel.protocol,
        table: config.kernel.table,
        metric: config.kernel.metric,
    };
    let (sync, events) =
        RouteSync::start(kernel_config, reconcile).await.map_err(StartError::KernelSync)?;
    let restarting = config.graceful_restart.enabled && sync.found_at_start() > 0;
    Ok((Some(sync), Some(events), restarting))
}

impl Daemon {
    /// Reload the file we were started with. `Ok(summary)` when applied.
    pub(super) async fn reload(&mut self) -> Result<String, ReloadError> {
        let new = match config::load(&self.config_path) {
            Ok(c) => c,
            Err(e) => {
                self.metrics.config_reloads.with_label_values(&["failure"]).inc();
                return Err(ReloadError::Config(e));
            }
        };
        for w in new.warnings() {
            tracing::warn!("{w}");
        }
        let datastore_moved = new.datastore != self.file_config.datastore
            || new.node_name != self.file_config.node_name;
        if datastore_moved {
            // Another datastore (or node): start over from its saved view, if any.
            self.cluster = super::cluster::Cluster::open(&new);
        }
        self.file_config = new;
        let new = match self.cluster.as_mut() {
            Some(cluster) => cluster.map(&self.file_config),
            None => self.file_config.clone(),
        };
        let diff = ConfigDiff::between(&self.config, &new);
        let summary = if diff.is_empty() { "no changes".to_string() } else { diff.to_string() };
        self.apply(diff, new).await;
        self.metrics.config_reloads.with_label_values(&["success"]).inc();
        Ok(summary)
    }

    pub(super) async fn apply(&mut self, diff: ConfigDiff, new: Config) {
        let old = std::mem::replace(&mut self.config, new);
        if diff.log_level_changed {
            super::apply_log_level(&old, &self.config);
        }
        if !diff.reset_all.is_empty() || !diff.rib_changed.is_empty() {
            self.send_rib(global_settings(&self.config)).await;
        }
        for addr in &diff.neighbors_removed {
            self.remove_peer(
                *addr,
                codes::CEASE_PEER_DECONFIGURED,
                "neighbor removed from configuration",
            )
            .await;
        }
        for addr in &diff.neighbors_added {
            if let Some(n) = self.config.neighbor(*addr).cloned() {
                self.add_peer(&n).await;
            }
        }
        for change in &diff.neighbors_reset {
            let Some(n) = self.config.neighbor(change.address).cloned() else { continue };
            info!(neighbor = %n.address, fields = ?change.fields, "resetting session for changed settings");
            self.remove_peer(n.address, codes::CEASE_OTHER_CONFIG_CHANGE, "configuration changed")
                .await;
            self.add_peer(&n).await;
        }
        for change in diff.neighbors_policy.iter().chain(&diff.neighbors_updated) {
            let Some(n) = self.config.neighbor(change.address).cloned() else { continue };
            self.send_rib(RibInput::Configure {
                peer: n.address,
                settings: Box::new(peer_settings(&n)),
            })
            .await;
            if let Some(peer) = self.peers.get_mut(&n.address) {
                let p = params::session_params(&self.config, &n, self.restarting);
                peer.params = p.clone();
                peer.send(PeerCommand::Reconfigure(Box::new(p)));
            }
        }
        for addr in &diff.neighbors_shutdown {
            if let Some(peer) = self.peers.get(addr) {
                peer.send(PeerCommand::Stop {
                    subcode: codes::CEASE_ADMIN_SHUTDOWN,
                    message: "shutdown by configuration".to_string(),
                });
            }
        }
        for addr in &diff.neighbors_enabled {
            // Down until now: start it afresh with whatever else changed meanwhile.
            let Some(n) = self.config.neighbor(*addr).cloned() else { continue };
            self.remove_peer(*addr, codes::CEASE_ADMIN_SHUTDOWN, "").await;
            self.add_peer(&n).await;
        }
        // Originated prefixes inside an exclusion get no blackhole route. So that none
        // appears for a moment (a service range added, or removed with its exclusion), the
        // RIB first excludes the old and the new exclusions together, then takes the new
        // originate list, then the new exclusions alone.
        let originate_changed =
            !diff.originate_added.is_empty() || !diff.originate_removed.is_empty();
        if diff.kernel_exclude_changed && originate_changed {
            let mut both = old.kernel.exclude.clone();
            for prefix in &self.config.kernel.exclude {
                if !both.contains(prefix) {
                    both.push(*prefix);
                }
            }
            self.send_rib(RibInput::KernelExclude(both)).await;
        }
        if originate_changed {
            self.send_rib(RibInput::Originate(self.config.originate.clone())).await;
        }
        if diff.kernel_exclude_changed {
            self.send_rib(RibInput::KernelExclude(self.config.kernel.exclude.clone())).await;
        }
        if diff.listen_changed {
            self.bind_listeners();
        }
        // Keys change with neighbours (added, removed, reset for a new password).
        let cleared: Vec<_> = diff
            .neighbors_removed
            .iter()
            .copied()
            .chain(diff.neighbors_reset.iter().map(|c| c.address))
            .collect();
        self.apply_md5_keys(&cleared);
        if diff.http_listen_changed
            || diff.control_socket_changed
            || !diff.kernel_changed.is_empty()
        {
            info!("http_listen, control_socket and kernel changes take effect at the next start");
        }
        let _ = old;
    }
}
