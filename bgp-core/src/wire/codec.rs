//! tokio-util framing: splits whole BGP messages off the read buffer without copying.
//!
//! The header is validated as soon as its 19 octets are in (RFC 4271 §6.1 checks: marker,
//! length, type), before waiting for the body, so a desynchronised or hostile stream is
//! rejected without buffering up to 64 KiB of garbage. Frames are split off with
//! `split_to(len).freeze()`: NLRI and attributes are later parsed from that same memory.
use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::context::WireContext;
use super::error::{DecodeError, EncodeError};
use super::header::{self, HEADER_LEN};
use super::message::{decode_message, encode_message, Message};

/// Frames BGP messages on a TCP stream; decodes with `rx`, encodes with `tx`.
#[derive(Clone, Debug, Default)]
pub struct BgpCodec {
    pub rx: WireContext,
    pub tx: WireContext,
}

/// What can go wrong on a framed BGP stream.
#[derive(Debug)]
pub enum CodecError {
    /// The peer sent something that must reset the session; send `Notification::from(&e)`.
    Decode(DecodeError),
    /// A message of ours could not be encoded.
    Encode(EncodeError),
    /// The socket failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for CodecError {
    fn from(e: std::io::Error) -> Self {
        CodecError::Io(e)
    }
}

impl From<DecodeError> for CodecError {
    fn from(e: DecodeError) -> Self {
        CodecError::Decode(e)
    }
}

impl From<EncodeError> for CodecError {
    fn from(e: EncodeError) -> Self {
        CodecError::Encode(e)
    }
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::Decode(e) => write!(f, "decode error: {e}"),
            CodecError::Encode(e) => write!(f, "encode error: {e}"),
            CodecError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for CodecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CodecError::Decode(e) => Some(e),
            CodecError::Encode(e) => Some(e),
            CodecError::Io(e) => Some(e),
        }
    }
}

impl BgpCodec {
    pub fn new(rx: WireContext, tx: WireContext) -> Self {
        BgpCodec { rx, tx }
    }

    /// Split the next whole message (header included) off `buf`, validating its header with
    /// the receive context. `Ok(None)`: more bytes are needed (capacity for the rest of the
    /// message is reserved). On error `buf` is left untouched; the session must be reset.
    pub fn decode_frame(&self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        split_frame(buf, &self.rx)
    }
}

/// [`BgpCodec::decode_frame`] with an explicit context.
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

impl Decoder for BgpCodec {
    type Item = Message;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Message>, CodecError> {
        match split_frame(src, &self.rx)? {
            Some(frame) => Ok(Some(decode_message(frame, &self.rx)?)),
            None => Ok(None),
        }
    }
}

impl Encoder<Message> for BgpCodec {
    type Error = CodecError;

    fn encode(&mut self, msg: Message, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_message(&msg, &self.tx, dst)?;
        Ok(())
    }
}

impl Encoder<&Message> for BgpCodec {
    type Error = CodecError;

    fn encode(&mut self, msg: &Message, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_message(msg, &self.tx, dst)?;
        Ok(())
    }
}

/// Pre-encoded messages (whole messages, headers included), for the UPDATE fast path where one
/// encoding is shared by every peer of an update group.
impl Encoder<Bytes> for BgpCodec {
    type Error = CodecError;

    fn encode(&mut self, msg: Bytes, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.extend_from_slice(&msg);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::header::testing::frame;
    use crate::wire::notification::Notification;

    #[test]
    fn waits_for_a_whole_header_then_a_whole_body() {
        let mut codec = BgpCodec::default();
        let wire = frame(3, &[6, 2, 0]);
        let mut buf = BytesMut::new();
        for (i, byte) in wire.iter().enumerate() {
            assert_eq!(codec.decode(&mut buf).unwrap(), None, "after {i} octets");
            buf.extend_from_slice(&[*byte]);
        }
        let msg = codec.decode(&mut buf).unwrap();
        assert_eq!(
            msg,
            Some(Message::Notification(Notification {
                code: 6,
                subcode: 2,
                data: Bytes::from_static(&[0])
            }))
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn several_messages_in_one_read() {
        let mut codec = BgpCodec::default();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&frame(4, &[]));
        buf.extend_from_slice(&frame(5, &[0, 2, 0, 1]));
        buf.extend_from_slice(&frame(4, &[])[..10]);
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(Message::Keepalive));
        assert!(matches!(codec.decode(&mut buf).unwrap(), Some(Message::RouteRefresh(_))));
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert_eq!(buf.len(), 10);
    }

    #[test]
    fn bad_marker_is_rejected_before_the_header_is_complete() {
        let codec = BgpCodec::default();
        let mut buf = BytesMut::from(&[0xff, 0xff, 0x00][..]);
        assert_eq!(codec.decode_frame(&mut buf), Err(DecodeError::ConnectionNotSynchronized));
    }

    #[test]
    fn header_is_validated_before_waiting_for_the_body() {
        let codec = BgpCodec::default();
        // Claims 5000 octets on a 4096-octet session: rejected with only the header in.
        let mut buf = BytesMut::from(&frame(2, &[0; 4])[..19]);
        buf[16..18].copy_from_slice(&5000u16.to_be_bytes());
        assert_eq!(codec.decode_frame(&mut buf), Err(DecodeError::BadMessageLength(5000)));
        let mut buf = BytesMut::from(&frame(7, &[])[..]);
        assert_eq!(codec.decode_frame(&mut buf), Err(DecodeError::BadMessageType(7)));
    }

    #[test]
    fn frames_share_the_read_buffer_memory() {
        let codec = BgpCodec::default();
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(&frame(4, &[]));
        buf.extend_from_slice(&frame(4, &[]));
        let base = buf.as_ptr();
        let first = codec.decode_frame(&mut buf).unwrap().unwrap();
        assert_eq!(first.as_ptr(), base, "split off, not copied");
        assert_eq!(first.len(), 19);
        assert_eq!(buf.len(), 19);
    }

    #[test]
    fn partial_body_reserves_room_for_the_rest() {
        let codec = BgpCodec::default();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&frame(3, &[0; 200])[..19]);
        assert_eq!(codec.decode_frame(&mut buf), Ok(None));
        assert!(buf.capacity() >= 219);
    }

    #[test]
    fn encoders_write_whole_messages() {
        let mut codec = BgpCodec::default();
        let mut out = BytesMut::new();
        codec.encode(Message::Keepalive, &mut out).unwrap();
        codec.encode(&Message::Keepalive, &mut out).unwrap();
        codec.encode(frame(4, &[]), &mut out).unwrap();
        assert_eq!(out.len(), 57);
        for _ in 0..3 {
            assert_eq!(codec.decode(&mut out).unwrap(), Some(Message::Keepalive));
        }
    }

    #[test]
    fn encode_error_is_reported() {
        let mut codec = BgpCodec::default();
        let mut out = BytesMut::new();
        let n = Notification { code: 6, subcode: 0, data: Bytes::from(vec![0; 5000]) };
        let err = codec.encode(Message::Notification(n), &mut out).unwrap_err();
        assert!(matches!(err, CodecError::Encode(EncodeError::MessageTooLong { .. })));
        assert!(out.is_empty());
    }
}
