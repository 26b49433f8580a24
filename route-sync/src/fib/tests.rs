use super::plan::Batch;
use super::*;
use crate::interfaces::Interfaces;
use crate::route_msg::ParsedRoute;
use crate::socket::messages;

fn ifs() -> Interfaces {
    // Build through the public parsers: one link (index 3, up) with 198.18.0.1/24.
    use netlink_packet_core::Emitable;
    use netlink_packet_route::address::{AddressAttribute, AddressMessage};
    use netlink_packet_route::link::{LinkFlags, LinkMessage};
    let mut ifs = Interfaces::default();
    let mut link = LinkMessage::default();
    link.header.index = 3;
    link.header.flags = LinkFlags::Up | LinkFlags::LowerUp;
    let mut buf = vec![0; link.buffer_len()];
    link.emit(&mut buf);
    assert!(ifs.apply_link(&buf, false));
    for (ip, len) in [("198.18.0.1", 24), ("2001:db8::1", 64)] {
        let ip: IpAddr = ip.parse().unwrap();
        let mut addr = AddressMessage::default();
        addr.header.index = 3;
        addr.header.prefix_len = len;
        addr.header.family = if ip.is_ipv4() {
            netlink_packet_route::AddressFamily::Inet
        } else {
            netlink_packet_route::AddressFamily::Inet6
        };
        addr.attributes = vec![AddressAttribute::Address(ip)];
        let mut buf = vec![0; addr.buffer_len()];
        addr.emit(&mut buf);
        assert!(ifs.apply_address(&buf, false));
    }
    ifs
}

/// The identity of our routes in these tests: the defaults.
const OURS: KernelConfig = KernelConfig {
    protocol: crate::config::DEFAULT_PROTOCOL,
    table: 254,
    metric: crate::config::DEFAULT_METRIC,
};

