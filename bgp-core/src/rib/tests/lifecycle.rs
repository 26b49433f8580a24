//! Peer down, graceful restart, origination changes.
use super::*;

const P: &str = "203.0.113.0/24";
const Q: &str = "203.0.114.0/24";

#[test]
fn peer_down_removes_everything_in_one_pass() {
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let b = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    let m = up(&mut r, 3, peer("198.18.3.1", 65003, "3.3.3.3"));
    r.apply_update(a, &announce(&[P, Q], attrs(&[65001]), "198.18.1.1")).unwrap();
    r.apply_update(a, &announce(&["2001:db8:1::/48"], attrs(&[65001]), "2001:db8::1")).unwrap();
    r.apply_update(b, &announce(&[P], attrs(&[65002, 65009]), "198.18.2.1")).unwrap();
    r.pending_updates(m).unwrap();
    let c = r.peer_down(a).unwrap();
    assert_eq!(fib_of(&c, P), Some(ips(&["198.18.2.1"])), "B takes over P");
    assert_eq!(fib_of(&c, Q), Some(vec![]));
    assert_eq!(fib_of(&c, "2001:db8:1::/48"), Some(vec![]));
    assert_eq!(c.fib.len(), 3);
    assert!(r.peer_counts(a).is_none());
    let batch = r.pending_updates(m).unwrap();
    assert_eq!(withdrawn(&batch), vec![net(Q), net("2001:db8:1::/48")]);
    assert_eq!(announced(&batch), vec![net(P)]);
    assert_eq!(r.stats().ipv4_prefixes, 1);
    assert_eq!(r.stats().attribute_sets, 2, "A's sets are freed");
    // The slot is reused by the next peer.
    up(&mut r, 4, peer("198.18.4.1", 65004, "4.4.4.4"));
    assert_eq!(r.shared.peers.len(), 4);
}

#[test]
fn graceful_restart_keeps_stale_paths_until_end_of_rib() {
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let m = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    r.apply_update(a, &announce(&[P, Q], attrs(&[65001]), "198.18.1.1")).unwrap();
    r.pending_updates(m).unwrap();
    let c = r.peer_down_graceful(a, &[Family::IPV4_UNICAST]).unwrap();
    assert!(c.fib.is_empty(), "stale routes stay installed");
    assert!(!r.has_pending(m), "and advertised");
    assert_eq!(r.peer_counts(a).unwrap().stale, 2);
    assert!(r.explain(&net(P)).unwrap().paths[0].stale);
    // The peer comes back, refreshes P only, then End-of-RIB: Q goes.
    r.peer_up(a, peer("198.18.1.1", 65001, "1.1.1.1")).unwrap();
    let c = r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.1.1")).unwrap();
    assert!(c.fib.is_empty());
    assert_eq!(r.peer_counts(a).unwrap().stale, 1);
    assert!(!r.explain(&net(P)).unwrap().paths[0].stale);
    let c = r.apply_update(a, &Update::end_of_rib(Family::IPV4_UNICAST)).unwrap();
    assert_eq!(c.fib, vec![FibChange { prefix: net(Q), next_hops: vec![] }]);
    assert_eq!(withdrawn(&r.pending_updates(m).unwrap()), vec![net(Q)]);
    assert_eq!(r.peer_counts(a).unwrap().stale, 0);
}

#[test]
fn purge_stale_when_the_peer_does_not_return() {
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.1.1")).unwrap();
    r.apply_update(a, &announce(&["2001:db8:1::/48"], attrs(&[65001]), "2001:db8::1")).unwrap();
    r.peer_down_graceful(a, &BOTH).unwrap();
    let c = r.purge_stale(a).unwrap();
    assert_eq!(c.fib.len(), 2);
    assert!(c.fib.iter().all(|f| f.next_hops.is_empty()));
    assert!(r.peer_counts(a).is_none(), "a down peer without paths is forgotten");
    assert_eq!(r.stats().attribute_sets, 1);
}

const BOTH: [Family; 2] = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];

#[test]
fn graceful_down_keeps_only_the_families_of_the_restart_capability() {
    // RFC 4724 §4.2: routes are retained "for all the address families that were previously
    // received in the Graceful Restart Capability"; the others go at once.
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let m = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.1.1")).unwrap();
    r.apply_update(a, &announce(&["2001:db8:1::/48"], attrs(&[65001]), "2001:db8::1")).unwrap();
    r.pending_updates(m).unwrap();
    let c = r.peer_down_graceful(a, &[Family::IPV4_UNICAST]).unwrap();
    assert_eq!(c.fib, vec![FibChange { prefix: net("2001:db8:1::/48"), next_hops: vec![] }]);
    assert_eq!(withdrawn(&r.pending_updates(m).unwrap()), vec![net("2001:db8:1::/48")]);
    let counts = r.peer_counts(a).unwrap();
    assert_eq!((counts.stale, counts.received), (1, 1), "only the IPv4 path is kept, stale");
    assert!(r.explain(&net(P)).unwrap().paths[0].stale);
}

