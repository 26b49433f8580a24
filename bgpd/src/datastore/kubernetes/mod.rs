//! The Kubernetes datastore: Nodes, Services and EndpointSlices from the core API, and
//! Calico's resources from its CRDs (`crd.projectcalico.org/v1`) when they exist, turned into
//! the same [`ClusterView`](super::ClusterView) as the etcd datastore, so that one mapping
//! (`super::mapping`) builds the configuration for both (docs/kubernetes.md).
//!
//! ```text
//!  API server (list + watch, kube::runtime::watcher)
//!    client.rs (I/O edge) --KubeObject--> KubeState --view()--> ClusterView --> mapping
//!                                         state.rs, objects.rs (sans-IO, tested on
//!                                         `kubectl get -o json` fixtures)
//! ```
//! Plain clusters (no Calico CRDs) are described in Calico's terms: every Node with an
//! address is a mesh member, this node's `spec.podCIDRs` are its blocks, and a route
//! reflector label becomes a route reflector cluster ID and a BGPPeer, so the mapping has
//! one model to follow.
pub mod client;
mod fold;
mod health;
pub mod objects;
pub mod secrets;
pub mod state;
mod watches;

use k8s_openapi::api::core::v1::{Node, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

pub use state::KubeState;

/// The kinds of objects read, each by its own watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KubeKind {
    Nodes,
    Services,
    EndpointSlices,
    /// Calico's CRDs (read only when the group exists).
    BgpConfigurations,
    BgpPeers,
    IpPools,
    BlockAffinities,
    /// The Secrets of `secrets_namespace` (BGPPeer passwords); never saved with the view.
    Secrets,
}

impl KubeKind {
    /// The Calico CRD kinds.
    pub const CALICO: [KubeKind; 4] = [
        KubeKind::BgpConfigurations,
        KubeKind::BgpPeers,
        KubeKind::IpPools,
        KubeKind::BlockAffinities,
    ];

    /// The CRD's plural (`bgppeers`), or the core resource's.
    pub fn plural(self) -> &'static str {
        match self {
            KubeKind::Nodes => "nodes",
            KubeKind::Services => "services",
            KubeKind::EndpointSlices => "endpointslices",
            KubeKind::BgpConfigurations => "bgpconfigurations",
            KubeKind::BgpPeers => "bgppeers",
            KubeKind::IpPools => "ippools",
            KubeKind::BlockAffinities => "blockaffinities",
            KubeKind::Secrets => "secrets",
        }
    }
}

/// One object as a watch delivered it. `Debug` shows a Secret's name, not its data.
#[derive(Clone)]
pub enum KubeObject {
    Node(Box<Node>),
    Service(Box<Service>),
    EndpointSlice(Box<EndpointSlice>),
    Secret(Box<Secret>),
    /// A Calico CRD object (`kind` one of [`KubeKind::CALICO`]) as JSON: `metadata` and `spec`
    /// as the API server returns them.
    Calico(KubeKind, serde_json::Value),
}

impl std::fmt::Debug for KubeObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KubeObject::Node(node) => f.debug_tuple("Node").field(node).finish(),
            KubeObject::Service(service) => f.debug_tuple("Service").field(service).finish(),
            KubeObject::EndpointSlice(slice) => {
                f.debug_tuple("EndpointSlice").field(slice).finish()
            }
            KubeObject::Secret(secret) => {
                f.debug_tuple("Secret").field(&secret.metadata.name).finish_non_exhaustive()
            }
            KubeObject::Calico(kind, value) => {
                f.debug_tuple("Calico").field(kind).field(value).finish()
            }
        }
    }
}
