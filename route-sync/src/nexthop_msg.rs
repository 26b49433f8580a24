//! Linux nexthop objects (`RTM_NEWNEXTHOP` / `RTM_DELNEXTHOP` / `RTM_GETNEXTHOP`).
//!
//! netlink-packet-route 0.34 has no type for these messages, so this module builds and parses
//! them from the kernel UAPI (`include/uapi/linux/nexthop.h`):
//!
//! ```text
//! struct nhmsg { u8 nh_family; u8 nh_scope; u8 nh_protocol; u8 resvd; u32 nh_flags; };
//! NHA_ID u32, NHA_GROUP struct nexthop_grp[], NHA_GROUP_TYPE u16, NHA_BLACKHOLE flag,
//! NHA_OIF u32, NHA_GATEWAY be32 or in6_addr
//! struct nexthop_grp { u32 id; u8 weight; u8 weight_high; u16 resvd2; };
//! ```
//! The netlink header and the NLA encoding come from netlink-packet-core.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{DefaultNla, Emitable, NetlinkHeader, NlasIterator};

/// `RTM_NEWNEXTHOP` from `linux/rtnetlink.h`.
pub const RTM_NEWNEXTHOP: u16 = 104;
/// `RTM_DELNEXTHOP`.
pub const RTM_DELNEXTHOP: u16 = 105;
/// `RTM_GETNEXTHOP`.
pub const RTM_GETNEXTHOP: u16 = 106;

const NHMSG_LEN: usize = 8;
const NHA_ID: u16 = 1;
const NHA_GROUP: u16 = 2;
const NHA_GROUP_TYPE: u16 = 3;
const NHA_BLACKHOLE: u16 = 4;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;
const NEXTHOP_GRP_TYPE_MPATH: u16 = 0;
const NEXTHOP_GRP_LEN: usize = 8;
const NETLINK_HEADER_LEN: usize = 16;

/// What a nexthop object points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NexthopKind {
    /// A gateway reached through an interface.
    Gateway { gateway: IpAddr, oif: u32 },
    /// An ECMP group of other nexthop objects (equal weight).
    Group(Vec<u32>),
    /// An interface without gateway (`ip nexthop add id N dev eth1`; only parsed).
    Device { oif: u32 },
    /// A blackhole nexthop (only parsed, never created by us).
    Blackhole,
    /// Something this crate does not model (encapsulation, FDB, resilient group, ...).
    Other,
}

/// One nexthop object, as sent to or read from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NexthopMessage {
    pub id: u32,
    pub protocol: u8,
    pub kind: NexthopKind,
}

impl NexthopMessage {
    /// `nh_family`: the gateway's family; groups (and blackholes) use `AF_UNSPEC`.
    fn family(&self) -> u8 {
        match &self.kind {
            NexthopKind::Gateway { gateway: IpAddr::V4(_), .. } => libc::AF_INET as u8,
            NexthopKind::Gateway { gateway: IpAddr::V6(_), .. } => libc::AF_INET6 as u8,
            _ => libc::AF_UNSPEC as u8,
        }
    }

    fn attributes(&self) -> Vec<DefaultNla> {
        let mut nlas = vec![DefaultNla::new(NHA_ID, self.id.to_ne_bytes().to_vec())];
        match &self.kind {
            NexthopKind::Gateway { gateway, oif } => {
                nlas.push(DefaultNla::new(NHA_OIF, oif.to_ne_bytes().to_vec()));
                let octets = match gateway {
                    IpAddr::V4(a) => a.octets().to_vec(),
                    IpAddr::V6(a) => a.octets().to_vec(),
                };
                nlas.push(DefaultNla::new(NHA_GATEWAY, octets));
            }
            NexthopKind::Group(members) => {
                let mut value = Vec::with_capacity(members.len() * NEXTHOP_GRP_LEN);
                for id in members {
                    value.extend_from_slice(&id.to_ne_bytes());
                    value.extend_from_slice(&[0, 0, 0, 0]); // weight 1 (stored as 0), resvd
                }
                nlas.push(DefaultNla::new(NHA_GROUP, value));
                nlas.push(DefaultNla::new(
                    NHA_GROUP_TYPE,
                    NEXTHOP_GRP_TYPE_MPATH.to_ne_bytes().to_vec(),
                ));
            }
            NexthopKind::Blackhole => nlas.push(DefaultNla::new(NHA_BLACKHOLE, Vec::new())),
            NexthopKind::Device { oif } => {
                nlas.push(DefaultNla::new(NHA_OIF, oif.to_ne_bytes().to_vec()));
            }
            NexthopKind::Other => {}
        }
        nlas
    }

