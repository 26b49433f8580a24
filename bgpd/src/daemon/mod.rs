//! The daemon: starts the RIB owner task, kernel sync, sessions, listeners, control socket and
//! HTTP endpoint from a configuration, then runs the main loop: signals (SIGHUP reload,
//! SIGTERM/SIGINT stop), control-socket requests (answered in `requests.rs`), datastore
//! events, and a one-second housekeeping tick. What the tasks send each other:
//! `crate::messages`.
mod cluster;
pub mod error;
pub(crate) mod reload;
mod requests;
mod setup;
mod supervise;

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
use crate::control::server::ControlServer;
use crate::health::Health;
use crate::messages::{ControlRequest, PeerCommand, RibInput};
use crate::metrics::Metrics;
use crate::peer::listener::{Directory, Listener};
use crate::peer::PeerHandle;

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
    /// Aborts the RIB task at shutdown (it is watched by `supervise::watch`).
    rib_task: tokio::task::AbortHandle,
    /// The RIB or route-sync task ended by itself (daemon/supervise.rs).
    failures: mpsc::UnboundedReceiver<supervise::TaskFailure>,
    kernel: Option<RouteSync>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    /// `bgpctl` requests from the control server.
    control_requests: mpsc::Receiver<ControlRequest>,
    /// Removes its socket file (only while it is still ours) when stopped or dropped.
    control_server: Option<ControlServer>,
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
    daemon.main_loop(stop).await
}

/// The log level of `new` (the file's `log.level`, else the datastore's
/// `logSeverityScreen`) takes over from `old`'s, live.
fn apply_log_level(old: &Config, new: &Config) {
    if old.log.level == new.log.level {
        return;
    }
    match crate::logging::set_level(&new.log.level) {
        Ok(()) => info!(from = %old.log.level, to = %new.log.level, "log level changed"),
        Err(e) => error!(level = %new.log.level, error = %e, "log level not applied"),
    }
}

/// Sleeps until `at`; never returns for `None`.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Daemon {
    /// Returns the process exit code: 0 after a signal or `stop`, [`supervise::EXIT_TASK_FAILED`]
    /// after a critical task failed.
    async fn main_loop(&mut self, stop: impl std::future::Future<Output = ()>) -> i32 {
        let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::hangup()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            error!("cannot install signal handlers");
            self.shutdown().await;
            return 1;
        };
        let mut exit_code = 0;
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
                Some(failure) = self.failures.recv() => {
                    self.task_failed(failure);
                    exit_code = supervise::EXIT_TASK_FAILED;
                    break;
                }
                Some(ControlRequest { request, reply }) = self.control_requests.recv() => {
                    let response = self.answer(request).await;
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
        exit_code
    }

    /// The RIB or route-sync task is gone: nothing routes any more. `/healthz` says so from
    /// now on; the caller shuts down (as on SIGTERM) and exits non-zero.
    fn task_failed(&self, failure: supervise::TaskFailure) {
        let what = format!("{} {}", failure.task, failure.why);
        error!(task = failure.task, why = %failure.why, "a task bgpd cannot run without failed: shutting down to exit with code {}", supervise::EXIT_TASK_FAILED);
        self.metrics.task_panics.with_label_values(&[failure.task]).inc();
        self.health.set_failed(what);
    }

    /// Heartbeat, readiness, uptime gauges.
    fn housekeeping(&self) {
        self.health.daemon_beat();
        let alive = tokio::runtime::Handle::current().metrics().num_alive_tasks();
        self.metrics.runtime_tasks.set(i64::try_from(alive).unwrap_or(i64::MAX));
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            self.metrics.open_fds.set(i64::try_from(fds.count()).unwrap_or(i64::MAX));
        }
        let mut waiting = Vec::new();
        for (addr, peer) in &self.peers {
            let status = peer.status.lock();
            let label = addr.to_string();
            self.metrics
                .neighbor_uptime_seconds
                .with_label_values(&[&label])
                .set(status.uptime_secs() as i64);
            if !status.admin_down && !status.given_up && status.established_at.is_none() {
                waiting.push(*addr);
            }
        }
        waiting.sort();
        self.health.set_waiting_for(waiting.iter().map(IpAddr::to_string).collect());
        if let Some(kernel) = &self.kernel {
            let stats = kernel.stats();
            self.metrics.kernel_routes_installed.set(stats.installed() as i64);
            self.metrics.kernel_route_failures.set(stats.install_failed() as i64);
            self.metrics.netlink_errors.set(stats.netlink_errors() as i64);
            self.health.kernel_pending.store(stats.pending(), std::sync::atomic::Ordering::Relaxed);
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
        if let Some(server) = self.control_server.take() {
            server.stop();
        }
        if let Some(t) = self.http_task.take() {
            t.abort();
        }
    }
}
