//! Capabilities advertisement (RFC 5492) and the capabilities a cluster speaker meets.
//!
//! Codes: 1 multiprotocol (RFC 4760), 2 route refresh (RFC 2918), 5 extended next hop
//! (RFC 8950), 6 extended message (RFC 8654), 64 graceful restart (RFC 4724), 65 4-octet AS
//! (RFC 6793), 69 ADD-PATH (RFC 7911), 70 enhanced route refresh (RFC 7313), 73 FQDN
//! (draft-walton-bgp-hostname-capability). Anything else is kept as raw bytes.
use bytes::Bytes;
use serde::Serialize;

use super::family::Family;

pub const CAP_MULTIPROTOCOL: u8 = 1;
pub const CAP_ROUTE_REFRESH: u8 = 2;
pub const CAP_EXTENDED_NEXT_HOP: u8 = 5;
pub const CAP_EXTENDED_MESSAGE: u8 = 6;
pub const CAP_GRACEFUL_RESTART: u8 = 64;
pub const CAP_FOUR_OCTET_AS: u8 = 65;
pub const CAP_ADD_PATH: u8 = 69;
pub const CAP_ENHANCED_ROUTE_REFRESH: u8 = 70;
pub const CAP_FQDN: u8 = 73;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Capability {
    Multiprotocol(Family),
    RouteRefresh,
    ExtendedNextHop(Vec<ExtendedNextHopEntry>),
    ExtendedMessage,
    GracefulRestart(GracefulRestartCap),
    FourOctetAs(u32),
    AddPath(Vec<AddPathEntry>),
    EnhancedRouteRefresh,
    Fqdn {
        hostname: String,
        domain: String,
    },
    Unknown {
        code: u8,
        #[serde(serialize_with = "crate::wire::notification::serialize_hex")]
        value: Bytes,
    },
}

/// RFC 8950 §3: NLRI AFI (2), NLRI SAFI (2), Nexthop AFI (2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExtendedNextHopEntry {
    pub nlri_family: Family,
    pub next_hop_afi: u16,
}

/// RFC 4724 §3.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct GracefulRestartCap {
    /// R bit: the sender has restarted.
    pub restart_state: bool,
    /// N bit: RFC 8538 Notification-GR support.
    pub notification: bool,
    /// Restart time in seconds (12 bits).
    pub restart_time: u16,
    /// Per family: the F bit (forwarding state preserved).
    pub families: Vec<(Family, bool)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AddPathMode {
    Receive = 1,
    Send = 2,
    Both = 3,
}

/// RFC 7911 §4: AFI (2), SAFI (1), Send/Receive (1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AddPathEntry {
    pub family: Family,
    pub mode: AddPathMode,
}

impl AddPathMode {
    pub fn can_send(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }
    pub fn can_receive(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }
}
