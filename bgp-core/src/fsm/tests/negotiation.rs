//! Capability negotiation: `Negotiated::from_opens`.
use std::time::Duration;

use super::*;
use crate::fsm::{local_open, GracefulRestartConfig, Negotiated};
use crate::wire::context::{MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
use crate::wire::open::AS_TRANS;
use crate::wire::{
    AddPathEntry, AddPathMode, ExtendedNextHopEntry, GracefulRestartCap, WireContext,
};

fn negotiate(cfg: &FsmConfig, peer: &Open) -> Negotiated {
    Negotiated::from_opens(cfg, &local_open(cfg), peer).unwrap()
}

const V4: Family = Family::IPV4_UNICAST;
const V6: Family = Family::IPV6_UNICAST;

#[test]
fn modern_peer_with_defaults() {
    let n = negotiate(&config(), &peer_open());
    assert_eq!(n.peer_as, PEER_AS);
    assert_eq!(n.peer_router_id, PEER_ID);
    assert_eq!(n.hold_time, 90);
    assert_eq!(n.keepalive_interval, Duration::from_secs(30));
    assert_eq!(n.families, vec![V4, V6]);
    assert_eq!(n.rx, WireContext::modern());
    assert_eq!(n.tx, WireContext::modern());
    assert!(n.route_refresh && n.enhanced_route_refresh);
    assert_eq!(n.peer_graceful_restart, None);
    assert!(!n.local_graceful_restart);
    assert!(n.extended_next_hop.is_empty());
    assert_eq!(n.peer_hostname, None);
}

#[test]
fn families_are_the_intersection() {
    let only_v6 = vec![Capability::Multiprotocol(V6), Capability::FourOctetAs(PEER_AS)];
    assert_eq!(negotiate(&config(), &peer_open_with(90, only_v6)).families, vec![V6]);
    // A peer without any Multiprotocol capability speaks IPv4 unicast only (RFC 4760 §8).
    let none = vec![Capability::RouteRefresh];
    let n = negotiate(&config(), &peer_open_with(90, none));
    assert_eq!(n.families, vec![V4]);
    assert!(!n.rx.four_octet_as, "2-octet AS peer");
    assert!(!n.enhanced_route_refresh);
    // Nothing in common.
    let mut cfg = config();
    cfg.capabilities.families = vec![V4];
    let only_v6 = vec![Capability::Multiprotocol(V6)];
    assert!(negotiate(&cfg, &peer_open_with(90, only_v6)).families.is_empty());
    // Duplicates collapse.
    let dup = vec![Capability::Multiprotocol(V4), Capability::Multiprotocol(V4)];
    assert_eq!(negotiate(&config(), &peer_open_with(90, dup)).families, vec![V4]);
}

fn add_path_case(ours: AddPathMode, theirs: AddPathMode) -> (Vec<Family>, Vec<Family>) {
    let mut cfg = config();
    cfg.capabilities.add_path = vec![AddPathEntry { family: V4, mode: ours }];
    let mut caps = peer_caps();
    caps.push(Capability::AddPath(vec![AddPathEntry { family: V4, mode: theirs }]));
    let n = negotiate(&cfg, &peer_open_with(90, caps));
    (n.rx.add_path, n.tx.add_path)
}

#[test]
fn add_path_per_direction() {
    use AddPathMode::*;
    let v4 = || vec![V4];
    assert_eq!(add_path_case(Both, Both), (v4(), v4()));
    assert_eq!(add_path_case(Both, Send), (v4(), vec![]));
    assert_eq!(add_path_case(Both, Receive), (vec![], v4()));
    assert_eq!(add_path_case(Receive, Send), (v4(), vec![]));
    assert_eq!(add_path_case(Receive, Receive), (vec![], vec![]));
    assert_eq!(add_path_case(Send, Receive), (vec![], v4()));
    assert_eq!(add_path_case(Send, Send), (vec![], vec![]));
    // The peer did not announce ADD-PATH at all.
    let mut cfg = config();
    cfg.capabilities.add_path = vec![AddPathEntry { family: V4, mode: Both }];
    let n = negotiate(&cfg, &peer_open());
    assert!(n.rx.add_path.is_empty() && n.tx.add_path.is_empty());
    // ADD-PATH for a family that was not negotiated is ignored.
    let mut cfg = config();
    cfg.capabilities.add_path = vec![AddPathEntry { family: V6, mode: Both }];
    let caps = vec![
        Capability::Multiprotocol(V4),
        Capability::AddPath(vec![AddPathEntry { family: V6, mode: Both }]),
    ];
    let n = negotiate(&cfg, &peer_open_with(90, caps));
    assert!(n.rx.add_path.is_empty() && n.tx.add_path.is_empty());
}

#[test]
fn four_octet_as_with_as_trans() {
    let big: u32 = 4_200_000_001;
    let cfg = FsmConfig::new(LOCAL_AS, LOCAL_ID, big);
    let peer = Open::new(big, 90, PEER_ID, vec![Capability::FourOctetAs(big)]);
    assert_eq!(peer.my_as, AS_TRANS);
    let n = negotiate(&cfg, &peer);
    assert_eq!(n.peer_as, big);
    assert!(n.rx.four_octet_as && n.tx.four_octet_as);
    // Our own large AS: AS_TRANS in the field and the capability, even if not configured.
    let mut cfg = FsmConfig::new(big, LOCAL_ID, PEER_AS);
    cfg.capabilities.four_octet_as = false;
    let ours = local_open(&cfg);
    assert_eq!(ours.my_as, AS_TRANS);
    assert_eq!(ours.asn(), big);
    // A small AS with four_octet_as off announces no capability: 2-octet session.
    let mut cfg = config();
    cfg.capabilities.four_octet_as = false;
    assert!(!local_open(&cfg).capabilities().any(|c| matches!(c, Capability::FourOctetAs(_))));
    assert!(!negotiate(&cfg, &peer_open()).tx.four_octet_as);
}

#[test]
fn hold_time_is_the_minimum_and_zero_wins() {
    for (ours, theirs, hold, keepalive_ms) in
        [(90, 30, 30, 10_000), (10, 90, 10, 3_333), (0, 90, 0, 0), (90, 0, 0, 0), (3, 3, 3, 1_000)]
    {
        let cfg = FsmConfig { hold_time: ours, ..config() };
        let n = negotiate(&cfg, &peer_open_with(theirs, peer_caps()));
        assert_eq!(n.hold_time, hold, "{ours}/{theirs}");
        assert_eq!(n.keepalive_interval.as_millis(), keepalive_ms, "{ours}/{theirs}");
    }
}

#[test]
fn extended_message_needs_both() {
    let mut cfg = config();
    cfg.capabilities.extended_message = true;
    let mut caps = peer_caps();
    caps.push(Capability::ExtendedMessage);
    let n = negotiate(&cfg, &peer_open_with(90, caps.clone()));
    assert_eq!(n.rx.max_message_len, MAX_EXTENDED_MESSAGE_LEN);
    assert_eq!(n.tx.max_message_len, MAX_EXTENDED_MESSAGE_LEN);
    assert_eq!(negotiate(&cfg, &peer_open()).tx.max_message_len, MAX_MESSAGE_LEN);
    assert_eq!(negotiate(&config(), &peer_open_with(90, caps)).rx.max_message_len, MAX_MESSAGE_LEN);
}

#[test]
fn graceful_restart_is_reported_both_ways() {
    let mut cfg = config();
    cfg.capabilities.graceful_restart = Some(GracefulRestartConfig::default());
    let peer_gr = GracefulRestartCap {
        restart_state: true,
        notification: true,
        restart_time: 120,
        families: vec![(V4, true), (V6, false)],
    };
    let mut caps = peer_caps();
    caps.push(Capability::GracefulRestart(peer_gr.clone()));
    let n = negotiate(&cfg, &peer_open_with(90, caps));
    assert_eq!(n.peer_graceful_restart, Some(peer_gr));
    assert!(n.local_graceful_restart);
    // Our capability lists every configured family.
    let ours = local_open(&cfg);
    let gr = ours
        .capabilities()
        .find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(gr.families, vec![(V4, false), (V6, false)]);
    assert_eq!(gr.restart_time, 120);
}

#[test]
fn route_refresh_needs_both() {
    let mut cfg = config();
    cfg.capabilities.route_refresh = false;
    cfg.capabilities.enhanced_route_refresh = false;
    let n = negotiate(&cfg, &peer_open());
    assert!(!n.route_refresh && !n.enhanced_route_refresh);
}

#[test]
fn extended_next_hop_and_hostname() {
    let v4_over_v6 = ExtendedNextHopEntry { nlri_family: V4, next_hop_afi: 2 };
    let other = ExtendedNextHopEntry { nlri_family: Family::new(1, 128), next_hop_afi: 2 };
    let mut cfg = config();
    cfg.capabilities.extended_next_hop = vec![v4_over_v6];
    let mut caps = peer_caps();
    caps.push(Capability::ExtendedNextHop(vec![other, v4_over_v6]));
    caps.push(Capability::Fqdn { hostname: "node-1".into(), domain: String::new() });
    let n = negotiate(&cfg, &peer_open_with(90, caps));
    assert_eq!(n.extended_next_hop, vec![v4_over_v6]);
    assert_eq!(n.peer_hostname.as_deref(), Some("node-1"));
    assert!(n.has_family(V4));
}

#[test]
fn local_open_announces_the_configuration() {
    let mut cfg = config();
    cfg.capabilities.hostname = Some("node-0".into());
    cfg.capabilities.extended_message = true;
    cfg.capabilities.add_path = vec![AddPathEntry { family: V4, mode: AddPathMode::Both }];
    let open = local_open(&cfg);
    let codes: Vec<u8> = open.capabilities().map(|c| c.code()).collect();
    assert_eq!(codes, vec![1, 1, 2, 6, 65, 69, 70, 73]);
    assert_eq!((open.version, open.my_as, open.hold_time, open.bgp_id), (4, 65001, 90, LOCAL_ID));
    // The OPEN encodes.
    assert!(Message::Open(open).to_bytes(&WireContext::default()).is_ok());
    // Hold time 1 or 2 is never sent.
    assert_eq!(local_open(&FsmConfig { hold_time: 2, ..config() }).hold_time, 3);
}

#[test]
fn route_refresh_only_for_what_was_negotiated() {
    use crate::fsm::RouteRefreshRefusal;
    use crate::wire::RouteRefresh;
    let only_v4 = vec![
        Capability::Multiprotocol(V4),
        Capability::RouteRefresh,
        Capability::FourOctetAs(PEER_AS),
    ];
    let n = negotiate(&config(), &peer_open_with(90, only_v4));
    assert_eq!(n.check_route_refresh(&RouteRefresh::new(V4)), Ok(()));
    // RFC 2918 §4: a family not advertised at session establishment is ignored.
    assert_eq!(
        n.check_route_refresh(&RouteRefresh::new(V6)),
        Err(RouteRefreshRefusal::FamilyNotNegotiated(V6))
    );
    // RFC 7313: BoRR/EoRR need Enhanced Route Refresh announced by us; unknown subtypes are
    // ignored. The peer's own announcement does not matter (only v4 + Route Refresh here).
    let borr = RouteRefresh { family: V4, subtype: 1 };
    assert_eq!(n.check_route_refresh(&borr), Ok(()));
    let full = negotiate(&config(), &peer_open());
    assert_eq!(full.check_route_refresh(&borr), Ok(()));
    let odd = RouteRefresh { family: V4, subtype: 7 };
    assert_eq!(full.check_route_refresh(&odd), Err(RouteRefreshRefusal::UnknownSubtype(7)));
    // RFC 2918 §4 ignores only what *we* did not advertise: a peer that announced neither
    // Route Refresh capability (or only the pre-standard code 128) may still ask.
    let plain = vec![Capability::Multiprotocol(V4), Capability::FourOctetAs(PEER_AS)];
    let n = negotiate(&config(), &peer_open_with(90, plain.clone()));
    assert!(!n.route_refresh && !n.enhanced_route_refresh);
    assert_eq!(n.check_route_refresh(&RouteRefresh::new(V4)), Ok(()));
    assert_eq!(
        n.check_route_refresh(&RouteRefresh::new(V6)),
        Err(RouteRefreshRefusal::FamilyNotNegotiated(V6))
    );
    // We did not announce Enhanced Route Refresh: BoRR/EoRR are ignored, plain ones honoured.
    let mut no_err = config();
    no_err.capabilities.enhanced_route_refresh = false;
    let n = negotiate(&no_err, &peer_open());
    assert_eq!(n.check_route_refresh(&RouteRefresh::new(V4)), Ok(()));
    assert_eq!(n.check_route_refresh(&borr), Err(RouteRefreshRefusal::CapabilityNotNegotiated));
    // We announced no Route Refresh at all: everything is ignored, even from a peer that
    // announced both.
    let mut none = no_err;
    none.capabilities.route_refresh = false;
    let n = negotiate(&none, &peer_open());
    assert_eq!(
        n.check_route_refresh(&RouteRefresh::new(V4)),
        Err(RouteRefreshRefusal::CapabilityNotNegotiated)
    );
}
