//! route-sync against a real kernel, each test in its own pair of network namespaces.

mod common;

use std::time::Duration;

use common::{gateways, ip, net, wait_until, Lab, PROTO};
use route_sync::{KernelConfig, KernelEvent, Reconcile, RouteSync, Stats, SyncOptions};
use tokio::sync::mpsc::Receiver;

fn cfg() -> KernelConfig {
    KernelConfig { protocol: PROTO, table: 254, metric: 20 }
}

/// Waits for an event matching `pred`, skipping others.
async fn expect_event(
    rx: &mut Receiver<KernelEvent>,
    what: &str,
    pred: impl Fn(&KernelEvent) -> bool,
) -> KernelEvent {
    let wait = async {
        loop {
            match rx.recv().await {
                Some(ev) if pred(&ev) => return ev,
                Some(_) => continue,
                None => panic!("event channel closed while waiting for {what}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .unwrap_or_else(|_| panic!("no event: {what}"))
}

fn install_replace_withdraw(name: &str, objects: bool) {
    let lab = Lab::new(name);
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        let opts = SyncOptions { nexthop_objects: objects, ..SyncOptions::default() };
        let (rs, _events) = RouteSync::start_with(cfg(), Reconcile::Now, opts).await.unwrap();
        rs.initial_sync_done();
        assert!(rs.is_reachable(ip("198.18.0.2")));
        assert!(!rs.is_reachable(ip("198.18.9.2")));
        assert!(!rs.is_reachable(ip("198.18.0.1")), "our own address");

        // install
        rs.set(net("198.19.1.0/24"), vec![ip("198.18.0.2")]);
        rs.set(net("2001:db8:100::/64"), vec![ip("2001:db8::2")]);
        wait_until(5.0, "v4 + v6 installed", || {
            l.route(PROTO, "198.19.1.0/24").is_some()
                && l.route(PROTO, "2001:db8:100::/64").is_some()
        })
        .await;
        let r = l.route(PROTO, "198.19.1.0/24").unwrap();
        assert_eq!(gateways(&r), vec!["198.18.0.2"]);
        assert_eq!(r["dev"], "veth0");
        assert_eq!(r["metric"], 20);
        assert_eq!(r.get("nhid").is_some(), objects, "{r}");

        // ECMP
        rs.set(net("198.19.2.0/24"), vec![ip("198.18.0.3"), ip("198.18.0.2")]);
        rs.set(net("2001:db8:200::/64"), vec![ip("2001:db8::2"), ip("2001:db8::3")]);
        wait_until(5.0, "ECMP", || {
            l.route(PROTO, "198.19.2.0/24").is_some_and(|r| gateways(&r).len() == 2)
                && l.route(PROTO, "2001:db8:200::/64").is_some_and(|r| gateways(&r).len() == 2)
        })
        .await;
        assert_eq!(
            gateways(&l.route(PROTO, "198.19.2.0/24").unwrap()),
            vec!["198.18.0.2", "198.18.0.3"]
        );

        // replace the next hop
        rs.set(net("198.19.1.0/24"), vec![ip("198.18.0.3")]);
        wait_until(5.0, "next hop replaced", || {
            l.route(PROTO, "198.19.1.0/24").is_some_and(|r| gateways(&r) == ["198.18.0.3"])
        })
        .await;

        // blackhole for our own Pod CIDR
        rs.set_blackhole(net("198.19.9.0/24"), true);
        wait_until(5.0, "blackhole", || {
            l.route(PROTO, "198.19.9.0/24").is_some_and(|r| r["type"] == "blackhole")
        })
        .await;

        // snapshot: the kernel's view with device names
        let snap = rs.snapshot().await;
        assert_eq!(snap.len(), 5, "{snap:?}");
        let s = snap.iter().find(|r| r.prefix == net("198.19.2.0/24")).unwrap();
        assert_eq!(s.next_hops.len(), 2);
        assert!(s.next_hops.iter().all(|h| h.dev == "veth0"), "{s:?}");
        assert!(snap.iter().any(|r| r.blackhole && r.prefix == net("198.19.9.0/24")));

        // withdraw
        rs.remove(net("198.19.1.0/24"));
        rs.remove(net("2001:db8:100::/64"));
        rs.set_blackhole(net("198.19.9.0/24"), false);
        wait_until(5.0, "withdrawn", || l.routes(PROTO).len() == 2).await;
        let stats = rs.stats();
        assert_eq!(Stats::get(&stats.installed), 2);
        assert!(Stats::get(&stats.install_ok) >= 6);
        assert_eq!(Stats::get(&stats.install_failed), 0);

        rs.shutdown(true).await;
        assert!(l.routes(PROTO).is_empty());
        if objects {
            let nh = l.ip(&["nexthop", "show", "protocol", &PROTO.to_string()]);
            assert!(nh.trim().is_empty(), "nexthop objects left: {nh}");
        }
    });
}

#[test]
fn install_ecmp_replace_withdraw_with_nexthop_objects() {
    require_root!();
    install_replace_withdraw("inst-obj", true);
}

#[test]
fn install_ecmp_replace_withdraw_inline() {
    require_root!();
    install_replace_withdraw("inst-inl", false);
}

#[test]
fn foreign_route_is_left_alone_and_reported() {
    require_root!();
    let lab = Lab::new("foreign");
    lab.ip(&[
        "route",
        "add",
        "198.19.5.0/24",
        "via",
        "198.18.0.2",
        "proto",
        "static",
        "metric",
        "20",
    ]);
    lab.ip(&[
        "route",
        "add",
        "198.19.6.0/24",
        "via",
        "198.18.0.2",
        "proto",
        "static",
        "metric",
        "5",
    ]);
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        let (rs, mut events) = RouteSync::start(cfg(), Reconcile::Now).await.unwrap();
        rs.initial_sync_done();
        rs.set(net("198.19.5.0/24"), vec![ip("198.18.0.3")]);
        rs.set(net("198.19.6.0/24"), vec![ip("198.18.0.3")]);
        let ev = expect_event(&mut events, "ForeignRoute", |e| {
            matches!(e, KernelEvent::ForeignRoute { .. })
        })
        .await;
        assert_eq!(ev, KernelEvent::ForeignRoute { prefix: net("198.19.5.0/24"), protocol: 4 });
        // Another metric: both coexist.
        wait_until(5.0, "ours beside the metric-5 static", || {
            l.route(PROTO, "198.19.6.0/24").is_some()
        })
        .await;
        let statics = l.routes_of("static");
        assert_eq!(statics.len(), 2, "foreign routes untouched: {statics:?}");
        assert!(statics.iter().all(|r| gateways(r) == ["198.18.0.2"]));
        assert!(l.route(PROTO, "198.19.5.0/24").is_none());
        assert_eq!(Stats::get(&rs.stats().foreign_conflicts), 1);
        // When the foreign route goes, ours moves in.
        l.ip(&["route", "del", "198.19.5.0/24", "proto", "static"]);
        wait_until(5.0, "ours installed after the foreign one left", || {
            l.route(PROTO, "198.19.5.0/24").is_some()
        })
        .await;
        // Flush never takes foreign routes with it.
        rs.shutdown(true).await;
        assert_eq!(l.routes_of("static").len(), 1);
    });
}

