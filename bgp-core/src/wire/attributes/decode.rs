//! The path-attribute walk of an UPDATE (RFC 4271 §4.3, §6.3) with RFC 7606 error handling.
//!
//! ```text
//!  0                   1
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//! +---------------+---------------+-------------------------------+
//! | Attr. Flags   |Attr. Type Code| Length (1, or 2 if Ext. Len.) |
//! +---------------+---------------+-------------------------------+
//! ```
//! Every malformed attribute gets exactly one of the RFC 7606 §2 outcomes:
//! - session reset: a [`DecodeError`] is returned;
//! - treat-as-withdraw / attribute discard: an [`AttributeIssue`] is pushed on the UPDATE and
//!   decoding goes on (the caller turns treat-as-withdraw into explicit withdrawals).
use std::net::Ipv4Addr;

use bytes::Bytes;

use super::as_path::decode_segments;
use super::*;
use crate::wire::context::WireContext;
use crate::wire::error::{AttributeAction, AttributeIssue, DecodeError};
use crate::wire::update::mp::{decode_mp_reach, decode_mp_unreach, MpOutcome};
use crate::wire::update::Update;

/// What RFC 7606 asks for when an attribute of this type is malformed, or its Optional /
/// Transitive flags conflict with the type (§3 c: "treat-as-withdraw [...] unless the
/// specification for the attribute mandates different handling").
fn malformed_action(type_code: u8) -> AttributeAction {
    match type_code {
        // RFC 7606 §7.6, §7.7; RFC 6793 §6 for AS4_PATH / AS4_AGGREGATOR.
        ATTR_ATOMIC_AGGREGATE | ATTR_AGGREGATOR | ATTR_AS4_PATH | ATTR_AS4_AGGREGATOR => {
            AttributeAction::Discard
        }
        _ => AttributeAction::TreatAsWithdraw,
    }
}

/// Optional and Transitive bits each known attribute must carry (RFC 4271 §5, RFC 4760 §3-4,
/// RFC 1997, RFC 4360, RFC 4456 §8, RFC 6793 §3, RFC 8092 §3).
pub(crate) fn known_flags(type_code: u8) -> Option<u8> {
    const WELL_KNOWN: u8 = FLAG_TRANSITIVE;
    const OPT_TRANS: u8 = FLAG_OPTIONAL | FLAG_TRANSITIVE;
    const OPT_NON_TRANS: u8 = FLAG_OPTIONAL;
    Some(match type_code {
        ATTR_ORIGIN | ATTR_AS_PATH | ATTR_NEXT_HOP | ATTR_LOCAL_PREF | ATTR_ATOMIC_AGGREGATE => {
            WELL_KNOWN
        }
        ATTR_AGGREGATOR
        | ATTR_COMMUNITIES
        | ATTR_EXTENDED_COMMUNITIES
        | ATTR_AS4_PATH
        | ATTR_AS4_AGGREGATOR
        | ATTR_LARGE_COMMUNITIES => OPT_TRANS,
        ATTR_MED | ATTR_ORIGINATOR_ID | ATTR_CLUSTER_LIST | ATTR_MP_REACH_NLRI
        | ATTR_MP_UNREACH_NLRI => OPT_NON_TRANS,
        _ => return None,
    })
}

/// Record an RFC 7606 issue on the UPDATE.
pub(crate) fn push_issue(
    update: &mut Update,
    type_code: u8,
    action: AttributeAction,
    reason: &'static str,
) {
    update.issues.push(AttributeIssue { type_code, action, reason });
}

/// The AS4 attributes seen on a 2-octet session, merged once the walk is over.
#[derive(Default)]
struct As4Seen {
    as4_path: Option<AsPath>,
    as4_aggregator: Option<Aggregator>,
}

