//! One test per step of the decision process, and ECMP.
use super::*;

const P: &str = "203.0.113.0/24";

/// Two iBGP peers (A: 198.18.0.1 rid 1.1.1.1, B: 198.18.0.2 rid 2.2.2.2).
fn two_ibgp() -> (Rib, PeerId, PeerId) {
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let b = up(&mut r, 2, peer("198.18.0.2", LOCAL_AS, "2.2.2.2"));
    (r, a, b)
}

#[test]
fn highest_local_pref_wins() {
    let (mut r, a, b) = two_ibgp();
    let mut high = attrs(&[65001, 65002, 65003]);
    high.local_pref = Some(200);
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], high, "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(b));
    assert_eq!(lost(&r, P, a), Some(Step::LowerLocalPref));
    assert_eq!(r.fib_next_hops(&net(P)), ips(&["198.18.0.2"]));
}

#[test]
fn missing_local_pref_counts_as_100() {
    let (mut r, a, b) = two_ibgp();
    let mut low = attrs(&[65001]);
    low.local_pref = Some(99);
    r.apply_update(a, &announce(&[P], attrs(&[65001, 65002]), "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], low, "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(a));
    assert_eq!(lost(&r, P, b), Some(Step::LowerLocalPref));
}

#[test]
fn shortest_as_path_wins_and_as_set_counts_one() {
    let (mut r, a, b) = two_ibgp();
    let mut with_set = attrs(&[65001]);
    if let Some(p) = &mut with_set.as_path {
        p.segments.push(crate::wire::AsPathSegment {
            seg_type: crate::wire::SegmentType::AsSet,
            asns: vec![1, 2, 3, 4],
        });
    }
    r.apply_update(a, &announce(&[P], attrs(&[65001, 65002, 65003]), "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], with_set, "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(b));
    assert_eq!(lost(&r, P, a), Some(Step::LongerAsPath));
}

#[test]
fn lowest_origin_wins() {
    let (mut r, a, b) = two_ibgp();
    let mut egp = attrs(&[65001]);
    egp.origin = Some(Origin::Egp);
    let mut incomplete = attrs(&[65001]);
    incomplete.origin = Some(Origin::Incomplete);
    r.apply_update(a, &announce(&[P], incomplete, "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], egp, "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(b));
    assert_eq!(lost(&r, P, a), Some(Step::HigherOrigin));
}

#[test]
fn lowest_med_wins_within_the_same_neighbour_as_only() {
    let (mut r, a, b) = two_ibgp();
    let c = up(&mut r, 3, peer("198.18.0.3", LOCAL_AS, "3.3.3.3"));
    let med = |asn: u32, m: Option<u32>| {
        let mut x = attrs(&[asn]);
        x.med = m;
        x
    };
    // A and B share neighbour AS 65001: B's lower MED wins. C (AS 65002) has a high MED but
    // is not compared with them on MED and goes on to the router-id step.
    r.apply_update(a, &announce(&[P], med(65001, Some(50)), "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], med(65001, Some(10)), "198.18.0.2")).unwrap();
    r.apply_update(c, &announce(&[P], med(65002, Some(500)), "198.18.0.3")).unwrap();
    assert_eq!(lost(&r, P, a), Some(Step::HigherMed));
    assert_eq!(best_peer(&r, P), Some(b));
    assert_eq!(lost(&r, P, c), Some(Step::HigherRouterId));
}

#[test]
fn missing_med_is_zero() {
    let (mut r, a, b) = two_ibgp();
    let mut m = attrs(&[65001]);
    m.med = Some(1);
    r.apply_update(a, &announce(&[P], m, "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], attrs(&[65001]), "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(b));
    assert_eq!(lost(&r, P, a), Some(Step::HigherMed));
}

#[test]
fn ebgp_beats_ibgp() {
    let mut r = rib();
    // The iBGP peer has the lower router id and address: only the eBGP step separates them.
    let i = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let e = up(&mut r, 2, peer("198.18.0.2", 65001, "2.2.2.2"));
    r.apply_update(i, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    r.apply_update(e, &announce(&[P], attrs(&[65001]), "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(e));
    assert_eq!(lost(&r, P, i), Some(Step::IbgpPath));
}

#[test]
fn lowest_igp_cost_wins_when_known() {
    let (mut r, a, b) = two_ibgp();
    r.set_resolver(Box::new(ReachableNetworks::new([
        (net("198.18.0.1/32"), Some(20)),
        (net("198.18.0.2/32"), Some(10)),
    ])));
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], attrs(&[65001]), "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(b));
    assert_eq!(lost(&r, P, a), Some(Step::HigherIgpCost));
    let view = r.explain(&net(P)).unwrap();
    assert_eq!(view.paths[0].igp_cost, Some(10));
}

#[test]
fn unreachable_next_hop_is_ineligible_until_it_resolves() {
    let (mut r, a, b) = two_ibgp();
    r.set_resolver(Box::new(ReachableNetworks::new([(net("198.18.0.2/32"), None)])));
    let c1 = r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    assert!(c1.fib.is_empty(), "unresolvable: nothing to install");
    assert_eq!(lost(&r, P, a), Some(Step::NextHopUnreachable));
    let mut worse = attrs(&[65001, 65009]);
    worse.local_pref = Some(50);
    r.apply_update(b, &announce(&[P], worse, "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(b));
    // The next hop of A becomes reachable: A (better LOCAL_PREF) takes over.
    let c = r.set_resolver(Box::new(AllReachable));
    assert_eq!(best_peer(&r, P), Some(a));
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.1"])));
    assert_eq!(r.explain(&net(P)).unwrap().paths[1].lost.unwrap().describe(), "lower LOCAL_PREF");
    // And unreachable again, announced through next_hops_changed.
    r.shared.next_hops = crate::rib::resolver::NextHopCache::new(Box::new(ReachableNetworks::new(
        [(net("198.18.0.2/32"), None)],
    )));
    let c = r.next_hops_changed(&[ip("198.18.0.1")]);
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.2"])));
}

#[test]
fn originator_id_replaces_router_id() {
    let (mut r, a, b) = two_ibgp();
    // A has the lower router id but reflects a route whose originator is 9.9.9.9.
    let mut reflected = attrs(&[65001]);
    reflected.originator_id = Some("9.9.9.9".parse().unwrap());
    r.apply_update(a, &announce(&[P], reflected, "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], attrs(&[65001]), "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(b));
    assert_eq!(lost(&r, P, a), Some(Step::HigherRouterId));
}

#[test]
fn shorter_cluster_list_wins_after_router_id() {
    let (mut r, a, b) = two_ibgp();
    let mut one = attrs(&[65001]);
    one.originator_id = Some("5.5.5.5".parse().unwrap());
    one.cluster_list = vec!["7.7.7.7".parse().unwrap()];
    let mut two = one.clone();
    two.cluster_list.push("8.8.8.8".parse().unwrap());
    r.apply_update(a, &announce(&[P], two, "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], one, "198.18.0.2")).unwrap();
    assert_eq!(best_peer(&r, P), Some(b));
    assert_eq!(lost(&r, P, a), Some(Step::LongerClusterList));
}

#[test]
fn lowest_router_id_then_lowest_peer_address() {
    let (mut r, a, b) = two_ibgp();
    r.apply_update(b, &announce(&[P], attrs(&[65001]), "198.18.0.2")).unwrap();
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    assert_eq!(best_peer(&r, P), Some(a));
    assert_eq!(lost(&r, P, b), Some(Step::HigherRouterId));

    // Same router id (two sessions to one router): the lower address wins.
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.0.9", LOCAL_AS, "1.1.1.1"));
    let b = up(&mut r, 2, peer("198.18.0.3", LOCAL_AS, "1.1.1.1"));
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.0.9")).unwrap();
    r.apply_update(b, &announce(&[P], attrs(&[65001]), "198.18.0.3")).unwrap();
    assert_eq!(best_peer(&r, P), Some(b));
    assert_eq!(lost(&r, P, a), Some(Step::HigherPeerAddress));
}

#[test]
fn locally_originated_wins_and_is_not_installed() {
    let (mut r, a, _) = two_ibgp();
    let mut great = attrs(&[]);
    great.local_pref = Some(1000);
    let c = r.apply_update(a, &announce(&[P], great, "198.18.0.1")).unwrap();
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.1"])));
    let c = r.originate(net(P));
    assert_eq!(fib_of(&c, P), Some(vec![]), "the learned route leaves the kernel");
    assert_eq!(best_peer(&r, P), None);
    assert_eq!(lost(&r, P, a), Some(Step::NotLocallyOriginated));
    let c = r.withdraw_originated(net(P));
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.1"])));
}

#[test]
fn ecmp_uses_paths_equal_through_igp_cost() {
    let mut r = rib();
    let mut ids = Vec::new();
    for i in 1..=5u32 {
        let p =
            up(&mut r, i, peer(&format!("198.18.0.{i}"), 65000 + i, &format!("{i}.{i}.{i}.{i}")));
        ids.push(p);
    }
    // Four paths through different neighbour ASes, same length: multipath (max_paths 4).
    for (i, &p) in ids.iter().enumerate().take(4) {
        let asn = 65001 + i as u32;
        r.apply_update(p, &announce(&[P], attrs(&[asn, 64999]), &format!("198.18.0.{}", i + 1)))
            .unwrap();
    }
    assert_eq!(
        r.fib_next_hops(&net(P)),
        ips(&["198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"])
    );
    // The fifth is equal too, but max_paths is 4: the highest router id stays out.
    let c = r.apply_update(ids[4], &announce(&[P], attrs(&[65005, 64999]), "198.18.0.5")).unwrap();
    assert!(fib_of(&c, P).is_none());
    let view = r.explain(&net(P)).unwrap();
    assert_eq!(view.paths.iter().filter(|p| p.multipath).count(), 4);
    assert!(view.paths[0].best && view.paths[0].peer == Some(ids[0]));
    // Narrower ECMP.
    let c = r.set_max_paths(2);
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.1", "198.18.0.2"])));
    // A path with a longer AS_PATH is not multipath; neither is one with a different MED.
    let mut longer = attrs(&[65002, 64999, 64998]);
    longer.med = None;
    let c = r.apply_update(ids[1], &announce(&[P], longer, "198.18.0.2")).unwrap();
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.1", "198.18.0.3"])));
    let mut med = attrs(&[65003, 64999]);
    med.med = Some(7);
    let c = r.apply_update(ids[2], &announce(&[P], med, "198.18.0.3")).unwrap();
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.1", "198.18.0.4"])));
}

#[test]
fn ecmp_does_not_mix_ebgp_and_ibgp_or_duplicate_next_hops() {
    let mut r = rib();
    let e = up(&mut r, 1, peer("198.18.0.1", 65001, "1.1.1.1"));
    let i = up(&mut r, 2, peer("198.18.0.2", LOCAL_AS, "2.2.2.2"));
    let e2 = up(&mut r, 3, peer("198.18.0.3", 65003, "3.3.3.3"));
    r.apply_update(e, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    r.apply_update(i, &announce(&[P], attrs(&[65002]), "198.18.0.2")).unwrap();
    assert_eq!(r.fib_next_hops(&net(P)), ips(&["198.18.0.1"]));
    // Same next hop from a second eBGP peer: one kernel next hop.
    r.apply_update(e2, &announce(&[P], attrs(&[65003]), "198.18.0.1")).unwrap();
    assert_eq!(r.fib_next_hops(&net(P)), ips(&["198.18.0.1"]));
}

#[test]
fn add_path_ids_are_separate_paths() {
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let mut u = announce(&[], attrs(&[65001]), "198.18.0.7");
    u.attributes.next_hop = Some("198.18.0.7".parse().unwrap());
    u.nlri = vec![Nlri::with_path_id(net(P), 1)];
    r.apply_update(a, &u).unwrap();
    u.attributes.next_hop = Some("198.18.0.8".parse().unwrap());
    u.nlri = vec![Nlri::with_path_id(net(P), 2)];
    r.apply_update(a, &u).unwrap();
    let view = r.explain(&net(P)).unwrap();
    assert_eq!(view.paths.len(), 2);
    assert_eq!(view.paths[0].path_id, 1);
    assert_eq!(view.paths[1].lost, Some(Step::HigherPathId));
    assert_eq!(r.peer_counts(a).unwrap().received, 2);
    let w = Update { withdrawn: vec![Nlri::with_path_id(net(P), 1)], ..Default::default() };
    let c = r.apply_update(a, &w).unwrap();
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.8"])));
}

#[test]
fn next_hop_reachability_overrides_the_resolver() {
    let (mut r, a, b) = two_ibgp();
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], attrs(&[65001, 65002]), "198.18.0.2")).unwrap();
    assert_eq!(r.next_hops(), ips(&["198.18.0.1", "198.18.0.2"]));
    let c = r.set_next_hop_reachability(&[], &[ip("198.18.0.1")]);
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.2"])));
    assert_eq!(lost(&r, P, a), Some(Step::NextHopUnreachable));
    let c = r.set_next_hop_reachability(&[ip("198.18.0.1")], &[]);
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.1"])));
    r.set_next_hop_reachability(&[], &[ip("198.18.0.1"), ip("198.18.0.2")]);
    assert_eq!(r.fib_next_hops(&net(P)), Vec::<IpAddr>::new());
    assert_eq!(r.stats().best_paths, 0);
    let c = r.clear_next_hop_overrides();
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.1"])));
}

/// A resolver whose answers the test changes behind the RIB's back, as the kernel's view
/// changes behind the daemon's.
#[derive(Clone, Default)]
struct Changing(std::sync::Arc<std::sync::Mutex<ReachableNetworks>>);

impl NextHopResolver for Changing {
    fn resolve(&self, next_hop: IpAddr) -> Resolution {
        self.0.lock().unwrap().resolve(next_hop)
    }
}

#[test]
fn revalidation_redecides_only_where_an_answer_changed() {
    let (mut r, a, b) = two_ibgp();
    let view = Changing::default();
    let set = |nets: &[(&str, Option<u32>)]| {
        *view.0.lock().unwrap() = ReachableNetworks::new(nets.iter().map(|(n, c)| (net(n), *c)));
    };
    set(&[("198.18.0.2/32", Some(10))]);
    r.set_resolver(Box::new(view.clone()));
    // A arrives while its next hop is unreachable (a route to it not there yet).
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    r.apply_update(b, &announce(&[P], attrs(&[65001, 65002]), "198.18.0.2")).unwrap();
    assert_eq!(lost(&r, P, a), Some(Step::NextHopUnreachable));
    assert!(r.revalidate_next_hops().fib.is_empty(), "nothing changed");
    // The route to A's next hop appears: A (shorter AS_PATH) wins.
    set(&[("198.18.0.1/32", Some(30)), ("198.18.0.2/32", Some(10))]);
    let c = r.revalidate_next_hops();
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.1"])));
    assert_eq!(r.explain(&net(P)).unwrap().paths[0].igp_cost, Some(30));
    // Only its cost changes: weighed again, the path stays best (AS_PATH decides first).
    set(&[("198.18.0.1/32", Some(5)), ("198.18.0.2/32", Some(10))]);
    assert!(r.revalidate_next_hops().fib.is_empty());
    assert_eq!(r.explain(&net(P)).unwrap().paths[0].igp_cost, Some(5));
    // The route goes again: back to B.
    set(&[("198.18.0.2/32", Some(10))]);
    let c = r.revalidate_next_hops();
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.0.2"])));
    // B's peer goes: its next hop leaves the cache with its last path.
    r.peer_down(b).unwrap();
    r.revalidate_next_hops();
    assert_eq!(r.shared.next_hops.cached(), 1);
}
