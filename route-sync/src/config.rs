//! Configuration of the kernel route sink.

use std::time::Duration;

/// How the routes bgpd installs are marked and where they go (`kernel:` in bgpd's config;
/// `enabled` and `blackhole_originated` are handled by the daemon, which simply does not start
/// or call [`crate::RouteSync`] when they are off).
///
/// Defaults: protocol [`DEFAULT_PROTOCOL`] (179), table 254 (`main`), metric
/// [`DEFAULT_METRIC`] (50). Protocol, table and metric together identify our routes: we only
/// ever replace or delete routes carrying all three. A foreign route in the same slot (same
/// prefix, table and metric) is reported and left alone; one with another metric simply
/// coexists with ours.
///
/// The defaults are numbers no common routing daemon uses, so that bgpd never takes another
/// daemon's routes for its own: 186 (`RTPROT_BGP`, `proto bgp`) with metric 20 is what FRR's
/// zebra installs its BGP routes with, 187..=197 are FRR's other daemons, 12 is BIRD, 11
/// zebra, 42 babel, 99 Open/R, 80 Calico Felix's; 179 is BGP's TCP port and is unassigned
/// in the kernel's `rtnetlink.h` and iproute2's `rt_protos` (name it with
/// `examples/rt_protos.d/bgpd.conf` so `ip route` shows `proto bgpd`).
///
/// The protocol alone keeps bgpd and FRR apart; the metric only has to differ from FRR's 20
/// and BIRD's 32 (a route of the same prefix and metric in one table is one kernel route, so
/// a replace would overwrite the other daemon's). 50 is lower than what DHCP and router
/// advertisements install (100 and up, 1024), so a prefix learned over BGP wins over a
/// DHCP/RA default or subnet route, and loses to FRR's or BIRD's route for the same prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelConfig {
    /// `rtm_protocol` of every route and nexthop object we own. We never touch others.
    pub protocol: u8,
    /// Routing table (`RTA_TABLE`), 254 = main.
    pub table: u32,
    /// Route metric (`RTA_PRIORITY`).
    pub metric: u32,
}

/// bgpd's default `rtm_protocol` (see [`KernelConfig`]).
pub const DEFAULT_PROTOCOL: u8 = 179;
/// bgpd's default route metric (see [`KernelConfig`]).
pub const DEFAULT_METRIC: u32 = 50;

/// The routing daemon known to install its routes with `protocol` (rtnetlink.h, iproute2's
/// `rt_protos` and FRR's `rt_protos.d/frr.conf`, Calico Felix), if any.
pub fn protocol_owner(protocol: u8) -> Option<&'static str> {
    Some(match protocol {
        8 => "GateD",
        9 => "router advertisements (ra)",
        10 => "Merit MRT",
        11 => "zebra",
        12 => "BIRD",
        13 => "dnrouted",
        14 => "XORP",
        15 => "Netsukuku",
        16 => "DHCP clients",
        17 => "mrouted",
        18 => "keepalived",
        42 => "babeld",
        80 => "Calico Felix",
        99 => "Open/R",
        186 => "FRR's bgpd (`proto bgp`)",
        187..=198 => "FRR",
        _ => return None,
    })
}

/// The identity bgpd's routes had before protocol 179 became the default: protocol 186
/// (`proto bgp`) and metric 20, which is also what FRR's zebra installs BGP routes with.
pub const LEGACY_PROTOCOL: u8 = 186;
pub const LEGACY_METRIC: u32 = 20;

/// The start-up warning about `count` routes with the legacy identity found in the main
/// table (left by an older bgpd, or FRR's), if there are any.
pub fn legacy_routes_warning(count: usize) -> Option<String> {
    (count > 0).then(|| {
        format!(
            "{count} routes with protocol {LEGACY_PROTOCOL} and metric {LEGACY_METRIC} in the main table: \
             FRR's, or left by an older bgpd (which used that identity); they are not bgpd's now \
             and, with their lower metric, win over its routes. If FRR does not run here, remove \
             them: ip route flush proto {LEGACY_PROTOCOL} metric {LEGACY_METRIC}; \
             ip -6 route flush proto {LEGACY_PROTOCOL} metric {LEGACY_METRIC}"
        )
    })
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig { protocol: DEFAULT_PROTOCOL, table: 254, metric: DEFAULT_METRIC }
    }
}

