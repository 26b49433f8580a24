//! Typed decode errors and the RFC 7606 actions.
//!
//! A [`DecodeError`] always means "reset the session": it converts straight into the
//! NOTIFICATION (code, subcode, data) that RFC 4271 §6 names. Errors that RFC 7606 lets a
//! speaker survive are not `DecodeError`s: they are [`AttributeIssue`]s carried on the decoded
//! UPDATE, with the [`AttributeAction`] taken.
use bytes::Bytes;
use serde::Serialize;

use super::notification::{codes, Notification};

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

impl DecodeError {
    /// (code, subcode) of the NOTIFICATION this error produces.
    pub fn code_subcode(&self) -> (u8, u8) {
        use codes::*;
        use DecodeError::*;
        match self {
            ConnectionNotSynchronized => (MESSAGE_HEADER_ERROR, 1),
            BadMessageLength(_) => (MESSAGE_HEADER_ERROR, 2),
            BadMessageType(_) => (MESSAGE_HEADER_ERROR, 3),
            UnsupportedVersion(_) => (OPEN_MESSAGE_ERROR, 1),
            BadPeerAs => (OPEN_MESSAGE_ERROR, 2),
            BadBgpIdentifier => (OPEN_MESSAGE_ERROR, 3),
            UnsupportedOptionalParameter(_) => (OPEN_MESSAGE_ERROR, 4),
            UnacceptableHoldTime(_) => (OPEN_MESSAGE_ERROR, 6),
            UnsupportedCapability(_) => (OPEN_MESSAGE_ERROR, 7),
            MalformedOpen(_) => (OPEN_MESSAGE_ERROR, 0),
            MalformedAttributeList => (UPDATE_MESSAGE_ERROR, 1),
            UnrecognizedWellKnownAttribute(_) => (UPDATE_MESSAGE_ERROR, 2),
            MissingWellKnownAttribute(_) => (UPDATE_MESSAGE_ERROR, 3),
            AttributeFlagsError(_) => (UPDATE_MESSAGE_ERROR, 4),
            AttributeLengthError(_) => (UPDATE_MESSAGE_ERROR, 5),
            InvalidOrigin(_) => (UPDATE_MESSAGE_ERROR, 6),
            InvalidNextHop(_) => (UPDATE_MESSAGE_ERROR, 8),
            OptionalAttributeError(_) => (UPDATE_MESSAGE_ERROR, 9),
            InvalidNetworkField => (UPDATE_MESSAGE_ERROR, 10),
            MalformedAsPath => (UPDATE_MESSAGE_ERROR, 11),
            RouteRefreshInvalidLength(_) => (ROUTE_REFRESH_MESSAGE_ERROR, 1),
        }
    }

    /// The NOTIFICATION data field the RFC asks for.
    pub fn data(&self) -> Bytes {
        use DecodeError::*;
        match self {
            BadMessageLength(len) => Bytes::copy_from_slice(&len.to_be_bytes()),
            BadMessageType(t) => Bytes::copy_from_slice(&[*t]),
            // RFC 4271 §6.2: "the largest, locally-supported version number less than the
            // version the remote BGP peer bid".
            UnsupportedVersion(_) => Bytes::from_static(&[0, 4]),
            MissingWellKnownAttribute(t) => Bytes::copy_from_slice(&[*t]),
            UnsupportedCapability(d)
            | UnrecognizedWellKnownAttribute(d)
            | AttributeFlagsError(d)
            | AttributeLengthError(d)
            | InvalidOrigin(d)
            | InvalidNextHop(d)
            | OptionalAttributeError(d)
            | RouteRefreshInvalidLength(d) => d.clone(),
            _ => Bytes::new(),
        }
    }
}

impl From<&DecodeError> for Notification {
    fn from(e: &DecodeError) -> Self {
        let (code, subcode) = e.code_subcode();
        Notification { code, subcode, data: e.data() }
    }
}

impl From<DecodeError> for Notification {
    fn from(e: DecodeError) -> Self {
        Notification::from(&e)
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (c, s) = self.code_subcode();
        write!(f, "{self:?} (NOTIFICATION {c}/{s}: {})", codes::describe(c, s))
    }
}

impl std::error::Error for DecodeError {}

/// What RFC 7606 §2 tells a speaker to do with a malformed attribute it can survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AttributeAction {
    /// "attribute discard": drop the attribute, process the UPDATE.
    Discard,
    /// "treat-as-withdraw": every NLRI of the UPDATE is withdrawn.
    TreatAsWithdraw,
}

/// A malformed attribute that did not reset the session, and what was done about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttributeIssue {
    /// The attribute's type code.
    pub type_code: u8,
    pub action: AttributeAction,
    /// Short reason, for logs and `bgpctl decode`.
    pub reason: &'static str,
}

/// Why a message could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The message would exceed the negotiated maximum size (RFC 4271 §4.1, RFC 8654).
    MessageTooLong { len: usize, max: usize },
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
