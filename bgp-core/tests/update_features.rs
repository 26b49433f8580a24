//! UPDATE features of the codec's issue, decoded and re-encoded byte-exact.
mod update_support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_core::wire::attributes::*;
use bgp_core::wire::message::{decode_message, Message};
use bgp_core::wire::update::decode_update;
use bgp_core::wire::update::split::{encode_announcements, encode_withdrawals};
use bgp_core::wire::{Family, MpNextHop, Nlri, Update, WireContext};
use bytes::{Bytes, BytesMut};
use update_support::*;

fn v6_nh(global: &str, ll: Option<&str>) -> Vec<u8> {
    let mut v = global.parse::<Ipv6Addr>().unwrap().octets().to_vec();
    if let Some(ll) = ll {
        v.extend_from_slice(&ll.parse::<Ipv6Addr>().unwrap().octets());
    }
    v
}

fn mp_reach(afi: u16, nh: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = afi.to_be_bytes().to_vec();
    v.push(1);
    v.push(nh.len() as u8);
    v.extend_from_slice(nh);
    v.push(0);
    v.extend_from_slice(nlri);
    attr(ON, ATTR_MP_REACH_NLRI, &v)
}

#[test]
fn full_ipv4_update_round_trips() {
    let attrs = [
        origin_igp(),
        as_path4(&[65001, 4_200_000_000]),
        next_hop([198, 18, 0, 1]),
        attr(ON, ATTR_MED, &[0, 0, 0, 10]),
        attr(WK, ATTR_LOCAL_PREF, &[0, 0, 0, 100]),
        attr(WK, ATTR_ATOMIC_AGGREGATE, &[]),
        attr(OT, ATTR_AGGREGATOR, &[0, 0, 0xfd, 0xe9, 198, 18, 0, 9]),
        attr(OT, ATTR_COMMUNITIES, &[0xfd, 0xe9, 0, 1, 0xff, 0xff, 0xff, 0x01]),
        attr(ON, ATTR_ORIGINATOR_ID, &[198, 18, 0, 7]),
        attr(ON, ATTR_CLUSTER_LIST, &[198, 18, 0, 8, 198, 18, 0, 9]),
        attr(OT, ATTR_EXTENDED_COMMUNITIES, &[0, 2, 0xfd, 0xe9, 0, 0, 0, 1]),
        attr(OT, ATTR_LARGE_COMMUNITIES, &[0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2]),
    ]
    .concat();
    let u = round_trip(&body(&[16, 198, 19], &attrs, &NLRI2), &ctx4());
    let a = &u.attributes;
    assert_eq!(a.origin, Some(Origin::Igp));
    assert_eq!(a.as_path.as_ref().unwrap().to_string(), "65001 4200000000");
    assert_eq!((a.med, a.local_pref, a.atomic_aggregate), (Some(10), Some(100), true));
    assert_eq!(
        a.aggregator,
        Some(Aggregator { asn: 65001, address: Ipv4Addr::new(198, 18, 0, 9) })
    );
    assert_eq!(a.communities, vec![0xfde9_0001, 0xffff_ff01]);
    assert_eq!(a.cluster_list.len(), 2);
    assert_eq!(a.extended_communities, vec![0x0002_fde9_0000_0001]);
    assert_eq!(a.large_communities, vec![LargeCommunity { global: 65001, local1: 1, local2: 2 }]);
    assert_eq!(u.withdrawn, vec![p("198.19.0.0/16")]);
}

#[test]
fn as4_path_is_reconstructed_on_a_2_octet_session_and_re_encoded_as_received() {
    // RFC 6793 §4.2.3: AS_PATH 65010 23456 23456 + AS4_PATH 4200000000 4200000001.
    let ctx = WireContext::default();
    let as4 = [2u8, 2, 0xfa, 0x56, 0xea, 0x00, 0xfa, 0x56, 0xea, 0x01];
    let attrs = [
        origin_igp(),
        as_path2(&[65010, 23456, 23456]),
        next_hop([198, 18, 0, 1]),
        attr(OT, ATTR_AGGREGATOR, &[0x5b, 0xa0, 198, 18, 0, 9]),
        attr(OT, ATTR_AS4_PATH, &as4),
        attr(OT, ATTR_AS4_AGGREGATOR, &[0xfa, 0x56, 0xea, 0x00, 198, 18, 0, 9]),
    ]
    .concat();
    let u = round_trip(&body(&[], &attrs, &NLRI2), &ctx);
    assert_eq!(u.attributes.as_path.as_ref().unwrap().to_string(), "65010 4200000000 4200000001");
    assert_eq!(u.attributes.aggregator.unwrap().asn, 4_200_000_000);
    // The same path to a 4-octet peer needs no AS4 attributes.
    let out = encode(&u, &ctx4());
    let back = decode_update(&out, &ctx4()).unwrap();
    assert_eq!(back.attributes.as_path, u.attributes.as_path);
    assert!(back.attributes.unknown.is_empty());
}

