//! The other routes of the main table (static, DHCP, RA, another routing daemon's): what
//! reaches a BGP next hop that is not on a connected subnet.
//!
//! RFC 4271 §5.1.3: "the immediate next-hop address is determined by performing a recursive
//! route lookup operation for the IP address in the NEXT_HOP attribute, using the contents of
//! the Routing Table". The kernel refuses a gateway that is not on the link, so a route whose
//! BGP next hop sits behind such a route is installed via that route's gateway(s), as BIRD
//! does with `gateway recursive`. The longest match wins, then the lowest metric, like the
//! kernel's own lookup.
//!
//! Routes may name a nexthop object (`RTA_NH_ID`, as FRR's zebra installs them): the other
//! protocols' objects are kept too and expanded at lookup (a gateway, a device, or an ECMP
//! group of those).
//!
//! Left out: our own routes and objects (never resolve BGP over BGP), `proto kernel` routes
//! (connected subnets: [`crate::interfaces::Interfaces`] tracks those from the addresses, and
//! the kernel drops them on link down without telling), non-unicast types.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::NLM_F_APPEND;

use crate::nexthop_msg::{NexthopKind, NexthopMessage};
use crate::route_msg::{ParsedRoute, RouteTarget};

/// `RT_TABLE_MAIN`: where next hops are looked up.
pub const RT_TABLE_MAIN: u32 = 254;
/// `RTPROT_KERNEL`: routes the kernel derives from interface addresses.
const RTPROT_KERNEL: u8 = 2;

/// One route: its metric and paths (gateway, interface), or the nexthop object it names. A
/// path without a gateway reaches the destination on the link (`dev eth1 scope link`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherRoute {
    pub metric: u32,
    pub paths: Vec<(Option<IpAddr>, u32)>,
    pub object: Option<u32>,
}

/// The main table's other routes, indexed for longest-prefix match.
#[derive(Debug, Default, Clone)]
pub struct OtherRoutes {
    /// Per prefix, its routes by ascending metric.
    routes: HashMap<IpNet, Vec<OtherRoute>>,
    /// How many prefixes of each length exist, per family (false: IPv4), for the lookup.
    lengths: [BTreeMap<u8, u32>; 2],
    /// The other protocols' nexthop objects.
    objects: HashMap<u32, NexthopKind>,
}

impl OtherRoutes {
    /// Whether `r` (read from the kernel) is a route this view keeps.
    pub fn wants(r: &ParsedRoute, our_protocol: u8) -> bool {
        r.unicast
            && r.table == RT_TABLE_MAIN
            && r.protocol != our_protocol
            && r.protocol != RTPROT_KERNEL
            && match &r.target {
                RouteTarget::Gateways(gateways) => !gateways.is_empty() || r.oif != 0,
                RouteTarget::Object(_) => true,
                _ => false,
            }
    }

    /// Applies a route from a dump or an `RTM_NEWROUTE`/`RTM_DELROUTE` (`flags`: the netlink
    /// header's). The caller filtered with [`OtherRoutes::wants`]. Returns true on a change.
    pub fn apply(&mut self, r: &ParsedRoute, deleted: bool, flags: u16) -> bool {
        let paths = paths_of(r);
        let object = match r.target {
            RouteTarget::Object(id) => Some(id),
            _ => None,
        };
        let list = self.routes.entry(r.prefix).or_default();
        let prefix_was_known = !list.is_empty();
        let existing = list.iter().position(|x| x.metric == r.metric);
        let changed = match (deleted, existing) {
            (false, Some(i)) if flags & NLM_F_APPEND != 0 && object.is_none() => {
                // IPv6 announces a path added to a multipath route on its own.
                let before = list[i].paths.len();
                for p in paths {
                    if !list[i].paths.contains(&p) {
                        list[i].paths.push(p);
                    }
                }
                list[i].paths.len() != before
            }
            (false, Some(i)) => {
                let new = OtherRoute { metric: r.metric, paths, object };
                let same = list[i] == new;
                list[i] = new;
                !same
            }
            (false, None) => {
                let at = list.partition_point(|x| x.metric < r.metric);
                list.insert(at, OtherRoute { metric: r.metric, paths, object });
                true
            }
            (true, Some(i)) => {
                // IPv6 deletes one path of a multipath route at a time.
                list[i].paths.retain(|p| !paths.contains(p));
                if list[i].paths.is_empty() || paths.is_empty() {
                    list.remove(i);
                }
                true
            }
            (true, None) => false,
        };
        match (prefix_was_known, list.is_empty()) {
            (true, true) => self.forget_if_empty(&r.prefix),
            (false, true) => {
                self.routes.remove(&r.prefix);
            }
            (false, false) => self.count_length(&r.prefix, true),
            (true, false) => {}
        }
        changed
    }

    fn count_length(&mut self, prefix: &IpNet, added: bool) {
        let lengths = &mut self.lengths[usize::from(prefix.addr().is_ipv6())];
        let len = prefix.prefix_len();
        if added {
            *lengths.entry(len).or_default() += 1;
        } else if let Some(n) = lengths.get_mut(&len) {
            *n -= 1;
            if *n == 0 {
                lengths.remove(&len);
            }
        }
    }

