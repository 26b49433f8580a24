//! The fold on a recording store: listings buffered until `InitDone`, no snapshot before
//! every kind is listed, one after each change, none without.
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::runtime::watcher::Event;

use super::*;

/// Keeps Node names (shown as `view.nodes`) and Secrets, and records each call.
#[derive(Default)]
struct Recorder {
    nodes: BTreeMap<String, String>,
    secrets: SecretValues,
    calls: Vec<String>,
}

fn name_and_version(object: &KubeObject) -> (String, String) {
    match object {
        KubeObject::Node(node) => (
            node.metadata.name.clone().unwrap_or_default(),
            node.metadata.resource_version.clone().unwrap_or_default(),
        ),
        other => (format!("{other:?}"), String::new()),
    }
}

impl Store for Recorder {
    fn apply(&mut self, object: KubeObject) -> bool {
        if let KubeObject::Secret(secret) = &object {
            let name = secret.metadata.name.clone().unwrap_or_default();
            for (key, value) in secret.data.iter().flatten() {
                let text = String::from_utf8_lossy(&value.0).into_owned();
                self.secrets.0.insert((name.clone(), key.clone()), text);
            }
            self.calls.push(format!("apply secret {name}"));
            return false; // a state that does not count Secrets as view changes
        }
        let (name, version) = name_and_version(&object);
        self.calls.push(format!("apply {name}"));
        self.nodes.insert(name, version.clone()) != Some(version)
    }
    fn delete(&mut self, object: &KubeObject) -> bool {
        let (name, _) = name_and_version(object);
        self.calls.push(format!("delete {name}"));
        self.nodes.remove(&name).is_some()
    }
    fn replace(&mut self, kind: KubeKind, objects: Vec<KubeObject>) -> bool {
        let names: Vec<String> = objects.iter().map(|o| name_and_version(o).0).collect();
        self.calls.push(format!("replace {} {names:?}", kind.plural()));
        if kind != KubeKind::Nodes {
            return false;
        }
        let new: BTreeMap<String, String> = objects.iter().map(name_and_version).collect();
        let changed = new != self.nodes;
        self.nodes = new;
        changed
    }
    fn view(&self) -> ClusterView {
        let mut view = ClusterView::default();
        for name in self.nodes.keys() {
            view.nodes.insert(name.clone(), Default::default());
        }
        view
    }
    fn secrets(&self) -> SecretValues {
        self.secrets.clone()
    }
}

fn node(name: &str, version: &str) -> KubeObject {
    KubeObject::Node(Box::new(Node {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            resource_version: Some(version.to_string()),
            ..ObjectMeta::default()
        },
        ..Node::default()
    }))
}

fn secret(name: &str, key: &str, value: &str) -> KubeObject {
    KubeObject::Secret(Box::new(Secret {
        metadata: ObjectMeta { name: Some(name.to_string()), ..ObjectMeta::default() },
        data: Some([(key.to_string(), ByteString(value.as_bytes().to_vec()))].into()),
        ..Secret::default()
    }))
}

fn node_names(view: &ClusterView) -> Vec<&str> {
    view.nodes.keys().map(String::as_str).collect()
}

/// A plain-cluster fold with every kind but the Nodes listed (empty).
fn listed_but_nodes() -> WatchFold<Recorder> {
    let mut fold = WatchFold::new(Recorder::default(), &watched_kinds(&[]));
    for kind in [KubeKind::Services, KubeKind::EndpointSlices, KubeKind::Secrets] {
        fold.event(kind, Event::Init);
        assert_eq!(fold.event(kind, Event::InitDone), Some(0));
    }
    fold
}

#[test]
fn the_watched_kinds_follow_the_mode() {
    assert_eq!(watched_kinds(&[]).len(), 4);
    let calico = watched_kinds(&KubeKind::CALICO);
    assert!(KubeKind::CALICO.iter().all(|kind| calico.contains(kind)), "{calico:?}");
    assert!(calico.contains(&KubeKind::Secrets) && calico.contains(&KubeKind::Nodes));
    let some = watched_kinds(&[KubeKind::BgpPeers, KubeKind::Secrets]);
    assert_eq!(some.len(), 5, "only the Calico kinds served are added: {some:?}");
}

