//! AS_PATH checks against the session: confederation segments (RFC 5065 §5.3) and
//! enforce-first-AS (RFC 4271 §6.3), both treat-as-withdraw (RFC 7606 §7.2).
use super::*;
use crate::wire::{AsPathSegment, SegmentType};

const P: &str = "203.0.113.0/24";
const Q: &str = "2001:db8:5::/48";

fn with_segments(segments: Vec<AsPathSegment>) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath { segments }),
        ..Default::default()
    }
}

fn seg(seg_type: SegmentType, asns: &[u32]) -> AsPathSegment {
    AsPathSegment { seg_type, asns: asns.to_vec() }
}

#[test]
fn confederation_segments_withdraw_the_routes_of_the_update() {
    for confed in [SegmentType::ConfedSequence, SegmentType::ConfedSet] {
        for (asn, first) in [(65001, 65001), (LOCAL_AS, 65010)] {
            let mut r = rib();
            let p = up(&mut r, 1, peer("198.18.0.1", asn, "1.1.1.1"));
            r.apply_update(p, &announce(&[P], attrs(&[first]), "198.18.0.1")).unwrap();
            r.apply_update(p, &announce(&[Q], attrs(&[first]), "2001:db8::1")).unwrap();
            assert!(r.explain(&net(P)).is_some());
            let a = with_segments(vec![
                seg(confed, &[65020]),
                seg(SegmentType::AsSequence, &[first, 65030]),
            ]);
            let c = r.apply_update(p, &announce(&[P], a.clone(), "198.18.0.1")).unwrap();
            assert_eq!(c.malformed_as_path, Some(MalformedAsPath::ConfederationSegment));
            assert_eq!(fib_of(&c, P), Some(vec![]), "the earlier route is withdrawn");
            let c = r.apply_update(p, &announce(&[Q], a, "2001:db8::1")).unwrap();
            assert_eq!(fib_of(&c, Q), Some(vec![]), "MP_REACH_NLRI too");
            assert!(r.explain(&net(P)).is_none() && r.explain(&net(Q)).is_none());
            let counts = r.peer_counts(p).unwrap();
            assert_eq!((counts.received, counts.malformed_as_path, counts.looped), (0, 2, 0));
        }
    }
}

#[test]
fn ebgp_path_must_start_with_the_peer_as() {
    let mut r = rib();
    let e = up(&mut r, 1, peer("198.18.0.1", 65001, "1.1.1.1"));
    let ok = r.apply_update(e, &announce(&[P], attrs(&[65001, 65009]), "198.18.0.1")).unwrap();
    assert_eq!(ok.malformed_as_path, None);
    assert!(r.explain(&net(P)).is_some());
    let c = r.apply_update(e, &announce(&[P], attrs(&[65009, 65001]), "198.18.0.1")).unwrap();
    let want = MalformedAsPath::FirstAsNotPeer { peer_as: 65001, first: Some(65009) };
    assert_eq!(c.malformed_as_path, Some(want));
    assert_eq!(fib_of(&c, P), Some(vec![]), "treat-as-withdraw");
    // An empty path, or one that starts with an AS_SET, has no leftmost AS of the peer.
    for a in [attrs(&[]), with_segments(vec![seg(SegmentType::AsSet, &[65001])])] {
        let c = r.apply_update(e, &announce(&[P], a, "198.18.0.1")).unwrap();
        let want = MalformedAsPath::FirstAsNotPeer { peer_as: 65001, first: None };
        assert_eq!(c.malformed_as_path, Some(want));
    }
    assert_eq!(r.peer_counts(e).unwrap().malformed_as_path, 3);
    // Withdrawals alone are never reported.
    let c = r.apply_update(e, &withdraw(&[P])).unwrap();
    assert_eq!(c.malformed_as_path, None);
}

#[test]
fn enforce_first_as_can_be_turned_off_and_does_not_apply_to_ibgp() {
    let mut r = rib();
    let mut route_server = peer("198.18.0.1", 65001, "1.1.1.1");
    route_server.enforce_first_as = false;
    let rs = up(&mut r, 1, route_server);
    let c = r.apply_update(rs, &announce(&[P], attrs(&[65009]), "198.18.0.1")).unwrap();
    assert_eq!(c.malformed_as_path, None);
    assert!(r.explain(&net(P)).is_some(), "a route server's routes start with their origin");
    let i = up(&mut r, 2, peer("198.18.0.2", LOCAL_AS, "2.2.2.2"));
    let c = r.apply_update(i, &announce(&["10.9.0.0/16"], attrs(&[]), "198.18.0.2")).unwrap();
    assert_eq!(c.malformed_as_path, None);
    assert!(r.explain(&net("10.9.0.0/16")).is_some());
}

#[test]
fn a_family_the_session_does_not_carry_reports_nothing() {
    let mut r = rib();
    let mut v4_only = peer("198.18.0.1", 65001, "1.1.1.1");
    v4_only.families = vec![Family::IPV4_UNICAST];
    let e = up(&mut r, 1, v4_only);
    let c = r.apply_update(e, &announce(&[Q], attrs(&[65009]), "2001:db8::1")).unwrap();
    assert_eq!(c.malformed_as_path, None, "nothing of IPv6 was treated as withdrawn");
    let c = r.apply_update(e, &announce(&[P], attrs(&[65009]), "198.18.0.1")).unwrap();
    assert!(c.malformed_as_path.is_some());
}
