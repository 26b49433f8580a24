//! What the watches said, kept in the cluster view's terms (sans-IO). [`KubeState::view`]
//! describes the cluster in Calico's terms whatever it runs:
//! - with Calico's CRDs, their resources rule: Nodes from Calico's annotations (a Node
//!   without them runs no BGP), this node's blocks from its BlockAffinities;
//! - in a plain cluster, every Node with an address (Calico's annotations, else its
//!   InternalIPs) is a mesh member, this node's Pod CIDRs are its (confirmed) blocks, and a
//!   BGPConfiguration `default` is synthesized with the file's service ranges (and, with
//!   `route_reflector_label`, the mesh off and a BGPPeer from every node to the labelled ones).
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::IpNet;
use k8s_openapi::api::core::v1::Secret;

use super::objects::{self, KubeNode};
use super::secrets::SecretValues;
use super::{KubeKind, KubeObject};
use crate::config::KubernetesConfig;
use crate::datastore::resources::{
    BgpConfiguration, BgpPeer, BlockAffinity, Metadata, NodeBgpSpec, ServiceCidr,
};
use crate::datastore::ClusterView;

/// The route reflector cluster ID of a node carrying `route_reflector_label` whose value is
/// not an IPv4 address (Calico's documented example ID).
pub const DEFAULT_RR_CLUSTER_ID: Ipv4Addr = Ipv4Addr::new(244, 0, 0, 1);
/// The name of the BGPPeer synthesized in route reflector label mode.
pub const RR_PEER_NAME: &str = "bgpd-route-reflectors";

/// Everything the watches said, kept as the cluster view (sans-IO).
#[derive(Debug, Default)]
pub struct KubeState {
    node_name: String,
    route_reflector_label: Option<String>,
    /// The file's service ranges (plain clusters' synthesized BGPConfiguration).
    service_ranges: [Vec<ServiceCidr>; 3],
    calico: bool,
    /// Why part of the object being applied was not used (the rest was).
    partly_bad: Option<String>,
    /// Nodes (Calico's annotations only), Calico's resources, Services, EndpointSlices and
    /// the bad objects; `blocks` stays empty (built by `view`).
    kept: ClusterView,
    /// Each Node's InternalIPs.
    internal: BTreeMap<String, NodeBgpSpec>,
    /// This node's Pod CIDRs.
    own_pod_cidrs: Vec<IpNet>,
    /// This node's BlockAffinities by object name.
    affinities: BTreeMap<String, (IpNet, BlockAffinity)>,
    secrets: SecretValues,
}

impl KubeState {
    /// A state for node `node_name` with the file's `datastore.kubernetes` options.
    pub fn new(node_name: &str, options: &KubernetesConfig) -> Self {
        let ranges = |list: &[IpNet]| -> Vec<ServiceCidr> {
            list.iter().map(|net| ServiceCidr { cidr: net.to_string() }).collect()
        };
        KubeState {
            node_name: node_name.to_string(),
            route_reflector_label: options.route_reflector_label.clone(),
            service_ranges: [
                ranges(&options.service_cluster_ips),
                ranges(&options.service_external_ips),
                ranges(&options.service_load_balancer_ips),
            ],
            ..KubeState::default()
        }
    }

    /// Whether Calico's CRDs exist (else: a plain cluster). Returns whether the view changed.
    /// Leaving Calico mode forgets Calico's resources (a re-list brings them back).
    pub fn set_calico(&mut self, present: bool) -> bool {
        if present == self.calico {
            return false;
        }
        let before = self.view();
        self.calico = present;
        if !present {
            for kind in KubeKind::CALICO {
                self.clear(kind);
            }
        }
        self.view() != before
    }

