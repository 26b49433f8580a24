//! The Kubernetes state and the mapping on objects as `kubectl get -o json` prints them
//! (`fixtures/`): plain clusters (mesh, route reflector label), Calico clusters (CRDs,
//! BlockAffinities), Services, bad objects, listings and mode switches.
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{json, Value};

use super::*;
use crate::config::{self, Config, ConfigDiff, KubernetesConfig};
use crate::datastore::kubernetes::KubeObject;
use crate::datastore::{build, Mapped};

macro_rules! fixture {
    ($name:literal) => {
        serde_json::from_str::<Value>(include_str!(concat!("fixtures/", $name, ".json")))
            .expect("fixture is JSON")
    };
}

fn node(value: Value) -> KubeObject {
    KubeObject::Node(Box::new(serde_json::from_value(value).expect("a v1 Node")))
}

fn service(value: Value) -> KubeObject {
    KubeObject::Service(Box::new(serde_json::from_value(value).expect("a v1 Service")))
}

fn slice(value: Value) -> KubeObject {
    KubeObject::EndpointSlice(Box::new(serde_json::from_value(value).expect("an EndpointSlice")))
}

fn secret(value: Value) -> KubeObject {
    KubeObject::Secret(Box::new(serde_json::from_value(value).expect("a v1 Secret")))
}

/// node-1 (Calico's annotations), node-2 (plain, dual-stack), node-3 (no address), and
/// node-4 (plain, IPv4 only, no Pod CIDR).
fn nodes() -> Vec<KubeObject> {
    let mut node_4 = fixture!("node-plain-dualstack");
    node_4["metadata"]["name"] = json!("node-4");
    node_4["spec"] = json!({});
    node_4["status"]["addresses"] = json!([{"address": "198.18.0.4", "type": "InternalIP"}]);
    vec![
        node(fixture!("node-calico")),
        node(fixture!("node-plain-dualstack")),
        node(fixture!("node-no-address")),
        node(node_4),
    ]
}

/// The Calico CRDs of the fixtures, kind by kind.
fn calico_listings() -> Vec<(KubeKind, Vec<KubeObject>)> {
    let calico = |kind, value| KubeObject::Calico(kind, value);
    vec![
        (
            KubeKind::BgpConfigurations,
            vec![calico(KubeKind::BgpConfigurations, fixture!("bgpconfiguration-default"))],
        ),
        (KubeKind::BgpPeers, vec![calico(KubeKind::BgpPeers, fixture!("bgppeer-tor"))]),
        (KubeKind::IpPools, vec![calico(KubeKind::IpPools, fixture!("ippool-default-ipv4"))]),
        (
            KubeKind::BlockAffinities,
            vec![
                calico(KubeKind::BlockAffinities, fixture!("blockaffinity-node-1")),
                calico(KubeKind::BlockAffinities, fixture!("blockaffinity-node-2")),
            ],
        ),
    ]
}

fn file(node_name: &str) -> Config {
    let text = format!("node_name: {node_name}\ndatastore:\n  kubernetes: {{}}\n");
    config::parse(&text, "bgpd.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn map(state: &KubeState, node_name: &str) -> Mapped {
    build(&file(node_name), &state.view(), &state.secrets())
}

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|n| net(n)).collect()
}

fn addresses(config: &Config) -> Vec<String> {
    let mut list: Vec<String> = config.neighbors.iter().map(|n| n.address.to_string()).collect();
    list.sort();
    list
}

fn plain_state(node_name: &str, options: &KubernetesConfig) -> KubeState {
    let mut state = KubeState::new(node_name, options);
    assert!(state.replace(KubeKind::Nodes, nodes()));
    state
}

fn calico_state(node_name: &str) -> KubeState {
    let mut state = KubeState::new(node_name, &KubernetesConfig::default());
    state.set_calico(true);
    state.replace(KubeKind::Nodes, nodes());
    for (kind, objects) in calico_listings() {
        state.replace(kind, objects);
    }
    state.replace(KubeKind::Secrets, vec![secret(fixture!("secret-bgp"))]);
    state
}

