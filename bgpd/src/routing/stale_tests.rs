//! The graceful-restart stale timer of the RIB task (RFC 4724 §4.2), on tokio's paused clock.
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use bgp_core::fsm::Negotiated;
use bgp_core::policy::Policy;
use bgp_core::wire::{
    AsPath, Family, GracefulRestartCap, Nlri, Origin, PathAttributes, Update, WireContext,
};
use tokio::sync::mpsc;

use super::RibTask;
use crate::health::Health;
use crate::messages::{PeerKey, PeerSettings, RibInput};
use crate::metrics::Metrics;
use crate::peer::writer;

pub(super) const PEER: &str = "198.18.0.2";

pub(super) fn peer() -> PeerKey {
    PEER.parse().unwrap()
}

/// A RIB task without kernel sync, `max_restart_time` 120 s, one eBGP neighbour.
pub(super) fn task(max_restart_time: u16) -> RibTask {
    let text = format!(
        "router_id: 198.18.0.1\nlocal_as: 64512\nkernel: {{enabled: false}}\n\
         graceful_restart: {{max_restart_time: {max_restart_time}}}\n"
    );
    let config = crate::config::parse(&text, "bgpd.yaml").unwrap();
    let mut t = RibTask::new(&config, None, Arc::new(Metrics::new()), Arc::new(Health::new()));
    let settings = ebgp_settings(Policy::None);
    t.handle(RibInput::Configure { peer: peer(), settings: Box::new(settings) });
    t
}

/// The neighbour's settings: eBGP (AS 64513), everything imported, `export` out.
pub(super) fn ebgp_settings(export: Policy) -> PeerSettings {
    PeerSettings {
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
        export,
        max_prefixes: None,
    }
}

/// The session comes up with the peer's Graceful Restart capability `gr` (IPv4 and IPv6
/// negotiated).
pub(super) fn up(t: &mut RibTask, gr: Option<GracefulRestartCap>) {
    let negotiated = Negotiated {
        peer_as: 64513,
        peer_router_id: Ipv4Addr::new(198, 18, 0, 2),
        hold_time: 90,
        keepalive_interval: Duration::from_secs(30),
        families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
        rx: WireContext::default(),
        tx: WireContext::default(),
        route_refresh: true,
        enhanced_route_refresh: false,
        local_route_refresh: true,
        local_enhanced_route_refresh: false,
        peer_graceful_restart: gr,
        local_graceful_restart: true,
        local_graceful_notification: false,
        extended_next_hop: Vec::new(),
        peer_hostname: None,
    };
    session_up(t, negotiated);
}

/// The RIB is told the session is up with `negotiated`, its UPDATEs going to a writer on an
/// in-memory connection. Returns the writer's handle (dropping it closes the connection) and
/// the neighbour's end of the connection.
pub(super) fn session_up(
    t: &mut RibTask,
    negotiated: Negotiated,
) -> (writer::WriterHandle, tokio::io::DuplexStream) {
    let (sink, far) = tokio::io::duplex(1 << 16);
    let handle = writer::spawn(sink, Box::new(|| {}));
    let (control, _rx) = mpsc::unbounded_channel();
    t.handle(RibInput::PeerUp {
        peer: peer(),
        negotiated: Box::new(negotiated),
        local_address: "198.18.0.1".parse().unwrap(),
        out: handle.updates(),
        control,
    });
    (handle, far)
}

/// Graceful Restart capability: `restart_time`, forwarding preserved for `families`.
pub(super) fn gr(restart_time: u16, families: &[Family]) -> Option<GracefulRestartCap> {
    Some(GracefulRestartCap {
        restart_state: false,
        notification: false,
        restart_time,
        families: families.iter().map(|f| (*f, true)).collect(),
    })
}