    /// An object added or changed. Returns whether the view (for a Secret: the Secrets'
    /// values) changed. An object that cannot be used is listed in [`ClusterView::bad`] and
    /// its last good version stays.
    pub fn apply(&mut self, object: KubeObject) -> bool {
        let Some(key) = bad_key(&object) else { return false };
        if let KubeObject::Secret(secret) = &object {
            return self.put_secret(key, secret);
        }
        match self.put(object) {
            Ok(changed) => {
                let was_bad = self.kept.bad.remove(&key).is_some();
                // Used, with a part that is not (a bad Pod CIDR): reported all the same.
                if let Some(why) = self.partly_bad.take() {
                    self.kept.bad.insert(key, why);
                }
                changed || was_bad
            }
            Err(message) => {
                // As with etcd: reported, the last good version stays, the view is unchanged.
                self.kept.bad.insert(key, message);
                false
            }
        }
    }

    /// An object deleted. Returns whether the view (for a Secret: the Secrets' values)
    /// changed.
    pub fn delete(&mut self, object: &KubeObject) -> bool {
        let Some(key) = bad_key(object) else { return false };
        let was_bad = self.kept.bad.remove(&key).is_some();
        let name = key.split_once('/').map_or("", |(_, name)| name);
        let removed = match object {
            KubeObject::Node(_) => {
                let own =
                    name == self.node_name && !std::mem::take(&mut self.own_pod_cidrs).is_empty();
                let internal = self.internal.remove(name).is_some();
                self.kept.nodes.remove(name).is_some() || internal || own
            }
            KubeObject::Service(_) => self.kept.services.remove(name).is_some(),
            KubeObject::EndpointSlice(_) => self.kept.endpoint_slices.remove(name).is_some(),
            KubeObject::Secret(_) => {
                let before = self.secrets.0.len();
                self.secrets.0.retain(|(secret, _), _| secret != name);
                before != self.secrets.0.len()
            }
            KubeObject::Calico(kind, _) => {
                let removed = match kind {
                    KubeKind::BgpConfigurations => {
                        self.kept.bgp_configurations.remove(name).is_some()
                    }
                    KubeKind::BgpPeers => self.kept.bgp_peers.remove(name).is_some(),
                    KubeKind::IpPools => self.kept.ip_pools.remove(name).is_some(),
                    KubeKind::BlockAffinities => self.affinities.remove(name).is_some(),
                    _ => false,
                };
                removed && self.calico
            }
        };
        removed || was_bad
    }

    /// A fresh listing of `kind` (start, or re-list after 410 Gone): replaces the kind.
    pub fn replace(&mut self, kind: KubeKind, objects: Vec<KubeObject>) -> bool {
        let before = (self.view(), self.secrets.clone());
        self.clear(kind);
        for object in objects {
            self.apply(object);
        }
        (self.view(), self.secrets.clone()) != before
    }

    /// The view for the mapping (with the plain-cluster resources synthesized).
    pub fn view(&self) -> ClusterView {
        let kept = &self.kept;
        let mut view = ClusterView {
            nodes: kept.nodes.clone(),
            services: kept.services.clone(),
            endpoint_slices: kept.endpoint_slices.clone(),
            bad: kept.bad.clone(),
            ..ClusterView::default()
        };
        if self.calico {
            view.bgp_configurations = kept.bgp_configurations.clone();
            view.bgp_peers = kept.bgp_peers.clone();
            view.ip_pools = kept.ip_pools.clone();
            view.blocks = self.affinities.values().cloned().collect();
            return view;
        }
        for (name, node) in &mut view.nodes {
            if node.spec.bgp.is_none() {
                node.spec.bgp = self.internal.get(name).cloned();
            }
        }
        view.blocks =
            self.own_pod_cidrs.iter().map(|cidr| (*cidr, BlockAffinity::default())).collect();
        let mut default = BgpConfiguration::default();
        default.metadata.name = "default".into();
        let [cluster, external, load_balancer] = self.service_ranges.clone();
        default.spec.service_cluster_ips = cluster;
        default.spec.service_external_ips = external;
        default.spec.service_load_balancer_ips = load_balancer;
        if let Some(label) = &self.route_reflector_label {
            default.spec.node_to_node_mesh_enabled = Some(false);
            route_reflectors(&mut view, label);
        }
        view.bgp_configurations.insert("default".into(), default);
        view
    }

