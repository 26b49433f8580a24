//! Every bad-input case of the codec's issue, each with the exact outcome the RFCs name:
//! a NOTIFICATION (code, subcode, data) per RFC 4271 §6, or an RFC 7606 action, where
//! treat-as-withdraw turns the UPDATE's NLRI into explicit withdrawals.
mod update_support;

use bgp_core::wire::attributes::*;
use bgp_core::wire::message::decode_message;
use bgp_core::wire::{
    AttributeAction, DecodeError, Family, MpUnreach, Notification, Update, WireContext,
};
use bytes::Bytes;
use update_support::*;

/// A whole message: marker, length, type, body.
fn frame(msg_type: u8, body: &[u8]) -> Bytes {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    v.push(msg_type);
    v.extend_from_slice(body);
    Bytes::from(v)
}

/// (code, subcode, data) of the NOTIFICATION that `err` sends.
fn notif(err: &DecodeError) -> (u8, u8, Vec<u8>) {
    let n = Notification::from(err);
    (n.code, n.subcode, n.data.to_vec())
}

fn decode_err(b: &Bytes) -> (u8, u8, Vec<u8>) {
    notif(&decode(b).expect_err("must reset the session"))
}

/// The UPDATE decoded with exactly one issue of `action` for `type_code`.
fn single_issue(b: &Bytes, type_code: u8, action: AttributeAction) -> Update {
    let u = decode(b).expect("RFC 7606 lets the session survive");
    assert_eq!(u.issues.len(), 1, "{:?}", u.issues);
    assert_eq!((u.issues[0].type_code, u.issues[0].action), (type_code, action), "{:?}", u.issues);
    u
}

/// Treat-as-withdraw: both NLRI of [`NLRI2`] come out as explicit withdrawals.
fn assert_withdrawn(u: &Update) {
    assert!(u.nlri.is_empty());
    assert_eq!(u.withdrawn, vec![p("198.18.1.0/24"), p("198.18.2.0/24")]);
}

// ---------------------------------------------------------------- RFC 4271 §6.1 (header)

#[test]
fn bad_marker_is_1_1() {
    let mut wire = frame(4, &[]).to_vec();
    wire[3] = 0;
    let err = decode_message(Bytes::from(wire), &WireContext::default()).unwrap_err();
    assert_eq!(notif(&err), (1, 1, vec![]));
}

#[test]
fn bad_length_is_1_2_with_the_length() {
    let ctx = WireContext::default();
    // Length below 19, above 4096, KEEPALIVE not 19, OPEN below 29, UPDATE below 23.
    for (len, t) in [(18u16, 4u8), (4097, 2), (20, 4), (28, 1), (22, 2), (20, 3)] {
        let mut wire = vec![0xff; 16];
        wire.extend_from_slice(&len.to_be_bytes());
        wire.push(t);
        wire.resize(usize::from(len).max(19), 0);
        let err = decode_message(Bytes::from(wire), &ctx).unwrap_err();
        assert_eq!(notif(&err), (1, 2, len.to_be_bytes().to_vec()), "len {len} type {t}");
    }
}

#[test]
fn unknown_type_is_1_3_with_the_type() {
    let err = decode_message(frame(6, &[]), &WireContext::default()).unwrap_err();
    assert_eq!(notif(&err), (1, 3, vec![6]));
}

// -------------------------------------------------------- RFC 4271 §6.3 / RFC 7606 §4, §5

#[test]
fn withdrawn_length_overrun_is_3_1() {
    let mut b = body(&[24, 198, 18, 1], &[], &[]).to_vec();
    b[1] = 40;
    assert_eq!(decode_err(&Bytes::from(b)), (3, 1, vec![]));
}

#[test]
fn total_attribute_length_overrun_is_3_1() {
    let mut b = body(&[], &mandatory(), &[]).to_vec();
    b[3] += 1;
    assert_eq!(decode_err(&Bytes::from(b)), (3, 1, vec![]));
}

