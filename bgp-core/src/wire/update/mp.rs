//! MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4): their types and their codec, with
//! the IPv6 next hops of RFC 2545 §3 and the IPv6 next hop for IPv4 NLRI of RFC 8950 §3.
//!
//! ```text
//! MP_REACH_NLRI (type 14)                       MP_UNREACH_NLRI (type 15)
//! +---------------------------------------+     +----------------------------------+
//! | AFI (2) | SAFI (1)                    |     | AFI (2) | SAFI (1)               |
//! | Length of Next Hop Network Address (1)|     | Withdrawn Routes (variable)      |
//! | Network Address of Next Hop (var.)    |     +----------------------------------+
//! | Reserved (1)                          |
//! | Network Layer Reachability Info (var.)|
//! +---------------------------------------+
//! ```
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

use crate::wire::context::WireContext;
use crate::wire::error::{DecodeError, EncodeError};
use crate::wire::family::{Family, AFI_IPV4};
use crate::wire::nlri::{decode_nlri, encode_nlri_list, Nlri};

/// Next hop of MP_REACH_NLRI: IPv4, IPv6 global, IPv6 global + link-local (RFC 2545 §3), or
/// an IPv6 next hop for IPv4 NLRI (RFC 8950).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct MpNextHop {
    /// The global next hop (IPv4, or IPv6 global).
    pub global: IpAddr,
    /// The IPv6 link-local next hop, when sent (RFC 2545 §3).
    pub link_local: Option<Ipv6Addr>,
}

/// MP_REACH_NLRI (RFC 4760 §3): reachable NLRI of one family, with their next hop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MpReach {
    /// The family of `nlri`.
    pub family: Family,
    /// The next hop of every prefix in `nlri`.
    pub next_hop: MpNextHop,
    /// The announced prefixes.
    pub nlri: Vec<Nlri>,
}

/// MP_UNREACH_NLRI (RFC 4760 §4): withdrawn NLRI of one family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MpUnreach {
    /// The family of `withdrawn`.
    pub family: Family,
    /// The withdrawn prefixes.
    pub withdrawn: Vec<Nlri>,
}

/// What an MP attribute decoded to.
pub(crate) enum MpOutcome {
    /// MP_REACH_NLRI, and the reason when its next hop is unusable (treat-as-withdraw).
    Reach(MpReach, Option<&'static str>),
    Unreach(MpUnreach),
    /// A family this crate does not decode: the caller keeps the attribute opaque.
    Unsupported,
}

/// Decode an MP_REACH_NLRI value. `data` builds the NOTIFICATION data (the attribute).
///
/// RFC 7606 §7.11: "If the Length of Next Hop Network Address field of the MP_REACH attribute
/// is inconsistent with that which was expected, the attribute is considered malformed. Since
/// the next hop precedes the NLRI field in the attribute, in this case it will not be possible
/// to reliably locate the NLRI; thus, the "session reset" approach or the "AFI/SAFI disable"
/// approach MUST be used." We reset (RFC 4760 §7: Optional Attribute Error). The same holds
/// for a value too short to hold its fixed fields, and (RFC 7606 §5.3) for NLRI that do not
/// parse.
pub(crate) fn decode_mp_reach(
    value: &[u8],
    ctx: &WireContext,
    data: impl Fn() -> Bytes,
) -> Result<MpOutcome, DecodeError> {
    let malformed = || DecodeError::OptionalAttributeError(data());
    let Some((&[afi_hi, afi_lo, safi, nh_len], rest)) = value.split_first_chunk::<4>() else {
        return Err(malformed());
    };
    let family = Family::new(u16::from_be_bytes([afi_hi, afi_lo]), safi);
    let nh_len = usize::from(nh_len);
    // Next hop, then the Reserved octet ("SHOULD be ignored upon receipt", RFC 4760 §3).
    let (Some(nh), Some(nlri)) = (rest.get(..nh_len), rest.get(nh_len + 1..)) else {
        return Err(malformed());
    };
    if !family.is_supported() {
        return Ok(MpOutcome::Unsupported);
    }
    let next_hop = parse_next_hop(family, nh).ok_or_else(malformed)?;
    let mut list = Vec::new();
    decode_nlri(nlri, family, ctx.add_path(family), &mut list).map_err(|_| malformed())?;
    let issue = next_hop_problem(&next_hop.global);
    Ok(MpOutcome::Reach(MpReach { family, next_hop, nlri: list }, issue))
}

/// Decode an MP_UNREACH_NLRI value (RFC 4760 §4). Too short or bad NLRI: session reset
/// (RFC 7606 §7.12 / §5.3).
pub(crate) fn decode_mp_unreach(
    value: &[u8],
    ctx: &WireContext,
    data: impl Fn() -> Bytes,
) -> Result<MpOutcome, DecodeError> {
    let malformed = || DecodeError::OptionalAttributeError(data());
    let Some((&[afi_hi, afi_lo, safi], nlri)) = value.split_first_chunk::<3>() else {
        return Err(malformed());
    };
    let family = Family::new(u16::from_be_bytes([afi_hi, afi_lo]), safi);
    if !family.is_supported() {
        return Ok(MpOutcome::Unsupported);
    }
    let mut withdrawn = Vec::new();
    decode_nlri(nlri, family, ctx.add_path(family), &mut withdrawn).map_err(|_| malformed())?;
    Ok(MpOutcome::Unreach(MpUnreach { family, withdrawn }))
}

/// The next-hop lengths a family allows: 4 for IPv4; 16 (global) or 32 (global + link-local,
/// RFC 2545 §3) for IPv6 and, by RFC 8950 §3, for IPv4 NLRI as well.
fn parse_next_hop(family: Family, nh: &[u8]) -> Option<MpNextHop> {
    let v6 = |b: &[u8]| <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from);
    match nh.len() {
        4 if family.afi == AFI_IPV4 => {
            let addr = Ipv4Addr::from(<[u8; 4]>::try_from(nh).ok()?);
            Some(MpNextHop { global: IpAddr::V4(addr), link_local: None })
        }
        16 => Some(MpNextHop { global: IpAddr::V6(v6(nh)?), link_local: None }),
        32 => Some(MpNextHop {
            global: IpAddr::V6(v6(nh.get(..16)?)?),
            link_local: Some(v6(nh.get(16..)?)?),
        }),
        _ => None,
    }
}

