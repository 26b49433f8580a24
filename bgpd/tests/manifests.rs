//! The example manifests under `examples/kubernetes/` are checked without a cluster:
//! - every YAML document deserializes into its k8s-openapi type (by `kind`), and serializing
//!   it back gives the original: a field the type does not know (a misspelling, a field at
//!   the wrong level) is dropped on the way and reported by its path;
//! - RBAC rules only read (get/list/watch) and cover what the Kubernetes datastore watches;
//! - the DaemonSets (not the overlays' patches) run on the host network with liveness and readiness probes;
//! - every ConfigMap's `bgpd.yaml` passes bgpd's own validation (`bgpd --check`), with
//!   `node_name` as the DaemonSet gives it (`$NODENAME` in the pod; set in the file here).
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// One YAML document of one file, as JSON.
struct Document {
    origin: String,
    value: Value,
}

fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/kubernetes")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            out.push(path);
        }
    }
}

fn documents() -> Vec<Document> {
    let mut files = Vec::new();
    yaml_files(&manifests_dir(), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no YAML under {}", manifests_dir().display());
    let mut docs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable manifest");
        for (index, doc) in serde_yaml::Deserializer::from_str(&text).enumerate() {
            let origin = format!("{} (document {})", file.display(), index + 1);
            let yaml: serde_yaml::Value =
                serde::Deserialize::deserialize(doc).unwrap_or_else(|e| panic!("{origin}: {e}"));
            if yaml.is_null() {
                continue;
            }
            let value = serde_json::to_value(&yaml).unwrap_or_else(|e| panic!("{origin}: {e}"));
            docs.push(Document { origin, value });
        }
    }
    docs
}

fn kind(doc: &Document) -> &str {
    doc.value["kind"].as_str().unwrap_or_else(|| panic!("{}: no kind", doc.origin))
}

/// Deserializes `doc` as `T`, serializes it back and returns the typed object; panics naming
/// every path of the original that did not survive the round trip.
fn typed<T: DeserializeOwned + Serialize>(doc: &Document) -> T {
    let object: T = serde_json::from_value(doc.value.clone())
        .unwrap_or_else(|e| panic!("{}: not a valid {}: {e}", doc.origin, kind(doc)));
    let back = serde_json::to_value(&object).expect("k8s-openapi types serialize");
    let mut lost = Vec::new();
    compare(&doc.value, &back, String::new(), &mut lost);
    assert!(lost.is_empty(), "{}: fields lost or changed in {}: {lost:?}", doc.origin, kind(doc));
    object
}

/// Records in `lost` the path of every value of `original` that `back` lacks or changes.
fn compare(original: &Value, back: &Value, path: String, lost: &mut Vec<String>) {
    match (original, back) {
        (Value::Object(o), Value::Object(b)) => {
            for (key, value) in o {
                let at = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => compare(value, other, at, lost),
                    None => lost.push(at),
                }
            }
        }
        (Value::Array(o), Value::Array(b)) => {
            if o.len() != b.len() {
                lost.push(format!("{path} (length {} -> {})", o.len(), b.len()));
            }
            for (i, (value, other)) in o.iter().zip(b).enumerate() {
                compare(value, other, format!("{path}[{i}]"), lost);
            }
        }
        (Value::Number(o), Value::Number(b)) if o.as_f64() == b.as_f64() => {}
        (o, b) if o == b => {}
        _ => lost.push(format!("{path} ({original} -> {back})")),
    }
}

fn check_read_only(origin: &str, rules: &[PolicyRule]) {
    for rule in rules {
        for verb in &rule.verbs {
            assert!(
                ["get", "list", "watch"].contains(&verb.as_str()),
                "{origin}: verb `{verb}` on {:?}: bgpd only reads",
                rule.resources
            );
        }
    }
}

fn grants(rules: &[PolicyRule], group: &str, resource: &str) -> bool {
    rules.iter().any(|rule| {
        rule.api_groups.as_deref().unwrap_or_default().iter().any(|g| g == group)
            && rule.resources.as_deref().unwrap_or_default().iter().any(|r| r == resource)
            && ["get", "list", "watch"].iter().all(|v| rule.verbs.iter().any(|have| have == v))
    })
}

