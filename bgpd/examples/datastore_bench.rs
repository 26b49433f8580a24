//! Benchmark of the datastore layer without I/O: a cluster of N nodes (default 1000) as
//! calicoctl stores it in etcd (N nodes, one block per node, 2 route reflectors, 5
//! BGPPeers, 2 IP pools), fed to the view as etcd listing entries; then the mapping for a
//! route reflector and for a client, and one node added.
//!
//!   cargo run --release -p bgpd --example datastore_bench [-- NODES]
//!
//! Prints the view's heap size (a counting allocator: bytes live after building it minus
//! before), the time to build the view and each mapping (median of 21 runs), and the time
//! from one node's Put to the diff a reflector applies.
//!
//! Then the Kubernetes datastore (`datastore_bench/kubernetes.rs`): N plain v1 Nodes with dual-stack
//! Pod CIDRs, 300 Services (every third a LoadBalancer with `externalTrafficPolicy: Local`)
//! with their EndpointSlices, route reflector label mode.
#![allow(unsafe_code)] // the counting global allocator
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bgpd::config::{self, ConfigDiff};
use bgpd::datastore::{self, Change, ClusterView, KeyLayout, Kind, Secrets};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to the system allocator with the caller's arguments; only
// a byte counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's pointer and layout, as GlobalAlloc requires.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's pointer and layout, as GlobalAlloc requires.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

struct NoSecrets;
impl Secrets for NoSecrets {
    fn read(&self, name: &str, key: &str) -> Result<String, String> {
        Err(format!("no secret {name}/{key}"))
    }
}

const RES: &str = "/calico/resources/v3/projectcalico.org";

fn node_address(i: usize) -> String {
    format!("198.18.{}.{}", 10 + i / 250, 1 + i % 250)
}

