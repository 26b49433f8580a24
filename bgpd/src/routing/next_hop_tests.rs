//! Our next hop taken from the session's interface follows that interface's addresses.
use std::net::IpAddr;

use bgp_core::policy::Policy;
use ipnet::IpNet;

use super::stale_tests::{peer, task, up, PEER};
use super::RibTask;
use crate::messages::RibInput;

const V6_POD_CIDR: &str = "2001:db8:244:1::/64";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The eBGP neighbour exports everything, we originate an IPv4 and an IPv6 Pod CIDR, and the
/// IPv4 session is up without an IPv6 address on its interface.
fn session_without_v6_next_hop() -> RibTask {
    let mut t = task(120);
    let mut settings = t.peers.get(&peer()).unwrap().settings.clone();
    settings.export = Policy::All;
    t.handle(RibInput::Configure { peer: peer(), settings: Box::new(settings) });
    let cidrs: Vec<IpNet> = vec!["10.244.1.0/24".parse().unwrap(), V6_POD_CIDR.parse().unwrap()];
    t.handle(RibInput::Originate(cidrs));
    up(&mut t, None);
    t
}

/// What we advertise to the neighbour for the IPv6 Pod CIDR: its next hop.
fn advertised_v6_next_hop(t: &RibTask) -> Option<IpAddr> {
    let id = t.peers.get(&peer()).unwrap().id;
    t.rib.advertised(id, &V6_POD_CIDR.parse().unwrap()).map(|a| a.next_hop.global)
}

fn advertised_count(t: &RibTask) -> u64 {
    let id = t.peers.get(&peer()).unwrap().id;
    t.rib.peer_counts(id).unwrap().advertised
}

#[tokio::test]
async fn a_next_hop_address_that_appears_later_advertises_the_family() {
    let mut t = session_without_v6_next_hop();
    assert_eq!(advertised_v6_next_hop(&t), None);
    assert_eq!(advertised_count(&t), 1);
    // The interface gets 2001:db8::1 (route-sync's NetworkChanged).
    t.recheck_local_next_hops(|local, v6| {
        (local == ip("198.18.0.1") && v6).then(|| ip("2001:db8::1"))
    });
    assert_eq!(advertised_v6_next_hop(&t), Some(ip("2001:db8::1")));
    assert_eq!(advertised_count(&t), 2);
    let id = t.peers.get(&peer()).unwrap().id;
    assert!(t.dirty.contains(&id), "the UPDATEs go out at the next flush");
    // It is replaced by 2001:db8::2: advertised with that one.
    t.recheck_local_next_hops(|_, v6| v6.then(|| ip("2001:db8::2")));
    assert_eq!(advertised_v6_next_hop(&t), Some(ip("2001:db8::2")));
}

#[tokio::test]
async fn a_next_hop_address_that_goes_withdraws_the_family() {
    let mut t = session_without_v6_next_hop();
    t.recheck_local_next_hops(|_, v6| v6.then(|| ip("2001:db8::1")));
    assert_eq!(advertised_count(&t), 2);
    t.recheck_local_next_hops(|_, _| None);
    assert_eq!(advertised_v6_next_hop(&t), None, "no longer an address of ours");
    assert_eq!(advertised_count(&t), 1);
    let missing = t.metrics.next_hop_missing.with_label_values(&[PEER, "ipv6_unicast"]);
    assert_eq!(missing.get(), 2, "at session start and when the address went");
}

#[tokio::test]
async fn a_configured_next_hop_is_not_rechecked() {
    let mut t = task(120);
    let mut settings = t.peers.get(&peer()).unwrap().settings.clone();
    settings.next_hop_v6 = Some("2001:db8:5::5".parse().unwrap());
    t.handle(RibInput::Configure { peer: peer(), settings: Box::new(settings) });
    up(&mut t, None);
    t.recheck_local_next_hops(|_, v6| v6.then(|| ip("2001:db8::1")));
    let session = t.peers.get(&peer()).unwrap().session.as_ref().unwrap();
    assert_eq!(session.next_hops.v6, Some("2001:db8:5::5".parse().unwrap()));
}