#[test]
fn route_deleted_or_changed_behind_our_back_is_restored() {
    require_root!();
    let lab = Lab::new("repair");
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        let (rs, _events) = RouteSync::start(cfg(), Reconcile::Now).await.unwrap();
        rs.initial_sync_done();
        rs.set(net("198.19.1.0/24"), vec![ip("198.18.0.2")]);
        rs.set(net("2001:db8:100::/64"), vec![ip("2001:db8::2")]);
        wait_until(5.0, "installed", || l.routes(PROTO).len() == 2).await;
        l.ip(&["route", "del", "198.19.1.0/24", "proto", "186"]);
        l.ip(&["-6", "route", "del", "2001:db8:100::/64", "proto", "186"]);
        wait_until(5.0, "restored after delete", || l.routes(PROTO).len() == 2).await;
        assert_eq!(Stats::get(&rs.stats().repaired), 2);
        // Changed with our protocol by someone else: put back as we want it.
        l.ip(&[
            "route",
            "replace",
            "198.19.1.0/24",
            "via",
            "198.18.0.3",
            "proto",
            "186",
            "metric",
            "20",
        ]);
        tokio::time::sleep(Duration::from_millis(100)).await;
        wait_until(5.0, "restored after change", || {
            l.route(PROTO, "198.19.1.0/24").is_some_and(|r| gateways(&r) == ["198.18.0.2"])
        })
        .await;
        assert_eq!(Stats::get(&rs.stats().repaired), 3);
        rs.shutdown(true).await;
    });
}

