//! Route messages (`RTM_NEWROUTE` / `RTM_DELROUTE` / `RTM_GETROUTE`) built and parsed with
//! netlink-packet-route, appended to a send buffer so many requests share one `send()`.

use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{
    Emitable, NetlinkHeader, NetlinkMessage, NetlinkPayload, Parseable, NLM_F_CREATE, NLM_F_DUMP,
    NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteNextHop,
    RouteProtocol, RouteScope, RouteType, RouteVia,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

/// `RT_TABLE_COMPAT`: what `rtm_table` holds when the real table id (> 255) is in `RTA_TABLE`.
const RT_TABLE_COMPAT: u8 = 252;
/// Offset of `rtm_protocol` inside `struct rtmsg`.
pub const RTM_PROTOCOL_OFFSET: usize = 5;

/// Where our route sends packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    /// `RTN_BLACKHOLE`: silently drop.
    Blackhole,
    /// `RTN_UNREACHABLE`: drop with ICMP unreachable.
    Unreachable,
    /// A Linux nexthop object (`RTA_NH_ID`).
    Object(u32),
    /// Inline gateways with their outgoing interface; more than one gives `RTA_MULTIPATH`.
    Gateways(Vec<(IpAddr, u32)>),
}

/// The fields that identify our routes: protocol, table and metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteIdentity {
    pub protocol: u8,
    pub table: u32,
    pub metric: u32,
}

/// A route read from the kernel (dump or notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRoute {
    pub prefix: IpNet,
    pub table: u32,
    pub protocol: u8,
    pub metric: u32,
    /// `RTA_OIF` (0 when absent): the interface of a route without gateway.
    pub oif: u32,
    /// `RTN_UNICAST` (not local, broadcast, blackhole, ...).
    pub unicast: bool,
    pub target: RouteTarget,
}

fn family_of(prefix: &IpNet) -> AddressFamily {
    match prefix {
        IpNet::V4(_) => AddressFamily::Inet,
        IpNet::V6(_) => AddressFamily::Inet6,
    }
}

fn base_message(id: &RouteIdentity, prefix: &IpNet, kind: RouteType) -> RouteMessage {
    let header = RouteHeader {
        address_family: family_of(prefix),
        destination_prefix_length: prefix.prefix_len(),
        table: u8::try_from(id.table).unwrap_or(RT_TABLE_COMPAT),
        protocol: RouteProtocol::from(id.protocol),
        scope: RouteScope::Universe,
        kind,
        ..RouteHeader::default()
    };
    let mut msg = RouteMessage::default();
    msg.header = header;
    msg.attributes = vec![
        RouteAttribute::Destination(RouteAddress::from(prefix.network())),
        RouteAttribute::Table(id.table),
        RouteAttribute::Priority(id.metric),
    ];
    msg
}

/// The gateway attribute: `RTA_GATEWAY` in the prefix's own family, `RTA_VIA` for an IPv4
/// prefix over an IPv6 next hop (RFC 8950 routes; Linux >= 5.2).
fn gateway_attribute(prefix: &IpNet, gateway: IpAddr) -> RouteAttribute {
    match (prefix, gateway) {
        (IpNet::V4(_), IpAddr::V6(v6)) => RouteAttribute::Via(RouteVia::Inet6(v6)),
        (_, gw) => RouteAttribute::Gateway(RouteAddress::from(gw)),
    }
}

/// Appends an `RTM_NEWROUTE` to `out`. `replace` = the slot holds our own route (NLM_F_REPLACE);
/// otherwise NLM_F_EXCL so that a foreign route in the same slot is reported (EEXIST), never
/// overwritten.
pub fn emit_new_route(
    id: &RouteIdentity,
    prefix: &IpNet,
    target: &RouteTarget,
    replace: bool,
    seq: u32,
    out: &mut Vec<u8>,
) {
    let kind = match target {
        RouteTarget::Blackhole => RouteType::BlackHole,
        RouteTarget::Unreachable => RouteType::Unreachable,
        _ => RouteType::Unicast,
    };
    let mut msg = base_message(id, prefix, kind);
    match target {
        RouteTarget::Blackhole | RouteTarget::Unreachable => {}
        RouteTarget::Object(nh) => msg.attributes.push(RouteAttribute::NhId(*nh)),
        RouteTarget::Gateways(hops) if hops.len() == 1 => {
            if let Some((gw, oif)) = hops.first() {
                msg.attributes.push(gateway_attribute(prefix, *gw));
                msg.attributes.push(RouteAttribute::Oif(*oif));
            }
        }
        RouteTarget::Gateways(hops) => {
            let paths = hops
                .iter()
                .map(|(gw, oif)| {
                    let mut hop = RouteNextHop::default();
                    hop.interface_index = *oif;
                    hop.attributes = vec![gateway_attribute(prefix, *gw)];
                    hop
                })
                .collect();
            msg.attributes.push(RouteAttribute::MultiPath(paths));
        }
    }
    let flags = NLM_F_REQUEST | NLM_F_CREATE | if replace { NLM_F_REPLACE } else { NLM_F_EXCL };
    emit(RouteNetlinkMessage::NewRoute(msg), flags, seq, out);
}