fn check_daemon_set(origin: &str, daemon_set: &DaemonSet) {
    let pod = daemon_set
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .unwrap_or_else(|| panic!("{origin}: DaemonSet without a pod spec"));
    assert_eq!(pod.host_network, Some(true), "{origin}: hostNetwork must be true");
    for container in &pod.containers {
        assert!(
            container.liveness_probe.is_some(),
            "{origin}: {} lacks a livenessProbe",
            container.name
        );
        assert!(
            container.readiness_probe.is_some(),
            "{origin}: {} lacks a readinessProbe",
            container.name
        );
    }
}

/// `bgpd.yaml` of a ConfigMap, with a `node_name` (in the pod it comes from `$NODENAME`).
fn check_bgpd_config(origin: &str, config_map: &ConfigMap) -> bool {
    let Some(text) = config_map.data.as_ref().and_then(|data| data.get("bgpd.yaml")) else {
        return false;
    };
    let rendered = format!("node_name: node-1\n{text}");
    if let Err(errors) = bgpd::config::parse(&rendered, origin) {
        panic!("{origin}: bgpd.yaml does not pass bgpd --check:\n{errors}");
    }
    true
}

#[test]
fn example_manifests_are_valid() {
    let mut cluster_role_rules = Vec::new();
    let (mut daemon_sets, mut bgpd_configs, mut roles) = (0, 0, 0);
    for doc in documents() {
        let origin = doc.origin.as_str();
        match kind(&doc) {
            "Kustomization" => {
                let api = doc.value["apiVersion"].as_str().unwrap_or_default();
                assert!(api.starts_with("kustomize.config.k8s.io/"), "{origin}: apiVersion {api}");
            }
            "ServiceAccount" => {
                let _: ServiceAccount = typed(&doc);
            }
            "Service" => {
                let _: Service = typed(&doc);
            }
            "ClusterRoleBinding" => {
                let _: ClusterRoleBinding = typed(&doc);
            }
            "RoleBinding" => {
                let _: RoleBinding = typed(&doc);
            }
            "ClusterRole" => {
                let rules = typed::<ClusterRole>(&doc).rules.unwrap_or_default();
                check_read_only(origin, &rules);
                cluster_role_rules.extend(rules);
            }
            "Role" => {
                let rules = typed::<Role>(&doc).rules.unwrap_or_default();
                check_read_only(origin, &rules);
                assert!(grants(&rules, "", "secrets"), "{origin}: no read access to secrets");
                roles += 1;
            }
            "ConfigMap" => bgpd_configs += usize::from(check_bgpd_config(origin, &typed(&doc))),
            // Overlay patches are partial objects: only the round trip applies to them.
            "DaemonSet" if origin.contains("/overlays/") => {
                let _: DaemonSet = typed(&doc);
            }
            "DaemonSet" => {
                check_daemon_set(origin, &typed(&doc));
                daemon_sets += 1;
            }
            other => panic!("{origin}: kind {other} is not checked by this test: add it"),
        }
    }
    for (group, resource) in [
        ("", "nodes"),
        ("", "services"),
        ("discovery.k8s.io", "endpointslices"),
        ("crd.projectcalico.org", "bgpconfigurations"),
        ("crd.projectcalico.org", "bgppeers"),
        ("crd.projectcalico.org", "ippools"),
        ("crd.projectcalico.org", "blockaffinities"),
        ("crd.projectcalico.org", "bgpfilters"),
    ] {
        assert!(
            grants(&cluster_role_rules, group, resource),
            "no ClusterRole grants get/list/watch on {group}/{resource}"
        );
    }
    assert!(roles >= 1, "no Role for the Secrets");
    assert!(daemon_sets >= 2, "expected the Kubernetes and the etcd DaemonSets");
    assert!(bgpd_configs >= 2, "expected bgpd.yaml in the base and the Calico overlay");
}

#[test]
fn round_trip_reports_a_misspelled_field() {
    let doc = Document {
        origin: "inline".into(),
        value: serde_json::json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
            "spec": {"clusterIp": "None"}
        }),
    };
    let result = std::panic::catch_unwind(|| {
        let _: Service = typed(&doc);
    });
    let message = result.err().and_then(|e| e.downcast::<String>().ok()).expect("a panic");
    assert!(message.contains(".spec.clusterIp"), "{message}");
}
