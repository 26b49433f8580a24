//! Framing: splits whole BGP messages off the read buffer without copying.
//!
//! The header is validated as soon as its 19 octets are in (RFC 4271 §6.1 checks: marker,
//! length, type), before waiting for the body, so a desynchronised or hostile stream is
//! rejected without buffering up to 64 KiB of garbage. Frames are split off with
//! `split_to(len).freeze()`: NLRI and attributes are later parsed from that same memory
//! ([`super::decode_message`]).
use bytes::{Bytes, BytesMut};

use super::context::WireContext;
use super::error::DecodeError;
use super::header::{self, HEADER_LEN};

/// Split the next whole message (header included) off `buf`, validating its header with the
/// receive context `ctx`. `Ok(None)`: more bytes are needed (capacity for the rest of the
/// message is reserved). On error `buf` is left untouched; the session must be reset
/// (send `Notification::from(&err)`).
pub fn split_frame(buf: &mut BytesMut, ctx: &WireContext) -> Result<Option<Bytes>, DecodeError> {
    if buf.len() < HEADER_LEN {
        // Reject a bad marker as soon as its first octets are in.
        if !header::marker_prefix_ok(buf) {
            return Err(DecodeError::ConnectionNotSynchronized);
        }
        return Ok(None);
    }
    let hdr = header::decode_header(buf, ctx)?;
    let len = usize::from(hdr.length);
    if buf.len() < len {
        buf.reserve(len - buf.len());
        return Ok(None);
    }
    Ok(Some(buf.split_to(len).freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::header::testing::frame;
    use crate::wire::message::{decode_message, Message};
    use crate::wire::notification::Notification;

    /// Split and decode every whole message in `buf`.
    fn decode_all(buf: &mut BytesMut, ctx: &WireContext) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(frame) = split_frame(buf, ctx).unwrap() {
            out.push(decode_message(frame, ctx).unwrap());
        }
        out
    }

    #[test]
    fn waits_for_a_whole_header_then_a_whole_body() {
        let ctx = WireContext::default();
        let wire = frame(3, &[6, 2, 0]);
        let mut buf = BytesMut::new();
        for (i, byte) in wire.iter().enumerate() {
            assert_eq!(split_frame(&mut buf, &ctx), Ok(None), "after {i} octets");
            buf.extend_from_slice(&[*byte]);
        }
        assert_eq!(
            decode_all(&mut buf, &ctx),
            vec![Message::Notification(Notification {
                code: 6,
                subcode: 2,
                data: Bytes::from_static(&[0])
            })]
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn several_messages_in_one_read() {
        let ctx = WireContext::default();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&frame(4, &[]));
        buf.extend_from_slice(&frame(5, &[0, 2, 0, 1]));
        buf.extend_from_slice(&frame(4, &[])[..10]);
        let msgs = decode_all(&mut buf, &ctx);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], Message::Keepalive);
        assert!(matches!(msgs[1], Message::RouteRefresh(_)));
        assert_eq!(buf.len(), 10);
    }

    #[test]
    fn bad_marker_is_rejected_before_the_header_is_complete() {
        let mut buf = BytesMut::from(&[0xff, 0xff, 0x00][..]);
        assert_eq!(
            split_frame(&mut buf, &WireContext::default()),
            Err(DecodeError::ConnectionNotSynchronized)
        );
    }

    #[test]
    fn header_is_validated_before_waiting_for_the_body() {
        let ctx = WireContext::default();
        // Claims 5000 octets on a 4096-octet session: rejected with only the header in.
        let mut buf = BytesMut::from(&frame(2, &[0; 4])[..19]);
        buf[16..18].copy_from_slice(&5000u16.to_be_bytes());
        assert_eq!(split_frame(&mut buf, &ctx), Err(DecodeError::BadMessageLength(5000)));
        let mut buf = BytesMut::from(&frame(7, &[])[..]);
        assert_eq!(split_frame(&mut buf, &ctx), Err(DecodeError::BadMessageType(7)));
    }

    #[test]
    fn frames_share_the_read_buffer_memory() {
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(&frame(4, &[]));
        buf.extend_from_slice(&frame(4, &[]));
        let base = buf.as_ptr();
        let first = split_frame(&mut buf, &WireContext::default()).unwrap().unwrap();
        assert_eq!(first.as_ptr(), base, "split off, not copied");
        assert_eq!(first.len(), 19);
        assert_eq!(buf.len(), 19);
    }

    #[test]
    fn partial_body_reserves_room_for_the_rest() {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&frame(3, &[0; 200])[..19]);
        assert_eq!(split_frame(&mut buf, &WireContext::default()), Ok(None));
        assert!(buf.capacity() >= 219);
    }
}
