//! NOTIFICATION message (RFC 4271 §4.5): decoding, encoding, the shutdown communication
//! (RFC 8203 / RFC 9003) and the Hard Reset encapsulation (RFC 8538). The error codes and
//! subcodes are in [`codes`].
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Error code    | Error subcode |   Data (variable)             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::be_u8;
use nom::Parser;
use serde::Serialize;

use super::error::DecodeError;

pub mod codes;

/// A NOTIFICATION: error code, subcode and data. `Display` prints the codes, their IANA
/// names and the shutdown communication, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    #[serde(serialize_with = "crate::wire::notification::serialize_hex")]
    pub data: Bytes,
}

pub(crate) fn serialize_hex<S: serde::Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    let mut out = String::with_capacity(b.len() * 2);
    for byte in b.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    s.serialize_str(&out)
}

impl Notification {
    pub fn new(code: u8, subcode: u8) -> Self {
        Notification { code, subcode, data: Bytes::new() }
    }

    pub fn hold_timer_expired() -> Self {
        Self::new(codes::HOLD_TIMER_EXPIRED, 0)
    }

    /// Cease with an RFC 8203 shutdown communication (Administrative Shutdown or Reset):
    /// one length octet then up to 255 octets of UTF-8 (RFC 9003 §2 raised the limit to 255).
    /// A Cease / Hard Reset carries no message: RFC 8538 §3 gives its data portion to the
    /// encapsulated NOTIFICATION, so a bare Hard Reset goes out with empty data.
    pub fn cease_with_message(subcode: u8, message: &str) -> Self {
        if subcode == codes::CEASE_HARD_RESET {
            return Self::new(codes::CEASE, subcode);
        }
        let mut text = message.as_bytes();
        if text.len() > 255 {
            // Cut at a char boundary at or below 255 octets.
            let mut end = 255;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            text = &message.as_bytes()[..end];
        }
        let mut data = Vec::with_capacity(1 + text.len());
        if !text.is_empty() {
            data.push(text.len() as u8);
            data.extend_from_slice(text);
        }
        Notification { code: codes::CEASE, subcode, data: Bytes::from(data) }
    }

    /// The RFC 8203 shutdown communication carried by an Administrative Shutdown/Reset Cease
    /// (also inside a Hard Reset, RFC 8538), if present and well-formed UTF-8.
    pub fn shutdown_message(&self) -> Option<&str> {
        if self.is_hard_reset() {
            let (&[code, subcode], data) = self.data.split_first_chunk::<2>()?;
            return shutdown_text(code, subcode, data);
        }
        shutdown_text(self.code, self.subcode, &self.data)
    }

    /// Cease / Hard Reset (RFC 8538 §3).
    pub fn is_hard_reset(&self) -> bool {
        self.code == codes::CEASE && self.subcode == codes::CEASE_HARD_RESET
    }

    /// RFC 8538 §3: the Hard Reset that encapsulates `inner`. "the data portion ... contains
    /// the encapsulated NOTIFICATION's error code and subcode followed by its data":
    ///
    /// ```text
    /// +--------+--------+--------
    /// | ErrCode| Subcode| Data
    /// +--------+--------+--------
    /// ```
    ///
    /// A Hard Reset is returned unchanged, whether it encapsulates a NOTIFICATION or is bare
    /// (never encapsulated twice: "the encapsulated ... is the actual reason", and a Hard
    /// Reset is not a reason of its own).
    pub fn hard_reset(inner: &Notification) -> Notification {
        if inner.is_hard_reset() {
            return inner.clone();
        }
        let mut data = BytesMut::with_capacity(2 + inner.data.len());
        inner.encode_body(&mut data);
        Notification { code: codes::CEASE, subcode: codes::CEASE_HARD_RESET, data: data.freeze() }
    }

    /// The NOTIFICATION a Hard Reset encapsulates (RFC 8538 §3); `None` for any other
    /// NOTIFICATION, or a Hard Reset whose data is shorter than a code and a subcode.
    pub fn encapsulated(&self) -> Option<Notification> {
        if !self.is_hard_reset() || self.data.len() < 2 {
            return None;
        }
        Some(Notification { code: self.data[0], subcode: self.data[1], data: self.data.slice(2..) })
    }

    pub fn describe(&self) -> &'static str {
        codes::describe(self.code, self.subcode)
    }

    /// Decode a NOTIFICATION body (after the header): Error code, Error subcode, Data
    /// (RFC 4271 §4.5: "The length of the Data field can be determined from the message
    /// Length field"). The header check already guaranteed the two octets.
    pub fn decode(body: &Bytes) -> Result<Notification, DecodeError> {
        let (data, (code, subcode)) = (be_u8::<_, nom::error::Error<&[u8]>>, be_u8)
            .parse(body.as_ref())
            .map_err(|_| DecodeError::BadMessageLength(body.len().saturating_add(19) as u16))?;
        Ok(Notification { code, subcode, data: body.slice_ref(data) })
    }

    /// Encode the NOTIFICATION body (without the header).
    pub fn encode_body(&self, out: &mut BytesMut) {
        out.reserve(2 + self.data.len());
        out.put_u8(self.code);
        out.put_u8(self.subcode);
        out.put_slice(&self.data);
    }
}

/// RFC 8203 §2: the shutdown communication of an Administrative Shutdown or Reset Cease:
/// one length octet, then that many octets of UTF-8.
fn shutdown_text(code: u8, subcode: u8, data: &[u8]) -> Option<&str> {
    if code != codes::CEASE
        || !(subcode == codes::CEASE_ADMIN_SHUTDOWN || subcode == codes::CEASE_ADMIN_RESET)
    {
        return None;
    }
    let (&len, rest) = data.split_first()?;
    let text = rest.get(..len as usize)?;
    std::str::from_utf8(text).ok()
}

