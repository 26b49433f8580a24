//! Decoding and encoding of capabilities: the TLV list of a Capabilities optional parameter
//! and the dispatch of each value to its family's file.
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::be_u32;

use super::codes::*;
use super::tlv::capability_tlv;
use super::{add_path, extended_next_hop, fqdn, multiprotocol, Capability, GracefulRestartCap};
use crate::wire::error::{DecodeError, EncodeError};

impl Capability {
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
            CAP_MULTIPROTOCOL => match multiprotocol::decode(value) {
                Some(family) => Capability::Multiprotocol(family),
                None => return Err(malformed("multiprotocol capability length is not 4")),
            },
            // RFC 2918 §2: "Capability Length: 0".
            CAP_ROUTE_REFRESH if value.is_empty() => Capability::RouteRefresh,
            CAP_ROUTE_REFRESH => return Err(malformed("route refresh capability length is not 0")),
            // RFC 8950 §3: a list of 6-octet <NLRI AFI, NLRI SAFI, Nexthop AFI> triples.
            CAP_EXTENDED_NEXT_HOP => match extended_next_hop::decode(value) {
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
            CAP_GRACEFUL_RESTART => match GracefulRestartCap::decode(value) {
                Some(gr) => Capability::GracefulRestart(gr),
                None => return Err(malformed("graceful restart capability length is not 2 + 4n")),
            },
            // RFC 6793 §3: "the Capability Length field ... is set to 4".
            CAP_FOUR_OCTET_AS => match be_u32::<_, nom::error::Error<&[u8]>>(value) {
                Ok(([], asn)) => Capability::FourOctetAs(asn),
                _ => return Err(malformed("4-octet AS capability length is not 4")),
            },
            // RFC 7911 §4: 4-octet <AFI, SAFI, Send/Receive> tuples.
            CAP_ADD_PATH => match add_path::decode(value) {
                add_path::Decoded::Entries(entries) => Capability::AddPath(entries),
                add_path::Decoded::NotUnderstood => raw(),
                add_path::Decoded::Malformed => {
                    return Err(malformed("ADD-PATH capability length not a multiple of 4"))
                }
            },
            // RFC 7313 §3.1: "Capability Length: 0".
            CAP_ENHANCED_ROUTE_REFRESH if value.is_empty() => Capability::EnhancedRouteRefresh,
            CAP_ENHANCED_ROUTE_REFRESH => {
                return Err(malformed("enhanced route refresh capability length is not 0"))
            }
            CAP_FQDN => match fqdn::decode(value) {
                Some((hostname, domain)) => Capability::Fqdn { hostname, domain },
                None => raw(),
            },
            _ => raw(),
        };
        Ok(cap)
    }

    /// Encode this capability as a TLV. Fails when the value does not fit the 1-octet length;
    /// `out` is then left as it was.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u8(self.code());
        out.put_u8(0);
        let value = match self {
            Capability::Multiprotocol(family) => {
                multiprotocol::encode(*family, out);
                Ok(())
            }
            Capability::RouteRefresh
            | Capability::ExtendedMessage
            | Capability::EnhancedRouteRefresh => Ok(()),
            Capability::ExtendedNextHop(entries) => {
                extended_next_hop::encode(entries, out);
                Ok(())
            }
            Capability::GracefulRestart(gr) => {
                gr.encode(out);
                Ok(())
            }
            Capability::FourOctetAs(asn) => {
                out.put_u32(*asn);
                Ok(())
            }
            Capability::AddPath(entries) => {
                add_path::encode(entries, out);
                Ok(())
            }
            Capability::Fqdn { hostname, domain } => fqdn::encode(hostname, domain, out),
            Capability::Unknown { value, .. } => {
                out.put_slice(value);
                Ok(())
            }
        };
        if let Err(e) = value {
            out.truncate(start);
            return Err(e);
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
