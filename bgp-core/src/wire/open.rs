//! OPEN message (RFC 4271 §4.2) with optional parameters (RFC 5492) and the RFC 9072
//! extended optional parameters length.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+
//! |    Version    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     My Autonomous System      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Hold Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         BGP Identifier                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Opt Parm Len  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Optional Parameters (variable)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! RFC 9072 §2: when "Non-Ext OP Len" is 255 and the first octet after it ("Non-Ext OP Type")
//! is 255, a 2-octet "Extended Opt. Parm. Length" follows, and every optional parameter then
//! has a 2-octet Parameter Length.
//!
//! Decoding checks what needs no configuration (version, hold time, identifier, syntax of the
//! optional parameters and capabilities). Peer AS, unsupported optional parameters and required
//! capabilities are the FSM's business: it has the configuration.
use std::net::Ipv4Addr;

use bytes::{BufMut, Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::{IResult, Parser};
use serde::Serialize;

use super::capability::{decode_capabilities, encode_capabilities, Capability};
use super::error::{DecodeError, EncodeError};

/// AS_TRANS (RFC 6793 §9): what a 4-octet AS speaker puts in "My Autonomous System" when its
/// AS does not fit in two octets.
pub const AS_TRANS: u16 = 23456;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Open {
    pub version: u8,
    /// The 2-octet "My Autonomous System" field as sent (AS_TRANS for large ASNs).
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    /// Optional parameters in wire order (keeps the sender's grouping of capabilities).
    pub params: Vec<OptionalParameter>,
    /// The sender used the RFC 9072 extended optional parameters length encoding.
    pub extended_params: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum OptionalParameter {
    /// Parameter type 2 (RFC 5492).
    Capabilities(Vec<Capability>),
    /// Any other parameter type, kept raw.
    Unknown {
        param_type: u8,
        #[serde(serialize_with = "crate::wire::notification::serialize_hex")]
        value: Bytes,
    },
}

impl Open {
    /// An OPEN for `asn` (AS_TRANS goes in the 2-octet field when needed; the caller adds the
    /// 4-octet AS capability), with all capabilities in one optional parameter.
    pub fn new(asn: u32, hold_time: u16, bgp_id: Ipv4Addr, capabilities: Vec<Capability>) -> Self {
        let my_as = u16::try_from(asn).unwrap_or(AS_TRANS);
        Open {
            version: 4,
            my_as,
            hold_time,
            bgp_id,
            params: vec![OptionalParameter::Capabilities(capabilities)],
            extended_params: false,
        }
    }

    /// Every capability, across all capability parameters.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> {
        self.params.iter().flat_map(|p| match p {
            OptionalParameter::Capabilities(c) => c.as_slice(),
            OptionalParameter::Unknown { .. } => &[],
        })
    }

    /// The speaker's AS: the 4-octet AS capability if present (RFC 6793 §3), else `my_as`.
    pub fn asn(&self) -> u32 {
        self.capabilities()
            .find_map(|c| match c {
                Capability::FourOctetAs(a) => Some(*a),
                _ => None,
            })
            .unwrap_or(self.my_as as u32)
    }
}

/// The only BGP version this speaker supports (RFC 4271 §4.2).
pub const BGP_VERSION: u8 = 4;
/// Optional parameter type of Capabilities (RFC 5492 §4).
pub const PARAM_CAPABILITIES: u8 = 2;
/// RFC 9072 §2: the "Non-Ext OP Type" value that announces the extended encoding (and the
/// "Non-Ext OP Len" value that goes with it).
pub const PARAM_EXTENDED_LENGTH: u8 = 255;
/// Fixed fields of the OPEN body, up to and including Opt Parm Len.
fn fixed_fields(input: &[u8]) -> IResult<&[u8], (u8, u16, u16, u32, u8)> {
    (be_u8, be_u16, be_u16, be_u32, be_u8).parse(input)
}

/// One optional parameter: type (1), length (1, or 2 in the RFC 9072 encoding), value.
fn param(extended: bool) -> impl Fn(&[u8]) -> IResult<&[u8], (u8, &[u8])> {
    move |input| {
        let (input, param_type) = be_u8(input)?;
        let (input, len) = if extended {
            be_u16(input)?
        } else {
            let (i, l) = be_u8(input)?;
            (i, u16::from(l))
        };
        let (input, value) = take(len).parse(input)?;
        Ok((input, (param_type, value)))
    }
}

impl OptionalParameter {
    fn param_type(&self) -> u8 {
        match self {
            OptionalParameter::Capabilities(_) => PARAM_CAPABILITIES,
            OptionalParameter::Unknown { param_type, .. } => *param_type,
        }
    }

    fn encode_value(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            OptionalParameter::Capabilities(caps) => encode_capabilities(caps, out),
            OptionalParameter::Unknown { value, .. } => {
                out.put_slice(value);
                Ok(())
            }
        }
    }
}