/// Decode the path attributes `body[start..end]` into `update` (attributes, MP_REACH_NLRI,
/// MP_UNREACH_NLRI, issues). `end` must not exceed `body.len()`.
pub(crate) fn decode_attributes(
    body: &Bytes,
    start: usize,
    end: usize,
    ctx: &WireContext,
    update: &mut Update,
) -> Result<(), DecodeError> {
    let bytes = body.get(..end).ok_or(DecodeError::MalformedAttributeList)?;
    let mut seen = [0u64; 4];
    let mut as4 = As4Seen::default();
    let mut at = start;
    // No attribute other than MP_REACH_NLRI / MP_UNREACH_NLRI seen yet.
    let mut first = true;
    // Type codes in wire order (first occurrences), for `WireHints::order`.
    let mut order = [0u8; AttrOrder::CAPACITY + 1];
    let mut order_len = 0usize;
    while at < end {
        // RFC 7606 §4: "fewer than three octets remain (or fewer than four octets, if the
        // Attribute Flags field has the Extended Length bit set) when beginning to parse the
        // attribute [...] the "treat-as-withdraw" approach MUST be used [...] and the Total
        // Attribute Length MUST be relied upon to enable the beginning of the NLRI field to be
        // located."
        let rest = &bytes[at..];
        let (flags, type_code) = match rest {
            [f, t, ..] => (*f, *t),
            _ => {
                push_issue(update, 0, AttributeAction::TreatAsWithdraw, "attribute truncated");
                break;
            }
        };
        let extended = flags & FLAG_EXTENDED_LENGTH != 0;
        let (len, header) = match (extended, rest) {
            (true, [_, _, hi, lo, ..]) => (usize::from(u16::from_be_bytes([*hi, *lo])), 4),
            (false, [_, _, l, ..]) => (usize::from(*l), 3),
            _ => {
                push_issue(
                    update,
                    type_code,
                    AttributeAction::TreatAsWithdraw,
                    "attribute header truncated",
                );
                break;
            }
        };
        // RFC 7606 §4: "the length of the last encountered path attribute would cause the
        // Total Attribute Length to be exceeded" -> treat-as-withdraw. An MP attribute cut
        // short hides NLRI that then cannot be withdrawn, so (§3 j) that one resets.
        let Some(value) = rest.get(header..header + len) else {
            if matches!(type_code, ATTR_MP_REACH_NLRI | ATTR_MP_UNREACH_NLRI) {
                return Err(DecodeError::AttributeLengthError(body.slice(at..end)));
            }
            push_issue(
                update,
                type_code,
                AttributeAction::TreatAsWithdraw,
                "attribute length overruns the path attributes",
            );
            break;
        };
        let attr_range = at..at + header + len;
        at += header + len;

        // RFC 7606 §3 g: "If the MP_REACH_NLRI attribute or the MP_UNREACH_NLRI attribute
        // appears more than once in the UPDATE message, then a NOTIFICATION message MUST be
        // sent with the Error Subcode "Malformed Attribute List". If any other attribute [...]
        // appears more than once [...] all the occurrences of the attribute other than the
        // first one SHALL be discarded and the UPDATE message will continue to be processed."
        let (word, bit) = (usize::from(type_code / 64), 1u64 << (type_code % 64));
        if seen[word] & bit != 0 {
            if matches!(type_code, ATTR_MP_REACH_NLRI | ATTR_MP_UNREACH_NLRI) {
                return Err(DecodeError::MalformedAttributeList);
            }
            push_issue(update, type_code, AttributeAction::Discard, "duplicate attribute");
            continue;
        }
        seen[word] |= bit;
        if let Some(slot) = order.get_mut(order_len) {
            *slot = type_code;
        }
        order_len += 1;

        if extended && len <= 255 {
            update.attributes.wire.extended_length |= mask_bit(type_code);
        }

        let Some(expected) = known_flags(type_code) else {
            // RFC 4271 §6.3: "If any of the well-known mandatory attributes are not
            // recognized, then the Error Subcode MUST be set to Unrecognized Well-known
            // Attribute." Optional ones are kept as they are (§5: "the unrecognized
            // transitive optional attribute [...] MUST be passed").
            if flags & FLAG_OPTIONAL == 0 {
                return Err(DecodeError::UnrecognizedWellKnownAttribute(body.slice(attr_range)));
            }
            // Copied, not sliced: the RIB keeps these for as long as the route lives, and a
            // slice would pin the whole read buffer it came from (up to 64 KiB per route,
            // depending on how the peer's TCP stream was segmented).
            update.attributes.unknown.push(RawAttribute {
                flags,
                type_code,
                value: Bytes::copy_from_slice(value),
            });
            first = false;
            continue;
        };
        let flags_conflict = flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE) != expected;
        if flags & FLAG_PARTIAL != 0 && expected == FLAG_OPTIONAL | FLAG_TRANSITIVE {
            update.attributes.partial |= mask_bit(type_code);
        }

        if matches!(type_code, ATTR_MP_REACH_NLRI | ATTR_MP_UNREACH_NLRI) {
            if !first {
                update.attributes.wire.mp_in_type_order = true;
            }
            let outcome = if type_code == ATTR_MP_REACH_NLRI {
                decode_mp_reach(value, ctx, || body.slice(attr_range.clone()))?
            } else {
                decode_mp_unreach(value, ctx, || body.slice(attr_range.clone()))?
            };
            match outcome {
                MpOutcome::Reach(reach, next_hop_issue) => {
                    update.mp_reach = Some(reach);
                    if let Some(reason) = next_hop_issue {
                        push_issue(update, type_code, AttributeAction::TreatAsWithdraw, reason);
                    }
                }
                MpOutcome::Unreach(unreach) => update.mp_unreach = Some(unreach),
                MpOutcome::Unsupported => update.attributes.unknown.push(RawAttribute {
                    flags,
                    type_code,
                    value: Bytes::copy_from_slice(value),
                }),
            }
            // The NLRI were located, so §3 c's treat-as-withdraw is possible.
            if flags_conflict {
                push_issue(
                    update,
                    type_code,
                    AttributeAction::TreatAsWithdraw,
                    "attribute flags conflict with the type",
                );
            }
            // `first` stays set: MP_UNREACH_NLRI right after MP_REACH_NLRI (or the other way
            // round) at the front is still the RFC 7606 §5.1 layout.
            continue;
        }
        first = false;

        if flags_conflict {
            push_issue(
                update,
                type_code,
                malformed_action(type_code),
                "attribute flags conflict with the type",
            );
            continue;
        }
        if let Err(reason) = decode_known(type_code, value, ctx, &mut update.attributes, &mut as4) {
            push_issue(update, type_code, malformed_action(type_code), reason);
        }
    }
    if let Some(codes) = order.get(..order_len) {
        update.attributes.wire.order = AttrOrder::from_received(codes);
    }
    if !ctx.four_octet_as {
        merge_as4(&mut update.attributes, as4);
    }
    // Unrecognised attributes are kept in type-code order whatever order they came in
    // (RFC 4271 §5 only says the sender SHOULD sort them): the same attribute set compares and
    // interns equal, and is re-encoded in the order the encoder writes.
    if update.attributes.unknown.len() > 1 {
        update.attributes.unknown.sort_by_key(|a| a.type_code);
    }
    Ok(())
}

