//! Path attributes (RFC 4271 §4.3, §5) and their RFC 7606 error handling.
//!
//! MP_REACH_NLRI / MP_UNREACH_NLRI are not here: they carry NLRI, so they live on
//! [`super::update::Update`]. This struct is what the RIB interns and shares between routes.
use std::net::Ipv4Addr;

use bytes::Bytes;
use serde::Serialize;

pub const ATTR_ORIGIN: u8 = 1;
pub const ATTR_AS_PATH: u8 = 2;
pub const ATTR_NEXT_HOP: u8 = 3;
pub const ATTR_MED: u8 = 4;
pub const ATTR_LOCAL_PREF: u8 = 5;
pub const ATTR_ATOMIC_AGGREGATE: u8 = 6;
pub const ATTR_AGGREGATOR: u8 = 7;
pub const ATTR_COMMUNITIES: u8 = 8;
pub const ATTR_ORIGINATOR_ID: u8 = 9;
pub const ATTR_CLUSTER_LIST: u8 = 10;
pub const ATTR_MP_REACH_NLRI: u8 = 14;
pub const ATTR_MP_UNREACH_NLRI: u8 = 15;
pub const ATTR_EXTENDED_COMMUNITIES: u8 = 16;
pub const ATTR_AS4_PATH: u8 = 17;
pub const ATTR_AS4_AGGREGATOR: u8 = 18;
pub const ATTR_LARGE_COMMUNITIES: u8 = 32;

/// Attribute flag bits (RFC 4271 §4.3).
pub const FLAG_OPTIONAL: u8 = 0x80;
pub const FLAG_TRANSITIVE: u8 = 0x40;
pub const FLAG_PARTIAL: u8 = 0x20;
pub const FLAG_EXTENDED_LENGTH: u8 = 0x10;

/// ORIGIN values (RFC 4271 §5.1.1); lower is preferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Origin {
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum SegmentType {
    AsSet = 1,
    AsSequence = 2,
    /// RFC 5065.
    ConfedSequence = 3,
    ConfedSet = 4,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct AsPathSegment {
    pub seg_type: SegmentType,
    pub asns: Vec<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct AsPath {
    pub segments: Vec<AsPathSegment>,
}

impl AsPath {
    pub fn from_sequence(asns: Vec<u32>) -> Self {
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath { segments: vec![AsPathSegment { seg_type: SegmentType::AsSequence, asns }] }
    }

    /// Path length for the decision process (RFC 4271 §9.1.2.2 a): an AS_SET counts as 1,
    /// confederation segments count 0 (RFC 5065 §5.3).
    pub fn path_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.seg_type {
                SegmentType::AsSequence => s.asns.len(),
                SegmentType::AsSet => 1,
                SegmentType::ConfedSequence | SegmentType::ConfedSet => 0,
            })
            .sum()
    }

    /// Does `asn` appear anywhere in the path (loop detection, RFC 4271 §9.1.2)?
    pub fn contains(&self, asn: u32) -> bool {
        self.segments.iter().any(|s| s.asns.contains(&asn))
    }

    /// The neighbouring AS: first AS of the first AS_SEQUENCE (for MED comparison).
    pub fn first_asn(&self) -> Option<u32> {
        self.segments
            .iter()
            .find(|s| s.seg_type == SegmentType::AsSequence)
            .and_then(|s| s.asns.first().copied())
    }

    /// Prepend `asn` as RFC 4271 §5.1.2 says for an eBGP advertisement.
    pub fn prepend(&mut self, asn: u32) {
        match self.segments.first_mut() {
            Some(seg) if seg.seg_type == SegmentType::AsSequence && seg.asns.len() < 255 => {
                seg.asns.insert(0, asn)
            }
            _ => self
                .segments
                .insert(0, AsPathSegment { seg_type: SegmentType::AsSequence, asns: vec![asn] }),
        }
    }
}

impl std::fmt::Display for AsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for seg in &self.segments {
            let (open, close) = match seg.seg_type {
                SegmentType::AsSequence => ("", ""),
                SegmentType::AsSet => ("{", "}"),
                SegmentType::ConfedSequence => ("(", ")"),
                SegmentType::ConfedSet => ("[", "]"),
            };
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(open)?;
            for (i, a) in seg.asns.iter().enumerate() {
                if i > 0 {
                    f.write_str(if seg.seg_type == SegmentType::AsSet { "," } else { " " })?;
                }
                write!(f, "{a}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

/// AGGREGATOR / AS4_AGGREGATOR (RFC 4271 §5.1.7, RFC 6793 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// RFC 8092 large community: global administrator, local data 1, local data 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct LargeCommunity {
    pub global: u32,
    pub local1: u32,
    pub local2: u32,
}

/// An attribute this crate does not interpret, kept as on the wire (flags without the
/// extended-length bit, which the encoder sets from the length).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    #[serde(serialize_with = "crate::wire::notification::serialize_hex")]
    pub value: Bytes,
}

/// The path attributes of a route (everything of an UPDATE but its NLRI).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct PathAttributes {
    pub origin: Option<Origin>,
    /// AS_PATH as decoded with the session's AS size. On a 2-octet session, after decoding,
    /// this is already the RFC 6793 §4.2.3 reconstruction (AS_PATH merged with AS4_PATH).
    pub as_path: Option<AsPath>,
    pub next_hop: Option<Ipv4Addr>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub atomic_aggregate: bool,
    pub aggregator: Option<Aggregator>,
    /// RFC 1997 communities, in wire order.
    pub communities: Vec<u32>,
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_list: Vec<Ipv4Addr>,
    /// RFC 4360 extended communities, each 8 octets big-endian.
    pub extended_communities: Vec<u64>,
    pub large_communities: Vec<LargeCommunity>,
    /// Unrecognised optional attributes. Transitive ones are passed on with the Partial bit set
    /// (RFC 4271 §5); non-transitive ones are dropped before re-advertisement.
    pub unknown: Vec<RawAttribute>,
}
