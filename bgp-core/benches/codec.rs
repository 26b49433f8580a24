//! Codec throughput on a realistic UPDATE stream (benches/support/stream.rs): 1M IPv4 /24s and
//! 200K IPv6 /48s in full-size UPDATEs with communities and a 4-octet AS_PATH.
//!
//! `taskset -c 1 cargo bench -p bgp-core --bench codec`; throughput is in prefixes (elements).
use std::hint::black_box;
use std::time::Duration;

use bgp_core::wire::header::{begin_message, finish_message};
use bgp_core::wire::update::encode_update_body;
use bgp_core::wire::update::split::encode_announcements;
use bgp_core::wire::{decode_message, Family, Message, MessageType, Update};
use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "support/stream.rs"]
mod stream;

/// Decode every frame; returns the prefixes seen (so nothing is optimised away).
fn decode_all<'a>(frames: impl Iterator<Item = &'a Bytes>, s: &stream::Stream) -> usize {
    let mut n = 0;
    for frame in frames {
        match decode_message(frame.clone(), &s.ctx) {
            Ok(Message::Update(u)) => {
                n += u.nlri.len() + u.mp_reach.as_ref().map_or(0, |r| r.nlri.len());
                black_box(&u);
            }
            _ => panic!("stream message does not decode"),
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let s = stream::build();
    assert_eq!(decode_all(s.frames(), &s), s.prefixes());
    let decoded: Vec<Update> = s
        .frames()
        .map(|f| match decode_message(f.clone(), &s.ctx) {
            Ok(Message::Update(u)) => u,
            _ => panic!("not an UPDATE"),
        })
        .collect();
    eprintln!(
        "stream: {} IPv4 + {} IPv6 prefixes, {} + {} messages, {} octets",
        s.v4.len(),
        s.v6.len(),
        s.v4_frames.len(),
        s.v6_frames.len(),
        s.bytes()
    );

    let mut g = c.benchmark_group("codec");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));

    g.throughput(Throughput::Elements(s.prefixes() as u64));
    g.bench_function("decode/stream", |b| b.iter(|| decode_all(s.frames(), &s)));
    g.throughput(Throughput::Elements(s.v4.len() as u64));
    g.bench_function("decode/ipv4", |b| b.iter(|| decode_all(s.v4_frames.iter(), &s)));
    g.throughput(Throughput::Elements(s.v6.len() as u64));
    g.bench_function("decode/ipv6", |b| b.iter(|| decode_all(s.v6_frames.iter(), &s)));

    let mut out = BytesMut::with_capacity(s.bytes() + 4096);
    g.throughput(Throughput::Elements(s.prefixes() as u64));
    g.bench_function("encode/split_stream", |b| {
        b.iter(|| {
            out.clear();
            let v4 = Family::IPV4_UNICAST;
            let v6 = Family::IPV6_UNICAST;
            encode_announcements(&s.attrs, &s.next_hop_v4, v4, &s.v4, &s.ctx, &mut out).unwrap();
            encode_announcements(&s.attrs, &s.next_hop_v6, v6, &s.v6, &s.ctx, &mut out).unwrap();
            black_box(out.len())
        })
    });
    g.throughput(Throughput::Elements(s.v4.len() as u64));
    g.bench_function("encode/split_ipv4", |b| {
        b.iter(|| {
            out.clear();
            let (nh, v4) = (&s.next_hop_v4, Family::IPV4_UNICAST);
            encode_announcements(&s.attrs, nh, v4, &s.v4, &s.ctx, &mut out).unwrap();
            black_box(out.len())
        })
    });
    g.throughput(Throughput::Elements(s.prefixes() as u64));
    g.bench_function("encode/messages", |b| {
        b.iter(|| {
            out.clear();
            for u in &decoded {
                // encode_message without moving the Update into a Message.
                let start = begin_message(&mut out, MessageType::Update);
                encode_update_body(black_box(u), &s.ctx, &mut out).unwrap();
                finish_message(&mut out, start, s.ctx.max_message_len).unwrap();
            }
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