#[test]
fn plain_cluster_is_a_dual_stack_mesh_originating_pod_cidrs() {
    let mapped = map(&plain_state("node-2", &KubernetesConfig::default()), "node-2");
    assert_eq!(mapped.problems, vec![]);
    let c = &mapped.config;
    assert_eq!(c.router_id.to_string(), "198.18.0.2", "from the InternalIP");
    assert_eq!(c.local_as, 64512);
    // node-1 by its Calico annotations, node-4 by its InternalIP; node-3 has no address.
    assert_eq!(addresses(c), ["198.18.0.1", "198.18.0.4", "2001:db8::1"]);
    assert!(c.neighbors.iter().all(|n| n.ibgp && !n.route_reflector_client));
    assert_eq!(c.originate, nets(&["198.19.2.0/24", "2001:db8:244:2::/64"]));
    assert!(c.kernel.exclude.is_empty(), "no service ranges configured");
}

#[test]
fn route_reflector_label_turns_the_mesh_into_clients_of_the_labelled_nodes() {
    let options = KubernetesConfig {
        route_reflector_label: Some("bgpd.example/route-reflector".into()),
        ..KubernetesConfig::default()
    };
    let mut labelled = fixture!("node-plain-dualstack");
    labelled["metadata"]["labels"]["bgpd.example/route-reflector"] = json!("true");
    let mut state = plain_state("node-1", &options);
    assert!(state.apply(node(labelled.clone())));
    let view = state.view();
    let bgp = view.nodes["node-2"].spec.bgp.as_ref().unwrap();
    assert_eq!(bgp.route_reflector_cluster_id, DEFAULT_RR_CLUSTER_ID.to_string());
    assert_eq!(view.bgp_configurations["default"].spec.node_to_node_mesh_enabled, Some(false));

    // A client peers with the reflector only.
    let client = map(&state, "node-1");
    assert_eq!(client.problems, vec![]);
    assert_eq!(addresses(&client.config), ["198.18.0.2", "2001:db8::2"]);
    // The reflector serves every node with an address as a client.
    let mut reflector = plain_state("node-2", &options);
    reflector.apply(node(labelled.clone()));
    let rr = map(&reflector, "node-2").config;
    assert_eq!(addresses(&rr), ["198.18.0.1", "198.18.0.4", "2001:db8::1"]);
    assert!(rr.neighbors.iter().all(|n| n.route_reflector_client));
    assert_eq!(rr.cluster_id.to_string(), "244.0.0.1");
    // A label value that is an IPv4 address is the cluster ID.
    labelled["metadata"]["labels"]["bgpd.example/route-reflector"] = json!("198.18.0.100");
    reflector.apply(node(labelled));
    assert_eq!(map(&reflector, "node-2").config.cluster_id.to_string(), "198.18.0.100");
}

#[test]
fn calico_cluster_uses_crds_and_this_nodes_block_affinities() {
    let mapped = map(&calico_state("node-1"), "node-1");
    let c = &mapped.config;
    assert_eq!(c.router_id.to_string(), "198.18.0.1");
    // node-2 and node-4 have no Calico annotations: no BGP in a Calico cluster; the BGPPeer
    // selects node-1 by its zone label, with the password from the Secret.
    assert_eq!(addresses(c), ["198.18.0.254"]);
    let tor = &c.neighbors[0];
    assert_eq!(tor.remote_as, 64600);
    assert_eq!(tor.password.as_ref().map(|p| p.expose()), Some("s3cret-password"));
    // Own block from the BlockAffinity, not the Pod CIDRs; node-2's block is not ours.
    assert!(c.originate.contains(&net("198.19.1.0/26")));
    assert!(!c
        .originate
        .iter()
        .any(|p| *p == net("198.19.2.0/26") || p.to_string().starts_with("10.244")));
    // The service ranges: originated, never programmed.
    let ranges =
        nets(&["10.96.0.0/12", "198.18.100.0/24", "198.18.200.0/24", "2001:db8:200::/112"]);
    for range in &ranges {
        assert!(c.originate.contains(range), "{range} not originated");
    }
    assert_eq!(c.kernel.exclude, ranges);
    assert!(
        mapped.problems.iter().all(|p| !p.key.starts_with("services/")),
        "{:?}",
        mapped.problems
    );
}