fn fib(objects: bool) -> Fib {
    let opts = SyncOptions { nexthop_objects: objects, ..SyncOptions::default() };
    Fib::new(&OURS, &opts, Arc::new(Stats::default()))
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn types(b: &Batch) -> Vec<u16> {
    messages(&b.buf).map(|m| m.message_type).collect()
}

/// A main-table route of `protocol` as the kernel reports it: `prefix via 198.18.0.2 dev
/// (3)` with `metric`.
fn via_198_18_0_2(prefix: &str, protocol: u8, metric: u32) -> ParsedRoute {
    ParsedRoute {
        prefix: net(prefix),
        table: 254,
        protocol,
        metric,
        oif: 3,
        unicast: true,
        target: RouteTarget::Gateways(vec![(ip("198.18.0.2"), 3)]),
    }
}

/// Plans and completes batches with no error until idle.
fn settle(f: &mut Fib, ifs: &Interfaces) -> Vec<Op> {
    let mut all = Vec::new();
    while f.has_work() || f.has_removals() {
        let b = f.plan(ifs, 60 * 1024, false);
        all.extend(b.ops.iter().map(|(_, op)| op.clone()));
        f.complete(b.ops, &HashMap::new());
    }
    all
}

#[test]
fn install_uses_one_object_per_gateway_and_a_group_for_ecmp() {
    let ifs = ifs();
    let mut f = fib(true);
    f.allow_purge();
    f.set(net("198.19.1.0/24"), &[ip("198.18.0.2")], &ifs);
    f.set(net("198.19.2.0/24"), &[ip("198.18.0.2")], &ifs);
    f.set(net("198.19.3.0/24"), &[ip("198.18.0.3"), ip("198.18.0.2")], &ifs);
    let b = f.plan(&ifs, 60 * 1024, false);
    // nh(.2), route, route, nh(.3), group, route
    assert_eq!(types(&b), vec![104, 24, 24, 104, 104, 24]);
    f.complete(b.ops, &HashMap::new());
    assert_eq!(Stats::get(&f.stats.installed), 3);
    assert_eq!(Stats::get(&f.stats.install_ok), 3);
    assert!(f.in_sync());
    // Setting the same again is a no-op.
    f.set(net("198.19.1.0/24"), &[ip("198.18.0.2")], &ifs);
    let b = f.plan(&ifs, 60 * 1024, false);
    assert!(b.ops.is_empty());
}

#[test]
fn removing_all_users_of_an_object_deletes_the_object_only() {
    let ifs = ifs();
    let mut f = fib(true);
    f.allow_purge();
    for i in 0..100u8 {
        f.set(net(&format!("198.19.{i}.0/24")), &[ip("198.18.0.2")], &ifs);
    }
    settle(&mut f, &ifs);
    for i in 0..100u8 {
        f.remove(net(&format!("198.19.{i}.0/24")));
        if i == 50 {
            assert!(f.plan(&ifs, 60 * 1024, true).ops.is_empty(), "held while more may come");
        }
    }
    let b = f.plan(&ifs, 60 * 1024, false);
    assert_eq!(types(&b), vec![105], "one RTM_DELNEXTHOP, no RTM_DELROUTE");
    f.complete(b.ops, &HashMap::new());
    assert_eq!(Stats::get(&f.stats.installed), 0);
    assert_eq!(Stats::get(&f.stats.removed), 100);
    assert_eq!(f.len(), 0);
    assert!(settle(&mut f, &ifs).is_empty(), "object already gone");
}

#[test]
fn partial_removal_deletes_routes_and_keeps_the_object() {
    let ifs = ifs();
    let mut f = fib(true);
    f.allow_purge();
    f.set(net("198.19.1.0/24"), &[ip("198.18.0.2")], &ifs);
    f.set(net("198.19.2.0/24"), &[ip("198.18.0.2")], &ifs);
    settle(&mut f, &ifs);
    f.remove(net("198.19.1.0/24"));
    let b = f.plan(&ifs, 60 * 1024, false);
    assert_eq!(types(&b), vec![25]);
}

#[test]
fn inline_fallback_and_multipath() {
    let ifs = ifs();
    let mut f = fib(false);
    f.allow_purge();
    f.set(net("2001:db8:1::/64"), &[ip("2001:db8::3"), ip("2001:db8::2")], &ifs);
    let b = f.plan(&ifs, 60 * 1024, false);
    let Op::Route { new: Some(RouteTarget::Gateways(g)), .. } = &b.ops[0].1 else { panic!() };
    assert_eq!(g, &vec![(ip("2001:db8::2"), 3), (ip("2001:db8::3"), 3)]);
}

#[test]
fn errors_are_counted_retried_and_eexist_is_a_conflict() {
    let ifs = ifs();
    let mut f = fib(false);
    f.allow_purge();
    f.set(net("198.19.1.0/24"), &[ip("198.18.0.2")], &ifs);
    f.set(net("198.19.2.0/24"), &[ip("198.18.0.2")], &ifs);
    let b = f.plan(&ifs, 60 * 1024, false);
    let errors: HashMap<u32, i32> =
        [(b.ops[0].0, libc::EEXIST), (b.ops[1].0, libc::ENETUNREACH)].into_iter().collect();
    let conflicts = f.complete(b.ops, &errors);
    assert_eq!(conflicts, vec![net("198.19.1.0/24")]);
    f.conflict_owner(net("198.19.1.0/24"), Some(4));
    assert_eq!(
        f.take_events(),
        vec![KernelEvent::ForeignRoute { prefix: net("198.19.1.0/24"), protocol: 4 }]
    );
    assert_eq!(Stats::get(&f.stats.netlink_errors), 2);
    assert_eq!(Stats::get(&f.stats.install_failed), 1);
    assert!(!f.in_sync());
    f.retry_failed();
    let b = f.plan(&ifs, 60 * 1024, false);
    assert_eq!(b.ops.len(), 1, "only the failed one; the foreign slot is left alone");
    f.complete(b.ops, &HashMap::new());
    assert!(f.in_sync());
}

#[test]
fn unreachable_next_hop_is_reported_and_not_installed() {
    let ifs = ifs();
    let mut f = fib(true);
    f.allow_purge();
    f.set(net("198.19.1.0/24"), &[ip("198.18.5.2")], &ifs);
    assert_eq!(f.take_events(), vec![KernelEvent::NextHopsUnreachable(vec![ip("198.18.5.2")])]);
    assert!(settle(&mut f, &ifs).is_empty());
}

#[test]
fn stale_routes_wait_for_the_purge_and_are_taken_over_when_set() {
    let ifs = ifs();
    let mut f = fib(false);
    let old = |p: &str| via_198_18_0_2(p, OURS.protocol, OURS.metric);
    f.load_kernel(vec![old("198.19.1.0/24"), old("198.19.2.0/24")], None);
    assert!(settle(&mut f, &ifs).is_empty(), "nothing purged before it is allowed");
    // Withdrawing what the RIB never set does not make it forget that it is stale.
    f.remove(net("198.19.2.0/24"));
    f.set_blackhole(net("198.19.2.0/24"), false);
    assert!(settle(&mut f, &ifs).is_empty());
    f.set(net("198.19.1.0/24"), &[ip("198.18.0.2")], &ifs);
    assert!(settle(&mut f, &ifs).is_empty(), "same route: taken over without a request");
    f.allow_purge();
    let ops = settle(&mut f, &ifs);
    assert!(
        matches!(&ops[..], [Op::Route { prefix, new: None, .. }] if *prefix == net("198.19.2.0/24")),
        "{ops:?}"
    );
    assert_eq!(Stats::get(&f.stats.installed), 1);
}

#[test]
fn our_route_deleted_behind_our_back_is_put_back() {
    let ifs = ifs();
    let mut f = fib(false);
    f.allow_purge();
    f.set(net("198.19.1.0/24"), &[ip("198.18.0.2")], &ifs);
    settle(&mut f, &ifs);
    let gone = via_198_18_0_2("198.19.1.0/24", OURS.protocol, OURS.metric);
    assert!(f.on_route_event(true, 0, gone));
    let ops = settle(&mut f, &ifs);
    assert_eq!(ops.len(), 1);
    assert_eq!(Stats::get(&f.stats.repaired), 1);
    // A foreign route with another metric is none of our business.
    let other = ParsedRoute {
        prefix: net("198.19.1.0/24"),
        table: 254,
        protocol: 4,
        metric: 0,
        oif: 0,
        unicast: false,
        target: RouteTarget::Blackhole,
    };
    assert!(!f.on_route_event(false, 0, other));
}

#[test]
fn refused_object_flush_falls_back_to_route_deletes_and_a_route_set_again_stays() {
    let ifs = ifs();
    let mut f = fib(true);
    f.allow_purge();
    for i in 0..10u8 {
        f.set(net(&format!("198.19.{i}.0/24")), &[ip("198.18.0.2")], &ifs);
    }
    settle(&mut f, &ifs);
    for i in 0..10u8 {
        f.remove(net(&format!("198.19.{i}.0/24")));
    }
    let b = f.plan(&ifs, 60 * 1024, false);
    assert_eq!(types(&b), vec![105]);
    // The RIB wants one back while the flush is in flight (the handle applies it directly).
    f.set(net("198.19.3.0/24"), &[ip("198.18.0.2")], &ifs);
    let seq = b.ops[0].0;
    f.complete(b.ops, &HashMap::from([(seq, libc::EPERM)]));
    let ops = settle(&mut f, &ifs);
    let deletes = ops.iter().filter(|op| matches!(op, Op::Route { new: None, .. })).count();
    assert_eq!(deletes, 9, "route by route, except the one set again");
    assert_eq!(Stats::get(&f.stats.installed), 1);
    assert_eq!(f.len(), 1);
}

#[test]
fn sets_are_interned_and_released() {
    let ifs = ifs();
    let mut f = fib(true);
    f.allow_purge();
    for i in 0..10u8 {
        // Unsorted and duplicated: the same set as [.2, .3].
        f.set(
            net(&format!("198.19.{i}.0/24")),
            &[ip("198.18.0.3"), ip("198.18.0.2"), ip("198.18.0.3")],
            &ifs,
        );
    }
    assert_eq!(f.next_hops.len(), 2);
    assert_eq!(f.next_hops[&ip("198.18.0.2")].routes, 1, "counted once per set");
    settle(&mut f, &ifs);
    for i in 0..10u8 {
        f.set(net(&format!("198.19.{i}.0/24")), &[ip("198.18.0.2")], &ifs);
    }
    assert_eq!(f.next_hops.len(), 1, "the ECMP set was released");
    settle(&mut f, &ifs);
    assert_eq!(Stats::get(&f.stats.installed), 10);
}

#[test]
fn next_hop_behind_a_route_goes_via_its_gateway_and_a_cost_change_alone_replans_nothing() {
    let mut ifs = ifs();
    let mut f = fib(false);
    f.allow_purge();
    let route = |metric| via_198_18_0_2("198.18.40.0/24", 4, metric);
    assert!(ifs.apply_route(&route(30), false, 0, 186));
    f.set(net("198.19.1.0/24"), &[ip("198.18.40.7")], &ifs);
    let ops = settle(&mut f, &ifs);
    assert!(
        matches!(&ops[..], [Op::Route { new: Some(RouteTarget::Gateways(g)), .. }] if *g == [(ip("198.18.0.2"), 3)]),
        "{ops:?}"
    );
    // Same gateway, new metric: the RIB hears of it, the kernel routes stay.
    assert!(ifs.apply_route(&route(10), false, 0, 186));
    assert!(ifs.apply_route(&route(30), true, 0, 186));
    assert!(!f.interfaces_changed(&ifs), "no kernel route to change");
    assert_eq!(f.take_events(), vec![KernelEvent::NextHopsReachable(vec![ip("198.18.40.7")])]);
    // The route goes: unreachable, and a change for the kernel.
    assert!(ifs.apply_route(&route(10), true, 0, 186));
    assert!(f.interfaces_changed(&ifs));
    assert_eq!(f.take_events(), vec![KernelEvent::NextHopsUnreachable(vec![ip("198.18.40.7")])]);
}