fn announce(t: &mut RibTask, prefix: &str) {
    let prefix: ipnet::IpNet = prefix.parse().unwrap();
    let mut update = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![64513])),
            ..Default::default()
        },
        ..Default::default()
    };
    match prefix {
        ipnet::IpNet::V4(_) => {
            update.attributes.next_hop = Some(Ipv4Addr::new(198, 18, 0, 2));
            update.nlri = vec![Nlri::new(prefix)];
        }
        ipnet::IpNet::V6(_) => {
            update.mp_reach = Some(bgp_core::wire::MpReach {
                family: Family::IPV6_UNICAST,
                next_hop: bgp_core::wire::MpNextHop {
                    global: "2001:db8::2".parse().unwrap(),
                    link_local: None,
                },
                nlri: vec![Nlri::new(prefix)],
            });
        }
    }
    t.handle(RibInput::Update { peer: peer(), update: Box::new(update) });
}

fn down(t: &mut RibTask) {
    t.handle(RibInput::PeerDown { peer: peer(), graceful: true });
}

/// One turn of the one-second housekeeping tick after `secs` seconds.
async fn after(t: &mut RibTask, secs: u64) {
    tokio::time::advance(Duration::from_secs(secs)).await;
    t.housekeeping();
}

fn received(t: &RibTask) -> u64 {
    let id = t.peers.get(&peer()).unwrap().id;
    t.rib.peer_counts(id).map(|c| c.received).unwrap_or(0)
}

fn purges(t: &RibTask, reason: &str) -> u64 {
    t.metrics.stale_route_purges.with_label_values(&[PEER, reason]).get()
}

