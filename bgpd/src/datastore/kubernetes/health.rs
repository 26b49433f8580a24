//! When the client reports `Disconnected` and `Connected` (sans-IO): one `Disconnected` per
//! failure streak, however many watches fail and however often they retry, and `Connected`
//! once every failing source has recovered and the daemon has the view.
use std::collections::BTreeMap;

use super::KubeKind;

/// What failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A kind's watch (list or watch request).
    Watch(KubeKind),
    /// The Calico CRD probe (`GET /apis/crd.projectcalico.org/v1`).
    Probe,
    /// The client could not be built (kubeconfig, service account).
    Client,
}

/// How a failure ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No answer (connection refused, reset, timeout): over once the API server answers.
    Transport,
    /// The API server answered with an error (403, 404, 500): over only when that watch
    /// delivers again.
    Answered,
}

/// The failing sources and what the daemon was last told.
#[derive(Debug, Default)]
pub struct Health {
    failing: BTreeMap<Source, Failure>,
    /// The daemon was told `Connected` (and not `Disconnected` since).
    connected: bool,
    /// The daemon has had a snapshot.
    synced: bool,
}

impl Health {
    /// `source` failed. Returns whether to report it: the first failure of a streak.
    pub fn failed(&mut self, source: Source, failure: Failure) -> bool {
        let first = self.failing.is_empty();
        self.failing.insert(source, failure);
        if first {
            self.connected = false;
        }
        first
    }

    /// `source` worked. Returns whether to report `Connected` now.
    pub fn recovered(&mut self, source: Source) -> bool {
        self.failing.remove(&source);
        self.connect_if_healthy()
    }

    /// The API server answered a request: every transport failure is over (a watcher that
    /// reconnected delivers nothing until something changes). Returns whether to report
    /// `Connected` now.
    pub fn answered(&mut self) -> bool {
        self.failing.retain(|_, failure| *failure == Failure::Answered);
        self.connect_if_healthy()
    }

    /// The daemon got a snapshot. Returns whether to report `Connected` now (before it).
    pub fn snapshot_sent(&mut self) -> bool {
        self.synced = true;
        self.connect_if_healthy()
    }

    /// Some source is failing.
    pub fn failing(&self) -> bool {
        !self.failing.is_empty()
    }

    fn connect_if_healthy(&mut self) -> bool {
        if self.synced && !self.connected && self.failing.is_empty() {
            self.connected = true;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: Source = Source::Watch(KubeKind::Nodes);
    const SERVICES: Source = Source::Watch(KubeKind::Services);

    #[test]
    fn one_disconnected_per_streak_and_connected_once_all_recovered() {
        let mut health = Health::default();
        assert!(health.failed(Source::Client, Failure::Transport), "the first failure");
        assert!(!health.failed(Source::Client, Failure::Transport), "its retry");
        assert!(!health.recovered(Source::Client), "no snapshot yet: not connected");
        assert!(health.snapshot_sent(), "the view sent: connected");
        assert!(!health.snapshot_sent(), "already connected");
        assert!(health.failed(NODES, Failure::Transport), "a new streak");
        assert!(!health.failed(SERVICES, Failure::Transport), "same streak");
        assert!(!health.failed(NODES, Failure::Transport));
        assert!(!health.recovered(NODES), "services still failing");
        assert!(health.recovered(SERVICES));
        assert!(!health.failing());
    }

    #[test]
    fn an_answer_ends_transport_failures_but_not_refusals() {
        let mut health = Health::default();
        health.snapshot_sent();
        assert!(health.failed(NODES, Failure::Transport));
        assert!(health.answered(), "the API server answers again: the watcher reconnects");
        assert!(health.failed(SERVICES, Failure::Answered));
        assert!(!health.failed(SERVICES, Failure::Answered), "same streak");
        assert!(!health.answered(), "a 403 lasts until that watch delivers");
        assert!(health.failing());
        assert!(health.recovered(SERVICES));
    }
}
