//! The values of individual attributes: ORIGIN, AS_PATH segments, AGGREGATOR, large
//! communities and the attributes kept uninterpreted.
use std::net::Ipv4Addr;

use bytes::Bytes;
use serde::Serialize;

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

    /// How many times `asn` appears in the path (for a peer allowed to send our AS back a
    /// few times: BIRD's `allow local as`, Calico's `numAllowedLocalASNumbers`).
    pub fn count(&self, asn: u32) -> usize {
        self.segments.iter().map(|s| s.asns.iter().filter(|a| **a == asn).count()).sum()
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

/// An attribute this crate does not interpret, kept as on the wire. `flags` are the received
/// flags; the encoder keeps the extended-length bit when it was set (byte-exact re-encoding)
/// and sets it anyway when the value is longer than 255 octets.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    #[serde(serialize_with = "crate::wire::notification::serialize_hex")]
    pub value: Bytes,
}