#[test]
fn locally_built_large_asns_go_to_a_2_octet_peer_as_as_trans_plus_as4_path() {
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(vec![4_200_000_000, 65001])),
        next_hop: Some(Ipv4Addr::new(198, 18, 0, 1)),
        ..Default::default()
    };
    let u = Update { attributes: attrs, nlri: vec![p("198.18.1.0/24")], ..Default::default() };
    let ctx = WireContext::default();
    let wire = encode(&u, &ctx);
    let as4_path = attr(OT, ATTR_AS4_PATH, &[2, 2, 0xfa, 0x56, 0xea, 0x00, 0, 0, 0xfd, 0xe9]);
    assert!(wire.windows(as4_path.len()).any(|w| w == &as4_path[..]));
    let back = decode_update(&wire, &ctx).unwrap();
    assert_eq!(back.attributes.as_path, u.attributes.as_path);
}

#[test]
fn ipv6_link_local_and_global_next_hop() {
    // RFC 2545 §3: 32-octet next hop = global + link-local.
    let nh = v6_nh("2001:db8::1", Some("fe80::1"));
    let attrs =
        [mp_reach(2, &nh, &[48, 0x20, 1, 0xd, 0xb8, 0, 1]), origin_igp(), as_path4(&[65001])]
            .concat();
    let u = round_trip(&body(&[], &attrs, &[]), &ctx4());
    let reach = u.mp_reach.unwrap();
    assert_eq!(reach.family, Family::IPV6_UNICAST);
    assert_eq!(reach.next_hop.global, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!(reach.next_hop.link_local, Some("fe80::1".parse().unwrap()));
    assert_eq!(reach.nlri, vec![p("2001:db8:1::/48")]);
}

#[test]
fn ipv4_nlri_with_ipv6_next_hop_rfc8950() {
    let nh = v6_nh("2001:db8::1", None);
    let attrs = [mp_reach(1, &nh, &[24, 198, 18, 1]), origin_igp(), as_path4(&[65001])].concat();
    let u = round_trip(&body(&[], &attrs, &[]), &ctx4());
    let reach = u.mp_reach.unwrap();
    assert_eq!(reach.family, Family::IPV4_UNICAST);
    assert_eq!(reach.next_hop.global, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!(reach.nlri, vec![p("198.18.1.0/24")]);
    // The splitting encoder picks MP_REACH_NLRI for it.
    let mut out = BytesMut::new();
    let nh = MpNextHop { global: "2001:db8::1".parse().unwrap(), link_local: None };
    encode_announcements(&u.attributes, &nh, Family::IPV4_UNICAST, &reach.nlri, &ctx4(), &mut out)
        .unwrap();
    let Message::Update(back) = decode_message(out.freeze(), &ctx4()).unwrap() else { panic!() };
    assert_eq!(back.mp_reach.unwrap().next_hop, nh);
    assert!(back.nlri.is_empty());
}

#[test]
fn unknown_optional_transitive_is_passed_on_with_partial_set() {
    // RFC 4271 §5; type 99 optional transitive, type 98 optional non-transitive.
    let attrs = [mandatory(), attr(ON, 98, &[4]), attr(OT, 99, &[1, 2, 3])].concat();
    let mut u = round_trip(&body(&[], &attrs, &NLRI2), &ctx4());
    assert_eq!(u.attributes.unknown.len(), 2);
    u.attributes.prepare_for_export();
    assert_eq!(u.attributes.unknown.len(), 1);
    let out = encode(&u, &ctx4());
    let expected = attr(OT | FLAG_PARTIAL, 99, &[1, 2, 3]);
    assert!(out.windows(expected.len()).any(|w| w == &expected[..]));
    assert!(!out.windows(3).any(|w| w == [ON, 98, 1]));
}

#[test]
fn known_attribute_with_partial_keeps_it() {
    let attrs = [mandatory(), attr(OT | FLAG_PARTIAL, ATTR_COMMUNITIES, &[0, 1, 0, 2])].concat();
    round_trip(&body(&[], &attrs, &NLRI2), &ctx4());
}

#[test]
fn end_of_rib_markers() {
    // RFC 4724 §2.
    let v4 = body(&[], &[], &[]);
    assert_eq!(decode(&v4).unwrap().end_of_rib_family(), Some(Family::IPV4_UNICAST));
    assert_eq!(encode(&Update::end_of_rib(Family::IPV4_UNICAST), &ctx4()), v4);
    let v6 = body(&[], &attr(ON, ATTR_MP_UNREACH_NLRI, &[0, 2, 1]), &[]);
    assert_eq!(decode(&v6).unwrap().end_of_rib_family(), Some(Family::IPV6_UNICAST));
    assert_eq!(encode(&Update::end_of_rib(Family::IPV6_UNICAST), &ctx4()), v6);
    assert_eq!(decode(&body(&NLRI2, &[], &[])).unwrap().end_of_rib_family(), None);
}

#[test]
fn add_path_nlri_in_classic_and_mp_fields() {
    let ctx = WireContext {
        add_path: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
        ..WireContext::modern()
    };
    let nlri = [0, 0, 0, 1, 24, 198, 18, 1, 0, 0, 0, 2, 24, 198, 18, 1];
    let u = round_trip(&body(&nlri, &[], &[]), &ctx);
    assert_eq!(u.withdrawn[1].path_id, Some(2));
    let nh = v6_nh("2001:db8::1", None);
    let attrs = [
        mp_reach(2, &nh, &[0, 0, 0, 9, 48, 0x20, 1, 0xd, 0xb8, 0, 1]),
        origin_igp(),
        as_path4(&[1]),
    ]
    .concat();
    let u = round_trip(&body(&[], &attrs, &[]), &ctx);
    assert_eq!(u.mp_reach.unwrap().nlri[0].path_id, Some(9));
}

/// Decode every message of `out` and collect their NLRI.
fn messages(out: BytesMut, ctx: &WireContext) -> Vec<Update> {
    let mut buf = out;
    let mut updates = Vec::new();
    while !buf.is_empty() {
        let frame = bgp_core::wire::split_frame(&mut buf, ctx).unwrap().unwrap();
        assert!(frame.len() <= ctx.max_message_len);
        let Message::Update(u) = decode_message(frame, ctx).unwrap() else { panic!() };
        assert!(u.issues.is_empty());
        updates.push(u);
    }
    updates
}

fn many_v4(n: u32) -> Vec<Nlri> {
    (0..n).map(|i| Nlri::new(format!("10.{}.{}.0/24", i >> 8, i & 255).parse().unwrap())).collect()
}

#[test]
fn splitting_encoder_uses_as_few_messages_as_the_size_allows() {
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(vec![65001])),
        communities: vec![1, 2, 3],
        ..Default::default()
    };
    let nh = MpNextHop { global: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)), link_local: None };
    let list = many_v4(5000);
    for max in [4096usize, 65535] {
        let ctx = WireContext { max_message_len: max, ..WireContext::modern() };
        let mut out = BytesMut::new();
        let n =
            encode_announcements(&attrs, &nh, Family::IPV4_UNICAST, &list, &ctx, &mut out).unwrap();
        let total = out.len();
        let updates = messages(out, &ctx);
        assert_eq!(updates.len(), n);
        // Each /24 takes 4 octets; 19 + 4 + attributes of overhead per message.
        let per_msg = (max - 23 - 30) / 4;
        assert_eq!(n, list.len().div_ceil(per_msg), "max {max}, {total} octets");
        let got: Vec<Nlri> = updates.iter().flat_map(|u| u.nlri.clone()).collect();
        assert_eq!(got, list);

        let mut out = BytesMut::new();
        let w = encode_withdrawals(Family::IPV4_UNICAST, &list, &ctx, &mut out).unwrap();
        let got: Vec<Nlri> = messages(out, &ctx).iter().flat_map(|u| u.withdrawn.clone()).collect();
        assert_eq!(got, list);
        assert_eq!(w, list.len().div_ceil((max - 23) / 4));
    }
}

