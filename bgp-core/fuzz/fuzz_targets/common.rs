//! Shared by the fuzz targets: the session context comes from the first input octet, so every
//! WireContext variant is explored.
use bgp_core::wire::context::{MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
use bgp_core::wire::{Family, WireContext};

/// Bit 0: 4-octet AS; bit 1: ADD-PATH IPv4; bit 2: ADD-PATH IPv6; bit 3: extended messages.
pub fn split_context(data: &[u8]) -> Option<(WireContext, &[u8])> {
    let (&sel, rest) = data.split_first()?;
    let mut add_path = Vec::new();
    if sel & 2 != 0 {
        add_path.push(Family::IPV4_UNICAST);
    }
    if sel & 4 != 0 {
        add_path.push(Family::IPV6_UNICAST);
    }
    let ctx = WireContext {
        four_octet_as: sel & 1 != 0,
        add_path,
        max_message_len: if sel & 8 != 0 { MAX_EXTENDED_MESSAGE_LEN } else { MAX_MESSAGE_LEN },
    };
    Some((ctx, rest))
}
