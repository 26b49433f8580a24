//! Path attributes back to the wire.
//!
//! RFC 4271 §5: "The sender of an UPDATE message SHOULD order path attributes within the
//! UPDATE message in ascending order of attribute type." RFC 7606 §5.1 then asks that
//! "the MP_REACH_NLRI or MP_UNREACH_NLRI attribute (if present) SHALL be encoded as the very
//! first path attribute", so those two go first unless the received layout put them in
//! type-code order ([`WireHints::mp_in_type_order`]). Unrecognised attributes are merged in by
//! type code. A received UPDATE whose order was neither of these is re-encoded in its own order
//! ([`WireHints::order`]), so what a peer sent goes out byte-exact. Flags are the canonical
//! ones for the type, plus Partial when it was received (RFC 4271 §5) and Extended Length when
//! the value needs it or the peer used it.
use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};

use super::as_path::{encode_segments, encoded_segments_len, needs_as4_path, AS_TRANS};
use super::decode::known_flags;
use super::*;
use crate::wire::context::WireContext;
use crate::wire::error::EncodeError;
use crate::wire::update::mp::{encode_mp_reach, encode_mp_unreach};
use crate::wire::update::{MpReach, MpUnreach};

/// Known attributes in the order they are written after the MP attributes.
const TYPE_ORDER: [u8; 16] = [
    ATTR_ORIGIN,
    ATTR_AS_PATH,
    ATTR_NEXT_HOP,
    ATTR_MED,
    ATTR_LOCAL_PREF,
    ATTR_ATOMIC_AGGREGATE,
    ATTR_AGGREGATOR,
    ATTR_COMMUNITIES,
    ATTR_ORIGINATOR_ID,
    ATTR_CLUSTER_LIST,
    ATTR_MP_REACH_NLRI,
    ATTR_MP_UNREACH_NLRI,
    ATTR_EXTENDED_COMMUNITIES,
    ATTR_AS4_PATH,
    ATTR_AS4_AGGREGATOR,
    ATTR_LARGE_COMMUNITIES,
];

/// Everything a message's attributes are made of.
pub(crate) struct AttributeSource<'a> {
    pub attrs: &'a PathAttributes,
    /// The NEXT_HOP attribute to write (the splitting encoder overrides `attrs.next_hop`).
    pub next_hop: Option<Ipv4Addr>,
    pub mp_reach: Option<&'a MpReach>,
    pub mp_unreach: Option<&'a MpUnreach>,
}

/// What the AS-number attributes look like for this session (RFC 6793 §4.2.2).
struct AsPlan<'a> {
    as_path: Option<&'a AsPath>,
    as4_path: Option<&'a AsPath>,
    aggregator: Option<Aggregator>,
    as4_aggregator: Option<Aggregator>,
}

impl<'a> AsPlan<'a> {
    fn new(attrs: &'a PathAttributes, four_octet: bool) -> Self {
        if four_octet {
            return AsPlan {
                as_path: attrs.as_path.as_ref(),
                as4_path: None,
                aggregator: attrs.aggregator,
                as4_aggregator: None,
            };
        }
        // Received from a 2-octet peer and unchanged since: send back what it sent.
        if let Some(wire) = attrs.two_octet.as_deref() {
            if as_path::reconstruct(wire) == (attrs.as_path.clone(), attrs.aggregator) {
                return AsPlan {
                    as_path: wire.as_path.as_ref(),
                    as4_path: wire.as4_path.as_ref(),
                    aggregator: wire.aggregator,
                    as4_aggregator: wire.as4_aggregator,
                };
            }
        }
        // RFC 6793 §4.2.2: AS_TRANS in place of non-mappable ASNs, and the true values in
        // AS4_PATH / AS4_AGGREGATOR.
        let as4_path = attrs.as_path.as_ref().filter(|p| needs_as4_path(p));
        let (aggregator, as4_aggregator) = match attrs.aggregator {
            Some(a) if a.asn > 0xFFFF => (Some(Aggregator { asn: AS_TRANS, ..a }), Some(a)),
            a => (a, None),
        };
        AsPlan { as_path: attrs.as_path.as_ref(), as4_path, aggregator, as4_aggregator }
    }
}