/// Appends an `RTM_DELROUTE` that matches only our protocol, table and metric: the kernel skips
/// routes of another protocol when `rtm_protocol` is set (fib_table_delete / ip6_route_del).
pub fn emit_del_route(id: &RouteIdentity, prefix: &IpNet, seq: u32, out: &mut Vec<u8>) {
    let msg = base_message(id, prefix, RouteType::Unspec);
    emit(RouteNetlinkMessage::DelRoute(msg), NLM_F_REQUEST, seq, out);
}

/// Appends a dump request for the routes of `family` in our table and protocol (the kernel
/// filters when the socket has NETLINK_GET_STRICT_CHK; we filter again on receipt).
/// `protocol` 0 asks for every protocol's routes.
pub fn emit_route_dump(
    table: u32,
    protocol: u8,
    family: AddressFamily,
    seq: u32,
    out: &mut Vec<u8>,
) {
    let mut msg = RouteMessage::default();
    msg.header.address_family = family;
    msg.header.table = u8::try_from(table).unwrap_or(RT_TABLE_COMPAT);
    msg.header.protocol = RouteProtocol::from(protocol);
    msg.attributes = vec![RouteAttribute::Table(table)];
    emit(RouteNetlinkMessage::GetRoute(msg), NLM_F_REQUEST | NLM_F_DUMP, seq, out);
}

/// Appends an `RTM_GETROUTE` with `RTM_F_FIB_MATCH` for the network address of `prefix`
/// (`ip route get fibmatch`): the kernel answers with the FIB entry that matches, which tells
/// who holds a slot that refused our route with EEXIST.
pub fn emit_fib_match(prefix: &IpNet, seq: u32, out: &mut Vec<u8>) {
    let mut msg = RouteMessage::default();
    msg.header.address_family = family_of(prefix);
    msg.header.destination_prefix_length = prefix.max_prefix_len();
    msg.header.flags = RouteFlags::FibMatch;
    msg.attributes = vec![RouteAttribute::Destination(RouteAddress::from(prefix.network()))];
    emit(RouteNetlinkMessage::GetRoute(msg), NLM_F_REQUEST, seq, out);
}

/// Serialises any rtnetlink message (header + payload) onto `out`.
pub fn emit(inner: RouteNetlinkMessage, flags: u16, seq: u32, out: &mut Vec<u8>) {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(inner));
    packet.finalize();
    let start = out.len();
    out.resize(start + packet.buffer_len(), 0);
    if let Some(buf) = out.get_mut(start..) {
        packet.emit(buf);
    }
}

/// `rtm_protocol` of a route message payload without parsing it (hot path of the monitor).
pub fn peek_protocol(payload: &[u8]) -> Option<u8> {
    payload.get(RTM_PROTOCOL_OFFSET).copied()
}

