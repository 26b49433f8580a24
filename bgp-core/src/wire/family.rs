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

/// The one spelling of a family name (`ipv4_unicast`, `ipv6_unicast`, `afi25_safi70`): logs,
/// `bgpctl`, the control socket and the configuration all use it, and [`FromStr`] reads it back.
///
/// [`FromStr`]: std::str::FromStr
impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Family::IPV4_UNICAST => f.write_str("ipv4_unicast"),
            Family::IPV6_UNICAST => f.write_str("ipv6_unicast"),
            Family { afi, safi } => write!(f, "afi{afi}_safi{safi}"),
        }
    }
}

/// Parses what [`Family`]'s `Display` prints (`ipv4_unicast`, `ipv6_unicast`, `afi1_safi1`),
/// plus the short forms `ipv4`, `ipv6`, `ipv4-unicast` and `AFI/SAFI` (e.g. `2/1`).
impl std::str::FromStr for Family {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase().replace('-', "_");
        match lower.as_str() {
            "ipv4" | "ipv4_unicast" => return Ok(Family::IPV4_UNICAST),
            "ipv6" | "ipv6_unicast" => return Ok(Family::IPV6_UNICAST),
            _ => {}
        }
        let numeric = lower
            .strip_prefix("afi")
            .and_then(|rest| rest.split_once("_safi"))
            .or_else(|| lower.split_once('/'));
        if let Some((afi, safi)) = numeric {
            if let (Ok(afi), Ok(safi)) = (afi.parse::<Afi>(), safi.parse::<Safi>()) {
                return Ok(Family::new(afi, safi));
            }
        }
        Err(format!("unknown address family {s:?} (try ipv4_unicast, ipv6_unicast or AFI/SAFI)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_parses_display_and_short_forms() {
        for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST, Family::new(25, 70)] {
            assert_eq!(f.to_string().parse::<Family>(), Ok(f));
        }
        assert_eq!("ipv4".parse::<Family>(), Ok(Family::IPV4_UNICAST));
        assert_eq!("IPv6-Unicast".parse::<Family>(), Ok(Family::IPV6_UNICAST));
        assert_eq!("2/1".parse::<Family>(), Ok(Family::IPV6_UNICAST));
        assert_eq!(Family::IPV6_UNICAST.to_string(), "ipv6_unicast");
        assert_eq!(Family::new(25, 70).to_string(), "afi25_safi70");
        assert!("ipx".parse::<Family>().is_err());
        assert!("1/300".parse::<Family>().is_err());
    }
}
