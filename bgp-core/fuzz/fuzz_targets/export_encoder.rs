//! The splitting UPDATE encoder with extreme attributes: whatever attributes a peer can send
//! us (decoded from the input) are re-encoded for many prefixes. Every message written must be
//! within the negotiated maximum length and decode again to the same attributes, and the
//! prefixes announced must be exactly those asked for; an attribute set too large for one
//! message must be an error, never a panic or an over-long message.
#![no_main]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_core::wire::attributes::FLAG_TRANSITIVE;
use bgp_core::wire::message::decode_message;
use bgp_core::wire::split_frame;
use bgp_core::wire::update::{decode_update, encode_announcements, encode_withdrawals};
use bgp_core::wire::{AttributeAction, Family, Message, MpNextHop, Nlri};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((ctx, rest)) = common::split_context(data) else { return };
    let Some((&shape, rest)) = rest.split_first() else { return };
    let Ok(mut update) = decode_update(&Bytes::copy_from_slice(rest), &ctx) else { return };
    // A treat-as-withdraw UPDATE (RFC 7606) announces nothing: its attributes never reach the
    // RIB, so they are never exported.
    if update.issues.iter().any(|i| i.action == AttributeAction::TreatAsWithdraw) {
        return;
    }
    // As the RIB's export does (RFC 4271 §9.1.3): unknown optional non-transitive attributes
    // are not passed on.
    update.attributes.unknown.retain(|a| a.flags & FLAG_TRANSITIVE != 0);
    let family = if shape & 1 != 0 { Family::IPV6_UNICAST } else { Family::IPV4_UNICAST };
    let count = 1 + usize::from(shape >> 1) * 37;
    let nlri: Vec<Nlri> = (0..count).map(|i| prefix(family, i)).collect();
    let next_hop = match family {
        Family::IPV4_UNICAST => MpNextHop { global: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)), link_local: None },
        _ => MpNextHop { global: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), link_local: None },
    };
    let mut out = BytesMut::new();
    let mut seen = Vec::new();
    match encode_announcements(&update.attributes, &next_hop, family, &nlri, &ctx, &mut out) {
        Ok(messages) => {
            let mut n = 0;
            while let Some(frame) = split_frame(&mut out, &ctx).expect("our framing") {
                assert!(frame.len() <= ctx.max_message_len, "message over the maximum length");
                let Message::Update(u) = decode_message(frame, &ctx).expect("our encoding decodes")
                else {
                    panic!("not an UPDATE")
                };
                // Attributes a peer may send but that lack a mandatory one come back as an
                // RFC 7606 treat-as-withdraw: their prefixes are then in the withdrawn fields.
                seen.extend(u.nlri.iter().chain(&u.withdrawn).map(|n| n.prefix));
                if let Some(r) = &u.mp_reach {
                    seen.extend(r.nlri.iter().map(|n| n.prefix));
                }
                if let Some(w) = &u.mp_unreach {
                    seen.extend(w.withdrawn.iter().map(|n| n.prefix));
                }
                n += 1;
            }
            assert_eq!(n, messages, "message count");
            let asked: Vec<_> = nlri.iter().map(|n| n.prefix).collect();
            assert_eq!(seen, asked, "every prefix announced once, in order");
        }
        Err(_) => {
            // Too large for one message: whatever was written before must still be whole.
            while let Some(frame) = split_frame(&mut out, &ctx).expect("our framing") {
                assert!(frame.len() <= ctx.max_message_len);
            }
        }
    }
    let mut out = BytesMut::new();
    let messages = encode_withdrawals(family, &nlri, &ctx, &mut out).expect("withdrawals fit");
    let mut n = 0;
    while let Some(frame) = split_frame(&mut out, &ctx).expect("our framing") {
        assert!(frame.len() <= ctx.max_message_len);
        decode_message(frame, &ctx).expect("our withdrawal decodes");
        n += 1;
    }
    assert_eq!(n, messages);
});

fn prefix(family: Family, i: usize) -> Nlri {
    let i = i as u32;
    let text = match family {
        Family::IPV4_UNICAST => format!("198.19.{}.{}/32", (i >> 8) & 0xff, i & 0xff),
        _ => format!("2001:db8:{:x}:{:x}::/64", i >> 16, i & 0xffff),
    };
    Nlri::new(text.parse().expect("valid prefix"))
}
