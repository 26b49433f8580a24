//! What a datastore client (an I/O edge: `etcd.rs`, `kubernetes/client.rs`) tells the
//! daemon (`daemon/cluster.rs`).
use std::time::Duration;

use super::kubernetes::secrets::SecretValues;
use super::view::{Change, ClusterView, Kind};

/// One message from a datastore client to the daemon.
#[derive(Debug)]
pub enum DatastoreEvent {
    /// The datastore answers (again); `endpoint` names it for `bgpctl show datastore`.
    Connected { endpoint: String },
    /// The connection or a watch failed; the client retries, first after `retry_in`.
    Disconnected { error: String, retry_in: Duration },
    /// etcd: a complete listing of every kind at `revision` (one consistent snapshot,
    /// applied as one batch): replaces what the view had.
    Listing { kinds: Vec<(Kind, Vec<Change>)>, revision: i64 },
    /// etcd: changes seen by the watches, in order, up to `revision`.
    Changes { changes: Vec<Change>, revision: i64 },
    /// Kubernetes: the whole view (every watched kind listed; `view.revision` set by the
    /// client) and the Secrets' values; replaces the view and the secrets.
    View { view: Box<ClusterView>, secrets: SecretValues },
}
