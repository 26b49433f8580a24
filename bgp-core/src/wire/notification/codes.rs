//! NOTIFICATION Error codes (RFC 4271 §4.5) and the subcodes this daemon sends or names:
//! RFC 6608 FSM errors, RFC 4486 Cease subcodes, RFC 8538 Hard Reset; [`describe`] gives the
//! IANA registry's text for any code/subcode pair.
pub const MESSAGE_HEADER_ERROR: u8 = 1;
pub const OPEN_MESSAGE_ERROR: u8 = 2;
pub const UPDATE_MESSAGE_ERROR: u8 = 3;
pub const HOLD_TIMER_EXPIRED: u8 = 4;
pub const FSM_ERROR: u8 = 5;
pub const CEASE: u8 = 6;
pub const ROUTE_REFRESH_MESSAGE_ERROR: u8 = 7;

/// RFC 6608 FSM error subcodes.
pub const FSM_UNEXPECTED_IN_OPENSENT: u8 = 1;
pub const FSM_UNEXPECTED_IN_OPENCONFIRM: u8 = 2;
pub const FSM_UNEXPECTED_IN_ESTABLISHED: u8 = 3;

/// RFC 4486 Cease subcodes, RFC 8538 Hard Reset.
pub const CEASE_MAX_PREFIXES: u8 = 1;
pub const CEASE_ADMIN_SHUTDOWN: u8 = 2;
pub const CEASE_PEER_DECONFIGURED: u8 = 3;
pub const CEASE_ADMIN_RESET: u8 = 4;
pub const CEASE_CONNECTION_REJECTED: u8 = 5;
pub const CEASE_OTHER_CONFIG_CHANGE: u8 = 6;
pub const CEASE_CONNECTION_COLLISION: u8 = 7;
pub const CEASE_OUT_OF_RESOURCES: u8 = 8;
pub const CEASE_HARD_RESET: u8 = 9;

/// Human text for a code/subcode pair, as in the IANA registry.
pub fn describe(code: u8, subcode: u8) -> &'static str {
    match (code, subcode) {
        (1, 1) => "Message Header Error / Connection Not Synchronized",
        (1, 2) => "Message Header Error / Bad Message Length",
        (1, 3) => "Message Header Error / Bad Message Type",
        (1, _) => "Message Header Error",
        (2, 1) => "OPEN Message Error / Unsupported Version Number",
        (2, 2) => "OPEN Message Error / Bad Peer AS",
        (2, 3) => "OPEN Message Error / Bad BGP Identifier",
        (2, 4) => "OPEN Message Error / Unsupported Optional Parameter",
        (2, 6) => "OPEN Message Error / Unacceptable Hold Time",
        (2, 7) => "OPEN Message Error / Unsupported Capability",
        (2, 11) => "OPEN Message Error / Role Mismatch",
        (2, _) => "OPEN Message Error",
        (3, 1) => "UPDATE Message Error / Malformed Attribute List",
        (3, 2) => "UPDATE Message Error / Unrecognized Well-known Attribute",
        (3, 3) => "UPDATE Message Error / Missing Well-known Attribute",
        (3, 4) => "UPDATE Message Error / Attribute Flags Error",
        (3, 5) => "UPDATE Message Error / Attribute Length Error",
        (3, 6) => "UPDATE Message Error / Invalid ORIGIN Attribute",
        (3, 8) => "UPDATE Message Error / Invalid NEXT_HOP Attribute",
        (3, 9) => "UPDATE Message Error / Optional Attribute Error",
        (3, 10) => "UPDATE Message Error / Invalid Network Field",
        (3, 11) => "UPDATE Message Error / Malformed AS_PATH",
        (3, _) => "UPDATE Message Error",
        (4, _) => "Hold Timer Expired",
        (5, 1) => "FSM Error / Unexpected message in OpenSent",
        (5, 2) => "FSM Error / Unexpected message in OpenConfirm",
        (5, 3) => "FSM Error / Unexpected message in Established",
        (5, _) => "Finite State Machine Error",
        (6, 1) => "Cease / Maximum Number of Prefixes Reached",
        (6, 2) => "Cease / Administrative Shutdown",
        (6, 3) => "Cease / Peer De-configured",
        (6, 4) => "Cease / Administrative Reset",
        (6, 5) => "Cease / Connection Rejected",
        (6, 6) => "Cease / Other Configuration Change",
        (6, 7) => "Cease / Connection Collision Resolution",
        (6, 8) => "Cease / Out of Resources",
        (6, 9) => "Cease / Hard Reset",
        (6, _) => "Cease",
        (7, 1) => "ROUTE-REFRESH Message Error / Invalid Message Length",
        (7, _) => "ROUTE-REFRESH Message Error",
        _ => "Unknown error code",
    }
}
