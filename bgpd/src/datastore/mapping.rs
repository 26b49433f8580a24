//! From the cluster view to the configuration the daemon runs: a pure function of the
//! file's [`Config`] and the [`ClusterView`], so that a datastore change goes through the same
//! [`crate::config::ConfigDiff`] as `bgpctl reload` (sessions that did not change keep
//! running) and the mapping is tested on JSON fixtures without a datastore.
//!
//! What the file sets wins: `router_id`, `local_as`, `listen`, `cluster_id` are taken from
//! the datastore only when the file leaves them out, and a file neighbour hides a datastore
//! session to the same address.
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::export_filter::{export_policy, Pool, ServiceExport};
use super::nodes::{bgp_nodes, bgp_settings};
use super::peers::{bgp_peers, mesh, PeerContext};
use super::service_routes::{service_prefixes, service_ranges};
use super::view::ClusterView;
use super::{Problem, Secrets};
use crate::config::{
    default_policy, neighbor_ttl, originate_guard, Config, NeighborConfig, DEFAULT_LOG_LEVEL,
};

/// The configuration to run, and everything in the view that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub config: Config,
    pub problems: Vec<Problem>,
}

/// Builds the running configuration from the file and the cluster view.
pub fn build(file: &Config, view: &ClusterView, secrets: &dyn Secrets) -> Mapped {
    let mut problems = Vec::new();
    let mut config = file.clone();
    let node_key = format!("nodes/{}", file.node_name);
    let settings = bgp_settings(view, &file.node_name, &mut problems);
    let nodes = bgp_nodes(view, settings.as_number, &mut problems);
    let me = nodes.get(&file.node_name);
    if me.is_none() {
        let why = if view.nodes.contains_key(&file.node_name) {
            "has no spec.bgp: this node runs no BGP sessions from the datastore"
        } else {
            "is not in the datastore (yet): no sessions from the datastore"
        };
        problems.push(Problem::new(&node_key, format!("node {} {why}", file.node_name)));
    }
    if !file.file_sets.local_as {
        config.local_as = me.map_or(settings.as_number, |me| me.asn);
    }
    if !file.file_sets.router_id {
        // Calico's BIRD uses the node's IPv4 address as router id.
        config.router_id = me.and_then(|me| me.v4).unwrap_or(Ipv4Addr::UNSPECIFIED);
    }
    if !file.file_sets.cluster_id {
        config.cluster_id = me.and_then(|me| me.cluster_id).unwrap_or(config.router_id);
    }
    if !file.file_sets.listen {
        config.listen = crate::config::default_listen(settings.listen_port);
    }
    if !file.file_sets.log_level {
        config.log.level = settings.log_level.unwrap_or(DEFAULT_LOG_LEVEL).to_string();
    }
    if config.local_as != file.local_as {
        for neighbor in &mut config.neighbors {
            rebase(neighbor, config.local_as);
        }
    }

    let mut own_blocks: Vec<IpNet> =
        view.blocks.iter().filter(|(_, a)| a.is_confirmed()).map(|(cidr, _)| *cidr).collect();
    // The same guard as `--check` applies to `originate` (config/originate_guard.rs).
    let guarded = config.kernel.enabled
        && config.kernel.blackhole_originated
        && !file.allow_dangerous_originate;
    if guarded {
        let own: Vec<(IpAddr, String)> = me
            .map(|me| me.addresses().map(|a| (a, format!("{node_key}'s address"))).collect())
            .unwrap_or_default();
        own_blocks.retain(|block| {
            if let Some(why) = originate_guard::reserved_danger(block) {
                let message =
                    format!("{why}: {}; block not originated", originate_guard::CONSEQUENCE);
                problems.push(Problem::new(&format!("blocks/{block}"), message));
                return false;
            }
            if let Some(why) = originate_guard::holds_own_address(block, &own) {
                let message =
                    format!("{why}: {}; block originated", originate_guard::OWN_ADDRESS_CAVEAT);
                problems.push(Problem::new(&format!("blocks/{block}"), message));
            }
            true
        });
    }
    for block in &own_blocks {
        if !config.originate.contains(block) {
            config.originate.push(*block);
        }
    }
    // Services: the ranges (and Local services' own addresses) are originated, exported to
    // every peer, and never programmed into the kernel (no blackhole either).
    let ranges = service_ranges(view, &mut problems);
    let own_services = service_prefixes(view, &file.node_name, &ranges, &mut problems);
    for prefix in &own_services {
        if !config.originate.contains(prefix) {
            config.originate.push(*prefix);
        }
    }
    let pools = pools(view, !guarded, &mut problems);
    let service_ranges = ranges.all();
    let services = ServiceExport { ranges: &service_ranges, originated: &own_services };
    let export = export_policy(&own_blocks, &file.originate, services, &pools);
    config.kernel.exclude = pools.iter().filter(|p| p.encapsulated).map(|p| p.cidr).collect();
    config.kernel.exclude.extend(service_ranges.iter().copied());

    if let Some(me) = me {
        let ctx = PeerContext {
            me,
            local_as: config.local_as,
            nodes: &nodes,
            settings: &settings,
            export: &export,
            graceful_restart: file.graceful_restart.enabled,
            secrets,
        };
        let mut taken: HashSet<IpAddr> = config.neighbors.iter().map(|n| n.address).collect();
        let from_view = mesh(&ctx, &mut problems).into_iter().chain(bgp_peers(
            &ctx,
            &view.bgp_peers,
            &mut problems,
        ));
        for neighbor in from_view {
            if taken.insert(neighbor.address) {
                config.neighbors.push(neighbor);
            } else {
                let by = file
                    .neighbor(neighbor.address)
                    .map_or("an earlier datastore session".to_string(), |_| {
                        "the file's neighbors".to_string()
                    });
                problems.push(Problem::new(
                    &neighbor.source.to_string(),
                    format!("{} is already configured by {by}: skipped", neighbor.address),
                ));
            }
        }
    }
    if config.router_id.is_unspecified() && !config.neighbors.is_empty() {
        problems.push(Problem::new(
            &node_key,
            "no router id (no spec.bgp.ipv4Address, no router_id in the file): no sessions".into(),
        ));
        config.neighbors.clear();
    }
    if config.local_as == 0 {
        config.neighbors.clear();
    }
    Mapped { config, problems }
}

