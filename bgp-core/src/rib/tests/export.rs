//! Export: split horizon, route reflection, attribute rewriting, grouping, policy, refresh.
use super::*;
use crate::policy::PolicyRule;
use crate::wire::update::decode_update;
use crate::wire::WireContext;

const P: &str = "203.0.113.0/24";

fn flush(r: &mut Rib, p: PeerId) -> OutBatch {
    r.pending_updates(p).unwrap()
}

fn sent_attrs(batch: &OutBatch) -> Arc<Attrs> {
    assert_eq!(batch.announcements.len(), 1, "{batch:?}");
    batch.announcements[0].attrs.clone()
}

#[test]
fn ebgp_export_rewrites_attributes() {
    let mut r = rib();
    let i = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let e = up(&mut r, 2, peer("198.18.1.1", 65002, "2.2.2.2"));
    let mut a = attrs(&[65001]);
    a.local_pref = Some(300);
    a.med = Some(42);
    a.originator_id = Some("7.7.7.7".parse().unwrap());
    a.cluster_list = vec!["8.8.8.8".parse().unwrap()];
    a.communities = vec![0xFDE8_0001];
    let c = r.apply_update(i, &announce(&[P], a, "198.18.0.9")).unwrap();
    assert_eq!(c.pending_peers, vec![e], "iBGP-learned goes to eBGP only");
    let sent = sent_attrs(&flush(&mut r, e));
    assert_eq!(sent.path.as_path, Some(AsPath::from_sequence(vec![LOCAL_AS, 65001])));
    assert_eq!(sent.next_hop.global, ip("198.18.0.254"), "next-hop-self");
    assert_eq!(sent.path.local_pref, None);
    assert_eq!(sent.path.med, None);
    assert_eq!(sent.path.originator_id, None);
    assert!(sent.path.cluster_list.is_empty());
    assert_eq!(sent.path.communities, vec![0xFDE8_0001]);
}

#[test]
fn ebgp_with_next_hop_keep_passes_learned_next_hops_on_but_not_its_own() {
    let mut r = rib();
    let i = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let mut keep = peer("198.18.1.1", 65002, "2.2.2.2");
    keep.next_hop_keep = true;
    let e = up(&mut r, 2, keep);
    r.apply_update(i, &announce(&[P], attrs(&[]), "198.18.0.9")).unwrap();
    let sent = sent_attrs(&flush(&mut r, e));
    assert_eq!(sent.next_hop.global, ip("198.18.0.9"), "third-party next hop kept");
    assert_eq!(sent.path.as_path, Some(AsPath::from_sequence(vec![LOCAL_AS])));
    r.originate(net("10.244.1.0/24"));
    let own = sent_attrs(&flush(&mut r, e));
    assert_eq!(own.next_hop.global, ip("198.18.0.254"), "our own route: our address");
}

#[test]
fn ibgp_export_keeps_next_hop_and_sends_local_pref() {
    let mut r = rib();
    let e = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let i = up(&mut r, 2, peer("198.18.0.2", LOCAL_AS, "2.2.2.2"));
    let mut nhs = peer("198.18.0.3", LOCAL_AS, "3.3.3.3");
    nhs.next_hop_self = true;
    nhs.local_v4 = Some(Ipv4Addr::new(198, 18, 0, 100));
    let n = up(&mut r, 3, nhs);
    let mut a = attrs(&[65001]);
    a.med = Some(42);
    r.apply_update(e, &announce(&[P], a, "198.18.1.1")).unwrap();
    let sent = sent_attrs(&flush(&mut r, i));
    assert_eq!(sent.next_hop.global, ip("198.18.1.1"));
    assert_eq!(sent.path.local_pref, Some(100));
    assert_eq!(sent.path.med, Some(42), "MED may go to iBGP");
    assert_eq!(sent.path.as_path, Some(AsPath::from_sequence(vec![65001])));
    assert_eq!(sent_attrs(&flush(&mut r, n)).next_hop.global, ip("198.18.0.100"));
}

