//! The validated configuration the daemon runs with: every default resolved, every prefix
//! and rule parsed. Built only by [`super::parse`] / [`super::load`].
use super::diagnostic::Diagnostic;
use super::policy::Policy;
pub use super::raw::LogFormat;
use bgp_core::wire::Family;
use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// BGP Identifier (RFC 6286: a non-zero 4-octet value).
    pub router_id: Ipv4Addr,
    pub local_as: u32,
    /// Addresses to accept BGP connections on; empty = do not listen.
    pub listen: Vec<SocketAddr>,
    /// RFC 4456 CLUSTER_ID; `router_id` unless set.
    pub cluster_id: Ipv4Addr,
    /// ECMP: the most next hops installed for one prefix (>= 1).
    pub max_paths: u16,
    /// Prefixes this node advertises (its Pod CIDRs), no host bits set, duplicates removed.
    pub originate: Vec<IpNet>,
    /// `originate` may hold prefixes whose blackhole route cuts the node off (the default
    /// route, multicast, loopback, link-local, its own addresses): see `originate_guard`.
    pub allow_dangerous_originate: bool,
    /// Sent in the FQDN (hostname) capability when set.
    pub hostname: Option<String>,
    pub kernel: KernelConfig,
    pub graceful_restart: GracefulRestartConfig,
    pub control_socket: PathBuf,
    /// `None` = no HTTP endpoint.
    pub http_listen: Option<SocketAddr>,
    pub log: LogConfig,
    pub neighbors: Vec<NeighborConfig>,
    /// This node's name in the cluster (Calico's NODENAME): `node_name`, else the host name.
    pub node_name: String,
    /// Where the cluster's configuration comes from; `None` = the file alone.
    pub datastore: Option<DatastoreConfig>,
    /// Which of the fields a datastore can supply the file set itself (those win).
    pub file_sets: FileSets,
    pub(crate) warnings: Vec<Diagnostic>,
}

/// The fields the file set explicitly, so that a datastore fills in only the others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileSets {
    pub router_id: bool,
    pub local_as: bool,
    pub listen: bool,
    pub cluster_id: bool,
    /// `log.level` (else the datastore's `logSeverityScreen` applies).
    pub log_level: bool,
}

/// `datastore:` (docs/datastore.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatastoreConfig {
    /// Where the cluster's resources are read from (exactly one backend).
    pub backend: DatastoreBackend,
    /// The last datastore view is saved here as `datastore-view.json`.
    pub state_dir: PathBuf,
    /// Secrets as Kubernetes mounts them: `<secrets_dir>/<secret name>/<key>`.
    pub secrets_dir: PathBuf,
}

/// `datastore.etcd` or `datastore.kubernetes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatastoreBackend {
    Etcd(EtcdConfig),
    Kubernetes(KubernetesConfig),
}

/// `datastore.kubernetes`: the Kubernetes API (Nodes, Services, EndpointSlices, and Calico's
/// `crd.projectcalico.org/v1` resources when they exist). docs/kubernetes.md.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubernetesConfig {
    /// `None`: in-cluster service account (else `$KUBECONFIG`, else `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// Namespace of the Secrets that BGPPeer `password.secretKeyRef` names (default:
    /// `$POD_NAMESPACE`, else `kube-system`).
    pub secrets_namespace: String,
    /// Plain clusters (no Calico CRDs): nodes with this label are route reflectors; the mesh
    /// is off and every node peers with them (their cluster ID is the label's value when it
    /// is an IPv4 address, else 244.0.0.1). `None`: full mesh.
    pub route_reflector_label: Option<String>,
    /// Plain clusters: the Service ranges to advertise (Calico clusters take them from the
    /// BGPConfiguration `serviceClusterIPs` / `serviceExternalIPs` / `serviceLoadBalancerIPs`).
    pub service_cluster_ips: Vec<IpNet>,
    pub service_external_ips: Vec<IpNet>,
    pub service_load_balancer_ips: Vec<IpNet>,
}

/// `datastore.etcd`: the etcd v3 cluster holding Calico's resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcdConfig {
    /// `http://host:port` or `https://host:port`, at least one.
    pub endpoints: Vec<String>,
    /// Key prefix of Calico's data (`/calico`).
    pub prefix: String,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// etcd authentication (user name, password read from `password_file`).
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
}

/// Where a neighbour came from, for `bgpctl show neighbors`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NeighborSource {
    /// The file's `neighbors` list.
    #[default]
    Config,
    /// The datastore's node-to-node mesh (`nodeToNodeMeshEnabled`), with that node's name.
    Mesh(String),
    /// A BGPPeer resource, by name.
    BgpPeer(String),
}

impl fmt::Display for NeighborSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NeighborSource::Config => f.write_str("config"),
            NeighborSource::Mesh(node) => write!(f, "mesh/{node}"),
            NeighborSource::BgpPeer(name) => write!(f, "bgppeer/{name}"),
        }
    }
}