    /// Applies another protocol's nexthop object from a dump or a notification. Deleting one
    /// deletes the routes that use it (the kernel does, without telling). True on a change.
    pub fn apply_object(&mut self, nh: &NexthopMessage, deleted: bool) -> bool {
        if !deleted {
            return self.objects.insert(nh.id, nh.kind.clone()).as_ref() != Some(&nh.kind);
        }
        if self.objects.remove(&nh.id).is_none() {
            return false;
        }
        let mut touched = Vec::new();
        for (prefix, list) in self.routes.iter_mut() {
            let before = list.len();
            list.retain(|r| r.object != Some(nh.id));
            if list.len() != before {
                touched.push(*prefix);
            }
        }
        for prefix in touched {
            self.forget_if_empty(&prefix);
        }
        true
    }

    /// Calls `each` with every (gateway, interface) of `route`, its nexthop object expanded.
    pub fn for_each_path(&self, route: &OtherRoute, mut each: impl FnMut(Option<IpAddr>, u32)) {
        let Some(id) = route.object else {
            for (gateway, oif) in &route.paths {
                each(*gateway, *oif);
            }
            return;
        };
        let mut one = |kind: Option<&NexthopKind>| match kind {
            Some(NexthopKind::Gateway { gateway, oif }) => each(Some(*gateway), *oif),
            Some(NexthopKind::Device { oif }) => each(None, *oif),
            _ => {}
        };
        match self.objects.get(&id) {
            Some(NexthopKind::Group(members)) => {
                members.iter().for_each(|m| one(self.objects.get(m)));
            }
            kind => one(kind),
        }
    }

    /// The route the kernel would use for `addr`: longest prefix, then lowest metric.
    pub fn lookup(&self, addr: IpAddr) -> Option<&OtherRoute> {
        self.candidates(addr).next()
    }

    /// Every route covering `addr`, in the order the kernel prefers them: longest prefix
    /// first, then lowest metric (a caller skips those whose links are down).
    pub fn candidates(&self, addr: IpAddr) -> impl Iterator<Item = &OtherRoute> {
        let family = usize::from(addr.is_ipv6());
        self.lengths[family].keys().rev().flat_map(move |len| {
            let net = IpNet::new(addr, *len).ok().map(|n| n.trunc());
            net.and_then(|n| self.routes.get(&n)).into_iter().flatten()
        })
    }

    /// Forgets the route of `prefix` with `metric`: the kernel replaced it with one this view
    /// does not keep (a blackhole, a route of ours), which it announces without a delete.
    pub fn replaced(&mut self, prefix: &IpNet, metric: u32) -> bool {
        let Some(list) = self.routes.get_mut(prefix) else { return false };
        let before = list.len();
        list.retain(|r| r.metric != metric);
        let changed = list.len() != before;
        self.forget_if_empty(prefix);
        changed
    }

    /// Drops `prefix` once its last route went.
    fn forget_if_empty(&mut self, prefix: &IpNet) {
        if self.routes.get(prefix).is_some_and(Vec::is_empty) {
            self.routes.remove(prefix);
            self.count_length(prefix, false);
        }
    }

