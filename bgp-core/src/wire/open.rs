//! OPEN message (RFC 4271 §4.2) with optional parameters (RFC 5492) and the RFC 9072
//! extended optional parameters length.
use std::net::Ipv4Addr;

use bytes::Bytes;
use serde::Serialize;

use super::capability::Capability;

/// AS_TRANS (RFC 6793 §9): what a 4-octet AS speaker puts in "My Autonomous System" when its
/// AS does not fit in two octets.
pub const AS_TRANS: u16 = 23456;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Open {
    pub version: u8,
    /// The 2-octet "My Autonomous System" field as sent (AS_TRANS for large ASNs).
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    /// Optional parameters in wire order (keeps the sender's grouping of capabilities).
    pub params: Vec<OptionalParameter>,
    /// The sender used the RFC 9072 extended optional parameters length encoding.
    pub extended_params: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum OptionalParameter {
    /// Parameter type 2 (RFC 5492).
    Capabilities(Vec<Capability>),
    /// Any other parameter type, kept raw.
    Unknown {
        param_type: u8,
        #[serde(serialize_with = "crate::wire::notification::serialize_hex")]
        value: Bytes,
    },
}

impl Open {
    /// An OPEN for `asn` (AS_TRANS goes in the 2-octet field when needed; the caller adds the
    /// 4-octet AS capability), with all capabilities in one optional parameter.
    pub fn new(asn: u32, hold_time: u16, bgp_id: Ipv4Addr, capabilities: Vec<Capability>) -> Self {
        let my_as = u16::try_from(asn).unwrap_or(AS_TRANS);
        Open {
            version: 4,
            my_as,
            hold_time,
            bgp_id,
            params: vec![OptionalParameter::Capabilities(capabilities)],
            extended_params: false,
        }
    }

    /// Every capability, across all capability parameters.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> {
        self.params.iter().flat_map(|p| match p {
            OptionalParameter::Capabilities(c) => c.as_slice(),
            OptionalParameter::Unknown { .. } => &[],
        })
    }

    /// The speaker's AS: the 4-octet AS capability if present (RFC 6793 §3), else `my_as`.
    pub fn asn(&self) -> u32 {
        self.capabilities()
            .find_map(|c| match c {
                Capability::FourOctetAs(a) => Some(*a),
                _ => None,
            })
            .unwrap_or(self.my_as as u32)
    }
}
