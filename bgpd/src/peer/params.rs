//! From the YAML configuration to what one session runs with: the FSM configuration (our
//! OPEN's contents) and the socket options.
use std::time::Duration;

use bgp_core::fsm::{FsmConfig, GracefulRestartConfig as FsmGr, LocalCapabilities};
use bgp_core::wire::{AddPathEntry, AddPathMode};

use super::session::SessionParams;
use super::socket::SocketOptions;
use crate::config::{Config, NeighborConfig};

/// Parameters for `neighbor` under the global `config`. `restarting`: this bgpd just
/// restarted with forwarding state kept (RFC 4724 §4.1: R and F bits set).
pub fn session_params(
    config: &Config,
    neighbor: &NeighborConfig,
    restarting: bool,
) -> SessionParams {
    let mut fsm = FsmConfig::new(config.local_as, config.router_id, neighbor.remote_as);
    fsm.hold_time = neighbor.hold_time;
    fsm.connect_retry = Duration::from_secs(u64::from(neighbor.connect_retry.max(1)));
    fsm.passive = neighbor.passive;
    fsm.capabilities = capabilities(config, neighbor, restarting);
    let socket = SocketOptions {
        local_address: neighbor.local_address,
        ttl: Some(u32::from(neighbor.ttl)),
        min_ttl: neighbor.gtsm_min_ttl(),
        md5_key: neighbor.password.as_ref().map(|p| p.expose().as_bytes().to_vec()),
        user_timeout: super::socket::user_timeout(neighbor.hold_time),
    };
    SessionParams { neighbor: neighbor.clone(), fsm, socket, first_dial_delay: Duration::ZERO }
}

fn capabilities(config: &Config, neighbor: &NeighborConfig, restarting: bool) -> LocalCapabilities {
    let mut caps = LocalCapabilities {
        families: neighbor.families.clone(),
        hostname: config.hostname.clone(),
        // RFC 7313 obliges a speaker that announces Enhanced Route Refresh to frame every
        // re-advertisement with BoRR/EoRR and to age out routes between them; we answer
        // plain RFC 2918 refreshes, so we do not announce it.
        enhanced_route_refresh: false,
        ..LocalCapabilities::default()
    };
    if neighbor.graceful_restart {
        caps.graceful_restart = Some(FsmGr {
            restart_time: neighbor.restart_time.unwrap_or(config.graceful_restart.restart_time),
            restart_state: restarting,
            notification: true,
            forwarding_state: restarting && config.kernel.enabled,
        });
    }
    let mode = match (neighbor.add_path.receive, neighbor.add_path.send) {
        (true, true) => Some(AddPathMode::Both),
        (true, false) => Some(AddPathMode::Receive),
        (false, true) => Some(AddPathMode::Send),
        (false, false) => None,
    };
    if let Some(mode) = mode {
        caps.add_path =
            neighbor.families.iter().map(|&family| AddPathEntry { family, mode }).collect();
    }
    caps
}
