//! Kubernetes objects in the cluster view's terms (sans-IO): a v1 Node becomes Calico's Node
//! resource, Calico's CRDs its v3 resources, Services and EndpointSlices compact records,
//! Secrets their values. Each conversion says why an object cannot be used; the state keeps
//! the last good version then.
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use k8s_openapi::api::core::v1::{Node, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::datastore::resources::{self, AsNumber, Metadata, NodeBgpSpec};
use crate::datastore::service_routes::{ServiceRecord, SliceRecord};

/// Calico's Node annotation for the node's IPv4 address, CIDR form (libcalico-go
/// `resources/node.go`).
pub const IPV4_ANNOTATION: &str = "projectcalico.org/IPv4Address";
/// Calico's Node annotation for the node's IPv6 address, CIDR form.
pub const IPV6_ANNOTATION: &str = "projectcalico.org/IPv6Address";
/// Calico's Node annotation for the node's own AS.
pub const AS_ANNOTATION: &str = "projectcalico.org/ASNumber";
/// Calico's Node annotation making the node a route reflector with this cluster ID.
pub const RR_CLUSTER_ANNOTATION: &str = "projectcalico.org/RouteReflectorClusterID";
/// kube-router's Pod CIDRs annotation (comma list), read before `spec.podCIDRs`.
pub const POD_CIDRS_ANNOTATION: &str = "kube-router.io/pod-cidrs";
/// kube-router's single Pod CIDR annotation, read after the list one.
pub const POD_CIDR_ANNOTATION: &str = "kube-router.io/pod-cidr";
/// The EndpointSlice label naming its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// What bgpd keeps of a v1 Node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubeNode {
    /// Calico's Node: labels, and `spec.bgp` from Calico's annotations (`None` without an
    /// address annotation).
    pub calico: resources::Node,
    /// `status.addresses` InternalIP, IPv4 and IPv6, as `spec.bgp` (plain clusters' fallback).
    pub internal: Option<NodeBgpSpec>,
}

/// The `<namespace>/<name>` of a namespaced object.
pub fn namespaced_name(meta: &ObjectMeta) -> String {
    format!("{}/{}", meta.namespace.as_deref().unwrap_or_default(), name(meta))
}

/// The object's name (empty when the API server left it out, which it does not).
pub fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or_default()
}

/// A v1 Node as Calico's Node, with its InternalIP fallback.
pub fn node(node: &Node) -> KubeNode {
    let meta = &node.metadata;
    let annotations = meta.annotations.clone().unwrap_or_default();
    let annotation = |key: &str| annotations.get(key).map(|v| v.trim().to_string());
    let ipv4_address = annotation(IPV4_ANNOTATION).unwrap_or_default();
    let ipv6_address = annotation(IPV6_ANNOTATION).unwrap_or_default();
    let bgp = (!ipv4_address.is_empty() || !ipv6_address.is_empty()).then(|| NodeBgpSpec {
        ipv4_address,
        ipv6_address,
        as_number: annotation(AS_ANNOTATION).filter(|a| !a.is_empty()).map(AsNumber::Text),
        route_reflector_cluster_id: annotation(RR_CLUSTER_ANNOTATION).unwrap_or_default(),
    });
    let calico = resources::Node {
        metadata: Metadata {
            name: name(meta).to_string(),
            labels: meta.labels.clone().unwrap_or_default(),
            annotations: BTreeMap::new(),
        },
        spec: resources::NodeSpec { bgp },
    };
    KubeNode { calico, internal: internal_addresses(node) }
}

/// The first IPv4 and the first IPv6 InternalIP of `status.addresses`.
fn internal_addresses(node: &Node) -> Option<NodeBgpSpec> {
    let addresses = node.status.as_ref()?.addresses.as_ref()?;
    let internal = addresses.iter().filter(|a| a.type_ == "InternalIP");
    let mut v4: Option<Ipv4Addr> = None;
    let mut v6: Option<Ipv6Addr> = None;
    for address in internal {
        match address.address.trim().parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) if v4.is_none() => v4 = Some(a),
            Ok(IpAddr::V6(a)) if v6.is_none() => v6 = Some(a),
            _ => {}
        }
    }
    (v4.is_some() || v6.is_some()).then(|| NodeBgpSpec {
        ipv4_address: v4.map(|a| a.to_string()).unwrap_or_default(),
        ipv6_address: v6.map(|a| a.to_string()).unwrap_or_default(),
        ..NodeBgpSpec::default()
    })
}

/// The node's Pod CIDRs: annotation `kube-router.io/pod-cidrs` (comma list), else
/// `kube-router.io/pod-cidr`, else `spec.podCIDRs`, else `spec.podCIDR`.
pub fn pod_cidrs(node: &Node) -> Result<Vec<IpNet>, String> {
    let annotations = node.metadata.annotations.as_ref();
    let annotation = |key: &str| annotations.and_then(|a| a.get(key)).filter(|v| !v.is_empty());
    let spec = node.spec.as_ref();
    let (listed, from): (Vec<&str>, &str) = if let Some(list) = annotation(POD_CIDRS_ANNOTATION) {
        (list.split(',').collect(), POD_CIDRS_ANNOTATION)
    } else if let Some(one) = annotation(POD_CIDR_ANNOTATION) {
        (vec![one.as_str()], POD_CIDR_ANNOTATION)
    } else if let Some(list) = spec.and_then(|s| s.pod_cidrs.as_ref()).filter(|l| !l.is_empty()) {
        (list.iter().map(String::as_str).collect(), "spec.podCIDRs")
    } else {
        (spec.and_then(|s| s.pod_cidr.as_deref()).into_iter().collect(), "spec.podCIDR")
    };
    let mut out = Vec::new();
    for text in listed.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
        let net: IpNet = text.parse().map_err(|_| format!("{from}: `{text}` is not a CIDR"))?;
        if net.trunc() != net {
            return Err(format!("{from}: {net} has host bits set"));
        }
        if !out.contains(&net) {
            out.push(net);
        }
    }
    Ok(out)
}

