//! Byte builders shared by the UPDATE codec tests.
#![allow(dead_code)]

use bgp_core::wire::attributes::*;
use bgp_core::wire::update::{decode_update, encode_update_body};
use bgp_core::wire::{DecodeError, Update, WireContext};
use bytes::{Bytes, BytesMut};

/// One attribute: flags, type, value (extended length when the flag says so).
pub fn attr(flags: u8, type_code: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, type_code];
    if flags & FLAG_EXTENDED_LENGTH != 0 {
        v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        v.push(value.len() as u8);
    }
    v.extend_from_slice(value);
    v
}

pub const WK: u8 = FLAG_TRANSITIVE;
pub const OT: u8 = FLAG_OPTIONAL | FLAG_TRANSITIVE;
pub const ON: u8 = FLAG_OPTIONAL;

pub fn origin_igp() -> Vec<u8> {
    attr(WK, ATTR_ORIGIN, &[0])
}
/// AS_PATH with one 4-octet AS_SEQUENCE.
pub fn as_path4(asns: &[u32]) -> Vec<u8> {
    let mut v = vec![2, asns.len() as u8];
    for a in asns {
        v.extend_from_slice(&a.to_be_bytes());
    }
    attr(WK, ATTR_AS_PATH, &v)
}
/// AS_PATH with one 2-octet AS_SEQUENCE.
pub fn as_path2(asns: &[u16]) -> Vec<u8> {
    let mut v = vec![2, asns.len() as u8];
    for a in asns {
        v.extend_from_slice(&a.to_be_bytes());
    }
    attr(WK, ATTR_AS_PATH, &v)
}
pub fn next_hop(a: [u8; 4]) -> Vec<u8> {
    attr(WK, ATTR_NEXT_HOP, &a)
}
/// The three mandatory attributes of an IPv4 announcement (4-octet AS).
pub fn mandatory() -> Vec<u8> {
    [origin_igp(), as_path4(&[65001]), next_hop([198, 18, 0, 1])].concat()
}

/// UPDATE body from withdrawn routes, attributes and NLRI fields.
pub fn body(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Bytes {
    let mut v = Vec::new();
    v.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    v.extend_from_slice(withdrawn);
    v.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    v.extend_from_slice(attrs);
    v.extend_from_slice(nlri);
    Bytes::from(v)
}

/// 198.18.1.0/24 and 198.18.2.0/24.
pub const NLRI2: [u8; 8] = [24, 198, 18, 1, 24, 198, 18, 2];

pub fn ctx4() -> WireContext {
    WireContext::modern()
}

pub fn decode(b: &Bytes) -> Result<Update, DecodeError> {
    decode_update(b, &ctx4())
}

pub fn encode(u: &Update, ctx: &WireContext) -> Bytes {
    let mut out = BytesMut::new();
    encode_update_body(u, ctx, &mut out).expect("encodes");
    out.freeze()
}

/// Decode `b`, check it has no issue and re-encodes to the same bytes; return it.
pub fn round_trip(b: &Bytes, ctx: &WireContext) -> Update {
    let u = decode_update(b, ctx).expect("decodes");
    assert!(u.issues.is_empty(), "unexpected issues {:?}", u.issues);
    assert_eq!(encode(&u, ctx), *b, "re-encoding is not byte-exact for {u:#?}");
    u
}

pub fn p(s: &str) -> bgp_core::wire::Nlri {
    bgp_core::wire::Nlri::new(s.parse().unwrap())
}