/// Decode one recognised, non-MP attribute into `attrs`. `Err(reason)` means malformed; the
/// caller applies [`malformed_action`].
fn decode_known(
    type_code: u8,
    value: &[u8],
    ctx: &WireContext,
    attrs: &mut PathAttributes,
    as4: &mut As4Seen,
) -> Result<(), &'static str> {
    match type_code {
        // RFC 7606 §7.1: "malformed if its length is not 1 or it has an undefined value".
        ATTR_ORIGIN => {
            attrs.origin = Some(match value {
                [0] => Origin::Igp,
                [1] => Origin::Egp,
                [2] => Origin::Incomplete,
                [_] => return Err("undefined ORIGIN value"),
                _ => return Err("ORIGIN length is not 1"),
            })
        }
        // RFC 7606 §7.2.
        ATTR_AS_PATH => attrs.as_path = Some(decode_segments(value, ctx.four_octet_as)?),
        // RFC 7606 §7.3: "malformed if its length is not 4"; an address that cannot be a next
        // hop (RFC 4271 §6.3 "semantically incorrect") is treated the same way.
        ATTR_NEXT_HOP => {
            let addr = Ipv4Addr::from(u32_value(value).ok_or("NEXT_HOP length is not 4")?);
            if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() {
                return Err("NEXT_HOP is not a unicast address");
            }
            attrs.next_hop = Some(addr);
        }
        // RFC 7606 §7.4, §7.5: "malformed if its length is not 4".
        ATTR_MED => attrs.med = Some(u32_value(value).ok_or("MED length is not 4")?),
        ATTR_LOCAL_PREF => {
            attrs.local_pref = Some(u32_value(value).ok_or("LOCAL_PREF length is not 4")?)
        }
        // RFC 7606 §7.6: "malformed if its length is not 0 [...] attribute discard".
        ATTR_ATOMIC_AGGREGATE => {
            if !value.is_empty() {
                return Err("ATOMIC_AGGREGATE length is not 0");
            }
            attrs.atomic_aggregate = true;
        }
        // RFC 7606 §7.7: "malformed if its length is not 6 (when the 4-octet AS number
        // capability is not advertised to, or not received from, the peer [RFC6793]) or 8"
        // -> attribute discard.
        ATTR_AGGREGATOR => {
            attrs.aggregator = Some(match (ctx.four_octet_as, value) {
                (true, [a, b, c, d, w, x, y, z]) => Aggregator {
                    asn: u32::from_be_bytes([*a, *b, *c, *d]),
                    address: Ipv4Addr::new(*w, *x, *y, *z),
                },
                (false, [a, b, w, x, y, z]) => Aggregator {
                    asn: u32::from(u16::from_be_bytes([*a, *b])),
                    address: Ipv4Addr::new(*w, *x, *y, *z),
                },
                _ => return Err("AGGREGATOR length is wrong for the AS size"),
            })
        }
        // RFC 7606 §7.8: "malformed if its length is not a non-zero multiple of 4".
        ATTR_COMMUNITIES => {
            attrs.communities = words::<4>(value, "COMMUNITIES length is not a multiple of 4")?
                .map(u32::from_be_bytes)
                .collect()
        }
        // RFC 7606 §7.9.
        ATTR_ORIGINATOR_ID => {
            let id = u32_value(value).ok_or("ORIGINATOR_ID length is not 4")?;
            attrs.originator_id = Some(Ipv4Addr::from(id));
        }
        // RFC 7606 §7.10: "malformed if its length is not a non-zero multiple of 4".
        ATTR_CLUSTER_LIST => {
            attrs.cluster_list = words::<4>(value, "CLUSTER_LIST length is not a multiple of 4")?
                .map(Ipv4Addr::from)
                .collect()
        }
        // RFC 7606 §7.14: "malformed if its length is not a non-zero multiple of 8".
        ATTR_EXTENDED_COMMUNITIES => {
            attrs.extended_communities =
                words::<8>(value, "EXTENDED_COMMUNITIES length is not a multiple of 8")?
                    .map(u64::from_be_bytes)
                    .collect()
        }
        // RFC 8092 §6: "malformed if the length [...] is not a non-zero multiple of 12".
        ATTR_LARGE_COMMUNITIES => {
            attrs.large_communities =
                words::<12>(value, "LARGE_COMMUNITIES length is not a multiple of 12")?
                    .map(|w| LargeCommunity {
                        global: u32::from_be_bytes([w[0], w[1], w[2], w[3]]),
                        local1: u32::from_be_bytes([w[4], w[5], w[6], w[7]]),
                        local2: u32::from_be_bytes([w[8], w[9], w[10], w[11]]),
                    })
                    .collect()
        }
        // RFC 6793 §4.1: "A NEW BGP speaker MUST NOT send the AS4_PATH [or AS4_AGGREGATOR]
        // attribute to a NEW BGP speaker [...] [they] MUST be discarded" when received from
        // one. RFC 6793 §6: a malformed one is handled by attribute discard; AS4_PATH must not
        // carry confederation segments (§3).
        ATTR_AS4_PATH => {
            if ctx.four_octet_as {
                return Err("AS4_PATH from a 4-octet-AS speaker");
            }
            let path = decode_segments(value, true)?;
            if path.segments.iter().any(|s| s.seg_type.is_confed()) {
                return Err("AS4_PATH with confederation segments");
            }
            as4.as4_path = Some(path);
        }
        ATTR_AS4_AGGREGATOR => {
            if ctx.four_octet_as {
                return Err("AS4_AGGREGATOR from a 4-octet-AS speaker");
            }
            let [a, b, c, d, w, x, y, z] = value else {
                return Err("AS4_AGGREGATOR length is not 8");
            };
            as4.as4_aggregator = Some(Aggregator {
                asn: u32::from_be_bytes([*a, *b, *c, *d]),
                address: Ipv4Addr::new(*w, *x, *y, *z),
            });
        }
        _ => {}
    }
    Ok(())
}