/// A Service's compact record. An IP that does not parse makes the Service unusable.
pub fn service(service: &Service) -> Result<ServiceRecord, String> {
    let spec = service.spec.clone().unwrap_or_default();
    let cluster_texts: Vec<String> = match spec.cluster_ips {
        Some(list) if !list.is_empty() => list,
        _ => spec.cluster_ip.into_iter().collect(),
    };
    let cluster_ips =
        ips("spec.clusterIPs", cluster_texts.iter().filter(|ip| !ip.is_empty() && *ip != "None"))?;
    let external_ips = ips("spec.externalIPs", spec.external_ips.iter().flatten())?;
    let ingress = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref());
    let load_balancer_ips = ips(
        "status.loadBalancer.ingress",
        ingress.into_iter().flatten().filter_map(|i| i.ip.as_ref()),
    )?;
    Ok(ServiceRecord {
        cluster_ips,
        external_ips,
        load_balancer_ips,
        external_local: spec.external_traffic_policy.as_deref() == Some("Local"),
        internal_local: spec.internal_traffic_policy.as_deref() == Some("Local"),
    })
}

fn ips<'a>(field: &str, texts: impl Iterator<Item = &'a String>) -> Result<Vec<IpAddr>, String> {
    texts
        .map(|text| {
            text.trim().parse::<IpAddr>().map_err(|_| format!("{field}: `{text}` is not an IP"))
        })
        .collect()
}

/// An EndpointSlice's record for node `node_name`: its Service and whether it has a ready
/// endpoint on that node (`conditions.ready` true or absent, as Kubernetes reads it).
/// `None`: the slice belongs to no Service (no `kubernetes.io/service-name` label).
pub fn endpoint_slice(slice: &EndpointSlice, node_name: &str) -> Option<SliceRecord> {
    let meta = &slice.metadata;
    let service = meta.labels.as_ref()?.get(SERVICE_NAME_LABEL)?;
    let local_ready = slice.endpoints.iter().any(|endpoint| {
        endpoint.node_name.as_deref() == Some(node_name)
            && endpoint.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true)
    });
    let namespace = meta.namespace.as_deref().unwrap_or_default();
    Some(SliceRecord { service: format!("{namespace}/{service}"), local_ready })
}

/// A Secret's values, `data` (already base64-decoded by the client) and `stringData` (which
/// wins, as the API server merges it). A value that is not UTF-8 is skipped with its key.
pub fn secret_values(secret: &Secret) -> (BTreeMap<String, String>, Vec<String>) {
    let mut values = BTreeMap::new();
    let mut not_text = Vec::new();
    for (key, bytes) in secret.data.iter().flatten() {
        match String::from_utf8(bytes.0.clone()) {
            Ok(text) => {
                values.insert(key.clone(), text);
            }
            Err(_) => not_text.push(key.clone()),
        }
    }
    for (key, text) in secret.string_data.iter().flatten() {
        values.insert(key.clone(), text.clone());
    }
    (values, not_text)
}

/// A Calico CRD object (`metadata` + `spec`) as its v3 resource.
pub fn calico_resource<T: DeserializeOwned>(object: &Value) -> Result<T, String> {
    T::deserialize(object).map_err(|error| format!("invalid object: {error}"))
}

/// The `metadata.name` of a Calico CRD object.
pub fn calico_name(object: &Value) -> Result<&str, String> {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| "no metadata.name".to_string())
}

/// A BlockAffinity CRD: `(spec.node, spec.cidr, the affinity)`. `spec.deleted` is a string
/// (`"false"`) in the CRD; a boolean is accepted too.
pub fn block_affinity(object: &Value) -> Result<(String, IpNet, resources::BlockAffinity), String> {
    let spec = object.get("spec").ok_or("no spec")?;
    let text = |field: &str| spec.get(field).and_then(Value::as_str).unwrap_or_default();
    let node = text("node");
    if node.is_empty() {
        return Err("no spec.node".into());
    }
    let cidr_text = text("cidr");
    let cidr: IpNet =
        cidr_text.parse().map_err(|_| format!("spec.cidr `{cidr_text}` is not a CIDR"))?;
    if cidr.trunc() != cidr {
        return Err(format!("spec.cidr {cidr} has host bits set"));
    }
    let deleted = match spec.get("deleted") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.is_empty() || s.eq_ignore_ascii_case("false") => false,
        Some(other) => return Err(format!("spec.deleted `{other}` is not true or false")),
    };
    let affinity = resources::BlockAffinity { state: text("state").to_string(), deleted };
    Ok((node.to_string(), cidr, affinity))
}
