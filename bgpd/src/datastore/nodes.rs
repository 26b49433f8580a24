//! The cluster's nodes and BGP settings as the mapping uses them: addresses parsed, AS
//! numbers resolved, the per-node BGPConfiguration laid over the default one. Every value
//! that cannot be used becomes a [`Problem`] naming its resource.
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::resources::{AsNumber, BgpConfigurationSpec, Node, Password};
use super::view::ClusterView;
use super::Problem;

/// Calico's default AS (`api/pkg/apis/projectcalico/v3/bgpconfig.go`).
pub const DEFAULT_AS: u32 = 64512;
/// Calico's default BGP port.
pub const DEFAULT_PORT: u16 = 179;

/// One node that runs BGP (has `spec.bgp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<Ipv6Addr>,
    /// The node's own AS, else the cluster's.
    pub asn: u32,
    /// `spec.bgp.asNumber` as set (confd's mesh falls back to *our* AS without it).
    pub own_as: Option<u32>,
    /// The port the node listens on: its `node.<name>` BGPConfiguration's `listenPort`,
    /// else the default one's, else 179.
    pub listen_port: u16,
    pub cluster_id: Option<Ipv4Addr>,
    pub labels: BTreeMap<String, String>,
}

impl NodeInfo {
    /// The node's address of `address`'s family.
    pub fn address_like(&self, address: IpAddr) -> Option<IpAddr> {
        match address {
            IpAddr::V4(_) => self.v4.map(IpAddr::V4),
            IpAddr::V6(_) => self.v6.map(IpAddr::V6),
        }
    }

    /// Both addresses, IPv4 first.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> {
        self.v4.map(IpAddr::V4).into_iter().chain(self.v6.map(IpAddr::V6))
    }
}

/// The BGPConfiguration in force for this node: `default`, with the fields a per-node
/// `node.<name>` may override (`listenPort`, `logSeverityScreen`; Calico rejects the others
/// there: libcalico-go `clientv3/bgpconfig.go` ValidateDefaultOnlyFields), then Calico's
/// defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BgpSettings {
    pub as_number: u32,
    pub mesh: bool,
    /// This node's port (its `node.<name>` override, else the default's, else 179).
    pub listen_port: u16,
    /// The default BGPConfiguration's port (confd's for `peerIP` peers that are not nodes).
    pub global_listen_port: u16,
    /// Seconds (`nodeMeshMaxRestartTime`).
    pub mesh_restart_time: Option<u16>,
    pub mesh_password: Option<Password>,
    /// `logSeverityScreen` as a tracing filter directive (see [`log_directive`]).
    pub log_level: Option<&'static str>,
}

/// Resolves the BGPConfiguration for `node_name`.
pub fn bgp_settings(
    view: &ClusterView,
    node_name: &str,
    problems: &mut Vec<Problem>,
) -> BgpSettings {
    let empty = BgpConfigurationSpec::default();
    let global = view.bgp_configurations.get("default").map_or(&empty, |c| &c.spec);
    let node_key = format!("node.{node_name}");
    let local = view.bgp_configurations.get(&node_key).map_or(&empty, |c| &c.spec);
    let as_number = match global.as_number.as_ref().map(AsNumber::value) {
        None => DEFAULT_AS,
        Some(Ok(asn)) => asn,
        Some(Err(message)) => {
            problems
                .push(Problem::new("bgpconfigurations/default", format!("asNumber: {message}")));
            DEFAULT_AS
        }
    };
    let mesh_restart_time =
        global.node_mesh_max_restart_time.as_ref().and_then(|text| match restart_seconds(text) {
            Ok(secs) => Some(secs),
            Err(message) => {
                problems.push(Problem::new(
                    "bgpconfigurations/default",
                    format!("nodeMeshMaxRestartTime: {message}"),
                ));
                None
            }
        });
    BgpSettings {
        as_number,
        mesh: global.node_to_node_mesh_enabled.unwrap_or(true),
        listen_port: listen_port(view, node_name),
        global_listen_port: global.listen_port.unwrap_or(DEFAULT_PORT),
        mesh_restart_time,
        mesh_password: global.node_mesh_password.clone(),
        log_level: log_level(local, &node_key, problems)
            .or_else(|| log_level(global, "default", problems)),
    }
}

/// `logSeverityScreen` of one BGPConfiguration (`name`), as a filter directive; a value
/// Calico does not define is reported and ignored.
fn log_level(
    spec: &BgpConfigurationSpec,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'static str> {
    let severity = spec.log_severity_screen.as_deref()?;
    let level = log_directive(severity);
    if level.is_none() {
        problems.push(Problem::new(
            &format!("bgpconfigurations/{name}"),
            format!(
                "logSeverityScreen `{severity}`: expected Debug, Info, Warning, Error or Fatal"
            ),
        ));
    }
    level
}

/// Calico's `logSeverityScreen` (Debug, Info, Warning, Error, Fatal; any case) as bgpd's log
/// level. Calico turns BIRD's `debug all` on for Debug only; here Debug shows bgpd's debug
/// lines. Fatal has no level of its own: errors are the least bgpd logs.
pub fn log_directive(severity: &str) -> Option<&'static str> {
    match severity.to_ascii_lowercase().as_str() {
        "debug" => Some("debug"),
        "info" => Some("info"),
        "warning" => Some("warn"),
        "error" | "fatal" => Some("error"),
        _ => None,
    }
}

