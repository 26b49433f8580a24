//! One `kube::runtime::watcher` per kind, each object converted to a [`KubeObject`], and
//! what a watch error means. The watcher lists in pages (`limit`/`continue`), watches from
//! the listing's resourceVersion with bookmarks, resumes a dropped watch from the last
//! resourceVersion and lists again after 410 Gone; its default backoff (0.8 s doubling to
//! 30 s) paces retries, see [`PatientBackoff`].
use std::time::Duration;

use futures::stream::{BoxStream, StreamExt};
use k8s_openapi::api::core::v1::{Node, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, watcher, DefaultBackoff, Event};
use kube::runtime::WatchStreamExt;
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::{KubeKind, KubeObject};
use crate::config::KubernetesConfig;

/// Calico's CRD group and version.
pub const CALICO_GROUP: &str = "crd.projectcalico.org";
pub const CALICO_VERSION: &str = "v1";
/// Objects per list page.
const PAGE_SIZE: u32 = 500;
/// The watcher's first retry after an error (`DefaultBackoff`: 0.8 s, doubling to 30 s).
pub const WATCH_RETRY: Duration = Duration::from_millis(800);

/// The watcher's default backoff (0.8 s doubling to 30 s, with jitter), started over only
/// after 120 s without an error. The stream adapter resets a backoff at every `Ok` item,
/// and the watcher sends `Init` (an `Ok`) before each list attempt: a list that keeps
/// failing (403, 500) would otherwise be retried every 0.8 s forever.
struct PatientBackoff(DefaultBackoff);

impl Iterator for PatientBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        self.0.next()
    }
}

impl Backoff for PatientBackoff {
    fn reset(&mut self) {}
}

/// One watch's events, tagged with its kind.
pub type Tagged = (KubeKind, Result<Event<KubeObject>, watcher::Error>);

/// The watch of one kind (Secrets: of `secrets_namespace` only; the rest cluster-wide).
pub fn watch_kind(
    client: &Client,
    options: &KubernetesConfig,
    kind: KubeKind,
) -> BoxStream<'static, Tagged> {
    let client = client.clone();
    match kind {
        KubeKind::Nodes => typed(Api::<Node>::all(client), kind, |mut node| {
            // Image lists are the bulk of a Node and never used.
            if let Some(status) = node.status.as_mut() {
                status.images = None;
            }
            KubeObject::Node(Box::new(node))
        }),
        KubeKind::Services => {
            typed(Api::<Service>::all(client), kind, |s| KubeObject::Service(Box::new(s)))
        }
        KubeKind::EndpointSlices => typed(Api::<EndpointSlice>::all(client), kind, |s| {
            KubeObject::EndpointSlice(Box::new(s))
        }),
        KubeKind::Secrets => {
            let api = Api::<Secret>::namespaced(client, &options.secrets_namespace);
            typed(api, kind, |s| KubeObject::Secret(Box::new(s)))
        }
        calico => {
            let resource = ApiResource {
                group: CALICO_GROUP.to_string(),
                version: CALICO_VERSION.to_string(),
                api_version: format!("{CALICO_GROUP}/{CALICO_VERSION}"),
                kind: calico_kind_name(calico).to_string(),
                plural: calico.plural().to_string(),
            };
            let api = Api::<DynamicObject>::all_with(client, &resource);
            typed(api, kind, move |object| {
                // A DynamicObject always serializes; Null would be reported as unusable.
                KubeObject::Calico(calico, serde_json::to_value(object).unwrap_or_default())
            })
        }
    }
}

/// The CRD kind of a Calico [`KubeKind`].
fn calico_kind_name(kind: KubeKind) -> &'static str {
    match kind {
        KubeKind::BgpConfigurations => "BGPConfiguration",
        KubeKind::BgpPeers => "BGPPeer",
        KubeKind::IpPools => "IPPool",
        _ => "BlockAffinity",
    }
}