#[test]
fn ibgp_split_horizon() {
    let mut r = rib();
    let a = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let b = up(&mut r, 2, peer("198.18.0.2", LOCAL_AS, "2.2.2.2"));
    let c = r.apply_update(a, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    assert!(c.pending_peers.is_empty());
    assert!(flush(&mut r, b).is_empty());
    assert!(flush(&mut r, a).is_empty(), "never back to the sender");
}

#[test]
fn route_reflection_rules() {
    let mut r = rib();
    let client = |addr: &str, rid: &str| {
        let mut p = peer(addr, LOCAL_AS, rid);
        p.rr_client = true;
        p
    };
    let c1 = up(&mut r, 1, client("198.18.0.1", "1.1.1.1"));
    let c2 = up(&mut r, 2, client("198.18.0.2", "2.2.2.2"));
    let n1 = up(&mut r, 3, peer("198.18.0.3", LOCAL_AS, "3.3.3.3"));
    let n2 = up(&mut r, 4, peer("198.18.0.4", LOCAL_AS, "4.4.4.4"));

    // From a client: to the other client and to the non-clients, not back.
    let ch = r.apply_update(c1, &announce(&[P], attrs(&[65001]), "198.18.0.1")).unwrap();
    let mut pending = ch.pending_peers.clone();
    pending.sort();
    assert_eq!(pending, vec![c2, n1, n2]);
    let sent = sent_attrs(&flush(&mut r, c2));
    assert_eq!(sent.path.originator_id, Some("1.1.1.1".parse().unwrap()));
    assert_eq!(sent.path.cluster_list, vec![config().cluster_id]);
    assert_eq!(sent.next_hop.global, ip("198.18.0.1"), "reflection keeps the next hop");
    assert_eq!(sent_attrs(&flush(&mut r, n1)).path.originator_id, Some("1.1.1.1".parse().unwrap()));
    flush(&mut r, n2);

    // From a non-client: to clients only; an existing ORIGINATOR_ID is kept and the
    // CLUSTER_ID prepended.
    let mut a = attrs(&[65001]);
    a.originator_id = Some("9.9.9.9".parse().unwrap());
    a.cluster_list = vec!["5.5.5.5".parse().unwrap()];
    let q = "203.0.114.0/24";
    let ch = r.apply_update(n1, &announce(&[q], a, "198.18.0.3")).unwrap();
    let mut pending = ch.pending_peers.clone();
    pending.sort();
    assert_eq!(pending, vec![c1, c2]);
    let sent = sent_attrs(&flush(&mut r, c1));
    assert_eq!(sent.path.originator_id, Some("9.9.9.9".parse().unwrap()));
    assert_eq!(sent.path.cluster_list, vec![config().cluster_id, "5.5.5.5".parse().unwrap()]);
    assert!(flush(&mut r, n2).is_empty());
}

#[test]
fn ebgp_routes_go_to_everyone_but_the_sender() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let e2 = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    let i = up(&mut r, 3, peer("198.18.0.3", LOCAL_AS, "3.3.3.3"));
    let ch = r.apply_update(e1, &announce(&[P], attrs(&[65001]), "198.18.1.1")).unwrap();
    let mut pending = ch.pending_peers.clone();
    pending.sort();
    assert_eq!(pending, vec![e2, i]);
    assert!(flush(&mut r, e1).is_empty());
}

#[test]
fn announcements_are_grouped_by_attribute_set_and_encode() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let e2 = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    let prefixes: Vec<String> =
        (0..300).map(|i| format!("10.{}.{}.0/24", i / 256, i % 256)).collect();
    let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    r.apply_update(e1, &announce(&refs[..200], attrs(&[65001]), "198.18.1.1")).unwrap();
    r.apply_update(e1, &announce(&refs[200..], attrs(&[65001, 65009]), "198.18.1.1")).unwrap();
    let batch = flush(&mut r, e2);
    assert_eq!(batch.announcements.len(), 2);
    assert_eq!(batch.announced_len(), 300);
    let ctx = WireContext::modern();
    let mut out = bytes::BytesMut::new();
    let encoded = batch.encode(&ctx, &mut out).unwrap();
    assert_eq!(encoded, Encoded { messages: 2, unsendable: vec![] });
    // Decode the messages back.
    let mut buf = out.freeze();
    let mut total = 0;
    while !buf.is_empty() {
        let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
        let msg = buf.split_to(len);
        let u = decode_update(&msg.slice(19..), &ctx).unwrap();
        assert_eq!(u.attributes.next_hop, Some(Ipv4Addr::new(198, 18, 0, 254)));
        total += u.nlri.len();
    }
    assert_eq!(total, 300);
}

