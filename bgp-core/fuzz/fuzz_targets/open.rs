//! OPEN body decoder (optional parameters, RFC 9072, capabilities).
#![no_main]
use bgp_core::wire::Open;
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    // The context does not change OPEN decoding; the selector octet keeps inputs shared with
    // the other targets' corpora meaningful.
    let Some((_ctx, rest)) = common::split_context(data) else { return };
    let Ok(open) = Open::decode(&Bytes::copy_from_slice(rest)) else { return };
    let mut out = BytesMut::new();
    if open.encode_body(&mut out).is_ok() {
        let again = Open::decode(&out.freeze()).expect("our own encoding decodes");
        assert_eq!(again, open, "decode(encode(o)) != o");
    }
});
