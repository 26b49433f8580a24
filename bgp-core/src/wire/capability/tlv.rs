//! The capability TLV framing (RFC 5492 §4) and the fixed-size entry lists several capability
//! values are made of.
use nom::bytes::complete::take;
use nom::multi::many0;
use nom::number::complete::be_u8;
use nom::{IResult, Parser};

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
pub(super) fn capability_tlv(input: &[u8]) -> IResult<&[u8], (u8, &[u8])> {
    let (input, code) = be_u8(input)?;
    let (input, len) = be_u8(input)?;
    let (input, value) = take(len).parse(input)?;
    Ok((input, (code, value)))
}

/// Parse all of `value` as a list of fixed-size entries; `None` when it is not a whole number
/// of entries.
pub(super) fn exact_list<'a, T>(
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
