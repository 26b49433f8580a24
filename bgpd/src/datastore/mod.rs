//! The cluster datastore: bgpd configures itself from Calico's resources, as confd does for
//! BIRD (docs/datastore.md).
//!
//! ```text
//!  etcd (list + watch) --Change--> ClusterView --mapping::build(file, view)--> Config
//!   etcd.rs (I/O edge)            view.rs          mapping.rs, peers.rs,          |
//!                                 (sans-IO)        export_filter.rs (sans-IO)     v
//!                                                              ConfigDiff -> Daemon::apply
//! ```
//! Everything but `etcd.rs` and `state.rs` is sans-IO: the view is changed by `Change`s (any
//! datastore can produce them: the Kubernetes one will feed the same view), and the
//! mapping is a pure function tested on JSON fixtures. A datastore change is applied
//! through the same diff as `bgpctl reload`, so sessions that did not change keep running.
pub mod etcd;
pub mod event;
mod export_filter;
pub mod kubernetes;
pub mod mapping;
mod nodes;
mod peers;
pub mod resources;
pub mod selector;
pub mod service_routes;
pub mod state;
pub mod status;
pub mod view;

#[cfg(test)]
mod mapping_tests;

use std::fmt;
use std::path::PathBuf;

pub use event::DatastoreEvent;
pub use mapping::{build, Mapped};
pub use view::{Change, ClusterView, KeyLayout, Kind};

/// Something in the view that could not be used, naming its resource (`nodes/node-1`,
/// `bgppeers/tor`) or key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl Problem {
    pub fn new(key: &str, message: String) -> Self {
        Problem { key: key.to_string(), message }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Where BGPPeer passwords (`password.secretKeyRef`) come from.
pub trait Secrets {
    /// The value of `key` in the Secret `name`, or why it cannot be read.
    fn read(&self, name: &str, key: &str) -> Result<String, String>;
}

/// Secrets mounted the way Kubernetes mounts them: `<dir>/<secret name>/<key>`.
pub struct SecretsDir(pub PathBuf);

impl Secrets for SecretsDir {
    fn read(&self, name: &str, key: &str) -> Result<String, String> {
        let safe =
            |part: &str| !part.is_empty() && !part.contains('/') && part != ".." && part != ".";
        if !safe(name) || !safe(key) {
            return Err(format!("secret name `{name}` / key `{key}` is not a plain name"));
        }
        let path = self.0.join(name).join(key);
        std::fs::read_to_string(&path)
            .map(|text| text.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|error| format!("cannot read {}: {error}", path.display()))
    }
}
