//! The etcd v3 edge: lists and watches the key prefixes of [`Kind::ALL`] and hands what it
//! sees to the daemon as [`DatastoreEvent`]s. Nothing here interprets a value.
//!
//! - Start: connect, list every kind at one revision (a consistent snapshot), then watch
//!   each prefix from the next revision.
//! - Lost connection (etcd down, network cut, watch error): report it, keep the view (the
//!   daemon keeps its sessions and routes), reconnect with exponential backoff, and resume
//!   each watch from the last revision it had seen: no change is missed, none re-listed.
//! - A resume revision that was compacted away (the watch is cancelled with
//!   `compact_revision`): list everything again; the daemon replaces the view and applies
//!   only the difference.
use std::collections::BTreeMap;
use std::time::Duration;

use etcd_client::{Client, ConnectOptions, EventType, GetOptions, WatchOptions, WatchStream};
use futures::stream::{self, StreamExt};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

pub use super::event::DatastoreEvent;
use super::view::{Change, KeyLayout, Kind};
use crate::config::EtcdConfig;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2 keepalive: a silent etcd (network cut) is noticed within about 10 s.
const KEEPALIVE: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Starts the client task. It runs until `events` is closed.
pub fn spawn(
    config: EtcdConfig,
    layout: KeyLayout,
    events: mpsc::Sender<DatastoreEvent>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(config, layout, events))
}

