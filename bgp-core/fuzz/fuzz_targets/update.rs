//! UPDATE body decoder (attributes, MP_REACH/MP_UNREACH, NLRI, RFC 7606 actions).
#![no_main]
use bgp_core::wire::update::{decode_update, encode_update_body};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((ctx, rest)) = common::split_context(data) else { return };
    let Ok(update) = decode_update(&Bytes::copy_from_slice(rest), &ctx) else { return };
    let mut out = BytesMut::new();
    if encode_update_body(&update, &ctx, &mut out).is_err() || !update.issues.is_empty() {
        return;
    }
    let again = decode_update(&out.freeze(), &ctx).expect("our own encoding decodes");
    assert_eq!(again, update, "decode(encode(u)) != u");
});