impl std::fmt::Display for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} {}", self.code, self.subcode, self.describe())?;
        if let Some(inner) = self.encapsulated() {
            write!(f, " ({}/{} {})", inner.code, inner.subcode, inner.describe())?;
        }
        if let Some(msg) = self.shutdown_message() {
            write!(f, ": \"{msg}\"")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::context::WireContext;
    use crate::wire::header::testing::{frame, hex};
    use crate::wire::message::{decode_message, Message};

    #[test]
    fn decode_and_encode_with_data() {
        let body = Bytes::from(hex("01 02 1001"));
        let n = Notification::decode(&body).unwrap();
        assert_eq!(n, Notification { code: 1, subcode: 2, data: Bytes::from(hex("1001")) });
        let mut out = BytesMut::new();
        n.encode_body(&mut out);
        assert_eq!(&out[..], &body[..]);
        assert_eq!(n.describe(), "Message Header Error / Bad Message Length");
    }

    #[test]
    fn hold_timer_expired_has_no_data() {
        let msg = Message::Notification(Notification::hold_timer_expired());
        let wire = msg.to_bytes(&WireContext::default()).unwrap();
        assert_eq!(wire, frame(3, &[4, 0]));
        assert_eq!(decode_message(wire, &WireContext::default()), Ok(msg));
    }

    #[test]
    fn rfc8203_shutdown_message_round_trip() {
        let n = Notification::cease_with_message(
            codes::CEASE_ADMIN_SHUTDOWN,
            "maintenance: node drain ✓",
        );
        let wire = Message::Notification(n.clone()).to_bytes(&WireContext::default()).unwrap();
        // code 6, subcode 2, length octet, UTF-8.
        assert_eq!(&wire[19..22], &[6, 2, "maintenance: node drain ✓".len() as u8]);
        let Ok(Message::Notification(back)) = decode_message(wire, &WireContext::default()) else {
            panic!("not a notification");
        };
        assert_eq!(back, n);
        assert_eq!(back.shutdown_message(), Some("maintenance: node drain ✓"));
        assert_eq!(
            back.to_string(),
            "6/2 Cease / Administrative Shutdown: \"maintenance: node drain ✓\""
        );
    }

    #[test]
    fn shutdown_message_is_cut_at_255_octets_on_a_char_boundary() {
        let long = "é".repeat(200); // 400 octets
        let n = Notification::cease_with_message(codes::CEASE_ADMIN_RESET, &long);
        assert_eq!(n.data[0], 254);
        assert_eq!(n.shutdown_message().map(str::len), Some(254));
    }

    #[test]
    fn hard_reset_encapsulates_the_notification_and_round_trips() {
        let inner = Notification::cease_with_message(codes::CEASE_ADMIN_SHUTDOWN, "bye");
        let hard = Notification::hard_reset(&inner);
        // RFC 8538 §3: Cease / Hard Reset, data = code, subcode, data of the inner one.
        assert_eq!((hard.code, hard.subcode), (6, 9));
        assert_eq!(&hard.data[..], &hex("06 02 03 627965")[..]);
        let wire = Message::Notification(hard.clone()).to_bytes(&WireContext::default()).unwrap();
        assert_eq!(wire, frame(3, &hex("06 09 06 02 03 627965")));
        let Ok(Message::Notification(back)) = decode_message(wire, &WireContext::default()) else {
            panic!("not a notification");
        };
        assert_eq!(back, hard);
        assert!(back.is_hard_reset());
        assert_eq!(back.encapsulated(), Some(inner));
        assert_eq!(back.shutdown_message(), Some("bye"));
        assert_eq!(
            back.to_string(),
            "6/9 Cease / Hard Reset (6/2 Cease / Administrative Shutdown): \"bye\""
        );
        // Never wrapped twice, a bare Hard Reset included; max-prefix data carried as is.
        assert_eq!(Notification::hard_reset(&hard), hard);
        let bare = Notification::new(6, 9);
        assert_eq!(Notification::hard_reset(&bare), bare);
        assert_eq!(Notification::cease_with_message(codes::CEASE_HARD_RESET, "bye"), bare);
        let max = Notification { code: 6, subcode: 1, data: Bytes::from(hex("0001 01 00000064")) };
        assert_eq!(Notification::hard_reset(&max).encapsulated(), Some(max));
    }

    #[test]
    fn truncated_or_other_notifications_encapsulate_nothing() {
        for (code, subcode, data) in [(6, 9, ""), (6, 9, "06"), (6, 2, "0602"), (3, 9, "0602")] {
            let n = Notification { code, subcode, data: Bytes::from(hex(data)) };
            assert_eq!(n.encapsulated(), None, "{code}/{subcode} {data}");
            assert_eq!(n.shutdown_message(), None);
        }
        // A Hard Reset with only code and subcode: inner data empty.
        let n = Notification { code: 6, subcode: 9, data: Bytes::from(hex("0601")) };
        assert_eq!(n.encapsulated(), Some(Notification::new(6, 1)));
    }

    #[test]
    fn malformed_shutdown_communication_is_not_shown() {
        // Length octet beyond the data, and invalid UTF-8.
        for data in ["05 6869", "02 ff fe"] {
            let n = Notification { code: 6, subcode: 2, data: Bytes::from(hex(data)) };
            assert_eq!(n.shutdown_message(), None, "{data}");
        }
        let other = Notification { code: 6, subcode: 3, data: Bytes::from(hex("02 6869")) };
        assert_eq!(other.shutdown_message(), None, "only subcodes 2 and 4 carry one");
    }
}
