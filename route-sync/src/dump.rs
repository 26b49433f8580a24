//! Request/response exchanges on the request socket: dumps (links, addresses, routes, nexthop
//! objects) and the single-route FIB lookup. Only used between batches, when no error reply of
//! a batch can still be queued on the socket.

use std::io;

use ipnet::IpNet;
use netlink_packet_core::{NLM_F_APPEND, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::config::{LEGACY_METRIC, LEGACY_PROTOCOL};
use crate::interfaces::Interfaces;
use crate::nexthop_msg::{self, NexthopMessage, RTM_NEWNEXTHOP};
use crate::other_routes::{OtherRoutes, RT_TABLE_MAIN};
use crate::route_msg::{self, ParsedRoute, RouteIdentity};
use crate::socket::{
    messages, NlSocket, NLMSG_DONE, NLMSG_ERROR, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE,
};

/// Discards whatever is queued (nothing should be).
fn drain(sock: &mut NlSocket) -> io::Result<()> {
    while sock.try_recv()?.is_some() {}
    Ok(())
}

/// Sends `request` (sequence `seq`) and feeds every reply message to `each` until the dump
/// ends. An error reply for `seq` becomes `Err`.
async fn exchange(
    sock: &mut NlSocket,
    request: &[u8],
    seq: u32,
    dump: bool,
    mut each: impl FnMut(u16, &[u8]),
) -> io::Result<()> {
    drain(sock)?;
    sock.send(request)?;
    loop {
        let datagram = sock.recv().await?;
        for m in messages(datagram) {
            if m.seq != seq {
                continue;
            }
            match m.message_type {
                NLMSG_DONE => return Ok(()),
                NLMSG_ERROR => {
                    return match m.error_code() {
                        Some(0) | None => Ok(()),
                        Some(code) => Err(io::Error::from_raw_os_error(code)),
                    }
                }
                t => {
                    each(t, m.payload);
                    if !dump {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// Links and addresses of the namespace.
pub async fn interfaces(sock: &mut NlSocket, seq: u32) -> io::Result<Interfaces> {
    let mut ifs = Interfaces::default();
    let mut buf = Vec::new();
    route_msg::emit(
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        &mut buf,
    );
    exchange(sock, &buf, seq, true, |t, p| {
        if t == RTM_NEWLINK {
            ifs.apply_link(p, false);
        }
    })
    .await?;
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut msg = AddressMessage::default();
        msg.header.family = family;
        buf.clear();
        let seq = seq.wrapping_add(1);
        route_msg::emit(
            RouteNetlinkMessage::GetAddress(msg),
            NLM_F_REQUEST | NLM_F_DUMP,
            seq,
            &mut buf,
        );
        exchange(sock, &buf, seq, true, |t, p| {
            if t == RTM_NEWADDR {
                ifs.apply_address(p, false);
            }
        })
        .await?;
    }
    Ok(ifs)
}

/// Dumps `table` (both families; `protocol` 0: every protocol) and feeds each route
/// message's payload to `each`. Uses sequence numbers `seq` and `seq + 1`.
async fn route_dump(
    sock: &mut NlSocket,
    table: u32,
    protocol: u8,
    seq: u32,
    mut each: impl FnMut(&[u8]),
) -> io::Result<()> {
    for (i, family) in [AddressFamily::Inet, AddressFamily::Inet6].into_iter().enumerate() {
        let seq = seq.wrapping_add(i as u32);
        let mut buf = Vec::new();
        route_msg::emit_route_dump(table, protocol, family, seq, &mut buf);
        exchange(sock, &buf, seq, true, |t, p| {
            if t == RTM_NEWROUTE {
                each(p);
            }
        })
        .await?;
    }
    Ok(())
}

/// Routes of our protocol in our table, both families (filtered again on receipt).
pub async fn routes(
    sock: &mut NlSocket,
    id: &RouteIdentity,
    seq: u32,
) -> io::Result<Vec<ParsedRoute>> {
    let mut out = Vec::new();
    route_dump(sock, id.table, id.protocol, seq, |p| {
        if route_msg::peek_protocol(p) != Some(id.protocol) {
            return;
        }
        if let Some(r) = route_msg::parse_route(p) {
            if r.table == id.table {
                out.push(r);
            }
        }
    })
    .await?;
    Ok(out)
}

/// The main table's routes of other protocols that can resolve a next hop ([`OtherRoutes`]),
/// and how many routes of other protocols carry the legacy identity
/// ([`crate::config::legacy_routes_warning`]). Uses sequence numbers `seq` and `seq + 1`.
pub async fn other_routes(
    sock: &mut NlSocket,
    our_protocol: u8,
    seq: u32,
) -> io::Result<(OtherRoutes, usize)> {
    let mut out = OtherRoutes::default();
    let mut legacy = 0;
    route_dump(sock, RT_TABLE_MAIN, 0, seq, |p| {
        // Our own routes may be a million: skip them before parsing.
        if route_msg::peek_protocol(p) == Some(our_protocol) {
            return;
        }
        if let Some(r) = route_msg::parse_route(p) {
            if (r.protocol, r.metric) == (LEGACY_PROTOCOL, LEGACY_METRIC) {
                legacy += 1;
            }
            if OtherRoutes::wants(&r, our_protocol) {
                out.apply(&r, false, NLM_F_APPEND);
            }
        }
    })
    .await?;
    Ok((out, legacy))
}

/// All nexthop objects of the namespace; `None` when the kernel has no nexthop objects.
pub async fn nexthops(sock: &mut NlSocket, seq: u32) -> io::Result<Option<Vec<NexthopMessage>>> {
    let mut buf = Vec::new();
    nexthop_msg::emit_dump(seq, NLM_F_REQUEST | NLM_F_DUMP, &mut buf);
    let mut out = Vec::new();
    let result = exchange(sock, &buf, seq, true, |t, p| {
        if t == RTM_NEWNEXTHOP {
            if let Some(nh) = NexthopMessage::parse(p) {
                out.push(nh);
            }
        }
    })
    .await;
    match result {
        Ok(()) => Ok(Some(out)),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EOPNOTSUPP | libc::EINVAL | libc::EAFNOSUPPORT | libc::ENOENT)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The protocol of the route that holds `prefix`'s slot, if the kernel's FIB match for the
/// prefix's network address is exactly that prefix.
pub async fn slot_owner(sock: &mut NlSocket, prefix: &IpNet, seq: u32) -> Option<u8> {
    let mut buf = Vec::new();
    route_msg::emit_fib_match(prefix, seq, &mut buf);
    let mut owner = None;
    let done = exchange(sock, &buf, seq, false, |t, p| {
        if t == RTM_NEWROUTE {
            owner = route_msg::parse_route(p).filter(|r| r.prefix == *prefix).map(|r| r.protocol);
        }
    });
    match tokio::time::timeout(std::time::Duration::from_secs(2), done).await {
        Ok(Ok(())) => owner,
        _ => None,
    }
}
