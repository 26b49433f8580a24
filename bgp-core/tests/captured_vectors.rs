//! Messages captured from real BIRD 2.0.12, FRR 8.4 and GoBGP 3.10 sessions
//! (testdata/capture.sh, which says the topology and configuration). Each direction of each
//! session is one `testdata/<from>-to-<to>-<transport>.hex` file. The session context of every
//! TCP connection is negotiated here from the two OPENs of that connection, independently of
//! the daemon's FSM. Every message must decode without error or RFC 7606 issue, re-encode
//! byte-exact (all messages these peers sent are in the encoder's canonical form), and carry
//! what the capture's configuration put in it.
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use bgp_core::wire::attributes::{AsPath, LargeCommunity, Origin};
use bgp_core::wire::message::{decode_message, Message};
use bgp_core::wire::route_refresh::{SUBTYPE_BORR, SUBTYPE_EORR};
use bgp_core::wire::{
    AddPathMode, Capability, Family, Nlri, Open, RouteRefresh, Update, WireContext,
};
use bytes::Bytes;

/// One TCP connection's messages in one direction.
struct Conn {
    /// `addr:port` of the sender and the receiver, from the `# connection` line.
    from: String,
    to: String,
    msgs: Vec<Bytes>,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn load(name: &str) -> Vec<Conn> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut conns: Vec<Conn> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# connection ") {
            let (from, to) = rest.split_once(" -> ").unwrap();
            conns.push(Conn { from: from.into(), to: to.into(), msgs: Vec::new() });
        } else if !line.starts_with('#') {
            conns.last_mut().unwrap().msgs.push(Bytes::from(hex(line)));
        }
    }
    conns
}

fn open_of(c: &Conn) -> Option<Open> {
    match decode_message(c.msgs.first()?.clone(), &WireContext::default()) {
        Ok(Message::Open(o)) => Some(o),
        _ => None,
    }
}

fn caps(o: &Open) -> Vec<Capability> {
    o.capabilities().cloned().collect()
}

/// RFC 6793 §4.1, RFC 7911 §4, RFC 8654 §3: the context for messages `sender` -> `receiver`.
fn negotiate(sender: &Open, receiver: &Open) -> WireContext {
    let four = |o: &Open| caps(o).iter().any(|c| matches!(c, Capability::FourOctetAs(_)));
    let ext = |o: &Open| caps(o).iter().any(|c| matches!(c, Capability::ExtendedMessage));
    let add_path = |o: &Open, f: Family, want: fn(AddPathMode) -> bool| {
        caps(o).iter().any(|c| match c {
            Capability::AddPath(es) => es.iter().any(|e| e.family == f && want(e.mode)),
            _ => false,
        })
    };
    let families = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];
    WireContext {
        four_octet_as: four(sender) && four(receiver),
        add_path: families
            .into_iter()
            .filter(|&f| {
                add_path(sender, f, AddPathMode::can_send)
                    && add_path(receiver, f, AddPathMode::can_receive)
            })
            .collect(),
        max_message_len: if ext(sender) && ext(receiver) { 65535 } else { 4096 },
    }
}

/// Every message of `a`-to-`b` (file names without `.hex`) with the context of its connection.
fn session(a_to_b: &str, b_to_a: &str) -> Vec<(WireContext, Bytes)> {
    let back = load(&format!("{b_to_a}.hex"));
    let mut out = Vec::new();
    for conn in load(&format!("{a_to_b}.hex")) {
        let peer = back.iter().find(|c| c.from == conn.to && c.to == conn.from);
        let ctx = match (open_of(&conn), peer.and_then(open_of)) {
            (Some(ours), Some(theirs)) => negotiate(&ours, &theirs),
            _ => WireContext::default(),
        };
        out.extend(conn.msgs.into_iter().map(|m| (ctx.clone(), m)));
    }
    out
}

