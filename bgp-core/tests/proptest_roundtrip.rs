//! Property tests of the codec: decode(encode(m)) == m, encode(decode(x)) == x for valid
//! messages x, and no panic for any byte string under any session context.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_core::wire::attributes::*;
use bgp_core::wire::capability::{AddPathEntry, AddPathMode, ExtendedNextHopEntry};
use bgp_core::wire::context::MAX_EXTENDED_MESSAGE_LEN;
use bgp_core::wire::message::{decode_message, Message};
use bgp_core::wire::open::OptionalParameter;
use bgp_core::wire::route_refresh::RouteRefresh;
use bgp_core::wire::split_frame;
use bgp_core::wire::{
    Capability, Family, GracefulRestartCap, MpNextHop, MpReach, MpUnreach, Nlri, Notification,
    Open, Update, WireContext,
};
use bytes::{Bytes, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

/// Every kind of session context the codec distinguishes.
fn ctx_strategy() -> impl Strategy<Value = WireContext> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(four, ap4, ap6, ext)| {
            let mut add_path = Vec::new();
            if ap4 {
                add_path.push(Family::IPV4_UNICAST);
            }
            if ap6 {
                add_path.push(Family::IPV6_UNICAST);
            }
            WireContext {
                four_octet_as: four,
                add_path,
                max_message_len: if ext { MAX_EXTENDED_MESSAGE_LEN } else { 4096 },
            }
        },
    )
}

fn v4_prefix() -> impl Strategy<Value = IpNet> {
    (any::<u32>(), 0u8..=32)
        .prop_map(|(a, len)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), len).unwrap().trunc()))
}

fn v6_prefix() -> impl Strategy<Value = IpNet> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(a, len)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), len).unwrap().trunc()))
}

/// NLRI with a path id exactly when the context says so.
fn nlri_list(
    prefix: impl Strategy<Value = IpNet>,
    add_path: bool,
    max: usize,
) -> impl Strategy<Value = Vec<Nlri>> {
    vec((prefix, any::<u32>()), 0..max).prop_map(move |v| {
        v.into_iter()
            .map(|(p, id)| if add_path { Nlri::with_path_id(p, id) } else { Nlri::new(p) })
            .collect()
    })
}

fn unicast_v4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>()
        .prop_map(Ipv4Addr::from)
        .prop_filter("unicast", |a| !(a.is_unspecified() || a.is_multicast() || a.is_broadcast()))
}

fn unicast_v6() -> impl Strategy<Value = Ipv6Addr> {
    any::<u128>()
        .prop_map(Ipv6Addr::from)
        .prop_filter("unicast", |a| !(a.is_unspecified() || a.is_multicast()))
}

fn segment() -> impl Strategy<Value = AsPathSegment> {
    (
        prop_oneof![
            Just(SegmentType::AsSequence),
            Just(SegmentType::AsSet),
            Just(SegmentType::ConfedSequence),
            Just(SegmentType::ConfedSet)
        ],
        vec(any::<u32>(), 1..6),
    )
        .prop_map(|(seg_type, asns)| AsPathSegment { seg_type, asns })
}

/// Type codes this crate does not interpret (so they are kept raw).
fn unknown_type() -> impl Strategy<Value = u8> {
    any::<u8>().prop_filter("unknown", |t| !matches!(t, 0..=10 | 14..=18 | 32))
}

