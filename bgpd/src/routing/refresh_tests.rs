//! ROUTE-REFRESH requests are coalesced by the RIB task: one table walk per peer and family
//! per input batch, however many requests the peer sent.
use std::sync::Arc;

use bgp_core::fsm::{local_open, FsmConfig, Negotiated};
use bgp_core::policy::Policy;
use bgp_core::wire::{Capability, Family, Open, RouteRefresh};
use tokio::sync::mpsc;

use super::RibTask;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::peer::writer;
use crate::routing::input::{PeerKey, PeerSettings, RibInput};

const YAML: &str = "router_id: 198.18.0.1\nlocal_as: 64512\nkernel: {enabled: false}\n";

fn peer() -> PeerKey {
    "198.18.0.2".parse().unwrap()
}

/// A RIB task with neighbour 198.18.0.2 configured and Established.
fn task_with_session() -> RibTask {
    let config = crate::config::parse(YAML, "bgpd.yaml").unwrap();
    let mut t = RibTask::new(&config, None, Arc::new(Metrics::new()), Arc::new(Health::new()));
    let settings = PeerSettings {
        remote_as: 64513,
        ibgp: false,
        route_reflector_client: false,
        next_hop_self: false,
        next_hop_keep: false,
        allow_local_as: 0,
        next_hop_v4: None,
        next_hop_v6: None,
        enforce_first_as: true,
        import: Policy::All,
        export: Policy::All,
        max_prefixes: None,
    };
    t.handle(RibInput::Configure { peer: peer(), settings: Box::new(settings) });
    let fsm = FsmConfig::new(64512, "198.18.0.1".parse().unwrap(), 64513);
    let caps = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::Multiprotocol(Family::IPV6_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(64513),
    ];
    let theirs = Open::new(64513, 90, "198.18.0.2".parse().unwrap(), caps);
    let negotiated = Negotiated::from_opens(&fsm, &local_open(&fsm), &theirs).unwrap();
    let (sink, _far) = tokio::io::duplex(1 << 16);
    let out = writer::spawn(sink, Box::new(|| {})).updates();
    let (control, _rx) = mpsc::unbounded_channel();
    t.handle(RibInput::PeerUp {
        peer: peer(),
        negotiated: Box::new(negotiated),
        local_address: "198.18.0.1".parse().unwrap(),
        out,
        control,
    });
    t
}

fn refresh(t: &mut RibTask, family: Family) {
    t.handle(RibInput::RouteRefresh { peer: peer(), request: RouteRefresh::new(family) });
}

#[tokio::test]
async fn a_refresh_storm_costs_one_walk_per_family() {
    let mut t = task_with_session();
    for _ in 0..1000 {
        refresh(&mut t, Family::IPV4_UNICAST);
    }
    refresh(&mut t, Family::IPV6_UNICAST);
    assert_eq!(t.refresh_pending.len(), 2, "one per family");
    let merged = t.metrics.route_refresh_coalesced.with_label_values(&["198.18.0.2"]).get();
    assert_eq!(merged, 999);
    t.apply_refreshes();
    assert!(t.refresh_pending.is_empty());
    // A later request is answered again.
    refresh(&mut t, Family::IPV4_UNICAST);
    assert_eq!(t.refresh_pending.len(), 1);
}

#[tokio::test]
async fn a_session_that_ends_takes_its_pending_refreshes_along() {
    let mut t = task_with_session();
    refresh(&mut t, Family::IPV4_UNICAST);
    t.handle(RibInput::PeerDown { peer: peer(), graceful: false });
    assert!(t.refresh_pending.is_empty());
}
