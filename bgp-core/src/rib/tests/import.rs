//! Import: loop checks, import policy and soft reconfiguration, IPv6, End-of-RIB.
use super::*;
use crate::policy::PolicyRule;

const P: &str = "203.0.113.0/24";

fn rules(list: &[&str]) -> Policy {
    Policy::Rules(list.iter().map(|r| r.parse::<PolicyRule>().unwrap()).collect())
}

#[test]
fn ebgp_route_with_our_as_is_dropped_and_replaces_the_old_one() {
    let mut r = rib();
    let e = up(&mut r, 1, peer("198.18.0.1", 65001, "1.1.1.1"));
    r.apply_update(e, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    let c =
        r.apply_update(e, &announce(&[P], attrs(&[65001, LOCAL_AS, 65009]), "198.18.0.1")).unwrap();
    assert_eq!(fib_of(&c, P), Some(vec![]), "implicit withdraw of the looped route");
    assert!(r.explain(&net(P)).is_none());
    let counts = r.peer_counts(e).unwrap();
    assert_eq!((counts.received, counts.accepted, counts.looped), (0, 0, 1));
}

#[test]
fn an_ebgp_peer_may_be_allowed_our_as_a_few_times() {
    let mut r = rib();
    let mut allowed = peer("198.18.0.1", 65001, "1.1.1.1");
    allowed.allow_local_as = 2;
    let e = up(&mut r, 1, allowed);
    r.apply_update(e, &announce(&[P], attrs(&[65001, LOCAL_AS, LOCAL_AS]), "198.18.0.1")).unwrap();
    assert!(r.explain(&net(P)).is_some(), "twice is allowed");
    let c = r
        .apply_update(
            e,
            &announce(&[P], attrs(&[65001, LOCAL_AS, 7, LOCAL_AS, LOCAL_AS]), "198.18.0.1"),
        )
        .unwrap();
    assert_eq!(fib_of(&c, P), Some(vec![]), "three times is a loop");
    assert_eq!(r.peer_counts(e).unwrap().looped, 1);
}

#[test]
fn ibgp_route_with_our_as_is_kept() {
    let mut r = rib();
    let i = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    r.apply_update(i, &announce(&[P], attrs(&[65001, LOCAL_AS]), "198.18.0.1")).unwrap();
    assert!(r.explain(&net(P)).is_some());
}

#[test]
fn reflection_loops_are_dropped() {
    let mut r = rib();
    let i = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let mut own = attrs(&[65001]);
    own.originator_id = Some(config().router_id);
    r.apply_update(i, &announce(&[P], own, "198.18.0.1")).unwrap();
    assert!(r.explain(&net(P)).is_none(), "ORIGINATOR_ID is our router id");
    let mut cluster = attrs(&[65001]);
    cluster.cluster_list = vec!["9.9.9.9".parse().unwrap(), config().cluster_id];
    r.apply_update(i, &announce(&[P], cluster, "198.18.0.1")).unwrap();
    assert!(r.explain(&net(P)).is_none(), "our CLUSTER_ID in the CLUSTER_LIST");
    assert_eq!(r.peer_counts(i).unwrap().looped, 2);
}

#[test]
fn ebgp_local_pref_is_ignored() {
    let mut r = rib();
    let e = up(&mut r, 1, peer("198.18.0.1", 65001, "1.1.1.1"));
    let mut a = attrs(&[65001]);
    a.local_pref = Some(5000);
    r.apply_update(e, &announce(&[P], a, "198.18.0.1")).unwrap();
    let view = r.explain(&net(P)).unwrap();
    assert_eq!(view.paths[0].attrs.path.local_pref, Some(DEFAULT_LOCAL_PREF));
}

#[test]
fn import_policy_rejects_but_keeps_for_soft_reconfiguration() {
    let mut r = rib();
    let mut info = peer("198.18.0.1", 65001, "1.1.1.1");
    info.import = rules(&["reject 10.244.5.0/24", "accept 10.244.0.0/16 ge 24 le 26"]);
    let e = up(&mut r, 1, info);
    let c = r
        .apply_update(
            e,
            &announce(
                &[
                    "10.244.5.0/24",
                    "10.244.6.0/24",
                    "10.244.6.0/26",
                    "10.244.6.0/27",
                    "10.244.0.0/16",
                    "10.0.0.0/8",
                ],
                attrs(&[65001]),
                "198.18.0.1",
            ),
        )
        .unwrap();
    let mut installed: Vec<IpNet> = c.fib.iter().map(|f| f.prefix).collect();
    installed.sort();
    assert_eq!(installed, vec![net("10.244.6.0/24"), net("10.244.6.0/26")]);
    let counts = r.peer_counts(e).unwrap();
    assert_eq!((counts.received, counts.accepted), (6, 2));
    let view = r.explain(&net("10.0.0.0/8")).unwrap();
    assert_eq!(view.paths[0].lost, Some(Step::RejectedByPolicy));
    assert!(!view.paths[0].best);

    // New policy: accept everything. No ROUTE-REFRESH needed: the rejected paths were kept.
    let c = r.set_policy(e, Policy::All, Policy::All).unwrap();
    assert_eq!(c.fib.len(), 4);
    assert_eq!(r.peer_counts(e).unwrap().accepted, 6);
    // And `none`.
    let c = r.set_policy(e, Policy::None, Policy::All).unwrap();
    assert_eq!(c.fib.iter().filter(|f| f.next_hops.is_empty()).count(), 6);
    assert_eq!(r.peer_counts(e).unwrap().accepted, 0);
    assert_eq!(r.peer_counts(e).unwrap().received, 6);
}

#[test]
fn ipv6_mp_reach_and_unreach() {
    let mut r = rib();
    let e = up(&mut r, 1, peer("2001:db8::1", 65001, "1.1.1.1"));
    let c = r
        .apply_update(
            e,
            &announce(&["2001:db8:100::/48", "2001:db8:200::/48"], attrs(&[65001]), "2001:db8::1"),
        )
        .unwrap();
    assert_eq!(fib_of(&c, "2001:db8:100::/48"), Some(ips(&["2001:db8::1"])));
    assert_eq!(r.stats().ipv6_prefixes, 2);
    let c = r.apply_update(e, &withdraw(&["2001:db8:100::/48"])).unwrap();
    assert_eq!(fib_of(&c, "2001:db8:100::/48"), Some(vec![]));
    assert_eq!(r.stats().ipv6_prefixes, 1);
    assert_eq!(r.prefixes(Family::IPV6_UNICAST), vec![net("2001:db8:200::/48")]);
}

#[test]
fn ipv4_over_mp_reach_is_accepted() {
    let mut r = rib();
    let e = up(&mut r, 1, peer("198.18.0.1", 65001, "1.1.1.1"));
    let mut u = announce(&[P], attrs(&[65001]), "198.18.0.1");
    let nlri = std::mem::take(&mut u.nlri);
    u.mp_reach = Some(MpReach {
        family: Family::IPV4_UNICAST,
        next_hop: MpNextHop { global: ip("2001:db8::1"), link_local: None },
        nlri,
    });
    let c = r.apply_update(e, &u).unwrap();
    assert_eq!(fib_of(&c, P), Some(ips(&["2001:db8::1"])));
}

#[test]
fn families_not_negotiated_are_ignored() {
    let mut r = rib();
    let mut info = peer("198.18.0.1", 65001, "1.1.1.1");
    info.families = vec![Family::IPV4_UNICAST];
    let e = up(&mut r, 1, info);
    let c = r
        .apply_update(e, &announce(&["2001:db8:100::/48"], attrs(&[65001]), "2001:db8::1"))
        .unwrap();
    assert!(c.fib.is_empty());
    assert_eq!(r.stats().ipv6_prefixes, 0);
}

#[test]
fn duplicate_announcement_changes_nothing_and_attrs_are_shared() {
    let mut r = rib();
    let e = up(&mut r, 1, peer("198.18.0.1", 65001, "1.1.1.1"));
    let u = announce(&[P, "203.0.114.0/24"], attrs(&[65001]), "198.18.0.1");
    r.apply_update(e, &u).unwrap();
    let c = r.apply_update(e, &u).unwrap();
    assert!(c.is_empty());
    // Local attributes + one shared set for both prefixes.
    assert_eq!(r.stats().attribute_sets, 2);
    r.apply_update(e, &withdraw(&[P, "203.0.114.0/24"])).unwrap();
    assert_eq!(r.stats().attribute_sets, 1, "freed when unused");
}

#[test]
fn unknown_and_down_peers_are_errors() {
    let mut r = rib();
    assert_eq!(
        r.apply_update(PeerId(7), &Update::default()),
        Err(RibError::UnknownPeer(PeerId(7)))
    );
    let e = up(&mut r, 1, peer("198.18.0.1", 65001, "1.1.1.1"));
    assert_eq!(r.peer_up(e, peer("198.18.0.1", 65001, "1.1.1.1")), Err(RibError::PeerAlreadyUp(e)));
    r.peer_down_graceful(e, &[Family::IPV4_UNICAST]).unwrap();
    assert_eq!(r.apply_update(e, &Update::default()), Err(RibError::PeerNotUp(e)));
    assert_eq!(r.pending_updates(e), Err(RibError::PeerNotUp(e)));
}
