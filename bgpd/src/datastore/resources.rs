//! Calico's v3 resources as the datastore stores them (the JSON `calicoctl` writes under
//! `/calico/resources/v3/projectcalico.org/<plural>/<name>`, the same objects the Kubernetes
//! datastore holds as `crd.projectcalico.org/v1` CRDs). Only the fields bgpd reads are
//! declared; every other field is ignored, so newer Calico versions parse as well.
//!
//! Field names and defaults follow `api/pkg/apis/projectcalico/v3/{node,bgpconfig,bgppeer,
//! ippool}.go` in projectcalico/calico. Values are kept as written (strings for addresses and
//! CIDRs): the mapping (`super::mapping`) parses them, so that one bad field makes one
//! resource unusable with a message, not the whole view.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `metadata` of any resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Metadata {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// A Calico Node (`nodes/<name>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Node {
    pub metadata: Metadata,
    pub spec: NodeSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeSpec {
    /// `None`: the node runs no BGP (Calico: not a mesh member, not selectable as a peer).
    pub bgp: Option<NodeBgpSpec>,
}

/// `spec.bgp` of a Node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeBgpSpec {
    /// The node's IPv4 address in CIDR form (`198.18.0.1/24`); the address alone is accepted.
    #[serde(rename = "ipv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "ipv6Address")]
    pub ipv6_address: String,
    /// The node's AS; empty = the BGPConfiguration's.
    pub as_number: Option<AsNumber>,
    /// Set: the node is a route reflector with this cluster ID (an IPv4 address).
    #[serde(rename = "routeReflectorClusterID")]
    pub route_reflector_cluster_id: String,
}

/// An AS number as Calico writes it: a JSON number, or a string (`"64512"` or asdot
/// `"1.10"`), Calico's `numorstring.ASNumber`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AsNumber {
    Number(u64),
    Text(String),
}

impl AsNumber {
    /// The 4-octet AS number (RFC 6793; asdot `high.low` as in RFC 5396), or why not.
    pub fn value(&self) -> Result<u32, String> {
        match self {
            AsNumber::Number(n) => u32::try_from(*n).map_err(|_| format!("AS {n} is too large")),
            AsNumber::Text(text) => {
                let parsed = match text.split_once('.') {
                    Some((high, low)) => high
                        .parse::<u16>()
                        .ok()
                        .zip(low.parse::<u16>().ok())
                        .map(|(h, l)| (u32::from(h) << 16) | u32::from(l)),
                    None => text.parse::<u32>().ok(),
                };
                parsed.ok_or_else(|| format!("`{text}` is not an AS number"))
            }
        }
    }
}

/// A BGPConfiguration (`bgpconfigurations/default`, or `node.<name>` for one node).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BgpConfiguration {
    pub metadata: Metadata,
    pub spec: BgpConfigurationSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BgpConfigurationSpec {
    /// Default 64512.
    pub as_number: Option<AsNumber>,
    /// Default true.
    pub node_to_node_mesh_enabled: Option<bool>,
    /// Default 179.
    pub listen_port: Option<u16>,
    /// Go duration text (`120s`, `2m`); the mesh sessions' graceful restart time.
    pub node_mesh_max_restart_time: Option<String>,
    /// `Debug`, `Info`, `Warning`, `Error`, `Fatal`, `None`.
    pub log_severity_screen: Option<String>,
    /// Mesh sessions' TCP MD5 key.
    pub node_mesh_password: Option<Password>,
    /// Service cluster IP ranges every node advertises (`[{cidr: 10.96.0.0/12}]`).
    #[serde(rename = "serviceClusterIPs", skip_serializing_if = "Vec::is_empty")]
    pub service_cluster_ips: Vec<ServiceCidr>,
    /// Service external IP ranges every node advertises.
    #[serde(rename = "serviceExternalIPs", skip_serializing_if = "Vec::is_empty")]
    pub service_external_ips: Vec<ServiceCidr>,
    /// Service load balancer IP ranges every node advertises.
    #[serde(rename = "serviceLoadBalancerIPs", skip_serializing_if = "Vec::is_empty")]
    pub service_load_balancer_ips: Vec<ServiceCidr>,
}

/// One entry of a BGPConfiguration's service ranges: `{cidr: 10.96.0.0/12}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceCidr {
    /// The range, as written (parsed by `super::service_routes`).
    pub cidr: String,
}

