//! The cluster view: the Calico resources bgpd reads, as the datastore last said, kept by
//! key. Changes arrive as `Put`/`Delete` of a key with its JSON value (etcd's model; the
//! Kubernetes datastore feeds the same changes), or as a whole listing of one kind. Sans-IO.
//!
//! Keys (the etcdv3 layout `calicoctl` writes; `<prefix>` is `/calico` by default):
//! ```text
//! <prefix>/resources/v3/projectcalico.org/nodes/<name>
//! <prefix>/resources/v3/projectcalico.org/bgpconfigurations/<name>
//! <prefix>/resources/v3/projectcalico.org/bgppeers/<name>
//! <prefix>/resources/v3/projectcalico.org/ippools/<name>
//! <prefix>/ipam/v2/host/<this node>/ipv4/block/<a.b.c.d-len>     (and ipv6/, `fd00::-122`)
//! ```
//! A value that does not parse is skipped: the key is listed in [`ClusterView::bad`] with
//! the reason and the last good version of that resource, if any, stays in use (a typo in
//! one Node does not tear down its sessions). Only this node's block affinities are read.
use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::resources::{BgpConfiguration, BgpPeer, BlockAffinity, IpPool, Node};
use super::service_routes::{ServiceRecord, SliceRecord};

/// The kinds of data read, each under its own key prefix (one listing and one watch each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Nodes,
    BgpConfigurations,
    BgpPeers,
    IpPools,
    /// This node's IPAM block affinities, IPv4 and IPv6.
    Blocks,
}

impl Kind {
    pub const ALL: [Kind; 5] =
        [Kind::Nodes, Kind::BgpConfigurations, Kind::BgpPeers, Kind::IpPools, Kind::Blocks];

    /// The name used in `bgpctl show datastore` and the metrics.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Nodes => "nodes",
            Kind::BgpConfigurations => "bgpconfigurations",
            Kind::BgpPeers => "bgppeers",
            Kind::IpPools => "ippools",
            Kind::Blocks => "blocks",
        }
    }
}

/// Where the keys of each kind live, for one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLayout {
    prefix: String,
    node_name: String,
}

impl KeyLayout {
    /// `prefix` as configured (`/calico`; a trailing `/` is ignored).
    pub fn new(prefix: &str, node_name: &str) -> Self {
        KeyLayout {
            prefix: prefix.trim_end_matches('/').to_string(),
            node_name: node_name.to_string(),
        }
    }

    /// The key prefix listed and watched for `kind` (ends with `/`).
    pub fn kind_prefix(&self, kind: Kind) -> String {
        let resources = format!("{}/resources/v3/projectcalico.org", self.prefix);
        match kind {
            Kind::Blocks => format!("{}/ipam/v2/host/{}/", self.prefix, self.node_name),
            other => format!("{resources}/{}/", other.name()),
        }
    }

    /// Which kind `key` belongs to, and the name within it (a resource name, or a block's
    /// `ipv4/block/10.0.0.0-26`). `None`: a key bgpd does not read.
    pub fn classify<'k>(&self, key: &'k str) -> Option<(Kind, &'k str)> {
        Kind::ALL.into_iter().find_map(|kind| {
            let name = key.strip_prefix(self.kind_prefix(kind).as_str())?;
            (!name.is_empty() && (kind == Kind::Blocks || !name.contains('/')))
                .then_some((kind, name))
        })
    }
}

/// One change of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Put { key: String, value: Vec<u8> },
    Delete { key: String },
}

/// What the datastore says, parsed. Everything is keyed by name so that a listing replaces
/// a kind in place and the mapping sees a stable order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterView {
    pub nodes: BTreeMap<String, Node>,
    pub bgp_configurations: BTreeMap<String, BgpConfiguration>,
    pub bgp_peers: BTreeMap<String, BgpPeer>,
    pub ip_pools: BTreeMap<String, IpPool>,
    /// This node's block affinities.
    pub blocks: BTreeMap<IpNet, BlockAffinity>,
    /// Kubernetes Services (`<namespace>/<name>`), compact; empty with etcd.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, ServiceRecord>,
    /// Kubernetes EndpointSlices (`<namespace>/<name>`), compact; empty with etcd.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_slices: BTreeMap<String, SliceRecord>,
    /// The datastore revision this view reflects (etcd's header revision).
    pub revision: i64,
    /// Keys whose latest value could not be used, with why (not saved: re-found on re-list).
    #[serde(skip)]
    pub bad: BTreeMap<String, String>,
}

impl ClusterView {
    /// Applies one change. Returns whether the view changed (a key bgpd does not read, or a
    /// bad value, leaves it as it was).
    pub fn apply(&mut self, layout: &KeyLayout, change: &Change) -> bool {
        let key = match change {
            Change::Put { key, .. } | Change::Delete { key } => key.as_str(),
        };
        let Some((kind, name)) = layout.classify(key) else { return false };
        let result = match change {
            Change::Put { value, .. } => self.put(kind, name, value),
            Change::Delete { .. } => Ok(self.delete(kind, name)),
        };
        match result {
            Ok(changed) => {
                self.bad.remove(key);
                changed
            }
            Err(message) => {
                self.bad.insert(key.to_string(), message);
                false
            }
        }
    }

