//! The negotiated session context that decoding and encoding take explicitly.
//!
//! A session holds two of these: one for what it receives, one for what it sends. ADD-PATH in
//! particular is asymmetric (RFC 7911 §4): path identifiers appear in received NLRI only for the
//! families where we announced "receive" and the peer announced "send".
use super::family::Family;

/// Standard maximum message size (RFC 4271 §4.1).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Maximum message size with the Extended Message capability (RFC 8654 §3).
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireContext {
    /// Both sides announced the 4-octet AS capability (RFC 6793): AS_PATH and AGGREGATOR carry
    /// 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Families whose NLRI carry a 4-octet path identifier in this direction (RFC 7911 §3).
    pub add_path: Vec<Family>,
    /// Largest message accepted or produced: 4096, or 65535 with RFC 8654.
    pub max_message_len: usize,
}

impl Default for WireContext {
    /// The context before any OPEN: 2-octet AS, no ADD-PATH, 4096-byte messages.
    fn default() -> Self {
        WireContext { four_octet_as: false, add_path: Vec::new(), max_message_len: MAX_MESSAGE_LEN }
    }
}

impl WireContext {
    /// A modern session: 4-octet AS, no ADD-PATH, standard message size.
    pub fn modern() -> Self {
        WireContext { four_octet_as: true, ..Default::default() }
    }

    /// Do NLRI of `family` carry path identifiers in this direction?
    #[inline]
    pub fn add_path(&self, family: Family) -> bool {
        self.add_path.contains(&family)
    }
}