/// Path attributes as a 4-octet session carries them (unknown optional ones included).
fn attributes(four_octet: bool) -> impl Strategy<Value = PathAttributes> {
    let asn = if four_octet { any::<u32>().boxed() } else { (0u32..=0xFFFF).boxed() };
    let seg = if four_octet {
        segment().boxed()
    } else {
        segment()
            .prop_map(|mut s| {
                s.asns.iter_mut().for_each(|a| *a &= 0xFFFF);
                s
            })
            .boxed()
    };
    (
        (
            prop_oneof![Just(Origin::Igp), Just(Origin::Egp), Just(Origin::Incomplete)],
            vec(seg, 0..4),
            unicast_v4(),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            any::<bool>(),
            proptest::option::of((asn, any::<u32>())),
        ),
        (
            vec(any::<u32>(), 0..5),
            proptest::option::of(any::<u32>()),
            vec(any::<u32>(), 0..3),
            vec(any::<u64>(), 0..3),
            vec((any::<u32>(), any::<u32>(), any::<u32>()), 0..3),
            btree_map(
                unknown_type(),
                (any::<bool>(), any::<bool>(), vec(any::<u8>(), 0..20)),
                0..3,
            ),
        ),
    )
        .prop_map(
            |((origin, segs, nh, med, lp, atomic, aggr), (comm, orig, cl, ext, large, unk))| {
                PathAttributes {
                    origin: Some(origin),
                    as_path: Some(AsPath { segments: segs }),
                    next_hop: Some(nh),
                    med,
                    local_pref: lp,
                    atomic_aggregate: atomic,
                    aggregator: aggr.map(|(asn, a)| Aggregator { asn, address: Ipv4Addr::from(a) }),
                    communities: comm,
                    originator_id: orig.map(Ipv4Addr::from),
                    cluster_list: cl.into_iter().map(Ipv4Addr::from).collect(),
                    extended_communities: ext,
                    large_communities: large
                        .into_iter()
                        .map(|(global, local1, local2)| LargeCommunity { global, local1, local2 })
                        .collect(),
                    unknown: unk
                        .into_iter()
                        .map(|(type_code, (transitive, partial, value))| RawAttribute {
                            flags: FLAG_OPTIONAL
                                | if transitive { FLAG_TRANSITIVE } else { 0 }
                                | if partial { FLAG_PARTIAL } else { 0 },
                            type_code,
                            value: Bytes::from(value),
                        })
                        .collect(),
                    ..Default::default()
                }
            },
        )
}

fn mp_next_hop(v6_family: bool) -> impl Strategy<Value = MpNextHop> {
    let v6 = (unicast_v6(), proptest::option::of(any::<u128>())).prop_map(|(g, ll)| MpNextHop {
        global: IpAddr::V6(g),
        link_local: ll.map(Ipv6Addr::from),
    });
    if v6_family {
        v6.boxed()
    } else {
        prop_oneof![
            unicast_v4().prop_map(|a| MpNextHop { global: IpAddr::V4(a), link_local: None }),
            v6
        ]
        .boxed()
    }
}

/// A valid UPDATE for `ctx`: one that decodes without issue and re-encodes to itself.
fn update(ctx: &WireContext) -> impl Strategy<Value = Update> {
    let ap4 = ctx.add_path(Family::IPV4_UNICAST);
    let ap6 = ctx.add_path(Family::IPV6_UNICAST);
    let reach = prop_oneof![
        (mp_next_hop(true), nlri_list(v6_prefix(), ap6, 20)).prop_map(|(next_hop, nlri)| {
            MpReach { family: Family::IPV6_UNICAST, next_hop, nlri }
        }),
        (mp_next_hop(false), nlri_list(v4_prefix(), ap4, 20)).prop_map(|(next_hop, nlri)| {
            MpReach { family: Family::IPV4_UNICAST, next_hop, nlri }
        }),
    ];
    (
        nlri_list(v4_prefix(), ap4, 30),
        attributes(ctx.four_octet_as),
        proptest::option::of(reach),
        proptest::option::of(nlri_list(v6_prefix(), ap6, 20)),
        nlri_list(v4_prefix(), ap4, 30),
        any::<bool>(),
    )
        .prop_map(|(withdrawn, attributes, mp_reach, unreach, nlri, with_attrs)| {
            let mp_unreach =
                unreach.map(|withdrawn| MpUnreach { family: Family::IPV6_UNICAST, withdrawn });
            let announces = !nlri.is_empty() || mp_reach.is_some();
            Update {
                withdrawn,
                // A pure withdrawal may come without attributes (RFC 4760 §4).
                attributes: if announces || with_attrs { attributes } else { Default::default() },
                mp_reach,
                mp_unreach,
                nlri,
                issues: Vec::new(),
            }
        })
}

fn ctx_and_update() -> impl Strategy<Value = (WireContext, Update)> {
    ctx_strategy().prop_flat_map(|ctx| {
        let u = update(&ctx);
        (Just(ctx), u)
    })
}

