//! ROUTE-REFRESH message (RFC 2918 §3) with the RFC 7313 §3.2 message subtypes.
//!
//! ```text
//!  0       7      15      23      31
//! +-------+-------+-------+-------+
//! |      AFI      | Subt. | SAFI  |
//! +-------+-------+-------+-------+
//! ```
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u8};
use nom::Parser;
use serde::Serialize;

use super::error::DecodeError;
use super::family::Family;

pub const SUBTYPE_NORMAL: u8 = 0;
/// Beginning of Route Refresh (RFC 7313).
pub const SUBTYPE_BORR: u8 = 1;
/// End of Route Refresh (RFC 7313).
pub const SUBTYPE_EORR: u8 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RouteRefresh {
    pub family: Family,
    pub subtype: u8,
}

impl RouteRefresh {
    pub fn new(family: Family) -> Self {
        RouteRefresh { family, subtype: SUBTYPE_NORMAL }
    }

    /// Decode a ROUTE-REFRESH body (after the header). `frame` is the whole message: RFC 7313
    /// §5 puts "the complete ROUTE-REFRESH message" in the NOTIFICATION for a bad length.
    ///
    /// Any subtype is kept: RFC 7313 §5 says a speaker "MUST ignore the received ROUTE-REFRESH
    /// message" with a subtype other than 0, 1 or 2, which is the FSM's call, not an error.
    pub fn decode(body: &[u8], frame: &Bytes) -> Result<RouteRefresh, DecodeError> {
        match (be_u16::<_, nom::error::Error<&[u8]>>, be_u8, be_u8).parse(body) {
            Ok(([], (afi, subtype, safi))) => {
                Ok(RouteRefresh { family: Family::new(afi, safi), subtype })
            }
            _ => Err(DecodeError::RouteRefreshInvalidLength(frame.clone())),
        }
    }

    /// Encode the ROUTE-REFRESH body (without the header).
    pub fn encode_body(&self, out: &mut BytesMut) {
        out.put_u16(self.family.afi);
        out.put_u8(self.subtype);
        out.put_u8(self.family.safi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::context::WireContext;
    use crate::wire::header::testing::frame;
    use crate::wire::message::{decode_message, Message};
    use crate::wire::DecodeError;

    #[test]
    fn normal_borr_eorr_round_trip() {
        for (subtype, family) in [
            (SUBTYPE_NORMAL, Family::IPV4_UNICAST),
            (SUBTYPE_BORR, Family::IPV6_UNICAST),
            (SUBTYPE_EORR, Family::IPV6_UNICAST),
        ] {
            let msg = Message::RouteRefresh(RouteRefresh { family, subtype });
            let wire = msg.to_bytes(&WireContext::default()).unwrap();
            assert_eq!(wire, frame(5, &[0, family.afi as u8, subtype, 1]));
            assert_eq!(decode_message(wire, &WireContext::default()), Ok(msg));
        }
    }

    #[test]
    fn unknown_subtype_is_decoded_for_the_fsm_to_ignore() {
        let wire = frame(5, &[0, 1, 7, 1]);
        let msg = decode_message(wire, &WireContext::default()).unwrap();
        assert_eq!(
            msg,
            Message::RouteRefresh(RouteRefresh { family: Family::IPV4_UNICAST, subtype: 7 })
        );
    }

    #[test]
    fn bad_length_is_route_refresh_error_with_whole_message() {
        for body in [&[0u8, 1, 0][..], &[0, 1, 0, 1, 0]] {
            let wire = frame(5, body);
            let err = decode_message(wire.clone(), &WireContext::default()).unwrap_err();
            assert_eq!(err, DecodeError::RouteRefreshInvalidLength(wire));
            assert_eq!(err.code_subcode(), (7, 1));
        }
    }
}
