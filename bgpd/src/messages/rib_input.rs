//! What the daemon, the sessions and their writers tell the RIB owner task (`routing/`), and
//! the settings it is configured with. (route-sync's [`super::KernelEvent`]s come on their own
//! queue.)
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use bgp_core::fsm::Negotiated;
use bgp_core::wire::{RouteRefresh, Update};
use tokio::sync::{mpsc, oneshot};

use super::rib_query::{Query, QueryAnswer};
use super::{PeerCommand, UpdateSender};
use crate::config::{MaxPrefixes, Policy};

/// Identifies a configured neighbour: its address.
pub type PeerKey = IpAddr;

/// One input of the RIB owner task. Its queue is bounded (`routing::spawn`).
#[derive(Debug)]
pub enum RibInput {
    /// The session reached Established (RFC 4271 §8.2.2): start the initial table dump.
    PeerUp {
        peer: PeerKey,
        negotiated: Box<Negotiated>,
        /// Our end of the TCP connection: the next hop we advertise (next-hop-self). An
        /// IPv4-mapped IPv6 address counts as the IPv4 address.
        local_address: IpAddr,
        out: UpdateSender,
        /// The session's command queue (e.g. to stop it at the prefix limit).
        control: mpsc::UnboundedSender<PeerCommand>,
    },
    /// A decoded UPDATE (RFC 7606 treat-as-withdraw already turned into withdrawals).
    Update { peer: PeerKey, update: Box<Update> },
    /// The session left Established. `graceful`: keep its routes as stale (RFC 4724 §4.2).
    PeerDown { peer: PeerKey, graceful: bool },
    /// The peer asked for our Adj-RIB-Out again (RFC 2918 / RFC 7313).
    RouteRefresh { peer: PeerKey, request: RouteRefresh },
    /// The peer's UPDATE queue has room again (its writer drained it after a refused
    /// `try_send`).
    Writable { peer: PeerKey },
    /// A neighbour's routing settings (at start and on reload; policy changes re-evaluate).
    Configure { peer: PeerKey, settings: Box<PeerSettings> },
    /// The neighbour was removed from the configuration.
    Deconfigure { peer: PeerKey },
    /// The complete set of prefixes this node originates (its Pod CIDRs).
    Originate(Vec<IpNet>),
    /// Prefixes whose routes stay out of the kernel (they are still exchanged over BGP).
    KernelExclude(Vec<IpNet>),
    /// Route-selection settings.
    Global(GlobalSettings),
    /// Start-up has configured every neighbour: convergence can now be judged.
    ConfigurationComplete,
    /// A control-socket question.
    Query { query: Query, reply: oneshot::Sender<QueryAnswer> },
    /// Tests of the daemon's supervision (daemon/supervise.rs): the RIB task panics.
    #[cfg(test)]
    InjectPanic,
}

/// Per-neighbour routing settings, from its configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSettings {
    pub remote_as: u32,
    pub ibgp: bool,
    pub route_reflector_client: bool,
    pub next_hop_self: bool,
    pub next_hop_keep: bool,
    /// Times our AS may appear in a route's AS_PATH from this eBGP peer.
    pub allow_local_as: u8,
    /// Configured next hops for this session (else derived from its local address).
    pub next_hop_v4: Option<Ipv4Addr>,
    pub next_hop_v6: Option<Ipv6Addr>,
    /// RFC 4271 §6.3 enforce-first-AS (eBGP).
    pub enforce_first_as: bool,
    pub import: Policy,
    pub export: Policy,
    pub max_prefixes: Option<MaxPrefixes>,
}

/// Daemon-wide routing settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalSettings {
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    pub cluster_id: Ipv4Addr,
    pub max_paths: u16,
    /// `graceful_restart.max_restart_time`: cap on the Restart Time neighbours announce.
    pub max_restart_time: u16,
}
