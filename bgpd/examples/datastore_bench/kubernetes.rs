//! The Kubernetes datastore's part of `datastore_bench`: N plain v1 Nodes (dual-stack Pod
//! CIDRs, InternalIPs, two labelled route reflectors), 300 Services in the cluster IP range
//! (every third a LoadBalancer with `externalTrafficPolicy: Local`) and one EndpointSlice
//! each, as the API server lists them (JSON decoded into k8s-openapi objects, as `kube`
//! does); then the state, the view and the mapping for a reflector, and one EndpointSlice
//! change to the new configuration and its diff.
use std::sync::atomic::Ordering;
use std::time::Instant;

use bgpd::config::{self, ConfigDiff, KubernetesConfig};
use bgpd::datastore::kubernetes::{KubeKind, KubeObject, KubeState};
use bgpd::datastore::{self, ClusterView};
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::{median, ms, time, LIVE};

const SERVICES: usize = 300;
const RR_LABEL: &str = "route-reflector";

fn node_json(i: usize) -> String {
    let name = format!("node-{i:04}");
    let rr = if i < 2 { format!(r#","{RR_LABEL}":"true""#) } else { String::new() };
    let (v4, v6) = (crate::node_address(i), format!("2001:db8::{:x}", i + 1));
    let (pod4, pod6) =
        (format!("198.19.{}.{}/26", i / 4, (i % 4) * 64), format!("2001:db8:244:{i:x}::/64"));
    format!(
        r#"{{"apiVersion":"v1","kind":"Node","metadata":{{"name":"{name}","uid":"{i:08x}-0000-4000-8000-000000000000","resourceVersion":"{rv}","creationTimestamp":"2026-01-01T00:00:00Z","labels":{{"kubernetes.io/hostname":"{name}","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64"{rr}}},"annotations":{{"node.alpha.kubernetes.io/ttl":"0","volumes.kubernetes.io/controller-managed-attach-detach":"true"}}}},"spec":{{"podCIDR":"{pod4}","podCIDRs":["{pod4}","{pod6}"]}},"status":{{"addresses":[{{"address":"{v4}","type":"InternalIP"}},{{"address":"{v6}","type":"InternalIP"}},{{"address":"{name}","type":"Hostname"}}],"capacity":{{"cpu":"4","memory":"8139020Ki","pods":"110"}},"conditions":[{{"type":"Ready","status":"True","reason":"KubeletReady","lastHeartbeatTime":"2026-12-08T02:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"}}],"nodeInfo":{{"architecture":"amd64","bootID":"b","containerRuntimeVersion":"containerd://1.7.24","kernelVersion":"6.1.0","kubeProxyVersion":"v1.33.2","kubeletVersion":"v1.33.2","machineID":"m","operatingSystem":"linux","osImage":"Debian GNU/Linux 12","systemUUID":"s"}}}}}}"#,
        rv = 1000 + i
    )
}

fn local(j: usize) -> bool {
    j.is_multiple_of(3)
}

fn service_json(j: usize) -> String {
    let cluster_ip = format!("10.96.{}.{}", j / 250, 1 + j % 250);
    let (kind, policy, status) = if local(j) {
        (
            "LoadBalancer",
            r#","externalTrafficPolicy":"Local""#,
            format!(
                r#"{{"loadBalancer":{{"ingress":[{{"ip":"198.18.200.{}","ipMode":"VIP"}}]}}}}"#,
                1 + j / 3
            ),
        )
    } else {
        ("ClusterIP", "", "{}".to_string())
    };
    format!(
        r#"{{"apiVersion":"v1","kind":"Service","metadata":{{"name":"svc-{j:03}","namespace":"bench","uid":"{j:08x}-1111-4000-8000-000000000000","resourceVersion":"{rv}"}},"spec":{{"type":"{kind}","clusterIP":"{cluster_ip}","clusterIPs":["{cluster_ip}"],"internalTrafficPolicy":"Cluster","ipFamilies":["IPv4"],"ports":[{{"port":80,"protocol":"TCP","targetPort":8080}}],"selector":{{"app":"svc-{j:03}"}}{policy}}},"status":{status}}}"#,
        rv = 5000 + j
    )
}

/// Three ready endpoints on nodes spread over the cluster; `first_on` moves the first one.
fn slice_json(j: usize, nodes: usize, first_on: Option<usize>) -> String {
    let hosts =
        [first_on.unwrap_or((j * 7 + 3) % nodes), (j * 13 + 5) % nodes, (j * 31 + 7) % nodes];
    let endpoints: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(k, host)| {
            format!(
                r#"{{"addresses":["198.19.{}.{}"],"conditions":{{"ready":true,"serving":true,"terminating":false}},"nodeName":"node-{host:04}","targetRef":{{"kind":"Pod","name":"svc-{j:03}-{k}","namespace":"bench"}}}}"#,
                host / 4,
                (host % 4) * 64 + 1 + k
            )
        })
        .collect();
    format!(
        r#"{{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","addressType":"IPv4","metadata":{{"name":"svc-{j:03}-abcde","namespace":"bench","labels":{{"kubernetes.io/service-name":"svc-{j:03}","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"}}}},"endpoints":[{}],"ports":[{{"port":8080,"protocol":"TCP"}}]}}"#,
        endpoints.join(",")
    )
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> T {
    serde_json::from_str(text).expect("bench object")
}

fn slice_object(j: usize, nodes: usize, first_on: Option<usize>) -> KubeObject {
    KubeObject::EndpointSlice(Box::new(decode::<EndpointSlice>(&slice_json(j, nodes, first_on))))
}

/// Runs the Kubernetes scenario for `nodes` nodes and prints the figures.
pub fn run(nodes: usize) {
    let texts: Vec<(KubeKind, Vec<String>)> = vec![
        (KubeKind::Nodes, (0..nodes).map(node_json).collect()),
        (KubeKind::Services, (0..SERVICES).map(service_json).collect()),
        (KubeKind::EndpointSlices, (0..SERVICES).map(|j| slice_json(j, nodes, None)).collect()),
    ];
    let bytes_in: usize = texts.iter().flat_map(|(_, t)| t).map(String::len).sum();
    // The listings are consumed by the state: its heap is what is live after it minus what
    // was live before the objects were decoded.
    let before = LIVE.load(Ordering::Relaxed);
    let start = Instant::now();
    let listings: Vec<(KubeKind, Vec<KubeObject>)> = texts
        .iter()
        .map(|(kind, list)| {
            let objects = list.iter().map(|text| match kind {
                KubeKind::Nodes => KubeObject::Node(Box::new(decode::<Node>(text))),
                KubeKind::Services => KubeObject::Service(Box::new(decode::<Service>(text))),
                _ => KubeObject::EndpointSlice(Box::new(decode::<EndpointSlice>(text))),
            });
            (*kind, objects.collect())
        })
        .collect();
    let decoding = start.elapsed();

    let options = KubernetesConfig {
        route_reflector_label: Some(RR_LABEL.into()),
        service_cluster_ips: vec!["10.96.0.0/12".parse().expect("CIDR")],
        service_load_balancer_ips: vec!["198.18.200.0/24".parse().expect("CIDR")],
        ..KubernetesConfig::default()
    };
    let start = Instant::now();
    let mut state = KubeState::new("node-0000", &options);
    for (kind, objects) in listings {
        state.replace(kind, objects);
    }
    let filling = start.elapsed();
    let state_bytes = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    let before = LIVE.load(Ordering::Relaxed);
    let view: ClusterView = state.view();
    let view_bytes = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    assert!(view.bad.is_empty(), "{:?}", view.bad);
    let saved = serde_json::to_vec(&view).map_or(0, |v| v.len());

    let file = |node: &str| {
        let text = format!("node_name: {node}\ndatastore: {{kubernetes: {{}}}}\n");
        config::parse(&text, "bench.yaml").expect("bench config")
    };
    let (rr, client) = (file("node-0000"), file("node-0500"));
    let secrets = state.secrets();
    let start = Instant::now();
    let rr_config = datastore::build(&rr, &state.view(), &secrets).config;
    let first_config = start.elapsed();
    let view_time = time(21, || state.view());
    let map_rr = time(21, || datastore::build(&rr, &view, &secrets));
    let client_config = datastore::build(&client, &view, &secrets).config;
    let map_client = time(21, || datastore::build(&client, &view, &secrets));

    // svc-003 (Local) gets a ready endpoint on this node: its LB and cluster IP /32s appear in
    // the diff.
    let mut changes = Vec::new();
    for _ in 0..21 {
        let (moved, back) = (slice_object(3, nodes, Some(0)), slice_object(3, nodes, None));
        let start = Instant::now();
        state.apply(moved);
        let new = datastore::build(&rr, &state.view(), &secrets).config;
        let diff = ConfigDiff::between(&rr_config, &new);
        changes.push(start.elapsed());
        assert_eq!(diff.originate_added.len(), 2, "{:?}", diff.originate_added);
        state.apply(back);
    }
    let locals = (0..SERVICES).filter(|j| local(*j)).count();

    println!();
    println!("kubernetes: {nodes} Nodes (dual-stack podCIDRs, 2 labelled route reflectors), {SERVICES} Services ({locals} LoadBalancer ETP Local) + slices; {bytes_in} bytes of JSON listed");
    println!("decode JSON into objects:  {:.1} ms (the client's part)", ms(decoding));
    println!("state from the listings:   {:.1} ms", ms(filling));
    println!("first view + mapping (RR): {:.1} ms", ms(first_config));
    println!("start to config (total):   {:.1} ms", ms(decoding + filling + first_config));
    println!(
        "state heap:                {:.2} MiB; a view() copy {:.2} MiB; saved view {:.2} MiB",
        mib(state_bytes),
        mib(view_bytes),
        mib(saved)
    );
    println!("view():                    {:.2} ms", ms(view_time));
    println!(
        "mapping, route reflector:  {:.2} ms ({} sessions, {} originated)",
        ms(map_rr),
        rr_config.neighbors.len(),
        rr_config.originate.len()
    );
    println!(
        "mapping, client:           {:.2} ms ({} sessions)",
        ms(map_client),
        client_config.neighbors.len()
    );
    println!(
        "EndpointSlice -> diff:     {:.2} ms (apply + view + mapping + diff, median of 21)",
        ms(median(changes))
    );
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / 1048576.0
}