/// Write the flags, type and length of attribute `type_code` with a value of `len` octets.
fn put_header(
    out: &mut BytesMut,
    attrs: &PathAttributes,
    type_code: u8,
    len: usize,
) -> Result<(), EncodeError> {
    let mut flags = known_flags(type_code).unwrap_or(FLAG_OPTIONAL);
    if mask_has(attrs.partial, type_code) && flags == FLAG_OPTIONAL | FLAG_TRANSITIVE {
        flags |= FLAG_PARTIAL;
    }
    put_raw_header(out, flags, type_code, len, mask_has(attrs.wire.extended_length, type_code))
}

/// Start an attribute whose length is only known once its value is written (the MP
/// attributes: one pass over their NLRI instead of two). Room for the 4-octet extended header
/// is left; returns where it starts.
fn begin_variable(out: &mut BytesMut) -> usize {
    let at = out.len();
    out.put_u32(0);
    at
}

/// Write the header of the attribute begun at `at` now that its value is in `out`. A value
/// that fits the 1-octet length (and was not received with Extended Length) is moved one
/// octet back, so the result is exactly what [`put_header`] would have produced.
fn finish_variable(
    out: &mut BytesMut,
    attrs: &PathAttributes,
    type_code: u8,
    at: usize,
) -> Result<(), EncodeError> {
    let len = out.len() - at - 4;
    let mut header = BytesMut::with_capacity(4);
    put_header(&mut header, attrs, type_code, len)?;
    if header.len() == 3 {
        out.copy_within(at + 4.., at + 3);
        out.truncate(out.len() - 1);
    }
    if let Some(slot) = out.get_mut(at..at + header.len()) {
        slot.copy_from_slice(&header);
    }
    Ok(())
}

fn put_raw_header(
    out: &mut BytesMut,
    flags: u8,
    type_code: u8,
    len: usize,
    force_extended: bool,
) -> Result<(), EncodeError> {
    let len16 = u16::try_from(len).map_err(|_| EncodeError::FieldTooLong("path attribute"))?;
    if len > 255 || force_extended {
        out.put_u8(flags | FLAG_EXTENDED_LENGTH);
        out.put_u8(type_code);
        out.put_u16(len16);
    } else {
        out.put_u8(flags & !FLAG_EXTENDED_LENGTH);
        out.put_u8(type_code);
        out.put_u8(len16 as u8);
    }
    Ok(())
}

/// Write every attribute of `src` for a session described by `ctx`.
///
/// Order: with a recorded received order ([`WireHints::order`]), that order first (MP
/// attributes missing from it go before it), then whatever else in canonical order. Without:
/// MP_REACH_NLRI / MP_UNREACH_NLRI first (unless received in type order), then ascending type
/// codes with the unrecognised attributes merged in.
pub(crate) fn encode_attributes(
    src: &AttributeSource<'_>,
    ctx: &WireContext,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let attrs = src.attrs;
    let plan = AsPlan::new(attrs, ctx.four_octet_as);
    let received = attrs.wire.order.codes().unwrap_or(&[]);
    // Type codes already written: known attributes, and raw (unrecognised or
    // unsupported-family MP) attributes, kept apart as both can carry codes 14 and 15.
    let mut known_done = [0u64; 4];
    let mut raw_done = [0u64; 4];
    let mark = |set: &mut [u64; 4], t: u8| set[usize::from(t / 64)] |= 1u64 << (t % 64);
    let has = |set: &[u64; 4], t: u8| set[usize::from(t / 64)] & (1u64 << (t % 64)) != 0;
    if !attrs.wire.mp_in_type_order {
        for t in [ATTR_MP_REACH_NLRI, ATTR_MP_UNREACH_NLRI] {
            if !received.contains(&t) {
                encode_known(t, src, &plan, ctx, out)?;
                mark(&mut known_done, t);
            }
        }
    }
    for &t in received {
        if TYPE_ORDER.contains(&t) {
            encode_known(t, src, &plan, ctx, out)?;
            mark(&mut known_done, t);
        }
        if let Some(raw) = attrs.unknown.iter().find(|a| a.type_code == t) {
            encode_raw(raw, out)?;
            mark(&mut raw_done, t);
        }
    }
    // Unknown attributes in type-code order (the decoder keeps them sorted).
    let mut unknown: Vec<&RawAttribute> =
        attrs.unknown.iter().filter(|a| !has(&raw_done, a.type_code)).collect();
    unknown.sort_by_key(|a| a.type_code);
    let mut unknown = unknown.into_iter().peekable();
    for t in TYPE_ORDER {
        while let Some(raw) = unknown.next_if(|a| a.type_code < t) {
            encode_raw(raw, out)?;
        }
        if !has(&known_done, t) {
            encode_known(t, src, &plan, ctx, out)?;
        }
    }
    for raw in unknown {
        encode_raw(raw, out)?;
    }
    Ok(())
}