/// Decode every message; each must decode cleanly and re-encode byte-exact.
fn decode_all(a_to_b: &str, b_to_a: &str) -> Vec<Message> {
    let msgs = session(a_to_b, b_to_a);
    assert!(!msgs.is_empty(), "{a_to_b}: no messages");
    msgs.into_iter()
        .enumerate()
        .map(|(i, (ctx, wire))| {
            let msg = decode_message(wire.clone(), &ctx)
                .unwrap_or_else(|e| panic!("{a_to_b} #{i}: {e} ({ctx:?})"));
            if let Message::Update(u) = &msg {
                assert!(u.issues.is_empty(), "{a_to_b} #{i}: {:?}", u.issues);
            }
            assert_eq!(msg.to_bytes(&ctx).unwrap(), wire, "{a_to_b} #{i} not byte-exact: {msg:?}");
            msg
        })
        .collect()
}

const SESSIONS: [(&str, &str); 8] = [
    ("bird-to-frr-ipv4", "frr-to-bird-ipv4"),
    ("frr-to-bird-ipv4", "bird-to-frr-ipv4"),
    ("bird-to-frr-ipv6", "frr-to-bird-ipv6"),
    ("frr-to-bird-ipv6", "bird-to-frr-ipv6"),
    ("bird-to-gobgp-ipv4", "gobgp-to-bird-ipv4"),
    ("gobgp-to-bird-ipv4", "bird-to-gobgp-ipv4"),
    ("frr-to-gobgp-ipv6", "gobgp-to-frr-ipv6"),
    ("gobgp-to-frr-ipv6", "frr-to-gobgp-ipv6"),
];

#[test]
fn every_captured_message_decodes_and_re_encodes_byte_exact() {
    let mut n = 0;
    for (a, b) in SESSIONS {
        n += decode_all(a, b).len();
    }
    assert!(n > 80, "only {n} messages");
}

/// `cargo test -p bgp-core --test captured_vectors -- --ignored --nocapture` prints them all.
#[test]
#[ignore]
fn dump() {
    for (a, b) in SESSIONS {
        for (i, (ctx, wire)) in session(a, b).into_iter().enumerate() {
            println!("{a} #{i} {ctx:?}\n  {:?}", decode_message(wire, &ctx));
        }
    }
}

fn updates(msgs: &[Message]) -> impl Iterator<Item = &Update> {
    msgs.iter().filter_map(|m| match m {
        Message::Update(u) => Some(u),
        _ => None,
    })
}

fn opens(msgs: &[Message]) -> impl Iterator<Item = &Open> {
    msgs.iter().filter_map(|m| match m {
        Message::Open(o) => Some(o),
        _ => None,
    })
}

fn announcing<'a>(msgs: &'a [Message], prefix: &str) -> &'a Update {
    let p: ipnet::IpNet = prefix.parse().unwrap();
    updates(msgs)
        .find(|u| {
            u.nlri
                .iter()
                .chain(u.mp_reach.iter().flat_map(|r| r.nlri.iter()))
                .any(|n| n.prefix == p)
        })
        .unwrap_or_else(|| panic!("no UPDATE announces {prefix}"))
}

