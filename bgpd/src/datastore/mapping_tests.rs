//! The cluster-view-to-config mapping on JSON fixtures, as `calicoctl` stores them in etcd.
use std::collections::BTreeMap;
use std::net::IpAddr;

use super::*;
use crate::config::{self, Config, NeighborConfig, NeighborSource, Policy, PolicyAction};

const RES: &str = "/calico/resources/v3/projectcalico.org";

/// Secrets from a map (`name/key` -> value).
struct MapSecrets(BTreeMap<String, String>);

impl Secrets for MapSecrets {
    fn read(&self, name: &str, key: &str) -> Result<String, String> {
        self.0
            .get(&format!("{name}/{key}"))
            .cloned()
            .ok_or_else(|| format!("no secret {name}/{key}"))
    }
}

fn file(text: &str) -> Config {
    config::parse(text, "bgpd.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn node_file(name: &str) -> Config {
    file(&format!(
        "node_name: {name}\ndatastore:\n  etcd:\n    endpoints: [\"http://198.18.0.250:2379\"]\n"
    ))
}

fn node(name: &str, v4: &str, v6: &str, extra_bgp: &str, labels: &str) -> (String, String) {
    (
        format!("{RES}/nodes/{name}"),
        format!(
            r#"{{"kind":"Node","apiVersion":"projectcalico.org/v3",
               "metadata":{{"name":"{name}","labels":{{{labels}}}}},
               "spec":{{"bgp":{{"ipv4Address":"{v4}","ipv6Address":"{v6}"{extra_bgp}}}}}}}"#
        ),
    )
}

