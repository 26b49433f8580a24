//! What the kernel sends route-sync: a netlink datagram (links, addresses, routes, nexthop
//! objects, errors) split into messages and applied to the interface and other-routes view,
//! as the monitor and the start-up dump do. Nothing the kernel (or a process in the same
//! namespace) can put in a datagram may panic; the view must still answer lookups.
#![no_main]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use route_sync::interfaces::Interfaces;
use route_sync::nexthop_msg::{NexthopMessage, RTM_DELNEXTHOP, RTM_NEWNEXTHOP};
use route_sync::route_msg::{parse_route, peek_protocol};
use route_sync::socket::messages;

/// Our own protocol number, as the daemon configures it.
const OURS: u8 = 200;

fuzz_target!(|data: &[u8]| {
    let mut view = Interfaces::default();
    for msg in messages(data) {
        let _ = msg.error_code();
        let _ = msg.error_seq();
        match msg.message_type {
            16 | 17 => {
                view.apply_link(msg.payload, msg.message_type == 17);
            }
            20 | 21 => {
                view.apply_address(msg.payload, msg.message_type == 21);
            }
            24 | 25 => {
                let _ = peek_protocol(msg.payload);
                if let Some(route) = parse_route(msg.payload) {
                    view.apply_route(&route, msg.message_type == 25, msg.flags, OURS);
                }
            }
            RTM_NEWNEXTHOP | RTM_DELNEXTHOP => {
                if let Some(nh) = NexthopMessage::parse(msg.payload) {
                    view.apply_object(&nh, msg.message_type == RTM_DELNEXTHOP, OURS);
                }
            }
            _ => {}
        }
    }
    for target in [
        IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
    ] {
        if let Some(resolved) = view.resolve(target) {
            assert_eq!(view.cost(target), Some(resolved.cost));
        }
    }
});
