//! Framer + whole-message decoder. Oracle: a message that decodes without RFC 7606 issues
//! re-encodes, and that encoding decodes to the same message.
#![no_main]
use bgp_core::wire::message::{decode_message, Message};
use bgp_core::wire::split_frame;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((ctx, rest)) = common::split_context(data) else { return };
    let mut buf = BytesMut::from(rest);
    while let Ok(Some(frame)) = split_frame(&mut buf, &ctx) {
        let Ok(msg) = decode_message(frame, &ctx) else { continue };
        if matches!(&msg, Message::Update(u) if !u.issues.is_empty()) {
            let _ = msg.to_bytes(&ctx);
            continue;
        }
        if let Ok(wire) = msg.to_bytes(&ctx) {
            let again = decode_message(wire, &ctx).expect("our own encoding decodes");
            assert_eq!(again, msg, "decode(encode(m)) != m");
        }
    }
});
