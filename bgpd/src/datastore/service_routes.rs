//! Kubernetes Services as routes, as Calico advertises them (`confd/pkg/backends/calico/
//! routes.go`): the default BGPConfiguration's `serviceClusterIPs`, `serviceExternalIPs` and
//! `serviceLoadBalancerIPs` ranges are originated by every node; a Service whose traffic
//! policy is `Local` (`externalTrafficPolicy`: its cluster, external and load balancer IPs;
//! `internalTrafficPolicy`: its cluster IPs) has its own /32 (/128) originated only by the
//! nodes with a ready endpoint of it, so that traffic reaches a node that can serve it
//! locally. Only what a node originates itself is exported (`export_filter.rs`): a /32
//! learned from the node that has the endpoint is not passed on, with this node as next
//! hop, to a router that would then send the traffic here (Calico's BIRD does: calico
//! issue 5235). A node labelled `node.kubernetes.io/exclude-from-external-load-balancers=true`
//! originates none of them. Sans-IO: a function of the [`ClusterView`].
use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::resources::ServiceCidr;
use super::view::ClusterView;
use super::Problem;
use crate::config::originate_guard;

/// The node label that keeps a node out of external load balancing (and service routes).
pub const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// What bgpd keeps of a Service (keyed `<namespace>/<name>` in the view).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceRecord {
    /// `spec.clusterIPs` (else `spec.clusterIP`), without `None` (headless).
    pub cluster_ips: Vec<IpAddr>,
    /// `spec.externalIPs`.
    pub external_ips: Vec<IpAddr>,
    /// `status.loadBalancer.ingress[].ip`.
    pub load_balancer_ips: Vec<IpAddr>,
    /// `externalTrafficPolicy: Local`.
    pub external_local: bool,
    /// `internalTrafficPolicy: Local`.
    pub internal_local: bool,
}

/// What bgpd keeps of an EndpointSlice (keyed `<namespace>/<name>` in the view).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SliceRecord {
    /// The owning Service, `<namespace>/<name>` (label `kubernetes.io/service-name`).
    pub service: String,
    /// The slice has a ready endpoint on this node.
    pub local_ready: bool,
}

/// The configured service ranges, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceRanges {
    /// `serviceClusterIPs`.
    pub cluster: Vec<IpNet>,
    /// `serviceExternalIPs`.
    pub external: Vec<IpNet>,
    /// `serviceLoadBalancerIPs`.
    pub load_balancer: Vec<IpNet>,
}

impl ServiceRanges {
    /// Every range, each once, in order.
    pub fn all(&self) -> Vec<IpNet> {
        let mut out: Vec<IpNet> = Vec::new();
        for net in self.cluster.iter().chain(&self.external).chain(&self.load_balancer) {
            if !out.contains(net) {
                out.push(*net);
            }
        }
        out
    }
}

/// The ranges of the `default` BGPConfiguration. A range that is not a CIDR, or is a default
/// route or a reserved range (it would keep every such route out of the kernel), is reported
/// and skipped.
pub fn service_ranges(view: &ClusterView, problems: &mut Vec<Problem>) -> ServiceRanges {
    let Some(default) = view.bgp_configurations.get("default") else {
        return ServiceRanges::default();
    };
    let spec = &default.spec;
    let mut parse = |field: &str, list: &[ServiceCidr]| -> Vec<IpNet> {
        let mut out = Vec::new();
        for entry in list {
            let why = match entry.cidr.trim().parse::<IpNet>() {
                Ok(net) => match originate_guard::reserved_danger(&net) {
                    None => {
                        out.push(net.trunc());
                        continue;
                    }
                    Some(danger) => format!("{danger}: range not used"),
                },
                Err(_) => format!("`{}` is not a CIDR", entry.cidr),
            };
            problems.push(Problem::new("bgpconfigurations/default", format!("{field}: {why}")));
        }
        out
    };
    ServiceRanges {
        cluster: parse("serviceClusterIPs", &spec.service_cluster_ips),
        external: parse("serviceExternalIPs", &spec.service_external_ips),
        load_balancer: parse("serviceLoadBalancerIPs", &spec.service_load_balancer_ips),
    }
}