fn notifications(msgs: &[Message]) -> Vec<&bgp_core::wire::Notification> {
    msgs.iter()
        .filter_map(|m| match m {
            Message::Notification(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn has_cap(o: &Open, pred: impl Fn(&Capability) -> bool) -> bool {
    o.capabilities().any(pred)
}

fn seq(asns: &[u32]) -> Option<AsPath> {
    Some(AsPath::from_sequence(asns.to_vec()))
}

/// RFC 1997 community `asn:value`.
fn community(asn: u16, value: u16) -> u32 {
    (u32::from(asn) << 16) | u32::from(value)
}

#[test]
fn opens_carry_the_configured_capabilities() {
    let bird = decode_all("bird-to-frr-ipv4", "frr-to-bird-ipv4");
    let o = opens(&bird).next().unwrap();
    assert_eq!((o.asn(), o.hold_time, o.bgp_id), (65001, 240, Ipv4Addr::new(198, 18, 0, 1)));
    assert!(has_cap(o, |c| *c == Capability::Multiprotocol(Family::IPV4_UNICAST)));
    assert!(has_cap(o, |c| *c == Capability::RouteRefresh));
    assert!(has_cap(o, |c| *c == Capability::EnhancedRouteRefresh));
    assert!(has_cap(o, |c| *c == Capability::ExtendedMessage));
    assert!(has_cap(o, |c| matches!(c, Capability::GracefulRestart(gr) if gr.restart_time == 120)));
    assert!(has_cap(o, |c| matches!(c, Capability::AddPath(e)
        if e[0].family == Family::IPV4_UNICAST && e[0].mode == AddPathMode::Both)));

    let frr = decode_all("frr-to-bird-ipv4", "bird-to-frr-ipv4");
    let o = opens(&frr).next().unwrap();
    assert_eq!(o.asn(), 65002);
    // FRR: one capability per optional parameter, FQDN with its hostname, GR with N bit.
    assert!(o.params.len() > 5);
    assert!(has_cap(o, |c| matches!(c, Capability::Fqdn { hostname, .. } if hostname == "wv-frr")));
    assert!(has_cap(o, |c| matches!(c, Capability::GracefulRestart(gr) if gr.notification)));
    assert!(has_cap(o, |c| *c == Capability::FourOctetAs(65002)));

    // BIRD with `enable as4 off` towards GoBGP: no 4-octet AS capability.
    let bird = decode_all("bird-to-gobgp-ipv4", "gobgp-to-bird-ipv4");
    assert!(!has_cap(opens(&bird).next().unwrap(), |c| matches!(c, Capability::FourOctetAs(_))));

    // RFC 8950 capability on the IPv6 FRR-GoBGP session, both ways.
    let nh = |c: &Capability| {
        matches!(c, Capability::ExtendedNextHop(e)
        if e[0].nlri_family == Family::IPV4_UNICAST && e[0].next_hop_afi == 2)
    };
    for (a, b) in
        [("frr-to-gobgp-ipv6", "gobgp-to-frr-ipv6"), ("gobgp-to-frr-ipv6", "frr-to-gobgp-ipv6")]
    {
        assert!(has_cap(opens(&decode_all(a, b)).next().unwrap(), nh), "{a}");
    }
}

#[test]
fn bird_announcement_with_communities_and_add_path() {
    let msgs = decode_all("bird-to-frr-ipv4", "frr-to-bird-ipv4");
    let u = announcing(&msgs, "198.18.100.0/24");
    let a = &u.attributes;
    assert_eq!(a.origin, Some(Origin::Igp));
    assert_eq!(a.as_path, seq(&[65001]));
    assert_eq!(a.next_hop, Some(Ipv4Addr::new(198, 18, 10, 1)));
    assert_eq!(a.communities, vec![community(65001, 100)]);
    assert_eq!(a.large_communities, vec![LargeCommunity { global: 65001, local1: 1, local2: 2 }]);
    // Route target 65001:7: type 0x00 subtype 0x02, 2-octet AS, 4-octet value (RFC 4360 §4).
    assert_eq!(a.extended_communities, vec![0x0002_fde9_0000_0007]);
    assert!(u.nlri.iter().all(|n| n.path_id.is_some()));
    assert!(u.nlri.contains(&Nlri { prefix: "198.18.101.0/24".parse().unwrap(), ..u.nlri[1] }));
}

#[test]
fn four_octet_asn_on_4_octet_and_2_octet_sessions() {
    // FRR prepends 4200000000 (route-map TAG).
    let frr = decode_all("frr-to-bird-ipv4", "bird-to-frr-ipv4");
    let u = announcing(&frr, "198.18.110.0/24");
    assert_eq!(u.attributes.as_path, seq(&[65002, 4_200_000_000]));
    assert_eq!(u.attributes.communities, vec![community(65002, 200)]);
    assert_eq!(
        u.attributes.large_communities,
        vec![LargeCommunity { global: 65002, local1: 3, local2: 4 }]
    );
    // BIRD passes it to GoBGP over a 2-octet session: AS_TRANS + AS4_PATH, reconstructed.
    for (a, b) in
        [("bird-to-gobgp-ipv4", "gobgp-to-bird-ipv4"), ("gobgp-to-bird-ipv4", "bird-to-gobgp-ipv4")]
    {
        let msgs = decode_all(a, b);
        let u = announcing(&msgs, "198.18.110.0/24");
        assert_eq!(u.attributes.as_path, seq(&[65002, 4_200_000_000]), "{a}");
        let wire = u.attributes.two_octet.as_ref().expect("AS4_PATH received");
        assert_eq!(wire.as_path, seq(&[65002, 23456]), "{a}");
        assert_eq!(wire.as4_path, seq(&[65002, 4_200_000_000]), "{a}");
    }
}

#[test]
fn ipv6_next_hops_global_link_local_and_rfc8950() {
    let bird6 = decode_all("bird-to-frr-ipv6", "frr-to-bird-ipv6");
    let r = announcing(&bird6, "2001:db8:100::/48").mp_reach.as_ref().unwrap();
    assert_eq!(r.next_hop.global, "2001:db8:10::1".parse::<IpAddr>().unwrap());
    assert!(r.next_hop.link_local.is_some_and(|ll| ll.segments()[0] == 0xfe80));

    let frr = decode_all("frr-to-gobgp-ipv6", "gobgp-to-frr-ipv6");
    let u = announcing(&frr, "198.18.110.0/24");
    let r = u.mp_reach.as_ref().unwrap();
    assert_eq!(r.family, Family::IPV4_UNICAST);
    assert_eq!(r.next_hop.global, "2001:db8:12::1".parse::<IpAddr>().unwrap());
    assert!(u.nlri.is_empty() && u.attributes.next_hop.is_none());
}

#[test]
fn end_of_rib_withdrawals_refresh_and_shutdown() {
    let bird = decode_all("bird-to-frr-ipv4", "frr-to-bird-ipv4");
    assert!(updates(&bird).any(|u| u.end_of_rib_family() == Some(Family::IPV4_UNICAST)));
    // BIRD answers FRR's refresh with RFC 7313 BoRR ... EoRR.
    let subtypes: Vec<u8> = bird
        .iter()
        .filter_map(|m| match m {
            Message::RouteRefresh(RouteRefresh { subtype, .. }) => Some(*subtype),
            _ => None,
        })
        .collect();
    assert!(subtypes.contains(&SUBTYPE_BORR) && subtypes.contains(&SUBTYPE_EORR), "{subtypes:?}");
    // RFC 8203 shutdown communication from `birdc disable frr4 "maintenance window"`.
    let n = notifications(&bird);
    assert_eq!(n.last().unwrap().shutdown_message(), Some("maintenance window"));
    assert_eq!((n.last().unwrap().code, n.last().unwrap().subcode), (6, 2));

    let bird6 = decode_all("bird-to-frr-ipv6", "frr-to-bird-ipv6");
    assert!(updates(&bird6).any(|u| u.end_of_rib_family() == Some(Family::IPV6_UNICAST)));
    let p: ipnet::IpNet = "2001:db8:100::/48".parse().unwrap();
    assert!(updates(&bird6)
        .any(|u| u.mp_unreach.as_ref().is_some_and(|m| m.withdrawn.iter().any(|n| n.prefix == p))));

    // FRR withdraws both ADD-PATH paths of 198.18.120.0/24 once GoBGP deletes it.
    let frr = decode_all("frr-to-bird-ipv4", "bird-to-frr-ipv4");
    let p: ipnet::IpNet = "198.18.120.0/24".parse().unwrap();
    assert!(updates(&frr).any(|u| u.withdrawn.iter().filter(|n| n.prefix == p).count() >= 2));

    let frr = decode_all("frr-to-gobgp-ipv6", "gobgp-to-frr-ipv6");
    assert!(notifications(&frr).iter().any(|n| n.shutdown_message() == Some("\"drain node\"")));
}