#[test]
fn withdrawals_and_export_policy() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let mut info = peer("198.18.2.1", 65002, "2.2.2.2");
    info.export = Policy::Rules(vec!["accept 203.0.0.0/8 le 24".parse::<PolicyRule>().unwrap()]);
    let e2 = up(&mut r, 2, info);
    let c =
        r.apply_update(e1, &announce(&[P, "10.1.0.0/24"], attrs(&[65001]), "198.18.1.1")).unwrap();
    assert_eq!(c.pending_peers, vec![e2]);
    assert_eq!(announced(&flush(&mut r, e2)), vec![net(P)]);
    assert_eq!(r.peer_counts(e2).unwrap().advertised, 1);
    // Withdrawing the filtered prefix sends nothing; the other is withdrawn.
    let c = r.apply_update(e1, &withdraw(&["10.1.0.0/24"])).unwrap();
    assert!(c.pending_peers.is_empty());
    r.apply_update(e1, &withdraw(&[P])).unwrap();
    let b = flush(&mut r, e2);
    assert_eq!(withdrawn(&b), vec![net(P)]);
    assert!(b.announcements.is_empty());
    assert_eq!(r.peer_counts(e2).unwrap().advertised, 0);
}

#[test]
fn export_policy_change_queues_the_difference() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let e2 = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    r.apply_update(e1, &announce(&[P, "10.1.0.0/24"], attrs(&[65001]), "198.18.1.1")).unwrap();
    assert_eq!(flush(&mut r, e2).announced_len(), 2);
    let only = Policy::Rules(vec![format!("accept {P}").parse::<PolicyRule>().unwrap()]);
    let c = r.set_policy(e2, Policy::All, only).unwrap();
    assert_eq!(c.pending_peers, vec![e2]);
    let b = flush(&mut r, e2);
    assert_eq!(withdrawn(&b), vec![net("10.1.0.0/24")]);
    assert!(b.announcements.is_empty());
    assert_eq!(r.peer_counts(e2).unwrap().advertised, 1);
}

#[test]
fn initial_dump_then_end_of_rib_and_route_refresh() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    r.apply_update(e1, &announce(&[P], attrs(&[65001]), "198.18.1.1")).unwrap();
    r.apply_update(e1, &announce(&["2001:db8:1::/48"], attrs(&[65001]), "2001:db8::1")).unwrap();
    r.originate(net("10.244.0.0/16"));
    let e2 = PeerId(2);
    let c = r.peer_up(e2, peer("198.18.2.1", 65002, "2.2.2.2")).unwrap();
    assert!(c.pending_peers.contains(&e2));
    let b = flush(&mut r, e2);
    assert_eq!(announced(&b), vec![net("10.244.0.0/16"), net(P), net("2001:db8:1::/48")]);
    assert_eq!(b.end_of_rib, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    assert_eq!(r.peer_counts(e2).unwrap().advertised, 3);
    let v6 = b.announcements.iter().find(|a| a.family == Family::IPV6_UNICAST).unwrap();
    assert_eq!(v6.attrs.next_hop.global, ip("2001:db8::fe"));
    assert!(flush(&mut r, e2).is_empty(), "End-of-RIB only once");
    // ROUTE-REFRESH for IPv4: the IPv4 Adj-RIB-Out again, no End-of-RIB.
    let c = r.route_refresh(e2, Family::IPV4_UNICAST).unwrap();
    assert!(c.pending_peers.contains(&e2));
    let b = flush(&mut r, e2);
    assert_eq!(announced(&b), vec![net("10.244.0.0/16"), net(P)]);
    assert!(b.end_of_rib.is_empty());
}

#[test]
fn originated_routes_export() {
    let mut r = rib();
    let e = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let i = up(&mut r, 2, peer("198.18.0.2", LOCAL_AS, "2.2.2.2"));
    let c = r.originate(net("10.244.1.0/24"));
    assert!(c.fib.is_empty(), "locally originated routes are not FIB changes");
    let to_e = sent_attrs(&flush(&mut r, e));
    assert_eq!(to_e.path.origin, Some(Origin::Igp));
    assert_eq!(to_e.path.as_path, Some(AsPath::from_sequence(vec![LOCAL_AS])));
    assert_eq!(to_e.next_hop.global, ip("198.18.0.254"));
    let to_i = sent_attrs(&flush(&mut r, i));
    assert_eq!(to_i.path.as_path, Some(AsPath::default()));
    assert_eq!(to_i.path.local_pref, Some(100));
    assert_eq!(to_i.next_hop.global, ip("198.18.0.254"), "our own route: our address");
    assert_eq!(to_i.path.originator_id, None);
}

