//! The daemon: starts the RIB owner task, kernel sync, sessions, listeners, control socket and
//! HTTP endpoint from a configuration, then runs the main loop: signals (SIGHUP reload,
//! SIGTERM/SIGINT stop), control-socket requests, and a one-second housekeeping tick.
mod cluster;
mod control;
mod reload;
mod setup;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use route_sync::RouteSync;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{error, info};

use crate::config::Config;
use crate::control::server::ControlRequest;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::peer::listener::{Directory, Listener};
use crate::peer::{PeerCommand, PeerHandle};
use crate::routing::input::RibInput;

pub struct Daemon {
    config_path: PathBuf,
    /// The configuration file as loaded (the datastore's view is merged into `config`).
    file_config: Config,
    /// The running configuration: the file, merged with the datastore's view if any.
    config: Config,
    /// The cluster datastore, when `datastore` is configured.
    cluster: Option<cluster::Cluster>,
    /// The first-dial delay of sessions started now (see `SessionParams::first_dial_delay`).
    first_dial_delay: Duration,
    peers: HashMap<IpAddr, PeerHandle>,
    directory: Directory,
    listeners: HashMap<SocketAddr, Listener>,
    rib: mpsc::Sender<RibInput>,
    rib_task: JoinHandle<()>,
    kernel: Option<RouteSync>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    control_rx: mpsc::Receiver<ControlRequest>,
    control_task: Option<JoinHandle<()>>,
    http_task: Option<JoinHandle<()>>,
    /// We restarted with our kernel routes still in place (RFC 4724 restarting speaker).
    restarting: bool,
}

/// Run until SIGTERM/SIGINT. Returns the process exit code.
pub async fn run(config_path: PathBuf, config: Config) -> i32 {
    run_until(config_path, config, std::future::pending()).await
}

/// Run until SIGTERM/SIGINT or until `stop` completes (tests, embedding).
pub async fn run_until(
    config_path: PathBuf,
    config: Config,
    stop: impl std::future::Future<Output = ()>,
) -> i32 {
    let mut daemon = match Daemon::start(config_path, config).await {
        Ok(d) => d,
        Err(e) => {
            error!(error = %e, "cannot start");
            return 1;
        }
    };
    daemon.main_loop(stop).await;
    0
}

/// Sleeps until `at`; never returns for `None`.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Daemon {
    async fn main_loop(&mut self, stop: impl std::future::Future<Output = ()>) {
        let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::hangup()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            error!("cannot install signal handlers");
            return;
        };
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tokio::pin!(stop);
        loop {
            let datastore_due = self.datastore_due();
            tokio::select! {
                _ = hup.recv() => {
                    match self.reload().await {
                        Ok(summary) => info!(%summary, "configuration reloaded (SIGHUP)"),
                        Err(e) => error!(error = %e, "reload rejected, keeping the running configuration"),
                    }
                }
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = &mut stop => break,
                Some((request, reply)) = self.control_rx.recv() => {
                    let response = self.handle_control(request).await;
                    let _ = reply.send(response);
                }
                event = Self::next_datastore_event(&mut self.cluster) => {
                    self.on_datastore_event(event);
                }
                _ = sleep_until(datastore_due) => self.apply_datastore().await,
                _ = tick.tick() => {
                    self.housekeeping();
                    self.end_restart_state();
                }
            }
        }
        self.shutdown().await;
    }

    /// Heartbeat, readiness, uptime gauges.
    fn housekeeping(&self) {
        self.health.daemon_beat();
        let mut all_up = true;
        for (addr, peer) in &self.peers {
            let st = peer.status.lock();
            let label = addr.to_string();
            self.metrics
                .neighbor_uptime_seconds
                .with_label_values(&[&label])
                .set(st.uptime_secs() as i64);
            if !st.admin_down && !st.given_up && st.established_at.is_none() {
                all_up = false;
            }
        }
        self.health.sessions_ready.store(all_up, std::sync::atomic::Ordering::Relaxed);
        if let Some(kernel) = &self.kernel {
            let stats = kernel.stats();
            self.metrics.kernel_routes_installed.set(stats.installed() as i64);
            self.metrics.kernel_route_failures.set(stats.install_failed() as i64);
            self.metrics.netlink_errors.set(stats.netlink_errors() as i64);
        }
    }

    /// RFC 4724 §4.1: the Restart State bit is set only in the OPENs right after our restart.
    /// Once the RIB has converged (kernel in sync) later sessions announce a plain restart.
    fn end_restart_state(&mut self) {
        if !self.restarting
            || !self.health.kernel_in_sync.load(std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        self.restarting = false;
        info!("graceful restart complete");
        for peer in self.peers.values_mut() {
            let p = crate::peer::params::session_params(&self.config, &peer.params.neighbor, false);
            peer.params = p.clone();
            peer.send(PeerCommand::Reconfigure(Box::new(p)));
        }
    }

    /// SIGTERM: tell every peer (Cease, or a silent close under graceful restart so they keep
    /// our routes), leave kernel routes in place when graceful restart is on, exit 0.
    async fn shutdown(&mut self) {
        let graceful = self.config.graceful_restart.enabled;
        info!(graceful, "shutting down");
        for peer in self.peers.values() {
            peer.send(PeerCommand::Exit { graceful });
        }
        for (_, peer) in self.peers.drain() {
            let _ = tokio::time::timeout(Duration::from_secs(3), peer.task).await;
        }
        self.listeners.clear();
        if let Some(kernel) = self.kernel.take() {
            kernel.shutdown(!graceful).await;
        }
        self.rib_task.abort();
        if let Some(t) = self.control_task.take() {
            t.abort();
        }
        if let Some(t) = self.http_task.take() {
            t.abort();
        }
        let _ = std::fs::remove_file(&self.config.control_socket);
    }
}