/// First run installs A and B and stops without flushing (graceful restart).
async fn first_run(l: &Lab) {
    let (rs, _events) = RouteSync::start(cfg(), Reconcile::Now).await.unwrap();
    rs.set(net("198.19.1.0/24"), vec![ip("198.18.0.2")]);
    rs.set(net("198.19.2.0/24"), vec![ip("198.18.0.2")]);
    rs.shutdown(false).await;
    assert_eq!(l.routes(PROTO).len(), 2, "left in place");
}

#[test]
fn restart_without_grace_purges_stale_routes_at_initial_sync() {
    require_root!();
    let lab = Lab::new("restart-now");
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        first_run(&l).await;
        let (rs, mut events) = RouteSync::start(cfg(), Reconcile::Now).await.unwrap();
        rs.set(net("198.19.1.0/24"), vec![ip("198.18.0.2")]);
        expect_event(&mut events, "in sync", |e| *e == KernelEvent::InSync(true)).await;
        assert_eq!(l.routes(PROTO).len(), 2, "stale B kept until the RIB has converged");
        rs.initial_sync_done();
        wait_until(5.0, "stale purged", || l.routes(PROTO).len() == 1).await;
        assert!(l.route(PROTO, "198.19.1.0/24").is_some());
        assert_eq!(Stats::get(&rs.stats().install_ok), 0, "A taken over, not reinstalled");
        assert_eq!(Stats::get(&rs.stats().installed), 1);
        rs.shutdown(true).await;
    });
}

#[test]
fn restart_with_grace_keeps_stale_routes_until_the_grace_period_ends() {
    require_root!();
    let lab = Lab::new("restart-gr");
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        first_run(&l).await;
        let started = std::time::Instant::now();
        let grace = Reconcile::AfterGrace(Duration::from_millis(1500));
        let (rs, _events) = RouteSync::start(cfg(), grace).await.unwrap();
        rs.set(net("198.19.1.0/24"), vec![ip("198.18.0.3")]);
        wait_until(5.0, "A moved to .3", || {
            l.route(PROTO, "198.19.1.0/24").is_some_and(|r| gateways(&r) == ["198.18.0.3"])
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(l.route(PROTO, "198.19.2.0/24").is_some(), "stale B forwards during grace");
        wait_until(5.0, "stale purged after grace", || l.routes(PROTO).len() == 1).await;
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(1400), "purged too early: {took:?}");
        rs.shutdown(false).await;

        // Third run: grace, but the RIB converges early (End-of-RIB): purge right then.
        let (rs, _events) =
            RouteSync::start(cfg(), Reconcile::AfterGrace(Duration::from_secs(60))).await.unwrap();
        rs.initial_sync_done();
        wait_until(5.0, "purged at initial_sync_done", || l.routes(PROTO).is_empty()).await;
        rs.shutdown(true).await;
        let nh = l.ip(&["nexthop", "show", "protocol", "186"]);
        assert!(nh.trim().is_empty(), "objects of the first run left: {nh}");
    });
}

