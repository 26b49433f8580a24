//! Message header (RFC 4271 §4.1): the message types, the header's error checks (RFC 4271
//! §6.1) and writing a header around an encoded body.
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           Marker (16 octets, all ones)        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Length               |      Type     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
use bytes::{BufMut, BytesMut};
use nom::bytes::complete::tag;
use nom::number::complete::{be_u16, be_u8};
use nom::{IResult, Parser};
use serde::Serialize;

use super::context::{WireContext, MAX_MESSAGE_LEN};
use super::error::{DecodeError, EncodeError};

pub const HEADER_LEN: usize = 19;
pub const MARKER: [u8; 16] = [0xff; 16];

/// Smallest OPEN: header + version, My AS, Hold Time, BGP Identifier, Opt Parm Len (RFC 4271 §4.2).
pub const MIN_OPEN_LEN: usize = 29;
/// Smallest UPDATE: header + Withdrawn Routes Length + Total Path Attribute Length (§4.3).
pub const MIN_UPDATE_LEN: usize = 23;
/// Smallest NOTIFICATION: header + Error code + Error subcode (§4.5).
pub const MIN_NOTIFICATION_LEN: usize = 21;
/// "A KEEPALIVE message consists of only the message header and has a length of 19 octets" (§4.4).
pub const KEEPALIVE_LEN: usize = 19;
/// ROUTE-REFRESH: header + AFI, subtype, SAFI (RFC 2918 §3).
pub const ROUTE_REFRESH_LEN: usize = 23;

/// A validated message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Total message length, header included.
    pub length: u16,
    pub msg_type: MessageType,
}

/// The Type octet of the header (RFC 4271 §4.1; ROUTE-REFRESH is RFC 2918).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MessageType {
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    /// RFC 2918.
    RouteRefresh = 5,
}

impl MessageType {
    /// The message type for a type octet, if this speaker knows it.
    pub fn from_u8(t: u8) -> Option<Self> {
        Some(match t {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            _ => return None,
        })
    }
}

/// Marker, length and type octet, unchecked.
fn raw_header(input: &[u8]) -> IResult<&[u8], (u16, u8)> {
    let (input, _) = tag(&MARKER[..]).parse(input)?;
    (be_u16, be_u8).parse(input)
}

/// Does `partial` (fewer than 16 octets allowed) start like a marker? Lets the framer reject a
/// stream that is out of sync before the whole header has arrived.
pub fn marker_prefix_ok(partial: &[u8]) -> bool {
    partial.iter().take(MARKER.len()).all(|&b| b == 0xff)
}

/// Validate the header at the start of `buf` (at least [`HEADER_LEN`] octets; more is ignored).
///
/// RFC 4271 §6.1: marker not all ones → Connection Not Synchronized; "if the Length field of the
/// message header is less than 19 or greater than 4096, or if the Length field of an OPEN message
/// is less than the minimum length of the OPEN message, or if the Length field of an UPDATE
/// message is less than the minimum length of the UPDATE message, or if the Length field of a
/// KEEPALIVE message is not equal to 19, or if the Length field of a NOTIFICATION message is less
/// than the minimum length of the NOTIFICATION message" → Bad Message Length (data: the length);
/// unknown type → Bad Message Type (data: the type).
///
/// The upper bound is `ctx.max_message_len` (RFC 8654 raises it to 65535), except for OPEN and
/// KEEPALIVE: RFC 8654 §4 "The BGP Extended Message Capability applies to all messages except
/// for OPEN and KEEPALIVE messages".
///
/// The ROUTE-REFRESH length is NOT checked here: RFC 7313 §5 wants the whole message as the
/// NOTIFICATION data, so [`check_route_refresh_len`] runs once the frame is complete.
pub fn decode_header(buf: &[u8], ctx: &WireContext) -> Result<Header, DecodeError> {
    if buf.len() < HEADER_LEN {
        return Err(DecodeError::BadMessageLength(buf.len() as u16));
    }
    if !marker_prefix_ok(buf) {
        return Err(DecodeError::ConnectionNotSynchronized);
    }
    let (_, (length, type_octet)) =
        raw_header(buf).map_err(|_| DecodeError::ConnectionNotSynchronized)?;
    let len = length as usize;
    if len < HEADER_LEN || len > ctx.max_message_len {
        return Err(DecodeError::BadMessageLength(length));
    }
    let msg_type =
        MessageType::from_u8(type_octet).ok_or(DecodeError::BadMessageType(type_octet))?;
    let len_ok = match msg_type {
        MessageType::Open => (MIN_OPEN_LEN..=MAX_MESSAGE_LEN).contains(&len),
        MessageType::Update => len >= MIN_UPDATE_LEN,
        MessageType::Notification => len >= MIN_NOTIFICATION_LEN,
        MessageType::Keepalive => len == KEEPALIVE_LEN,
        MessageType::RouteRefresh => true,
    };
    if !len_ok {
        return Err(DecodeError::BadMessageLength(length));
    }
    Ok(Header { length, msg_type })
}