/// A syntactically fine next hop that cannot be one (RFC 4271 §6.3's "semantically
/// incorrect"): treat-as-withdraw, as RFC 7606 §7.3 does for NEXT_HOP.
fn next_hop_problem(addr: &IpAddr) -> Option<&'static str> {
    let bad = match addr {
        IpAddr::V4(a) => a.is_unspecified() || a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast(),
    };
    bad.then_some("MP_REACH_NLRI next hop is not a unicast address")
}

/// Length of the next-hop field for `nh`.
fn next_hop_len(nh: &MpNextHop) -> Result<usize, EncodeError> {
    match (nh.global, nh.link_local) {
        (IpAddr::V4(_), None) => Ok(4),
        (IpAddr::V6(_), None) => Ok(16),
        (IpAddr::V6(_), Some(_)) => Ok(32),
        (IpAddr::V4(_), Some(_)) => {
            Err(EncodeError::FieldTooLong("link-local next hop with an IPv4 global next hop"))
        }
    }
}

/// Octets of the MP_REACH_NLRI value up to (not including) the NLRI.
pub(crate) fn mp_reach_fixed_len(nh: &MpNextHop) -> Result<usize, EncodeError> {
    Ok(2 + 1 + 1 + next_hop_len(nh)? + 1)
}

/// Write the MP_REACH_NLRI value up to the NLRI: AFI, SAFI, next hop, Reserved (0).
pub(crate) fn encode_mp_reach_fixed(
    family: Family,
    nh: &MpNextHop,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let len = next_hop_len(nh)?;
    out.put_u16(family.afi);
    out.put_u8(family.safi);
    out.put_u8(len as u8);
    match nh.global {
        IpAddr::V4(a) => out.put_slice(&a.octets()),
        IpAddr::V6(a) => out.put_slice(&a.octets()),
    }
    if let Some(ll) = nh.link_local {
        out.put_slice(&ll.octets());
    }
    out.put_u8(0);
    Ok(())
}

/// Write a whole MP_REACH_NLRI value.
pub(crate) fn encode_mp_reach(
    reach: &MpReach,
    ctx: &WireContext,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    encode_mp_reach_fixed(reach.family, &reach.next_hop, out)?;
    encode_nlri_list(&reach.nlri, ctx.add_path(reach.family), out);
    Ok(())
}

/// Write a whole MP_UNREACH_NLRI value.
pub(crate) fn encode_mp_unreach(unreach: &MpUnreach, ctx: &WireContext, out: &mut BytesMut) {
    out.put_u16(unreach.family.afi);
    out.put_u8(unreach.family.safi);
    encode_nlri_list(&unreach.withdrawn, ctx.add_path(unreach.family), out);
}