    /// Whether some route leaves through interface `ifindex`.
    pub fn uses_interface(&self, ifindex: u32) -> bool {
        self.routes.values().flatten().any(|r| {
            let mut hit = false;
            self.for_each_path(r, |_, oif| hit |= oif == ifindex);
            hit
        })
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

fn paths_of(r: &ParsedRoute) -> Vec<(Option<IpAddr>, u32)> {
    match &r.target {
        RouteTarget::Gateways(gateways) if !gateways.is_empty() => {
            gateways.iter().map(|(gateway, oif)| (Some(*gateway), *oif)).collect()
        }
        RouteTarget::Gateways(_) if r.oif != 0 => vec![(None, r.oif)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(prefix: &str, metric: u32, paths: &[(&str, u32)], oif: u32) -> ParsedRoute {
        ParsedRoute {
            prefix: prefix.parse().unwrap(),
            table: RT_TABLE_MAIN,
            protocol: 4, // static
            metric,
            oif,
            unicast: true,
            target: RouteTarget::Gateways(
                paths.iter().map(|(g, o)| (g.parse().unwrap(), *o)).collect(),
            ),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn hit(t: &OtherRoutes, a: &str) -> Option<(u32, Option<IpAddr>)> {
        t.lookup(ip(a)).map(|r| (r.metric, r.paths[0].0))
    }

    #[test]
    fn longest_prefix_then_lowest_metric() {
        let mut t = OtherRoutes::default();
        assert!(t.apply(&route("0.0.0.0/0", 100, &[("198.18.0.254", 2)], 0), false, 0));
        assert!(t.apply(&route("198.18.64.0/18", 20, &[("198.18.0.253", 2)], 0), false, 0));
        assert!(t.apply(&route("198.18.64.0/18", 10, &[("198.18.0.252", 2)], 0), false, 0));
        assert_eq!(hit(&t, "198.18.70.1"), Some((10, Some(ip("198.18.0.252")))));
        assert_eq!(hit(&t, "198.19.0.1"), Some((100, Some(ip("198.18.0.254")))));
        assert_eq!(t.lookup(ip("2001:db8::1")), None, "no IPv6 default");
        // The metric-10 route goes: the metric-20 one takes over; then the default only.
        assert!(t.apply(&route("198.18.64.0/18", 10, &[("198.18.0.252", 2)], 0), true, 0));
        assert_eq!(hit(&t, "198.18.70.1"), Some((20, Some(ip("198.18.0.253")))));
        assert!(t.apply(&route("198.18.64.0/18", 20, &[], 0), true, 0));
        assert_eq!(hit(&t, "198.18.70.1"), Some((100, Some(ip("198.18.0.254")))));
        assert_eq!(t.len(), 1);
        assert!(!t.apply(&route("198.18.64.0/18", 20, &[], 0), true, 0), "already gone");
        assert_eq!(hit(&t, "198.18.70.1"), Some((100, Some(ip("198.18.0.254")))));
    }

    #[test]
    fn link_routes_and_appended_paths() {
        let mut t = OtherRoutes::default();
        let dev = route("2001:db8:40::/48", 1024, &[], 3);
        assert!(OtherRoutes::wants(&dev, 186));
        t.apply(&dev, false, 0);
        assert_eq!(t.lookup(ip("2001:db8:40::9")).unwrap().paths, vec![(None, 3)]);
        assert!(t.uses_interface(3) && !t.uses_interface(2));
        let one = route("2001:db8:50::/48", 1024, &[("fe80::1", 2)], 0);
        let two = route("2001:db8:50::/48", 1024, &[("fe80::2", 4)], 0);
        t.apply(&one, false, 0);
        assert!(t.apply(&two, false, NLM_F_APPEND));
        assert_eq!(t.lookup(ip("2001:db8:50::1")).unwrap().paths.len(), 2);
        assert!(t.apply(&one, true, 0), "one path deleted");
        assert_eq!(t.lookup(ip("2001:db8:50::1")).unwrap().paths, vec![(Some(ip("fe80::2")), 4)]);
        assert!(t.apply(&two, true, 0));
        assert_eq!(t.lookup(ip("2001:db8:50::1")), None);
    }

    #[test]
    fn keeps_only_other_protocols_unicast_main_table() {
        let r = route("0.0.0.0/0", 0, &[("198.18.0.254", 2)], 0);
        assert!(OtherRoutes::wants(&r, 186));
        assert!(!OtherRoutes::wants(&ParsedRoute { protocol: 186, ..r.clone() }, 186), "ours");
        assert!(!OtherRoutes::wants(&ParsedRoute { protocol: 2, ..r.clone() }, 186), "kernel");
        assert!(!OtherRoutes::wants(&ParsedRoute { table: 100, ..r.clone() }, 186), "other table");
        assert!(!OtherRoutes::wants(&ParsedRoute { unicast: false, ..r.clone() }, 186), "local");
        let object = ParsedRoute { target: RouteTarget::Object(7), ..r };
        assert!(OtherRoutes::wants(&object, 186), "nexthop object");
    }

    #[test]
    fn routes_naming_nexthop_objects_expand_them() {
        let mut t = OtherRoutes::default();
        let obj = |id, kind| NexthopMessage { id, protocol: 11, kind };
        let gw = |g: &str, oif| NexthopKind::Gateway { gateway: ip(g), oif };
        assert!(t.apply_object(&obj(1, gw("198.18.0.2", 2)), false));
        assert!(t.apply_object(&obj(2, gw("198.18.0.3", 2)), false));
        assert!(t.apply_object(&obj(3, NexthopKind::Group(vec![1, 2])), false));
        let via = |id| ParsedRoute {
            target: RouteTarget::Object(id),
            ..route("198.18.64.0/18", 20, &[], 0)
        };
        assert!(OtherRoutes::wants(&via(3), 186));
        t.apply(&via(3), false, 0);
        let paths = |t: &OtherRoutes| {
            let mut v = Vec::new();
            t.for_each_path(t.lookup(ip("198.18.70.1")).unwrap(), |g, o| v.push((g, o)));
            v
        };
        assert_eq!(paths(&t), vec![(Some(ip("198.18.0.2")), 2), (Some(ip("198.18.0.3")), 2)]);
        assert!(t.uses_interface(2));
        // The object changes under the route: so do its paths.
        assert!(t.apply_object(&obj(3, NexthopKind::Group(vec![2])), false));
        assert!(!t.apply_object(&obj(3, NexthopKind::Group(vec![2])), false), "no change");
        assert_eq!(paths(&t), vec![(Some(ip("198.18.0.3")), 2)]);
        // Deleting it deletes the route, as the kernel does.
        assert!(t.apply_object(&obj(3, NexthopKind::Other), true));
        assert_eq!(t.lookup(ip("198.18.70.1")), None);
        assert!(t.is_empty());
    }
}
