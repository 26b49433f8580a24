//! The splitting encoder: one attribute set and many prefixes in as few whole UPDATE messages
//! (header included) as the session's maximum message size allows (RFC 4271 §4.1: 4096, or
//! 65535 with RFC 8654 extended messages).
//!
//! The attributes are encoded once; each message is then that template plus as many NLRI as
//! fit. IPv4 unicast with an IPv4 next hop uses the classic NEXT_HOP attribute and NLRI field;
//! every other case (IPv6, and IPv4 with an IPv6 next hop per RFC 8950) uses MP_REACH_NLRI,
//! written as the first attribute (RFC 7606 §5.1). Withdrawals of IPv4 unicast use the classic
//! Withdrawn Routes field, all others MP_UNREACH_NLRI.
use std::net::IpAddr;

use bytes::{BufMut, BytesMut};

use super::mp::{encode_mp_reach_fixed, mp_reach_fixed_len};
use super::{patch_u16, MpNextHop};
use crate::wire::attributes::encode::{encode_attributes, AttributeSource};
use crate::wire::attributes::{
    PathAttributes, ATTR_MP_REACH_NLRI, ATTR_MP_UNREACH_NLRI, FLAG_EXTENDED_LENGTH, FLAG_OPTIONAL,
};
use crate::wire::context::WireContext;
use crate::wire::error::EncodeError;
use crate::wire::family::Family;
use crate::wire::header::{begin_message, finish_message, MessageType, HEADER_LEN};
use crate::wire::nlri::{encode_nlri_run, Nlri};

/// Withdrawn Routes Length + Total Path Attribute Length.
const LENGTH_FIELDS: usize = 4;
/// Flags, type and 2-octet length of an MP attribute (always extended length here).
const MP_HEADER: usize = 4;

/// Announce `nlri` (all of `family`) with `attrs` and `next_hop`, appending whole UPDATE
/// messages to `out`. Returns how many messages were written (0 for no NLRI).
///
/// - `family` IPv4 unicast with an IPv4 `next_hop` (no link-local): NEXT_HOP attribute set to
///   `next_hop` (`attrs.next_hop` is ignored) and the classic NLRI field.
/// - Otherwise MP_REACH_NLRI with `next_hop` (IPv6 global, optionally link-local, RFC 2545;
///   an IPv6 next hop for IPv4 NLRI is RFC 8950 and needs the Extended Next Hop capability);
///   no NEXT_HOP attribute is written.
///
/// Path ids are written when `ctx.add_path(family)` (0 for an NLRI without one). Each message
/// is at most `ctx.max_message_len` octets. On error, `out` keeps the messages already
/// completed.
pub fn encode_announcements(
    attrs: &PathAttributes,
    next_hop: &MpNextHop,
    family: Family,
    nlri: &[Nlri],
    ctx: &WireContext,
    out: &mut BytesMut,
) -> Result<usize, EncodeError> {
    if nlri.is_empty() {
        return Ok(0);
    }
    let max = ctx.max_message_len.min(usize::from(u16::MAX));
    let add_path = ctx.add_path(family);
    let classic_next_hop = match (family, next_hop.global, next_hop.link_local) {
        (Family::IPV4_UNICAST, IpAddr::V4(nh), None) => Some(nh),
        _ => None,
    };
    let mut attr_bytes = BytesMut::new();
    let src =
        AttributeSource { attrs, next_hop: classic_next_hop, mp_reach: None, mp_unreach: None };
    encode_attributes(&src, ctx, &mut attr_bytes)?;
    out.reserve(estimate(nlri, add_path, max, attr_bytes.len()));

    let mut messages = 0;
    let mut rest = nlri;
    if classic_next_hop.is_some() {
        let budget = budget(max, HEADER_LEN + LENGTH_FIELDS + attr_bytes.len())?;
        while !rest.is_empty() {
            let start = begin_message(out, MessageType::Update);
            out.put_u16(0);
            out.put_u16(attr_bytes.len() as u16);
            out.put_slice(&attr_bytes);
            rest = fill(rest, add_path, budget, out, start, max)?;
            finish_message(out, start, max)?;
            messages += 1;
        }
    } else {
        let fixed = mp_reach_fixed_len(next_hop)?;
        let overhead = HEADER_LEN + LENGTH_FIELDS + MP_HEADER + fixed + attr_bytes.len();
        // The MP_REACH_NLRI value has a 2-octet length too.
        let budget = budget(max, overhead)?.min(usize::from(u16::MAX) - fixed);
        while !rest.is_empty() {
            let start = begin_message(out, MessageType::Update);
            out.put_u16(0);
            let attrs_at = out.len();
            out.put_u16(0);
            out.put_u8(FLAG_OPTIONAL | FLAG_EXTENDED_LENGTH);
            out.put_u8(ATTR_MP_REACH_NLRI);
            let mp_len_at = out.len();
            out.put_u16(0);
            encode_mp_reach_fixed(family, next_hop, out)?;
            rest = fill(rest, add_path, budget, out, start, max)?;
            patch_u16(out, mp_len_at, out.len() - mp_len_at - 2, "MP_REACH_NLRI")?;
            out.put_slice(&attr_bytes);
            patch_u16(out, attrs_at, out.len() - attrs_at - 2, "path attributes")?;
            finish_message(out, start, max)?;
            messages += 1;
        }
    }
    Ok(messages)
}

