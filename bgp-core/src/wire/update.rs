//! UPDATE message (RFC 4271 §4.3) with MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 §3, §4).
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```
use std::net::{IpAddr, Ipv6Addr};

use serde::Serialize;

use super::attributes::PathAttributes;
use super::error::AttributeIssue;
use super::family::Family;
use super::nlri::Nlri;

/// Next hop of MP_REACH_NLRI: IPv4, IPv6 global, IPv6 global + link-local (RFC 2545 §3), or
/// an IPv6 next hop for IPv4 NLRI (RFC 8950).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct MpNextHop {
    pub global: IpAddr,
    pub link_local: Option<Ipv6Addr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MpReach {
    pub family: Family,
    pub next_hop: MpNextHop,
    pub nlri: Vec<Nlri>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MpUnreach {
    pub family: Family,
    pub withdrawn: Vec<Nlri>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Update {
    /// IPv4 unicast withdrawn routes (the classic field).
    pub withdrawn: Vec<Nlri>,
    pub attributes: PathAttributes,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    /// IPv4 unicast NLRI (the classic field).
    pub nlri: Vec<Nlri>,
    /// RFC 7606 problems survived while decoding (ignored by the encoder). When one of them is
    /// treat-as-withdraw, the decoder has already moved every NLRI into `withdrawn` /
    /// `mp_unreach`, so the UPDATE reads as the explicit withdrawal it stands for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<AttributeIssue>,
}

impl Update {
    /// The End-of-RIB marker for `family` (RFC 4724 §2): an empty UPDATE for IPv4 unicast,
    /// an UPDATE with only an empty MP_UNREACH_NLRI otherwise.
    pub fn end_of_rib(family: Family) -> Self {
        if family == Family::IPV4_UNICAST {
            Update::default()
        } else {
            Update {
                mp_unreach: Some(MpUnreach { family, withdrawn: Vec::new() }),
                ..Default::default()
            }
        }
    }

    /// If this UPDATE is an End-of-RIB marker, its family.
    pub fn end_of_rib_family(&self) -> Option<Family> {
        let no_attrs = self.attributes == PathAttributes::default();
        if !self.withdrawn.is_empty()
            || !self.nlri.is_empty()
            || self.mp_reach.is_some()
            || !no_attrs
        {
            return None;
        }
        match &self.mp_unreach {
            None => Some(Family::IPV4_UNICAST),
            Some(u) if u.withdrawn.is_empty() => Some(u.family),
            Some(_) => None,
        }
    }
}