    /// Appends `RTM_NEWNEXTHOP` (create or replace this id) to `out`.
    pub fn emit_new(&self, seq: u32, flags: u16, out: &mut Vec<u8>) {
        let nlas = self.attributes();
        emit_message(RTM_NEWNEXTHOP, flags, seq, self.family(), self.protocol, &nlas, out);
    }

    /// Parses the payload (after the netlink header) of an `RTM_NEWNEXTHOP` message.
    pub fn parse(payload: &[u8]) -> Option<NexthopMessage> {
        let header = payload.get(..NHMSG_LEN)?;
        let family = *header.first()?;
        let protocol = *header.get(2)?;
        let mut id = None;
        let mut oif = None;
        let mut gateway = None;
        let mut group = None;
        let mut blackhole = false;
        let mut other = false;
        for nla in NlasIterator::new(payload.get(NHMSG_LEN..)?) {
            let nla = nla.ok()?;
            let value = nla.value();
            match nla.kind() {
                NHA_ID => id = Some(u32::from_ne_bytes(value.get(..4)?.try_into().ok()?)),
                NHA_OIF => oif = Some(u32::from_ne_bytes(value.get(..4)?.try_into().ok()?)),
                NHA_GATEWAY => gateway = parse_ip(family, value),
                NHA_BLACKHOLE => blackhole = true,
                NHA_GROUP => {
                    let ids = value
                        .chunks_exact(NEXTHOP_GRP_LEN)
                        .filter_map(|c| c.get(..4)?.try_into().ok().map(u32::from_ne_bytes))
                        .collect::<Vec<_>>();
                    group = Some(ids);
                }
                NHA_GROUP_TYPE => {
                    let kind = value.get(..2).and_then(|b| b.try_into().ok());
                    if kind.map(u16::from_ne_bytes) != Some(NEXTHOP_GRP_TYPE_MPATH) {
                        other = true;
                    }
                }
                7 | 8 | 11 | 12 => other = true, // encap, FDB, resilient group
                _ => {}
            }
        }
        let kind = match (group, gateway, oif, blackhole) {
            _ if other => NexthopKind::Other,
            (Some(members), _, _, _) => NexthopKind::Group(members),
            (None, Some(gateway), Some(oif), _) => NexthopKind::Gateway { gateway, oif },
            (None, None, _, true) => NexthopKind::Blackhole,
            (None, None, Some(oif), false) => NexthopKind::Device { oif },
            _ => NexthopKind::Other,
        };
        Some(NexthopMessage { id: id?, protocol, kind })
    }
}

fn parse_ip(family: u8, value: &[u8]) -> Option<IpAddr> {
    if family == libc::AF_INET as u8 {
        let octets: [u8; 4] = value.get(..4)?.try_into().ok()?;
        Some(IpAddr::V4(Ipv4Addr::from(octets)))
    } else if family == libc::AF_INET6 as u8 {
        let octets: [u8; 16] = value.get(..16)?.try_into().ok()?;
        Some(IpAddr::V6(Ipv6Addr::from(octets)))
    } else {
        None
    }
}

/// Appends `RTM_DELNEXTHOP` for `id` to `out`.
pub fn emit_delete(id: u32, seq: u32, flags: u16, out: &mut Vec<u8>) {
    let nlas = [DefaultNla::new(NHA_ID, id.to_ne_bytes().to_vec())];
    emit_message(RTM_DELNEXTHOP, flags, seq, libc::AF_UNSPEC as u8, 0, &nlas, out);
}

/// Appends an `RTM_GETNEXTHOP` dump request (all nexthop objects of the namespace).
pub fn emit_dump(seq: u32, flags: u16, out: &mut Vec<u8>) {
    emit_message(RTM_GETNEXTHOP, flags, seq, libc::AF_UNSPEC as u8, 0, &[], out);
}