#[test]
fn interface_down_reports_unreachable_next_hops_and_comes_back() {
    require_root!();
    let lab = Lab::new("ifdown");
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        let (rs, mut events) = RouteSync::start(cfg(), Reconcile::Now).await.unwrap();
        rs.initial_sync_done();
        rs.set(net("198.19.1.0/24"), vec![ip("198.18.0.2")]);
        rs.set(net("198.19.2.0/24"), vec![ip("198.18.0.2"), ip("198.18.0.3")]);
        rs.set(net("2001:db8:100::/64"), vec![ip("2001:db8::2")]);
        wait_until(5.0, "installed", || l.routes(PROTO).len() == 3).await;
        expect_event(&mut events, "in sync", |e| *e == KernelEvent::InSync(true)).await;

        l.ip(&["link", "set", "veth0", "down"]);
        let ev = expect_event(&mut events, "unreachable", |e| {
            matches!(e, KernelEvent::NextHopsUnreachable(_))
        })
        .await;
        let KernelEvent::NextHopsUnreachable(mut hops) = ev else { unreachable!() };
        hops.sort();
        assert_eq!(hops, vec![ip("198.18.0.2"), ip("198.18.0.3"), ip("2001:db8::2")]);
        assert!(!rs.is_reachable(ip("198.18.0.2")));
        wait_until(5.0, "routes gone with the link", || l.routes(PROTO).is_empty()).await;

        l.ip(&["link", "set", "veth0", "up"]);
        expect_event(&mut events, "reachable", |e| matches!(e, KernelEvent::NextHopsReachable(_)))
            .await;
        // The kernel dropped the static IPv6 address with the link (keep_addr_on_down=0).
        l.ip(&["addr", "replace", "2001:db8::1/64", "dev", "veth0", "nodad"]);
        wait_until(8.0, "routes back with the link", || {
            l.routes(PROTO).len() == 3
                && l.route(PROTO, "198.19.2.0/24").is_some_and(|r| gateways(&r).len() == 2)
        })
        .await;
        rs.shutdown(true).await;
    });
}

#[test]
fn peer_down_clears_its_routes_with_one_nexthop_delete() {
    require_root!();
    let lab = Lab::new("peerdown");
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        let (rs, _events) = RouteSync::start(cfg(), Reconcile::Now).await.unwrap();
        rs.initial_sync_done();
        let p = |i: u32| net(&format!("198.19.{}.{}/32", i / 256, i % 256));
        for i in 0..3000 {
            rs.set(p(i), vec![ip("198.18.0.2")]);
        }
        rs.set(net("198.19.200.0/24"), vec![ip("198.18.0.3")]);
        let stats = rs.stats();
        wait_until(10.0, "installed", || stats.installed() == 3001).await;
        let objects = l.ip(&["nexthop", "show", "protocol", "186"]);
        assert_eq!(objects.lines().count(), 2, "{objects}");
        // The peer behind .2 goes down: the RIB withdraws its routes.
        for i in 0..3000 {
            rs.remove(p(i));
        }
        wait_until(10.0, "withdrawn", || stats.installed() == 1).await;
        assert_eq!(stats.removed(), 3000);
        assert_eq!(stats.netlink_errors(), 0);
        assert_eq!(l.routes(PROTO).len(), 1);
        let objects = l.ip(&["nexthop", "show", "protocol", "186"]);
        assert!(objects.contains("198.18.0.3") && !objects.contains("198.18.0.2"), "{objects}");
        rs.shutdown(true).await;
    });
}

#[test]
fn a_long_backlog_installed_in_spread_order_lands_complete() {
    require_root!();
    let lab = Lab::new("spread");
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        let (rs, _events) = RouteSync::start(cfg(), Reconcile::Now).await.unwrap();
        rs.initial_sync_done();
        // More than the spread threshold (4096), set at once: the task plans them out of
        // address order.
        let n = 6000u32;
        let p = |i: u32| format!("198.19.{}.{}", i / 256, i % 256);
        let hops = [ip("198.18.0.2")];
        rs.set_many((0..n).map(|i| (net(&format!("{}/32", p(i))), &hops[..])));
        let stats = rs.stats();
        wait_until(20.0, "all installed", || stats.installed() == u64::from(n)).await;
        let mut want: Vec<String> = (0..n).map(p).collect();
        want.sort();
        let dsts = |l: &Lab| {
            let mut got: Vec<String> = l
                .routes(PROTO)
                .iter()
                .filter_map(|r| r["dst"].as_str().map(str::to_string))
                .collect();
            got.sort();
            got
        };
        assert_eq!(dsts(&l), want, "exactly the wanted routes, each once");
        // A new next hop for every one of them: replaced in place, none lost.
        let other = [ip("198.18.0.3")];
        rs.set_many((0..n).map(|i| (net(&format!("{}/32", p(i))), &other[..])));
        wait_until(20.0, "all moved to .3", || {
            l.routes(PROTO).iter().all(|r| gateways(r) == vec!["198.18.0.3"])
        })
        .await;
        assert_eq!(dsts(&l), want);
        assert_eq!(stats.netlink_errors(), 0);
        rs.remove_many((0..n).map(|i| net(&format!("{}/32", p(i)))));
        wait_until(20.0, "all removed", || stats.installed() == 0).await;
        assert!(l.routes(PROTO).is_empty());
        rs.shutdown(true).await;
    });
}

