//! The YAML document exactly as written (serde), before validation. Defaults that do not
//! depend on other fields are applied here; the rest (import/export, TTL, graceful restart,
//! cluster_id) are resolved by `validate`. Prefixes and rules stay strings so that every bad
//! one can be reported at once, each at its own line.
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

pub const DEFAULT_LISTEN: &str = "[::]:179";
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/bgpd/bgpd.sock";
pub const DEFAULT_HTTP_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 9179);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Required unless `datastore` is set (then the node's IPv4 address).
    #[serde(default)]
    pub router_id: Option<Ipv4Addr>,
    /// Required unless `datastore` is set (then the node's or the cluster's AS).
    #[serde(default)]
    pub local_as: Option<u32>,
    /// `None`: `[::]:179`, or the datastore's `listenPort`.
    #[serde(default)]
    pub listen: Option<Vec<SocketAddr>>,
    /// This node's name in the cluster; default: the host name (Calico's NODENAME).
    #[serde(default)]
    pub node_name: Option<String>,
    #[serde(default)]
    pub datastore: Option<RawDatastore>,
    #[serde(default)]
    pub cluster_id: Option<Ipv4Addr>,
    #[serde(default = "default_max_paths")]
    pub max_paths: u16,
    #[serde(default)]
    pub originate: Vec<String>,
    /// Let `originate` (and the datastore's blocks) hold a default route, a reserved range or
    /// this node's own addresses although blackhole routes are installed for them.
    #[serde(default)]
    pub allow_dangerous_originate: bool,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub kernel: RawKernel,
    #[serde(default)]
    pub graceful_restart: RawGracefulRestart,
    #[serde(default = "default_control_socket")]
    pub control_socket: PathBuf,
    #[serde(default = "default_http_listen")]
    pub http_listen: Option<SocketAddr>,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub neighbors: Vec<RawNeighbor>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKernel {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_kernel_protocol")]
    pub protocol: u8,
    #[serde(default = "default_kernel_table")]
    pub table: u32,
    #[serde(default = "default_kernel_metric")]
    pub metric: u32,
    #[serde(default = "yes")]
    pub blackhole_originated: bool,
}

impl Default for RawKernel {
    fn default() -> Self {
        RawKernel {
            enabled: true,
            protocol: default_kernel_protocol(),
            table: default_kernel_table(),
            metric: default_kernel_metric(),
            blackhole_originated: true,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGracefulRestart {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_restart_time")]
    pub restart_time: u16,
    /// Longest a restarting peer's routes are kept stale, whatever Restart Time it announces.
    #[serde(default = "default_restart_time")]
    pub max_restart_time: u16,
}

impl Default for RawGracefulRestart {
    fn default() -> Self {
        RawGracefulRestart {
            enabled: true,
            restart_time: default_restart_time(),
            max_restart_time: default_restart_time(),
        }
    }
}

/// `datastore:`: where the cluster's BGP configuration comes from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatastore {
    #[serde(default)]
    pub etcd: Option<RawEtcd>,
    /// `kubernetes: {}`: the Kubernetes API (in-cluster, or `kubeconfig`).
    #[serde(default)]
    pub kubernetes: Option<RawKubernetes>,
    /// Where the last datastore view is saved (for a start while the datastore is down).
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// BGPPeer `password.secretKeyRef` is read from `<secrets_dir>/<secret name>/<key>`.
    #[serde(default = "default_secrets_dir")]
    pub secrets_dir: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEtcd {
    pub endpoints: Vec<String>,
    #[serde(default = "default_etcd_prefix")]
    pub prefix: String,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// `datastore.kubernetes`; CIDRs stay strings so that each bad one is reported at its line.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKubernetes {
    #[serde(default)]
    pub kubeconfig: Option<PathBuf>,
    #[serde(default)]
    pub secrets_namespace: Option<String>,
    #[serde(default)]
    pub route_reflector_label: Option<String>,
    #[serde(default)]
    pub service_cluster_ips: Vec<String>,
    #[serde(default)]
    pub service_external_ips: Vec<String>,
    #[serde(default)]
    pub service_load_balancer_ips: Vec<String>,
}

/// `log.format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    #[serde(default)]
    pub format: LogFormat,
    /// `None`: not set in the file (`info`, or the datastore's `logSeverityScreen`).
    #[serde(default)]
    pub level: Option<String>,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog { format: LogFormat::Text, level: None }
    }
}

/// Names accepted in `families`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FamilyName {
    Ipv4Unicast,
    Ipv6Unicast,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNeighbor {
    pub address: IpAddr,
    pub remote_as: u32,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub passive: bool,
    #[serde(default = "default_hold_time")]
    pub hold_time: u16,
    #[serde(default = "default_connect_retry")]
    pub connect_retry: u16,
    #[serde(default)]
    pub local_address: Option<IpAddr>,
    #[serde(default = "default_families")]
    pub families: Vec<FamilyName>,
    #[serde(default)]
    pub route_reflector_client: bool,
    #[serde(default)]
    pub next_hop_self: bool,
    #[serde(default)]
    pub next_hop_keep: bool,
    #[serde(default)]
    pub allow_local_as: u8,
    #[serde(default)]
    pub next_hop_v4: Option<Ipv4Addr>,
    #[serde(default)]
    pub next_hop_v6: Option<Ipv6Addr>,
    #[serde(default = "default_enforce_first_as")]
    pub enforce_first_as: bool,
    #[serde(default)]
    pub multihop: Option<u8>,
    #[serde(default)]
    pub ttl_security: bool,
    #[serde(default)]
    pub graceful_restart: Option<bool>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub max_prefixes: Option<RawMaxPrefixes>,
    #[serde(default)]
    pub add_path: RawAddPath,
    #[serde(default)]
    pub shutdown: bool,
    #[serde(default)]
    pub import: Option<RawPolicy>,
    #[serde(default)]
    pub export: Option<RawPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaxPrefixes {
    pub limit: u32,
    #[serde(default = "default_warning_percent")]
    pub warning_percent: u8,
    #[serde(default)]
    pub restart_after: Option<u32>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAddPath {
    #[serde(default)]
    pub receive: bool,
    #[serde(default)]
    pub send: bool,
}

/// `import:` / `export:` as written: `all`, `none`, or a list of rule strings.
#[derive(Debug, PartialEq, Eq)]
pub enum RawPolicy {
    All,
    None,
    Rules(Vec<String>),
}

impl<'de> Deserialize<'de> for RawPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PolicyVisitor;
        impl<'de> Visitor<'de> for PolicyVisitor {
            type Value = RawPolicy;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`all`, `none` or a list of rules like `accept 10.0.0.0/8 le 24`")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<RawPolicy, E> {
                match value {
                    "all" => Ok(RawPolicy::All),
                    "none" => Ok(RawPolicy::None),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPolicy, A::Error> {
                let mut rules = Vec::new();
                while let Some(rule) = seq.next_element::<String>()? {
                    rules.push(rule);
                }
                Ok(RawPolicy::Rules(rules))
            }
        }
        deserializer.deserialize_any(PolicyVisitor)
    }
}

fn yes() -> bool {
    true
}
pub fn default_listen(port: u16) -> Vec<SocketAddr> {
    DEFAULT_LISTEN
        .parse::<SocketAddr>()
        .map(|addr| vec![SocketAddr::new(addr.ip(), port)])
        .unwrap_or_default()
}
fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/bgpd")
}
fn default_secrets_dir() -> PathBuf {
    PathBuf::from("/etc/bgpd/secrets")
}
fn default_etcd_prefix() -> String {
    "/calico".to_string()
}
fn default_max_paths() -> u16 {
    1
}
fn default_kernel_protocol() -> u8 {
    route_sync::config::DEFAULT_PROTOCOL
}
fn default_kernel_table() -> u32 {
    254
}
fn default_kernel_metric() -> u32 {
    route_sync::config::DEFAULT_METRIC
}
fn default_enforce_first_as() -> bool {
    true
}
fn default_restart_time() -> u16 {
    120
}
fn default_control_socket() -> PathBuf {
    PathBuf::from(DEFAULT_CONTROL_SOCKET)
}
fn default_http_listen() -> Option<SocketAddr> {
    Some(DEFAULT_HTTP_LISTEN)
}
fn default_port() -> u16 {
    179
}
fn default_hold_time() -> u16 {
    90
}
fn default_connect_retry() -> u16 {
    5
}
fn default_families() -> Vec<FamilyName> {
    vec![FamilyName::Ipv4Unicast, FamilyName::Ipv6Unicast]
}
fn default_warning_percent() -> u8 {
    75
}
