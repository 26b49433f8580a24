//! Round trips and malformed cases of every capability family.
use super::*;
use bytes::{Bytes, BytesMut};

use crate::wire::error::{DecodeError, EncodeError};
use crate::wire::family::Family;
use crate::wire::header::testing::hex;

fn decode_all(wire: &[u8]) -> Result<Vec<Capability>, DecodeError> {
    let owner = Bytes::copy_from_slice(wire);
    decode_capabilities(&owner, &owner)
}

/// Decode `wire` as exactly one capability, check it, and check it encodes back to `wire`.
fn round_trip(wire_hex: &str, expected: Capability) {
    let wire = hex(wire_hex);
    assert_eq!(decode_all(&wire), Ok(vec![expected.clone()]), "{wire_hex}");
    let mut out = BytesMut::new();
    expected.encode(&mut out).unwrap();
    assert_eq!(&out[..], &wire[..], "{wire_hex}");
}

#[test]
fn multiprotocol() {
    round_trip("01 04 0002 00 01", Capability::Multiprotocol(Family::IPV6_UNICAST));
}

#[test]
fn route_refresh_extended_message_enhanced_route_refresh() {
    round_trip("02 00", Capability::RouteRefresh);
    round_trip("06 00", Capability::ExtendedMessage);
    round_trip("46 00", Capability::EnhancedRouteRefresh);
}

#[test]
fn extended_next_hop() {
    round_trip(
        "05 0c 0001 0001 0002 0001 0080 0002",
        Capability::ExtendedNextHop(vec![
            ExtendedNextHopEntry { nlri_family: Family::IPV4_UNICAST, next_hop_afi: 2 },
            ExtendedNextHopEntry { nlri_family: Family::new(1, 128), next_hop_afi: 2 },
        ]),
    );
}

#[test]
fn graceful_restart_with_r_n_and_f_bits() {
    round_trip(
        "40 0a c078 0001 01 80 0002 01 00",
        Capability::GracefulRestart(GracefulRestartCap {
            restart_state: true,
            notification: true,
            restart_time: 120,
            families: vec![(Family::IPV4_UNICAST, true), (Family::IPV6_UNICAST, false)],
        }),
    );
    // Helper mode only: no families, no flags (what BIRD sends by default).
    round_trip(
        "40 02 0078",
        Capability::GracefulRestart(GracefulRestartCap { restart_time: 120, ..Default::default() }),
    );
}

#[test]
fn four_octet_as() {
    round_trip("41 04 fde8 0001", Capability::FourOctetAs(0xfde8_0001));
}

#[test]
fn add_path() {
    round_trip(
        "45 08 0001 01 03 0002 01 01",
        Capability::AddPath(vec![
            AddPathEntry { family: Family::IPV4_UNICAST, mode: AddPathMode::Both },
            AddPathEntry { family: Family::IPV6_UNICAST, mode: AddPathMode::Receive },
        ]),
    );
    assert!(AddPathMode::Both.can_send() && AddPathMode::Both.can_receive());
    assert!(!AddPathMode::Receive.can_send());
}

#[test]
fn add_path_with_unknown_mode_is_kept_raw() {
    // RFC 7911 §4: treated as not understood, not as an error.
    round_trip(
        "45 04 0001 01 07",
        Capability::Unknown { code: CAP_ADD_PATH, value: Bytes::from(hex("0001 01 07")) },
    );
}

#[test]
fn fqdn_as_frr_sends_it() {
    // FRR: hostname "node-1", empty domain.
    round_trip(
        "49 08 06 6e6f64652d31 00",
        Capability::Fqdn { hostname: "node-1".into(), domain: String::new() },
    );
    round_trip(
        "49 0a 01 61 07 6578616d706c65",
        Capability::Fqdn { hostname: "a".into(), domain: "example".into() },
    );
}

#[test]
fn malformed_fqdn_is_kept_raw() {
    // Hostname length runs past the value: informational, so not worth a reset.
    round_trip(
        "49 02 05 61",
        Capability::Unknown { code: CAP_FQDN, value: Bytes::from(hex("05 61")) },
    );
    // Invalid UTF-8.
    round_trip(
        "49 03 01 ff 00",
        Capability::Unknown { code: CAP_FQDN, value: Bytes::from(hex("01 ff 00")) },
    );
}

#[test]
fn unknown_capability_is_kept_raw() {
    round_trip("80 00", Capability::Unknown { code: 128, value: Bytes::new() });
    round_trip("47 03 010203", Capability::Unknown { code: 71, value: Bytes::from(vec![1, 2, 3]) });
}

#[test]
fn several_capabilities_in_one_parameter() {
    let caps = decode_all(&hex("01 04 0001 00 01 02 00 41 04 0000 fde9")).unwrap();
    assert_eq!(
        caps,
        vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(65001)
        ]
    );
    assert_eq!(decode_all(&[]), Ok(vec![]));
}

#[test]
fn malformed_lengths_of_known_capabilities() {
    for bad in [
        "01 03 000100",      // MP: 3 octets
        "01 05 0001000100",  // MP: 5 octets
        "02 01 00",          // route refresh with a value
        "05 04 00010001",    // ext next hop: not a multiple of 6
        "06 01 00",          // ext message with a value
        "40 01 00",          // GR: shorter than the flags
        "40 05 0078 000101", // GR: partial family tuple
        "41 02 fde9",        // 4-octet AS: 2 octets
        "45 03 000101",      // ADD-PATH: partial tuple
        "46 01 00",          // enhanced route refresh with a value
    ] {
        assert!(matches!(decode_all(&hex(bad)), Err(DecodeError::MalformedOpen(_))), "{bad}");
    }
}

#[test]
fn truncated_capability_is_malformed_open() {
    for bad in ["41 04 0000", "41", "02 00 41"] {
        let err = decode_all(&hex(bad)).unwrap_err();
        assert!(matches!(err, DecodeError::MalformedOpen(_)), "{bad}");
        assert_eq!(err.code_subcode(), (2, 0));
    }
}

#[test]
fn encode_rejects_oversized_values() {
    let mut out = BytesMut::from(&b"keep"[..]);
    let big = Capability::Unknown { code: 99, value: Bytes::from(vec![0; 256]) };
    assert_eq!(big.encode(&mut out), Err(EncodeError::FieldTooLong("capability value")));
    let long_name = Capability::Fqdn { hostname: "h".repeat(256), domain: String::new() };
    assert!(long_name.encode(&mut out).is_err());
    assert_eq!(&out[..], b"keep");
    let many = Capability::AddPath(vec![
        AddPathEntry {
            family: Family::IPV4_UNICAST,
            mode: AddPathMode::Send
        };
        64
    ]);
    assert!(many.encode(&mut out).is_err(), "64 * 4 = 256 octets does not fit");
}