    /// Replaces everything of `kind` with a fresh listing (after a start, a reconnect that
    /// could not resume, or a compaction). Returns whether the view changed.
    pub fn replace_kind(&mut self, layout: &KeyLayout, kind: Kind, entries: &[Change]) -> bool {
        let before = self.clone();
        let kind_prefix = layout.kind_prefix(kind);
        self.bad.retain(|key, _| !key.starts_with(&kind_prefix));
        match kind {
            Kind::Nodes => self.nodes.clear(),
            Kind::BgpConfigurations => self.bgp_configurations.clear(),
            Kind::BgpPeers => self.bgp_peers.clear(),
            Kind::IpPools => self.ip_pools.clear(),
            Kind::Blocks => self.blocks.clear(),
        }
        for entry in entries {
            self.apply(layout, entry);
        }
        // A listing drops a bad key's last good value: the key is gone or still bad.
        *self != before
    }

    /// How many resources of `kind` are in use.
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Nodes => self.nodes.len(),
            Kind::BgpConfigurations => self.bgp_configurations.len(),
            Kind::BgpPeers => self.bgp_peers.len(),
            Kind::IpPools => self.ip_pools.len(),
            Kind::Blocks => self.blocks.len(),
        }
    }

    fn put(&mut self, kind: Kind, name: &str, value: &[u8]) -> Result<bool, String> {
        match kind {
            Kind::Nodes => upsert(&mut self.nodes, name, value),
            Kind::BgpConfigurations => upsert(&mut self.bgp_configurations, name, value),
            Kind::BgpPeers => upsert(&mut self.bgp_peers, name, value),
            Kind::IpPools => upsert(&mut self.ip_pools, name, value),
            Kind::Blocks => {
                let cidr = block_cidr(name)?;
                // libcalico-go writes an empty value for a confirmed affinity.
                let affinity = if value.iter().all(u8::is_ascii_whitespace) {
                    BlockAffinity::default()
                } else {
                    parse::<BlockAffinity>(value)?
                };
                Ok(self.blocks.insert(cidr, affinity.clone()) != Some(affinity))
            }
        }
    }

    fn delete(&mut self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Nodes => self.nodes.remove(name).is_some(),
            Kind::BgpConfigurations => self.bgp_configurations.remove(name).is_some(),
            Kind::BgpPeers => self.bgp_peers.remove(name).is_some(),
            Kind::IpPools => self.ip_pools.remove(name).is_some(),
            Kind::Blocks => block_cidr(name).is_ok_and(|cidr| self.blocks.remove(&cidr).is_some()),
        }
    }
}

fn parse<T: DeserializeOwned>(value: &[u8]) -> Result<T, String> {
    serde_json::from_slice(value).map_err(|error| format!("invalid JSON: {error}"))
}

fn upsert<T: DeserializeOwned + PartialEq>(
    map: &mut BTreeMap<String, T>,
    name: &str,
    value: &[u8],
) -> Result<bool, String> {
    let parsed: T = parse(value)?;
    if map.get(name) == Some(&parsed) {
        return Ok(false);
    }
    map.insert(name.to_string(), parsed);
    Ok(true)
}