fn capability() -> impl Strategy<Value = Capability> {
    let family = prop_oneof![Just(Family::IPV4_UNICAST), Just(Family::IPV6_UNICAST)];
    prop_oneof![
        family.clone().prop_map(Capability::Multiprotocol),
        Just(Capability::RouteRefresh),
        Just(Capability::EnhancedRouteRefresh),
        Just(Capability::ExtendedMessage),
        any::<u32>().prop_map(Capability::FourOctetAs),
        vec((family.clone(), 1u8..=3), 1..3).prop_map(|v| Capability::AddPath(
            v.into_iter()
                .map(|(family, m)| AddPathEntry { family, mode: AddPathMode::from_u8(m).unwrap() })
                .collect()
        )),
        vec((family.clone(), prop_oneof![Just(1u16), Just(2u16)]), 1..3).prop_map(|v| {
            Capability::ExtendedNextHop(
                v.into_iter()
                    .map(|(nlri_family, next_hop_afi)| ExtendedNextHopEntry {
                        nlri_family,
                        next_hop_afi,
                    })
                    .collect(),
            )
        }),
        (any::<bool>(), any::<bool>(), 0u16..4096, vec((family, any::<bool>()), 0..3)).prop_map(
            |(restart_state, notification, restart_time, families)| {
                Capability::GracefulRestart(GracefulRestartCap {
                    restart_state,
                    notification,
                    restart_time,
                    families,
                })
            }
        ),
        ("[a-z0-9-]{0,20}", "[a-z0-9.]{0,20}")
            .prop_map(|(hostname, domain)| Capability::Fqdn { hostname, domain }),
        (
            any::<u8>()
                .prop_filter("unknown", |c| !matches!(c, 1 | 2 | 5 | 6 | 64 | 65 | 69 | 70 | 73)),
            vec(any::<u8>(), 0..10)
        )
            .prop_map(|(code, v)| Capability::Unknown { code, value: Bytes::from(v) }),
    ]
}

fn open() -> impl Strategy<Value = Open> {
    (
        any::<u16>(),
        any::<u16>().prop_filter("hold", |h| *h != 1 && *h != 2),
        unicast_v4(),
        vec(vec(capability(), 0..5), 0..3),
        proptest::option::of((
            any::<u8>().prop_filter("not caps", |t| *t != 2 && *t != 255),
            vec(any::<u8>(), 0..8),
        )),
        any::<bool>(),
    )
        .prop_map(|(my_as, hold_time, bgp_id, groups, unknown, extended_params)| {
            let mut params: Vec<OptionalParameter> =
                groups.into_iter().map(OptionalParameter::Capabilities).collect();
            if let Some((param_type, v)) = unknown {
                params.push(OptionalParameter::Unknown { param_type, value: Bytes::from(v) });
            }
            Open { version: 4, my_as, hold_time, bgp_id, params, extended_params }
        })
}

fn message() -> impl Strategy<Value = (WireContext, Message)> {
    prop_oneof![
        ctx_and_update().prop_map(|(c, u)| (c, Message::Update(u))),
        (ctx_strategy(), open()).prop_map(|(c, o)| (c, Message::Open(o))),
        (ctx_strategy(), any::<u8>(), any::<u8>(), vec(any::<u8>(), 0..100)).prop_map(
            |(c, code, subcode, d)| (
                c,
                Message::Notification(Notification { code, subcode, data: Bytes::from(d) })
            )
        ),
        ctx_strategy().prop_map(|c| (c, Message::Keepalive)),
        (ctx_strategy(), any::<u16>(), any::<u8>(), any::<u8>()).prop_map(|(c, afi, st, safi)| (
            c,
            Message::RouteRefresh(RouteRefresh { family: Family::new(afi, safi), subtype: st })
        )),
    ]
}