/// Tuning knobs with sensible defaults; most deployments never change them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Use Linux nexthop objects (`RTA_NH_ID`) when the kernel has them (probed at start);
    /// otherwise, or when `false`, routes carry their gateways inline (`RTA_GATEWAY` /
    /// `RTA_MULTIPATH`).
    pub nexthop_objects: bool,
    /// First nexthop object id we allocate (ids are global in a namespace; ids already used by
    /// anybody else are skipped). Default `0x0BA0_0000`.
    pub nexthop_id_base: u32,
    /// Kind of route installed by `set_blackhole` (the node's own Pod CIDRs).
    pub blackhole_kind: BlackholeKind,
    /// Bytes of requests packed into one `send()` (~60 KB: one socket buffer's worth).
    pub batch_bytes: usize,
    /// Longest wait between two retries of routes the kernel refused.
    pub max_retry_interval: Duration,
    /// Receive buffer of the socket that hears the kernel's notifications. When it overflows
    /// (ENOBUFS) notifications are lost and route-sync reads the whole kernel state again;
    /// large enough that a burst of a million route changes fits. Default 32 MiB.
    pub monitor_buffer_bytes: i32,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            nexthop_objects: true,
            nexthop_id_base: 0x0BA0_0000,
            blackhole_kind: BlackholeKind::Blackhole,
            batch_bytes: 60 * 1024,
            max_retry_interval: Duration::from_secs(30),
            monitor_buffer_bytes: 32 << 20,
        }
    }
}

/// Route type used for `set_blackhole`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlackholeKind {
    /// `RTN_BLACKHOLE`: drop silently (what Calico installs for its own blocks).
    Blackhole,
    /// `RTN_UNREACHABLE`: drop and answer ICMP unreachable.
    Unreachable,
}

/// When routes of our protocol that a previous run left in the kernel, and that the RIB does
/// not (yet) hold, are removed ("stale purge"). Until then they keep forwarding; a stale prefix
/// the RIB sets again is simply taken over (replaced in place, no flap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    /// Purge as soon as [`crate::RouteSync::initial_sync_done`] is called (the daemon calls
    /// it when the first full desired state has been pushed; right away if it has nothing to
    /// wait for).
    Now,
    /// Graceful restart (RFC 4724 §4.2 "Procedures for the Restarting Speaker"): keep stale
    /// routes until `initial_sync_done()` is called (End-of-RIB from every peer) or this much
    /// time has passed since `start`, whichever comes FIRST (the selection deferral timer).
    AfterGrace(Duration),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_metric_beats_dhcp_and_ra_and_loses_to_frr_and_bird() {
        let metric = KernelConfig::default().metric;
        // FRR's zebra installs with 20, BIRD with 32: theirs win, and a different metric
        // means a different kernel route (no replace of theirs).
        assert!(metric > 32);
        // DHCP clients (NetworkManager, netplan: 100 and up) and router advertisements (1024).
        assert!(metric < 100);
        assert_eq!(KernelConfig::default().protocol, 179, "the protocol keeps FRR apart");
    }

    #[test]
    fn srte_is_frrs() {
        assert_eq!(protocol_owner(198), Some("FRR"));
        assert_eq!(protocol_owner(179), None);
    }

    #[test]
    fn legacy_routes_get_one_warning_line_with_their_count_and_the_remedy() {
        assert_eq!(legacy_routes_warning(0), None);
        let line = legacy_routes_warning(3).unwrap();
        assert!(line.starts_with("3 routes with protocol 186 and metric 20"), "{line}");
        assert!(line.contains("ip route flush proto 186 metric 20"), "{line}");
        assert!(!line.contains('\n'));
    }
}
