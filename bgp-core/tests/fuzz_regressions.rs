//! Every input the cargo-fuzz targets (bgp-core/fuzz) ever failed on, replayed with the same
//! checks. Files in tests/fuzz_regressions/ are named `<target>-<what>.bin`, raw fuzzer input
//! (first octet = the WireContext selector, as in fuzz/fuzz_targets/common.rs).
use std::path::Path;

use bgp_core::wire::context::{MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
use bgp_core::wire::message::{decode_message, Message};
use bgp_core::wire::split_frame;
use bgp_core::wire::update::{decode_update, encode_update_body};
use bgp_core::wire::{Family, Open, WireContext};
use bytes::{Bytes, BytesMut};

/// Same as fuzz/fuzz_targets/common.rs.
fn split_context(data: &[u8]) -> Option<(WireContext, &[u8])> {
    let (&sel, rest) = data.split_first()?;
    let mut add_path = Vec::new();
    if sel & 2 != 0 {
        add_path.push(Family::IPV4_UNICAST);
    }
    if sel & 4 != 0 {
        add_path.push(Family::IPV6_UNICAST);
    }
    let max_message_len = if sel & 8 != 0 { MAX_EXTENDED_MESSAGE_LEN } else { MAX_MESSAGE_LEN };
    Some((WireContext { four_octet_as: sel & 1 != 0, add_path, max_message_len }, rest))
}

fn check_message(data: &[u8]) {
    let Some((ctx, rest)) = split_context(data) else { return };
    let mut buf = BytesMut::from(rest);
    while let Ok(Some(frame)) = split_frame(&mut buf, &ctx) {
        let Ok(msg) = decode_message(frame, &ctx) else { continue };
        if matches!(&msg, Message::Update(u) if !u.issues.is_empty()) {
            let _ = msg.to_bytes(&ctx);
            continue;
        }
        if let Ok(wire) = msg.to_bytes(&ctx) {
            assert_eq!(decode_message(wire, &ctx).expect("decodes"), msg);
        }
    }
}

fn check_update(data: &[u8]) {
    let Some((ctx, rest)) = split_context(data) else { return };
    let Ok(update) = decode_update(&Bytes::copy_from_slice(rest), &ctx) else { return };
    let mut out = BytesMut::new();
    if encode_update_body(&update, &ctx, &mut out).is_err() || !update.issues.is_empty() {
        return;
    }
    assert_eq!(decode_update(&out.freeze(), &ctx).expect("decodes"), update);
}

fn check_open(data: &[u8]) {
    let Some((_, rest)) = split_context(data) else { return };
    let Ok(open) = Open::decode(&Bytes::copy_from_slice(rest)) else { return };
    let mut out = BytesMut::new();
    if open.encode_body(&mut out).is_ok() {
        assert_eq!(Open::decode(&out.freeze()).expect("decodes"), open);
    }
}

#[test]
fn replay_fuzz_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let data = std::fs::read(&path).unwrap();
        match name.split('-').next() {
            Some("message") => check_message(&data),
            Some("update") => check_update(&data),
            Some("open") => check_open(&data),
            _ => panic!("{name}: unknown target prefix"),
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}