#[test]
fn a_listing_is_buffered_and_replaces_the_kind_at_init_done() {
    let mut fold = listed_but_nodes();
    fold.event(KubeKind::Nodes, Event::Init);
    fold.event(KubeKind::Nodes, Event::InitApply(node("node-1", "10")));
    fold.event(KubeKind::Nodes, Event::InitApply(node("node-2", "12")));
    assert!(fold.snapshot().is_none(), "the Nodes are not listed yet: never half a cluster");
    assert_eq!(fold.store.calls.iter().filter(|c| c.contains("node-")).count(), 0);
    assert_eq!(fold.event(KubeKind::Nodes, Event::InitDone), Some(2));
    assert!(fold.complete());
    let (view, _) = fold.snapshot().expect("complete: the first snapshot");
    assert_eq!(node_names(&view), ["node-1", "node-2"]);
    assert_eq!(view.revision, 12, "the highest resourceVersion seen");
    assert!(fold.snapshot().is_none(), "nothing changed since");
    // A re-list (after 410 Gone) drops what is gone, in one replace.
    fold.event(KubeKind::Nodes, Event::Init);
    fold.event(KubeKind::Nodes, Event::InitApply(node("node-2", "20")));
    assert!(fold.snapshot().is_none(), "the old listing stays until the new one is done");
    fold.event(KubeKind::Nodes, Event::InitDone);
    assert_eq!(fold.store.calls.last().map(String::as_str), Some("replace nodes [\"node-2\"]"));
    let (view, _) = fold.snapshot().expect("the re-list changed the view");
    assert_eq!((node_names(&view), view.revision), (vec!["node-2"], 20));
}

#[test]
fn changes_after_the_listing_send_a_snapshot_only_when_the_view_changed() {
    let mut fold = listed_but_nodes();
    fold.event(KubeKind::Nodes, Event::Init);
    fold.event(KubeKind::Nodes, Event::InitDone);
    let (view, _) = fold.snapshot().expect("an empty cluster is a complete one");
    assert!(view.nodes.is_empty());
    assert_eq!(view.revision, 1, "no resourceVersion seen: the snapshot count");
    fold.event(KubeKind::Nodes, Event::Apply(node("node-3", "30")));
    fold.event(KubeKind::Nodes, Event::Apply(node("node-4", "31")));
    let (view, _) = fold.snapshot().expect("two nodes added");
    assert_eq!((node_names(&view), view.revision), (vec!["node-3", "node-4"], 31));
    fold.event(KubeKind::Nodes, Event::Apply(node("node-3", "30")));
    assert!(fold.snapshot().is_none(), "the same object again changes nothing");
    fold.event(KubeKind::Nodes, Event::Delete(node("node-3", "32")));
    let (view, _) = fold.snapshot().expect("a node deleted");
    assert_eq!((node_names(&view), view.revision), (vec!["node-4"], 32));
}

#[test]
fn a_changed_secret_sends_a_snapshot_even_when_the_view_did_not_change() {
    let mut fold = listed_but_nodes();
    fold.event(KubeKind::Nodes, Event::Init);
    fold.event(KubeKind::Nodes, Event::InitDone);
    let (_, secrets) = fold.snapshot().expect("first snapshot");
    assert_eq!(secrets, SecretValues::default());
    fold.event(KubeKind::Secrets, Event::Apply(secret("bgp", "password", "s3cret")));
    let (_, secrets) = fold.snapshot().expect("a Secret changed");
    let key = ("bgp".to_string(), "password".to_string());
    assert_eq!(secrets.0.get(&key).map(String::as_str), Some("s3cret"));
    fold.event(KubeKind::Secrets, Event::Apply(secret("bgp", "password", "s3cret")));
    assert!(fold.snapshot().is_none(), "the same value again");
}

#[test]
fn a_forbidden_kind_given_up_completes_the_listing_and_events_of_unwatched_kinds_are_ignored() {
    let mut fold = WatchFold::new(Recorder::default(), &watched_kinds(&[]));
    for kind in [KubeKind::Nodes, KubeKind::Services, KubeKind::EndpointSlices] {
        fold.event(kind, Event::Init);
        fold.event(kind, Event::InitDone);
    }
    assert!(fold.snapshot().is_none(), "the Secrets are not listed");
    fold.give_up(KubeKind::Secrets);
    assert!(fold.snapshot().is_some(), "sessions without passwords beat no sessions");
    let calls = fold.store.calls.len();
    assert_eq!(fold.event(KubeKind::BgpPeers, Event::InitDone), None, "not watched in plain mode");
    assert_eq!(fold.store.calls.len(), calls);
}

#[test]
fn numeric_resource_versions_are_read_from_every_kind() {
    assert_eq!(resource_version(&node("n", "4711")), Some(4711));
    assert_eq!(resource_version(&node("n", "opaque-v1")), None);
    let calico = KubeObject::Calico(
        KubeKind::BgpPeers,
        serde_json::json!({"metadata": {"name": "tor", "resourceVersion": "99"}}),
    );
    assert_eq!(resource_version(&calico), Some(99));
}