#[test]
fn truncated_attribute_is_treat_as_withdraw() {
    // RFC 7606 §4: fewer than 3 octets left when an attribute starts.
    let attrs = [mandatory(), vec![FLAG_OPTIONAL, 99]].concat();
    let u = single_issue(&body(&[], &attrs, &NLRI2), 99, AttributeAction::TreatAsWithdraw);
    assert_withdrawn(&u);
    // Extended length with only one length octet.
    let attrs = [mandatory(), vec![FLAG_OPTIONAL | FLAG_EXTENDED_LENGTH, 99, 0]].concat();
    let u = single_issue(&body(&[], &attrs, &NLRI2), 99, AttributeAction::TreatAsWithdraw);
    assert_withdrawn(&u);
}

#[test]
fn attribute_length_overrun_is_treat_as_withdraw() {
    // COMMUNITIES claims 8 octets, 4 remain before the NLRI.
    let attrs = [mandatory(), vec![OT, ATTR_COMMUNITIES, 8, 0, 0, 0, 1]].concat();
    let u = single_issue(
        &body(&[], &attrs, &NLRI2),
        ATTR_COMMUNITIES,
        AttributeAction::TreatAsWithdraw,
    );
    assert_withdrawn(&u);
}

#[test]
fn mp_attribute_length_overrun_is_3_5_with_the_rest_of_the_attributes() {
    // RFC 7606 §3 j: MP_REACH_NLRI cannot be located: session reset.
    let bad = vec![ON | FLAG_EXTENDED_LENGTH, ATTR_MP_REACH_NLRI, 0, 50, 0, 2, 1];
    let attrs = [mandatory(), bad.clone()].concat();
    assert_eq!(decode_err(&body(&[], &attrs, &[])), (3, 5, bad));
}

#[test]
fn duplicate_attribute_keeps_the_first_and_discards_the_rest() {
    // RFC 7606 §3 g.
    let attrs = [mandatory(), attr(ON, ATTR_MED, &[0, 0, 0, 5]), attr(ON, ATTR_MED, &[0, 0, 0, 9])]
        .concat();
    let u = single_issue(&body(&[], &attrs, &NLRI2), ATTR_MED, AttributeAction::Discard);
    assert_eq!(u.attributes.med, Some(5));
    assert_eq!(u.nlri, vec![p("198.18.1.0/24"), p("198.18.2.0/24")]);
}

