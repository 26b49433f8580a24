//! From a [`DecodeError`] to the NOTIFICATION (code, subcode, data) RFC 4271 §6 asks for.
use bytes::Bytes;

use super::DecodeError;
use crate::wire::notification::{codes, Notification};

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