/// A 4-octet value.
#[inline]
fn u32_value(value: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(value).ok().map(u32::from_be_bytes)
}

/// The non-empty `value` as N-octet words, or `Err(reason)` when it is empty or not a multiple.
#[inline]
fn words<'v, const N: usize>(
    value: &'v [u8],
    reason: &'static str,
) -> Result<impl Iterator<Item = [u8; N]> + 'v, &'static str> {
    if value.is_empty() || !value.len().is_multiple_of(N) {
        return Err(reason);
    }
    Ok(value.chunks_exact(N).filter_map(|c| <[u8; N]>::try_from(c).ok()))
}

/// RFC 6793 §4.2.3 on a 2-octet session: rebuild `as_path` / `aggregator`, keeping what was
/// received in `two_octet` for byte-exact re-encoding.
fn merge_as4(attrs: &mut PathAttributes, as4: As4Seen) {
    if as4.as4_path.is_none() && as4.as4_aggregator.is_none() {
        return;
    }
    let wire = TwoOctetAs {
        as_path: attrs.as_path.take(),
        as4_path: as4.as4_path,
        aggregator: attrs.aggregator,
        as4_aggregator: as4.as4_aggregator,
    };
    let (as_path, aggregator) = super::as_path::reconstruct(&wire);
    attrs.as_path = as_path;
    attrs.aggregator = aggregator;
    attrs.two_octet = Some(Box::new(wire));
}
