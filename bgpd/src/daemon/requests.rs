//! The daemon's answers to `bgpctl`'s requests (`crate::control::protocol::Request`, passed
//! by the control server as `crate::messages::ControlRequest`): shows, reload, and the
//! administrative actions on one neighbour.
use bgp_core::wire::notification::codes;
use bgp_core::wire::RouteRefresh;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::Daemon;
use crate::control::protocol::{Request, Response};
use crate::messages::{PeerCommand, Query, QueryAnswer, RibInput};
use crate::peer::PeerHandle;

impl Daemon {
    /// Carry out one `bgpctl` request.
    pub(super) async fn answer(&mut self, request: Request) -> Response {
        match request {
            Request::ShowNeighbors => {
                let counts = self.ask_rib(Query::PeerCounts).await;
                let mut list: Vec<&PeerHandle> = self.peers.values().collect();
                list.sort_by_key(|p| p.params.neighbor.address);
                Response::ok(Value::Array(
                    list.iter().map(|p| neighbor_json(p, &counts, false)).collect(),
                ))
            }
            Request::ShowNeighbor { address } => {
                let counts = self.ask_rib(Query::PeerCounts).await;
                match self.peers.get(&address) {
                    Some(p) => Response::ok(neighbor_json(p, &counts, true)),
                    None => Response::error(format!("no neighbor {address}")),
                }
            }
            Request::ShowRoutes { prefix, received_from, advertised_to, explain } => Response::ok(
                self.ask_rib(Query::Routes { prefix, received_from, advertised_to, explain }).await,
            ),
            Request::ShowNexthops => Response::ok(self.ask_rib(Query::NextHops).await),
            Request::ShowDatastore => match &self.cluster {
                Some(c) => {
                    Response::ok(c.status.to_json(&self.config.node_name, &c.view, &c.problems))
                }
                None => Response::error("no datastore is configured (the file alone)"),
            },
            Request::ShowKernel => match &self.kernel {
                Some(k) => Response::ok(Value::Array(
                    k.snapshot().await.iter().map(kernel_route_json).collect(),
                )),
                None => Response::error("kernel sync is disabled (kernel.enabled: false)"),
            },
            Request::Reload => match self.reload().await {
                Ok(summary) => Response::ok(json!({ "summary": summary })),
                Err(e) => Response::error(e.to_string()),
            },
            Request::NeighborShutdown { address, message } => self.neighbor(address, |p| {
                p.status.lock().admin_down = true;
                p.send(PeerCommand::Stop {
                    subcode: codes::CEASE_ADMIN_SHUTDOWN,
                    message: message.unwrap_or_default(),
                })
            }),
            Request::NeighborEnable { address } => {
                self.neighbor(address, |p| p.send(PeerCommand::Start))
            }
            Request::NeighborRefresh { address } => {
                let families = match self.peers.get(&address) {
                    Some(p) => p.status.lock().negotiated.as_ref().map(|n| n.families.clone()),
                    None => return Response::error(format!("no neighbor {address}")),
                };
                let Some(families) = families else {
                    return Response::error(format!("neighbor {address} is not Established"));
                };
                self.neighbor(address, |p| {
                    for family in p.params.neighbor.families.iter().copied() {
                        if families.contains(&family.to_string()) {
                            p.send(PeerCommand::SendRouteRefresh(RouteRefresh::new(family)));
                        }
                    }
                })
            }
            Request::NeighborReset { address, message } => self.neighbor(address, |p| {
                p.send(PeerCommand::Reset {
                    subcode: codes::CEASE_ADMIN_RESET,
                    message: message.unwrap_or_default(),
                })
            }),
        }
    }

    fn neighbor(&self, address: std::net::IpAddr, f: impl FnOnce(&PeerHandle)) -> Response {
        match self.peers.get(&address) {
            Some(p) => {
                f(p);
                Response::ok(json!({ "neighbor": address.to_string() }))
            }
            None => Response::error(format!("no neighbor {address}")),
        }
    }

    pub(super) async fn ask_rib(&self, query: Query) -> QueryAnswer {
        let (tx, rx) = oneshot::channel();
        if self.rib.send(RibInput::Query { query, reply: tx }).await.is_err() {
            return Value::Null;
        }
        rx.await.unwrap_or(Value::Null)
    }
}

fn neighbor_json(p: &PeerHandle, counts: &Value, detail: bool) -> Value {
    let n = &p.params.neighbor;
    let status = p.status.lock();
    let c = &counts[n.address.to_string()];
    let mut v = json!({
        "address": n.address.to_string(),
        "remote_as": n.remote_as,
        "description": n.description,
        "source": n.source.to_string(),
        "state": status.state.to_string(),
        "uptime_secs": status.uptime_secs(),
        "established_count": status.established_count,
        "prefixes_received": c["received"].as_u64().unwrap_or(0),
        "prefixes_accepted": c["accepted"].as_u64().unwrap_or(0),
        "prefixes_advertised": c["advertised"].as_u64().unwrap_or(0),
        "last_error": status.last_error,
        "admin_down": status.admin_down,
    });
    if detail {
        v["negotiated"] = serde_json::to_value(&status.negotiated).unwrap_or(Value::Null);
        v["messages_received"] = json!(status.messages_in);
        v["messages_sent"] = json!(status.messages_out);
        v["state_secs"] = json!(status.since.elapsed().as_secs());
        v["ibgp"] = json!(n.ibgp);
        v["families"] = json!(n.families.iter().map(ToString::to_string).collect::<Vec<_>>());
    }
    v
}

/// The contract's kernel route: next hops as addresses, their devices alongside.
fn kernel_route_json(r: &route_sync::KernelRoute) -> Value {
    json!({
        "prefix": r.prefix.to_string(),
        "next_hops": r.next_hops.iter().map(|h| h.gateway.to_string()).collect::<Vec<_>>(),
        "devices": r.next_hops.iter().map(|h| h.dev.clone()).collect::<Vec<_>>(),
        "blackhole": r.blackhole,
        "nexthop_id": r.nexthop_id,
    })
}