#[tokio::test(start_paused = true)]
async fn a_peer_flapping_faster_than_its_restart_time_does_not_keep_stale_routes_for_ever() {
    let mut t = task(4095);
    let both = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];
    up(&mut t, gr(60, &both));
    announce(&mut t, "10.1.0.0/24");
    announce(&mut t, "10.2.0.0/24");
    down(&mut t);
    // Back after 40 s, refreshes one route, no End-of-RIB, down again 10 s later.
    after(&mut t, 40).await;
    up(&mut t, gr(60, &both));
    announce(&mut t, "10.1.0.0/24");
    after(&mut t, 10).await;
    down(&mut t);
    after(&mut t, 9).await;
    assert_eq!(received(&t), 2, "59 s after the first loss: still kept");
    // 60 s after the FIRST loss (10 s after the second): the stale routes go. A timer
    // restarted by the second loss would have kept them another 50 s, and for ever with a
    // peer that keeps flapping.
    after(&mut t, 1).await;
    assert_eq!(received(&t), 0, "restart time since the first loss ran out");
    assert_eq!(purges(&t, "restart_timer"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_new_loss_after_every_route_was_refreshed_starts_a_new_timer() {
    let mut t = task(4095);
    let both = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];
    up(&mut t, gr(60, &both));
    announce(&mut t, "10.1.0.0/24");
    down(&mut t);
    after(&mut t, 40).await;
    up(&mut t, gr(60, &both));
    announce(&mut t, "10.1.0.0/24");
    after(&mut t, 10).await;
    down(&mut t);
    after(&mut t, 30).await;
    assert_eq!(received(&t), 1, "nothing was stale at the second loss: a fresh restart time");
    after(&mut t, 30).await;
    assert_eq!(received(&t), 0);
}

#[tokio::test(start_paused = true)]
async fn the_local_cap_bounds_the_restart_time_the_peer_announces() {
    let mut t = task(30);
    up(&mut t, gr(4095, &[Family::IPV4_UNICAST]));
    announce(&mut t, "10.1.0.0/24");
    down(&mut t);
    after(&mut t, 29).await;
    assert_eq!(received(&t), 1);
    after(&mut t, 1).await;
    assert_eq!(received(&t), 0, "max_restart_time 30 wins over the announced 4095");
}

#[tokio::test(start_paused = true)]
async fn only_the_families_of_the_restart_capability_are_kept() {
    let mut t = task(120);
    up(&mut t, gr(60, &[Family::IPV4_UNICAST]));
    announce(&mut t, "10.1.0.0/24");
    announce(&mut t, "2001:db8:1::/48");
    assert_eq!(received(&t), 2);
    down(&mut t);
    assert_eq!(received(&t), 1, "the IPv6 route is not in the capability: removed at once");
    assert_eq!(purges(&t, "family_not_retained"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_max_restart_time_of_zero_keeps_nothing() {
    let mut t = task(0);
    up(&mut t, gr(60, &[Family::IPV4_UNICAST]));
    announce(&mut t, "10.1.0.0/24");
    down(&mut t);
    assert_eq!(received(&t), 0);
}

#[tokio::test(start_paused = true)]
async fn a_returning_peer_without_forwarding_state_loses_its_stale_routes_at_once() {
    let mut t = task(120);
    up(&mut t, gr(60, &[Family::IPV4_UNICAST]));
    announce(&mut t, "10.1.0.0/24");
    down(&mut t);
    after(&mut t, 5).await;
    // RFC 4724 §4.2: the new capability has IPv4 with the Forwarding State bit clear.
    let mut cleared = gr(60, &[Family::IPV4_UNICAST]);
    if let Some(g) = cleared.as_mut() {
        g.families = vec![(Family::IPV4_UNICAST, false)];
    }
    up(&mut t, cleared);
    assert_eq!(received(&t), 0);
    assert_eq!(purges(&t, "forwarding_not_preserved"), 1);
}

#[tokio::test(start_paused = true)]
async fn no_phantom_purge_after_the_returning_peer_lost_its_stale_routes_at_once() {
    let mut t = task(120);
    up(&mut t, gr(60, &[Family::IPV4_UNICAST]));
    announce(&mut t, "10.1.0.0/24");
    down(&mut t);
    after(&mut t, 5).await;
    let mut cleared = gr(60, &[Family::IPV4_UNICAST]);
    if let Some(g) = cleared.as_mut() {
        g.families = vec![(Family::IPV4_UNICAST, false)];
    }
    up(&mut t, cleared);
    assert_eq!(purges(&t, "forwarding_not_preserved"), 1);
    after(&mut t, 1).await;
    assert!(t.peers.get(&peer()).unwrap().stale_since.is_none(), "nothing stale any more");
    after(&mut t, 200).await;
    assert_eq!(purges(&t, "restart_timer"), 0, "nothing was stale at 2x the restart time");
}

#[tokio::test(start_paused = true)]
async fn no_phantom_purge_after_the_peer_refreshed_everything_without_end_of_rib() {
    let mut t = task(120);
    up(&mut t, gr(60, &[Family::IPV4_UNICAST, Family::IPV6_UNICAST]));
    announce(&mut t, "10.1.0.0/24");
    down(&mut t);
    after(&mut t, 5).await;
    up(&mut t, gr(60, &[Family::IPV4_UNICAST, Family::IPV6_UNICAST]));
    announce(&mut t, "10.1.0.0/24");
    after(&mut t, 1).await;
    assert!(t.peers.get(&peer()).unwrap().stale_since.is_none());
    after(&mut t, 200).await;
    assert_eq!(received(&t), 1, "the refreshed route stays");
    assert_eq!(purges(&t, "restart_timer"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_family_outside_the_capability_is_counted_only_when_it_had_routes() {
    let mut t = task(120);
    up(&mut t, gr(60, &[Family::IPV4_UNICAST]));
    announce(&mut t, "10.1.0.0/24");
    down(&mut t);
    assert_eq!(received(&t), 1);
    assert_eq!(purges(&t, "family_not_retained"), 0, "no IPv6 route was removed");
}

#[tokio::test(start_paused = true)]
async fn a_capability_without_families_keeps_nothing() {
    let mut t = task(120);
    up(&mut t, gr(60, &[]));
    announce(&mut t, "10.1.0.0/24");
    down(&mut t);
    assert_eq!(received(&t), 0, "a helper-only peer preserves no forwarding state");
    assert!(t.peers.get(&peer()).unwrap().stale_since.is_none());
}
