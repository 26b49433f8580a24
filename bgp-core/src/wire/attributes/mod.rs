//! Path attributes (RFC 4271 §4.3, §5) and their RFC 7606 error handling.
//!
//! MP_REACH_NLRI / MP_UNREACH_NLRI are not here: they carry NLRI, so they live on
//! [`super::update::Update`]. This struct is what the RIB interns and shares between routes.
//!
//! - [`as_path`]: AS_PATH / AS4_PATH segments and the RFC 6793 reconstruction.
//! - [`decode`]: the attribute walk of an UPDATE and the RFC 7606 action for each error.
//! - [`encode`]: attributes back to the wire, in type-code order.
use std::net::Ipv4Addr;

pub mod as_path;
pub mod decode;
pub mod encode;

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
    /// Known optional transitive attributes (bit = type code, codes below 64) that arrived with
    /// the Partial bit set. RFC 4271 §5: once set, "the Partial bit MUST NOT be unset" by the
    /// speakers that pass the attribute on, so the encoder sets it again.
    pub partial: u64,
    /// On a 2-octet-AS session only: the RFC 6793 attributes exactly as received, kept so that
    /// the same path re-encodes byte-exact for a 2-octet peer. `None` when no AS4_PATH /
    /// AS4_AGGREGATOR was received, on 4-octet sessions and for locally built attributes.
    pub two_octet: Option<Box<TwoOctetAs>>,
    /// Layout details of the received UPDATE (not part of the route: ignored by `==` and
    /// `Hash`).
    #[serde(skip)]
    pub wire: WireHints,
}

/// AS_PATH, AS4_PATH, AGGREGATOR and AS4_AGGREGATOR as a 2-octet-AS peer sent them
/// (RFC 6793 §4.2.3 inputs). `as_path` and `aggregator` hold 2-octet values (AS_TRANS kept).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct TwoOctetAs {
    pub as_path: Option<AsPath>,
    pub as4_path: Option<AsPath>,
    pub aggregator: Option<Aggregator>,
    pub as4_aggregator: Option<Aggregator>,
}

/// How the received UPDATE laid its attributes out, so that re-encoding it is byte-exact.
/// Equal to every other `WireHints` and hashing to nothing: it never splits interned
/// attribute sets.
#[derive(Clone, Copy, Debug, Default)]
pub struct WireHints {
    /// Attributes (bit = type code, codes below 64) sent with the Extended Length bit although
    /// their value fits 255 octets (RFC 4271 §4.3 allows it for any length).
    pub extended_length: u64,
    /// MP_REACH_NLRI / MP_UNREACH_NLRI were not the first attributes. RFC 7606 §5.1 says they
    /// "SHALL be encoded as the very first path attribute", which the encoder does by
    /// default; with this set it keeps plain type-code order instead.
    pub mp_in_type_order: bool,
    /// The received attribute order, recorded only when it is not the encoder's own (MP
    /// attributes first, then ascending type codes). GoBGP, for one, writes AS4_PATH after
    /// LARGE_COMMUNITIES and FRR LARGE_COMMUNITIES before EXTENDED_COMMUNITIES; keeping the
    /// order makes their UPDATEs re-encode byte-exact.
    pub order: AttrOrder,
}

/// Up to [`AttrOrder::CAPACITY`] attribute type codes in wire order (empty = none recorded).
#[derive(Clone, Copy, Debug, Default)]
pub struct AttrOrder {
    len: u8,
    codes: [u8; AttrOrder::CAPACITY],
}

impl AttrOrder {
    pub const CAPACITY: usize = 22;

    /// Record `codes`, the type codes in the order they were received, if that is not the
    /// canonical order. Orders longer than the capacity are not recorded.
    pub fn from_received(codes: &[u8]) -> Self {
        let mp = |t: u8| t == ATTR_MP_REACH_NLRI || t == ATTR_MP_UNREACH_NLRI;
        let lead = codes.iter().take_while(|&&t| mp(t)).count();
        let (head, rest) = codes.split_at(lead);
        let canonical_head = head.windows(2).all(|w| w[0] < w[1]);
        let ascending = rest.windows(2).all(|w| w[0] < w[1]);
        // MP attributes after others in plain type order are `mp_in_type_order`, not this.
        let type_order = codes.windows(2).all(|w| w[0] < w[1]);
        if (canonical_head && ascending) || type_order || codes.len() > Self::CAPACITY {
            return AttrOrder::default();
        }
        let mut order = AttrOrder { len: codes.len() as u8, ..Default::default() };
        order.codes[..codes.len()].copy_from_slice(codes);
        order
    }

    /// The recorded order, if any.
    pub fn codes(&self) -> Option<&[u8]> {
        let codes = self.codes.get(..usize::from(self.len))?;
        (!codes.is_empty()).then_some(codes)
    }
}

impl PartialEq for WireHints {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for WireHints {}
impl std::hash::Hash for WireHints {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// Is bit `type_code` set in a per-type mask (`partial`, `WireHints::extended_length`)?
#[inline]
pub(crate) fn mask_has(mask: u64, type_code: u8) -> bool {
    type_code < 64 && mask & (1u64 << type_code) != 0
}

/// Mask with bit `type_code` set (nothing for codes of 64 and above).
#[inline]
pub(crate) fn mask_bit(type_code: u8) -> u64 {
    1u64.checked_shl(u32::from(type_code)).unwrap_or(0)
}

impl PathAttributes {
    /// Prepare attributes received from one peer for advertisement to another (RFC 4271 §5,
    /// §9.1.3): unrecognised optional non-transitive attributes are dropped; unrecognised
    /// optional transitive ones are kept with the Partial bit set ("If a path with an
    /// unrecognized transitive optional attribute is accepted and passed to other BGP peers,
    /// then the unrecognized transitive optional attribute of that path MUST be passed, along
    /// with the path, to other BGP peers with the Partial bit in the Attribute Flags set to 1").
    pub fn prepare_for_export(&mut self) {
        self.unknown.retain(|a| a.flags & FLAG_TRANSITIVE != 0 && a.flags & FLAG_OPTIONAL != 0);
        for a in &mut self.unknown {
            a.flags |= FLAG_PARTIAL;
        }
    }
}