fn emit_message(
    message_type: u16,
    flags: u16,
    seq: u32,
    family: u8,
    protocol: u8,
    nlas: &[DefaultNla],
    out: &mut Vec<u8>,
) {
    let body_len = NHMSG_LEN + nlas.buffer_len();
    let length = NETLINK_HEADER_LEN + body_len;
    let mut header = NetlinkHeader::default();
    header.length = length as u32;
    header.message_type = message_type;
    header.flags = flags;
    header.sequence_number = seq;
    let start = out.len();
    out.resize(start + length, 0);
    let Some(buf) = out.get_mut(start..) else { return };
    header.emit(buf);
    if let Some(nhmsg) = buf.get_mut(NETLINK_HEADER_LEN..NETLINK_HEADER_LEN + NHMSG_LEN) {
        nhmsg.copy_from_slice(&[family, 0, protocol, 0, 0, 0, 0, 0]);
    }
    if let Some(rest) = buf.get_mut(NETLINK_HEADER_LEN + NHMSG_LEN..) {
        nlas.emit(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(buf: &[u8]) -> &[u8] {
        &buf[NETLINK_HEADER_LEN..]
    }

    #[test]
    fn gateway_object_layout_matches_uapi() {
        let msg = NexthopMessage {
            id: 7,
            protocol: 186,
            kind: NexthopKind::Gateway { gateway: "198.18.0.2".parse().unwrap(), oif: 3 },
        };
        let mut buf = Vec::new();
        msg.emit_new(42, 0x0401, &mut buf);
        // nlmsghdr: len, type 104, flags, seq 42
        assert_eq!(u32::from_ne_bytes(buf[0..4].try_into().unwrap()) as usize, buf.len());
        assert_eq!(u16::from_ne_bytes(buf[4..6].try_into().unwrap()), RTM_NEWNEXTHOP);
        assert_eq!(u16::from_ne_bytes(buf[6..8].try_into().unwrap()), 0x0401);
        assert_eq!(u32::from_ne_bytes(buf[8..12].try_into().unwrap()), 42);
        // nhmsg: AF_INET, scope 0, protocol 186
        assert_eq!(&buf[16..24], &[2, 0, 186, 0, 0, 0, 0, 0]);
        // NHA_ID (len 8, type 1, value 7)
        assert_eq!(&buf[24..28], &[8, 0, 1, 0]);
        assert_eq!(u32::from_ne_bytes(buf[28..32].try_into().unwrap()), 7);
        // NHA_OIF then NHA_GATEWAY
        assert_eq!(&buf[32..36], &[8, 0, 5, 0]);
        assert_eq!(&buf[40..44], &[8, 0, 6, 0]);
        assert_eq!(&buf[44..48], &[198, 18, 0, 2]);
        assert_eq!(buf.len(), 48);
        assert_eq!(NexthopMessage::parse(payload(&buf)), Some(msg));
    }

    #[test]
    fn group_round_trips_and_uses_af_unspec() {
        let msg = NexthopMessage { id: 9, protocol: 186, kind: NexthopKind::Group(vec![7, 8]) };
        let mut buf = Vec::new();
        msg.emit_new(1, 0x0401, &mut buf);
        assert_eq!(buf[16], 0);
        assert_eq!(NexthopMessage::parse(payload(&buf)), Some(msg));
    }

    #[test]
    fn ipv6_gateway_round_trips() {
        let msg = NexthopMessage {
            id: 1 << 24,
            protocol: 186,
            kind: NexthopKind::Gateway { gateway: "2001:db8::2".parse().unwrap(), oif: 12 },
        };
        let mut buf = Vec::new();
        msg.emit_new(1, 0x0401, &mut buf);
        assert_eq!(buf[16], libc::AF_INET6 as u8);
        assert_eq!(NexthopMessage::parse(payload(&buf)), Some(msg));
    }

    #[test]
    fn delete_carries_only_the_id() {
        let mut buf = Vec::new();
        emit_delete(77, 5, 1, &mut buf);
        assert_eq!(u16::from_ne_bytes(buf[4..6].try_into().unwrap()), RTM_DELNEXTHOP);
        assert_eq!(buf.len(), 16 + 8 + 8);
        assert_eq!(u32::from_ne_bytes(buf[28..32].try_into().unwrap()), 77);
    }

    #[test]
    fn truncated_input_is_rejected_not_panicking() {
        assert_eq!(NexthopMessage::parse(&[2, 0, 186]), None);
        // NLA claims more bytes than present
        assert_eq!(NexthopMessage::parse(&[2, 0, 186, 0, 0, 0, 0, 0, 50, 0, 1, 0]), None);
    }
}