/// The service prefixes node `node_name` originates: every range, and the /32 (/128) of each
/// `Local` Service with a ready endpoint on this node. A `Local` Service's IP outside the
/// ranges is reported and not originated.
pub fn service_prefixes(
    view: &ClusterView,
    node_name: &str,
    ranges: &ServiceRanges,
    problems: &mut Vec<Problem>,
) -> Vec<IpNet> {
    // A node that is not in the view (a wrong node name, a deleted Node) advertises no
    // service either: its exclusion label cannot be checked.
    let Some(me) = view.nodes.get(node_name) else { return Vec::new() };
    if me.metadata.labels.get(EXCLUDE_LABEL).is_some_and(|value| value == "true") {
        return Vec::new();
    }
    let mut out = ranges.all();
    let local_ready: BTreeSet<&str> = view
        .endpoint_slices
        .values()
        .filter(|slice| slice.local_ready)
        .map(|slice| slice.service.as_str())
        .collect();
    for (name, service) in &view.services {
        // Headless and ExternalName Services (no cluster IP) are not advertised (Calico).
        if service.cluster_ips.is_empty() {
            continue;
        }
        let key = format!("services/{name}");
        let mut wanted: Vec<(IpAddr, &[IpNet], &str)> = Vec::new();
        // Calico (routes.go): a Local external policy advertises the cluster IPs too, so a
        // router sends cluster-IP traffic only to nodes that serve it locally.
        if service.internal_local || service.external_local {
            wanted
                .extend(service.cluster_ips.iter().map(|ip| (*ip, &ranges.cluster[..], "cluster")));
        }
        if service.external_local {
            wanted.extend(
                service.external_ips.iter().map(|ip| (*ip, &ranges.external[..], "external")),
            );
            wanted.extend(
                service
                    .load_balancer_ips
                    .iter()
                    .map(|ip| (*ip, &ranges.load_balancer[..], "load balancer")),
            );
        }
        let ready_here = local_ready.contains(name.as_str());
        for (ip, inside, what) in wanted {
            // No range of that kind configured: not advertised, as in Calico, and no problem
            // (a cluster that advertises only load balancer IPs is common).
            if inside.is_empty() {
                continue;
            }
            if !inside.iter().any(|range| range.contains(&ip)) {
                let message = format!(
                    "{what} IP {ip} is outside the configured service ranges: not advertised"
                );
                problems.push(Problem::new(&key, message));
                continue;
            }
            let host = IpNet::from(ip);
            if ready_here && !out.contains(&host) {
                out.push(host);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datastore::resources::{BgpConfiguration, Node};

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    fn cidrs(list: &[&str]) -> Vec<ServiceCidr> {
        list.iter().map(|c| ServiceCidr { cidr: c.to_string() }).collect()
    }

    fn view_with_ranges() -> ClusterView {
        let mut config = BgpConfiguration::default();
        config.spec.service_cluster_ips = cidrs(&["10.96.0.0/12", "not-a-cidr"]);
        config.spec.service_external_ips = cidrs(&["198.18.100.0/24", "0.0.0.0/0"]);
        config.spec.service_load_balancer_ips = cidrs(&["198.18.200.0/24", "2001:db8:200::/112"]);
        let mut view = ClusterView::default();
        view.bgp_configurations.insert("default".into(), config);
        view.nodes.insert("node-1".into(), Node::default());
        view
    }

    #[test]
    fn ranges_parsed_and_bad_ones_reported() {
        let mut problems = Vec::new();
        let ranges = service_ranges(&view_with_ranges(), &mut problems);
        assert_eq!(ranges.cluster, [net("10.96.0.0/12")]);
        assert_eq!(ranges.external, [net("198.18.100.0/24")]);
        assert_eq!(ranges.load_balancer.len(), 2);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.contains("not-a-cidr"));
        assert!(problems[1].message.contains("default route"));
    }

    #[test]
    fn local_service_follows_its_ready_endpoint() {
        let mut view = view_with_ranges();
        let service = ServiceRecord {
            cluster_ips: vec!["10.96.0.10".parse().unwrap()],
            load_balancer_ips: vec![
                "198.18.200.7".parse().unwrap(),
                "203.0.113.9".parse().unwrap(),
            ],
            external_local: true,
            ..ServiceRecord::default()
        };
        view.services.insert("default/web".into(), service);
        let slice = SliceRecord { service: "default/web".into(), local_ready: false };
        view.endpoint_slices.insert("default/web-abc".into(), slice);
        let ranges = service_ranges(&view, &mut Vec::new());
        let mut problems = Vec::new();
        let without = service_prefixes(&view, "node-1", &ranges, &mut problems);
        assert_eq!(without, ranges.all(), "only the ranges without a ready local endpoint");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, "services/default/web");
        assert!(problems[0].message.contains("203.0.113.9"));

        view.endpoint_slices.get_mut("default/web-abc").unwrap().local_ready = true;
        let with = service_prefixes(&view, "node-1", &ranges, &mut Vec::new());
        assert!(with.contains(&net("198.18.200.7/32")));
        assert!(with.contains(&net("10.96.0.10/32")), "cluster IP: external policy is Local");
        assert!(!with.contains(&net("203.0.113.9/32")));

        let labels = &mut view.nodes.get_mut("node-1").unwrap().metadata.labels;
        labels.insert(EXCLUDE_LABEL.into(), "true".into());
        assert!(service_prefixes(&view, "node-1", &ranges, &mut Vec::new()).is_empty());
        // A node not in the view (wrong name, deleted) advertises nothing either.
        assert!(service_prefixes(&view, "node-9", &ranges, &mut Vec::new()).is_empty());
    }

    #[test]
    fn headless_services_and_unconfigured_range_kinds_are_skipped_quietly() {
        let mut view = view_with_ranges();
        view.bgp_configurations.get_mut("default").unwrap().spec.service_external_ips.clear();
        let service = ServiceRecord {
            cluster_ips: vec!["10.96.0.10".parse().unwrap()],
            external_ips: vec!["203.0.113.9".parse().unwrap()],
            external_local: true,
            ..ServiceRecord::default()
        };
        let headless = ServiceRecord { cluster_ips: Vec::new(), ..service.clone() };
        view.services.insert("default/web".into(), service);
        view.services.insert("default/headless".into(), headless);
        for name in ["web", "headless"] {
            let slice = SliceRecord { service: format!("default/{name}"), local_ready: true };
            view.endpoint_slices.insert(format!("default/{name}-abc"), slice);
        }
        let mut problems = Vec::new();
        let ranges = service_ranges(&view, &mut problems);
        problems.clear();
        let prefixes = service_prefixes(&view, "node-1", &ranges, &mut problems);
        assert!(problems.is_empty(), "no external range configured: no problem: {problems:?}");
        assert!(prefixes.contains(&net("10.96.0.10/32")));
        assert!(!prefixes.contains(&net("203.0.113.9/32")));
        assert_eq!(prefixes.len(), ranges.all().len() + 1, "nothing from the headless one");
    }
}
