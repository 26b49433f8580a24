//! Extended next hop capability (RFC 8950 §3): which NLRI families accept next hops of another
//! address family.
use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u16;
use nom::{IResult, Parser};
use serde::Serialize;

use super::tlv::exact_list;
use crate::wire::family::Family;

/// RFC 8950 §3: NLRI AFI (2), NLRI SAFI (2), Nexthop AFI (2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExtendedNextHopEntry {
    /// The family whose NLRI may carry the other next hop.
    pub nlri_family: Family,
    /// The AFI of the next hop allowed for `nlri_family`.
    pub next_hop_afi: u16,
}

fn extended_next_hop_entry(input: &[u8]) -> IResult<&[u8], ExtendedNextHopEntry> {
    // RFC 8950 §3: NLRI AFI (2), NLRI SAFI (2), Nexthop AFI (2).
    let (input, (afi, safi, nh_afi)) = (be_u16, be_u16, be_u16).parse(input)?;
    Ok((
        input,
        ExtendedNextHopEntry { nlri_family: Family::new(afi, safi as u8), next_hop_afi: nh_afi },
    ))
}

/// The entries of an extended next hop value; `None` when it is not a list of 6-octet
/// triples.
pub(super) fn decode(value: &[u8]) -> Option<Vec<ExtendedNextHopEntry>> {
    exact_list(value, 6, extended_next_hop_entry)
}

/// Append the value for `entries`.
pub(super) fn encode(entries: &[ExtendedNextHopEntry], out: &mut BytesMut) {
    for e in entries {
        out.put_u16(e.nlri_family.afi);
        out.put_u16(e.nlri_family.safi as u16);
        out.put_u16(e.next_hop_afi);
    }
}
