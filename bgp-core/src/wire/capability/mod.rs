//! Capabilities advertisement (RFC 5492) and the capabilities a cluster speaker meets.
//!
//! Codes: 1 multiprotocol (RFC 4760), 2 route refresh (RFC 2918), 5 extended next hop
//! (RFC 8950), 6 extended message (RFC 8654), 64 graceful restart (RFC 4724), 65 4-octet AS
//! (RFC 6793), 69 ADD-PATH (RFC 7911), 70 enhanced route refresh (RFC 7313), 73 FQDN
//! (draft-walton-bgp-hostname-capability). Anything else is kept as raw bytes.
//!
//! This file holds the [`Capability`] enum; `codec.rs` the TLV list and the dispatch to one
//! file per capability family with a value of its own (`multiprotocol.rs`,
//! `extended_next_hop.rs`, `graceful_restart.rs`, `add_path.rs`, `fqdn.rs`); `codes.rs` the
//! codes; `tlv.rs` the framing.
use bytes::Bytes;
use serde::Serialize;

use super::family::Family;

mod add_path;
mod codec;
mod codes;
mod extended_next_hop;
mod fqdn;
mod graceful_restart;
mod multiprotocol;
mod tlv;

pub use add_path::{AddPathEntry, AddPathMode};
pub use codec::{decode_capabilities, encode_capabilities};
pub use codes::*;
pub use extended_next_hop::ExtendedNextHopEntry;
pub use graceful_restart::GracefulRestartCap;

/// One capability of an OPEN, interpreted when this speaker knows its code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Capability {
    /// Multiprotocol (RFC 4760): the family the sender can exchange.
    Multiprotocol(Family),
    /// Route refresh (RFC 2918).
    RouteRefresh,
    /// Extended next hop (RFC 8950).
    ExtendedNextHop(Vec<ExtendedNextHopEntry>),
    /// Extended message (RFC 8654): messages up to 65535 octets.
    ExtendedMessage,
    /// Graceful restart (RFC 4724).
    GracefulRestart(GracefulRestartCap),
    /// 4-octet AS (RFC 6793), with the sender's AS number.
    FourOctetAs(u32),
    /// ADD-PATH (RFC 7911).
    AddPath(Vec<AddPathEntry>),
    /// Enhanced route refresh (RFC 7313).
    EnhancedRouteRefresh,
    /// FQDN (draft-walton-bgp-hostname-capability), informational.
    Fqdn {
        /// The sender's host name.
        hostname: String,
        /// The sender's domain name (often empty).
        domain: String,
    },
    /// A capability not understood (or one its RFC asks to ignore when malformed), kept as
    /// raw bytes.
    Unknown {
        /// Its code.
        code: u8,
        /// Its value, as received.
        #[serde(serialize_with = "crate::wire::notification::serialize_hex")]
        value: Bytes,
    },
}

impl Capability {
    /// The capability code (RFC 5492 §4, IANA "Capability Codes").
    pub fn code(&self) -> u8 {
        match self {
            Capability::Multiprotocol(_) => CAP_MULTIPROTOCOL,
            Capability::RouteRefresh => CAP_ROUTE_REFRESH,
            Capability::ExtendedNextHop(_) => CAP_EXTENDED_NEXT_HOP,
            Capability::ExtendedMessage => CAP_EXTENDED_MESSAGE,
            Capability::GracefulRestart(_) => CAP_GRACEFUL_RESTART,
            Capability::FourOctetAs(_) => CAP_FOUR_OCTET_AS,
            Capability::AddPath(_) => CAP_ADD_PATH,
            Capability::EnhancedRouteRefresh => CAP_ENHANCED_ROUTE_REFRESH,
            Capability::Fqdn { .. } => CAP_FQDN,
            Capability::Unknown { code, .. } => *code,
        }
    }
}

#[cfg(test)]
mod tests;