/// RFC 7313 §5: "If a BGP speaker receives a ROUTE-REFRESH message with a length that is not 4
/// (excluding the fixed-size message header), then the BGP speaker MUST send the NOTIFICATION
/// message with the Error Code of 'ROUTE-REFRESH Message Error' and the subcode of 'Invalid
/// Message Length'. The Data field of the NOTIFICATION message MUST contain the complete
/// ROUTE-REFRESH message."
pub fn check_route_refresh_len(frame: &bytes::Bytes) -> Result<(), DecodeError> {
    if frame.len() == ROUTE_REFRESH_LEN {
        Ok(())
    } else {
        Err(DecodeError::RouteRefreshInvalidLength(frame.clone()))
    }
}

/// Start a message in `out`: marker, a length placeholder and the type. Returns the offset of
/// the message start, to hand to [`finish_message`] once the body is written.
pub fn begin_message(out: &mut BytesMut, msg_type: MessageType) -> usize {
    let start = out.len();
    out.reserve(HEADER_LEN);
    out.put_slice(&MARKER);
    out.put_u16(0);
    out.put_u8(msg_type as u8);
    start
}

/// Write the length of the message that starts at `start` and runs to the end of `out`.
/// Fails (leaving `out` truncated back to `start`) when it exceeds `max_len`.
pub fn finish_message(out: &mut BytesMut, start: usize, max_len: usize) -> Result<(), EncodeError> {
    let len = out.len().saturating_sub(start);
    let Ok(len16) = u16::try_from(len) else {
        out.truncate(start);
        return Err(EncodeError::MessageTooLong { len, max: max_len });
    };
    if len > max_len {
        out.truncate(start);
        return Err(EncodeError::MessageTooLong { len, max: max_len });
    }
    if let Some(field) = out.get_mut(start + 16..start + 18) {
        field.copy_from_slice(&len16.to_be_bytes());
    }
    Ok(())
}

/// Helpers for tests of the wire modules.
#[cfg(test)]
pub(crate) mod testing {
    use bytes::Bytes;

