//! AS_PATH and AS4_PATH segments (RFC 4271 §4.3 b, RFC 5065 §3, RFC 6793 §3) and the
//! RFC 6793 §4.2.3 reconstruction of the path received from a 2-octet-AS peer.
//!
//! ```text
//! +-----------------+----------------------+-----------------------------------+
//! | segment type(1) | segment length(1)    | ASNs (length x 2 or 4 octets)     |
//! +-----------------+----------------------+-----------------------------------+
//! ```
use bytes::{BufMut, BytesMut};

use super::{Aggregator, AsPath, AsPathSegment, SegmentType};
use crate::wire::error::EncodeError;

/// RFC 6793 §9: "AS_TRANS ... the reserved 2-octet AS number 23456".
pub const AS_TRANS: u32 = 23456;

/// Largest ASN a 2-octet field can carry ("mappable", RFC 6793 §2).
const MAX_AS2: u32 = 0xFFFF;

impl SegmentType {
    fn from_wire(v: u8) -> Option<Self> {
        match v {
            1 => Some(SegmentType::AsSet),
            2 => Some(SegmentType::AsSequence),
            3 => Some(SegmentType::ConfedSequence),
            4 => Some(SegmentType::ConfedSet),
            _ => None,
        }
    }

    pub(crate) fn is_confed(self) -> bool {
        matches!(self, SegmentType::ConfedSequence | SegmentType::ConfedSet)
    }
}

/// Decode the segments of an AS_PATH (`four_octet` per the session) or AS4_PATH (always
/// 4 octets). RFC 7606 §7.2: the attribute is malformed when "an unrecognized segment type is
/// encountered", on an overrun of the last segment, when "only a single octet" remains after
/// the last segment, or when a segment "has a Path Segment Length field of zero".
pub fn decode_segments(value: &[u8], four_octet: bool) -> Result<AsPath, &'static str> {
    let size = if four_octet { 4 } else { 2 };
    let mut segments = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let Some((&[seg_type, count], tail)) = rest.split_first_chunk::<2>() else {
            return Err("AS path segment header truncated");
        };
        let seg_type = SegmentType::from_wire(seg_type).ok_or("unknown AS path segment type")?;
        if count == 0 {
            return Err("zero-length AS path segment");
        }
        let octets = usize::from(count) * size;
        let body = tail.get(..octets).ok_or("AS path segment overruns the attribute")?;
        let asns = if four_octet {
            body.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect()
        } else {
            body.chunks_exact(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))).collect()
        };
        segments.push(AsPathSegment { seg_type, asns });
        rest = &tail[octets..];
    }
    Ok(AsPath { segments })
}

/// Segments as they go on the wire: empty segments are skipped (RFC 7606 §7.2 makes them
/// malformed), confederation segments are skipped for AS4_PATH (RFC 6793 §3), and a
/// sequence longer than 255 ASNs becomes consecutive sequences. An AS_SET cannot be split
/// without changing its meaning, so one of more than 255 ASNs is an error.
fn wire_segments(
    path: &AsPath,
    skip_confed: bool,
) -> impl Iterator<Item = Result<(SegmentType, &[u32]), EncodeError>> {
    path.segments.iter().filter(move |s| !(skip_confed && s.seg_type.is_confed())).flat_map(|s| {
        let too_long =
            matches!(s.seg_type, SegmentType::AsSet | SegmentType::ConfedSet) && s.asns.len() > 255;
        let chunks = s.asns.chunks(255).map(move |c| {
            if too_long {
                Err(EncodeError::FieldTooLong("AS_SET of more than 255 ASNs"))
            } else {
                Ok((s.seg_type, c))
            }
        });
        chunks
    })
}

/// Octets of the encoded segments (see [`encode_segments`]).
pub fn encoded_segments_len(path: &AsPath, four_octet: bool, skip_confed: bool) -> usize {
    let size = if four_octet { 4 } else { 2 };
    wire_segments(path, skip_confed).map(|s| s.map_or(0, |(_, asns)| 2 + asns.len() * size)).sum()
}

/// Write the segments of `path`. With 2-octet ASNs, every ASN above 65535 is written as
/// AS_TRANS (RFC 6793 §4.2.2: "the non-mappable four-octet AS numbers [...] replaced by
/// AS_TRANS").
pub fn encode_segments(
    path: &AsPath,
    four_octet: bool,
    skip_confed: bool,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    for seg in wire_segments(path, skip_confed) {
        let (seg_type, asns) = seg?;
        out.put_u8(seg_type as u8);
        out.put_u8(asns.len() as u8);
        for &asn in asns {
            if four_octet {
                out.put_u32(asn);
            } else {
                out.put_u16(if asn > MAX_AS2 { AS_TRANS } else { asn } as u16);
            }
        }
    }
    Ok(())
}