#[test]
fn graceful_down_without_retained_families_keeps_nothing() {
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.1.1")).unwrap();
    let c = r.peer_down_graceful(a, &[]).unwrap();
    assert_eq!(c.fib, vec![FibChange { prefix: net(P), next_hops: vec![] }]);
    let counts = r.peer_counts(a).unwrap();
    assert_eq!((counts.stale, counts.received), (0, 0));
}

#[test]
fn paths_stale_from_an_earlier_session_stay_stale_and_are_purged_together() {
    // A peer that flaps without End-of-RIB: the path it did not refresh stays stale across
    // the second loss, and one purge (the restart timer of the first loss) removes it along
    // with the paths of the last session.
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    r.apply_update(a, &announce(&[P, Q], attrs(&[65001]), "198.18.1.1")).unwrap();
    r.peer_down_graceful(a, &BOTH).unwrap();
    r.peer_up(a, peer("198.18.1.1", 65001, "1.1.1.1")).unwrap();
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.1.1")).unwrap();
    assert_eq!(r.peer_counts(a).unwrap().stale, 1, "Q is still stale from the first session");
    r.peer_down_graceful(a, &BOTH).unwrap();
    assert_eq!(r.peer_counts(a).unwrap().stale, 2, "Q not counted twice");
    let c = r.purge_stale(a).unwrap();
    assert_eq!(c.fib.len(), 2);
    assert!(r.peer_counts(a).is_none());
}

#[test]
fn set_originated_is_declarative() {
    let mut r = rib();
    let m = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    r.set_originated(vec![net("10.244.1.0/24"), net("10.244.2.0/24")]);
    assert_eq!(
        announced(&r.pending_updates(m).unwrap()),
        vec![net("10.244.1.0/24"), net("10.244.2.0/24")]
    );
    let c = r.set_originated(vec![net("10.244.2.0/24"), net("10.244.3.0/24"), net("fd00:1::/64")]);
    assert!(c.fib.is_empty());
    let b = r.pending_updates(m).unwrap();
    assert_eq!(withdrawn(&b), vec![net("10.244.1.0/24")]);
    assert_eq!(announced(&b), vec![net("10.244.3.0/24"), net("fd00:1::/64")]);
    let mut now: Vec<IpNet> = r.originated().copied().collect();
    now.sort();
    assert_eq!(now, vec![net("10.244.2.0/24"), net("10.244.3.0/24"), net("fd00:1::/64")]);
    assert!(r.set_originated(now.clone()).is_empty());
}

#[test]
fn fib_table_lists_installed_routes() {
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.1.1")).unwrap();
    r.originate(net(Q));
    assert_eq!(r.fib_table(), vec![FibChange { prefix: net(P), next_hops: ips(&["198.18.1.1"]) }]);
    let s = r.stats();
    assert_eq!((s.ipv4_prefixes, s.best_paths), (2, 2));
}

#[test]
fn compact_gives_back_the_memory_of_a_withdrawn_table() {
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let nlri: Vec<Nlri> = (0..20_000u32)
        .map(|i| Nlri::new(format!("10.{}.{}.0/24", i >> 8, i & 0xff).parse().unwrap()))
        .collect();
    r.apply_update(a, &announce_nlri(nlri, &mut attrs(&[65001]), "198.18.1.1")).unwrap();
    let full = r.v4.destinations.capacity();
    assert!(full >= 20_000);
    r.peer_down(a).unwrap();
    assert_eq!(r.prefix_count(), 0);
    assert!(r.v4.destinations.capacity() > full / 2, "no rehash on the withdrawal path");
    r.compact();
    assert!(r.v4.destinations.capacity() < full / 4, "capacity {}", r.v4.destinations.capacity());
}

#[test]
fn a_fib_sink_takes_the_changes_of_a_large_peer_down_as_they_come() {
    use std::sync::{Arc, Mutex};
    let mut r = rib();
    let got: Arc<Mutex<Vec<FibChange>>> = Arc::default();
    let sink = got.clone();
    r.set_fib_sink(Box::new(move |c| sink.lock().unwrap().extend_from_slice(c)));
    let a = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let n = 3 * super::super::FIB_SINK_CHUNK + 5;
    let nlri: Vec<Nlri> = (0..n as u32)
        .map(|i| Nlri::new(format!("10.{}.{}.0/24", i >> 8, i & 0xff).parse().unwrap()))
        .collect();
    let c = r.apply_update(a, &announce_nlri(nlri, &mut attrs(&[65001]), "198.18.1.1")).unwrap();
    let installed = got.lock().unwrap().len() + c.fib.len();
    assert_eq!(installed, n, "every route reaches the kernel, through the sink or the result");
    got.lock().unwrap().clear();
    let c = r.peer_down(a).unwrap();
    let sunk = got.lock().unwrap().clone();
    assert_eq!(sunk.len(), 3 * super::super::FIB_SINK_CHUNK, "whole chunks went to the sink");
    assert_eq!(c.fib.len(), 5, "the rest comes with the result");
    let mut all: Vec<IpNet> = sunk.iter().chain(&c.fib).map(|f| f.prefix).collect();
    assert!(sunk.iter().chain(&c.fib).all(|f| f.next_hops.is_empty()));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n);
}