#[test]
fn no_export_without_a_local_address_for_the_family() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let mut info = peer("198.18.2.1", 65002, "2.2.2.2");
    info.local_v6 = None;
    let e2 = up(&mut r, 2, info);
    r.apply_update(e1, &announce(&["2001:db8:1::/48"], attrs(&[65001]), "2001:db8::1")).unwrap();
    assert!(flush(&mut r, e2).is_empty());
}

/// The session's next hop for a family appears, changes, and goes (an interface address
/// added or removed after the session came up).
#[test]
fn a_local_next_hop_that_comes_changes_and_goes_re_exports() {
    let mut r = rib();
    let mut info = peer("198.18.2.1", 65002, "2.2.2.2");
    info.local_v6 = None;
    let e = up(&mut r, 2, info);
    r.originate(net("10.244.1.0/24"));
    r.originate(net("2001:db8:244:1::/64"));
    assert_eq!(announced(&r.pending_updates(e).unwrap()), vec![net("10.244.1.0/24")]);
    assert_eq!(r.peer_counts(e).unwrap().advertised, 1);
    let v4 = Some(Ipv4Addr::new(198, 18, 0, 254));
    let first: std::net::Ipv6Addr = "2001:db8::11".parse().unwrap();
    r.set_local_next_hops(e, v4, Some(first)).unwrap();
    let b = r.pending_updates(e).unwrap();
    assert_eq!(announced(&b), vec![net("2001:db8:244:1::/64")], "only the family that came");
    assert_eq!(b.announcements[0].attrs.next_hop.global, IpAddr::V6(first));
    assert_eq!(r.peer_counts(e).unwrap().advertised, 2);
    // Another address: the family is sent again with it.
    let second: std::net::Ipv6Addr = "2001:db8::12".parse().unwrap();
    r.set_local_next_hops(e, v4, Some(second)).unwrap();
    let b = r.pending_updates(e).unwrap();
    assert_eq!(announced(&b), vec![net("2001:db8:244:1::/64")]);
    assert_eq!(b.announcements[0].attrs.next_hop.global, IpAddr::V6(second));
    // Gone: withdrawn, no longer counted.
    r.set_local_next_hops(e, v4, None).unwrap();
    let b = r.pending_updates(e).unwrap();
    assert_eq!(withdrawn(&b), vec![net("2001:db8:244:1::/64")]);
    assert_eq!(r.peer_counts(e).unwrap().advertised, 1);
    // Unchanged: nothing to send.
    r.set_local_next_hops(e, v4, None).unwrap();
    assert!(r.pending_updates(e).unwrap().is_empty());
}

#[test]
fn pending_updates_in_pages() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let prefixes: Vec<String> = (0..250).map(|i| format!("10.0.{i}.0/24")).collect();
    let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    r.apply_update(e1, &announce(&refs, attrs(&[65001]), "198.18.1.1")).unwrap();
    r.apply_update(e1, &announce(&["2001:db8:1::/48"], attrs(&[65001]), "2001:db8::1")).unwrap();
    let e2 = PeerId(2);
    r.peer_up(e2, peer("198.18.2.1", 65002, "2.2.2.2")).unwrap();
    let mut seen = Vec::new();
    let mut batches = 0;
    loop {
        let b = r.pending_updates_max(e2, 100).unwrap();
        assert!(b.announced_len() <= 100);
        seen.extend(announced(&b));
        batches += 1;
        if !b.end_of_rib.is_empty() {
            assert!(!r.has_pending(e2));
            break;
        }
        assert!(r.has_pending(e2));
    }
    assert_eq!(batches, 3);
    assert_eq!(seen.len(), 251);
}