/// Does the path carry an ASN that does not fit 2 octets (outside confederation segments,
/// which AS4_PATH does not carry)? Then a 2-octet peer must also get AS4_PATH.
pub fn needs_as4_path(path: &AsPath) -> bool {
    path.segments.iter().any(|s| !s.seg_type.is_confed() && s.asns.iter().any(|&a| a > MAX_AS2))
}

/// Number of ASNs for RFC 6793 §4.2.3 counting: as RFC 4271 §9.1.2.2 counts path length, an
/// AS_SET counts as one and confederation segments (absent from AS4_PATH) count as none.
fn as_count(path: &AsPath) -> usize {
    path.path_len()
}

/// RFC 6793 §4.2.3: rebuild the AS path from a 2-octet peer's AS_PATH and AS4_PATH.
///
/// "If the number of AS numbers in the AS_PATH attribute is less than the number of AS
/// numbers in the AS4_PATH attribute, then the AS4_PATH attribute SHALL be ignored [...].
/// If the number of AS numbers in the AS_PATH attribute is larger than or equal to the number
/// of AS numbers in the AS4_PATH attribute, then the AS path information SHALL be constructed
/// by taking as many AS numbers and path segments as necessary from the leading part of the
/// AS_PATH attribute, and then prepending them to the AS4_PATH attribute so that the AS path
/// information has an identical number of AS numbers as the AS_PATH attribute. Note that a
/// valid AS_CONFED_SEQUENCE or AS_CONFED_SET path segment SHALL be prepended if it is either
/// the leading path segment or is adjacent to a path segment that is prepended."
pub fn reconstruct_as_path(as_path: &AsPath, as4_path: &AsPath) -> AsPath {
    let (total, total4) = (as_count(as_path), as_count(as4_path));
    if total < total4 {
        return as_path.clone();
    }
    let mut needed = total - total4;
    let mut segments: Vec<AsPathSegment> = Vec::new();
    for (i, seg) in as_path.segments.iter().enumerate() {
        match seg.seg_type {
            SegmentType::ConfedSequence | SegmentType::ConfedSet => {
                if i == 0 || needed > 0 {
                    segments.push(seg.clone());
                } else {
                    break;
                }
            }
            SegmentType::AsSet => {
                if needed == 0 {
                    break;
                }
                segments.push(seg.clone());
                needed -= 1;
            }
            SegmentType::AsSequence => {
                if needed == 0 {
                    break;
                }
                let take = needed.min(seg.asns.len());
                segments.push(AsPathSegment {
                    seg_type: SegmentType::AsSequence,
                    asns: seg.asns[..take].to_vec(),
                });
                needed -= take;
            }
        }
    }
    for seg in &as4_path.segments {
        // A sequence cut from AS_PATH continues with AS4_PATH's first sequence: on the wire
        // it was one segment, so keep it one.
        match segments.last_mut() {
            Some(last)
                if last.seg_type == SegmentType::AsSequence
                    && seg.seg_type == SegmentType::AsSequence
                    && last.asns.len() + seg.asns.len() <= 255 =>
            {
                last.asns.extend_from_slice(&seg.asns)
            }
            _ => segments.push(seg.clone()),
        }
    }
    AsPath { segments }
}