/// What `decode(encode(m))` must give back: the message itself, except that a 2-octet-AS
/// UPDATE with 4-octet ASNs also remembers the AS4 attributes it came with.
fn same(decoded: &Message, original: &Message, ctx: &WireContext) -> bool {
    match (decoded, original) {
        (Message::Update(d), Message::Update(o)) if !ctx.four_octet_as => {
            let mut d = d.clone();
            d.attributes.two_octet = None;
            d == *o
        }
        (Message::Open(d), Message::Open(o)) => {
            // The encoder switches to RFC 9072 encoding when the parameters need it.
            Open { extended_params: o.uses_extended_params(), ..o.clone() } == *d
        }
        _ => decoded == original,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// decode(encode(m)) == m, and encode(decode(encode(m))) == encode(m) byte for byte.
    #[test]
    fn decode_of_encode_is_identity((ctx, msg) in message()) {
        let wire = match msg.to_bytes(&ctx) {
            Ok(w) => w,
            // Too big for the context: nothing to check.
            Err(_) => return Ok(()),
        };
        let decoded = decode_message(wire.clone(), &ctx).expect("a message we encoded decodes");
        if let Message::Update(u) = &decoded {
            prop_assert!(u.issues.is_empty(), "issues {:?}", u.issues);
        }
        prop_assert!(same(&decoded, &msg, &ctx), "\n{decoded:#?}\n!=\n{msg:#?}");
        prop_assert_eq!(decoded.to_bytes(&ctx).unwrap(), wire);
    }

    /// Arbitrary bytes: no panic, under every context, through the framer and the decoder.
    #[test]
    fn decode_never_panics(ctx in ctx_strategy(), bytes in vec(any::<u8>(), 0..300)) {
        let _ = decode_message(Bytes::from(bytes.clone()), &ctx);
        let _ = bgp_core::wire::update::decode_update(&Bytes::from(bytes.clone()), &ctx);
        let _ = Open::decode(&Bytes::from(bytes.clone()));
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(frame)) = split_frame(&mut buf, &ctx) {
            let _ = decode_message(frame, &ctx);
        }
    }

    /// Valid messages with a few octets changed: the nastiest inputs are almost right. Whatever
    /// decodes must encode again without panicking.
    #[test]
    fn mutated_messages_never_panic(
        (ctx, msg) in message(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let Ok(wire) = msg.to_bytes(&ctx) else { return Ok(()) };
        let mut bytes = wire.to_vec();
        for (at, v) in edits {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        if let Ok(m) = decode_message(Bytes::from(bytes), &ctx) {
            let _ = m.to_bytes(&ctx);
        }
    }
}

/// The plain RFC 4271 §4.3 / RFC 7911 §3 reading of an NLRI field, octet by octet: the
/// reference the hand-written fast loops of `wire::nlri` are checked against.
fn reference_nlri(buf: &[u8], v6: bool, add_path: bool) -> Option<Vec<Nlri>> {
    let max = if v6 { 128 } else { 32 };
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let path_id = if add_path {
            let id = buf.get(at..at + 4)?;
            at += 4;
            Some(u32::from_be_bytes([id[0], id[1], id[2], id[3]]))
        } else {
            None
        };
        let bits = *buf.get(at)?;
        at += 1;
        if bits > max {
            return None;
        }
        let octets = usize::from(bits).div_ceil(8);
        let mut addr = [0u8; 16];
        addr[..octets].copy_from_slice(buf.get(at..at + octets)?);
        at += octets;
        let prefix = if v6 {
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(addr), bits).ok()?.trunc())
        } else {
            let a = Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]);
            IpNet::V4(Ipv4Net::new(a, bits).ok()?.trunc())
        };
        out.push(Nlri { prefix, path_id });
    }
    Some(out)
}

/// NLRI-shaped bytes: mostly plausible length octets, so the fast paths run long.
fn nlri_bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(prop_oneof![3 => 0u8..=33, 1 => any::<u8>(), 2 => Just(24u8), 1 => Just(48u8)], 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn nlri_decoder_matches_the_reference(
        buf in nlri_bytes(),
        v6 in any::<bool>(),
        add_path in any::<bool>(),
    ) {
        let family = if v6 { Family::IPV6_UNICAST } else { Family::IPV4_UNICAST };
        let mut got = Vec::new();
        let result = bgp_core::wire::nlri::decode_nlri(&buf, family, add_path, &mut got);
        match reference_nlri(&buf, v6, add_path) {
            Some(expected) => {
                prop_assert!(result.is_ok());
                prop_assert_eq!(got, expected);
            }
            None => prop_assert_eq!(result, Err(bgp_core::wire::DecodeError::InvalidNetworkField)),
        }
    }
}

proptest! {
    /// The encoder's batched hot loop writes exactly what one-at-a-time encoding writes, and
    /// stops at the budget.
    #[test]
    fn nlri_run_encoder_matches_single_entries(
        list in prop_oneof![nlri_list(v4_prefix(), true, 400), nlri_list(v6_prefix(), true, 200)],
        add_path in any::<bool>(),
        budget in 0usize..5000,
    ) {
        use bgp_core::wire::nlri::{encode_nlri, encode_nlri_run};
        let mut run = BytesMut::new();
        let taken = encode_nlri_run(&list, add_path, budget, &mut run);
        let mut single = BytesMut::new();
        let mut n = 0;
        for e in &list {
            if single.len() + e.encoded_len(add_path) > budget {
                break;
            }
            encode_nlri(e, add_path, &mut single);
            n += 1;
        }
        prop_assert_eq!(taken, n);
        prop_assert_eq!(run, single);
    }
}