impl Open {
    /// Decode an OPEN body (the octets after the 19-octet header). `body` is typically a
    /// slice of the received frame, so raw parameters and capabilities share its memory.
    ///
    /// RFC 4271 §6.2 checks done here: "If the version number in the Version field of the
    /// received OPEN message is not supported, then the Error Subcode MUST be set to
    /// Unsupported Version Number"; "An implementation MUST reject Hold Time values of one or
    /// two seconds" (Unacceptable Hold Time); "If the BGP Identifier field of the OPEN message
    /// is syntactically incorrect, then the Error Subcode MUST be set to Bad BGP Identifier"
    /// (0.0.0.0 is the one syntactically bad value, RFC 6286 §2.2).
    pub fn decode(body: &Bytes) -> Result<Open, DecodeError> {
        let (params_bytes, (version, my_as, hold_time, bgp_id, non_ext_len)) =
            fixed_fields(body)
                .map_err(|_| DecodeError::MalformedOpen("OPEN shorter than 10 octets"))?;
        if version != BGP_VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        if hold_time == 1 || hold_time == 2 {
            return Err(DecodeError::UnacceptableHoldTime(hold_time));
        }
        if bgp_id == 0 {
            return Err(DecodeError::BadBgpIdentifier);
        }
        let extended = non_ext_len == PARAM_EXTENDED_LENGTH
            && params_bytes.first() == Some(&PARAM_EXTENDED_LENGTH);
        let params_area = if extended {
            // RFC 9072 §2: Non-Ext OP Type (1) = 255, then Extended Opt. Parm. Length (2).
            let (rest, ext_len) =
                be_u16::<_, nom::error::Error<&[u8]>>(params_bytes.get(1..).unwrap_or(&[]))
                    .map_err(|_| {
                        DecodeError::MalformedOpen("truncated extended optional parameters length")
                    })?;
            if rest.len() != usize::from(ext_len) {
                return Err(DecodeError::MalformedOpen(
                    "extended optional parameters length does not match the message length",
                ));
            }
            rest
        } else {
            if params_bytes.len() != usize::from(non_ext_len) {
                return Err(DecodeError::MalformedOpen(
                    "optional parameters length does not match the message length",
                ));
            }
            params_bytes
        };
        let parse_param = param(extended);
        let mut params = Vec::new();
        let mut rest = params_area;
        while !rest.is_empty() {
            let (next, (param_type, value)) = parse_param(rest)
                .map_err(|_| DecodeError::MalformedOpen("optional parameter runs past the OPEN"))?;
            params.push(match param_type {
                PARAM_CAPABILITIES => {
                    OptionalParameter::Capabilities(decode_capabilities(value, body)?)
                }
                _ => OptionalParameter::Unknown { param_type, value: body.slice_ref(value) },
            });
            rest = next;
        }
        Ok(Open {
            version,
            my_as,
            hold_time,
            bgp_id: Ipv4Addr::from(bgp_id),
            params,
            extended_params: extended,
        })
    }

    /// Will [`Open::encode_body`] use the RFC 9072 extended encoding? Yes when
    /// `extended_params` is set, or when the parameters do not fit the classic one-octet
    /// lengths (RFC 9072 §2: the extended encoding is for when "the length of the Optional
    /// Parameters ... exceeds 255").
    pub fn uses_extended_params(&self) -> bool {
        if self.extended_params {
            return true;
        }
        let mut total = 0usize;
        for p in &self.params {
            let mut scratch = BytesMut::new();
            if p.encode_value(&mut scratch).is_err() || scratch.len() > 255 {
                return true;
            }
            total += 2 + scratch.len();
        }
        // 255 itself is fine in the classic encoding unless the first parameter has type 255,
        // which would read as the RFC 9072 marker.
        total > 255
            || (total == 255
                && self.params.first().map(|p| p.param_type()) == Some(PARAM_EXTENDED_LENGTH))
    }

