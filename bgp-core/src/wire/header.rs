//! Message header (RFC 4271 §4.1).
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           Marker (16 octets, all ones)        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Length               |      Type     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
pub const HEADER_LEN: usize = 19;
pub const MARKER: [u8; 16] = [0xff; 16];

use bytes::{BufMut, BytesMut};

use super::message::MessageType;

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
pub fn finish_message(
    out: &mut BytesMut,
    start: usize,
    max_len: usize,
) -> Result<(), super::error::EncodeError> {
    let len = out.len() - start;
    if len > max_len || len > u16::MAX as usize {
        out.truncate(start);
        return Err(super::error::EncodeError::MessageTooLong { len, max: max_len });
    }
    out[start + 16..start + 18].copy_from_slice(&(len as u16).to_be_bytes());
    Ok(())
}
