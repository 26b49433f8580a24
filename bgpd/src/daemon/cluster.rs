//! The daemon's side of the cluster datastore: keeps the view from the client's events,
//! batches bursts of changes, and applies each batch through the reload diff.
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::Daemon;
use crate::config::{Config, DatastoreBackend, DatastoreConfig};
use crate::datastore::kubernetes::{self, secrets::SecretValues};
use crate::datastore::status::{DatastoreStatus, ViewSource};
use crate::datastore::DatastoreEvent;
use crate::datastore::{self, etcd, state, Change, ClusterView, KeyLayout, Problem, SecretsDir};

/// Changes are applied once the datastore has been quiet this long (etcd delivers a burst,
/// such as a rolling upgrade's node updates, a few milliseconds apart) ...
const QUIET: Duration = Duration::from_millis(20);
/// ... or this long after the first change of a burst, whichever comes first.
const MAX_DELAY: Duration = Duration::from_millis(500);
/// Sessions a datastore change adds dial after this (BIRD's `connect delay time`, which
/// Calico sets to 2 s).
const FIRST_DIAL_DELAY: Duration = Duration::from_millis(300);

/// What differs between the backends on the daemon's side.
enum Backend {
    /// etcd sends key changes, read through the layout; passwords come from `secrets_dir`.
    Etcd { layout: KeyLayout },
    /// Kubernetes sends whole views, with the Secrets' values (never saved).
    Kubernetes { secrets: SecretValues },
}

/// The datastore connection, the view, and what is waiting to be applied.
pub struct Cluster {
    datastore: DatastoreConfig,
    backend: Backend,
    /// Names the datastore in the saved view, so that another cluster's view is never used.
    source: String,
    pub view: ClusterView,
    pub status: DatastoreStatus,
    /// The problems of the last mapping, so that only new ones are logged.
    pub problems: Vec<Problem>,
    events: mpsc::Receiver<DatastoreEvent>,
    task: JoinHandle<()>,
    /// The first and the latest change not applied yet.
    pending: Option<(Instant, Instant)>,
    /// The view changed since it was last saved.
    unsaved: bool,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Names the datastore in the saved view, so that another cluster's view is never used.
fn source_id(backend: &DatastoreBackend) -> String {
    match backend {
        DatastoreBackend::Etcd(etcd) => {
            format!("etcd {} {}", etcd.endpoints.join(","), etcd.prefix)
        }
        DatastoreBackend::Kubernetes(options) => {
            format!("kubernetes {}", kubernetes::client::server_name(options))
        }
    }
}

impl Cluster {
    /// Loads the saved view (if any) and starts the client. `file` must have a datastore.
    pub fn open(file: &Config) -> Option<Cluster> {
        let datastore = file.datastore.clone()?;
        let source = source_id(&datastore.backend);
        let mut status = match &datastore.backend {
            DatastoreBackend::Etcd(etcd) => {
                DatastoreStatus::new("etcd", etcd.endpoints.clone(), etcd.prefix.clone())
            }
            DatastoreBackend::Kubernetes(options) => DatastoreStatus::new(
                "kubernetes",
                vec![kubernetes::client::server_name(options)],
                String::new(),
            ),
        };
        let view = match state::load(&datastore.state_dir, &file.node_name, &source) {
            Ok(Some(view)) => {
                info!(
                    revision = view.revision,
                    nodes = view.nodes.len(),
                    "starting from the saved datastore view until the datastore answers"
                );
                status.view_source = ViewSource::Saved;
                view
            }
            Ok(None) => {
                info!("no saved datastore view: starting with the file alone until the datastore answers");
                ClusterView::default()
            }
            Err(error) => {
                warn!(%error, "saved datastore view not used: starting with the file alone");
                ClusterView::default()
            }
        };
        let (tx, events) = mpsc::channel(256);
        let (backend, task) = match &datastore.backend {
            DatastoreBackend::Etcd(etcd) => {
                let layout = KeyLayout::new(&etcd.prefix, &file.node_name);
                let task = etcd::spawn(etcd.clone(), layout.clone(), tx);
                (Backend::Etcd { layout }, task)
            }
            DatastoreBackend::Kubernetes(options) => {
                let task = kubernetes::client::spawn(options.clone(), file.node_name.clone(), tx);
                (Backend::Kubernetes { secrets: SecretValues::default() }, task)
            }
        };
        Some(Cluster {
            datastore,
            backend,
            source,
            view,
            status,
            problems: Vec::new(),
            events,
            task,
            pending: None,
            unsaved: false,
        })
    }

    /// The configuration to run: the file merged with the view. Logs problems not seen in
    /// the previous mapping.
    pub fn map(&mut self, file: &Config) -> Config {
        let mapped = match &self.backend {
            Backend::Etcd { .. } => {
                let secrets = SecretsDir(self.datastore.secrets_dir.clone());
                datastore::build(file, &self.view, &secrets)
            }
            Backend::Kubernetes { secrets } => datastore::build(file, &self.view, secrets),
        };
        let old: BTreeSet<&Problem> = self.problems.iter().collect();
        for problem in mapped.problems.iter().filter(|p| !old.contains(p)) {
            warn!(key = %problem.key, "datastore: {}", problem.message);
        }
        self.problems = mapped.problems;
        mapped.config
    }

    /// Logs the keys among `keys` whose value the view could not use.
    fn log_bad<'k>(&self, keys: impl Iterator<Item = &'k Change>) {
        for change in keys {
            let key = match change {
                Change::Put { key, .. } | Change::Delete { key } => key,
            };
            if let Some(error) = self.view.bad.get(key) {
                warn!(%key, %error, "datastore: resource skipped");
            }
        }
    }

