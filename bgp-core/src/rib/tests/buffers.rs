//! What the RIB keeps of a received UPDATE owns its memory: nothing stored is a zero-copy
//! slice of the read buffer the message was framed from, so memory per route does not
//! depend on how the peer segmented its TCP stream.
use bytes::{Bytes, BytesMut};

use super::*;
use crate::wire::attributes::{RawAttribute, FLAG_OPTIONAL, FLAG_TRANSITIVE};
use crate::wire::message::encode_message;
use crate::wire::update::decode_update;
use crate::wire::{LargeCommunity, Message, WireContext};

/// Every kind of attribute value the decoder produces, the variable-length ones included
/// (`opaque_mp`: with an MP_REACH_NLRI of a family not decoded, for IPv4 announcements).
fn rich_attrs(opaque_mp: bool) -> PathAttributes {
    let mut a = attrs(&[65001, 65002, 65003]);
    a.med = Some(5);
    a.communities = vec![0xFDE8_0001, 0xFDE8_0002];
    a.extended_communities = vec![0x0002_FDE8_0000_0001];
    a.large_communities = vec![LargeCommunity { global: 65001, local1: 1, local2: 2 }];
    a.unknown = vec![
        RawAttribute {
            flags: FLAG_OPTIONAL | FLAG_TRANSITIVE,
            type_code: 99,
            value: Bytes::from_static(b"optional transitive value"),
        },
        RawAttribute {
            flags: FLAG_OPTIONAL,
            type_code: 100,
            value: Bytes::from_static(b"optional non-transitive"),
        },
    ];
    if opaque_mp {
        // MP_REACH_NLRI of a family not decoded (L2VPN EVPN) is kept opaque too.
        let value = Bytes::from_static(&[0, 25, 70, 4, 198, 18, 0, 1, 0]);
        a.unknown.insert(0, RawAttribute { flags: FLAG_OPTIONAL, type_code: 14, value });
    }
    a
}

/// A 64 KiB read buffer holding one small UPDATE among other bytes, as the session's framer
/// sees it, and the message body split off it without copying.
fn framed(update: &Update, ctx: &WireContext) -> (Bytes, Bytes) {
    let mut message = BytesMut::new();
    encode_message(&Message::Update(update.clone()), ctx, &mut message).unwrap();
    let mut buffer = BytesMut::with_capacity(64 * 1024);
    buffer.extend_from_slice(&[0u8; 1000]);
    let at = buffer.len();
    buffer.extend_from_slice(&message);
    buffer.resize(64 * 1024, 0);
    let buffer = buffer.freeze();
    let body = buffer.slice(at + 19..at + message.len());
    (buffer, body)
}

#[test]
fn stored_routes_do_not_pin_the_read_buffer() {
    let ctx = WireContext::modern();
    let mut r = rib();
    let e = up(&mut r, 1, peer("198.18.0.1", 65001, "1.1.1.1"));
    let v4 = announce(&["203.0.113.0/24"], rich_attrs(true), "198.18.0.1");
    let v6 = announce(&["2001:db8:1::/48"], rich_attrs(false), "2001:db8::1");
    for (prefix, sent) in [("203.0.113.0/24", v4), ("2001:db8:1::/48", v6)] {
        let (mut buffer, body) = framed(&sent, &ctx);
        let received = decode_update(&body, &ctx).unwrap();
        assert_eq!(received.attributes.unknown, sent.attributes.unknown);
        r.apply_update(e, &received).unwrap();
        drop(received);
        drop(body);
        assert!(buffer.is_unique(), "the RIB holds a slice of the read buffer");
        // Nothing is lost by copying: the stored attributes are the ones sent.
        let stored = r.explain(&net(prefix)).unwrap().paths[0].attrs.clone();
        assert_eq!(stored.path.unknown, sent.attributes.unknown);
        assert_eq!(stored.path.large_communities, sent.attributes.large_communities);
        buffer.clear();
    }
}