    /// The Secrets' values, for BGPPeer passwords.
    pub fn secrets(&self) -> SecretValues {
        self.secrets.clone()
    }

    /// Adds or changes one object; `Err`: why it cannot be used.
    fn put(&mut self, object: KubeObject) -> Result<bool, String> {
        match object {
            KubeObject::Node(node) => {
                let KubeNode { calico, internal } = objects::node(&node);
                let name = calico.metadata.name.clone();
                // This node's Pod CIDRs (used in plain clusters). A bad one is reported (in
                // a plain cluster) and the last good list stays; the Node itself (labels,
                // addresses) is still taken.
                let own = if name == self.node_name {
                    match objects::pod_cidrs(&node) {
                        Ok(cidrs) => {
                            std::mem::replace(&mut self.own_pod_cidrs, cidrs.clone()) != cidrs
                        }
                        Err(why) => {
                            if !self.calico {
                                self.partly_bad =
                                    Some(format!("{why}; the last good Pod CIDRs stay"));
                            }
                            false
                        }
                    }
                } else {
                    false
                };
                let internal = match internal {
                    Some(spec) => self.internal.insert(name.clone(), spec.clone()) != Some(spec),
                    None => self.internal.remove(&name).is_some(),
                };
                Ok(upsert(&mut self.kept.nodes, name, calico) || internal || own)
            }
            // Only what can make a route is kept: Services with a Local traffic policy (the
            // others are covered by the ranges) and slices with a ready endpoint here. A
            // cluster's other Services and slices then cost neither memory nor a mapping.
            KubeObject::Service(service) => {
                let record = objects::service(&service)?;
                let name = objects::namespaced_name(&service.metadata);
                Ok(if record.external_local || record.internal_local {
                    upsert(&mut self.kept.services, name, record)
                } else {
                    self.kept.services.remove(&name).is_some()
                })
            }
            KubeObject::EndpointSlice(slice) => {
                let name = objects::namespaced_name(&slice.metadata);
                Ok(match objects::endpoint_slice(&slice, &self.node_name) {
                    Some(record) if record.local_ready => {
                        upsert(&mut self.kept.endpoint_slices, name, record)
                    }
                    _ => self.kept.endpoint_slices.remove(&name).is_some(),
                })
            }
            KubeObject::Secret(secret) => Ok(self.put_secret(String::new(), &secret)),
            KubeObject::Calico(kind, value) => {
                let name = objects::calico_name(&value)?.to_string();
                let changed = match kind {
                    KubeKind::BgpConfigurations => upsert(
                        &mut self.kept.bgp_configurations,
                        name,
                        objects::calico_resource(&value)?,
                    ),
                    KubeKind::BgpPeers => {
                        let peer: BgpPeer = objects::calico_resource(&value)?;
                        upsert(&mut self.kept.bgp_peers, name, peer)
                    }
                    KubeKind::IpPools => {
                        upsert(&mut self.kept.ip_pools, name, objects::calico_resource(&value)?)
                    }
                    KubeKind::BlockAffinities => {
                        let (node, cidr, affinity) = objects::block_affinity(&value)?;
                        if node == self.node_name {
                            upsert(&mut self.affinities, name, (cidr, affinity))
                        } else {
                            self.affinities.remove(&name).is_some()
                        }
                    }
                    _ => false,
                };
                Ok(changed && self.calico)
            }
        }
    }

