//! Multiprotocol capability (RFC 4760 §8): the one address family it announces.
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u8};
use nom::{IResult, Parser};

use crate::wire::family::Family;

/// RFC 4760 §8: AFI (2), Reserved (1), SAFI (1).
fn family_afi_reserved_safi(input: &[u8]) -> IResult<&[u8], Family> {
    let (input, (afi, _reserved, safi)) = (be_u16, be_u8, be_u8).parse(input)?;
    Ok((input, Family::new(afi, safi)))
}

/// The family of a multiprotocol capability value; `None` unless it is exactly 4 octets
/// ("Capability Length field is set to 4").
pub(super) fn decode(value: &[u8]) -> Option<Family> {
    match family_afi_reserved_safi(value) {
        Ok(([], family)) => Some(family),
        _ => None,
    }
}

/// Append the 4-octet value for `family`.
pub(super) fn encode(family: Family, out: &mut BytesMut) {
    out.put_u16(family.afi);
    out.put_u8(0);
    out.put_u8(family.safi);
}