#[test]
fn splitting_encoder_ipv6_with_link_local_and_add_path() {
    let ctx = WireContext { add_path: vec![Family::IPV6_UNICAST], ..WireContext::modern() };
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(vec![65001])),
        ..Default::default()
    };
    let nh = MpNextHop {
        global: "2001:db8::1".parse().unwrap(),
        link_local: Some("fe80::1".parse().unwrap()),
    };
    let list: Vec<Nlri> = (0..3000u32)
        .map(|i| Nlri::with_path_id(format!("2001:db8:{i:x}::/48").parse().unwrap(), i))
        .collect();
    let mut out = BytesMut::new();
    encode_announcements(&attrs, &nh, Family::IPV6_UNICAST, &list, &ctx, &mut out).unwrap();
    let updates = messages(out, &ctx);
    let got: Vec<Nlri> =
        updates.iter().flat_map(|u| u.mp_reach.as_ref().unwrap().nlri.clone()).collect();
    assert_eq!(got, list);
    assert!(updates.iter().all(|u| u.mp_reach.as_ref().unwrap().next_hop == nh));

    let mut out = BytesMut::new();
    encode_withdrawals(Family::IPV6_UNICAST, &list, &ctx, &mut out).unwrap();
    let got: Vec<Nlri> = messages(out, &ctx)
        .iter()
        .flat_map(|u| u.mp_unreach.as_ref().unwrap().withdrawn.clone())
        .collect();
    assert_eq!(got, list);
}