    /// A Secret's values replace its previous ones; keys that are not text are reported
    /// under `key` (the others are used). Returns whether the values changed.
    fn put_secret(&mut self, key: String, secret: &Secret) -> bool {
        let name = objects::name(&secret.metadata).to_string();
        let (values, not_text) = objects::secret_values(secret);
        let before = self.secrets.clone();
        self.secrets.0.retain(|(secret, _), _| *secret != name);
        for (value_key, value) in values {
            self.secrets.0.insert((name.clone(), value_key), value);
        }
        if not_text.is_empty() {
            self.kept.bad.remove(&key);
        } else {
            let message = format!("keys {not_text:?} are not UTF-8 text: not used");
            self.kept.bad.insert(key, message);
        }
        self.secrets != before
    }

    /// Forgets every object of `kind` and its bad entries.
    fn clear(&mut self, kind: KubeKind) {
        let prefix = format!("{}/", kind.plural());
        self.kept.bad.retain(|key, _| !key.starts_with(&prefix));
        match kind {
            KubeKind::Nodes => {
                self.kept.nodes.clear();
                self.internal.clear();
                self.own_pod_cidrs.clear();
            }
            KubeKind::Services => self.kept.services.clear(),
            KubeKind::EndpointSlices => self.kept.endpoint_slices.clear(),
            KubeKind::BgpConfigurations => self.kept.bgp_configurations.clear(),
            KubeKind::BgpPeers => self.kept.bgp_peers.clear(),
            KubeKind::IpPools => self.kept.ip_pools.clear(),
            KubeKind::BlockAffinities => self.affinities.clear(),
            KubeKind::Secrets => self.secrets.0.clear(),
        }
    }
}

/// Route reflector label mode: labelled nodes get a cluster ID (the label's value when it
/// is an IPv4 address, else [`DEFAULT_RR_CLUSTER_ID`]; a Calico annotation wins), and every
/// node peers with them through a synthesized BGPPeer `all()` -> `has(<label>)`.
fn route_reflectors(view: &mut ClusterView, label: &str) {
    for node in view.nodes.values_mut() {
        let Some(value) = node.metadata.labels.get(label) else { continue };
        let Some(bgp) = node.spec.bgp.as_mut() else { continue };
        if bgp.route_reflector_cluster_id.is_empty() {
            let id = value.parse::<Ipv4Addr>().unwrap_or(DEFAULT_RR_CLUSTER_ID);
            bgp.route_reflector_cluster_id = id.to_string();
        }
    }
    let mut peer = BgpPeer {
        metadata: Metadata { name: RR_PEER_NAME.into(), ..Metadata::default() },
        ..BgpPeer::default()
    };
    peer.spec.node_selector = "all()".into();
    peer.spec.peer_selector = format!("has({label})");
    view.bgp_peers.insert(RR_PEER_NAME.into(), peer);
}

/// Inserts `value` at `name`; whether it differs from what was there.
fn upsert<T: PartialEq>(map: &mut BTreeMap<String, T>, name: String, value: T) -> bool {
    if map.get(&name) == Some(&value) {
        return false;
    }
    map.insert(name, value);
    true
}

/// The key an object is reported under in [`ClusterView::bad`]: `<plural>/<name>`, with
/// `<namespace>/<name>` for Services and EndpointSlices. `None`: a Calico object of a kind
/// that is not Calico's, or without a name.
fn bad_key(object: &KubeObject) -> Option<String> {
    let (kind, name) = match object {
        KubeObject::Node(node) => (KubeKind::Nodes, objects::name(&node.metadata).to_string()),
        KubeObject::Service(s) => (KubeKind::Services, objects::namespaced_name(&s.metadata)),
        KubeObject::EndpointSlice(s) => {
            (KubeKind::EndpointSlices, objects::namespaced_name(&s.metadata))
        }
        KubeObject::Secret(s) => (KubeKind::Secrets, objects::name(&s.metadata).to_string()),
        KubeObject::Calico(kind, value) if KubeKind::CALICO.contains(kind) => {
            (*kind, objects::calico_name(value).ok()?.to_string())
        }
        KubeObject::Calico(..) => return None,
    };
    (!name.is_empty()).then(|| format!("{}/{name}", kind.plural()))
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
