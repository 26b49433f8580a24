//! [`EncodeError`]: why a message could not be encoded.

/// Why a message could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The message would exceed the negotiated maximum size (RFC 4271 §4.1, RFC 8654).
    MessageTooLong {
        /// The length the message would have had, in octets.
        len: usize,
        /// The negotiated maximum, in octets.
        max: usize,
    },
    /// A field does not fit its wire encoding (e.g. more than 255 ASNs in a segment).
    FieldTooLong(&'static str),
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodeError::MessageTooLong { len, max } => {
                write!(f, "message of {len} octets exceeds the maximum of {max}")
            }
            EncodeError::FieldTooLong(what) => write!(f, "{what} too long for its wire encoding"),
        }
    }
}

impl std::error::Error for EncodeError {}
