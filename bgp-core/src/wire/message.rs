//! The BGP message: the five message types of RFC 4271 §4 and RFC 2918, and the entry points
//! that decode and encode a whole message (header + body).
use bytes::{Bytes, BytesMut};
use serde::Serialize;

use super::context::{WireContext, MAX_MESSAGE_LEN};
use super::error::{DecodeError, EncodeError};
use super::header::{self, MessageType, HEADER_LEN};
use super::notification::Notification;
use super::open::Open;
use super::route_refresh::RouteRefresh;
use super::update::{self, Update};

/// `Update` is much larger than the other variants; it is not boxed because UPDATEs are the
/// bulk of the traffic and a box would add one allocation per message on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

impl Message {
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }
}

/// Decode one whole message (`frame` = header + body, as split off by
/// [`super::split_frame`]). Every error converts into the NOTIFICATION to send
/// (`Notification::from(&err)`).
///
/// A frame whose length differs from its header's Length field is a Bad Message Length.
pub fn decode_message(frame: Bytes, ctx: &WireContext) -> Result<Message, DecodeError> {
    let hdr = header::decode_header(&frame, ctx)?;
    if frame.len() != usize::from(hdr.length) {
        return Err(DecodeError::BadMessageLength(hdr.length));
    }
    let body = frame.slice(HEADER_LEN..);
    Ok(match hdr.msg_type {
        MessageType::Open => Message::Open(Open::decode(&body)?),
        MessageType::Update => Message::Update(update::decode_update(&body, ctx)?),
        MessageType::Notification => Message::Notification(Notification::decode(&body)?),
        // The header check already required a length of exactly 19.
        MessageType::Keepalive => Message::Keepalive,
        MessageType::RouteRefresh => {
            header::check_route_refresh_len(&frame)?;
            Message::RouteRefresh(RouteRefresh::decode(&body, &frame)?)
        }
    })
}

/// Append one whole message (header + body) to `out`. On error `out` is left as it was.
///
/// The size limit is `ctx.max_message_len`, except for OPEN and KEEPALIVE, which RFC 8654 §4
/// keeps at 4096 octets whatever was negotiated.
pub fn encode_message(
    msg: &Message,
    ctx: &WireContext,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let start = header::begin_message(out, msg.message_type());
    let max_len = match msg {
        Message::Open(_) | Message::Keepalive => MAX_MESSAGE_LEN.min(ctx.max_message_len),
        _ => ctx.max_message_len,
    };
    let body = match msg {
        Message::Open(open) => open.encode_body(out),
        Message::Update(upd) => update::encode_update_body(upd, ctx, out),
        Message::Notification(n) => {
            n.encode_body(out);
            Ok(())
        }
        Message::Keepalive => Ok(()),
        Message::RouteRefresh(rr) => {
            rr.encode_body(out);
            Ok(())
        }
    };
    if let Err(e) = body {
        out.truncate(start);
        return Err(e);
    }
    header::finish_message(out, start, max_len)
}

impl Message {
    /// Encode into a fresh buffer (convenience for tests and one-off messages).
    pub fn to_bytes(&self, ctx: &WireContext) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::new();
        encode_message(self, ctx, &mut out)?;
        Ok(out.freeze())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::wire::capability::Capability;
    use crate::wire::context::MAX_EXTENDED_MESSAGE_LEN;
    use crate::wire::family::Family;
    use crate::wire::header::testing::{frame, hex};

    #[test]
    fn keepalive_round_trip() {
        let wire = Message::Keepalive.to_bytes(&WireContext::default()).unwrap();
        assert_eq!(wire, frame(4, &[]));
        assert_eq!(decode_message(wire, &WireContext::default()), Ok(Message::Keepalive));
    }

    #[test]
    fn open_round_trip_byte_exact() {
        let wire = frame(1, &hex("04 fde9 00b4 c6120001 0a 02 08 01 04 0002 00 01 46 00"));
        let msg = decode_message(wire.clone(), &WireContext::default()).unwrap();
        let Message::Open(open) = &msg else { panic!("not an OPEN") };
        assert_eq!(
            open.capabilities().cloned().collect::<Vec<_>>(),
            vec![Capability::Multiprotocol(Family::IPV6_UNICAST), Capability::EnhancedRouteRefresh]
        );
        assert_eq!(msg.to_bytes(&WireContext::default()).unwrap(), wire);
    }

    #[test]
    fn frame_length_must_match_the_header() {
        let mut wire = frame(4, &[]).to_vec();
        wire.push(0);
        assert_eq!(
            decode_message(Bytes::from(wire), &WireContext::default()),
            Err(DecodeError::BadMessageLength(19))
        );
        let short = frame(3, &[6, 2, 0]).slice(..20);
        assert_eq!(
            decode_message(short, &WireContext::default()),
            Err(DecodeError::BadMessageLength(22))
        );
        assert_eq!(
            decode_message(Bytes::from_static(&[0xff; 5]), &WireContext::default()),
            Err(DecodeError::BadMessageLength(5))
        );
    }

    #[test]
    fn header_errors_come_first() {
        let mut wire = frame(1, &hex("03 fde9 00b4 c6120001 00")).to_vec();
        wire[0] = 0;
        assert_eq!(
            decode_message(Bytes::from(wire), &WireContext::default()),
            Err(DecodeError::ConnectionNotSynchronized)
        );
        assert_eq!(
            decode_message(frame(9, &[]), &WireContext::default()),
            Err(DecodeError::BadMessageType(9))
        );
    }

    #[test]
    fn open_stays_within_4096_even_with_extended_messages() {
        let ctx =
            WireContext { max_message_len: MAX_EXTENDED_MESSAGE_LEN, ..WireContext::modern() };
        let caps = (0..20)
            .map(|c| Capability::Unknown { code: 200 + c, value: Bytes::from(vec![0; 250]) })
            .collect();
        let open = Message::Open(Open::new(65001, 90, Ipv4Addr::new(1, 2, 3, 4), caps));
        let mut out = BytesMut::new();
        assert!(matches!(
            encode_message(&open, &ctx, &mut out),
            Err(EncodeError::MessageTooLong { max: 4096, .. })
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn notification_too_long_is_an_encode_error() {
        let n = Notification { code: 6, subcode: 0, data: Bytes::from(vec![0; 4096]) };
        let mut out = BytesMut::new();
        assert!(encode_message(
            &Message::Notification(n.clone()),
            &WireContext::default(),
            &mut out
        )
        .is_err());
        let ctx =
            WireContext { max_message_len: MAX_EXTENDED_MESSAGE_LEN, ..WireContext::modern() };
        encode_message(&Message::Notification(n.clone()), &ctx, &mut out).unwrap();
        assert_eq!(decode_message(out.freeze(), &ctx), Ok(Message::Notification(n)));
    }
}