/// Withdraw `nlri` (all of `family`), appending whole UPDATE messages to `out`; returns how
/// many (0 for no NLRI). IPv4 unicast uses the Withdrawn Routes field, other families an
/// MP_UNREACH_NLRI attribute and nothing else (RFC 4760 §4).
pub fn encode_withdrawals(
    family: Family,
    nlri: &[Nlri],
    ctx: &WireContext,
    out: &mut BytesMut,
) -> Result<usize, EncodeError> {
    if nlri.is_empty() {
        return Ok(0);
    }
    let max = ctx.max_message_len.min(usize::from(u16::MAX));
    let add_path = ctx.add_path(family);
    out.reserve(estimate(nlri, add_path, max, MP_HEADER + 3));
    let mut messages = 0;
    let mut rest = nlri;
    if family == Family::IPV4_UNICAST {
        let budget = budget(max, HEADER_LEN + LENGTH_FIELDS)?;
        while !rest.is_empty() {
            let start = begin_message(out, MessageType::Update);
            out.put_u16(0);
            rest = fill(rest, add_path, budget, out, start, max)?;
            patch_u16(out, start + HEADER_LEN, out.len() - start - HEADER_LEN - 2, "withdrawn")?;
            out.put_u16(0);
            finish_message(out, start, max)?;
            messages += 1;
        }
    } else {
        let budget = budget(max, HEADER_LEN + LENGTH_FIELDS + MP_HEADER + 3)?;
        while !rest.is_empty() {
            let start = begin_message(out, MessageType::Update);
            out.put_u16(0);
            let attrs_at = out.len();
            out.put_u16(0);
            out.put_u8(FLAG_OPTIONAL | FLAG_EXTENDED_LENGTH);
            out.put_u8(ATTR_MP_UNREACH_NLRI);
            let mp_len_at = out.len();
            out.put_u16(0);
            out.put_u16(family.afi);
            out.put_u8(family.safi);
            rest = fill(rest, add_path, budget, out, start, max)?;
            patch_u16(out, mp_len_at, out.len() - mp_len_at - 2, "MP_UNREACH_NLRI")?;
            patch_u16(out, attrs_at, out.len() - attrs_at - 2, "path attributes")?;
            finish_message(out, start, max)?;
            messages += 1;
        }
    }
    Ok(messages)
}

/// Room left for NLRI in a message of at most `max` octets once `overhead` is written.
fn budget(max: usize, overhead: usize) -> Result<usize, EncodeError> {
    max.checked_sub(overhead)
        .filter(|&b| b > 0)
        .ok_or(EncodeError::MessageTooLong { len: overhead, max })
}

/// Write NLRI from the front of `list` while they fit in `budget` octets; returns the rest.
/// A message that cannot take even one NLRI is removed again (`out` truncated to `start`) and
/// reported as too long, with the length it would have had (`max - budget` is the rest of
/// the message).
fn fill<'a>(
    list: &'a [Nlri],
    add_path: bool,
    budget: usize,
    out: &mut BytesMut,
    start: usize,
    max: usize,
) -> Result<&'a [Nlri], EncodeError> {
    let taken = encode_nlri_run(list, add_path, budget, out);
    if taken == 0 {
        out.truncate(start);
        let first = list.first().map_or(1, |n| n.encoded_len(add_path));
        return Err(EncodeError::MessageTooLong { len: max - budget + first, max });
    }
    Ok(list.get(taken..).unwrap_or_default())
}

/// Octets all messages will take, roughly (for one reservation up front).
fn estimate(list: &[Nlri], add_path: bool, max: usize, per_message: usize) -> usize {
    let per_prefix = list.first().map_or(0, |n| n.encoded_len(add_path));
    let payload = per_prefix * list.len();
    let overhead = HEADER_LEN + LENGTH_FIELDS + per_message + 32;
    let messages = payload / max.saturating_sub(overhead).max(1) + 1;
    payload + messages * overhead
}
