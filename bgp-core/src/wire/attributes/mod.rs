//! Path attributes (RFC 4271 §4.3, §5) and their RFC 7606 error handling.
//!
//! MP_REACH_NLRI / MP_UNREACH_NLRI are not here: they carry NLRI, so they live on
//! [`super::update::Update`]. This struct is what the RIB interns and shares between routes.
//!
//! - [`as_path`]: AS_PATH / AS4_PATH segments and the RFC 6793 reconstruction.
//! - [`decode`]: the attribute walk of an UPDATE and the RFC 7606 action for each error.
//! - [`encode`]: attributes back to the wire, in type-code order.
//! - `codes.rs` (type codes and flags), `values.rs` (the value of each attribute),
//!   `wire_hints.rs` (what is kept of the received form for byte-exact re-encoding); this
//!   file holds [`PathAttributes`], the set of them a route carries.
use std::net::Ipv4Addr;

pub mod as_path;
mod codes;
pub mod decode;
pub mod encode;
mod values;
mod wire_hints;

pub use codes::*;
pub use values::{
    Aggregator, AsPath, AsPathSegment, LargeCommunity, Origin, RawAttribute, SegmentType,
};
pub(crate) use wire_hints::{mask_bit, mask_has};
pub use wire_hints::{AttrOrder, TwoOctetAs, WireHints};

use serde::Serialize;

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
