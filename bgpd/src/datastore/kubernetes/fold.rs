//! Folds the watches' events into the state, and decides when the daemon gets a snapshot
//! (sans-IO; `client.rs` feeds it).
//!
//! A watch starts (and restarts after 410 Gone) with `Init`, the listed objects as
//! `InitApply` (paged), then `InitDone`: the objects are buffered and replace the kind at
//! `InitDone`, so a re-list removes what was deleted meanwhile and the view never holds half
//! a listing. No snapshot leaves before every watched kind has been listed once (never half
//! a cluster: Nodes before the BGPConfiguration that turns the mesh off); after that, one
//! leaves whenever the view or the Secrets changed.
use std::collections::{BTreeMap, BTreeSet};

use kube::runtime::watcher::Event;

use super::secrets::SecretValues;
use super::{KubeKind, KubeObject, KubeState};
use crate::datastore::ClusterView;

/// What the fold needs of the state (the real one is [`KubeState`]).
pub trait Store {
    /// An object added or changed; whether the view changed.
    fn apply(&mut self, object: KubeObject) -> bool;
    /// An object deleted; whether the view changed.
    fn delete(&mut self, object: &KubeObject) -> bool;
    /// A complete listing of `kind`; whether the view changed.
    fn replace(&mut self, kind: KubeKind, objects: Vec<KubeObject>) -> bool;
    /// The view for the mapping.
    fn view(&self) -> ClusterView;
    /// The Secrets' values.
    fn secrets(&self) -> SecretValues;
}

impl Store for KubeState {
    fn apply(&mut self, object: KubeObject) -> bool {
        KubeState::apply(self, object)
    }
    fn delete(&mut self, object: &KubeObject) -> bool {
        KubeState::delete(self, object)
    }
    fn replace(&mut self, kind: KubeKind, objects: Vec<KubeObject>) -> bool {
        KubeState::replace(self, kind, objects)
    }
    fn view(&self) -> ClusterView {
        KubeState::view(self)
    }
    fn secrets(&self) -> SecretValues {
        KubeState::secrets(self)
    }
}

/// The kinds watched: the core ones, the Secrets, and the Calico kinds the API server
/// serves (none on a plain cluster).
pub fn watched_kinds(calico: &[KubeKind]) -> Vec<KubeKind> {
    let mut kinds = vec![KubeKind::Nodes, KubeKind::Services, KubeKind::EndpointSlices];
    kinds.extend(KubeKind::CALICO.into_iter().filter(|kind| calico.contains(kind)));
    kinds.push(KubeKind::Secrets);
    kinds
}

/// The state, the listings in progress, and what the daemon has been sent.
pub struct WatchFold<S> {
    store: S,
    watched: BTreeSet<KubeKind>,
    /// Kinds whose first listing completed (or that were given up, see [`Self::give_up`]).
    listed: BTreeSet<KubeKind>,
    /// Listings in progress: `Init` seen, not yet `InitDone`.
    buffers: BTreeMap<KubeKind, Vec<KubeObject>>,
    /// The view or the Secrets changed since the last snapshot.
    changed: bool,
    snapshots: u64,
    /// The highest numeric `metadata.resourceVersion` seen (0: none parsed).
    resource_version: i64,
}

impl<S: Store> WatchFold<S> {
    /// A fold over `store` for the `watched` kinds.
    pub fn new(store: S, watched: &[KubeKind]) -> Self {
        WatchFold {
            store,
            watched: watched.iter().copied().collect(),
            listed: BTreeSet::new(),
            buffers: BTreeMap::new(),
            changed: false,
            snapshots: 0,
            resource_version: 0,
        }
    }

    /// Takes one event of `kind`'s watch. Returns the number of objects listed when it
    /// completed a listing.
    pub fn event(&mut self, kind: KubeKind, event: Event<KubeObject>) -> Option<usize> {
        if !self.watched.contains(&kind) {
            return None;
        }
        let secrets_before = (kind == KubeKind::Secrets).then(|| self.store.secrets());
        let mut listed = None;
        let changed = match event {
            Event::Init => {
                self.buffers.insert(kind, Vec::new());
                false
            }
            Event::InitApply(object) => {
                self.see(&object);
                self.buffers.entry(kind).or_default().push(object);
                false
            }
            Event::InitDone => {
                let objects = self.buffers.remove(&kind).unwrap_or_default();
                listed = Some(objects.len());
                self.listed.insert(kind);
                self.store.replace(kind, objects)
            }
            Event::Apply(object) => {
                self.see(&object);
                self.store.apply(object)
            }
            Event::Delete(object) => {
                self.see(&object);
                self.store.delete(&object)
            }
        };
        let secrets_changed = secrets_before.is_some_and(|before| before != self.store.secrets());
        self.changed |= changed || secrets_changed;
        listed
    }

    /// Counts `kind` as listed although its watch cannot list it (the Secrets when RBAC
    /// forbids them: sessions without passwords beat no sessions). A later listing still
    /// replaces it.
    pub fn give_up(&mut self, kind: KubeKind) {
        if self.watched.contains(&kind) && self.listed.insert(kind) {
            self.changed = true;
        }
    }

    /// Every watched kind has been listed once.
    pub fn complete(&self) -> bool {
        self.listed.len() == self.watched.len()
    }

    /// The view and the Secrets to send, if the daemon should get them now: once every kind
    /// is listed, the first time and after each change.
    pub fn snapshot(&mut self) -> Option<(ClusterView, SecretValues)> {
        if !self.complete() || !(self.changed || self.snapshots == 0) {
            return None;
        }
        self.changed = false;
        self.snapshots += 1;
        let mut view = self.store.view();
        view.revision = if self.resource_version > 0 {
            self.resource_version
        } else {
            i64::try_from(self.snapshots).unwrap_or(i64::MAX)
        };
        Some((view, self.store.secrets()))
    }

    fn see(&mut self, object: &KubeObject) {
        if let Some(version) = resource_version(object) {
            self.resource_version = self.resource_version.max(version);
        }
    }
}

/// An object's `metadata.resourceVersion`, when it is a number (it is opaque; etcd-backed
/// API servers use etcd's revision).
pub fn resource_version(object: &KubeObject) -> Option<i64> {
    let text = match object {
        KubeObject::Node(node) => node.metadata.resource_version.as_deref(),
        KubeObject::Service(service) => service.metadata.resource_version.as_deref(),
        KubeObject::EndpointSlice(slice) => slice.metadata.resource_version.as_deref(),
        KubeObject::Secret(secret) => secret.metadata.resource_version.as_deref(),
        KubeObject::Calico(_, value) => value.pointer("/metadata/resourceVersion")?.as_str(),
    };
    text?.parse().ok()
}

#[cfg(test)]
#[path = "fold_tests.rs"]
mod tests;
