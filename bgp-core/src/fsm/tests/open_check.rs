//! OPEN checks that need the configuration.
use bytes::Bytes;

use super::*;
use crate::fsm::check_peer_open;
use crate::wire::capability::{CAP_FOUR_OCTET_AS, CAP_GRACEFUL_RESTART, CAP_ROUTE_REFRESH};
use crate::wire::open::AS_TRANS;
use crate::wire::{DecodeError, OptionalParameter};

#[test]
fn good_open_passes() {
    assert_eq!(check_peer_open(&config(), &peer_open()), Ok(()));
}

#[test]
fn bad_peer_as() {
    let cfg = config();
    // Wrong AS in the 4-octet capability.
    let open = Open::new(PEER_AS, 90, PEER_ID, vec![Capability::FourOctetAs(65099)]);
    assert_eq!(check_peer_open(&cfg, &open), Err(DecodeError::BadPeerAs));
    // Wrong 2-octet AS, no capability.
    let open = Open::new(65099, 90, PEER_ID, vec![]);
    assert_eq!(check_peer_open(&cfg, &open), Err(DecodeError::BadPeerAs));
    // A 2-octet-only peer matches on "My Autonomous System".
    let open = Open::new(PEER_AS, 90, PEER_ID, vec![]);
    assert_eq!(check_peer_open(&cfg, &open), Ok(()));
    // AS 0 (RFC 7607), even if configured so.
    let cfg0 = FsmConfig::new(LOCAL_AS, LOCAL_ID, 0);
    let open = Open::new(0, 90, PEER_ID, vec![Capability::FourOctetAs(0)]);
    assert_eq!(check_peer_open(&cfg0, &open), Err(DecodeError::BadPeerAs));
}

#[test]
fn as_trans_handling() {
    let big = 4_200_000_001u32;
    let cfg = FsmConfig::new(LOCAL_AS, LOCAL_ID, big);
    // A 4-octet peer: AS_TRANS in the field, the real AS in the capability.
    let open = Open::new(big, 90, PEER_ID, vec![Capability::FourOctetAs(big)]);
    assert_eq!(check_peer_open(&cfg, &open), Ok(()));
    // The same peer without the capability shows up as AS_TRANS: refused.
    let mut open = Open::new(big, 90, PEER_ID, vec![]);
    assert_eq!(open.my_as, AS_TRANS);
    assert_eq!(check_peer_open(&cfg, &open), Err(DecodeError::BadPeerAs));
    open.params.clear();
    assert_eq!(check_peer_open(&cfg, &open), Err(DecodeError::BadPeerAs));
}

#[test]
fn bad_bgp_identifier() {
    // Zero is always bad.
    let open = Open::new(PEER_AS, 90, Ipv4Addr::UNSPECIFIED, peer_caps());
    assert_eq!(check_peer_open(&config(), &open), Err(DecodeError::BadBgpIdentifier));
    // Our own identifier: bad for iBGP (RFC 6286 §2.2) ...
    let ibgp = FsmConfig::new(LOCAL_AS, LOCAL_ID, LOCAL_AS);
    let open = Open::new(LOCAL_AS, 90, LOCAL_ID, vec![]);
    assert_eq!(check_peer_open(&ibgp, &open), Err(DecodeError::BadBgpIdentifier));
    // ... allowed for eBGP.
    let open = Open::new(PEER_AS, 90, LOCAL_ID, vec![]);
    assert_eq!(check_peer_open(&config(), &open), Ok(()));
}

#[test]
fn unacceptable_hold_time_and_version() {
    for hold in [1, 2] {
        let open = Open::new(PEER_AS, hold, PEER_ID, vec![]);
        assert_eq!(check_peer_open(&config(), &open), Err(DecodeError::UnacceptableHoldTime(hold)));
    }
    let mut open = peer_open();
    open.version = 3;
    assert_eq!(check_peer_open(&config(), &open), Err(DecodeError::UnsupportedVersion(3)));
}

#[test]
fn unsupported_optional_parameter() {
    let mut open = peer_open();
    open.params.push(OptionalParameter::Unknown { param_type: 1, value: Bytes::new() });
    assert_eq!(
        check_peer_open(&config(), &open),
        Err(DecodeError::UnsupportedOptionalParameter(1))
    );
}

#[test]
fn required_capabilities() {
    let mut cfg = config();
    cfg.capabilities.required = vec![CAP_ROUTE_REFRESH, CAP_FOUR_OCTET_AS, CAP_GRACEFUL_RESTART];
    // The peer has route refresh and 4-octet AS but no graceful restart, which we do not
    // announce either: data = 64, 0.
    let err = check_peer_open(&cfg, &peer_open()).unwrap_err();
    assert_eq!(err, DecodeError::UnsupportedCapability(Bytes::from_static(&[64, 0])));
    assert_eq!(err.code_subcode(), (2, 7));
    // A peer with nothing: our own route refresh and 4-octet AS capabilities are the data.
    let open = Open::new(PEER_AS, 90, PEER_ID, vec![]);
    let err = check_peer_open(&cfg, &open).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnsupportedCapability(Bytes::from_static(&[
            2, 0, 65, 4, 0, 0, 0xfd, 0xe9, 64, 0
        ]))
    );
    // Through the FSM: NOTIFICATION 2/7 with that data.
    let mut fsm = open_sent(cfg);
    let out = fsm.handle(Event::BgpOpen(open));
    let [Message::Notification(n)] = sent(&out)[..] else { panic!("{out:?}") };
    assert_eq!((n.code, n.subcode, n.data.len()), (2, 7, 10));
}
