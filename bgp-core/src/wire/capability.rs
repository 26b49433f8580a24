//! Capabilities advertisement (RFC 5492) and the capabilities a cluster speaker meets.
//!
//! Codes: 1 multiprotocol (RFC 4760), 2 route refresh (RFC 2918), 5 extended next hop
//! (RFC 8950), 6 extended message (RFC 8654), 64 graceful restart (RFC 4724), 65 4-octet AS
//! (RFC 6793), 69 ADD-PATH (RFC 7911), 70 enhanced route refresh (RFC 7313), 73 FQDN
//! (draft-walton-bgp-hostname-capability). Anything else is kept as raw bytes.
use bytes::{BufMut, Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::multi::many0;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::{IResult, Parser};
use serde::Serialize;

use super::error::{DecodeError, EncodeError};
use super::family::Family;

pub const CAP_MULTIPROTOCOL: u8 = 1;
pub const CAP_ROUTE_REFRESH: u8 = 2;
pub const CAP_EXTENDED_NEXT_HOP: u8 = 5;
pub const CAP_EXTENDED_MESSAGE: u8 = 6;
pub const CAP_GRACEFUL_RESTART: u8 = 64;
pub const CAP_FOUR_OCTET_AS: u8 = 65;
pub const CAP_ADD_PATH: u8 = 69;
pub const CAP_ENHANCED_ROUTE_REFRESH: u8 = 70;
pub const CAP_FQDN: u8 = 73;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Capability {
    Multiprotocol(Family),
    RouteRefresh,
    ExtendedNextHop(Vec<ExtendedNextHopEntry>),
    ExtendedMessage,
    GracefulRestart(GracefulRestartCap),
    FourOctetAs(u32),
    AddPath(Vec<AddPathEntry>),
    EnhancedRouteRefresh,
    Fqdn {
        hostname: String,
        domain: String,
    },
    Unknown {
        code: u8,
        #[serde(serialize_with = "crate::wire::notification::serialize_hex")]
        value: Bytes,
    },
}

/// RFC 8950 §3: NLRI AFI (2), NLRI SAFI (2), Nexthop AFI (2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExtendedNextHopEntry {
    pub nlri_family: Family,
    pub next_hop_afi: u16,
}

/// RFC 4724 §3.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct GracefulRestartCap {
    /// R bit: the sender has restarted.
    pub restart_state: bool,
    /// N bit: RFC 8538 Notification-GR support.
    pub notification: bool,
    /// Restart time in seconds (12 bits).
    pub restart_time: u16,
    /// Per family: the F bit (forwarding state preserved).
    pub families: Vec<(Family, bool)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AddPathMode {
    Receive = 1,
    Send = 2,
    Both = 3,
}

/// RFC 7911 §4: AFI (2), SAFI (1), Send/Receive (1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AddPathEntry {
    pub family: Family,
    pub mode: AddPathMode,
}

impl AddPathMode {
    pub fn can_send(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }
    pub fn can_receive(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }
}

/// RFC 4724 §3 Restart Flags (top 4 bits of the first 2 octets): R bit.
const GR_FLAG_RESTART_STATE: u16 = 0x8000;
/// RFC 8538 §2: N bit, the second most significant bit of the Restart Flags.
const GR_FLAG_NOTIFICATION: u16 = 0x4000;
/// Restart Time is the low 12 bits.
const GR_RESTART_TIME_MASK: u16 = 0x0fff;
/// RFC 4724 §3 Flags for Address Family: the most significant bit is the F bit.
const GR_FAMILY_FORWARDING: u8 = 0x80;

impl AddPathMode {
    /// RFC 7911 §4: "1 Receive, 2 Send, 3 Both"; anything else is not understood.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(AddPathMode::Receive),
            2 => Some(AddPathMode::Send),
            3 => Some(AddPathMode::Both),
            _ => None,
        }
    }
}