    /// Encode the OPEN body (without the header) into `out`.
    pub fn encode_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.encode_body_inner(out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_body_inner(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        out.put_u8(self.version);
        out.put_u16(self.my_as);
        out.put_u16(self.hold_time);
        out.put_u32(u32::from(self.bgp_id));
        let extended = self.uses_extended_params();
        if extended {
            out.put_u8(PARAM_EXTENDED_LENGTH);
            out.put_u8(PARAM_EXTENDED_LENGTH);
        }
        let len_at = out.len();
        if extended {
            out.put_u16(0);
        } else {
            out.put_u8(0);
        }
        let params_start = out.len();
        for p in &self.params {
            out.put_u8(p.param_type());
            let plen_at = out.len();
            if extended {
                out.put_u16(0);
            } else {
                out.put_u8(0);
            }
            let vstart = out.len();
            p.encode_value(out)?;
            let vlen = out.len() - vstart;
            write_len(out, plen_at, vlen, extended, "optional parameter")?;
        }
        let total = out.len() - params_start;
        write_len(out, len_at, total, extended, "optional parameters")
    }
}

/// Back-fill a 1- or 2-octet length field at `at`.
fn write_len(
    out: &mut BytesMut,
    at: usize,
    len: usize,
    two_octets: bool,
    what: &'static str,
) -> Result<(), EncodeError> {
    if two_octets {
        let v = u16::try_from(len).map_err(|_| EncodeError::FieldTooLong(what))?;
        if let Some(slot) = out.get_mut(at..at + 2) {
            slot.copy_from_slice(&v.to_be_bytes());
        }
    } else {
        let v = u8::try_from(len).map_err(|_| EncodeError::FieldTooLong(what))?;
        if let Some(slot) = out.get_mut(at) {
            *slot = v;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::capability::{AddPathEntry, AddPathMode, GracefulRestartCap};
    use crate::wire::family::Family;
    use crate::wire::header::testing::hex;

    const BIRD_CAPS: &str = "01 04 0001 00 01  02 00  41 04 0000 fde9  46 00  40 02 0078";

    fn body(hex_str: &str) -> Bytes {
        Bytes::from(hex(hex_str))
    }

    fn encode(open: &Open) -> Vec<u8> {
        let mut out = BytesMut::new();
        open.encode_body(&mut out).unwrap();
        out.to_vec()
    }

    fn bird_caps() -> Vec<Capability> {
        vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(65001),
            Capability::EnhancedRouteRefresh,
            Capability::GracefulRestart(GracefulRestartCap {
                restart_time: 120,
                ..Default::default()
            }),
        ]
    }

    #[test]
    fn all_capabilities_in_one_parameter() {
        let wire = body(&format!("04 fde9 00f0 c6120001 16 02 14 {BIRD_CAPS}"));
        let open = Open::decode(&wire).unwrap();
        assert_eq!(
            open,
            Open {
                version: 4,
                my_as: 65001,
                hold_time: 240,
                bgp_id: Ipv4Addr::new(198, 18, 0, 1),
                params: vec![OptionalParameter::Capabilities(bird_caps())],
                extended_params: false,
            }
        );
        assert_eq!(open.asn(), 65001);
        assert_eq!(encode(&open), wire.to_vec());
        assert_eq!(open, Open::new(65001, 240, Ipv4Addr::new(198, 18, 0, 1), bird_caps()));
    }

    #[test]
    fn one_capability_per_parameter_keeps_the_grouping() {
        let wire = body(
            "04 5ba0 00b4 c6120002 20 \
             02 06 01 04 0001 00 01  02 02 02 00  02 06 41 04 0001 0000 \
             02 0a 49 08 06 6e6f64652d31 00",
        );
        let open = Open::decode(&wire).unwrap();
        assert_eq!(open.my_as, AS_TRANS);
        assert_eq!(open.asn(), 65536, "the 4-octet AS capability wins over AS_TRANS");
        assert_eq!(open.params.len(), 4);
        assert_eq!(open.capabilities().count(), 4);
        assert_eq!(encode(&open), wire.to_vec());
    }

    #[test]
    fn no_optional_parameters() {
        let wire = body("04 fde9 0000 01020304 00");
        let open = Open::decode(&wire).unwrap();
        assert!(open.params.is_empty());
        assert_eq!(open.hold_time, 0, "hold time 0 is allowed");
        assert_eq!(encode(&open), wire.to_vec());
    }

    #[test]
    fn unknown_parameter_type_is_kept_raw() {
        let wire = body("04 fde9 00b4 01020304 09 01 03 aabbcc 02 02 02 00");
        let open = Open::decode(&wire).unwrap();
        assert_eq!(
            open.params,
            vec![
                OptionalParameter::Unknown { param_type: 1, value: Bytes::from(hex("aabbcc")) },
                OptionalParameter::Capabilities(vec![Capability::RouteRefresh]),
            ]
        );
        assert_eq!(encode(&open), wire.to_vec());
    }

    #[test]
    fn rfc9072_extended_parameters_round_trip() {
        let wire = body(&format!("04 fde9 00f0 c6120001 ff ff 0017 02 0014 {BIRD_CAPS}"));
        let open = Open::decode(&wire).unwrap();
        assert!(open.extended_params);
        assert_eq!(open.params, vec![OptionalParameter::Capabilities(bird_caps())]);
        assert_eq!(encode(&open), wire.to_vec());
    }

    #[test]
    fn encoder_switches_to_extended_parameters_when_needed() {
        // One parameter of 70 ADD-PATH capabilities of 6 octets each: 420 > 255.
        let caps: Vec<Capability> = (0..70u16)
            .map(|afi| {
                Capability::AddPath(vec![AddPathEntry {
                    family: Family::new(afi, 1),
                    mode: AddPathMode::Both,
                }])
            })
            .collect();
        let open = Open::new(65001, 90, Ipv4Addr::new(10, 0, 0, 1), caps);
        assert!(!open.extended_params);
        assert!(open.uses_extended_params());
        let wire = encode(&open);
        assert_eq!(&wire[9..13], &[0xff, 0xff, 0x01, 0xa7], "255, 255, then 3 + 420 = 423");
        let back = Open::decode(&Bytes::from(wire)).unwrap();
        assert!(back.extended_params);
        assert_eq!(back.params, open.params);
        // Small OPENs stay classic.
        assert!(
            !Open::new(65001, 90, Ipv4Addr::new(10, 0, 0, 1), bird_caps()).uses_extended_params()
        );
    }

    #[test]
    fn unsupported_version() {
        let err = Open::decode(&body("03 fde9 00b4 01020304 00")).unwrap_err();
        assert_eq!(err, DecodeError::UnsupportedVersion(3));
        let n = crate::wire::Notification::from(&err);
        assert_eq!((n.code, n.subcode, &n.data[..]), (2, 1, &[0, 4][..]));
    }

    #[test]
    fn hold_time_one_or_two_is_unacceptable() {
        for (h, ok) in [(0u16, true), (1, false), (2, false), (3, true), (65535, true)] {
            let wire = body(&format!("04 fde9 {h:04x} 01020304 00"));
            match Open::decode(&wire) {
                Ok(o) => assert!(ok && o.hold_time == h, "{h}"),
                Err(e) => {
                    assert!(!ok, "{h}");
                    assert_eq!(e, DecodeError::UnacceptableHoldTime(h));
                    assert_eq!(e.code_subcode(), (2, 6));
                }
            }
        }
    }

    #[test]
    fn zero_bgp_identifier_is_bad() {
        let err = Open::decode(&body("04 fde9 00b4 00000000 00")).unwrap_err();
        assert_eq!(err, DecodeError::BadBgpIdentifier);
        assert_eq!(err.code_subcode(), (2, 3));
    }

    #[test]
    fn malformed_parameters() {
        for bad in [
            "04 fde9 00b4 01020304",                         // no Opt Parm Len
            "04 fde9 00b4 01020304 05 02 02 02 00",          // Opt Parm Len too long
            "04 fde9 00b4 01020304 03 02 02 02 00",          // Opt Parm Len too short
            "04 fde9 00b4 01020304 03 02 05 02",             // parameter runs past the end
            "04 fde9 00b4 01020304 04 02 02 41 04",          // capability runs past its parameter
            "04 fde9 00b4 01020304 ff ff",                   // RFC 9072 marker, no length
            "04 fde9 00b4 01020304 ff ff 00",                // RFC 9072 marker, partial length
            "04 fde9 00b4 01020304 ff ff 0006 02 0002 0200", // extended length mismatch
            "04 fde9 00b4 01020304 ff ff 0004 02 0002 02",   // extended parameter truncated
        ] {
            let err = Open::decode(&body(bad)).unwrap_err();
            assert!(matches!(err, DecodeError::MalformedOpen(_)), "{bad}: {err:?}");
        }
    }

    #[test]
    fn encode_failure_leaves_buffer_untouched() {
        let open = Open::new(
            1,
            90,
            Ipv4Addr::new(10, 0, 0, 1),
            vec![Capability::Unknown { code: 200, value: Bytes::from(vec![0; 300]) }],
        );
        let mut out = BytesMut::from(&b"xy"[..]);
        assert!(open.encode_body(&mut out).is_err());
        assert_eq!(&out[..], b"xy");
    }
}
