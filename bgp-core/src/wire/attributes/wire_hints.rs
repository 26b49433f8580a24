//! What is kept of a received UPDATE's form (not its meaning) so that the same path
//! re-encodes byte-exact: the 2-octet-AS attributes as sent, the attribute layout and order,
//! and the per-type-code bit masks.
use serde::Serialize;

use super::codes::{ATTR_MP_REACH_NLRI, ATTR_MP_UNREACH_NLRI};
use super::values::{Aggregator, AsPath};

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