/// RFC 6793 §4.2.3 for the aggregator and the whole path: returns (as_path, aggregator).
///
/// "If the AGGREGATOR attribute in the received UPDATE contains an AS number other than
/// AS_TRANS, then: the AS4_AGGREGATOR attribute and the AS4_PATH attribute SHALL be ignored
/// [...]. Otherwise, the AGGREGATOR attribute [...] is constructed from the AS4_AGGREGATOR
/// attribute [...]" (when one is present).
pub fn reconstruct(wire: &super::TwoOctetAs) -> (Option<AsPath>, Option<Aggregator>) {
    if let Some(aggr) = wire.aggregator {
        if aggr.asn != AS_TRANS {
            return (wire.as_path.clone(), Some(aggr));
        }
    }
    let aggregator = match (wire.aggregator, wire.as4_aggregator) {
        (Some(_), Some(as4)) => Some(as4),
        (aggr, _) => aggr,
    };
    let as_path = match (&wire.as_path, &wire.as4_path) {
        (Some(p), Some(p4)) => Some(reconstruct_as_path(p, p4)),
        (p, _) => p.clone(),
    };
    (as_path, aggregator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(asns: &[u32]) -> AsPathSegment {
        AsPathSegment { seg_type: SegmentType::AsSequence, asns: asns.to_vec() }
    }
    fn set(asns: &[u32]) -> AsPathSegment {
        AsPathSegment { seg_type: SegmentType::AsSet, asns: asns.to_vec() }
    }
    fn path(segments: Vec<AsPathSegment>) -> AsPath {
        AsPath { segments }
    }

    #[test]
    fn segments_round_trip_in_both_sizes() {
        let p = path(vec![
            AsPathSegment { seg_type: SegmentType::ConfedSequence, asns: vec![64512, 64513] },
            seq(&[65001, 65002]),
            set(&[1, 2, 3]),
            AsPathSegment { seg_type: SegmentType::ConfedSet, asns: vec![64514] },
        ]);
        for four in [false, true] {
            let mut out = BytesMut::new();
            encode_segments(&p, four, false, &mut out).unwrap();
            assert_eq!(out.len(), encoded_segments_len(&p, four, false));
            assert_eq!(decode_segments(&out, four).unwrap(), p);
        }
    }

    #[test]
    fn four_octet_asn_becomes_as_trans_in_two_octets() {
        let p = path(vec![seq(&[4_200_000_000, 65001])]);
        let mut out = BytesMut::new();
        encode_segments(&p, false, false, &mut out).unwrap();
        assert_eq!(&out[..], &[2, 2, 0x5b, 0xa0, 0xfd, 0xe9]);
        assert!(needs_as4_path(&p));
    }

    #[test]
    fn long_sequence_is_split_and_long_set_refused() {
        let long: Vec<u32> = (1..=300).collect();
        let p = path(vec![seq(&long)]);
        let mut out = BytesMut::new();
        encode_segments(&p, true, false, &mut out).unwrap();
        let back = decode_segments(&out, true).unwrap();
        assert_eq!(back.segments.len(), 2);
        assert_eq!(back.path_len(), 300);
        let s = path(vec![set(&long)]);
        assert!(encode_segments(&s, true, false, &mut BytesMut::new()).is_err());
    }

    #[test]
    fn malformed_segments_are_rejected() {
        for (bytes, four) in [
            (&[2u8, 0][..], true),         // zero-length segment
            (&[5, 1, 0, 1][..], false),    // unknown type
            (&[2, 2, 0, 1][..], false),    // overrun
            (&[2, 1, 0, 1, 2][..], false), // single octet left
            (&[2, 1, 0, 0, 0][..], true),  // 4-octet overrun
        ] {
            assert!(decode_segments(bytes, four).is_err(), "{bytes:?}");
        }
        assert_eq!(decode_segments(&[], true).unwrap(), AsPath::default());
    }

    // RFC 6793 §4.2.3 cases.
    #[test]
    fn reconstruction_prepends_leading_as_path_asns() {
        // An OLD speaker (AS 65010) prepended itself in front of a path whose 4-octet part is
        // in AS4_PATH.
        let as_path = path(vec![seq(&[65010, AS_TRANS, 65001])]);
        let as4 = path(vec![seq(&[4_200_000_001, 65001])]);
        assert_eq!(
            reconstruct_as_path(&as_path, &as4),
            path(vec![seq(&[65010, 4_200_000_001, 65001])])
        );
    }

    #[test]
    fn reconstruction_ignores_longer_as4_path() {
        let as_path = path(vec![seq(&[AS_TRANS])]);
        let as4 = path(vec![seq(&[4_200_000_001, 65001])]);
        assert_eq!(reconstruct_as_path(&as_path, &as4), as_path);
    }

    #[test]
    fn reconstruction_counts_sets_as_one_and_keeps_leading_confed() {
        let as_path = path(vec![
            AsPathSegment { seg_type: SegmentType::ConfedSequence, asns: vec![64512] },
            seq(&[65010]),
            seq(&[AS_TRANS]),
            set(&[AS_TRANS, 65002]),
        ]);
        let as4 = path(vec![seq(&[4_200_000_001]), set(&[4_200_000_002, 65002])]);
        assert_eq!(
            reconstruct_as_path(&as_path, &as4),
            path(vec![
                AsPathSegment { seg_type: SegmentType::ConfedSequence, asns: vec![64512] },
                seq(&[65010, 4_200_000_001]),
                set(&[4_200_000_002, 65002]),
            ])
        );
    }

    #[test]
    fn aggregator_other_than_as_trans_ignores_as4_attributes() {
        let addr = std::net::Ipv4Addr::new(198, 18, 0, 1);
        let wire = super::super::TwoOctetAs {
            as_path: Some(path(vec![seq(&[65010, AS_TRANS])])),
            as4_path: Some(path(vec![seq(&[4_200_000_001])])),
            aggregator: Some(Aggregator { asn: 65010, address: addr }),
            as4_aggregator: Some(Aggregator { asn: 4_200_000_001, address: addr }),
        };
        assert_eq!(reconstruct(&wire), (wire.as_path.clone(), wire.aggregator));
        let wire = super::super::TwoOctetAs {
            aggregator: Some(Aggregator { asn: AS_TRANS, address: addr }),
            ..wire
        };
        assert_eq!(
            reconstruct(&wire),
            (
                Some(path(vec![seq(&[65010, 4_200_000_001])])),
                Some(Aggregator { asn: 4_200_000_001, address: addr })
            )
        );
    }
}