fn address_to_ip(addr: &RouteAddress) -> Option<IpAddr> {
    match addr {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

fn via_to_ip(via: &RouteVia) -> Option<IpAddr> {
    match via {
        RouteVia::Inet(a) => Some(IpAddr::V4(*a)),
        RouteVia::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

/// Parses the payload of an `RTM_NEWROUTE`/`RTM_DELROUTE` into the fields we care about.
/// `None` for families other than IPv4/IPv6 or for malformed messages.
pub fn parse_route(payload: &[u8]) -> Option<ParsedRoute> {
    let msg = RouteMessage::parse(payload).ok()?;
    let header = &msg.header;
    let mut table = u32::from(header.table);
    let mut metric = 0;
    let mut destination = None;
    let mut gateway = None;
    let mut oif = 0;
    let mut nh_id = None;
    let mut paths = Vec::new();
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::Destination(d) => destination = address_to_ip(d),
            RouteAttribute::Gateway(g) => gateway = address_to_ip(g),
            RouteAttribute::Via(v) => gateway = via_to_ip(v),
            RouteAttribute::Oif(o) => oif = *o,
            RouteAttribute::NhId(id) => nh_id = Some(*id),
            RouteAttribute::MultiPath(hops) => {
                for hop in hops {
                    let gw = hop.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Gateway(g) => address_to_ip(g),
                        RouteAttribute::Via(v) => via_to_ip(v),
                        _ => None,
                    });
                    if let Some(gw) = gw {
                        paths.push((gw, hop.interface_index));
                    }
                }
            }
            _ => {}
        }
    }
    let len = header.destination_prefix_length;
    let prefix = match (header.address_family, destination) {
        (AddressFamily::Inet, Some(ip)) => IpNet::new(ip, len).ok()?,
        (AddressFamily::Inet, None) => IpNet::new(IpAddr::from([0u8; 4]), len).ok()?,
        (AddressFamily::Inet6, Some(ip)) => IpNet::new(ip, len).ok()?,
        (AddressFamily::Inet6, None) => IpNet::new(IpAddr::from([0u16; 8]), len).ok()?,
        _ => return None,
    };
    let target = match header.kind {
        RouteType::BlackHole => RouteTarget::Blackhole,
        RouteType::Unreachable => RouteTarget::Unreachable,
        _ => match (nh_id, gateway) {
            (Some(id), _) => RouteTarget::Object(id),
            (None, Some(gw)) => RouteTarget::Gateways(vec![(gw, oif)]),
            (None, None) => RouteTarget::Gateways(paths),
        },
    };
    Some(ParsedRoute {
        prefix,
        table,
        protocol: u8::from(header.protocol),
        metric,
        oif,
        unicast: header.kind == RouteType::Unicast,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: RouteIdentity = RouteIdentity { protocol: 186, table: 254, metric: 20 };

    fn round_trip(prefix: &str, target: RouteTarget) -> ParsedRoute {
        let prefix: IpNet = prefix.parse().unwrap();
        let mut buf = Vec::new();
        emit_new_route(&ID, &prefix, &target, false, 1, &mut buf);
        let flags = u16::from_ne_bytes(buf[6..8].try_into().unwrap());
        assert_eq!(flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
        assert_eq!(peek_protocol(&buf[16..]), Some(186));
        parse_route(&buf[16..]).unwrap()
    }

    #[test]
    fn inline_gateway_round_trips() {
        let target = RouteTarget::Gateways(vec![("198.18.0.2".parse().unwrap(), 4)]);
        let parsed = round_trip("10.244.2.0/24", target.clone());
        assert_eq!(parsed.prefix, "10.244.2.0/24".parse::<IpNet>().unwrap());
        assert_eq!((parsed.table, parsed.protocol, parsed.metric), (254, 186, 20));
        assert_eq!(parsed.target, target);
    }

    #[test]
    fn multipath_and_rfc8950_via_round_trip() {
        let target = RouteTarget::Gateways(vec![
            ("2001:db8::2".parse().unwrap(), 4),
            ("2001:db8::3".parse().unwrap(), 5),
        ]);
        assert_eq!(round_trip("10.244.0.0/24", target.clone()).target, target);
        assert_eq!(round_trip("2001:db8:1::/64", target.clone()).target, target);
    }

    #[test]
    fn object_and_blackhole_round_trip() {
        assert_eq!(
            round_trip("10.0.0.0/8", RouteTarget::Object(99)).target,
            RouteTarget::Object(99)
        );
        assert_eq!(round_trip("10.0.0.0/8", RouteTarget::Blackhole).target, RouteTarget::Blackhole);
    }

    #[test]
    fn large_table_ids_use_rta_table() {
        let id = RouteIdentity { table: 1000, ..ID };
        let prefix: IpNet = "10.0.0.0/8".parse().unwrap();
        let mut buf = Vec::new();
        emit_new_route(&id, &prefix, &RouteTarget::Blackhole, true, 1, &mut buf);
        assert_eq!(parse_route(&buf[16..]).unwrap().table, 1000);
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(parse_route(&[1, 2, 3]), None);
    }
}
