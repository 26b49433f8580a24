//! Property: the outcome of the decision process does not depend on the order in which the
//! paths arrived (it is a function of the set of paths).
use proptest::prelude::*;

use super::*;

/// A path description: peer index, LOCAL_PREF, AS path length, origin, neighbour AS, MED,
/// next hop index, originator id.
type Spec = (usize, u32, usize, u8, u32, Option<u32>, u8, Option<u8>);

fn spec() -> impl Strategy<Value = Spec> {
    (
        0usize..6,
        prop_oneof![Just(100u32), Just(200)],
        1usize..4,
        0u8..3,
        65001u32..65004,
        prop_oneof![Just(None), (0u32..3).prop_map(Some)],
        0u8..4,
        prop_oneof![Just(None), (1u8..4).prop_map(Some)],
    )
}

fn peers() -> Vec<PeerInfo> {
    (0..6u32)
        .map(|i| {
            // Half iBGP, half eBGP; two routers share router id 3.3.3.3.
            let asn = if i % 2 == 0 { LOCAL_AS } else { 65001 + i };
            let rid = format!("{0}.{0}.{0}.{0}", if i >= 4 { 3 } else { i + 1 });
            // The neighbour AS of a path varies independently of its peer (for the MED
            // rule), so the first AS is not the peer's: no enforce-first-AS here.
            PeerInfo { enforce_first_as: false, ..peer(&format!("198.18.0.{}", 10 - i), asn, &rid) }
        })
        .collect()
}

/// Best path (peer, path id), kernel next hops, and each path's outcome.
type Outcome = (Option<(Option<PeerId>, u32)>, Vec<IpAddr>, Vec<(Option<PeerId>, Option<Step>)>);

fn apply(specs: &[Spec], order: &[usize]) -> Outcome {
    let mut r = rib();
    for (i, info) in peers().into_iter().enumerate() {
        up(&mut r, i as u32, info);
    }
    for &i in order {
        let (p, lp, len, origin, nas, med, nh, orig) = specs[i];
        let mut path: Vec<u32> = vec![nas];
        path.extend(std::iter::repeat_n(64999, len - 1));
        let mut a = attrs(&path);
        a.local_pref = Some(lp);
        a.origin = Some([Origin::Igp, Origin::Egp, Origin::Incomplete][usize::from(origin)]);
        a.med = med;
        a.originator_id = orig.map(|o| Ipv4Addr::new(o, o, o, o));
        let mut u = announce(&[], a, "198.18.1.1");
        u.attributes.next_hop = Some(Ipv4Addr::new(198, 18, 1, nh));
        // Distinct path ids per spec so every spec is its own path.
        u.nlri = vec![Nlri::with_path_id(net("203.0.113.0/24"), i as u32)];
        r.apply_update(PeerId(p as u32), &u).unwrap();
    }
    let Some(view) = r.explain(&net("203.0.113.0/24")) else { return (None, vec![], vec![]) };
    let best = view.paths.iter().find(|p| p.best).map(|p| (p.peer, p.path_id));
    let mut outcome: Vec<_> = view.paths.iter().map(|p| (p.peer, p.lost)).collect();
    outcome.sort();
    (best, r.fib_next_hops(&net("203.0.113.0/24")), outcome)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn decision_is_independent_of_arrival_order(
        specs in proptest::collection::vec(spec(), 1..8),
        seed in any::<u64>(),
    ) {
        let forward: Vec<usize> = (0..specs.len()).collect();
        let mut shuffled = forward.clone();
        // Deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let a = apply(&specs, &forward);
        let b = apply(&specs, &shuffled);
        prop_assert_eq!(&a, &b);
        // With any path there is exactly one best (every next hop resolves).
        prop_assert!(a.0.is_some());
    }
}