fn has_service_route(state: &KubeState, node_name: &str) -> bool {
    map(state, node_name).config.originate.contains(&net("198.18.200.10/32"))
}

#[test]
fn local_service_route_follows_the_ready_local_endpoint() {
    let mut state = calico_state("node-1");
    state.apply(service(fixture!("service-lb-local")));
    assert!(!has_service_route(&state, "node-1"), "no EndpointSlice yet");
    let before = map(&state, "node-1").config;
    assert!(state.apply(slice(fixture!("endpointslice-web"))));
    assert!(has_service_route(&state, "node-1"));
    let diff = ConfigDiff::between(&before, &map(&state, "node-1").config);
    assert_eq!(diff.originate_added, nets(&["10.96.12.34/32", "198.18.200.10/32"]));
    assert!(diff.originate_removed.is_empty() && !diff.kernel_exclude_changed);

    // node-2's endpoint is not ready: no route there.
    let mut node_2 = calico_state("node-2");
    node_2.apply(service(fixture!("service-lb-local")));
    node_2.apply(slice(fixture!("endpointslice-web")));
    let mut annotated = fixture!("node-plain-dualstack");
    annotated["metadata"]["annotations"]["projectcalico.org/IPv4Address"] = json!("198.18.0.2/24");
    node_2.apply(node(annotated));
    assert!(!has_service_route(&node_2, "node-2"));

    // Not ready any more, then ready again with the condition absent, then deleted.
    let mut changed = fixture!("endpointslice-web");
    changed["endpoints"][0]["conditions"]["ready"] = json!(false);
    assert!(state.apply(slice(changed.clone())));
    assert!(!has_service_route(&state, "node-1"));
    changed["endpoints"][0]["conditions"] = json!({});
    assert!(state.apply(slice(changed.clone())));
    assert!(has_service_route(&state, "node-1"));
    assert!(state.delete(&slice(changed)));
    assert!(!has_service_route(&state, "node-1"));
}

#[test]
fn excluded_node_and_addresses_outside_the_ranges() {
    let mut state = calico_state("node-1");
    state.apply(slice(fixture!("endpointslice-web")));
    let mut outside = fixture!("service-lb-local");
    outside["status"]["loadBalancer"]["ingress"][0]["ip"] = json!("203.0.113.10");
    state.apply(service(outside));
    let mapped = map(&state, "node-1");
    assert!(!mapped.config.originate.contains(&net("203.0.113.10/32")));
    let problem = mapped.problems.iter().find(|p| p.key == "services/shop/web");
    assert!(problem.is_some_and(|p| p.message.contains("203.0.113.10")), "{:?}", mapped.problems);

    state.apply(service(fixture!("service-lb-local")));
    let mut excluded = fixture!("node-calico");
    excluded["metadata"]["labels"]["node.kubernetes.io/exclude-from-external-load-balancers"] =
        json!("true");
    assert!(state.apply(node(excluded)));
    let c = map(&state, "node-1").config;
    assert_eq!(c.originate, nets(&["198.19.1.0/26"]), "no service routes at all");
    assert_eq!(c.kernel.exclude.len(), 4, "still never programmed");
}

#[test]
fn plain_cluster_takes_the_service_ranges_from_the_file() {
    let options = KubernetesConfig {
        service_load_balancer_ips: nets(&["198.18.200.0/24"]),
        ..KubernetesConfig::default()
    };
    let mut state = plain_state("node-1", &options);
    state.apply(service(fixture!("service-lb-local")));
    state.apply(slice(fixture!("endpointslice-web")));
    let c = map(&state, "node-1").config;
    assert_eq!(
        c.originate,
        nets(&["10.244.1.0/24", "fd00:10:244:1::/64", "198.18.200.0/24", "198.18.200.10/32"])
    );
    assert_eq!(c.kernel.exclude, nets(&["198.18.200.0/24"]));
}