/// `ipv4/block/10.0.0.0-26` -> 10.0.0.0/26 (libcalico-go writes the CIDR with `-` for `/`).
fn block_cidr(name: &str) -> Result<IpNet, String> {
    let (family, cidr) = name
        .strip_prefix("ipv4/block/")
        .map(|c| (4, c))
        .or_else(|| name.strip_prefix("ipv6/block/").map(|c| (6, c)))
        .ok_or_else(|| format!("`{name}` is not ipv4/block/<cidr> or ipv6/block/<cidr>"))?;
    let text = match cidr.rsplit_once('-') {
        Some((address, length)) => format!("{address}/{length}"),
        None => return Err(format!("`{cidr}` is not a block (address-length)")),
    };
    let net: IpNet = text.parse().map_err(|_| format!("`{cidr}` is not a block CIDR"))?;
    if (family == 4) != matches!(net, IpNet::V4(_)) {
        return Err(format!("`{cidr}` is not an IPv{family} block"));
    }
    if net.trunc() != net {
        return Err(format!("block {net} has host bits set"));
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> KeyLayout {
        KeyLayout::new("/calico/", "node-1")
    }

    fn put(key: &str, value: &str) -> Change {
        Change::Put { key: key.to_string(), value: value.as_bytes().to_vec() }
    }

    const NODES: &str = "/calico/resources/v3/projectcalico.org/nodes/";

    #[test]
    fn keys_are_classified_by_kind() {
        let l = layout();
        assert_eq!(l.classify(&format!("{NODES}node-2")), Some((Kind::Nodes, "node-2")));
        assert_eq!(
            l.classify("/calico/resources/v3/projectcalico.org/bgppeers/tor"),
            Some((Kind::BgpPeers, "tor"))
        );
        assert_eq!(
            l.classify("/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.0-26"),
            Some((Kind::Blocks, "ipv4/block/10.0.0.0-26"))
        );
        // Another node's affinities, other resources and nested keys are not read.
        assert_eq!(l.classify("/calico/ipam/v2/host/node-2/ipv4/block/10.0.0.0-26"), None);
        assert_eq!(l.classify("/calico/resources/v3/projectcalico.org/profiles/x"), None);
        assert_eq!(l.classify(&format!("{NODES}a/b")), None);
        assert_eq!(l.classify(NODES), None);
    }

    #[test]
    fn put_delete_and_bad_values() {
        let l = layout();
        let mut view = ClusterView::default();
        let key = format!("{NODES}node-2");
        assert!(view.apply(&l, &put(&key, r#"{"spec":{"bgp":{"ipv4Address":"198.18.0.2"}}}"#)));
        // The same value again is no change.
        assert!(!view.apply(&l, &put(&key, r#"{"spec":{"bgp":{"ipv4Address":"198.18.0.2"}}}"#)));
        // A bad value: listed, the last good version stays.
        assert!(!view.apply(&l, &put(&key, "{not json")));
        assert!(view.bad[&key].starts_with("invalid JSON"), "{:?}", view.bad);
        assert_eq!(view.nodes.len(), 1);
        // Fixed: no longer bad.
        assert!(view.apply(&l, &put(&key, r#"{"spec":{"bgp":{"ipv4Address":"198.18.0.3"}}}"#)));
        assert!(view.bad.is_empty());
        assert!(view.apply(&l, &Change::Delete { key: key.clone() }));
        assert!(view.nodes.is_empty());
        assert!(!view.apply(&l, &Change::Delete { key }));
    }

    #[test]
    fn blocks_parse_both_families_and_empty_values() {
        let l = layout();
        let mut view = ClusterView::default();
        let v4 = "/calico/ipam/v2/host/node-1/ipv4/block/198.19.1.0-26";
        let v6 = "/calico/ipam/v2/host/node-1/ipv6/block/2001:db8:1::-122";
        assert!(view.apply(&l, &put(v4, "")));
        assert!(view.apply(&l, &put(v6, r#"{"state":"pending"}"#)));
        let cidr4: IpNet = "198.19.1.0/26".parse().unwrap();
        let cidr6: IpNet = "2001:db8:1::/122".parse().unwrap();
        assert!(view.blocks[&cidr4].is_confirmed());
        assert!(!view.blocks[&cidr6].is_confirmed());
        let bad = "/calico/ipam/v2/host/node-1/ipv4/block/198.19.1.5-26";
        assert!(!view.apply(&l, &put(bad, "")));
        assert!(view.bad[bad].contains("host bits"), "{:?}", view.bad);
        let wrong_family = "/calico/ipam/v2/host/node-1/ipv4/block/2001:db8::-122";
        assert!(!view.apply(&l, &put(wrong_family, "")));
        assert!(view.apply(&l, &Change::Delete { key: v4.to_string() }));
        assert_eq!(view.blocks.len(), 1);
    }

    #[test]
    fn a_listing_replaces_one_kind() {
        let l = layout();
        let mut view = ClusterView::default();
        view.apply(&l, &put(&format!("{NODES}a"), "{}"));
        view.apply(&l, &put(&format!("{NODES}b"), "{}"));
        view.apply(&l, &put("/calico/resources/v3/projectcalico.org/ippools/p", "{}"));
        view.apply(&l, &put(&format!("{NODES}c"), "nope"));
        let listing = [put(&format!("{NODES}b"), "{}"), put(&format!("{NODES}d"), "{}")];
        assert!(view.replace_kind(&l, Kind::Nodes, &listing));
        assert_eq!(view.nodes.keys().collect::<Vec<_>>(), ["b", "d"]);
        assert_eq!(view.count(Kind::IpPools), 1, "other kinds untouched");
        assert!(view.bad.is_empty(), "the listing no longer has the bad key");
        assert!(!view.replace_kind(&l, Kind::Nodes, &listing), "same listing: no change");
    }

    #[test]
    fn saved_and_loaded_as_json() {
        let l = layout();
        let mut view = ClusterView { revision: 42, ..ClusterView::default() };
        view.apply(&l, &put(&format!("{NODES}a"), r#"{"metadata":{"labels":{"x":"y"}}}"#));
        view.apply(&l, &put("/calico/ipam/v2/host/node-1/ipv4/block/198.19.1.0-26", ""));
        let text = serde_json::to_string(&view).unwrap();
        let back: ClusterView = serde_json::from_str(&text).unwrap();
        assert_eq!(back, view);
    }
}