fn encode_raw(raw: &RawAttribute, out: &mut BytesMut) -> Result<(), EncodeError> {
    let force_ext = raw.flags & FLAG_EXTENDED_LENGTH != 0;
    put_raw_header(out, raw.flags, raw.type_code, raw.value.len(), force_ext)?;
    out.put_slice(&raw.value);
    Ok(())
}

/// Write attribute `t` if `src` has it.
fn encode_known(
    t: u8,
    src: &AttributeSource<'_>,
    plan: &AsPlan<'_>,
    ctx: &WireContext,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let a = src.attrs;
    let four = ctx.four_octet_as;
    match t {
        ATTR_ORIGIN => {
            if let Some(origin) = a.origin {
                put_header(out, a, t, 1)?;
                out.put_u8(origin as u8);
            }
        }
        ATTR_AS_PATH => {
            if let Some(path) = plan.as_path {
                put_header(out, a, t, encoded_segments_len(path, four, false))?;
                encode_segments(path, four, false, out)?;
            }
        }
        ATTR_NEXT_HOP => {
            if let Some(nh) = src.next_hop {
                put_header(out, a, t, 4)?;
                out.put_slice(&nh.octets());
            }
        }
        ATTR_MED | ATTR_LOCAL_PREF => {
            if let Some(v) = if t == ATTR_MED { a.med } else { a.local_pref } {
                put_header(out, a, t, 4)?;
                out.put_u32(v);
            }
        }
        ATTR_ATOMIC_AGGREGATE if a.atomic_aggregate => {
            put_header(out, a, t, 0)?;
        }
        ATTR_AGGREGATOR => {
            if let Some(aggr) = plan.aggregator {
                put_header(out, a, t, if four { 8 } else { 6 })?;
                if four {
                    out.put_u32(aggr.asn);
                } else {
                    out.put_u16(u16::try_from(aggr.asn).unwrap_or(AS_TRANS as u16));
                }
                out.put_slice(&aggr.address.octets());
            }
        }
        ATTR_COMMUNITIES if !a.communities.is_empty() => {
            put_header(out, a, t, a.communities.len() * 4)?;
            for &c in &a.communities {
                out.put_u32(c);
            }
        }
        ATTR_ORIGINATOR_ID => {
            if let Some(id) = a.originator_id {
                put_header(out, a, t, 4)?;
                out.put_slice(&id.octets());
            }
        }
        ATTR_CLUSTER_LIST if !a.cluster_list.is_empty() => {
            put_header(out, a, t, a.cluster_list.len() * 4)?;
            for id in &a.cluster_list {
                out.put_slice(&id.octets());
            }
        }
        ATTR_MP_REACH_NLRI => {
            if let Some(reach) = src.mp_reach {
                let at = begin_variable(out);
                encode_mp_reach(reach, ctx, out)?;
                finish_variable(out, a, t, at)?;
            }
        }
        ATTR_MP_UNREACH_NLRI => {
            if let Some(unreach) = src.mp_unreach {
                let at = begin_variable(out);
                encode_mp_unreach(unreach, ctx, out);
                finish_variable(out, a, t, at)?;
            }
        }
        ATTR_EXTENDED_COMMUNITIES if !a.extended_communities.is_empty() => {
            put_header(out, a, t, a.extended_communities.len() * 8)?;
            for &c in &a.extended_communities {
                out.put_u64(c);
            }
        }
        ATTR_AS4_PATH => {
            if let Some(path) = plan.as4_path {
                put_header(out, a, t, encoded_segments_len(path, true, true))?;
                encode_segments(path, true, true, out)?;
            }
        }
        ATTR_AS4_AGGREGATOR => {
            if let Some(aggr) = plan.as4_aggregator {
                put_header(out, a, t, 8)?;
                out.put_u32(aggr.asn);
                out.put_slice(&aggr.address.octets());
            }
        }
        ATTR_LARGE_COMMUNITIES if !a.large_communities.is_empty() => {
            put_header(out, a, t, a.large_communities.len() * 12)?;
            for c in &a.large_communities {
                out.put_u32(c.global);
                out.put_u32(c.local1);
                out.put_u32(c.local2);
            }
        }
        _ => {}
    }
    Ok(())
}