#[test]
fn next_hop_behind_a_static_route_is_installed_via_its_gateway_and_follows_it() {
    require_root!();
    let lab = Lab::new("recursive");
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    // Present before the start (found by the dump); the IPv6 one comes later (notification).
    l.ip(&["route", "add", "198.18.40.0/24", "via", "198.18.0.2", "metric", "30"]);
    lab.run(move || async move {
        let (rs, mut events) = RouteSync::start(cfg(), Reconcile::Now).await.unwrap();
        rs.initial_sync_done();
        assert_eq!(rs.next_hop_cost(ip("198.18.40.7")), Some(30), "behind the static route");
        assert_eq!(rs.next_hop_cost(ip("198.18.0.2")), Some(0), "connected");
        assert_eq!(rs.next_hop_cost(ip("198.18.41.7")), None, "no route");

        rs.set(net("198.19.5.0/24"), vec![ip("198.18.40.7")]);
        rs.set(net("2001:db8:300::/64"), vec![ip("2001:db8:40::7")]);
        expect_event(&mut events, "v6 next hop unreachable", |e| {
            *e == KernelEvent::NextHopsUnreachable(vec![ip("2001:db8:40::7")])
        })
        .await;
        wait_until(5.0, "v4 route via the static route's gateway", || {
            l.route(PROTO, "198.19.5.0/24").is_some_and(|r| gateways(&r) == ["198.18.0.2"])
        })
        .await;
        assert!(l.route(PROTO, "2001:db8:300::/64").is_none());

        l.ip(&["-6", "route", "add", "2001:db8:40::/48", "via", "2001:db8::3"]);
        expect_event(&mut events, "v6 next hop reachable", |e| {
            *e == KernelEvent::NextHopsReachable(vec![ip("2001:db8:40::7")])
        })
        .await;
        expect_event(&mut events, "network changed", |e| *e == KernelEvent::NetworkChanged).await;
        wait_until(5.0, "v6 route via the new route's gateway", || {
            l.route(PROTO, "2001:db8:300::/64").is_some_and(|r| gateways(&r) == ["2001:db8::3"])
        })
        .await;

        // The static route moves to another gateway: ours follows.
        l.ip(&["route", "replace", "198.18.40.0/24", "via", "198.18.0.3", "metric", "30"]);
        wait_until(5.0, "v4 route follows the gateway", || {
            l.route(PROTO, "198.19.5.0/24").is_some_and(|r| gateways(&r) == ["198.18.0.3"])
        })
        .await;

        // It goes: the next hop is unreachable, our route is withdrawn from the kernel.
        l.ip(&["route", "del", "198.18.40.0/24", "metric", "30"]);
        expect_event(&mut events, "v4 next hop unreachable", |e| {
            *e == KernelEvent::NextHopsUnreachable(vec![ip("198.18.40.7")])
        })
        .await;
        assert_eq!(rs.next_hop_cost(ip("198.18.40.7")), None);
        wait_until(5.0, "v4 route removed", || l.route(PROTO, "198.19.5.0/24").is_none()).await;
        assert!(l.route(PROTO, "2001:db8:300::/64").is_some(), "the other family untouched");

        // A route naming a nexthop object (as FRR's zebra installs them), then the object
        // changing under it.
        l.ip(&["nexthop", "add", "id", "77", "via", "198.18.0.2", "dev", "veth0"]);
        l.ip(&["route", "add", "198.18.60.0/24", "nhid", "77"]);
        rs.set(net("198.19.6.0/24"), vec![ip("198.18.60.9")]);
        wait_until(5.0, "route via the object's gateway", || {
            l.route(PROTO, "198.19.6.0/24").is_some_and(|r| gateways(&r) == ["198.18.0.2"])
        })
        .await;
        l.ip(&["nexthop", "replace", "id", "77", "via", "198.18.0.3", "dev", "veth0"]);
        wait_until(5.0, "route follows the object", || {
            l.route(PROTO, "198.19.6.0/24").is_some_and(|r| gateways(&r) == ["198.18.0.3"])
        })
        .await;
        l.ip(&["nexthop", "del", "id", "77"]);
        wait_until(5.0, "route gone with the object", || l.route(PROTO, "198.19.6.0/24").is_none())
            .await;
        assert_eq!(rs.next_hop_cost(ip("198.18.60.9")), None);
        rs.shutdown(true).await;
    });
}

