//! What `bgpctl show datastore` shows: the connection, the view's revision and contents, and
//! every resource that could not be used.
use std::time::Instant;

use serde_json::{json, Value};

use super::view::{ClusterView, Kind};
use super::Problem;

/// Where the view in use came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewSource {
    /// Nothing yet: the file alone.
    None,
    /// The view saved by an earlier run (the datastore has not answered since the start).
    Saved,
    /// The datastore itself.
    Datastore,
}

/// The datastore connection's state, kept by the daemon from the client's events.
#[derive(Clone, Debug)]
pub struct DatastoreStatus {
    /// `etcd` or `kubernetes`.
    pub backend: &'static str,
    /// etcd's endpoints, or the Kubernetes API server's URL.
    pub endpoints: Vec<String>,
    /// etcd's key prefix; empty (shown as `null`) for Kubernetes.
    pub prefix: String,
    pub connected: bool,
    pub view_source: ViewSource,
    /// The last connection or watch error, with when it happened.
    pub last_error: Option<(String, Instant)>,
    pub connected_since: Option<Instant>,
    pub reconnects: u64,
    /// Batches of changes applied to the running configuration.
    pub applied: u64,
    pub last_applied: Option<Instant>,
}

impl DatastoreStatus {
    pub fn new(backend: &'static str, endpoints: Vec<String>, prefix: String) -> Self {
        DatastoreStatus {
            backend,
            endpoints,
            prefix,
            connected: false,
            view_source: ViewSource::None,
            last_error: None,
            connected_since: None,
            reconnects: 0,
            applied: 0,
            last_applied: None,
        }
    }

    /// The JSON answer of `show datastore`.
    pub fn to_json(&self, node_name: &str, view: &ClusterView, problems: &[Problem]) -> Value {
        let counts: serde_json::Map<String, Value> =
            Kind::ALL.iter().map(|k| (k.name().to_string(), json!(view.count(*k)))).collect();
        let ago = |t: &Instant| t.elapsed().as_secs();
        let mut skipped: Vec<Value> =
            view.bad.iter().map(|(key, message)| json!({ "key": key, "error": message })).collect();
        skipped.extend(problems.iter().map(|p| json!({ "key": p.key, "error": p.message })));
        json!({
            "backend": self.backend,
            "endpoints": self.endpoints,
            "prefix": (!self.prefix.is_empty()).then_some(&self.prefix),
            "node_name": node_name,
            "connected": self.connected,
            "connected_secs": self.connected_since.as_ref().map(ago),
            "view_source": match self.view_source {
                ViewSource::None => "none",
                ViewSource::Saved => "saved",
                ViewSource::Datastore => "datastore",
            },
            "revision": view.revision,
            "resources": counts,
            "reconnects": self.reconnects,
            "applied_batches": self.applied,
            "last_applied_secs": self.last_applied.as_ref().map(ago),
            "last_error": self.last_error.as_ref().map(|(e, _)| e),
            "last_error_secs": self.last_error.as_ref().map(|(_, t)| ago(t)),
            "problems": skipped,
        })
    }
}