    /// Takes one client event into the view; a change makes a batch pending.
    fn take(&mut self, event: DatastoreEvent) {
        let changed = match event {
            DatastoreEvent::Connected { endpoint } => {
                info!(%endpoint, "datastore connected");
                if matches!(self.backend, Backend::Kubernetes { .. }) {
                    self.status.endpoints = vec![endpoint];
                }
                self.status.connected = true;
                self.status.connected_since = Some(Instant::now());
                false
            }
            DatastoreEvent::Disconnected { error, retry_in } => {
                if self.status.connected {
                    warn!(%error, "datastore connection lost: keeping sessions and routes");
                } else {
                    warn!(%error, retry_in_ms = retry_in.as_millis() as u64, "datastore not reachable");
                }
                self.status.reconnects += u64::from(self.status.connected);
                self.status.connected = false;
                self.status.connected_since = None;
                self.status.last_error = Some((error, Instant::now()));
                false
            }
            DatastoreEvent::Listing { kinds, revision } => {
                let Backend::Etcd { layout } = &self.backend else { return };
                for (kind, entries) in &kinds {
                    self.view.replace_kind(layout, *kind, entries);
                    self.log_bad(entries.iter());
                }
                self.view.revision = self.view.revision.max(revision);
                // A listing makes the view the datastore's, also when nothing changed: map
                // and save it (and publish its revision) in any case.
                self.status.view_source = ViewSource::Datastore;
                self.unsaved = true;
                true
            }
            DatastoreEvent::Changes { changes, revision } => {
                let Backend::Etcd { layout } = &self.backend else { return };
                let mut changed = false;
                for change in &changes {
                    changed |= self.view.apply(layout, change);
                }
                self.log_bad(changes.iter());
                self.view.revision = self.view.revision.max(revision);
                self.unsaved = true;
                changed
            }
            DatastoreEvent::View { view, secrets } => self.replace_view(*view, secrets),
        };
        if changed {
            let now = Instant::now();
            let first = self.pending.map_or(now, |(first, _)| first);
            self.pending = Some((first, now));
        }
    }

    /// Kubernetes: takes a whole view and the Secrets. Returns whether the mapping must run
    /// again: the view (its revision aside) or a Secret changed, or it is the first view from
    /// the datastore (which replaces a saved one).
    fn replace_view(&mut self, mut view: ClusterView, secrets: SecretValues) -> bool {
        let Backend::Kubernetes { secrets: kept } = &mut self.backend else { return false };
        let revision = view.revision;
        view.revision = self.view.revision;
        let first = self.status.view_source != ViewSource::Datastore;
        let view_changed = view != self.view;
        let secrets_changed = secrets != *kept;
        *kept = secrets;
        for (key, error) in view.bad.iter().filter(|(key, _)| !self.view.bad.contains_key(*key)) {
            warn!(%key, %error, "datastore: resource skipped");
        }
        view.revision = revision;
        self.view = view;
        self.status.view_source = ViewSource::Datastore;
        self.unsaved |= view_changed || first;
        view_changed || secrets_changed || first
    }

    /// When the pending batch is due.
    fn due(&self) -> Option<tokio::time::Instant> {
        let (first, last) = self.pending?;
        let at = (last + QUIET).min(first + MAX_DELAY);
        Some(tokio::time::Instant::from_std(at))
    }

    /// Saves the view if it changed since the last save.
    fn save(&mut self, node_name: &str) {
        if !self.unsaved || self.status.view_source != ViewSource::Datastore {
            return;
        }
        self.unsaved = false;
        let dir = &self.datastore.state_dir;
        if let Err(error) = state::save(dir, node_name, &self.source, &self.view) {
            warn!(dir = %dir.display(), %error, "cannot save the datastore view");
        }
    }
}

impl Daemon {
    /// The next client event, or never when there is no datastore.
    pub(super) async fn next_datastore_event(cluster: &mut Option<Cluster>) -> DatastoreEvent {
        match cluster {
            Some(cluster) => match cluster.events.recv().await {
                Some(event) => event,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// When the pending datastore batch is due.
    pub(super) fn datastore_due(&self) -> Option<tokio::time::Instant> {
        self.cluster.as_ref().and_then(Cluster::due)
    }

    pub(super) fn on_datastore_event(&mut self, event: DatastoreEvent) {
        let Some(cluster) = self.cluster.as_mut() else { return };
        let error = matches!(event, DatastoreEvent::Disconnected { .. });
        cluster.take(event);
        if error {
            self.metrics.datastore_errors.inc();
        }
        self.metrics.datastore_connected.set(i64::from(cluster.status.connected));
    }

    /// Applies the pending datastore changes through the reload diff.
    pub(super) async fn apply_datastore(&mut self) {
        let Some(cluster) = self.cluster.as_mut() else { return };
        cluster.pending = None;
        let new = cluster.map(&self.file_config);
        cluster.save(&self.file_config.node_name);
        cluster.status.applied += 1;
        cluster.status.last_applied = Some(Instant::now());
        let revision = cluster.view.revision;
        let problems = cluster.problems.len() + cluster.view.bad.len();
        self.metrics.datastore_revision.set(revision);
        self.metrics.datastore_problems.set(problems as i64);
        self.metrics.datastore_updates.inc();
        let diff = crate::config::ConfigDiff::between(&self.config, &new);
        if diff.is_empty() {
            return;
        }
        info!(revision, summary = %diff, "datastore change applied");
        // The other nodes apply the same change within milliseconds: give them a moment
        // before dialling, so the first attempt is not refused.
        self.first_dial_delay = FIRST_DIAL_DELAY;
        self.apply(diff, new).await;
        self.first_dial_delay = Duration::ZERO;
    }
}

#[cfg(test)]
#[path = "cluster_tests.rs"]
mod tests;
