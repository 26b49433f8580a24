//! The Kubernetes edge: builds the client, finds out whether Calico's CRDs exist, runs one
//! watch per kind (`watches.rs`) and hands the daemon whole snapshots of the view as
//! [`DatastoreEvent::View`]. The sans-IO parts are `fold.rs` (events -> state -> snapshots)
//! and `health.rs` (when to report `Disconnected` / `Connected`).
//!
//! - Calico's CRDs are probed (`GET /apis/crd.projectcalico.org/v1`) at start and every
//!   minute; when they appear or disappear every watch restarts in the other mode, and the
//!   daemon keeps the old view until the new mode's first complete listing.
//! - A burst of watch events that are ready together becomes one snapshot.
//! - A watch error keeps the view (the daemon keeps its sessions and routes) and is reported
//!   once per failure streak. Secrets that RBAC forbids do not hold up the other kinds.
use std::collections::BTreeSet;
use std::time::Duration;

use futures::stream::{self, Stream, StreamExt};
use futures::FutureExt;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher::Event;
use kube::Client;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::fold::{watched_kinds, WatchFold};
use super::health::{Failure, Health, Source};
use super::watches::{self, classify, ErrorClass, Tagged, WATCH_RETRY};
use super::{KubeKind, KubeState};
use crate::config::KubernetesConfig;
use crate::datastore::DatastoreEvent;

/// How often the Calico CRDs are probed (and, while something fails, how often the API
/// server is asked whether it answers again).
const PROBE_EVERY: Duration = Duration::from_secs(60);
const PROBE_WHILE_FAILING: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries of the client construction and of the first probe.
const START_RETRY_MAX: Duration = Duration::from_secs(30);
/// Events taken in one go before a snapshot is sent.
const BURST: usize = 1024;

/// Starts the client task for node `node_name`. It runs until `events` is closed.
pub fn spawn(
    options: KubernetesConfig,
    node_name: String,
    events: mpsc::Sender<DatastoreEvent>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut edge = Edge { options, node_name, events, health: Health::default() };
        edge.run().await;
    })
}

/// Names the API server without contacting it: the kubeconfig's current server URL, or
/// `in-cluster`. Used for the saved view's source and `bgpctl show datastore` until the
/// client connects.
pub fn server_name(options: &KubernetesConfig) -> String {
    let Some(path) = &options.kubeconfig else { return "in-cluster".to_string() };
    let server = Kubeconfig::read_from(path).ok().and_then(|config| {
        let context = config.current_context.as_ref()?;
        let cluster = config.contexts.iter().find(|c| &c.name == context)?.context.as_ref()?;
        let named = config.clusters.iter().find(|c| c.name == cluster.cluster)?;
        named.cluster.as_ref()?.server.clone()
    });
    server.unwrap_or_else(|| format!("kubeconfig {}", path.display()))
}

/// Why a mode ended.
enum ModeEnd {
    /// Calico's CRDs appeared or disappeared: the Calico kinds served now.
    Switch(Vec<KubeKind>),
    /// The daemon stopped listening.
    Closed,
}

/// One mode's watches and what they said.
struct Mode {
    calico: Vec<KubeKind>,
    fold: WatchFold<KubeState>,
    /// Kinds whose 403 was logged (once, until they deliver again).
    forbidden: BTreeSet<KubeKind>,
    next_probe: Instant,
}

struct Edge {
    options: KubernetesConfig,
    node_name: String,
    events: mpsc::Sender<DatastoreEvent>,
    health: Health,
}

impl Edge {
    async fn run(&mut self) {
        let options = self.options.clone();
        let Some((client, url)) = self.start(Source::Client, || connect(&options)).await else {
            return;
        };
        info!(server = %url, "Kubernetes client ready");
        let Some(mut calico) = self.start(Source::Probe, || probe_calico(&client)).await else {
            return;
        };
        loop {
            if calico.is_empty() {
                info!("no Calico CRDs: a plain cluster (Nodes' podCIDRs, mesh or route reflector label)");
            } else {
                let kinds: Vec<&str> = calico.iter().map(|kind| kind.plural()).collect();
                info!(kinds = %kinds.join(","), "Calico CRDs found");
            }
            match self.watch(&client, &url, calico).await {
                ModeEnd::Switch(present) => calico = present,
                ModeEnd::Closed => return,
            }
        }
    }