async fn run(config: EtcdConfig, layout: KeyLayout, events: mpsc::Sender<DatastoreEvent>) {
    // The revision each watch has seen; empty = list first.
    let mut progress: BTreeMap<Kind, i64> = BTreeMap::new();
    let mut backoff = BACKOFF_MIN;
    loop {
        let error = match session(&config, &layout, &events, &mut progress, &mut backoff).await {
            Ok(()) => return, // the daemon is gone
            Err(error) => error,
        };
        if events.is_closed() {
            return;
        }
        let event = DatastoreEvent::Disconnected { error, retry_in: backoff };
        if events.send(event).await.is_err() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// One connection: connect, list if needed, watch until something fails. `Ok` only when the
/// daemon stopped listening.
async fn session(
    config: &EtcdConfig,
    layout: &KeyLayout,
    events: &mpsc::Sender<DatastoreEvent>,
    progress: &mut BTreeMap<Kind, i64>,
    backoff: &mut Duration,
) -> Result<(), String> {
    let mut client = connect(config).await?;
    // A cheap request to know the endpoint answers (connect itself is lazy).
    let status = timed(client.status()).await?;
    let endpoint = config.endpoints.join(",");
    debug!(version = status.version(), "etcd answers");
    if events.send(DatastoreEvent::Connected { endpoint }).await.is_err() {
        return Ok(());
    }
    if progress.len() != Kind::ALL.len() {
        list_all(&mut client, layout, events, progress).await?;
    }
    let mut watches = Vec::new();
    for kind in Kind::ALL {
        let start = progress.get(&kind).copied().unwrap_or(0) + 1;
        let options = WatchOptions::new().with_prefix().with_start_revision(start);
        let stream = timed(client.watch(layout.kind_prefix(kind), Some(options))).await?;
        watches.push(watch_stream(kind, stream));
    }
    *backoff = BACKOFF_MIN;
    let mut merged = stream::select_all(watches);
    while let Some((kind, response)) = merged.next().await {
        let response = response?;
        if response.compact_revision() > 0 {
            warn!(
                kind = kind.name(),
                compacted_to = response.compact_revision(),
                "the watch's revision was compacted: listing everything again"
            );
            progress.clear();
            return Err("watch revision compacted; re-listing".to_string());
        }
        if response.canceled() {
            return Err(format!("etcd cancelled the watch: {}", response.cancel_reason()));
        }
        let mut changes = Vec::with_capacity(response.events().len());
        let mut revision = progress.get(&kind).copied().unwrap_or(0);
        for event in response.events() {
            let Some(kv) = event.kv() else { continue };
            let key = String::from_utf8_lossy(kv.key()).into_owned();
            revision = revision.max(kv.mod_revision());
            changes.push(match event.event_type() {
                EventType::Put => Change::Put { key, value: kv.value().to_vec() },
                EventType::Delete => Change::Delete { key },
            });
        }
        if changes.is_empty() {
            continue;
        }
        progress.insert(kind, revision);
        if events.send(DatastoreEvent::Changes { changes, revision }).await.is_err() {
            return Ok(());
        }
    }
    Err("etcd closed the watch stream".to_string())
}

async fn connect(config: &EtcdConfig) -> Result<Client, String> {
    let mut options = ConnectOptions::new()
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_keep_alive(KEEPALIVE, KEEPALIVE)
        .with_keep_alive_while_idle(true);
    if let (Some(user), Some(file)) = (&config.username, &config.password_file) {
        let password = read_text(file)?;
        options = options.with_user(user.clone(), password.trim_end().to_string());
    }
    if let Some(ca) = &config.ca_file {
        let mut tls = etcd_client::TlsOptions::new()
            .ca_certificate(etcd_client::Certificate::from_pem(read_text(ca)?));
        if let (Some(cert), Some(key)) = (&config.cert_file, &config.key_file) {
            tls = tls.identity(etcd_client::Identity::from_pem(read_text(cert)?, read_text(key)?));
        }
        options = options.with_tls(tls);
    }
    timed(Client::connect(config.endpoints.clone(), Some(options))).await
}

fn read_text(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Lists every kind at one revision (the first listing fixes it, the others read at it) and
/// hands them over together, so that the daemon never applies half a cluster (nodes before
/// the BGPConfiguration that turns the mesh off).
async fn list_all(
    client: &mut Client,
    layout: &KeyLayout,
    events: &mpsc::Sender<DatastoreEvent>,
    progress: &mut BTreeMap<Kind, i64>,
) -> Result<(), String> {
    let mut at_revision = 0;
    let mut kinds = Vec::with_capacity(Kind::ALL.len());
    for kind in Kind::ALL {
        let mut options = GetOptions::new().with_prefix();
        if at_revision > 0 {
            options = options.with_revision(at_revision);
        }
        let response = timed(client.get(layout.kind_prefix(kind), Some(options))).await?;
        let revision = response.header().map_or(0, |h| h.revision());
        if at_revision == 0 {
            at_revision = revision;
        }
        let entries = response
            .kvs()
            .iter()
            .map(|kv| Change::Put {
                key: String::from_utf8_lossy(kv.key()).into_owned(),
                value: kv.value().to_vec(),
            })
            .collect::<Vec<_>>();
        info!(kind = kind.name(), count = entries.len(), revision = at_revision, "listed");
        kinds.push((kind, entries));
    }
    let listing = DatastoreEvent::Listing { kinds, revision: at_revision };
    if events.send(listing).await.is_err() {
        return Ok(());
    }
    for kind in Kind::ALL {
        progress.insert(kind, at_revision);
    }
    Ok(())
}

type Tagged = (Kind, Result<etcd_client::WatchResponse, String>);

/// A watch as a stream of its responses, each tagged with its kind; its end is an error.
fn watch_stream(kind: Kind, watch: WatchStream) -> stream::BoxStream<'static, Tagged> {
    stream::unfold(Some(watch), move |state| async move {
        let mut watch = state?;
        match watch.message().await {
            Ok(Some(response)) => Some(((kind, Ok(response)), Some(watch))),
            Ok(None) => Some(((kind, Err("etcd closed the watch".to_string())), None)),
            Err(error) => Some(((kind, Err(format!("watch: {error}"))), None)),
        }
    })
    .boxed()
}

async fn timed<T>(
    request: impl std::future::Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())),
    }
}
