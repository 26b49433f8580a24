//! [`DecodeError`]: why a received message resets the session, one variant per NOTIFICATION
//! (code, subcode) of RFC 4271 §6 and RFC 7313 §5. The mapping to the NOTIFICATION itself is
//! in `notification_mapping.rs`.
use bytes::Bytes;
use serde::Serialize;

use crate::wire::notification::codes;

/// A fatal decoding error. `Notification::from(&err)` is what goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DecodeError {
    // --- RFC 4271 §6.1 Message Header error handling (code 1) ---
    /// The marker is not all ones (subcode 1).
    ConnectionNotSynchronized,
    /// Length field out of range for the type (subcode 2); data = the erroneous length.
    BadMessageLength(u16),
    /// Type field not recognised (subcode 3); data = the type.
    BadMessageType(u8),

    // --- RFC 4271 §6.2 OPEN message error handling (code 2) ---
    /// subcode 1; data = largest supported version (2 octets).
    UnsupportedVersion(u8),
    /// subcode 2.
    BadPeerAs,
    /// subcode 3.
    BadBgpIdentifier,
    /// subcode 4.
    UnsupportedOptionalParameter(u8),
    /// subcode 6.
    UnacceptableHoldTime(u16),
    /// subcode 7 (RFC 5492 §5); data = the capabilities not supported.
    UnsupportedCapability(Bytes),
    /// An OPEN whose optional parameters or capabilities do not parse: RFC 4271 §6.2 gives no
    /// better subcode than 0 (unspecific), as BIRD and FRR send.
    MalformedOpen(&'static str),

    // --- RFC 4271 §6.3 UPDATE message error handling (code 3) ---
    /// subcode 1: lengths of withdrawn/attributes fields inconsistent, duplicate MP attributes.
    MalformedAttributeList,
    /// subcode 2; data = the attribute.
    UnrecognizedWellKnownAttribute(Bytes),
    /// subcode 3; data = the missing type code.
    MissingWellKnownAttribute(u8),
    /// subcode 4; data = the attribute.
    AttributeFlagsError(Bytes),
    /// subcode 5; data = the attribute.
    AttributeLengthError(Bytes),
    /// subcode 6; data = the attribute.
    InvalidOrigin(Bytes),
    /// subcode 8; data = the attribute.
    InvalidNextHop(Bytes),
    /// subcode 9; data = the attribute.
    OptionalAttributeError(Bytes),
    /// subcode 10: NLRI field malformed (RFC 7606 §5.3: reset when NLRI cannot be parsed).
    InvalidNetworkField,
    /// subcode 11.
    MalformedAsPath,

    // --- RFC 7313 §5 (code 7) ---
    /// ROUTE-REFRESH with a bad length; data = the message.
    RouteRefreshInvalidLength(Bytes),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (c, s) = self.code_subcode();
        write!(f, "{self:?} (NOTIFICATION {c}/{s}: {})", codes::describe(c, s))
    }
}

impl std::error::Error for DecodeError {}
