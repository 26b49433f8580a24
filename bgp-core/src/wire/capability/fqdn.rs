//! FQDN capability (draft-walton-bgp-hostname-capability §3): informational host and domain
//! names, as FRR sends them.
use bytes::{BufMut, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::be_u8;
use nom::{IResult, Parser};

use crate::wire::error::EncodeError;

/// Hostname length (1), hostname, domain length (1), domain. `None` when it does not parse
/// exactly or a name is not UTF-8.
pub(super) fn decode(value: &[u8]) -> Option<(String, String)> {
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

/// Append the value; fails (leaving `out` partly written) when a name exceeds 255 octets.
pub(super) fn encode(hostname: &str, domain: &str, out: &mut BytesMut) -> Result<(), EncodeError> {
    for field in [hostname, domain] {
        let len = u8::try_from(field.len())
            .map_err(|_| EncodeError::FieldTooLong("FQDN capability name"))?;
        out.put_u8(len);
        out.put_slice(field.as_bytes());
    }
    Ok(())
}