impl Config {
    /// Warnings found while loading (the configuration is still usable).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The neighbour configured at `address`.
    pub fn neighbor(&self, address: IpAddr) -> Option<&NeighborConfig> {
        self.neighbors.iter().find(|neighbor| neighbor.address == address)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelConfig {
    /// false = touch no kernel routing table.
    pub enabled: bool,
    /// rtnetlink protocol number owned by bgpd (179 by default: no routing daemon's; see
    /// `route_sync::KernelConfig`).
    pub protocol: u8,
    pub table: u32,
    pub metric: u32,
    /// Install a blackhole route for each `originate` prefix.
    pub blackhole_originated: bool,
    /// Routes inside these prefixes are not installed (not in the file: the datastore sets
    /// it to the VXLAN and IP-in-IP pools, whose routes Felix programs).
    pub exclude: Vec<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    pub enabled: bool,
    /// Seconds; RFC 4724 §3: a 12-bit field (0..=4095).
    pub restart_time: u16,
    /// Seconds: the local cap on the Restart Time a peer announces, i.e. the longest its
    /// routes are kept stale after it went down (0 = never kept).
    pub max_restart_time: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing `EnvFilter` directive (`info`, `bgpd=debug,info` ...). RUST_LOG wins.
    pub level: String,
}

/// `log.level` when neither the file nor the datastore sets one.
pub const DEFAULT_LOG_LEVEL: &str = "info";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighborConfig {
    pub address: IpAddr,
    /// Where this neighbour came from (the file, the datastore's mesh, a BGPPeer).
    pub source: NeighborSource,
    pub remote_as: u32,
    /// `remote_as == local_as`.
    pub ibgp: bool,
    pub description: Option<String>,
    pub port: u16,
    /// Only accept connections, never dial.
    pub passive: bool,
    /// Proposed hold time: 0 or >= 3 (RFC 4271 §4.2).
    pub hold_time: u16,
    /// Seconds between connection attempts (>= 1).
    pub connect_retry: u16,
    pub local_address: Option<IpAddr>,
    /// Families offered in the Multiprotocol capability, in configured order, no duplicates.
    pub families: Vec<Family>,
    pub route_reflector_client: bool,
    pub next_hop_self: bool,
    /// eBGP: pass learned routes on with their next hop (third-party next hop).
    pub next_hop_keep: bool,
    /// eBGP: accept routes whose AS_PATH holds our AS up to this many times (BIRD's
    /// `allow local as`); 0 = the RFC 4271 §9.1.2 loop check.
    pub allow_local_as: u8,
    /// Our next hop for IPv4 / IPv6 routes on this session, instead of the session's local
    /// address (same family) or a global address of the interface that carries it (other
    /// family).
    pub next_hop_v4: Option<Ipv4Addr>,
    pub next_hop_v6: Option<Ipv6Addr>,
    /// eBGP: a route whose AS_PATH does not start with the neighbour's AS is treated as
    /// withdrawn (RFC 4271 §6.3, RFC 7606 §7.2).
    pub enforce_first_as: bool,
    /// As configured (hop count); see `ttl` for the value to use.
    pub multihop: Option<u8>,
    /// IP TTL for outgoing packets: 255 with `ttl_security`, else `multihop`, else 1 for
    /// eBGP and 255 for iBGP.
    pub ttl: u8,
    /// RFC 5082 GTSM; see [`NeighborConfig::gtsm_min_ttl`].
    pub ttl_security: bool,
    /// Graceful restart (RFC 4724) for this session: the neighbour's override, else the
    /// top-level `graceful_restart.enabled`.
    pub graceful_restart: bool,
    /// TCP MD5 key (RFC 2385), from `password` or read from `password_file`.
    pub password: Option<Password>,
    pub password_file: Option<PathBuf>,
    pub max_prefixes: Option<MaxPrefixes>,
    /// RFC 4724 Restart Time announced to this neighbour; `None` = `graceful_restart.restart_time`.
    pub restart_time: Option<u16>,
    pub add_path: AddPathConfig,
    /// Administratively down.
    pub shutdown: bool,
    /// Resolved: as configured, else `all` for iBGP and `none` for eBGP (RFC 8212).
    pub import: Policy,
    /// Resolved like `import`.
    pub export: Policy,
    /// `import` / `export` were not written, so they follow `ibgp` (a datastore that
    /// supplies `local_as` re-resolves them).
    pub policy_defaulted: (bool, bool),
}

impl NeighborConfig {
    pub fn is_ebgp(&self) -> bool {
        !self.ibgp
    }

    /// Where to connect to.
    pub fn remote(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }

    /// RFC 5082 §3: with GTSM the sender uses TTL 255 and the receiver discards packets
    /// whose TTL is below 255 - (hops - 1), i.e. `IP_MINTTL` = 256 - hops.
    pub fn gtsm_min_ttl(&self) -> Option<u8> {
        if !self.ttl_security {
            return None;
        }
        let hops = self.multihop.unwrap_or(1).max(1);
        Some(255 - (hops - 1))
    }
}

/// RFC 4486 Cease "Maximum Number of Prefixes Reached" handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPrefixes {
    pub limit: u32,
    /// Log/metric warning at this percentage of `limit` (default 75).
    pub warning_percent: u8,
    /// Seconds after which the session is restarted; `None` = stay down until reset.
    pub restart_after: Option<u32>,
}

/// RFC 7911 ADD-PATH per session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddPathConfig {
    pub receive: bool,
    pub send: bool,
}

/// A TCP MD5 key. Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(key: String) -> Self {
        Password(key)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_debug_is_redacted() {
        let password = Password::new("hunter2".into());
        assert_eq!(format!("{password:?}"), "Password(***)");
        assert_eq!(password.expose(), "hunter2");
    }
}
