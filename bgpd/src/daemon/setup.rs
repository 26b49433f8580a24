//! Start-up: every long-lived task, in dependency order.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{info, warn};

use super::error::{SocketError, StartError};
use super::Daemon;
use crate::config::{Config, NeighborConfig};
use crate::control;
use crate::health::Health;
use crate::http::{self, HttpState};
use crate::messages::{PeerCommand, RibInput};
use crate::metrics::Metrics;
use crate::peer::listener::Listener;
use crate::peer::{params, PeerHandle};
use crate::routing;

impl Daemon {
    pub(super) async fn start(
        config_path: PathBuf,
        file_config: Config,
    ) -> Result<Daemon, StartError> {
        // With a datastore: its saved view (if any) until the datastore answers.
        let mut cluster = super::cluster::Cluster::open(&file_config);
        let config = match cluster.as_mut() {
            Some(cluster) => cluster.map(&file_config),
            None => file_config.clone(),
        };
        super::apply_log_level(&file_config, &config);
        // First, before the kernel is touched: a second daemon with our socket path stops here.
        let (control_tx, control_requests) = mpsc::channel(64);
        let control_server =
            control::server::spawn(&config.control_socket, control_tx).await.map_err(|error| {
                SocketError::ControlSocket { path: config.control_socket.clone(), error }
            })?;
        let metrics = Arc::new(Metrics::new());
        let health = Arc::new(Health::new());
        health.daemon_beat();

        let (kernel, kernel_events, restarting) = super::reload::start_kernel(&config).await?;
        if kernel.is_none() {
            health.kernel_in_sync.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if restarting {
            info!("our routes are still in the kernel: restarting gracefully (RFC 4724)");
        }
        let (rib, rib_task) =
            routing::spawn(&config, kernel.clone(), kernel_events, metrics.clone(), health.clone());
        let (failed, failures) = mpsc::unbounded_channel();
        let rib_task = super::supervise::watch("rib", rib_task, failed.clone());
        if let Some(task) = kernel.as_ref().and_then(|k| k.take_task()) {
            super::supervise::watch("route_sync", task, failed);
        }
        let http_task = match config.http_listen {
            Some(addr) => Some(
                http::spawn(addr, HttpState { metrics: metrics.clone(), health: health.clone() })
                    .await
                    .map_err(|error| SocketError::HttpListen { addr, error })?,
            ),
            None => None,
        };
        let mut daemon = Daemon {
            config_path,
            file_config,
            config: config.clone(),
            cluster,
            first_dial_delay: Duration::ZERO,
            peers: HashMap::new(),
            directory: Arc::new(RwLock::new(HashMap::new())),
            listeners: HashMap::new(),
            rib,
            rib_task,
            failures,
            kernel,
            metrics,
            health,
            control_requests,
            control_server: Some(control_server),
            http_task,
            restarting,
        };
        daemon.send_rib(RibInput::Originate(config.originate.clone())).await;
        for neighbor in &config.neighbors {
            daemon.add_peer(neighbor).await;
        }
        daemon.send_rib(RibInput::ConfigurationComplete).await;
        daemon.bind_listeners();
        Ok(daemon)
    }

    pub(super) async fn send_rib(&self, input: RibInput) {
        let _ = self.rib.send(input).await;
    }

    /// Configure the neighbour in the RIB and start its session.
    pub(super) async fn add_peer(&mut self, neighbor: &NeighborConfig) {
        let settings = super::reload::peer_settings(neighbor);
        self.send_rib(RibInput::Configure { peer: neighbor.address, settings: Box::new(settings) })
            .await;
        let mut params = params::session_params(&self.config, neighbor, self.restarting);
        params.first_dial_delay = self.first_dial_delay;
        let handle = PeerHandle::spawn(params, self.rib.clone(), self.metrics.clone());
        if let Ok(mut dir) = self.directory.write() {
            dir.insert(neighbor.address, handle.commands.clone());
        }
        self.peers.insert(neighbor.address, handle);
    }

    /// Stop and forget a neighbour's session.
    pub(super) async fn remove_peer(
        &mut self,
        address: std::net::IpAddr,
        subcode: u8,
        message: &str,
    ) {
        if let Ok(mut dir) = self.directory.write() {
            dir.remove(&address);
        }
        if let Some(peer) = self.peers.remove(&address) {
            peer.send(PeerCommand::Stop { subcode, message: message.to_string() });
            peer.send(PeerCommand::Exit { graceful: false });
            let _ = tokio::time::timeout(Duration::from_secs(2), peer.task).await;
        }
        self.send_rib(RibInput::Deconfigure { peer: address }).await;
        self.metrics.remove_neighbor(&address.to_string());
    }

    /// Bind every configured listen address not bound yet, close the others, and give every
    /// listener the current TCP MD5 keys (RFC 2385).
    pub(super) fn bind_listeners(&mut self) {
        let wanted = self.config.listen.clone();
        self.listeners.retain(|addr, _| wanted.contains(addr));
        for addr in wanted {
            if self.listeners.contains_key(&addr) {
                continue;
            }
            match Listener::spawn(addr, self.directory.clone(), self.metrics.clone()) {
                Ok(l) => {
                    self.listeners.insert(addr, l);
                }
                Err(e) => warn!(%addr, error = %e, "cannot listen"),
            }
        }
        self.apply_md5_keys(&[]);
    }

    /// Remove the keys of `cleared` (neighbours removed, or reset maybe without a password),
    /// then install every configured neighbour's key on every listener.
    pub(super) fn apply_md5_keys(&self, cleared: &[std::net::IpAddr]) {
        for (addr, listener) in &self.listeners {
            for gone in cleared {
                let _ = listener.set_md5_key(*gone, None);
            }
            for n in &self.config.neighbors {
                let Some(key) = n.password.as_ref().map(|p| p.expose().as_bytes()) else {
                    continue;
                };
                if let Err(e) = listener.set_md5_key(n.address, Some(key)) {
                    warn!(listen = %addr, neighbor = %n.address, error = %e, "cannot set the TCP MD5 key");
                }
            }
        }
    }
}
