//! The namespace's links and addresses, and "which interface reaches this next hop directly".
//!
//! A BGP next hop is usable for a route without encapsulation when it lies inside a subnet that
//! is configured on an interface that is up (the connected route the kernel derives from the
//! address). Link-local IPv6 next hops cannot be resolved this way and are reported unreachable.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::Parseable;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkHeader, LinkMessage};

/// Links (up or not) and the subnets configured on them.
#[derive(Debug, Default, Clone)]
pub struct Interfaces {
    up: HashMap<u32, bool>,
    names: HashMap<u32, String>,
    /// (interface, subnet of the address, the address itself)
    addresses: Vec<(u32, IpNet, IpAddr)>,
}

impl Interfaces {
    /// Applies an `RTM_NEWLINK` / `RTM_DELLINK` payload. Returns true when something changed.
    pub fn apply_link(&mut self, payload: &[u8], deleted: bool) -> bool {
        let Ok(header) = LinkHeader::parse(payload) else { return false };
        if deleted {
            self.addresses.retain(|(ifindex, _, _)| *ifindex != header.index);
            self.names.remove(&header.index);
            return self.up.remove(&header.index).is_some();
        }
        if let Ok(msg) = LinkMessage::parse(payload) {
            for attr in msg.attributes {
                if let LinkAttribute::IfName(name) = attr {
                    self.names.insert(header.index, name);
                }
            }
        }
        let up = header.flags.contains(LinkFlags::Up) && header.flags.contains(LinkFlags::LowerUp);
        self.up.insert(header.index, up) != Some(up)
    }

    /// Applies an `RTM_NEWADDR` / `RTM_DELADDR` payload. Returns true when something changed.
    pub fn apply_address(&mut self, payload: &[u8], deleted: bool) -> bool {
        let Ok(msg) = AddressMessage::parse(payload) else { return false };
        // IFA_LOCAL is the local address on point-to-point links, IFA_ADDRESS otherwise.
        let local = msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Local(ip) => Some(*ip),
            _ => None,
        });
        let address = msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        });
        let Some(ip) = local.or(address) else { return false };
        let Ok(net) = IpNet::new(address.unwrap_or(ip), msg.header.prefix_len) else {
            return false;
        };
        let entry = (msg.header.index, net.trunc(), ip);
        let before = self.addresses.len();
        self.addresses.retain(|e| *e != entry);
        if deleted {
            return self.addresses.len() != before;
        }
        self.addresses.push(entry);
        self.addresses.len() != before
    }

    /// The name of interface `ifindex` (empty when unknown).
    pub fn name(&self, ifindex: u32) -> &str {
        self.names.get(&ifindex).map(String::as_str).unwrap_or("")
    }

    /// The interface through which `next_hop` is directly reachable: the most specific
    /// connected subnet containing it on an interface that is up; never one of our own
    /// addresses.
    pub fn resolve(&self, next_hop: IpAddr) -> Option<u32> {
        if let IpAddr::V6(v6) = next_hop {
            if v6.segments().first().is_some_and(|s| s & 0xffc0 == 0xfe80) {
                return None;
            }
        }
        let mut best: Option<(u8, u32)> = None;
        for (ifindex, net, own) in &self.addresses {
            if *own == next_hop {
                return None;
            }
            if !net.contains(&next_hop) || !self.up.get(ifindex).copied().unwrap_or(false) {
                continue;
            }
            if best.is_none_or(|(len, _)| net.prefix_len() > len) {
                best = Some((net.prefix_len(), *ifindex));
            }
        }
        best.map(|(_, ifindex)| ifindex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(addresses: &[(u32, &str, &str)], up: &[(u32, bool)]) -> Interfaces {
        Interfaces {
            up: up.iter().copied().collect(),
            names: HashMap::new(),
            addresses: addresses
                .iter()
                .map(|(i, n, a)| (*i, n.parse().unwrap(), a.parse().unwrap()))
                .collect(),
        }
    }

    #[test]
    fn resolves_most_specific_up_interface() {
        let ifs = with(
            &[(2, "198.18.0.0/16", "198.18.0.1"), (3, "198.18.1.0/24", "198.18.1.1")],
            &[(2, true), (3, true)],
        );
        assert_eq!(ifs.resolve("198.18.1.9".parse().unwrap()), Some(3));
        assert_eq!(ifs.resolve("198.18.2.9".parse().unwrap()), Some(2));
        assert_eq!(ifs.resolve("198.19.0.1".parse().unwrap()), None);
        assert_eq!(ifs.resolve("198.18.1.1".parse().unwrap()), None, "own address");
    }

    #[test]
    fn down_interface_does_not_resolve() {
        let ifs = with(&[(3, "2001:db8::/64", "2001:db8::1")], &[(3, false)]);
        assert_eq!(ifs.resolve("2001:db8::2".parse().unwrap()), None);
        let ifs = with(&[(3, "2001:db8::/64", "2001:db8::1")], &[(3, true)]);
        assert_eq!(ifs.resolve("2001:db8::2".parse().unwrap()), Some(3));
        assert_eq!(ifs.resolve("fe80::1".parse().unwrap()), None);
    }
}