#[test]
fn shutdown_communication_and_enhanced_route_refresh_messages() {
    use bgp_core::wire::route_refresh::{SUBTYPE_BORR, SUBTYPE_EORR};
    use bgp_core::wire::{Notification, RouteRefresh};
    let ctx = WireContext::modern();
    let n = Notification::cease_with_message(2, "maintenance: node drain ✓");
    let wire = Message::Notification(n.clone()).to_bytes(&ctx).unwrap();
    let Message::Notification(back) = decode_message(wire, &ctx).unwrap() else { panic!() };
    assert_eq!(back.shutdown_message(), Some("maintenance: node drain ✓"));
    for subtype in [SUBTYPE_BORR, SUBTYPE_EORR] {
        let rr = RouteRefresh { family: Family::IPV6_UNICAST, subtype };
        let wire = Message::RouteRefresh(rr).to_bytes(&ctx).unwrap();
        assert_eq!(&wire[19..], &[0, 2, subtype, 1]);
        assert_eq!(decode_message(wire, &ctx).unwrap(), Message::RouteRefresh(rr));
    }
    let _ = Bytes::new();
}

#[test]
fn mp_reach_then_mp_unreach_first_re_encodes_byte_exact() {
    // Found by the property test: MP_UNREACH_NLRI right after MP_REACH_NLRI at the front is
    // still the RFC 7606 §5.1 layout, not type-code order.
    let nh = v6_nh("2001:db8::1", None);
    let attrs = [
        mp_reach(2, &nh, &[48, 0x20, 1, 0xd, 0xb8, 0, 1]),
        attr(ON, ATTR_MP_UNREACH_NLRI, &[0, 2, 1, 48, 0x20, 1, 0xd, 0xb8, 0, 2]),
        origin_igp(),
        as_path4(&[65001]),
    ]
    .concat();
    round_trip(&body(&[], &attrs, &[]), &ctx4());
}

#[test]
fn received_attribute_order_is_kept_and_canonical_order_is_not_recorded() {
    // GoBGP writes AS4_PATH after LARGE_COMMUNITIES, FRR LARGE before EXTENDED_COMMUNITIES.
    let attrs = [
        mandatory(),
        attr(OT, ATTR_LARGE_COMMUNITIES, &[0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2]),
        attr(OT, ATTR_EXTENDED_COMMUNITIES, &[0, 2, 0xfd, 0xe9, 0, 0, 0, 1]),
        attr(OT, 99, &[7]),
    ]
    .concat();
    let u = round_trip(&body(&[], &attrs, &NLRI2), &ctx4());
    assert_eq!(u.attributes.wire.order.codes(), Some(&[1u8, 2, 3, 32, 16, 99][..]));
    // Canonical input: nothing recorded, and a MED added later lands in type-code order.
    let u = round_trip(&body(&[], &mandatory(), &NLRI2), &ctx4());
    assert_eq!(u.attributes.wire.order.codes(), None);
    let mut changed = u.clone();
    changed.attributes.med = Some(5);
    let wire = encode(&changed, &ctx4());
    let expected = [mandatory(), attr(ON, ATTR_MED, &[0, 0, 0, 5])].concat();
    assert_eq!(&wire[4..4 + expected.len()], &expected[..]);
}