fn resource(kind: &str, name: &str, spec: &str) -> (String, String) {
    (format!("{RES}/{kind}/{name}"), format!(r#"{{"metadata":{{"name":"{name}"}},"spec":{spec}}}"#))
}

fn block(node: &str, cidr: &str, value: &str) -> (String, String) {
    let (family, name) = if cidr.contains(':') {
        ("ipv6", cidr.replace('/', "-"))
    } else {
        ("ipv4", cidr.replace('/', "-"))
    };
    (format!("/calico/ipam/v2/host/{node}/{family}/block/{name}"), value.to_string())
}

fn view(node_name: &str, entries: &[(String, String)]) -> ClusterView {
    let layout = KeyLayout::new("/calico", node_name);
    let mut view = ClusterView::default();
    for (key, value) in entries {
        view.apply(&layout, &Change::Put { key: key.clone(), value: value.as_bytes().to_vec() });
    }
    assert!(view.bad.is_empty(), "fixture has bad values: {:?}", view.bad);
    view
}

fn map(file: &Config, view: &ClusterView) -> Mapped {
    build(file, view, &MapSecrets(BTreeMap::from([("bgp-secrets/tor".into(), "s3cret".into())])))
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn neighbor<'c>(config: &'c Config, address: &str) -> &'c NeighborConfig {
    config.neighbor(ip(address)).unwrap_or_else(|| {
        let have: Vec<_> = config.neighbors.iter().map(|n| n.address.to_string()).collect();
        panic!("no neighbour {address}; have {have:?}")
    })
}

fn addresses(config: &Config) -> Vec<String> {
    let mut list: Vec<String> = config.neighbors.iter().map(|n| n.address.to_string()).collect();
    list.sort();
    list
}

fn three_node_mesh() -> Vec<(String, String)> {
    vec![
        node("node-1", "198.18.0.1/24", "2001:db8::1/64", "", ""),
        node("node-2", "198.18.0.2/24", "2001:db8::2/64", "", ""),
        node("node-3", "198.18.0.10/24", "", r#","asNumber":64999"#, ""),
        resource("ippools", "default-ipv4", r#"{"cidr":"198.19.0.0/16","ipipMode":"Never"}"#),
        resource("ippools", "default-ipv6", r#"{"cidr":"2001:db8:100::/48"}"#),
        resource("ippools", "vxlan", r#"{"cidr":"198.18.64.0/18","vxlanMode":"Always"}"#),
        resource("ippools", "ipip", r#"{"cidr":"198.18.32.0/19","ipipMode":"CrossSubnet"}"#),
        block("node-1", "198.19.1.0/26", r#"{"state":"confirmed","deleted":false}"#),
        block("node-1", "198.19.1.64/26", ""),
        block("node-1", "198.19.1.128/26", r#"{"state":"pending"}"#),
        block("node-1", "198.19.1.192/26", r#"{"state":"pendingDeletion"}"#),
        block("node-1", "2001:db8:100:1::/122", r#"{"state":"confirmed"}"#),
        block("node-2", "198.19.2.0/26", ""),
    ]
}

#[test]
fn full_mesh_from_nodes_blocks_and_pools() {
    let mapped = map(&node_file("node-1"), &view("node-1", &three_node_mesh()));
    assert_eq!(mapped.problems, vec![]);
    let c = &mapped.config;
    assert_eq!(c.router_id.to_string(), "198.18.0.1", "router id = the node's IPv4 address");
    assert_eq!(c.local_as, 64512, "Calico's default AS");
    assert_eq!(c.cluster_id, c.router_id);
    assert_eq!(c.listen, config::default_listen(179));
    // One session per other node and family both have.
    assert_eq!(addresses(c), ["198.18.0.10", "198.18.0.2", "2001:db8::2"]);
    let n2 = neighbor(c, "198.18.0.2");
    assert_eq!(n2.source, NeighborSource::Mesh("node-2".into()));
    assert!(n2.ibgp);
    assert_eq!(n2.local_address, Some(ip("198.18.0.1")));
    assert_eq!(n2.families, vec![bgp_core::wire::Family::IPV4_UNICAST]);
    assert_eq!(neighbor(c, "2001:db8::2").families, vec![bgp_core::wire::Family::IPV6_UNICAST]);
    assert_eq!(neighbor(c, "2001:db8::2").local_address, Some(ip("2001:db8::1")));
    // confd's one-way mesh: the greater address as text is passive.
    assert!(neighbor(c, "198.18.0.2").passive, "\"198.18.0.2\" > \"198.18.0.1\"");
    assert!(neighbor(c, "198.18.0.10").passive, "\"198.18.0.10\" > \"198.18.0.1\" as text");
    // A node with its own AS is eBGP.
    let n3 = neighbor(c, "198.18.0.10");
    assert_eq!(n3.remote_as, 64999);
    assert!(!n3.ibgp);
    assert_eq!(n3.import, Policy::All);
    // Confirmed blocks (an empty value is confirmed) are originated; pending ones are not.
    let originated: Vec<String> = c.originate.iter().map(|p| p.to_string()).collect();
    assert_eq!(originated, ["198.19.1.0/26", "198.19.1.64/26", "2001:db8:100:1::/122"]);
    // The export filter: own blocks, not the pods in them; other blocks in the pools.
    let Policy::Rules(rules) = &n2.export else { panic!("export rules expected") };
    let verdict = |prefix: &str| {
        let prefix = prefix.parse().unwrap();
        rules.iter().find(|r| r.matches(&prefix)).map(|r| r.action)
    };
    assert_eq!(verdict("198.19.1.0/26"), Some(PolicyAction::Accept));
    assert_eq!(verdict("198.19.1.7/32"), Some(PolicyAction::Reject));
    assert_eq!(verdict("198.19.2.0/26"), Some(PolicyAction::Accept));
    assert_eq!(verdict("203.0.113.0/24"), None, "outside every pool: rejected");
    // Encapsulated pools are advertised but kept out of the kernel (Felix programs them).
    assert_eq!(verdict("198.18.64.0/26"), Some(PolicyAction::Accept));
    let excluded: Vec<String> = c.kernel.exclude.iter().map(|p| p.to_string()).collect();
    assert_eq!(excluded, ["198.18.32.0/19", "198.18.64.0/18"]);
}

#[test]
fn the_view_of_another_node_is_its_own_mesh() {
    let mapped = map(&node_file("node-3"), &view("node-3", &three_node_mesh()));
    let c = &mapped.config;
    assert_eq!(c.local_as, 64999);
    // node-3 has no IPv6 address: IPv4 sessions only.
    assert_eq!(addresses(c), ["198.18.0.1", "198.18.0.2"]);
    assert!(!neighbor(c, "198.18.0.1").ibgp);
    // As text, "198.18.0.2" > "198.18.0.10": node-3 waits for node-2, and dials node-1.
    assert!(neighbor(c, "198.18.0.2").passive);
    assert!(!neighbor(c, "198.18.0.1").passive);
    assert!(c.originate.is_empty(), "node-1's blocks are not node-3's");
}

#[test]
fn route_reflectors_by_peer_selector_with_mesh_off() {
    let rr = r#","routeReflectorClusterID":"224.0.0.1""#;
    let entries = vec![
        node("rr-1", "198.18.0.101/24", "", rr, r#""route-reflector":"true""#),
        node("rr-2", "198.18.0.102/24", "", rr, r#""route-reflector":"true""#),
        node("node-1", "198.18.0.1/24", "", "", ""),
        node("node-2", "198.18.0.2/24", "", "", ""),
        resource(
            "bgpconfigurations",
            "default",
            r#"{"nodeToNodeMeshEnabled":false,"asNumber":64513}"#,
        ),
        resource(
            "bgppeers",
            "peer-with-rrs",
            r#"{"nodeSelector":"all()","peerSelector":"has(route-reflector)"}"#,
        ),
    ];
    let client = map(&node_file("node-1"), &view("node-1", &entries)).config;
    assert_eq!(client.local_as, 64513);
    assert_eq!(
        addresses(&client),
        ["198.18.0.101", "198.18.0.102"],
        "clients peer only with the RRs"
    );
    let to_rr = neighbor(&client, "198.18.0.101");
    assert_eq!(to_rr.source, NeighborSource::BgpPeer("peer-with-rrs".into()));
    assert!(!to_rr.route_reflector_client && !to_rr.passive && to_rr.ibgp);

    let reflector = map(&node_file("rr-1"), &view("rr-1", &entries)).config;
    assert_eq!(reflector.cluster_id.to_string(), "224.0.0.1");
    assert_eq!(addresses(&reflector), ["198.18.0.1", "198.18.0.102", "198.18.0.2"]);
    // The other reflector shares the cluster ID: a plain iBGP peer. The nodes are clients
    // (reverse peering: they are what the BGPPeer applies to, we are what it selects).
    assert!(!neighbor(&reflector, "198.18.0.102").route_reflector_client);
    assert!(neighbor(&reflector, "198.18.0.1").route_reflector_client);
    assert!(neighbor(&reflector, "198.18.0.2").route_reflector_client);
}

#[test]
fn bgppeer_to_a_tor_by_node_selector_with_its_options() {
    let mut entries = three_node_mesh();
    entries[0] = node("node-1", "198.18.0.1/24", "", "", r#""rack":"a""#);
    entries.push(resource(
        "bgppeers",
        "tor-a",
        r#"{"nodeSelector":"rack == 'a'","peerIP":"198.18.0.254:1179","asNumber":"65000",
            "keepaliveTime":"10s","maxRestartTime":"300s","ttlSecurity":1,
            "password":{"secretKeyRef":{"name":"bgp-secrets","key":"tor"}}}"#,
    ));
    entries.push(resource(
        "bgppeers",
        "tor-b",
        r#"{"nodeSelector":"rack == 'b'","peerIP":"198.18.0.253","asNumber":65000}"#,
    ));
    let c = map(&node_file("node-1"), &view("node-1", &entries)).config;
    let tor = neighbor(&c, "198.18.0.254");
    assert_eq!(tor.source, NeighborSource::BgpPeer("tor-a".into()));
    assert_eq!((tor.remote_as, tor.port, tor.ibgp), (65000, 1179, false));
    assert_eq!(tor.hold_time, 30, "keepaliveTime 10s: a third of the hold time");
    assert_eq!(tor.restart_time, Some(300));
    assert!(tor.ttl_security && tor.ttl == 255 && tor.gtsm_min_ttl() == Some(255));
    assert_eq!(tor.password.as_ref().map(|p| p.expose()), Some("s3cret"));
    assert_eq!(tor.import, Policy::All, "Calico imports everything");
    assert!(!tor.enforce_first_as, "BIRD's default: a route server's routes are kept");
    assert!(c.neighbor(ip("198.18.0.253")).is_none(), "rack b's ToR is not node-1's");
    // Another node in rack b does not get rack a's ToR.
    let other = map(&node_file("node-2"), &view("node-2", &entries)).config;
    assert!(other.neighbor(ip("198.18.0.254")).is_none());
}

#[test]
fn a_block_moving_between_nodes_moves_the_origination() {
    let mut entries = three_node_mesh();
    let before = map(&node_file("node-2"), &view("node-2", &entries)).config;
    assert_eq!(before.originate, vec!["198.19.2.0/26".parse().unwrap()]);
    entries.retain(|(key, _)| !key.ends_with("198.19.2.0-26"));
    entries.push(block("node-3", "198.19.2.0/26", ""));
    let after2 = map(&node_file("node-2"), &view("node-2", &entries)).config;
    let after3 = map(&node_file("node-3"), &view("node-3", &entries)).config;
    assert!(after2.originate.is_empty());
    assert_eq!(after3.originate, vec!["198.19.2.0/26".parse().unwrap()]);
    // Only the origination changed for node-2: its sessions are untouched by the diff.
    let diff = config::ConfigDiff::between(&before, &after2);
    assert!(diff.neighbors_reset.is_empty() && diff.neighbors_added.is_empty());
    assert_eq!(diff.originate_removed.len(), 1);
}

#[test]
fn adding_a_node_adds_only_its_sessions() {
    let mut entries = three_node_mesh();
    let before = map(&node_file("node-1"), &view("node-1", &entries)).config;
    entries.push(node("node-4", "198.18.0.4/24", "", "", ""));
    let after = map(&node_file("node-1"), &view("node-1", &entries)).config;
    let diff = config::ConfigDiff::between(&before, &after);
    assert_eq!(diff.neighbors_added, vec![ip("198.18.0.4")]);
    assert!(diff.neighbors_removed.is_empty() && diff.neighbors_reset.is_empty());
    assert!(diff.neighbors_policy.is_empty() && diff.reset_all.is_empty());
}

#[test]
fn the_file_wins_over_the_datastore() {
    let f = file(
        "node_name: node-1\nrouter_id: 198.18.9.9\nlocal_as: 64512\nlisten: [\"198.18.0.1:1790\"]\n\
         datastore: {etcd: {endpoints: [\"http://198.18.0.250:2379\"]}}\n\
         originate: [\"198.18.200.0/24\"]\n\
         neighbors:\n  - address: 198.18.0.2\n    remote_as: 64512\n    description: by hand\n",
    );
    let mapped = map(&f, &view("node-1", &three_node_mesh()));
    let c = &mapped.config;
    assert_eq!(c.router_id.to_string(), "198.18.9.9");
    assert_eq!(c.listen, vec!["198.18.0.1:1790".parse().unwrap()]);
    let n2 = neighbor(c, "198.18.0.2");
    assert_eq!(
        (n2.source.clone(), n2.description.as_deref()),
        (NeighborSource::Config, Some("by hand"))
    );
    assert!(
        mapped.problems.iter().any(|p| p.key == "mesh/node-2" && p.message.contains("file")),
        "{:?}",
        mapped.problems
    );
    // The file's prefixes are originated with the blocks, and exported to datastore peers.
    assert!(c.originate.contains(&"198.18.200.0/24".parse().unwrap()));
    let Policy::Rules(rules) = &neighbor(c, "198.18.0.10").export else { panic!() };
    let own: ipnet::IpNet = "198.18.200.0/24".parse().unwrap();
    assert!(rules.iter().any(|r| r.matches(&own) && r.action == PolicyAction::Accept));
}

#[test]
fn local_as_from_the_datastore_reresolves_file_neighbours() {
    let f = file(
        "node_name: node-1\ndatastore: {etcd: {endpoints: [\"http://198.18.0.250:2379\"]}}\n\
         neighbors:\n  - address: 198.18.0.254\n    remote_as: 64513\n",
    );
    assert!(
        f.warnings().is_empty(),
        "no RFC 8212 warning before local_as is known: {:?}",
        f.warnings()
    );
    let mut entries = three_node_mesh();
    entries.push(resource("bgpconfigurations", "default", r#"{"asNumber":64513}"#));
    let c = map(&f, &view("node-1", &entries)).config;
    let tor = neighbor(&c, "198.18.0.254");
    assert!(tor.ibgp, "remote_as == the datastore's AS");
    assert_eq!((tor.ttl, &tor.import, &tor.export), (255, &Policy::All, &Policy::All));
}

#[test]
fn without_this_node_in_the_view_there_are_no_datastore_sessions() {
    let mapped = map(&node_file("node-9"), &view("node-9", &three_node_mesh()));
    assert!(mapped.config.neighbors.is_empty());
    assert!(mapped.config.router_id.is_unspecified());
    assert!(mapped.problems.iter().any(|p| p.key == "nodes/node-9"), "{:?}", mapped.problems);
    // Nothing at all yet (etcd never answered): the file alone, no sessions without identity.
    let empty = map(&node_file("node-1"), &ClusterView::default());
    assert!(empty.config.neighbors.is_empty() && empty.config.originate.is_empty());
}

#[test]
fn bad_resources_are_reported_and_the_rest_applies() {
    let mut entries = three_node_mesh();
    entries.push(node("node-5", "198.18.0.300/24", "", "", ""));
    entries.push(resource(
        "bgppeers",
        "bad-selector",
        r#"{"nodeSelector":"rack = 'a'","peerIP":"198.18.0.9","asNumber":1}"#,
    ));
    entries.push(resource("bgppeers", "no-as", r#"{"peerIP":"198.18.0.8"}"#));
    entries.push(resource("bgppeers", "bad-ip", r#"{"peerIP":"tor-1","asNumber":65000}"#));
    entries.push(resource("bgppeers", "no-secret", r#"{"peerIP":"198.18.0.7","asNumber":65000,"password":{"secretKeyRef":{"name":"x","key":"y"}}}"#));
    entries.push(resource("ippools", "broken", r#"{"cidr":"198.19.0.0/33"}"#));
    let mapped = map(&node_file("node-1"), &view("node-1", &entries));
    let keys: Vec<&str> = mapped.problems.iter().map(|p| p.key.as_str()).collect();
    for key in [
        "nodes/node-5",
        "bgppeers/bad-selector",
        "bgppeers/no-as",
        "bgppeers/bad-ip",
        "bgppeers/no-secret",
        "ippools/broken",
    ] {
        assert!(keys.contains(&key), "{key} not reported: {:?}", mapped.problems);
    }
    // Everything else still applies.
    assert_eq!(addresses(&mapped.config), ["198.18.0.10", "198.18.0.2", "2001:db8::2"]);
}

#[test]
fn listen_port_and_mesh_options_from_bgpconfiguration() {
    let mut entries = three_node_mesh();
    entries.push(resource(
        "bgpconfigurations",
        "default",
        r#"{"listenPort":1179,"nodeMeshMaxRestartTime":"2m",
            "nodeMeshPassword":{"secretKeyRef":{"name":"bgp-secrets","key":"tor"}}}"#,
    ));
    entries.push(resource("bgpconfigurations", "node.node-2", r#"{"listenPort":2179}"#));
    let c = map(&node_file("node-1"), &view("node-1", &entries)).config;
    assert_eq!(c.listen, config::default_listen(1179));
    let n2 = neighbor(&c, "198.18.0.2");
    assert_eq!(n2.port, 2179, "the peer's own listen port");
    assert_eq!(neighbor(&c, "198.18.0.10").port, 1179);
    assert_eq!(n2.restart_time, Some(120));
    assert_eq!(n2.password.as_ref().map(|p| p.expose()), Some("s3cret"));
}

#[test]
fn confd_details_ttl_zero_local_as_and_mesh_password() {
    let mut entries = three_node_mesh();
    entries.push(resource(
        "bgppeers",
        "tor",
        r#"{"peerIP":"198.18.0.254","asNumber":65000,"ttlSecurity":0,"localASNumber":65001}"#,
    ));
    let mapped = map(&node_file("node-1"), &view("node-1", &entries));
    let tor = neighbor(&mapped.config, "198.18.0.254");
    assert!(!tor.ttl_security, "ttlSecurity 0 is off, as in confd");
    assert_eq!(tor.ttl, 64, "eBGP datastore sessions are multihop (TTL 64) like Calico's");
    assert!(
        mapped
            .problems
            .iter()
            .any(|p| p.key == "bgppeers/tor" && p.message.contains("localASNumber")),
        "{:?}",
        mapped.problems
    );
    // A mesh password that cannot be read: no mesh session comes up without it.
    entries.push(resource(
        "bgpconfigurations",
        "default",
        r#"{"nodeMeshPassword":{"secretKeyRef":{"name":"missing","key":"k"}}}"#,
    ));
    let mapped = map(&node_file("node-1"), &view("node-1", &entries));
    assert_eq!(addresses(&mapped.config), ["198.18.0.254"]);
    assert!(mapped.problems.iter().any(|p| p.message.contains("no secret missing/k")));
}

#[test]
fn selector_sessions_are_never_passive_and_peer_ip_sessions_follow_confd() {
    let entries = vec![
        node("node-1", "198.18.0.1/24", "", "", r#""edge":"true""#),
        node("node-2", "198.18.0.2/24", "", "", ""),
        resource("bgpconfigurations", "default", r#"{"nodeToNodeMeshEnabled":false}"#),
        resource("bgppeers", "all-edges", r#"{"peerSelector":"has(edge)"}"#),
        resource("bgppeers", "to-node-2", r#"{"peerIP":"198.18.0.2","asNumber":64512}"#),
    ];
    // node-1: to-node-2 is global and its peer a node with a greater address: passive.
    let one = map(&node_file("node-1"), &view("node-1", &entries)).config;
    assert!(neighbor(&one, "198.18.0.2").passive);
    assert_eq!(neighbor(&one, "198.18.0.2").source, NeighborSource::BgpPeer("to-node-2".into()));
    // node-2: peers with node-1 by the selector (never passive), and to-node-2 is its own
    // address (skipped, as confd does).
    let two = map(&node_file("node-2"), &view("node-2", &entries)).config;
    assert_eq!(addresses(&two), ["198.18.0.1"]);
    assert!(!neighbor(&two, "198.18.0.1").passive);
}

#[test]
fn next_hop_mode_and_allowed_local_as_numbers() {
    let mut entries = three_node_mesh();
    entries.push(resource(
        "bgppeers",
        "tor-keep",
        r#"{"peerIP":"198.18.0.254","asNumber":65000,"keepOriginalNextHop":true,
            "numAllowedLocalASNumbers":2}"#,
    ));
    entries.push(resource(
        "bgppeers",
        "tor-self",
        r#"{"peerIP":"198.18.0.253","asNumber":65000,"nextHopMode":"Self",
            "numAllowedLocalASNumbers":300}"#,
    ));
    entries.push(resource(
        "bgppeers",
        "ibgp-keep",
        r#"{"peerIP":"198.18.0.252","asNumber":64512,"nextHopMode":"Keep"}"#,
    ));
    let mapped = map(&node_file("node-1"), &view("node-1", &entries));
    let keep = neighbor(&mapped.config, "198.18.0.254");
    assert!(keep.next_hop_keep && !keep.next_hop_self);
    assert_eq!(keep.allow_local_as, 2);
    let own = neighbor(&mapped.config, "198.18.0.253");
    assert!(own.next_hop_self && !own.next_hop_keep);
    assert_eq!(own.allow_local_as, 255, "clamped");
    assert!(mapped.problems.iter().any(
        |p| p.key == "bgppeers/tor-self" && p.message.contains("numAllowedLocalASNumbers 300")
    ));
    let ibgp = neighbor(&mapped.config, "198.18.0.252");
    assert!(!ibgp.next_hop_keep, "toward iBGP the next hop is kept anyway");
    assert!(mapped.problems.iter().all(|p| p.key != "bgppeers/tor-keep"), "{:?}", mapped.problems);
}

#[test]
fn dangerous_blocks_and_pools_are_skipped_with_a_problem_and_own_address_blocks_noted() {
    let mut entries = three_node_mesh();
    entries.push(block("node-1", "0.0.0.0/0", ""));
    entries.push(block("node-1", "198.18.0.0/26", "")); // holds node-1's own address
    entries.push(block("node-1", "224.0.0.0/26", ""));
    entries.push(resource("ippools", "everything", r#"{"cidr":"0.0.0.0/0"}"#));
    entries.push(resource("ippools", "link-local", r#"{"cidr":"fe80::/64","vxlanMode":"Always"}"#));
    let mapped = map(&node_file("node-1"), &view("node-1", &entries));
    let c = &mapped.config;
    let originated: Vec<String> = c.originate.iter().map(|p| p.to_string()).collect();
    // The block holding the node's own address is originated (its address is in the local
    // table), with a problem saying when it would hurt.
    assert_eq!(
        originated,
        ["198.18.0.0/26", "198.19.1.0/26", "198.19.1.64/26", "2001:db8:100:1::/122"]
    );
    let problem = |key: &str| {
        mapped.problems.iter().find(|p| p.key == key).map(|p| p.message.clone()).unwrap_or_default()
    };
    assert!(problem("blocks/0.0.0.0/0").starts_with("0.0.0.0/0 is a default route"));
    let own = problem("blocks/198.18.0.0/26");
    assert!(own.starts_with("198.18.0.0/26 holds 198.18.0.1, nodes/node-1's address"), "{own}");
    assert!(own.ends_with("block originated"), "{own}");
    assert!(problem("blocks/224.0.0.0/26").contains("multicast"));
    assert!(problem("ippools/everything").contains("0.0.0.0/0 is a default route: pool not used"));
    assert!(problem("ippools/link-local").contains("link-local"));
    assert!(!c.kernel.exclude.contains(&"fe80::/64".parse().unwrap()), "skipped pool not used");
    assert_eq!(mapped.problems.len(), 5, "{:?}", mapped.problems);
}

#[test]
fn dangerous_blocks_are_originated_when_the_file_allows_it_or_without_blackholes() {
    let mut entries = three_node_mesh();
    entries.push(block("node-1", "0.0.0.0/0", ""));
    let allow = "node_name: node-1\nallow_dangerous_originate: true\ndatastore:\n  etcd:\n    endpoints: [\"http://198.18.0.250:2379\"]\n";
    let mapped = map(&file(allow), &view("node-1", &entries));
    assert!(mapped.config.originate.contains(&"0.0.0.0/0".parse().unwrap()));
    assert_eq!(mapped.problems, vec![]);
    let no_blackhole =
        allow.replace("allow_dangerous_originate: true", "kernel: {blackhole_originated: false}");
    let mapped = map(&file(&no_blackhole), &view("node-1", &entries));
    assert!(mapped.config.originate.contains(&"0.0.0.0/0".parse().unwrap()));
}

#[test]
fn dangerous_pools_are_used_when_no_blackholes_are_installed() {
    let mut entries = three_node_mesh();
    entries.push(resource("ippools", "link-local", r#"{"cidr":"fe80::/64","vxlanMode":"Always"}"#));
    for kernel in ["kernel: {blackhole_originated: false}", "kernel: {enabled: false}"] {
        let text = format!("node_name: node-1\n{kernel}\ndatastore:\n  etcd:\n    endpoints: [\"http://198.18.0.250:2379\"]\n");
        let mapped = map(&file(&text), &view("node-1", &entries));
        assert!(
            mapped.config.kernel.exclude.contains(&"fe80::/64".parse().unwrap()),
            "{kernel}: the pool is used, as blocks are"
        );
        assert!(mapped.problems.iter().all(|p| p.key != "ippools/link-local"), "{kernel}");
    }
}

#[test]
fn log_severity_screen_sets_the_log_level_unless_the_file_does() {
    let mut entries = three_node_mesh();
    let plain = map(&node_file("node-1"), &view("node-1", &entries));
    assert_eq!(plain.config.log.level, "info", "Calico's default");
    entries.push(resource("bgpconfigurations", "default", r#"{"logSeverityScreen":"Debug"}"#));
    assert_eq!(map(&node_file("node-1"), &view("node-1", &entries)).config.log.level, "debug");
    // A per-node BGPConfiguration wins for its node only.
    entries.push(resource(
        "bgpconfigurations",
        "node.node-1",
        r#"{"logSeverityScreen":"Warning"}"#,
    ));
    assert_eq!(map(&node_file("node-1"), &view("node-1", &entries)).config.log.level, "warn");
    assert_eq!(map(&node_file("node-2"), &view("node-2", &entries)).config.log.level, "debug");
    // The file's log.level wins over the datastore.
    let mut file = node_file("node-1");
    file.log.level = "bgpd=trace,info".into();
    file.file_sets.log_level = true;
    assert_eq!(map(&file, &view("node-1", &entries)).config.log.level, "bgpd=trace,info");
    // A value Calico does not define is reported with its key and ignored.
    entries.push(resource("bgpconfigurations", "node.node-2", r#"{"logSeverityScreen":"Loud"}"#));
    let loud = map(&node_file("node-2"), &view("node-2", &entries));
    assert_eq!(loud.config.log.level, "debug", "the default BGPConfiguration's still applies");
    assert!(
        loud.problems.iter().any(|p| p.key == "bgpconfigurations/node.node-2"
            && p.message.contains("logSeverityScreen `Loud`")),
        "{:?}",
        loud.problems
    );
}

#[test]
fn service_ranges_from_bgpconfiguration_are_originated_exported_and_kept_out_of_the_kernel() {
    let mut entries = three_node_mesh();
    entries.push(resource(
        "bgpconfigurations",
        "default",
        r#"{"serviceClusterIPs":[{"cidr":"10.96.0.0/12"}],
            "serviceLoadBalancerIPs":[{"cidr":"198.18.200.0/24"},{"cidr":"224.0.0.0/24"}]}"#,
    ));
    let mapped = map(&node_file("node-1"), &view("node-1", &entries));
    let c = &mapped.config;
    let originated: Vec<String> = c.originate.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        originated,
        [
            "198.19.1.0/26",
            "198.19.1.64/26",
            "2001:db8:100:1::/122",
            "10.96.0.0/12",
            "198.18.200.0/24"
        ]
    );
    let excluded: Vec<String> = c.kernel.exclude.iter().map(|p| p.to_string()).collect();
    assert_eq!(excluded, ["198.18.32.0/19", "198.18.64.0/18", "10.96.0.0/12", "198.18.200.0/24"]);
    // The multicast range is refused with a problem naming the BGPConfiguration.
    assert_eq!(mapped.problems.len(), 1, "{:?}", mapped.problems);
    assert_eq!(mapped.problems[0].key, "bgpconfigurations/default");
    // Exported to every peer: what this node originates, not a /32 learned from another.
    let Policy::Rules(rules) = &neighbor(c, "198.18.0.2").export else { panic!("rules") };
    let accepts = |prefix: &str| {
        let prefix: ipnet::IpNet = prefix.parse().unwrap();
        rules.iter().find(|r| r.matches(&prefix)).is_some_and(|r| r.action == PolicyAction::Accept)
    };
    assert!(accepts("10.96.0.0/12") && accepts("198.18.200.0/24"));
    assert!(!accepts("198.18.200.10/32"), "another node's Local service");
    assert!(!accepts("203.0.113.0/24"));
}