/// One capability TLV, before its value is interpreted (RFC 5492 §4).
///
/// ```text
/// +------------------------------+
/// | Capability Code (1 octet)    |
/// +------------------------------+
/// | Capability Length (1 octet)  |
/// +------------------------------+
/// | Capability Value (variable)  |
/// +------------------------------+
/// ```
fn capability_tlv(input: &[u8]) -> IResult<&[u8], (u8, &[u8])> {
    let (input, code) = be_u8(input)?;
    let (input, len) = be_u8(input)?;
    let (input, value) = take(len).parse(input)?;
    Ok((input, (code, value)))
}

fn family_afi_reserved_safi(input: &[u8]) -> IResult<&[u8], Family> {
    // RFC 4760 §8: AFI (2), Reserved (1), SAFI (1).
    let (input, (afi, _reserved, safi)) = (be_u16, be_u8, be_u8).parse(input)?;
    Ok((input, Family::new(afi, safi)))
}

fn extended_next_hop_entry(input: &[u8]) -> IResult<&[u8], ExtendedNextHopEntry> {
    // RFC 8950 §3: NLRI AFI (2), NLRI SAFI (2), Nexthop AFI (2).
    let (input, (afi, safi, nh_afi)) = (be_u16, be_u16, be_u16).parse(input)?;
    Ok((
        input,
        ExtendedNextHopEntry { nlri_family: Family::new(afi, safi as u8), next_hop_afi: nh_afi },
    ))
}

fn graceful_restart_family(input: &[u8]) -> IResult<&[u8], (Family, bool)> {
    let (input, (afi, safi, flags)) = (be_u16, be_u8, be_u8).parse(input)?;
    Ok((input, (Family::new(afi, safi), flags & GR_FAMILY_FORWARDING != 0)))
}

fn add_path_entry(input: &[u8]) -> IResult<&[u8], (Family, u8)> {
    let (input, (afi, safi, mode)) = (be_u16, be_u8, be_u8).parse(input)?;
    Ok((input, (Family::new(afi, safi), mode)))
}

/// Parse all of `value` as a list of fixed-size entries; `None` when it is not a whole number
/// of entries.
fn exact_list<'a, T>(
    value: &'a [u8],
    entry_len: usize,
    entry: fn(&'a [u8]) -> IResult<&'a [u8], T>,
) -> Option<Vec<T>> {
    if !value.len().is_multiple_of(entry_len) {
        return None;
    }
    let (rest, items) = many0(entry).parse(value).ok()?;
    rest.is_empty().then_some(items)
}

/// FQDN capability (draft-walton-bgp-hostname-capability §3), as FRR sends it: hostname length
/// (1), hostname, domain length (1), domain. `None` when it does not parse exactly.
fn fqdn(value: &[u8]) -> Option<(String, String)> {
    fn field(input: &[u8]) -> IResult<&[u8], &[u8]> {
        let (input, len) = be_u8(input)?;
        take(len).parse(input)
    }
    let (rest, (host, domain)) = (field, field).parse(value).ok()?;
    if !rest.is_empty() {
        return None;
    }
    Some((String::from_utf8(host.to_vec()).ok()?, String::from_utf8(domain.to_vec()).ok()?))
}

impl Capability {
    /// The capability code (RFC 5492 §4, IANA "Capability Codes").
    pub fn code(&self) -> u8 {
        match self {
            Capability::Multiprotocol(_) => CAP_MULTIPROTOCOL,
            Capability::RouteRefresh => CAP_ROUTE_REFRESH,
            Capability::ExtendedNextHop(_) => CAP_EXTENDED_NEXT_HOP,
            Capability::ExtendedMessage => CAP_EXTENDED_MESSAGE,
            Capability::GracefulRestart(_) => CAP_GRACEFUL_RESTART,
            Capability::FourOctetAs(_) => CAP_FOUR_OCTET_AS,
            Capability::AddPath(_) => CAP_ADD_PATH,
            Capability::EnhancedRouteRefresh => CAP_ENHANCED_ROUTE_REFRESH,
            Capability::Fqdn { .. } => CAP_FQDN,
            Capability::Unknown { code, .. } => *code,
        }
    }

