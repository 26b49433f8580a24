//! The namespace's links and addresses, and how a BGP next hop is reached from here.
//!
//! A BGP next hop is usable for a route without encapsulation when it lies inside a subnet that
//! is configured on an interface that is up (the connected route the kernel derives from the
//! address), or behind another route of the main table ([`OtherRoutes`]: a static or default
//! route), whose gateways the route then uses. Link-local IPv6 next hops cannot be resolved
//! and are reported unreachable.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ipnet::IpNet;

use crate::nexthop_msg::NexthopMessage;
use crate::other_routes::{OtherRoutes, RT_TABLE_MAIN};
use crate::route_msg::ParsedRoute;
use netlink_packet_core::Parseable;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkHeader, LinkMessage};

/// Links (up or not) and the subnets configured on them.
#[derive(Debug, Default, Clone)]
pub struct Interfaces {
    /// Per link (ifindex), whether it is up (`IFF_UP` and `IFF_LOWER_UP`).
    up: HashMap<u32, bool>,
    /// Per link, its name (for display).
    names: HashMap<u32, String>,
    /// Every address configured on a link, with its subnet.
    addresses: Vec<Address>,
    /// The main table's other routes, for next hops off the connected subnets. Shared by
    /// the copies of this view (route-sync's and the one the RIB's resolver reads), and
    /// changed in place: it can be large (another daemon's full table), links and addresses
    /// are not.
    other_routes: Arc<RwLock<OtherRoutes>>,
}

/// One address configured on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Address {
    ifindex: u32,
    /// The subnet of the address (its connected route).
    net: IpNet,
    ip: IpAddr,
    /// `IFA_F_*`: the header's byte, or the `IFA_FLAGS` attribute that supersedes it.
    flags: AddressFlags,
}

impl Address {
    /// Whether the address may stand for us as a next hop: not tentative or failed (RFC 4862
    /// §5.4: a tentative address "is not considered assigned to an interface"), not deprecated
    /// (RFC 4862 §5.5.4: new communication should not use it), not temporary (RFC 8981 §3: a
    /// privacy address is for outgoing connections and changes; the kernel marks it
    /// `IFA_F_TEMPORARY`, the same bit as `IFA_F_SECONDARY`, which on IPv4 only means "not
    /// the first address of its subnet").
    fn stable(&self) -> bool {
        let unusable = AddressFlags::Tentative | AddressFlags::Dadfailed | AddressFlags::Deprecated;
        let temporary = self.ip.is_ipv6() && self.flags.contains(AddressFlags::Secondary);
        !self.flags.intersects(unusable) && !temporary
    }

    fn same(&self, other: &Address) -> bool {
        (self.ifindex, self.net, self.ip) == (other.ifindex, other.net, other.ip)
    }
}

/// How a next hop is reached: the immediate gateways with their interfaces (the next hop
/// itself when it is on a connected subnet), and the interior cost (RFC 4271 §9.1.2.2 e):
/// 0 when connected, else the metric of the route that reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub hops: Vec<(IpAddr, u32)>,
    pub cost: u32,
}