#[test]
fn lost_notifications_make_it_read_the_kernel_again_and_repair() {
    require_root!();
    let lab = Lab::new("enobufs");
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    let batch = std::env::temp_dir().join(format!("rs-enobufs-{}.batch", std::process::id()));
    let lines: String = (0..4000u32)
        .map(|i| format!("route add 198.18.{}.{}/32 dev veth0\n", 128 + i / 250, 1 + i % 250))
        .collect();
    std::fs::write(&batch, lines).unwrap();
    let batch_path = batch.to_string_lossy().to_string();
    lab.run(move || async move {
        // A monitor buffer far too small for the burst below.
        let opts = SyncOptions { monitor_buffer_bytes: 4096, ..SyncOptions::default() };
        let (rs, _events) = RouteSync::start_with(cfg(), Reconcile::Now, opts).await.unwrap();
        rs.initial_sync_done();
        rs.set(net("198.19.1.0/24"), vec![ip("198.18.0.2")]);
        wait_until(5.0, "installed", || l.route(PROTO, "198.19.1.0/24").is_some()).await;
        let stats = rs.stats();
        let errors_before = Stats::get(&stats.netlink_errors);
        // The task cannot read while this thread runs `ip` (one thread): 4000 foreign routes
        // overflow its socket, and our route's deletion is lost among them.
        l.ip(&["-batch", &batch_path]);
        l.ip(&["route", "del", "198.19.1.0/24", "proto", &PROTO.to_string(), "metric", "20"]);
        assert!(l.route(PROTO, "198.19.1.0/24").is_none());
        wait_until(10.0, "our route put back after the resync", || {
            l.route(PROTO, "198.19.1.0/24").is_some_and(|r| gateways(&r) == ["198.18.0.2"])
        })
        .await;
        assert!(Stats::get(&stats.netlink_errors) > errors_before, "ENOBUFS counted");
        assert_eq!(Stats::get(&stats.repaired), 1);
        rs.shutdown(true).await;
    });
    let _ = std::fs::remove_file(batch);
}

/// Routes an older bgpd left with protocol 186 and metric 20 are counted (and warned about)
/// at start by a bgpd with the new identity; they are not its own.
#[test]
fn legacy_routes_are_counted_at_start() {
    require_root!();
    let lab = Lab::new("legacy");
    for prefix in ["198.19.8.0/24", "198.19.9.0/24"] {
        lab.ip(&["route", "add", prefix, "via", "198.18.0.2", "proto", "186", "metric", "20"]);
    }
    lab.ip(&[
        "route",
        "add",
        "198.19.10.0/24",
        "via",
        "198.18.0.2",
        "proto",
        "186",
        "metric",
        "30",
    ]);
    let l = Lab { ns: lab.ns.clone(), peer: lab.peer.clone() };
    lab.run(move || async move {
        let (rs, _events) =
            RouteSync::start(KernelConfig::default(), Reconcile::Now).await.unwrap();
        assert_eq!(rs.legacy_at_start(), 2);
        assert_eq!(rs.found_at_start(), 0, "not ours");
        rs.shutdown(true).await;
        assert_eq!(l.routes_of("186").len(), 3, "left alone");
    });
}