#[test]
fn bad_objects_are_reported_and_the_last_good_version_stays() {
    let mut state = plain_state("node-2", &KubernetesConfig::default());
    let mut bad_node = fixture!("node-plain-dualstack");
    bad_node["spec"]["podCIDRs"] = json!(["198.19.2.1/24"]);
    assert!(!state.apply(node(bad_node)));
    let view = state.view();
    assert!(view.bad["nodes/node-2"].contains("host bits"), "{:?}", view.bad);
    assert_eq!(
        view.blocks.keys().copied().collect::<Vec<_>>(),
        nets(&["198.19.2.0/24", "2001:db8:244:2::/64"])
    );
    // The rest of that Node is still taken (a label that excludes it from service routes).
    let mut relabelled = fixture!("node-plain-dualstack");
    relabelled["spec"]["podCIDRs"] = json!(["198.19.2.1/24"]);
    relabelled["metadata"]["labels"]["rack"] = json!("b");
    assert!(state.apply(node(relabelled)));
    let view = state.view();
    assert_eq!(view.nodes["node-2"].metadata.labels["rack"], "b");
    assert!(view.bad["nodes/node-2"].contains("last good Pod CIDRs stay"), "{:?}", view.bad);

    // A Service without a Local policy is not kept (the ranges cover it).
    let mut cluster_policy = fixture!("service-lb-local");
    cluster_policy["spec"]["externalTrafficPolicy"] = json!("Cluster");
    cluster_policy["metadata"]["name"] = json!("api");
    assert!(!state.apply(service(cluster_policy)));
    assert!(state.view().services.is_empty());

    let mut bad_service = fixture!("service-lb-local");
    bad_service["spec"]["clusterIPs"] = json!(["10.96.12.x"]);
    assert!(!state.apply(service(bad_service)));
    assert!(state.view().bad["services/shop/web"].contains("10.96.12.x"));
    assert!(state.view().services.is_empty());
    assert!(state.apply(service(fixture!("service-lb-local"))), "fixed");
    assert!(!state.view().bad.contains_key("services/shop/web"));

    state.set_calico(true);
    let mut bad_affinity = fixture!("blockaffinity-node-2");
    bad_affinity["spec"]["deleted"] = json!("perhaps");
    assert!(!state.apply(KubeObject::Calico(KubeKind::BlockAffinities, bad_affinity)));
    let mut bad_peer = fixture!("bgppeer-tor");
    bad_peer["spec"]["asNumber"] = json!([64600]);
    assert!(!state.apply(KubeObject::Calico(KubeKind::BgpPeers, bad_peer)));
    let bad = state.view().bad;
    assert!(bad["blockaffinities/node-2-198-19-2-0-26"].contains("perhaps"), "{bad:?}");
    assert!(bad.contains_key("bgppeers/rack-a-tor"), "{bad:?}");
}

#[test]
fn a_listing_replaces_one_kind() {
    let mut state = plain_state("node-2", &KubernetesConfig::default());
    state.apply(service(fixture!("service-lb-local")));
    let mut bad = fixture!("node-plain-dualstack");
    bad["metadata"]["annotations"]["kube-router.io/pod-cidr"] = json!("x");
    assert!(!state.apply(node(bad)));
    assert!(state.view().bad["nodes/node-2"].contains("kube-router.io/pod-cidr"));

    let listing = vec![node(fixture!("node-plain-dualstack"))];
    assert!(state.replace(KubeKind::Nodes, listing.clone()));
    let view = state.view();
    assert_eq!(view.nodes.keys().collect::<Vec<_>>(), ["node-2"]);
    assert!(view.bad.is_empty());
    assert_eq!(view.services.len(), 1, "other kinds untouched");
    assert!(!state.replace(KubeKind::Nodes, listing), "the same listing: no change");
    assert!(state.replace(KubeKind::Services, Vec::new()));
    assert!(state.view().services.is_empty());
}

