//! Configuration of the kernel route sink.

use std::time::Duration;

/// How the routes bgpd installs are marked and where they go.
///
/// Defaults: enabled, protocol 186 (`RTPROT_BGP`, shown by `ip route` as `proto bgp`),
/// table 254 (`main`), metric 20. The metric is what tells our routes apart from others for
/// the same prefix: a static or DHCP route with a lower metric wins without any fight, and a
/// foreign route with exactly our metric is reported as a conflict and left alone. 20 matches
/// the usual eBGP administrative distance and stays below the kernel's IPv6 default (1024).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelConfig {
    /// `false` turns the sink into a no-op (pure route server): nothing is read or written.
    pub enabled: bool,
    /// `rtm_protocol` of every route and nexthop object we own. We never touch others.
    pub protocol: u8,
    /// Routing table (`RTA_TABLE`), 254 = main.
    pub table: u32,
    /// Route metric (`RTA_PRIORITY`).
    pub metric: u32,
    /// Use Linux nexthop objects (`RTA_NH_ID`) when the kernel has them (probed at start);
    /// otherwise, or when `false`, routes carry their gateways inline.
    pub nexthop_objects: bool,
    /// Kind of route installed by `set_blackholes` (the node's own Pod CIDRs).
    pub blackhole_kind: BlackholeKind,
    /// First nexthop object id we allocate (ids are global in a namespace; pick a range no
    /// other daemon uses). Default `0x0BA0_0000`.
    pub nexthop_id_base: u32,
}

/// Route type used for `set_blackholes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlackholeKind {
    /// `RTN_BLACKHOLE`: drop silently (what Calico installs for its own blocks).
    Blackhole,
    /// `RTN_UNREACHABLE`: drop and answer ICMP unreachable.
    Unreachable,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            enabled: true,
            protocol: 186,
            table: 254,
            metric: 20,
            nexthop_objects: true,
            blackhole_kind: BlackholeKind::Blackhole,
            nexthop_id_base: 0x0BA0_0000,
        }
    }
}

/// What happens at start to routes of our protocol that a previous run left in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    /// Remove stale routes as soon as the table has been read (cold start).
    Immediate,
    /// Graceful restart: keep stale routes forwarding until `finish_initial_sync()` is called
    /// (End-of-RIB from all peers) or this much time has passed, whichever comes first.
    AfterGrace(Duration),
}
