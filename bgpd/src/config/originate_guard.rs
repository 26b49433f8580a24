//! Prefixes this node must not originate with a blackhole route: a blackhole for the default
//! route or for the multicast, loopback or link-local ranges cuts the node off, and the route
//! outlives bgpd (it stays in the kernel under graceful restart). `--check` refuses them in
//! `originate`, the datastore mapping skips such IPAM blocks and IP pools, unless
//! `allow_dangerous_originate: true`.
//!
//! A prefix holding one of the node's session addresses is only a warning: the node's own
//! addresses are in the `local` table, which a main-table blackhole cannot override, and a
//! neighbour on a connected subnet more specific than the prefix is reached through that
//! subnet's route. It hurts only when the neighbour is reached through a route less specific
//! than the originated prefix (see [`OWN_ADDRESS_CAVEAT`]).
use std::net::IpAddr;

use ipnet::IpNet;

/// Ranges no node's Pod CIDR may overlap, with what they are.
const RESERVED: &[(&str, &str)] = &[
    ("224.0.0.0/4", "the IPv4 multicast range"),
    ("127.0.0.0/8", "the IPv4 loopback range"),
    ("169.254.0.0/16", "the IPv4 link-local range"),
    ("ff00::/8", "the IPv6 multicast range"),
    ("::1/128", "the IPv6 loopback address"),
    ("fe80::/10", "the IPv6 link-local range"),
];

/// Why originating `prefix` is dangerous on its own (a default route, or an overlap with a
/// reserved range); `None` when it is not.
pub fn reserved_danger(prefix: &IpNet) -> Option<String> {
    if prefix.prefix_len() == 0 {
        return Some(format!("{prefix} is a default route"));
    }
    RESERVED.iter().find_map(|(range, what)| {
        let range: IpNet = range.parse().ok()?;
        overlaps(prefix, &range).then(|| format!("{prefix} overlaps {what} {range}"))
    })
}

/// `prefix` holds one of `own` (this node's session addresses, each with what it is): worth a
/// warning ([`OWN_ADDRESS_CAVEAT`]), not a refusal.
pub fn holds_own_address(prefix: &IpNet, own: &[(IpAddr, String)]) -> Option<String> {
    own.iter()
        .find(|(addr, _)| prefix.contains(addr))
        .map(|(addr, what)| format!("{prefix} holds {addr}, {what}"))
}

/// What a blackhole route for a dangerous prefix does, for messages.
pub const CONSEQUENCE: &str = "its blackhole route would cut this node off and outlive bgpd";

/// When a blackhole for a prefix holding a session address hurts, for messages.
pub const OWN_ADDRESS_CAVEAT: &str = "its blackhole route does not affect this node's own \
    addresses (local table) nor a neighbour on a connected subnet more specific than the \
    prefix, but cuts off a neighbour reached only through a route less specific than it";

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    #[test]
    fn reserved_ranges_and_their_supernets_are_dangerous() {
        for prefix in [
            "0.0.0.0/0",
            "::/0",
            "224.0.0.0/4",
            "239.1.0.0/16",
            "128.0.0.0/1",
            "127.0.0.0/8",
            "127.0.0.1/32",
            "169.254.0.0/16",
            "ff02::/16",
            "::/8",
            "fe80::/64",
        ] {
            assert!(reserved_danger(&net(prefix)).is_some(), "{prefix}");
        }
        for prefix in ["10.244.0.0/16", "198.19.1.0/26", "2001:db8:100::/48", "fd00::/8"] {
            assert_eq!(reserved_danger(&net(prefix)), None, "{prefix}");
        }
    }

    #[test]
    fn a_prefix_holding_an_own_address_is_noticed_but_not_reserved() {
        let own = [("198.18.0.1".parse().unwrap(), "the listen address".to_string())];
        assert_eq!(
            holds_own_address(&net("198.18.0.0/16"), &own).as_deref(),
            Some("198.18.0.0/16 holds 198.18.0.1, the listen address")
        );
        assert_eq!(holds_own_address(&net("198.19.0.0/16"), &own), None);
        assert_eq!(reserved_danger(&net("198.18.0.0/16")), None);
    }
}