    /// Interpret one capability value. `value` must be a sub-slice of `owner` (so unknown
    /// values are kept without copying).
    ///
    /// A known capability whose length does not fit its definition is a malformed OPEN
    /// (RFC 4271 §6.2 has no better subcode; BIRD and FRR send OPEN Message Error / 0 too).
    /// Two cases are kept raw instead, because their RFCs ask to ignore them rather than
    /// fail: an ADD-PATH Send/Receive value other than 1..3 (RFC 7911 §4: "the capability
    /// SHOULD be treated as not understood and ignored") and an FQDN capability that does
    /// not parse (informational only).
    pub fn decode_value(code: u8, value: &[u8], owner: &Bytes) -> Result<Capability, DecodeError> {
        let malformed = DecodeError::MalformedOpen;
        let raw = || Capability::Unknown { code, value: owner.slice_ref(value) };
        let cap = match code {
            // RFC 4760 §8: "Capability Length field is set to 4".
            CAP_MULTIPROTOCOL => match family_afi_reserved_safi(value) {
                Ok(([], family)) => Capability::Multiprotocol(family),
                _ => return Err(malformed("multiprotocol capability length is not 4")),
            },
            // RFC 2918 §2: "Capability Length: 0".
            CAP_ROUTE_REFRESH if value.is_empty() => Capability::RouteRefresh,
            CAP_ROUTE_REFRESH => return Err(malformed("route refresh capability length is not 0")),
            // RFC 8950 §3: a list of 6-octet <NLRI AFI, NLRI SAFI, Nexthop AFI> triples.
            CAP_EXTENDED_NEXT_HOP => match exact_list(value, 6, extended_next_hop_entry) {
                Some(entries) => Capability::ExtendedNextHop(entries),
                None => {
                    return Err(malformed(
                        "extended next hop capability length not a multiple of 6",
                    ))
                }
            },
            // RFC 8654 §3: "The Capability Length field ... is set to zero".
            CAP_EXTENDED_MESSAGE if value.is_empty() => Capability::ExtendedMessage,
            CAP_EXTENDED_MESSAGE => {
                return Err(malformed("extended message capability length is not 0"))
            }
            // RFC 4724 §3: Restart Flags (4 bits), Restart Time (12 bits), then 4-octet
            // <AFI, SAFI, Flags for Address Family> tuples.
            CAP_GRACEFUL_RESTART => {
                let parsed =
                    be_u16::<_, nom::error::Error<&[u8]>>(value).ok().and_then(|(rest, flags)| {
                        exact_list(rest, 4, graceful_restart_family).map(|f| (flags, f))
                    });
                let Some((flags, families)) = parsed else {
                    return Err(malformed("graceful restart capability length is not 2 + 4n"));
                };
                Capability::GracefulRestart(GracefulRestartCap {
                    restart_state: flags & GR_FLAG_RESTART_STATE != 0,
                    notification: flags & GR_FLAG_NOTIFICATION != 0,
                    restart_time: flags & GR_RESTART_TIME_MASK,
                    families,
                })
            }
            // RFC 6793 §3: "the Capability Length field ... is set to 4".
            CAP_FOUR_OCTET_AS => match be_u32::<_, nom::error::Error<&[u8]>>(value) {
                Ok(([], asn)) => Capability::FourOctetAs(asn),
                _ => return Err(malformed("4-octet AS capability length is not 4")),
            },
            // RFC 7911 §4: 4-octet <AFI, SAFI, Send/Receive> tuples.
            CAP_ADD_PATH => {
                let Some(entries) = exact_list(value, 4, add_path_entry) else {
                    return Err(malformed("ADD-PATH capability length not a multiple of 4"));
                };
                let known: Option<Vec<AddPathEntry>> = entries
                    .into_iter()
                    .map(|(family, mode)| {
                        AddPathMode::from_u8(mode).map(|mode| AddPathEntry { family, mode })
                    })
                    .collect();
                match known {
                    Some(entries) => Capability::AddPath(entries),
                    None => raw(),
                }
            }
            // RFC 7313 §3.1: "Capability Length: 0".
            CAP_ENHANCED_ROUTE_REFRESH if value.is_empty() => Capability::EnhancedRouteRefresh,
            CAP_ENHANCED_ROUTE_REFRESH => {
                return Err(malformed("enhanced route refresh capability length is not 0"))
            }
            CAP_FQDN => match fqdn(value) {
                Some((hostname, domain)) => Capability::Fqdn { hostname, domain },
                None => raw(),
            },
            _ => raw(),
        };
        Ok(cap)
    }