#[test]
fn changes_while_pages_go_out_are_sent_in_their_latest_state() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let e2 = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    let prefixes: Vec<String> = (0..10).map(|i| format!("10.0.{i}.0/24")).collect();
    let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    r.apply_update(e1, &announce(&refs, attrs(&[65001]), "198.18.1.1")).unwrap();
    let first = r.pending_updates_max(e2, 4).unwrap();
    assert_eq!(announced(&first), refs[..4].iter().map(|p| net(p)).collect::<Vec<_>>());
    // Meanwhile: one prefix still to be paged out is withdrawn, one already sent changes,
    // and a new one arrives.
    r.apply_update(e1, &withdraw(&["10.0.7.0/24"])).unwrap();
    r.apply_update(e1, &withdraw(&["10.0.1.0/24"])).unwrap();
    r.apply_update(e1, &announce(&["10.0.20.0/24"], attrs(&[65001]), "198.18.1.1")).unwrap();
    let mut announced_later = Vec::new();
    let mut withdrawn_later = Vec::new();
    while r.has_pending(e2) {
        let b = r.pending_updates_max(e2, 4).unwrap();
        assert!(b.announced_len() + b.withdrawn_len() <= 4);
        announced_later.extend(announced(&b));
        withdrawn_later.extend(withdrawn(&b));
    }
    announced_later.sort();
    let expected: Vec<IpNet> =
        ["10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24", "10.0.8.0/24", "10.0.9.0/24", "10.0.20.0/24"]
            .iter()
            .map(|p| net(p))
            .collect();
    assert_eq!(announced_later, expected, "the rest of the snapshot, then the new prefix");
    withdrawn_later.sort();
    assert!(withdrawn_later.contains(&net("10.0.1.0/24")), "the sent one is withdrawn");
    assert!(!announced_later.contains(&net("10.0.7.0/24")), "the withdrawn one is never announced");
    assert_eq!(r.peer_counts(e2).unwrap().advertised, 9);
}

#[test]
fn advertised_and_received_listings() {
    let mut r = rib();
    let mut info = peer("198.18.1.1", 65001, "1.1.1.1");
    info.import = Policy::Rules(vec!["accept 203.0.113.0/24".parse::<PolicyRule>().unwrap()]);
    let e1 = up(&mut r, 1, info);
    let e2 = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    r.apply_update(e1, &announce(&[P, "10.9.0.0/16"], attrs(&[65001]), "198.18.1.1")).unwrap();
    let out = r.advertised_to(e2).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(r.advertised(e2, &net(P)), Some(out[0].1.clone()));
    assert_eq!(r.advertised(e2, &net("10.9.0.0/16")), None);
    assert_eq!(r.advertised(e1, &net(P)), None, "not back to the sender");
    assert_eq!(out[0].0, net(P));
    assert_eq!(out[0].1.path.as_path, Some(AsPath::from_sequence(vec![LOCAL_AS, 65001])));
    let got = r.received_from(e1).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].prefix, net("10.9.0.0/16"));
    assert_eq!(got[0].paths[0].lost, Some(Step::RejectedByPolicy));
    assert_eq!(got[0].paths[0].reason, Some("rejected by import policy"));
    assert!(got[1].paths[0].best);
    assert_eq!(r.routes(None).len(), 2);
    assert_eq!(r.routes(Some(&net(P))).len(), 1);
    assert!(r.received_from(PeerId(9)).is_err());
}

#[test]
fn well_known_communities_limit_export() {
    use crate::rib::export::{NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED};
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let e2 = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    let i = up(&mut r, 3, peer("198.18.0.3", LOCAL_AS, "3.3.3.3"));
    let with = |c: u32| {
        let mut a = attrs(&[65001]);
        a.communities = vec![0xFDE8_0001, c];
        a
    };
    r.apply_update(e1, &announce(&["10.0.1.0/24"], with(NO_EXPORT), "198.18.1.1")).unwrap();
    r.apply_update(e1, &announce(&["10.0.2.0/24"], with(NO_EXPORT_SUBCONFED), "198.18.1.1"))
        .unwrap();
    r.apply_update(e1, &announce(&["10.0.3.0/24"], with(NO_ADVERTISE), "198.18.1.1")).unwrap();
    r.apply_update(e1, &announce(&["10.0.4.0/24"], with(0xFDE8_0002), "198.18.1.1")).unwrap();
    assert_eq!(announced(&r.pending_updates(e2).unwrap()), vec![net("10.0.4.0/24")]);
    assert_eq!(
        announced(&r.pending_updates(i).unwrap()),
        vec![net("10.0.1.0/24"), net("10.0.2.0/24"), net("10.0.4.0/24")]
    );
    // Still installed locally.
    assert_eq!(r.fib_table().len(), 4);
}