impl Interfaces {
    /// Applies an `RTM_NEWLINK` / `RTM_DELLINK` payload. Returns true when something changed.
    pub fn apply_link(&mut self, payload: &[u8], deleted: bool) -> bool {
        let Ok(header) = LinkHeader::parse(payload) else { return false };
        if deleted {
            self.addresses.retain(|a| a.ifindex != header.index);
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
        let header_flags = AddressFlags::from_bits_retain(u32::from(msg.header.flags.bits()));
        let flags = msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Flags(f) => Some(*f),
            _ => None,
        });
        let flags = flags.map_or(header_flags, |f| f | header_flags);
        let entry = Address { ifindex: msg.header.index, net: net.trunc(), ip, flags };
        if deleted {
            let before = self.addresses.len();
            self.addresses.retain(|e| !e.same(&entry));
            return self.addresses.len() != before;
        }
        // Updated in place: the kernel re-sends an address on every change of its flags or
        // lifetimes (SLAAC refreshes), which must not move it.
        match self.addresses.iter_mut().find(|e| e.same(&entry)) {
            Some(known) => std::mem::replace(known, entry) != entry,
            None => {
                self.addresses.push(entry);
                true
            }
        }
    }

    /// The name of interface `ifindex` (empty when unknown).
    pub fn name(&self, ifindex: u32) -> &str {
        self.names.get(&ifindex).map(String::as_str).unwrap_or("")
    }

    /// Applies a route of another protocol from a notification (`flags`: the netlink
    /// header's); `our_protocol` routes and other tables are ignored. True on a change.
    pub fn apply_route(&mut self, r: &ParsedRoute, deleted: bool, flags: u16, ours: u8) -> bool {
        if OtherRoutes::wants(r, ours) {
            return self.other_routes_mut().apply(r, deleted, flags);
        }
        // A route this view does not keep took the slot of one it keeps (`ip route replace
        // blackhole ...`): the kernel sends no delete for the old one.
        !deleted
            && r.table == RT_TABLE_MAIN
            && self.other_routes_mut().replaced(&r.prefix, r.metric)
    }

    fn other_routes(&self) -> RwLockReadGuard<'_, OtherRoutes> {
        self.other_routes.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn other_routes_mut(&self) -> RwLockWriteGuard<'_, OtherRoutes> {
        self.other_routes.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies another protocol's nexthop object (`ours`: our protocol, whose objects are
    /// ignored). True on a change.
    pub fn apply_object(&mut self, nh: &NexthopMessage, deleted: bool, ours: u8) -> bool {
        nh.protocol != ours && self.other_routes_mut().apply_object(nh, deleted)
    }

    /// Replaces the other routes with a fresh dump, and their nexthop objects with `objects`
    /// (all of the namespace's; ours are skipped).
    pub fn set_other_routes(&mut self, routes: OtherRoutes, objects: &[NexthopMessage], ours: u8) {
        self.other_routes = Arc::new(RwLock::new(routes));
        for nh in objects {
            self.apply_object(nh, false, ours);
        }
    }

    /// Whether a route of another protocol leaves through `ifindex`.
    pub fn other_routes_use(&self, ifindex: u32) -> bool {
        self.other_routes().uses_interface(ifindex)
    }

    /// How `next_hop` is reached, if it is: directly on the most specific connected subnet of
    /// an interface that is up, else through the longest-matching route of the main table.
    /// Never one of our own addresses, never a loopback or link-local one.
    pub fn resolve(&self, next_hop: IpAddr) -> Option<Resolved> {
        let mut hops = Vec::new();
        let cost = self.reach(next_hop, |gw, oif| hops.push((gw, oif)))?;
        hops.sort_unstable();
        hops.dedup();
        Some(Resolved { hops, cost })
    }

    /// [`Interfaces::resolve`]'s cost alone, without allocating (the decision process asks
    /// once per candidate path).
    pub fn cost(&self, next_hop: IpAddr) -> Option<u32> {
        self.reach(next_hop, |_, _| {})
    }

    /// Calls `hop` for each immediate (gateway, interface) and returns the cost; `None` (and
    /// no call) when `next_hop` is unreachable.
    fn reach(&self, next_hop: IpAddr, mut hop: impl FnMut(IpAddr, u32)) -> Option<u32> {
        if is_link_local(next_hop)
            || next_hop.to_canonical().is_loopback()
            || self.addresses.iter().any(|own| own.ip == next_hop)
        {
            return None;
        }
        if let Some(oif) = self.connected(next_hop) {
            hop(next_hop, oif);
            return Some(0);
        }
        let other_routes = self.other_routes();
        // The first route with a usable path: one whose links are all down is skipped, as
        // the kernel skips dead next hops.
        let cost = other_routes.candidates(next_hop).find_map(|route| {
            let mut any = false;
            other_routes.for_each_path(route, |gateway, oif| {
                if !self.is_up(oif) {
                    return;
                }
                let gateway = match gateway {
                    None => next_hop, // on the link: `dev eth1 scope link`
                    Some(gw) if is_link_local(gw) || self.connected(gw).is_some() => gw,
                    Some(_) => return, // a gateway we cannot reach ourselves
                };
                hop(gateway, oif);
                any = true;
            });
            any.then_some(route.metric)
        });
        cost
    }

    /// The lowest stable global unicast address of family `v6` (IPv6 when true) configured on
    /// the interface that holds `local`; `None` when no interface holds `local` or that one has
    /// none. Loopback, link-local and multicast addresses do not count, nor tentative,
    /// DAD-failed, deprecated or temporary ones ([`Address::stable`]). The lowest, not the
    /// first seen: the choice must not change when the kernel re-announces an address.
    pub fn address_beside(&self, local: IpAddr, v6: bool) -> Option<IpAddr> {
        let local = local.to_canonical();
        let ifindex = self.addresses.iter().find(|own| own.ip == local)?.ifindex;
        self.addresses
            .iter()
            .filter(|a| a.ifindex == ifindex && a.ip.is_ipv6() == v6 && a.stable())
            .map(|a| a.ip)
            .filter(|a| {
                let v4_link_local = matches!(a, IpAddr::V4(v4) if v4.is_link_local());
                !(a.is_loopback()
                    || a.is_unspecified()
                    || a.is_multicast()
                    || is_link_local(*a)
                    || v4_link_local)
            })
            .min()
    }

    fn is_up(&self, ifindex: u32) -> bool {
        self.up.get(&ifindex).copied().unwrap_or(false)
    }

    /// The interface of the most specific connected subnet containing `addr` that is up.
    fn connected(&self, addr: IpAddr) -> Option<u32> {
        let mut best: Option<(u8, u32)> = None;
        for Address { ifindex, net, .. } in &self.addresses {
            if !net.contains(&addr) || !self.is_up(*ifindex) {
                continue;
            }
            if best.is_none_or(|(len, _)| net.prefix_len() > len) {
                best = Some((net.prefix_len(), *ifindex));
            }
        }
        best.map(|(_, ifindex)| ifindex)
    }
}