    /// Encode this capability as a TLV. Fails when the value does not fit the 1-octet length.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u8(self.code());
        out.put_u8(0);
        match self {
            Capability::Multiprotocol(f) => {
                out.put_u16(f.afi);
                out.put_u8(0);
                out.put_u8(f.safi);
            }
            Capability::RouteRefresh
            | Capability::ExtendedMessage
            | Capability::EnhancedRouteRefresh => {}
            Capability::ExtendedNextHop(entries) => {
                for e in entries {
                    out.put_u16(e.nlri_family.afi);
                    out.put_u16(e.nlri_family.safi as u16);
                    out.put_u16(e.next_hop_afi);
                }
            }
            Capability::GracefulRestart(gr) => {
                let mut flags = gr.restart_time & GR_RESTART_TIME_MASK;
                if gr.restart_state {
                    flags |= GR_FLAG_RESTART_STATE;
                }
                if gr.notification {
                    flags |= GR_FLAG_NOTIFICATION;
                }
                out.put_u16(flags);
                for (family, forwarding) in &gr.families {
                    out.put_u16(family.afi);
                    out.put_u8(family.safi);
                    out.put_u8(if *forwarding { GR_FAMILY_FORWARDING } else { 0 });
                }
            }
            Capability::FourOctetAs(asn) => out.put_u32(*asn),
            Capability::AddPath(entries) => {
                for e in entries {
                    out.put_u16(e.family.afi);
                    out.put_u8(e.family.safi);
                    out.put_u8(e.mode as u8);
                }
            }
            Capability::Fqdn { hostname, domain } => {
                for field in [hostname, domain] {
                    let len = u8::try_from(field.len()).map_err(|_| {
                        out.truncate(start);
                        EncodeError::FieldTooLong("FQDN capability name")
                    })?;
                    out.put_u8(len);
                    out.put_slice(field.as_bytes());
                }
            }
            Capability::Unknown { value, .. } => out.put_slice(value),
        }
        let value_len = out.len() - start - 2;
        let Ok(len) = u8::try_from(value_len) else {
            out.truncate(start);
            return Err(EncodeError::FieldTooLong("capability value"));
        };
        if let Some(slot) = out.get_mut(start + 1) {
            *slot = len;
        }
        Ok(())
    }
}

/// Decode the value of a Capabilities optional parameter (RFC 5492 §4): a sequence of
/// capability TLVs. `value` must be a sub-slice of `owner`.
///
/// A TLV that runs past the end of the parameter is a malformed OPEN.
pub fn decode_capabilities(value: &[u8], owner: &Bytes) -> Result<Vec<Capability>, DecodeError> {
    let mut caps = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let (next, (code, cap_value)) = capability_tlv(rest).map_err(|_| {
            DecodeError::MalformedOpen("capability runs past its optional parameter")
        })?;
        caps.push(Capability::decode_value(code, cap_value, owner)?);
        rest = next;
    }
    Ok(caps)
}

/// Encode a list of capabilities as consecutive TLVs.
pub fn encode_capabilities(caps: &[Capability], out: &mut BytesMut) -> Result<(), EncodeError> {
    caps.iter().try_for_each(|c| c.encode(out))
}

#[cfg(test)]
mod tests {
    use super::*;
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
            Capability::GracefulRestart(GracefulRestartCap {
                restart_time: 120,
                ..Default::default()
            }),
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
        round_trip(
            "47 03 010203",
            Capability::Unknown { code: 71, value: Bytes::from(vec![1, 2, 3]) },
        );
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
}