/// A file neighbour whose iBGP/eBGP role depended on a `local_as` the datastore supplied.
fn rebase(neighbor: &mut NeighborConfig, local_as: u32) {
    neighbor.ibgp = neighbor.remote_as == local_as;
    neighbor.ttl = neighbor_ttl(neighbor.ibgp, neighbor.multihop, neighbor.ttl_security);
    if neighbor.policy_defaulted.0 {
        neighbor.import = default_policy(neighbor.ibgp);
    }
    if neighbor.policy_defaulted.1 {
        neighbor.export = default_policy(neighbor.ibgp);
    }
}

/// The IP pools. Pools with VXLAN or IP-in-IP are still advertised, as Calico does, but
/// their routes are programmed by Felix, not by the routing daemon (confd's
/// `calico_kernel_programming` with the default `programClusterRoutes: EnabledNoEncapOnly`).
///
/// A pool that is a default route or overlaps a reserved range (multicast, loopback,
/// link-local) is skipped, unless the file allows it (`allow_dangerous_originate`) or no
/// blackhole routes are installed (`kernel.enabled` or `kernel.blackhole_originated` off), as
/// for IPAM blocks and `--check`.
fn pools(view: &ClusterView, allow_dangerous: bool, problems: &mut Vec<Problem>) -> Vec<Pool> {
    let mut out = Vec::new();
    for (name, pool) in &view.ip_pools {
        let spec = &pool.spec;
        match spec.cidr.parse::<IpNet>() {
            Ok(cidr) if !allow_dangerous && originate_guard::reserved_danger(&cidr).is_some() => {
                let why = originate_guard::reserved_danger(&cidr);
                problems.push(Problem::new(
                    &format!("ippools/{name}"),
                    format!("cidr {}: pool not used", why.as_deref().unwrap_or_default()),
                ));
            }
            Ok(cidr) => out.push(Pool {
                cidr: cidr.trunc(),
                export: !spec.disable_bgp_export,
                encapsulated: encapsulated(spec.ipip_mode.as_deref())
                    || encapsulated(spec.vxlan_mode.as_deref()),
            }),
            Err(_) => problems.push(Problem::new(
                &format!("ippools/{name}"),
                format!("cidr `{}` is not a CIDR", spec.cidr),
            )),
        }
    }
    out
}

/// `ipipMode` / `vxlanMode`: `Always` and `CrossSubnet` encapsulate; `Never`, empty or any
/// other value do not (libcalico-go maps unknown modes to Never).
fn encapsulated(mode: Option<&str>) -> bool {
    matches!(mode, Some("Always" | "CrossSubnet"))
}
