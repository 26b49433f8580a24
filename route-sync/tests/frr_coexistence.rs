//! route-sync with its default identity on a host where FRR's zebra has installed its BGP
//! routes (`proto bgp` = 186, metric 20, main table): none of them is taken for ours, neither
//! by the start-up purge of stale routes nor when we want the same prefix, nor at flush.

mod common;

use std::time::Duration;

use common::{gateways, ip, net, wait_until, Lab};
use route_sync::{KernelConfig, KernelEvent, Reconcile, RouteSync};

/// FRR's zebra: RTPROT_BGP, BGP's administrative distance as metric.
const FRR_PROTO: u8 = 186;

fn frr_route(lab: &Lab, prefix: &str, via: &str) {
    let family = if prefix.contains(':') { "-6" } else { "-4" };
    lab.ip(&[family, "route", "add", prefix, "via", via, "proto", "186", "metric", "20"]);
}

#[test]
fn frr_routes_survive_the_start_up_purge_a_prefix_collision_and_the_flush() {
    require_root!();
    let lab = Lab::new("frr-coexist");
    frr_route(&lab, "198.19.7.0/24", "198.18.0.2"); // only FRR's
    frr_route(&lab, "198.19.8.0/24", "198.18.0.2"); // both want it
    frr_route(&lab, "2001:db8:107::/64", "2001:db8::2");
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        let cfg = KernelConfig::default();
        assert_ne!(cfg.protocol, FRR_PROTO, "the default is not FRR's protocol");
        let (rs, mut events) = RouteSync::start(cfg, Reconcile::Now).await.unwrap();
        assert_eq!(rs.found_at_start(), 0, "FRR's routes are not ours from a previous run");
        rs.set(net("198.19.8.0/24"), vec![ip("198.18.0.3")]);
        rs.set(net("198.19.9.0/24"), vec![ip("198.18.0.3")]);
        // The stale purge runs now: it must find nothing of ours to purge.
        rs.initial_sync_done();
        let wait = async { while events.recv().await != Some(KernelEvent::InSync(true)) {} };
        tokio::time::timeout(Duration::from_secs(5), wait).await.expect("in sync");
        wait_until(5.0, "ours installed", || l.routes(cfg.protocol).len() == 2).await;
        let ours = l.route(cfg.protocol, "198.19.8.0/24").expect("ours beside FRR's");
        assert_eq!(gateways(&ours), ["198.18.0.3"]);
        assert_eq!(ours["metric"], cfg.metric);
        let frr = l.routes(FRR_PROTO);
        assert_eq!(frr.len(), 3, "every FRR route still there: {frr:?}");
        let frr8 = frr.iter().find(|r| r["dst"] == "198.19.8.0/24").expect("FRR's 198.19.8.0/24");
        assert_eq!(gateways(frr8), ["198.18.0.2"], "FRR's route untouched");
        assert_eq!(frr8["metric"], 20);
        // Shutdown without graceful restart removes ours only.
        rs.shutdown(true).await;
        assert!(l.routes(cfg.protocol).is_empty());
        assert_eq!(l.routes(FRR_PROTO).len(), 3);
    });
}