#[test]
fn duplicate_mp_reach_is_3_1() {
    let mp = attr(
        ON,
        ATTR_MP_REACH_NLRI,
        &[0, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
    );
    let attrs = [mp.clone(), mandatory(), mp].concat();
    assert_eq!(decode_err(&body(&[], &attrs, &[])), (3, 1, vec![]));
}

#[test]
fn missing_well_known_attributes_are_treat_as_withdraw() {
    // RFC 7606 §3 d.
    for (missing, attrs) in [
        (ATTR_ORIGIN, [as_path4(&[65001]), next_hop([198, 18, 0, 1])].concat()),
        (ATTR_AS_PATH, [origin_igp(), next_hop([198, 18, 0, 1])].concat()),
        (ATTR_NEXT_HOP, [origin_igp(), as_path4(&[65001])].concat()),
    ] {
        let u = single_issue(&body(&[], &attrs, &NLRI2), missing, AttributeAction::TreatAsWithdraw);
        assert_withdrawn(&u);
    }
    // Not missing when nothing is announced (a pure withdrawal).
    let u = decode(&body(&NLRI2, &[], &[])).unwrap();
    assert!(u.issues.is_empty());
}

#[test]
fn invalid_origin_is_treat_as_withdraw() {
    // RFC 7606 §7.1: undefined value, or length not 1.
    for value in [&[3u8][..], &[0, 0], &[]] {
        let attrs =
            [attr(WK, ATTR_ORIGIN, value), as_path4(&[65001]), next_hop([198, 18, 0, 1])].concat();
        let u =
            single_issue(&body(&[], &attrs, &NLRI2), ATTR_ORIGIN, AttributeAction::TreatAsWithdraw);
        assert_withdrawn(&u);
    }
}

#[test]
fn malformed_as_path_is_treat_as_withdraw() {
    // RFC 7606 §7.2: unknown segment type, zero-length segment, overrun, a single octet left.
    for value in [
        &[5u8, 1, 0, 0, 0xfd, 0xe9][..],
        &[2, 0],
        &[2, 2, 0, 0, 0xfd, 0xe9],
        &[2, 1, 0, 0, 0xfd, 0xe9, 2],
    ] {
        let attrs =
            [origin_igp(), attr(WK, ATTR_AS_PATH, value), next_hop([198, 18, 0, 1])].concat();
        let u = single_issue(
            &body(&[], &attrs, &NLRI2),
            ATTR_AS_PATH,
            AttributeAction::TreatAsWithdraw,
        );
        assert_withdrawn(&u);
    }
}

#[test]
fn next_hop_zero_multicast_broadcast_or_bad_length_is_treat_as_withdraw() {
    // RFC 4271 §6.3 "semantically incorrect", handled per RFC 7606 §7.3.
    for nh in
        [&[0u8, 0, 0, 0][..], &[224, 0, 0, 5], &[239, 1, 2, 3], &[255, 255, 255, 255], &[1, 2, 3]]
    {
        let attrs = [origin_igp(), as_path4(&[65001]), attr(WK, ATTR_NEXT_HOP, nh)].concat();
        let u = single_issue(
            &body(&[], &attrs, &NLRI2),
            ATTR_NEXT_HOP,
            AttributeAction::TreatAsWithdraw,
        );
        assert_withdrawn(&u);
    }
}

#[test]
fn mp_reach_next_hop_unspecified_or_multicast_is_treat_as_withdraw() {
    let mut value = vec![0, 2, 1, 16];
    value.extend_from_slice(&[0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    value.extend_from_slice(&[0, 48, 0x20, 1, 0xd, 0xb8, 0, 1]);
    let attrs = [attr(ON, ATTR_MP_REACH_NLRI, &value), origin_igp(), as_path4(&[65001])].concat();
    let u =
        single_issue(&body(&[], &attrs, &[]), ATTR_MP_REACH_NLRI, AttributeAction::TreatAsWithdraw);
    assert!(u.mp_reach.is_none());
    assert_eq!(
        u.mp_unreach,
        Some(MpUnreach { family: Family::IPV6_UNICAST, withdrawn: vec![p("2001:db8:1::/48")] })
    );
}

#[test]
fn nlri_length_overrun_is_3_10() {
    // RFC 7606 §5.3: the NLRI field cannot be parsed: session reset.
    assert_eq!(decode_err(&body(&[], &mandatory(), &[24, 198, 18])), (3, 10, vec![]));
    assert_eq!(decode_err(&body(&[24, 198], &[], &[])), (3, 10, vec![]));
}

#[test]
fn prefix_longer_than_32_is_3_10() {
    assert_eq!(decode_err(&body(&[], &mandatory(), &[33, 198, 18, 1, 1, 0])), (3, 10, vec![]));
    assert_eq!(decode_err(&body(&[33, 198, 18, 1, 1, 0], &[], &[])), (3, 10, vec![]));
}

#[test]
fn ipv6_prefix_longer_than_128_in_mp_reach_is_3_9_with_the_attribute() {
    // RFC 4760 §7: an incorrect MP_REACH_NLRI is an Optional Attribute Error, data = attribute.
    let mut value = vec![0, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    value.push(129);
    value.extend_from_slice(&[0xff; 17]);
    let mp = attr(ON | FLAG_EXTENDED_LENGTH, ATTR_MP_REACH_NLRI, &value);
    let attrs = [mp.clone(), origin_igp(), as_path4(&[65001])].concat();
    assert_eq!(decode_err(&body(&[], &attrs, &[])), (3, 9, mp));
    // The same in MP_UNREACH_NLRI.
    let mp = attr(ON, ATTR_MP_UNREACH_NLRI, &[0, 2, 1, 129, 0x20]);
    assert_eq!(decode_err(&body(&[], &mp, &[])), (3, 9, mp));
}

#[test]
fn zero_length_mp_reach_is_3_9_with_the_attribute() {
    // RFC 7606 §7.11 (next hop / NLRI cannot be located) and RFC 4760 §7.
    for mp in [attr(ON, ATTR_MP_REACH_NLRI, &[]), attr(ON, ATTR_MP_UNREACH_NLRI, &[])] {
        let attrs = [mp.clone(), origin_igp(), as_path4(&[65001])].concat();
        assert_eq!(decode_err(&body(&[], &attrs, &[])), (3, 9, mp));
    }
}

#[test]
fn mp_reach_next_hop_length_inconsistent_is_3_9() {
    // IPv6 family with a 4-octet next hop.
    let mp = attr(ON, ATTR_MP_REACH_NLRI, &[0, 2, 1, 4, 198, 18, 0, 1, 0]);
    let attrs = [mp.clone(), origin_igp(), as_path4(&[65001])].concat();
    assert_eq!(decode_err(&body(&[], &attrs, &[])), (3, 9, mp));
}

#[test]
fn conflicting_flags_are_treat_as_withdraw_or_discard_per_attribute() {
    // RFC 7606 §3 c: treat-as-withdraw unless the attribute says otherwise.
    let origin_optional = attr(OT, ATTR_ORIGIN, &[0]);
    let attrs = [origin_optional, as_path4(&[65001]), next_hop([198, 18, 0, 1])].concat();
    let u = single_issue(&body(&[], &attrs, &NLRI2), ATTR_ORIGIN, AttributeAction::TreatAsWithdraw);
    assert_withdrawn(&u);

    let med_transitive = attr(OT, ATTR_MED, &[0, 0, 0, 1]);
    let attrs = [mandatory(), med_transitive].concat();
    let u = single_issue(&body(&[], &attrs, &NLRI2), ATTR_MED, AttributeAction::TreatAsWithdraw);
    assert_withdrawn(&u);

    // RFC 7606 §7.7: AGGREGATOR is discarded, the routes stay.
    let aggr_well_known = attr(WK, ATTR_AGGREGATOR, &[0, 0, 0xfd, 0xe9, 198, 18, 0, 1]);
    let attrs = [mandatory(), aggr_well_known].concat();
    let u = single_issue(&body(&[], &attrs, &NLRI2), ATTR_AGGREGATOR, AttributeAction::Discard);
    assert_eq!(u.nlri.len(), 2);
    assert_eq!(u.attributes.aggregator, None);
}

#[test]
fn unrecognized_well_known_attribute_is_3_2_with_the_attribute() {
    let unknown = attr(WK, 99, &[1, 2, 3]);
    let attrs = [mandatory(), unknown.clone()].concat();
    assert_eq!(decode_err(&body(&[], &attrs, &NLRI2)), (3, 2, unknown));
}

#[test]
fn malformed_optional_attributes_per_rfc7606() {
    // §7.8 COMMUNITIES, §7.14 EXTENDED_COMMUNITIES, RFC 8092 §6 LARGE_COMMUNITIES, §7.9,
    // §7.10: treat-as-withdraw. §7.4, §7.5 MED / LOCAL_PREF length: treat-as-withdraw.
    for (t, flags, value) in [
        (ATTR_COMMUNITIES, OT, &[0u8, 0, 1][..]),
        (ATTR_COMMUNITIES, OT, &[]),
        (ATTR_EXTENDED_COMMUNITIES, OT, &[0; 7]),
        (ATTR_LARGE_COMMUNITIES, OT, &[0; 13]),
        (ATTR_ORIGINATOR_ID, ON, &[0; 3]),
        (ATTR_CLUSTER_LIST, ON, &[0; 5]),
        (ATTR_MED, ON, &[0; 3]),
        (ATTR_LOCAL_PREF, WK, &[0; 5]),
    ] {
        let attrs = [mandatory(), attr(flags, t, value)].concat();
        let u = single_issue(&body(&[], &attrs, &NLRI2), t, AttributeAction::TreatAsWithdraw);
        assert_withdrawn(&u);
    }
    // §7.6 ATOMIC_AGGREGATE, §7.7 AGGREGATOR, RFC 6793 §6 AS4_PATH / AS4_AGGREGATOR: discard.
    for (t, flags, value) in [
        (ATTR_ATOMIC_AGGREGATE, WK, &[1u8][..]),
        (ATTR_AGGREGATOR, OT, &[0; 7]),
        (ATTR_AS4_AGGREGATOR, OT, &[0; 8]),
    ] {
        let attrs = [mandatory(), attr(flags, t, value)].concat();
        let u = single_issue(&body(&[], &attrs, &NLRI2), t, AttributeAction::Discard);
        assert_eq!(u.nlri.len(), 2);
    }
}

#[test]
fn as4_path_from_a_4_octet_speaker_is_discarded() {
    // RFC 6793 §4.1.
    let attrs = [mandatory(), attr(OT, ATTR_AS4_PATH, &[2, 1, 0, 0, 0xfd, 0xe9])].concat();
    let u = single_issue(&body(&[], &attrs, &NLRI2), ATTR_AS4_PATH, AttributeAction::Discard);
    assert_eq!(u.nlri.len(), 2);
}

#[test]
fn malformed_as4_path_on_a_2_octet_session_is_discarded_and_as_path_kept() {
    let ctx = WireContext::default();
    let attrs = [
        origin_igp(),
        as_path2(&[23456, 65001]),
        next_hop([198, 18, 0, 1]),
        attr(OT, ATTR_AS4_PATH, &[2, 3, 0, 0, 0xfd, 0xe9]),
    ]
    .concat();
    let u = bgp_core::wire::update::decode_update(&body(&[], &attrs, &NLRI2), &ctx).unwrap();
    assert_eq!(u.issues.len(), 1);
    assert_eq!(
        (u.issues[0].type_code, u.issues[0].action),
        (ATTR_AS4_PATH, AttributeAction::Discard)
    );
    assert_eq!(u.attributes.as_path, Some(AsPath::from_sequence(vec![23456, 65001])));
}

#[test]
fn treat_as_withdraw_covers_mp_reach_nlri_too() {
    let mut value = vec![0, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    value.extend_from_slice(&[48, 0x20, 1, 0xd, 0xb8, 0, 7]);
    let attrs = [attr(ON, ATTR_MP_REACH_NLRI, &value), attr(WK, ATTR_ORIGIN, &[7]), as_path4(&[1])]
        .concat();
    let u = single_issue(&body(&[], &attrs, &[]), ATTR_ORIGIN, AttributeAction::TreatAsWithdraw);
    assert!(u.mp_reach.is_none());
    assert_eq!(u.mp_unreach.unwrap().withdrawn, vec![p("2001:db8:7::/48")]);
}

#[test]
fn open_errors_are_code_2() {
    let ctx = WireContext::default();
    // Version 3: 2/1, data = 0x0004 (RFC 4271 §6.2: largest supported version).
    let err =
        decode_message(frame(1, &[3, 0xfd, 0xe9, 0, 90, 198, 18, 0, 1, 0]), &ctx).unwrap_err();
    assert_eq!(notif(&err), (2, 1, vec![0, 4]));
    // Hold time 1: 2/6.
    let err = decode_message(frame(1, &[4, 0xfd, 0xe9, 0, 1, 198, 18, 0, 1, 0]), &ctx).unwrap_err();
    assert_eq!(notif(&err).0, 2);
    assert_eq!(notif(&err).1, 6);
    // BGP identifier 0: 2/3.
    let err = decode_message(frame(1, &[4, 0xfd, 0xe9, 0, 90, 0, 0, 0, 0, 0]), &ctx).unwrap_err();
    assert_eq!(notif(&err), (2, 3, vec![]));
    // Optional parameters length past the end: 2/0.
    let err =
        decode_message(frame(1, &[4, 0xfd, 0xe9, 0, 90, 198, 18, 0, 1, 9, 2]), &ctx).unwrap_err();
    assert_eq!(notif(&err).0, 2);
}

#[test]
fn route_refresh_bad_length_is_7_1_with_the_whole_message() {
    let wire = frame(5, &[0, 1, 0, 1, 0]);
    let err = decode_message(wire.clone(), &WireContext::default()).unwrap_err();
    assert_eq!(notif(&err), (7, 1, wire.to_vec()));
}
