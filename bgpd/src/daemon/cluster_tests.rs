//! The daemon's side of a Kubernetes view: replaced whole, re-mapped only when it or a
//! Secret changed, and a changed Secret resets only the session that uses it.
use super::*;
use crate::config::NeighborConfig;

const RES: &str = "/calico/resources/v3/projectcalico.org";

fn file() -> Config {
    crate::config::parse(
        "node_name: node-1\nkernel: {enabled: false}\ndatastore:\n  kubernetes: {}\n",
        "bgpd.yaml",
    )
    .unwrap_or_else(|errors| panic!("{errors}"))
}

/// node-1 with two BGPPeers, one with a password from the Secret `bgp/tor`.
fn view(revision: i64) -> ClusterView {
    let layout = KeyLayout::new("/calico", "node-1");
    let mut view = ClusterView::default();
    let entries = [
        (
            "nodes/node-1",
            r#"{"metadata":{"name":"node-1"},"spec":{"bgp":{"ipv4Address":"198.18.0.1/24"}}}"#,
        ),
        (
            "bgpconfigurations/default",
            r#"{"metadata":{"name":"default"},"spec":{"asNumber":64512}}"#,
        ),
        (
            "bgppeers/tor",
            r#"{"metadata":{"name":"tor"},"spec":{"peerIP":"198.18.0.9","asNumber":65000,"password":{"secretKeyRef":{"name":"bgp","key":"tor"}}}}"#,
        ),
        (
            "bgppeers/other",
            r#"{"metadata":{"name":"other"},"spec":{"peerIP":"198.18.0.8","asNumber":65000}}"#,
        ),
    ];
    for (key, value) in entries {
        let change = Change::Put { key: format!("{RES}/{key}"), value: value.as_bytes().to_vec() };
        assert!(view.apply(&layout, &change), "{key}");
    }
    view.revision = revision;
    view
}

fn secrets(password: &str) -> SecretValues {
    SecretValues([(("bgp".to_string(), "tor".to_string()), password.to_string())].into())
}

fn cluster(state_dir: &std::path::Path) -> Cluster {
    let mut datastore = file().datastore.unwrap_or_else(|| panic!("a datastore"));
    datastore.state_dir = state_dir.to_path_buf();
    let (_tx, events) = mpsc::channel(1);
    Cluster {
        datastore,
        backend: Backend::Kubernetes { secrets: SecretValues::default() },
        source: "kubernetes test".to_string(),
        view: ClusterView::default(),
        status: DatastoreStatus::new("kubernetes", vec!["test".into()], String::new()),
        problems: Vec::new(),
        events,
        task: tokio::spawn(async {}),
        pending: None,
        unsaved: false,
    }
}

fn neighbor<'c>(config: &'c Config, address: &str) -> &'c NeighborConfig {
    let address = address.parse().unwrap_or_else(|e| panic!("{address}: {e}"));
    config.neighbor(address).unwrap_or_else(|| panic!("no neighbor {address}"))
}

#[tokio::test]
async fn a_kubernetes_view_is_replaced_and_a_changed_secret_resets_only_its_session() {
    let dir = std::env::temp_dir().join(format!("bgpd-cluster-view-{}", std::process::id()));
    let mut cluster = cluster(&dir);
    let file = file();
    cluster.take(DatastoreEvent::View { view: Box::new(view(100)), secrets: secrets("one") });
    assert!(cluster.pending.is_some(), "the first view is mapped");
    assert_eq!(cluster.status.view_source, ViewSource::Datastore);
    let first = cluster.map(&file);
    let tor = neighbor(&first, "198.18.0.9");
    assert_eq!(
        tor.password.as_ref().map(|p| p.expose()),
        Some("one"),
        "from the snapshot's Secrets"
    );
    cluster.save(&file.node_name);
    assert!(state::path(&dir).exists(), "saved like etcd's view");

    cluster.pending = None;
    cluster.take(DatastoreEvent::View { view: Box::new(view(101)), secrets: secrets("one") });
    assert!(cluster.pending.is_none(), "only the revision changed: nothing to apply");
    assert_eq!(cluster.view.revision, 101);

    cluster.take(DatastoreEvent::View { view: Box::new(view(102)), secrets: secrets("two") });
    assert!(cluster.pending.is_some(), "a changed Secret is mapped again");
    let second = cluster.map(&file);
    let diff = crate::config::ConfigDiff::between(&first, &second);
    let reset: Vec<_> = diff.neighbors_reset.iter().map(|change| change.address).collect();
    assert_eq!(reset, ["198.18.0.9".parse::<std::net::IpAddr>().unwrap_or_else(|e| panic!("{e}"))]);
    assert_eq!(diff.neighbors_reset[0].fields, vec!["password"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn etcd_events_are_ignored_by_a_kubernetes_cluster() {
    let dir = std::env::temp_dir().join(format!("bgpd-cluster-etcd-{}", std::process::id()));
    let mut cluster = cluster(&dir);
    let change = Change::Put { key: format!("{RES}/nodes/node-2"), value: b"{}".to_vec() };
    cluster.take(DatastoreEvent::Changes { changes: vec![change], revision: 5 });
    assert!(cluster.pending.is_none() && cluster.view.nodes.is_empty());
}