    /// Hex to bytes; whitespace is ignored. Panics on bad input (tests only).
    pub fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    /// A whole message: marker, correct length, `msg_type`, `body`.
    pub fn frame(msg_type: u8, body: &[u8]) -> Bytes {
        let mut v = vec![0xff; 16];
        v.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        v.push(msg_type);
        v.extend_from_slice(body);
        Bytes::from(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::context::MAX_EXTENDED_MESSAGE_LEN;

    fn header(len: u16, t: u8) -> Vec<u8> {
        let mut v = vec![0xff; 16];
        v.extend_from_slice(&len.to_be_bytes());
        v.push(t);
        v
    }

    #[test]
    fn keepalive_header_is_valid() {
        let h = decode_header(&header(19, 4), &WireContext::default()).unwrap();
        assert_eq!(h, Header { length: 19, msg_type: MessageType::Keepalive });
    }

    #[test]
    fn bad_marker_is_connection_not_synchronized() {
        let mut h = header(19, 4);
        h[7] = 0xfe;
        assert_eq!(
            decode_header(&h, &WireContext::default()),
            Err(DecodeError::ConnectionNotSynchronized)
        );
        assert!(!marker_prefix_ok(&[0xff, 0xff, 0x00]));
        assert!(marker_prefix_ok(&[0xff, 0xff]));
    }

    #[test]
    fn length_out_of_range_is_bad_message_length() {
        let ctx = WireContext::default();
        assert_eq!(decode_header(&header(18, 4), &ctx), Err(DecodeError::BadMessageLength(18)));
        assert_eq!(decode_header(&header(4097, 2), &ctx), Err(DecodeError::BadMessageLength(4097)));
        assert!(decode_header(&header(4096, 2), &ctx).is_ok());
        // NOTIFICATION data carries the erroneous length (RFC 4271 §6.1).
        let n = crate::wire::Notification::from(DecodeError::BadMessageLength(4097));
        assert_eq!((n.code, n.subcode, &n.data[..]), (1, 2, &[0x10, 0x01][..]));
    }

    #[test]
    fn extended_message_raises_the_limit_except_for_open_and_keepalive() {
        let ctx =
            WireContext { max_message_len: MAX_EXTENDED_MESSAGE_LEN, ..WireContext::modern() };
        assert!(decode_header(&header(65535, 2), &ctx).is_ok());
        assert!(decode_header(&header(5000, 3), &ctx).is_ok());
        assert_eq!(decode_header(&header(5000, 1), &ctx), Err(DecodeError::BadMessageLength(5000)));
    }

    #[test]
    fn per_type_minimum_lengths() {
        let ctx = WireContext::default();
        for (len, t) in [(28, 1), (22, 2), (20, 3), (20, 4), (18, 1)] {
            assert_eq!(
                decode_header(&header(len, t), &ctx),
                Err(DecodeError::BadMessageLength(len)),
                "{len} {t}"
            );
        }
        for (len, t) in [(29, 1), (23, 2), (21, 3), (19, 4), (23, 5), (30, 5)] {
            assert!(decode_header(&header(len, t), &ctx).is_ok(), "{len} {t}");
        }
    }

    #[test]
    fn unknown_type_is_bad_message_type() {
        let ctx = WireContext::default();
        assert_eq!(decode_header(&header(19, 0), &ctx), Err(DecodeError::BadMessageType(0)));
        assert_eq!(decode_header(&header(19, 6), &ctx), Err(DecodeError::BadMessageType(6)));
        let n = crate::wire::Notification::from(DecodeError::BadMessageType(6));
        assert_eq!((n.code, n.subcode, &n.data[..]), (1, 3, &[6][..]));
    }

    #[test]
    fn short_buffer_is_rejected_not_indexed() {
        assert_eq!(
            decode_header(&[0xff; 10], &WireContext::default()),
            Err(DecodeError::BadMessageLength(10))
        );
    }

    #[test]
    fn route_refresh_length_error_carries_the_whole_message() {
        let frame = testing::frame(5, &[0, 1, 0, 1, 9]);
        let err = check_route_refresh_len(&frame).unwrap_err();
        assert_eq!(err, DecodeError::RouteRefreshInvalidLength(frame.clone()));
        let n = crate::wire::Notification::from(&err);
        assert_eq!((n.code, n.subcode), (7, 1));
        assert_eq!(n.data, frame);
    }

    #[test]
    fn finish_message_writes_length_and_enforces_the_limit() {
        let mut out = BytesMut::from(&b"xx"[..]);
        let start = begin_message(&mut out, MessageType::Keepalive);
        finish_message(&mut out, start, 4096).unwrap();
        assert_eq!(&out[2..], &header(19, 4)[..]);

        let start = begin_message(&mut out, MessageType::Update);
        out.extend_from_slice(&[0u8; 4096]);
        assert_eq!(
            finish_message(&mut out, start, 4096),
            Err(EncodeError::MessageTooLong { len: 4115, max: 4096 })
        );
        assert_eq!(out.len(), 21, "truncated back to the message start");
    }
}