#[test]
fn a_peer_with_export_none_is_offered_nothing_until_its_policy_opens() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let mut closed = peer("198.18.2.1", 65002, "2.2.2.2");
    closed.export = Policy::None;
    let e2 = up(&mut r, 2, closed);
    let c = r.apply_update(e1, &announce(&[P], attrs(&[65001]), "198.18.1.1")).unwrap();
    assert!(c.pending_peers.is_empty(), "nothing queued for export none");
    assert_eq!(r.peer_counts(e2).unwrap().advertised, 0);
    // Opening the policy queues the table, and later changes reach the peer too.
    let c = r.set_policy(e2, Policy::All, Policy::All).unwrap();
    assert_eq!(c.pending_peers, vec![e2]);
    assert_eq!(announced(&flush(&mut r, e2)), vec![net(P)]);
    r.apply_update(e1, &announce(&["10.1.0.0/24"], attrs(&[65001]), "198.18.1.1")).unwrap();
    assert_eq!(announced(&flush(&mut r, e2)), vec![net("10.1.0.0/24")]);
    // Closing it again withdraws everything and stops the offers.
    r.set_policy(e2, Policy::All, Policy::None).unwrap();
    assert_eq!(withdrawn(&flush(&mut r, e2)).len(), 2);
    let c = r.apply_update(e1, &withdraw(&[P])).unwrap();
    assert!(c.pending_peers.is_empty());
    assert_eq!(r.peer_counts(e2).unwrap().advertised, 0);
}

#[test]
fn withdrawn_then_announced_again_before_the_flush_is_announced() {
    let mut r = rib();
    let e1 = up(&mut r, 1, peer("198.18.1.1", 65001, "1.1.1.1"));
    let e2 = up(&mut r, 2, peer("198.18.2.1", 65002, "2.2.2.2"));
    r.apply_update(e1, &announce(&[P, "203.0.114.0/24"], attrs(&[65001]), "198.18.1.1")).unwrap();
    assert_eq!(flush(&mut r, e2).announced_len(), 2);
    // P: gone and back before the flush; Q: back and gone again.
    r.apply_update(e1, &withdraw(&[P, "203.0.114.0/24"])).unwrap();
    r.apply_update(e1, &announce(&[P, "203.0.114.0/24"], attrs(&[65001, 65009]), "198.18.1.1"))
        .unwrap();
    r.apply_update(e1, &withdraw(&["203.0.114.0/24"])).unwrap();
    let b = flush(&mut r, e2);
    assert_eq!(announced(&b), vec![net(P)]);
    assert_eq!(withdrawn(&b), vec![net("203.0.114.0/24")]);
    assert_eq!(r.peer_counts(e2).unwrap().advertised, 1);
}

#[test]
fn a_new_identity_applies_to_sessions_that_come_up_after_it() {
    let mut r = rib();
    let i = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    // The reload: local AS 64999, router id and cluster id 9.9.9.9; the daemon resets the
    // sessions, which come back up under the new identity.
    r.set_identity("9.9.9.9".parse().unwrap(), 64999, "9.9.9.9".parse().unwrap());
    assert_eq!(r.config().local_as, 64999);
    r.peer_down(i).unwrap();
    let i = up(&mut r, 1, PeerInfo { ibgp: true, ..peer("198.18.0.1", 64999, "1.1.1.1") });
    let e = up(&mut r, 2, peer("198.18.1.1", 65002, "2.2.2.2"));
    r.apply_update(i, &announce(&[P], attrs(&[65001]), "198.18.0.9")).unwrap();
    let sent = sent_attrs(&flush(&mut r, e));
    assert_eq!(sent.path.as_path, Some(AsPath::from_sequence(vec![64999, 65001])));
    assert!(flush(&mut r, i).announcements.is_empty(), "split horizon: back to no iBGP peer");
    // A path carrying our new AS is a loop (RFC 4271 §9.1.2); one with the old AS is not.
    r.apply_update(e, &announce(&["198.51.100.0/24"], attrs(&[65002, 64999]), "198.18.1.1"))
        .unwrap();
    assert_eq!(best_peer(&r, "198.51.100.0/24"), None);
    r.apply_update(e, &announce(&["198.51.100.0/24"], attrs(&[65002, LOCAL_AS]), "198.18.1.1"))
        .unwrap();
    assert_eq!(best_peer(&r, "198.51.100.0/24"), Some(e));
}
