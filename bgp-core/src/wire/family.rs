//! Address families: AFI/SAFI pairs (RFC 4760 §3, IANA registries).
use serde::{Deserialize, Serialize};

/// Address Family Identifier (IANA "Address Family Numbers").
pub type Afi = u16;
/// Subsequent Address Family Identifier (RFC 4760).
pub type Safi = u8;

pub const AFI_IPV4: Afi = 1;
pub const AFI_IPV6: Afi = 2;
pub const SAFI_UNICAST: Safi = 1;

/// An AFI/SAFI pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Family {
    pub afi: Afi,
    pub safi: Safi,
}

impl Family {
    pub const IPV4_UNICAST: Family = Family { afi: AFI_IPV4, safi: SAFI_UNICAST };
    pub const IPV6_UNICAST: Family = Family { afi: AFI_IPV6, safi: SAFI_UNICAST };

    pub const fn new(afi: Afi, safi: Safi) -> Self {
        Family { afi, safi }
    }

    /// Is this a family whose NLRI this crate decodes (IPv4/IPv6 unicast)?
    pub fn is_supported(self) -> bool {
        self == Self::IPV4_UNICAST || self == Self::IPV6_UNICAST
    }

    /// Maximum prefix length in bits for the family's addresses.
    pub fn max_prefix_len(self) -> u8 {
        if self.afi == AFI_IPV6 {
            128
        } else {
            32
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Family::IPV4_UNICAST => f.write_str("ipv4_unicast"),
            Family::IPV6_UNICAST => f.write_str("ipv6_unicast"),
            Family { afi, safi } => write!(f, "afi{afi}_safi{safi}"),
        }
    }
}
