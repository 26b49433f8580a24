//! ROUTE-REFRESH requests are coalesced by the RIB task: one table walk per peer and family
//! per input batch, however many requests the peer sent; the answer (the family's
//! Adj-RIB-Out, RFC 2918 §4) reaches the peer's connection.
//!
//! bgpd does not announce Enhanced Route Refresh (`peer/params.rs`), so RFC 7313 never
//! applies on its sessions and the answer is not framed by BoRR/EoRR: the tests check both.
use std::sync::Arc;
use std::time::Duration;

use bgp_core::fsm::{local_open, FsmConfig, Negotiated};
use bgp_core::policy::Policy;
use bgp_core::wire::message::decode_message;
use bgp_core::wire::split_frame;
use bgp_core::wire::{Capability, Family, Message, Open, RouteRefresh, WireContext};
use bytes::BytesMut;
use ipnet::IpNet;
use tokio::io::{AsyncReadExt, DuplexStream};

use super::RibTask;
use crate::health::Health;
use crate::messages::{PeerKey, RibInput};
use crate::metrics::Metrics;
use crate::peer::writer;

const YAML: &str = "router_id: 198.18.0.1\nlocal_as: 64512\nkernel: {enabled: false}\n";

fn peer() -> PeerKey {
    "198.18.0.2".parse().unwrap()
}

/// A RIB task with neighbour 198.18.0.2 configured and Established.
fn task_with_session() -> RibTask {
    task_and_wire().0
}

/// The prefix we originate in [`task_and_wire`].
fn pod_cidr() -> IpNet {
    "198.19.1.0/24".parse().unwrap()
}

/// [`task_with_session`] exporting everything, originating [`pod_cidr`], and the neighbour's
/// end of the session's connection (what the writer sends).
fn task_and_wire() -> (RibTask, DuplexStream, writer::WriterHandle) {
    let config = crate::config::parse(YAML, "bgpd.yaml").unwrap();
    let mut t = RibTask::new(&config, None, Arc::new(Metrics::new()), Arc::new(Health::new()));
    let settings = super::stale_tests::ebgp_settings(Policy::All);
    t.handle(RibInput::Configure { peer: peer(), settings: Box::new(settings) });
    t.handle(RibInput::Originate(vec![pod_cidr()]));
    let fsm = FsmConfig::new(64512, "198.18.0.1".parse().unwrap(), 64513);
    let caps = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::Multiprotocol(Family::IPV6_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(64513),
    ];
    let theirs = Open::new(64513, 90, "198.18.0.2".parse().unwrap(), caps);
    let negotiated = Negotiated::from_opens(&fsm, &local_open(&fsm), &theirs).unwrap();
    // The session's handle keeps the writer running (dropping it closes the connection).
    let (handle, far) = super::stale_tests::session_up(&mut t, negotiated);
    (t, far, handle)
}

/// Send what the RIB has for the peer, then read every message the writer put on the wire
/// until it has been quiet for a (paused-clock) second.
async fn flushed(t: &mut RibTask, far: &mut DuplexStream) -> Vec<Message> {
    t.flush();
    let ctx = WireContext::modern();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    loop {
        while let Ok(Some(frame)) = split_frame(&mut buf, &ctx) {
            out.push(decode_message(frame, &ctx).expect("the RIB sends well-formed messages"));
        }
        match tokio::time::timeout(Duration::from_secs(1), far.read_buf(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return out,
        }
    }
}

/// How many UPDATEs in `messages` advertise [`pod_cidr`].
fn advertisements(messages: &[Message]) -> usize {
    messages
        .iter()
        .filter(
            |m| matches!(m, Message::Update(u) if u.nlri.iter().any(|n| n.prefix == pod_cidr())),
        )
        .count()
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

#[tokio::test(start_paused = true)]
async fn the_answer_to_a_refresh_storm_reaches_the_peer_once() {
    let (mut t, mut far, _writer) = task_and_wire();
    let initial = flushed(&mut t, &mut far).await;
    assert_eq!(advertisements(&initial), 1, "the initial dump: {initial:?}");
    // 1000 requests in one batch: the Adj-RIB-Out of IPv4 unicast goes out again, once.
    for _ in 0..1000 {
        refresh(&mut t, Family::IPV4_UNICAST);
    }
    t.apply_refreshes();
    let answer = flushed(&mut t, &mut far).await;
    assert_eq!(advertisements(&answer), 1, "RFC 2918 §4 re-advertisement: {answer:?}");
    // Enhanced Route Refresh is not negotiated (bgpd does not announce it): no BoRR/EoRR.
    assert!(
        !answer.iter().any(|m| matches!(m, Message::RouteRefresh(_))),
        "no RFC 7313 markers without Enhanced Route Refresh: {answer:?}"
    );
    // Nothing is re-sent without a request.
    t.apply_refreshes();
    assert_eq!(flushed(&mut t, &mut far).await, Vec::new());
}

/// RFC 7313 §4 would oblige bgpd to frame every answer with BoRR/EoRR once Enhanced Route
/// Refresh is negotiated; bgpd answers plain RFC 2918 refreshes, so it must not announce it.
#[test]
fn bgpd_does_not_announce_enhanced_route_refresh() {
    let yaml = format!("{YAML}neighbors:\n  - address: 198.18.0.2\n    remote_as: 64513\n");
    let config = crate::config::parse(&yaml, "bgpd.yaml").unwrap();
    let params = crate::peer::params::session_params(&config, &config.neighbors[0], false);
    let open = local_open(&params.fsm);
    assert!(open.capabilities().any(|c| matches!(c, Capability::RouteRefresh)));
    assert!(!open.capabilities().any(|c| matches!(c, Capability::EnhancedRouteRefresh)));
}

#[tokio::test]
async fn a_deconfigured_neighbour_takes_its_pending_refreshes_along() {
    let mut t = task_with_session();
    refresh(&mut t, Family::IPV4_UNICAST);
    t.handle(RibInput::Deconfigure { peer: peer() });
    assert!(t.refresh_pending.is_empty());
}
