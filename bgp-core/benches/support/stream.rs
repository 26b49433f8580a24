//! The benchmark's UPDATE stream: 1M IPv4 /24s and 200K IPv6 /48s announced in full-size
//! (4096-octet) UPDATEs with communities and a 4-octet AS_PATH, as a session with the 4-octet
//! AS capability and no ADD-PATH carries them. Shared by benches/codec.rs and the comparison
//! crate (compare/), so every codec parses the very same bytes.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_core::wire::attributes::{AsPath, Origin, PathAttributes};
use bgp_core::wire::split_frame;
use bgp_core::wire::update::split::encode_announcements;
use bgp_core::wire::{Family, MpNextHop, Nlri, WireContext};
use bytes::{Bytes, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

pub const IPV4_PREFIXES: usize = 1_000_000;
pub const IPV6_PREFIXES: usize = 200_000;

pub struct Stream {
    pub ctx: WireContext,
    pub attrs: PathAttributes,
    pub next_hop_v4: MpNextHop,
    pub next_hop_v6: MpNextHop,
    pub v4: Vec<Nlri>,
    pub v6: Vec<Nlri>,
    /// Whole messages (header included), IPv4 ones first.
    pub v4_frames: Vec<Bytes>,
    pub v6_frames: Vec<Bytes>,
}

impl Stream {
    pub fn frames(&self) -> impl Iterator<Item = &Bytes> {
        self.v4_frames.iter().chain(self.v6_frames.iter())
    }
    pub fn bytes(&self) -> usize {
        self.frames().map(|f| f.len()).sum()
    }
    pub fn prefixes(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
}

/// 1.0.0.0/24, 1.0.1.0/24, ... and 2a00:0:0::/48, 2a00:0:1::/48, ...
pub fn prefixes() -> (Vec<Nlri>, Vec<Nlri>) {
    let v4 = (0..IPV4_PREFIXES as u32)
        .map(|i| {
            let net = Ipv4Net::new(Ipv4Addr::from(0x0100_0000 + (i << 8)), 24).expect("/24");
            Nlri::new(IpNet::V4(net))
        })
        .collect();
    let v6 = (0..IPV6_PREFIXES as u128)
        .map(|i| {
            let addr = Ipv6Addr::from((0x2a00u128 << 112) | (i << 80));
            Nlri::new(IpNet::V6(Ipv6Net::new(addr, 48).expect("/48")))
        })
        .collect();
    (v4, v6)
}

pub fn attributes() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(vec![64512, 4_200_000_001, 65010, 4_200_000_002])),
        med: Some(10),
        communities: vec![(65001 << 16) | 100, (65001 << 16) | 200, (65010 << 16) | 3000],
        ..Default::default()
    }
}

fn split(mut buf: BytesMut, ctx: &WireContext) -> Vec<Bytes> {
    let mut frames = Vec::new();
    while let Ok(Some(frame)) = split_frame(&mut buf, ctx) {
        frames.push(frame);
    }
    assert!(buf.is_empty(), "stream does not split into whole messages");
    frames
}

pub fn build() -> Stream {
    let ctx = WireContext::modern();
    let attrs = attributes();
    let (v4, v6) = prefixes();
    let next_hop_v4 =
        MpNextHop { global: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)), link_local: None };
    let next_hop_v6 = MpNextHop { global: "2001:db8::1".parse().expect("v6"), link_local: None };
    let mut out = BytesMut::new();
    encode_announcements(&attrs, &next_hop_v4, Family::IPV4_UNICAST, &v4, &ctx, &mut out)
        .expect("IPv4 stream encodes");
    let v4_frames = split(out, &ctx);
    let mut out = BytesMut::new();
    encode_announcements(&attrs, &next_hop_v6, Family::IPV6_UNICAST, &v6, &ctx, &mut out)
        .expect("IPv6 stream encodes");
    let v6_frames = split(out, &ctx);
    Stream { ctx, attrs, next_hop_v4, next_hop_v6, v4, v6, v4_frames, v6_frames }
}