#[test]
fn set_calico_switches_between_crds_and_the_plain_model() {
    let mut state = calico_state("node-1");
    assert!(!state.set_calico(true), "already in Calico mode");
    let calico_view = state.view();
    assert_eq!(calico_view.blocks.keys().copied().collect::<Vec<_>>(), nets(&["198.19.1.0/26"]));
    assert!(calico_view.nodes["node-2"].spec.bgp.is_none());
    assert_eq!(calico_view.bgp_peers.len(), 1);

    assert!(state.set_calico(false));
    let plain = state.view();
    assert_eq!(
        plain.blocks.keys().copied().collect::<Vec<_>>(),
        nets(&["10.244.1.0/24", "fd00:10:244:1::/64"]),
        "the Pod CIDRs now"
    );
    assert_eq!(plain.nodes["node-2"].spec.bgp.as_ref().unwrap().ipv4_address, "198.18.0.2");
    assert!(plain.bgp_peers.is_empty() && plain.ip_pools.is_empty());
    assert_eq!(plain.bgp_configurations["default"].spec.node_to_node_mesh_enabled, None);
    assert_eq!(
        addresses(&map(&state, "node-1").config),
        ["198.18.0.2", "198.18.0.4", "2001:db8::2"]
    );

    // Back to Calico: the CRDs were forgotten and come back with their listings.
    assert!(state.set_calico(true));
    assert!(state.view().blocks.is_empty() && state.view().bgp_configurations.is_empty());
    for (kind, objects) in calico_listings() {
        assert!(state.replace(kind, objects));
    }
    assert_eq!(state.view(), calico_view);
}

#[test]
fn secrets_are_read_decoded_and_forgotten() {
    use crate::datastore::Secrets;
    let mut state = KubeState::new("node-1", &KubernetesConfig::default());
    assert!(state.apply(secret(fixture!("secret-bgp"))));
    assert_eq!(state.secrets().read("bgp-secrets", "rack-a-tor").as_deref(), Ok("s3cret-password"));
    let mut with_string_data = fixture!("secret-bgp");
    with_string_data["stringData"] = json!({"rack-a-tor": "plain", "other": "x"});
    assert!(state.apply(secret(with_string_data.clone())));
    assert_eq!(state.secrets().read("bgp-secrets", "rack-a-tor").as_deref(), Ok("plain"));
    let mut binary = fixture!("secret-bgp");
    binary["data"]["binary"] = json!("/w==");
    assert!(state.apply(secret(binary)));
    assert!(state.view().bad["secrets/bgp-secrets"].contains("binary"));
    assert_eq!(state.secrets().read("bgp-secrets", "rack-a-tor").as_deref(), Ok("s3cret-password"));
    assert!(state.apply(secret(with_string_data.clone())));
    assert!(state.view().bad.is_empty());
    assert!(state.delete(&secret(with_string_data)));
    assert!(state.secrets().read("bgp-secrets", "other").is_err());
}

#[test]
fn objects_in_detail() {
    let mut value = fixture!("node-plain-dualstack");
    value["metadata"]["annotations"]["kube-router.io/pod-cidrs"] =
        json!("198.19.9.0/24, 2001:db8:244:9::/64");
    let KubeObject::Node(v1) = node(value) else { unreachable!() };
    assert_eq!(objects::pod_cidrs(&v1), Ok(nets(&["198.19.9.0/24", "2001:db8:244:9::/64"])));
    let KubeObject::Node(v1) = node(fixture!("node-no-address")) else { unreachable!() };
    assert_eq!(objects::pod_cidrs(&v1), Ok(nets(&["198.19.3.0/24"])));
    assert_eq!(objects::node(&v1).internal, None);

    let mut deleted = fixture!("blockaffinity-node-1");
    deleted["spec"]["deleted"] = json!("true");
    let (node_name, cidr, affinity) = objects::block_affinity(&deleted).unwrap();
    assert_eq!((node_name.as_str(), cidr), ("node-1", net("198.19.1.0/26")));
    assert!(!affinity.is_confirmed());

    let mut headless = fixture!("service-lb-local");
    headless["spec"]["clusterIP"] = json!("None");
    headless["spec"]["clusterIPs"] = json!(["None"]);
    let KubeObject::Service(v1) = service(headless) else { unreachable!() };
    let record = objects::service(&v1).unwrap();
    assert!(record.cluster_ips.is_empty() && record.external_local && !record.internal_local);
    let lb: IpAddr = "198.18.200.10".parse().unwrap();
    assert_eq!(record.load_balancer_ips, [lb]);

    let mut orphan = fixture!("endpointslice-web");
    orphan["metadata"]["labels"] = json!({});
    let KubeObject::EndpointSlice(v1) = slice(orphan) else { unreachable!() };
    assert_eq!(objects::endpoint_slice(&v1, "node-1"), None);
}