/// The BGP port of `node_name`: its `node.<name>` BGPConfiguration's `listenPort`, else the
/// default one's, else 179.
fn listen_port(view: &ClusterView, node_name: &str) -> u16 {
    let port = |name: &str| view.bgp_configurations.get(name).and_then(|c| c.spec.listen_port);
    port(&format!("node.{node_name}")).or_else(|| port("default")).unwrap_or(DEFAULT_PORT)
}

/// Every node with `spec.bgp`, by name. A node whose addresses or AS cannot be parsed keeps
/// what can be (a bad IPv6 address still leaves its IPv4 sessions).
pub fn bgp_nodes(
    view: &ClusterView,
    default_as: u32,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, NodeInfo> {
    view.nodes
        .iter()
        .filter_map(|(name, node)| {
            let mut info = node_info(name, node, default_as, problems)?;
            info.listen_port = listen_port(view, name);
            Some((name.clone(), info))
        })
        .collect()
}

fn node_info(
    name: &str,
    node: &Node,
    default_as: u32,
    problems: &mut Vec<Problem>,
) -> Option<NodeInfo> {
    let bgp = node.spec.bgp.as_ref()?;
    let key = format!("nodes/{name}");
    let mut bad = |field: &str, message: String| {
        problems.push(Problem::new(&key, format!("{field}: {message}")))
    };
    let mut address = |field: &str, text: &str, v4: bool| match node_address(text) {
        Ok(Some(a)) if a.is_ipv4() == v4 => Some(a),
        Ok(None) => None,
        Ok(Some(other)) => {
            bad(field, format!("{other} is not an IPv{} address", if v4 { 4 } else { 6 }));
            None
        }
        Err(message) => {
            bad(field, message);
            None
        }
    };
    let v4 = match address("spec.bgp.ipv4Address", &bgp.ipv4_address, true) {
        Some(IpAddr::V4(a)) => Some(a),
        _ => None,
    };
    let v6 = match address("spec.bgp.ipv6Address", &bgp.ipv6_address, false) {
        Some(IpAddr::V6(a)) => Some(a),
        _ => None,
    };
    let own_as = match bgp.as_number.as_ref().map(AsNumber::value) {
        None => None,
        Some(Ok(asn)) => Some(asn),
        Some(Err(message)) => {
            bad("spec.bgp.asNumber", message);
            None
        }
    };
    let cluster_id = match bgp.route_reflector_cluster_id.as_str() {
        "" => None,
        text => match text.parse::<Ipv4Addr>() {
            Ok(id) => Some(id),
            Err(_) => {
                bad("spec.bgp.routeReflectorClusterID", format!("`{text}` is not an IPv4 address"));
                None
            }
        },
    };
    Some(NodeInfo {
        name: name.to_string(),
        v4,
        v6,
        asn: own_as.unwrap_or(default_as),
        own_as,
        listen_port: DEFAULT_PORT,
        cluster_id,
        labels: node.metadata.labels.clone(),
    })
}

/// `198.18.0.1/24` (Calico's CIDR form) or a bare address; empty = none.
fn node_address(text: &str) -> Result<Option<IpAddr>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(Some(net.addr()));
    }
    text.parse::<IpAddr>().map(Some).map_err(|_| format!("`{text}` is not an address or CIDR"))
}

/// A Go duration (`120s`, `2m`, `1h30m`, `1.5m`) as whole seconds for a graceful restart
/// time (RFC 4724 §3: 12 bits, at most 4095).
pub fn restart_seconds(text: &str) -> Result<u16, String> {
    let secs =
        go_duration_secs(text).ok_or_else(|| format!("`{text}` is not a duration like 120s"))?;
    if secs > 4095.0 {
        return Err(format!("`{text}` is over 4095 s, the most a restart time can be (RFC 4724)"));
    }
    Ok(secs.round() as u16)
}

/// A Go duration as seconds; `None` if it does not parse.
pub fn go_duration_secs(text: &str) -> Option<f64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration_secs("120s"), Some(120.0));
        assert_eq!(go_duration_secs("2m"), Some(120.0));
        assert_eq!(go_duration_secs("1h30m"), Some(5400.0));
        assert_eq!(go_duration_secs("1.5m"), Some(90.0));
        assert_eq!(go_duration_secs("500ms"), Some(0.5));
        assert_eq!(go_duration_secs("0"), Some(0.0));
        assert_eq!(go_duration_secs("10"), None);
        assert_eq!(go_duration_secs("s"), None);
        assert_eq!(go_duration_secs(""), None);
        assert_eq!(restart_seconds("2m"), Ok(120));
        assert!(restart_seconds("2h").is_err());
    }

    #[test]
    fn node_addresses_in_cidr_or_plain_form() {
        assert_eq!(node_address("198.18.0.1/24"), Ok(Some("198.18.0.1".parse().unwrap())));
        assert_eq!(node_address("2001:db8::1"), Ok(Some("2001:db8::1".parse().unwrap())));
        assert_eq!(node_address(" "), Ok(None));
        assert!(node_address("198.18.0.300/24").is_err());
    }
}
