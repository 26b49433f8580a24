//! Answers to control-socket queries, as the contract's JSON (docs/operations.md).
use std::net::IpAddr;

use bgp_core::rib::{PathView, RouteExplain};
use bgp_core::wire::Origin;
use ipnet::IpNet;
use serde_json::{json, Map, Value};

use super::task::RibTask;
use crate::messages::{Query, QueryAnswer};

impl RibTask {
    pub(super) fn answer(&self, query: Query) -> QueryAnswer {
        match query {
            Query::NextHops => Value::Array(
                self.rib.next_hops().into_iter().map(|nh| self.next_hop_json(nh)).collect(),
            ),
            Query::PeerCounts => {
                let mut map = Map::new();
                for (addr, entry) in self.peers.iter() {
                    let c = self.rib.peer_counts(entry.id).unwrap_or_default();
                    map.insert(
                        addr.to_string(),
                        json!({"received": c.received, "accepted": c.accepted, "advertised": c.advertised,
                               "stale": c.stale, "looped": c.looped,
                               "malformed_as_path": c.malformed_as_path}),
                    );
                }
                Value::Object(map)
            }
            Query::Routes { prefix, received_from, advertised_to, explain } => {
                let routes = self.rib.routes(prefix.as_ref());
                Value::Array(
                    routes
                        .iter()
                        .filter_map(|r| route_json(r, received_from, advertised_to, explain, self))
                        .collect(),
                )
            }
        }
    }

    /// Is `prefix` currently advertised to the neighbour at `addr`?
    fn advertised_to(&self, addr: IpAddr, prefix: &IpNet) -> bool {
        let Some(entry) = self.peers.get(&addr) else { return false };
        self.rib.advertised(entry.id, prefix).is_some()
    }
}

fn route_json(
    route: &RouteExplain,
    received_from: Option<IpAddr>,
    advertised_to: Option<IpAddr>,
    explain: bool,
    task: &RibTask,
) -> Option<Value> {
    if let Some(to) = advertised_to {
        if !task.advertised_to(to, &route.prefix) {
            return None;
        }
    }
    let paths: Vec<Value> = route
        .paths
        .iter()
        .filter(|p| received_from.is_none() || p.peer_address == received_from)
        .map(|p| path_json(p, explain))
        .collect();
    if paths.is_empty() {
        return None;
    }
    Some(json!({ "prefix": route.prefix.to_string(), "paths": paths }))
}

fn path_json(p: &PathView, explain: bool) -> Value {
    let a = &p.attrs.path;
    let mut v = json!({
        "from": p.peer_address.map(|a| a.to_string()).unwrap_or_else(|| "local".to_string()),
        "next_hop": match p.peer_address {
            Some(_) => p.attrs.next_hop.global.to_string(),
            None => "self".to_string(),
        },
        "as_path": a.as_path.as_ref().map(|x| x.to_string()).unwrap_or_default(),
        "local_pref": a.local_pref,
        "med": a.med,
        "origin": match a.origin {
            Some(Origin::Igp) | None => "IGP",
            Some(Origin::Egp) => "EGP",
            Some(Origin::Incomplete) => "incomplete",
        },
        "best": p.best,
        "ecmp": p.multipath,
        "stale": p.stale,
        "reason": p.lost.map(|s| s.describe()),
    });
    if p.path_id != 0 {
        v["path_id"] = json!(p.path_id);
    }
    if explain {
        v["igp_cost"] = json!(p.igp_cost);
        v["communities"] = json!(a
            .communities
            .iter()
            .map(|c| format!("{}:{}", c >> 16, c & 0xffff))
            .collect::<Vec<_>>());
        v["originator_id"] = json!(a.originator_id.map(|x| x.to_string()));
        v["cluster_list"] = json!(a.cluster_list.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    }
    v
}

impl RibTask {
    /// One next hop: reachable or not, interior cost, immediate gateways (RFC 4271 §5.1.3).
    fn next_hop_json(&self, next_hop: IpAddr) -> Value {
        let (reachable, igp_cost, via) = match &self.kernel {
            // kernel.enabled: false: every next hop counts as reachable.
            None => (true, None, Vec::new()),
            Some(kernel) => match kernel.next_hop_route(next_hop) {
                Some((cost, hops)) => (true, Some(cost), hops),
                None => (false, None, Vec::new()),
            },
        };
        let via: Vec<Value> =
            via.iter().map(|(gw, dev)| json!({"gateway": gw.to_string(), "dev": dev})).collect();
        json!({"next_hop": next_hop.to_string(), "reachable": reachable, "igp_cost": igp_cost, "via": via})
    }
}
