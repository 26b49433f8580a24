//! Decode the same UPDATE stream (../benches/support/stream.rs: 1M IPv4 /24s and 200K IPv6
//! /48s in full-size UPDATEs with communities and a 4-octet AS_PATH) with bgp-core and three
//! published Rust codecs, in one run, and print a Markdown table.
//!
//! Each codec decodes whole messages into its own data structure (every prefix and attribute
//! materialised, which is what a speaker needs); every codec must find all 1.2M prefixes.
//! Run pinned to one core: `taskset -c 1 cargo run --release` in bgp-core/compare.
use std::hint::black_box;
use std::time::{Duration, Instant};

use bgp_core::wire::header::{begin_message, finish_message};
use bgp_core::wire::update::encode_update_body;
use bgp_core::wire::{decode_message, Message, MessageType, Update, WireContext};
use bytes::{Bytes, BytesMut};

#[path = "../../benches/support/stream.rs"]
mod stream;

/// Prefixes announced by every frame, or `None` on a decode failure.
type Decoder = fn(&[Bytes]) -> Option<usize>;

fn ours(frames: &[Bytes]) -> Option<usize> {
    let ctx = WireContext::modern();
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

/// Time one call.
fn time(f: impl FnOnce() -> Option<usize>, expected: usize) -> Duration {
    let t = Instant::now();
    let n = f();
    let d = t.elapsed();
    assert_eq!(n, Some(expected), "not every prefix decoded");
    d
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Our splitting encoder on the whole stream (the same attribute set and prefixes).
fn encode_split(s: &stream::Stream, out: &mut BytesMut) -> Option<usize> {
    use bgp_core::wire::update::split::encode_announcements;
    use bgp_core::wire::Family;
    out.clear();
    let (a, c) = (&s.attrs, &s.ctx);
    encode_announcements(a, &s.next_hop_v4, Family::IPV4_UNICAST, &s.v4, c, out).ok()?;
    encode_announcements(a, &s.next_hop_v6, Family::IPV6_UNICAST, &s.v6, c, out).ok()?;
    black_box(out.len());
    Some(s.prefixes())
}

/// Our encoder on the decoded messages, one UPDATE at a time.
fn encode_messages(updates: &[Update], ctx: &WireContext, out: &mut BytesMut) -> Option<usize> {
    out.clear();
    let mut n = 0;
    for u in updates {
        let start = begin_message(out, MessageType::Update);
        encode_update_body(black_box(u), ctx, out).ok()?;
        finish_message(out, start, ctx.max_message_len).ok()?;
        n += u.nlri.len() + u.mp_reach.as_ref().map_or(0, |r| r.nlri.len());
    }
    Some(n)
}

const RUNS: usize = 15;

fn main() {
    let s = stream::build();
    let frames: Vec<Bytes> = s.frames().cloned().collect();
    let v4: Vec<Bytes> = s.v4_frames.clone();
    let total = s.prefixes();
    println!(
        "stream: {} IPv4 /24 + {} IPv6 /48 prefixes in {} UPDATEs ({} octets); median of {RUNS} \
         runs, all codecs interleaved in each run\n",
        s.v4.len(),
        s.v6.len(),
        frames.len(),
        s.bytes(),
    );
    let codecs: [(&str, Decoder); 4] = [
        ("bgp-core (ours)", ours),
        ("rustbgpd-wire 0.27.0", rustbgpd),
        ("bgpkit-parser 0.23.0", bgpkit),
        ("zettabgp 0.6.0", zetta),
    ];
    let mut all: Vec<Vec<Duration>> = vec![Vec::new(); codecs.len()];
    let mut ipv4: Vec<Vec<Duration>> = vec![Vec::new(); codecs.len()];
    let ctx = WireContext::modern();
    let updates: Vec<Update> = frames
        .iter()
        .filter_map(|f| match decode_message(f.clone(), &ctx) {
            Ok(Message::Update(u)) => Some(u),
            _ => None,
        })
        .collect();
    let mut out = BytesMut::with_capacity(s.bytes() + 65536);
    let (mut split, mut reenc) = (Vec::new(), Vec::new());
    for run in 0..=RUNS {
        let mut row = Vec::new();
        for (i, (_, decode)) in codecs.iter().enumerate() {
            row.push((
                i,
                time(|| decode(black_box(&frames)), total),
                time(|| decode(&v4), v4_len(&s)),
            ));
        }
        let e1 = time(|| encode_split(&s, &mut out), total);
        let e2 = time(|| encode_messages(&updates, &ctx, &mut out), total);
        if run == 0 {
            continue; // warm-up
        }
        for (i, a, b) in row {
            all[i].push(a);
            ipv4[i].push(b);
        }
        split.push(e1);
        reenc.push(e2);
    }
    println!("| codec | decode whole stream | ns/prefix | M prefixes/s | IPv4 part: M prefixes/s | time vs bgp-core |");
    println!("|---|---|---|---|---|---|");
    let ours_ns = median(all[0].clone()).as_nanos() as f64 / total as f64;
    for (i, (name, _)) in codecs.iter().enumerate() {
        let a = median(all[i].clone());
        let b = median(ipv4[i].clone());
        let ns = a.as_nanos() as f64 / total as f64;
        println!(
            "| {name} | {:.2} ms | {ns:.2} | {:.1} | {:.1} | {:.2}x |",
            a.as_secs_f64() * 1e3,
            total as f64 / a.as_secs_f64() / 1e6,
            v4_len(&s) as f64 / b.as_secs_f64() / 1e6,
            ns / ours_ns,
        );
    }
    for (name, t) in [
        ("bgp-core encode: splitting encoder, whole stream", median(split)),
        ("bgp-core encode: the decoded UPDATEs one by one", median(reenc)),
    ] {
        let ns = t.as_nanos() as f64 / total as f64;
        println!(
            "| {name} | {:.2} ms | {ns:.2} | {:.1} | | {:.2}x |",
            t.as_secs_f64() * 1e3,
            total as f64 / t.as_secs_f64() / 1e6,
            ns / ours_ns
        );
    }
}

fn v4_len(s: &stream::Stream) -> usize {
    s.v4.len()
}