fn node(i: usize) -> Change {
    let rr = i < 2;
    let (labels, cluster) = if rr {
        (
            r#""route-reflector":"true","kubernetes.io/os":"linux""#,
            r#","routeReflectorClusterID":"224.0.0.1""#,
        )
    } else {
        (r#""kubernetes.io/os":"linux""#, "")
    };
    let name = format!("node-{i:04}");
    let value = format!(
        r#"{{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{{"name":"{name}","uid":"{i:08x}-0000-4000-8000-000000000000","creationTimestamp":"2026-01-01T00:00:00Z","labels":{{{labels},"kubernetes.io/hostname":"{name}"}}}},"spec":{{"bgp":{{"ipv4Address":"{}/16"{cluster}}},"orchRefs":[{{"nodeName":"{name}","orchestrator":"k8s"}}]}}}}"#,
        node_address(i)
    );
    Change::Put { key: format!("{RES}/nodes/{name}"), value: value.into_bytes() }
}

fn resource(plural: &str, name: &str, spec: &str) -> Change {
    let value = format!(r#"{{"metadata":{{"name":"{name}"}},"spec":{spec}}}"#);
    Change::Put { key: format!("{RES}/{plural}/{name}"), value: value.into_bytes() }
}

fn listing(nodes: usize) -> Vec<(Kind, Vec<Change>)> {
    let peers = vec![
        resource(
            "bgppeers",
            "peer-with-rrs",
            r#"{"nodeSelector":"all()","peerSelector":"has(route-reflector)"}"#,
        ),
        resource(
            "bgppeers",
            "tor-a",
            r#"{"nodeSelector":"rack == 'a'","peerIP":"198.18.0.254","asNumber":65000}"#,
        ),
        resource(
            "bgppeers",
            "tor-b",
            r#"{"nodeSelector":"rack == 'b'","peerIP":"198.18.0.253","asNumber":65000}"#,
        ),
        resource(
            "bgppeers",
            "edge",
            r#"{"node":"node-0000","peerIP":"198.18.0.252","asNumber":65010}"#,
        ),
        resource(
            "bgppeers",
            "monitor",
            r#"{"nodeSelector":"has(monitor)","peerIP":"198.18.0.251","asNumber":65020}"#,
        ),
    ];
    let config = vec![resource(
        "bgpconfigurations",
        "default",
        r#"{"nodeToNodeMeshEnabled":false,"asNumber":64512}"#,
    )];
    let pools = vec![
        resource(
            "ippools",
            "v4",
            r#"{"cidr":"198.19.0.0/16","ipipMode":"Never","vxlanMode":"Never"}"#,
        ),
        resource("ippools", "v4-b", r#"{"cidr":"198.18.128.0/17","disableBGPExport":true}"#),
    ];
    // Each node reads only its own affinities: node-0000's one block.
    let blocks = vec![Change::Put {
        key: "/calico/ipam/v2/host/node-0000/ipv4/block/198.19.0.0-26".into(),
        value: br#"{"state":"confirmed","deleted":false}"#.to_vec(),
    }];
    vec![
        (Kind::Nodes, (0..nodes).map(node).collect()),
        (Kind::BgpConfigurations, config),
        (Kind::BgpPeers, peers),
        (Kind::IpPools, pools),
        (Kind::Blocks, blocks),
    ]
}

fn file(node: &str) -> config::Config {
    let text = format!(
        "node_name: {node}\ndatastore: {{etcd: {{endpoints: [\"http://198.18.0.250:2379\"]}}}}\n"
    );
    config::parse(&text, "bench.yaml").expect("bench config")
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let nodes: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let layout = KeyLayout::new("/calico", "node-0000");
    let input = listing(nodes);
    let bytes_in: usize = input
        .iter()
        .flat_map(|(_, e)| e)
        .map(|c| match c {
            Change::Put { key, value } => key.len() + value.len(),
            Change::Delete { key } => key.len(),
        })
        .sum();

    let before = LIVE.load(Ordering::Relaxed);
    let mut view = ClusterView::default();
    let start = Instant::now();
    for (kind, entries) in &input {
        view.replace_kind(&layout, *kind, entries);
    }
    let build_view = start.elapsed();
    let view_bytes = LIVE.load(Ordering::Relaxed) - before;
    assert!(view.bad.is_empty(), "{:?}", view.bad);

    let rr = file("node-0000");
    let client = file("node-0500");
    let rr_config = datastore::build(&rr, &view, &NoSecrets).config;
    let client_config = datastore::build(&client, &view, &NoSecrets).config;
    let map_rr = time(21, || datastore::build(&rr, &view, &NoSecrets));
    let map_client = time(21, || datastore::build(&client, &view, &NoSecrets));
    let view_again = time(5, || {
        let mut v = ClusterView::default();
        for (kind, entries) in &input {
            v.replace_kind(&layout, *kind, entries);
        }
        v
    });

    // One node joins: Put, rebuild, diff (what the daemon does before dialling).
    let joining = node(nodes);
    let mut joins = Vec::new();
    for _ in 0..21 {
        let mut v = view.clone();
        let start = Instant::now();
        v.apply(&layout, &joining);
        let new = datastore::build(&rr, &v, &NoSecrets).config;
        let diff = ConfigDiff::between(&rr_config, &new);
        joins.push(start.elapsed());
        assert_eq!(diff.neighbors_added.len(), 1);
    }

    println!("cluster: {nodes} nodes, 2 route reflectors, 5 BGPPeers, 2 pools; {bytes_in} bytes of JSON listed");
    println!(
        "view heap:                 {:.2} MiB ({} bytes/node)",
        view_bytes as f64 / 1048576.0,
        view_bytes / nodes.max(1)
    );
    println!(
        "view from the listing:     {:.1} ms (first), {:.1} ms (median of 5)",
        ms(build_view),
        ms(view_again)
    );
    println!(
        "mapping, route reflector:  {:.2} ms ({} sessions)",
        ms(map_rr),
        rr_config.neighbors.len()
    );
    println!(
        "mapping, client:           {:.2} ms ({} sessions)",
        ms(map_client),
        client_config.neighbors.len()
    );
    println!(
        "node added -> diff at RR:  {:.2} ms (Put + mapping + diff, median of 21)",
        ms(median(joins))
    );
    kubernetes_bench::run(nodes);
}

#[path = "datastore_bench/kubernetes.rs"]
mod kubernetes_bench;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