fn is_link_local(addr: IpAddr) -> bool {
    matches!(addr, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
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
                .map(|(i, n, a)| Address {
                    ifindex: *i,
                    net: n.parse().unwrap(),
                    ip: a.parse().unwrap(),
                    flags: AddressFlags::Permanent,
                })
                .collect(),
            other_routes: Arc::default(),
        }
    }

    fn oif(ifs: &Interfaces, nh: &str) -> Option<u32> {
        let r = ifs.resolve(nh.parse().unwrap())?;
        assert_eq!(r.hops.len(), 1);
        assert_eq!(r.hops[0].0, nh.parse::<IpAddr>().unwrap(), "connected: the next hop itself");
        assert_eq!(r.cost, 0);
        Some(r.hops[0].1)
    }

    fn static_route(prefix: &str, metric: u32, gw: Option<&str>, oif: u32) -> ParsedRoute {
        ParsedRoute {
            prefix: prefix.parse().unwrap(),
            table: crate::other_routes::RT_TABLE_MAIN,
            protocol: 4,
            metric,
            oif,
            unicast: true,
            target: crate::route_msg::RouteTarget::Gateways(
                gw.map(|g| vec![(g.parse().unwrap(), oif)]).unwrap_or_default(),
            ),
        }
    }

    #[test]
    fn resolves_most_specific_up_interface() {
        let ifs = with(
            &[(2, "198.18.0.0/16", "198.18.0.1"), (3, "198.18.1.0/24", "198.18.1.1")],
            &[(2, true), (3, true)],
        );
        assert_eq!(oif(&ifs, "198.18.1.9"), Some(3));
        assert_eq!(oif(&ifs, "198.18.2.9"), Some(2));
        assert_eq!(oif(&ifs, "198.19.0.1"), None);
        assert_eq!(oif(&ifs, "198.18.1.1"), None, "own address");
        let lo = with(&[(1, "127.0.0.0/8", "127.0.0.1")], &[(1, true)]);
        assert_eq!(oif(&lo, "127.0.0.2"), None, "loopback");
        assert_eq!(oif(&lo, "::ffff:127.0.0.2"), None, "loopback, v4-mapped");
    }

    #[test]
    fn address_of_the_other_family_beside_a_session_address() {
        let ifs = with(
            &[
                (2, "198.18.0.0/24", "198.18.0.11"),
                (2, "fe80::/64", "fe80::11"),
                (2, "2001:db8::/64", "2001:db8::11"),
                (2, "2001:db8:1::/64", "2001:db8:1::11"),
                (3, "198.18.1.0/24", "198.18.1.11"),
                (1, "127.0.0.0/8", "127.0.0.1"),
                (1, "::1/128", "::1"),
            ],
            &[(1, true), (2, true), (3, true)],
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(ifs.address_beside(ip("198.18.0.11"), true), Some(ip("2001:db8::11")));
        assert_eq!(ifs.address_beside(ip("::ffff:198.18.0.11"), true), Some(ip("2001:db8::11")));
        assert_eq!(ifs.address_beside(ip("2001:db8:1::11"), false), Some(ip("198.18.0.11")));
        assert_eq!(ifs.address_beside(ip("198.18.1.11"), true), None, "no IPv6 on that link");
        assert_eq!(ifs.address_beside(ip("127.0.0.1"), true), None, "loopback does not count");
        assert_eq!(ifs.address_beside(ip("198.18.9.9"), true), None, "not ours");
    }

    /// An `RTM_NEWADDR` payload for `ip/len` on interface 2, with `flags` in the header byte
    /// (their low 8 bits) and in `IFA_FLAGS`, as the kernel sends them.
    fn address_payload(ip: &str, len: u8, flags: AddressFlags) -> Vec<u8> {
        use netlink_packet_core::Emitable;
        use netlink_packet_route::address::AddressHeaderFlags;
        let ip: IpAddr = ip.parse().unwrap();
        let mut msg = AddressMessage::default();
        msg.header.index = 2;
        msg.header.prefix_len = len;
        msg.header.family = if ip.is_ipv4() {
            netlink_packet_route::AddressFamily::Inet
        } else {
            netlink_packet_route::AddressFamily::Inet6
        };
        msg.header.flags = AddressHeaderFlags::from_bits_retain(flags.bits() as u8);
        msg.attributes = vec![AddressAttribute::Address(ip), AddressAttribute::Flags(flags)];
        let mut buf = vec![0; msg.buffer_len()];
        msg.emit(&mut buf);
        buf
    }

    #[test]
    fn address_beside_skips_unstable_addresses_and_is_stable_itself() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut ifs = with(&[(2, "198.18.0.0/24", "198.18.0.11")], &[(2, true)]);
        let permanent = AddressFlags::Permanent;
        let add = |ifs: &mut Interfaces, a: &str, flags: AddressFlags| {
            ifs.apply_address(&address_payload(a, 64, flags), false)
        };
        // Tentative (DAD running), DAD-failed, deprecated and RFC 8981 temporary addresses
        // are not ours to give as a next hop; the flag can sit in IFA_FLAGS only (above the
        // header's byte: none of these) or in both.
        assert!(add(&mut ifs, "2001:db8::1", AddressFlags::Tentative));
        assert!(add(&mut ifs, "2001:db8::2", AddressFlags::Dadfailed | AddressFlags::Tentative));
        assert!(add(&mut ifs, "2001:db8::3", AddressFlags::Deprecated));
        assert!(add(&mut ifs, "2001:db8::4", AddressFlags::Secondary)); // IFA_F_TEMPORARY
        assert_eq!(ifs.address_beside(ip("198.18.0.11"), true), None);
        // SLAAC addresses: the lowest stable one, whatever the order they came in.
        assert!(add(&mut ifs, "2001:db8::20", AddressFlags::Managetempaddr));
        assert!(add(&mut ifs, "2001:db8::10", AddressFlags::Managetempaddr));
        assert_eq!(ifs.address_beside(ip("198.18.0.11"), true), Some(ip("2001:db8::10")));
        // A lifetime refresh of ::20 (same flags) is no change and moves nothing.
        assert!(!add(&mut ifs, "2001:db8::20", AddressFlags::Managetempaddr));
        assert_eq!(ifs.address_beside(ip("198.18.0.11"), true), Some(ip("2001:db8::10")));
        // ::10 becomes deprecated: a change, and ::20 takes over. DAD of ::1 completes: it is
        // the lowest now.
        assert!(add(&mut ifs, "2001:db8::10", AddressFlags::Deprecated));
        assert_eq!(ifs.address_beside(ip("198.18.0.11"), true), Some(ip("2001:db8::20")));
        assert!(add(&mut ifs, "2001:db8::1", permanent));
        assert_eq!(ifs.address_beside(ip("198.18.0.11"), true), Some(ip("2001:db8::1")));
        assert_eq!(ifs.addresses.iter().filter(|a| a.ip == ip("2001:db8::1")).count(), 1);
        // On IPv4 the same bit only says "secondary": such an address is stable.
        assert!(
            ifs.apply_address(&address_payload("198.18.0.5", 24, AddressFlags::Secondary), false)
        );
        assert_eq!(ifs.address_beside(ip("2001:db8::1"), false), Some(ip("198.18.0.5")));
        assert!(ifs.apply_address(&address_payload("2001:db8::1", 64, permanent), true));
        assert_eq!(ifs.address_beside(ip("198.18.0.11"), true), Some(ip("2001:db8::20")));
    }

    #[test]
    fn down_interface_does_not_resolve() {
        let ifs = with(&[(3, "2001:db8::/64", "2001:db8::1")], &[(3, false)]);
        assert_eq!(oif(&ifs, "2001:db8::2"), None);
        let ifs = with(&[(3, "2001:db8::/64", "2001:db8::1")], &[(3, true)]);
        assert_eq!(oif(&ifs, "2001:db8::2"), Some(3));
        assert_eq!(oif(&ifs, "fe80::1"), None);
    }

    #[test]
    fn next_hop_behind_a_route_resolves_to_its_gateway() {
        let mut ifs = with(
            &[(2, "198.18.0.0/24", "198.18.0.1"), (4, "2001:db8::/64", "2001:db8::1")],
            &[(2, true), (3, true), (4, true)],
        );
        let nh: IpAddr = "198.18.9.7".parse().unwrap();
        assert_eq!(ifs.resolve(nh), None, "no route yet");
        let via_gw = static_route("198.18.9.0/24", 50, Some("198.18.0.254"), 2);
        assert!(ifs.apply_route(&via_gw, false, 0, 186));
        let want = Resolved { hops: vec![("198.18.0.254".parse().unwrap(), 2)], cost: 50 };
        assert_eq!(ifs.resolve(nh), Some(want));
        assert_eq!(ifs.cost(nh), Some(50));
        // A more specific route on a link: the next hop itself, through that link.
        assert!(ifs.apply_route(&static_route("198.18.9.0/28", 7, None, 3), false, 0, 186));
        assert_eq!(ifs.resolve(nh), Some(Resolved { hops: vec![(nh, 3)], cost: 7 }));
        // Its link goes down: the next usable route, the /24, takes over.
        ifs.up.insert(3, false);
        assert_eq!(ifs.cost(nh), Some(50));
        // A blackhole replaces the /24 (no delete is sent for it): nothing reaches the hop.
        let blackhole = ParsedRoute {
            unicast: false,
            target: crate::route_msg::RouteTarget::Blackhole,
            ..static_route("198.18.9.0/24", 50, None, 0)
        };
        assert!(ifs.apply_route(&blackhole, false, 0, 186));
        assert_eq!(ifs.resolve(nh), None);
        assert!(ifs.apply_route(&via_gw, false, 0, 186));
        // A gateway that is not on a connected subnet is of no use; link-local ones are.
        let far = static_route("2001:db8:9::/48", 1024, Some("2001:db8:77::1"), 4);
        assert!(ifs.apply_route(&far, false, 0, 186));
        assert_eq!(ifs.cost("2001:db8:9::1".parse().unwrap()), None);
        let ll = static_route("2001:db8:9::/48", 1024, Some("fe80::1"), 4);
        assert!(ifs.apply_route(&ll, false, 0, 186));
        let r = ifs.resolve("2001:db8:9::1".parse().unwrap()).unwrap();
        assert_eq!(r.hops, vec![("fe80::1".parse().unwrap(), 4)]);
        // Our own routes never count.
        assert!(!ifs.apply_route(&ParsedRoute { protocol: 186, ..via_gw }, true, 0, 186));
        assert_eq!(ifs.cost("198.18.9.200".parse().unwrap()), Some(50));
    }
}