    /// Retries `step` with backoff until it succeeds; `None` when the daemon is gone.
    async fn start<T, F, Fut>(&mut self, source: Source, mut step: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let mut delay = Duration::from_secs(1);
        loop {
            match step().await {
                Ok(value) => {
                    self.health.recovered(source);
                    return Some(value);
                }
                Err(error) => {
                    if !self.report_failure(source, Failure::Transport, error, delay).await {
                        return None;
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.events.closed() => return None,
            }
            delay = (delay * 2).min(START_RETRY_MAX);
        }
    }

    /// Watches every kind of one mode until the mode changes or the daemon is gone.
    async fn watch(&mut self, client: &Client, url: &str, calico: Vec<KubeKind>) -> ModeEnd {
        let kinds = watched_kinds(&calico);
        let mut state = KubeState::new(&self.node_name, &self.options);
        state.set_calico(!calico.is_empty());
        let mut mode = Mode {
            calico,
            fold: WatchFold::new(state, &kinds),
            forbidden: BTreeSet::new(),
            next_probe: Instant::now() + PROBE_EVERY,
        };
        let watches = kinds.iter().map(|kind| watches::watch_kind(client, &self.options, *kind));
        let mut watches = stream::select_all(watches);
        loop {
            let first = tokio::select! {
                item = watches.next() => item,
                () = tokio::time::sleep_until(mode.next_probe) => {
                    if let Some(end) = self.probe(client, url, &mut mode).await {
                        return end;
                    }
                    continue;
                }
                () = self.events.closed() => return ModeEnd::Closed,
            };
            // Every watcher retries forever: the merged stream does not end.
            let Some(item) = first else { return ModeEnd::Closed };
            // Take the whole burst that is ready, then send one snapshot.
            for item in ready_burst(item, &mut watches, BURST) {
                if !self.take(url, &mut mode, item).await {
                    return ModeEnd::Closed;
                }
            }
            if let Some((view, secrets)) = mode.fold.snapshot() {
                if self.health.snapshot_sent() && !self.connected(url).await {
                    return ModeEnd::Closed;
                }
                debug!(revision = view.revision, nodes = view.nodes.len(), "view snapshot");
                let event = DatastoreEvent::View { view: Box::new(view), secrets };
                if self.events.send(event).await.is_err() {
                    return ModeEnd::Closed;
                }
            }
        }
    }

    /// Takes one watch event or error; `false` when the daemon is gone.
    async fn take(&mut self, url: &str, mode: &mut Mode, (kind, result): Tagged) -> bool {
        let error = match result {
            Ok(event) => {
                // `Init` comes before the list request: it proves nothing.
                let delivered = !matches!(event, Event::Init);
                if let Some(count) = mode.fold.event(kind, event) {
                    info!(kind = kind.plural(), count, "listed");
                }
                if !delivered {
                    return true;
                }
                mode.forbidden.remove(&kind);
                return !self.health.recovered(Source::Watch(kind)) || self.connected(url).await;
            }
            Err(error) => error,
        };
        let class = classify(&error);
        if class == ErrorClass::Forbidden && mode.forbidden.insert(kind) {
            let rule = watches::rbac_rule(kind, &self.options.secrets_namespace);
            let meanwhile = match kind {
                KubeKind::Secrets => "BGPPeer passwords from secretKeyRef stay unset until then",
                _ => "the view is not updated until then",
            };
            warn!(
                kind = kind.plural(),
                "forbidden (403): bgpd's service account needs {rule}; {meanwhile}"
            );
        }
        match class {
            ErrorClass::Gone => {
                info!(kind = kind.plural(), "watch expired (410 Gone): listing again");
                true
            }
            ErrorClass::Forbidden if kind == KubeKind::Secrets => {
                // Sessions without their passwords beat no sessions at all.
                mode.fold.give_up(kind);
                true
            }
            _ => {
                if class == ErrorClass::NotFound && KubeKind::CALICO.contains(&kind) {
                    mode.next_probe = Instant::now(); // the CRDs may be gone
                }
                let failure = match class {
                    ErrorClass::Transport => Failure::Transport,
                    _ => Failure::Answered,
                };
                // Ask soon whether the API server answers again: a watcher that reconnects
                // says nothing until something changes.
                mode.next_probe = mode.next_probe.min(Instant::now() + PROBE_WHILE_FAILING);
                let text = format!("{}: {error}", kind.plural());
                self.report_failure(Source::Watch(kind), failure, text, WATCH_RETRY).await
            }
        }
    }

    /// Probes the Calico CRDs: `Some` when the mode must end.
    async fn probe(&mut self, client: &Client, url: &str, mode: &mut Mode) -> Option<ModeEnd> {
        match probe_calico(client).await {
            Ok(present) if present != mode.calico => return Some(ModeEnd::Switch(present)),
            Ok(_) => {
                if self.health.answered() && !self.connected(url).await {
                    return Some(ModeEnd::Closed);
                }
            }
            Err(error) => {
                let failure = Failure::Transport;
                if !self.report_failure(Source::Probe, failure, error, WATCH_RETRY).await {
                    return Some(ModeEnd::Closed);
                }
            }
        }
        let every = if self.health.failing() { PROBE_WHILE_FAILING } else { PROBE_EVERY };
        mode.next_probe = Instant::now() + every;
        None
    }

    /// Reports `Connected`; `false` when the daemon is gone.
    async fn connected(&self, url: &str) -> bool {
        let event = DatastoreEvent::Connected { endpoint: url.to_string() };
        self.events.send(event).await.is_ok()
    }

    /// Records a failure and reports it when it starts a streak (else logs it at debug);
    /// `false` when the daemon is gone.
    async fn report_failure(
        &mut self,
        source: Source,
        failure: Failure,
        error: String,
        retry_in: Duration,
    ) -> bool {
        if !self.health.failed(source, failure) {
            debug!(?source, %error, "still failing");
            return !self.events.is_closed();
        }
        self.events.send(DatastoreEvent::Disconnected { error, retry_in }).await.is_ok()
    }
}

/// Builds the client: the kubeconfig when the file names one, else the pod's service
/// account, else `$KUBECONFIG` / `~/.kube/config`. Returns it with the server's URL.
async fn connect(options: &KubernetesConfig) -> Result<(Client, String), String> {
    let config = match &options.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .map_err(|error| format!("kubeconfig {}: {error}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|error| format!("kubeconfig {}: {error}", path.display()))?
        }
        None => match kube::Config::incluster() {
            Ok(config) => config,
            Err(in_cluster) => kube::Config::infer().await.map_err(|error| {
                format!("no service account ({in_cluster}) and no kubeconfig: {error}")
            })?,
        },
    };
    let url = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|error| format!("{url}: {error}"))?;
    Ok((client, url))
}

/// The Calico kinds the API server serves (none, 404: a plain cluster).
async fn probe_calico(client: &Client) -> Result<Vec<KubeKind>, String> {
    let group_version = format!("{}/{}", watches::CALICO_GROUP, watches::CALICO_VERSION);
    let request = client.list_api_group_resources(&group_version);
    match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
        Err(_) => Err(format!("GET /apis/{group_version}: no answer within 10 s")),
        Ok(Ok(list)) => Ok(KubeKind::CALICO
            .into_iter()
            .filter(|kind| list.resources.iter().any(|r| r.name == kind.plural()))
            .collect()),
        Ok(Err(kube::Error::Api(status))) if status.code == 404 => Ok(Vec::new()),
        Ok(Err(error)) => Err(format!("GET /apis/{group_version}: {error}")),
    }
}

/// `first` and the events of `stream` that are ready now, at most `max` in all. Nothing is
/// polled beyond what is returned, so no event is lost between bursts.
fn ready_burst<S: Stream + Unpin>(first: S::Item, stream: &mut S, max: usize) -> Vec<S::Item> {
    let mut burst = vec![first];
    while burst.len() < max {
        match stream.next().now_or_never().flatten() {
            Some(next) => burst.push(next),
            None => break,
        }
    }
    burst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_take_every_ready_event_once() {
        let mut stream = futures::stream::iter(1..=2500);
        let mut seen = Vec::new();
        while let Some(first) = stream.next().now_or_never().flatten() {
            let burst = ready_burst(first, &mut stream, 1024);
            assert!(burst.len() <= 1024);
            seen.extend(burst);
        }
        assert_eq!(seen, (1..=2500).collect::<Vec<_>>(), "none lost, none twice, in order");
    }
}
