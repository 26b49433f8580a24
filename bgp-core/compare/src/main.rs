//! Decode the same UPDATE stream (../benches/support/stream.rs: 1M IPv4 /24s and 200K IPv6
//! /48s in full-size UPDATEs with communities and a 4-octet AS_PATH) with bgp-core and three
//! published Rust codecs, in one run, and print a Markdown table.
//!
//! Each codec decodes whole messages into its own data structure (every prefix and attribute
//! materialised, which is what a speaker needs); every codec must find all 1.2M prefixes.
//! Run pinned to one core: `taskset -c 1 cargo run --release` in bgp-core/compare.
use std::hint::black_box;
use std::time::{Duration, Instant};

use bgp_core::wire::message::{decode_message, Message};
use bytes::Bytes;

#[path = "../../benches/support/stream.rs"]
mod stream;

/// Prefixes announced by every frame, or `None` on a decode failure.
type Decoder = fn(&[Bytes]) -> Option<usize>;

fn ours(frames: &[Bytes]) -> Option<usize> {
    let ctx = bgp_core::wire::WireContext::modern();
    let mut n = 0;
    for f in frames {
        let Ok(Message::Update(u)) = decode_message(f.clone(), &ctx) else { return None };
        n += u.nlri.len() + u.mp_reach.as_ref().map_or(0, |r| r.nlri.len());
        black_box(&u);
    }
    Some(n)
}

fn rustbgpd(frames: &[Bytes]) -> Option<usize> {
    use rustbgpd_wire::attribute::PathAttribute;
    let mut n = 0;
    for f in frames {
        let mut buf = f.clone();
        let Ok(rustbgpd_wire::Message::Update(u)) = rustbgpd_wire::decode_message(&mut buf, 4096)
        else {
            return None;
        };
        let parsed = u.parse(true, false, &[]).ok()?;
        n += parsed.announced.len();
        for a in &parsed.attributes {
            if let PathAttribute::MpReachNlri(r) = a {
                n += r.announced.len();
            }
        }
        black_box(&parsed);
    }
    Some(n)
}

fn bgpkit(frames: &[Bytes]) -> Option<usize> {
    use bgpkit_parser::models::{AsnLength, BgpMessage};
    let mut n = 0;
    for f in frames {
        let mut buf = f.clone();
        let Ok(BgpMessage::Update(u)) =
            bgpkit_parser::parser::bgp::parse_bgp_message(&mut buf, false, &AsnLength::Bits32)
        else {
            return None;
        };
        n += u.announced_prefixes.len();
        n += u.attributes.get_reachable_nlri().map_or(0, |r| r.prefixes.len());
        black_box(&u);
    }
    Some(n)
}

fn zetta(frames: &[Bytes]) -> Option<usize> {
    use zettabgp::prelude::*;
    let mut params = BgpSessionParams::new(
        65001,
        180,
        BgpTransportMode::IPv4,
        std::net::Ipv4Addr::new(198, 18, 0, 2),
        vec![BgpCapability::CapASN32(65001)],
    );
    params.has_as32bit = true;
    // No guessing of path identifiers: the session has no ADD-PATH.
    params.fuzzy_pathid = false;
    let mut n = 0;
    for f in frames {
        let (kind, len) = params.decode_message_head(f).ok()?;
        if kind != BgpMessageType::Update {
            return None;
        }
        let mut u = BgpUpdateMessage::new();
        u.decode_from(&params, f.get(19..19 + len)?).ok()?;
        n += u.updates.len();
        n += u.get_mpupdates().map_or(0, |m| m.addrs.len());
        black_box(&u);
    }
    Some(n)
}

/// Median of `runs` timed decodes of the whole stream.
fn measure(decode: Decoder, frames: &[Bytes], expected: usize, runs: usize) -> Duration {
    assert_eq!(decode(frames), Some(expected), "warm-up: not every prefix decoded");
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let n = decode(black_box(frames));
            let d = t.elapsed();
            assert_eq!(n, Some(expected));
            d
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    let s = stream::build();
    let frames: Vec<Bytes> = s.frames().cloned().collect();
    let v4: Vec<Bytes> = s.v4_frames.clone();
    let total = s.prefixes();
    println!(
        "stream: {} IPv4 /24 + {} IPv6 /48 prefixes in {} UPDATEs ({} octets)\n",
        s.v4.len(),
        s.v6.len(),
        frames.len(),
        s.bytes()
    );
    let codecs: [(&str, Decoder); 4] = [
        ("bgp-core (ours)", ours),
        ("rustbgpd-wire 0.27.0", rustbgpd),
        ("bgpkit-parser 0.23.0", bgpkit),
        ("zettabgp 0.6.0", zetta),
    ];
    println!("| codec | whole stream | ns/prefix | M prefixes/s | IPv4 part: M prefixes/s | vs bgp-core |");
    println!("|---|---|---|---|---|---|");
    let mut ours_ns = 0.0;
    for (name, decode) in codecs {
        let all = measure(decode, &frames, total, 11);
        let ipv4 = measure(decode, &v4, s.v4.len(), 11);
        let ns = all.as_nanos() as f64 / total as f64;
        if ours_ns == 0.0 {
            ours_ns = ns;
        }
        println!(
            "| {name} | {:.1} ms | {ns:.2} | {:.1} | {:.1} | {:.2}x |",
            all.as_secs_f64() * 1e3,
            total as f64 / all.as_secs_f64() / 1e6,
            s.v4.len() as f64 / ipv4.as_secs_f64() / 1e6,
            ns / ours_ns,
        );
    }
}