fn typed<K>(
    api: Api<K>,
    kind: KubeKind,
    convert: impl Fn(K) -> KubeObject + Send + 'static,
) -> BoxStream<'static, Tagged>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    // Bookmarks on, "most recent" list semantic: pages honour `limit` and `continue`.
    let config = watcher::Config::default().page_size(PAGE_SIZE);
    watcher(api, config)
        .backoff(PatientBackoff(DefaultBackoff::default()))
        .map(move |result| {
            let event = result.map(|event| {
                map_event(event, |mut object: K| {
                    object.managed_fields_mut().clear();
                    convert(object)
                })
            });
            (kind, event)
        })
        .boxed()
}

fn map_event<K>(event: Event<K>, mut convert: impl FnMut(K) -> KubeObject) -> Event<KubeObject> {
    match event {
        Event::Apply(object) => Event::Apply(convert(object)),
        Event::Delete(object) => Event::Delete(convert(object)),
        Event::Init => Event::Init,
        Event::InitApply(object) => Event::InitApply(convert(object)),
        Event::InitDone => Event::InitDone,
    }
}

/// What a watch error means for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// 410 Gone: the watcher lists again by itself; nothing failed.
    Gone,
    Forbidden,
    NotFound,
    /// Another answer of the API server.
    Answered,
    /// No answer.
    Transport,
}

/// Sorts a watch error by the API server's status code, if it answered.
pub fn classify(error: &watcher::Error) -> ErrorClass {
    let code = match error {
        watcher::Error::WatchError(status) => Some(status.code),
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status)) => Some(status.code),
        watcher::Error::NoResourceVersion => Some(0),
        _ => None,
    };
    match code {
        Some(410) => ErrorClass::Gone,
        Some(403) => ErrorClass::Forbidden,
        Some(404) => ErrorClass::NotFound,
        Some(_) => ErrorClass::Answered,
        None => ErrorClass::Transport,
    }
}

/// The RBAC rule a kind needs, for the 403 warning.
pub fn rbac_rule(kind: KubeKind, secrets_namespace: &str) -> String {
    let group = match kind {
        KubeKind::Nodes | KubeKind::Services | KubeKind::Secrets => "\"\"",
        KubeKind::EndpointSlices => "discovery.k8s.io",
        _ => CALICO_GROUP,
    };
    let scope = if kind == KubeKind::Secrets {
        format!("a Role in namespace {secrets_namespace} (and a RoleBinding)")
    } else {
        "a ClusterRole (and a ClusterRoleBinding)".to_string()
    };
    format!("apiGroups: [{group}], resources: [{}], verbs: [list, watch] in {scope}", kind.plural())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    #[test]
    fn watch_errors_are_sorted_by_status_code() {
        let status = |code| Box::new(Status { code, ..Status::default() });
        assert_eq!(classify(&watcher::Error::WatchError(status(410))), ErrorClass::Gone);
        let forbidden = watcher::Error::InitialListFailed(kube::Error::Api(status(403)));
        assert_eq!(classify(&forbidden), ErrorClass::Forbidden);
        let missing = watcher::Error::WatchStartFailed(kube::Error::Api(status(404)));
        assert_eq!(classify(&missing), ErrorClass::NotFound);
        assert_eq!(classify(&watcher::Error::WatchError(status(500))), ErrorClass::Answered);
        let io = kube::Error::Service(std::io::Error::other("connection refused").into());
        assert_eq!(classify(&watcher::Error::InitialListFailed(io)), ErrorClass::Transport);
    }

    #[test]
    fn the_rbac_hint_names_group_resource_and_scope() {
        let rule = rbac_rule(KubeKind::Secrets, "calico-system");
        assert_eq!(
            rule,
            "apiGroups: [\"\"], resources: [secrets], verbs: [list, watch] in a Role in \
             namespace calico-system (and a RoleBinding)"
        );
        assert!(rbac_rule(KubeKind::BgpPeers, "x").contains("[crd.projectcalico.org]"));
        assert!(rbac_rule(KubeKind::EndpointSlices, "x").contains("[discovery.k8s.io]"));
    }
}