/// A BGPPeer (`bgppeers/<name>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BgpPeer {
    pub metadata: Metadata,
    pub spec: BgpPeerSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BgpPeerSpec {
    /// Applies only to this node.
    pub node: String,
    /// Applies to the nodes it selects.
    pub node_selector: String,
    /// `ip`, `ip:port`, `[ipv6]:port`.
    #[serde(rename = "peerIP")]
    pub peer_ip: String,
    pub as_number: Option<AsNumber>,
    /// Peer with the nodes it selects (their own addresses and AS).
    pub peer_selector: String,
    pub keep_original_next_hop: bool,
    /// `Auto` (default), `Self`, `Keep`.
    pub next_hop_mode: Option<String>,
    pub max_restart_time: Option<String>,
    pub keepalive_time: Option<String>,
    /// `UseNodeIP` (default) or `None`.
    pub source_address: Option<String>,
    /// GTSM with this many hops.
    pub ttl_security: Option<u8>,
    #[serde(rename = "numAllowedLocalASNumbers")]
    pub num_allowed_local_as_numbers: Option<u32>,
    pub password: Option<Password>,
    pub reachable_by: Option<String>,
    pub filters: Vec<String>,
    /// `Auto` (default): the nodes this peer points at peer back; `Manual`: they do not.
    pub reverse_peering: Option<String>,
    /// Our AS toward this peer instead of the node's (not supported yet: reported).
    #[serde(rename = "localASNumber")]
    pub local_as_number: Option<AsNumber>,
    /// Peer with the node's local workloads (not supported yet: reported).
    pub local_workload_selector: String,
}

/// `password: {secretKeyRef: {name, key}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Password {
    pub secret_key_ref: Option<SecretKeyRef>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

/// An IPPool (`ippools/<name>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IpPool {
    pub metadata: Metadata,
    pub spec: IpPoolSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IpPoolSpec {
    pub cidr: String,
    #[serde(rename = "disableBGPExport")]
    pub disable_bgp_export: bool,
    /// `Never` (default), `Always`, `CrossSubnet`.
    pub ipip_mode: Option<String>,
    pub vxlan_mode: Option<String>,
    pub disabled: bool,
}

/// The value at `/calico/ipam/v2/host/<node>/ipv4/block/<cidr>`: libcalico-go's
/// `BlockAffinity` (`model/block_affinity.go`). An empty value means confirmed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlockAffinity {
    /// `confirmed`, `pending`, `pendingDeletion`; empty = confirmed.
    pub state: String,
    pub deleted: bool,
}

impl BlockAffinity {
    /// Only a confirmed, not deleted affinity makes the block this node's to advertise.
    pub fn is_confirmed(&self) -> bool {
        !self.deleted && (self.state.is_empty() || self.state == "confirmed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_as_calicoctl_writes_it() {
        let json = r#"{"kind":"Node","apiVersion":"projectcalico.org/v3",
            "metadata":{"name":"node-1","labels":{"route-reflector":"true"},
                        "creationTimestamp":"2026-01-01T00:00:00Z","uid":"x"},
            "spec":{"bgp":{"ipv4Address":"198.18.0.1/24","asNumber":64513,
                           "routeReflectorClusterID":"224.0.0.1"},
                    "orchRefs":[{"nodeName":"node-1","orchestrator":"k8s"}]}}"#;
        let node: Node = serde_json::from_str(json).unwrap();
        assert_eq!(node.metadata.name, "node-1");
        assert_eq!(node.metadata.labels["route-reflector"], "true");
        let bgp = node.spec.bgp.unwrap();
        assert_eq!(bgp.ipv4_address, "198.18.0.1/24");
        assert_eq!(bgp.ipv6_address, "");
        assert_eq!(bgp.as_number.unwrap().value(), Ok(64513));
        assert_eq!(bgp.route_reflector_cluster_id, "224.0.0.1");
    }

    #[test]
    fn as_numbers_in_every_spelling() {
        assert_eq!(AsNumber::Number(64512).value(), Ok(64512));
        assert_eq!(AsNumber::Text("64512".into()).value(), Ok(64512));
        assert_eq!(AsNumber::Text("1.10".into()).value(), Ok(65546));
        assert!(AsNumber::Number(1 << 40).value().is_err());
        assert!(AsNumber::Text("x".into()).value().is_err());
        let spec: BgpPeerSpec = serde_json::from_str(r#"{"asNumber":"65000"}"#).unwrap();
        assert_eq!(spec.as_number.unwrap().value(), Ok(65000));
    }

    #[test]
    fn affinity_states() {
        let parse = |text: &str| serde_json::from_str::<BlockAffinity>(text).unwrap();
        assert!(parse(r#"{"state":"confirmed","deleted":false}"#).is_confirmed());
        assert!(parse("{}").is_confirmed());
        assert!(!parse(r#"{"state":"pending"}"#).is_confirmed());
        assert!(!parse(r#"{"state":"pendingDeletion"}"#).is_confirmed());
        assert!(!parse(r#"{"state":"confirmed","deleted":true}"#).is_confirmed());
    }
}
