//! Interned attribute sets: every route points at an `Arc<Attrs>`, and equal sets are one
//! allocation shared by all the routes that carry them (BIRD's `rta` cache). A full table has
//! far fewer distinct attribute sets than prefixes, which is most of the memory saving.
//!
//! Entries are freed when unused: the RIB hands every `Arc` it drops to
//! `Interner::release`, which removes the set once only the interner holds it; a sweep
//! amortised over growth catches sets whose last holder was outside the RIB.
use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use serde::Serialize;

use crate::wire::{AsPath, MpNextHop, Origin, PathAttributes};

/// The attributes of a path as the RIB stores them: the decoded path attributes, with the
/// next hop (IPv4 NEXT_HOP or the MP_REACH_NLRI next hop) moved into `next_hop` so that
/// IPv4 and IPv6 routes are stored alike (`path.next_hop` is always `None`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Attrs {
    #[serde(flatten)]
    pub path: PathAttributes,
    #[serde(rename = "mp_next_hop")]
    pub next_hop: MpNextHop,
    /// `path.as_path`'s length for the decision process (RFC 4271 §9.1.2.2 a).
    #[serde(skip)]
    as_path_len: u32,
}

impl Attrs {
    pub fn new(mut path: PathAttributes, next_hop: MpNextHop) -> Self {
        path.next_hop = None;
        let as_path_len = path.as_path.as_ref().map_or(0, |p| p.path_len() as u32);
        Attrs { path, next_hop, as_path_len }
    }

    /// Attributes of a locally originated route: ORIGIN IGP, empty AS_PATH, no next hop yet
    /// (export sets our session address).
    pub fn local() -> Self {
        let path = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            ..Default::default()
        };
        Attrs::new(path, MpNextHop { global: IpAddr::V4(Ipv4Addr::UNSPECIFIED), link_local: None })
    }

    /// AS_PATH length as RFC 4271 §9.1.2.2 a) counts it.
    pub fn as_path_len(&self) -> u32 {
        self.as_path_len
    }

    /// The neighbouring AS for MED comparison: the first AS of the AS_PATH (RFC 4271
    /// §9.1.2.2 c); `None` for an empty path (a route from inside our own AS).
    pub fn neighbor_as(&self) -> Option<u32> {
        self.path.as_path.as_ref().and_then(AsPath::first_asn)
    }

    /// ORIGIN as a number (lower is preferred); a missing ORIGIN counts as INCOMPLETE.
    pub fn origin_rank(&self) -> u8 {
        self.path.origin.unwrap_or(Origin::Incomplete) as u8
    }

    /// The next hop that goes into the kernel.
    pub fn next_hop_addr(&self) -> IpAddr {
        self.next_hop.global
    }

    /// Build an `MpNextHop` from an IPv6 global address and optional link-local.
    pub fn v6_next_hop(global: Ipv6Addr, link_local: Option<Ipv6Addr>) -> MpNextHop {
        MpNextHop { global: IpAddr::V6(global), link_local }
    }
}

/// An interned set, hashed and compared by content.
struct Entry(Arc<Attrs>);

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}
impl Eq for Entry {}
impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (*self.0).hash(state)
    }
}
impl Borrow<Attrs> for Entry {
    fn borrow(&self) -> &Attrs {
        &self.0
    }
}

/// The attribute-set interner. Keyed by a SipHash of the content with a random key (the
/// content is peer-controlled); hashing happens once per UPDATE, not per prefix.
#[derive(Default)]
pub(crate) struct Interner {
    set: HashSet<Entry>,
    /// Size after the last sweep; the next sweep runs when the set has doubled since.
    swept_at: usize,
}

impl Interner {
    /// The shared copy of `attrs`.
    pub(crate) fn intern(&mut self, attrs: Attrs) -> Arc<Attrs> {
        if let Some(entry) = self.set.get(&attrs) {
            return entry.0.clone();
        }
        let arc = Arc::new(attrs);
        self.set.insert(Entry(arc.clone()));
        arc
    }

    /// Drop one reference taken from a route; the set goes when only the interner is left.
    pub(crate) fn release(&mut self, attrs: Arc<Attrs>) {
        if Arc::strong_count(&attrs) == 2 {
            self.set.remove(&*attrs);
        }
    }

    /// Remove every set nobody but the interner holds, when the interner has grown enough
    /// since the last sweep for the sweep to pay for itself.
    pub(crate) fn maybe_sweep(&mut self) {
        if self.set.len() > 2 * self.swept_at + 1024 {
            self.sweep();
        }
    }

    pub(crate) fn sweep(&mut self) {
        self.set.retain(|e| Arc::strong_count(&e.0) > 1);
        self.swept_at = self.set.len();
    }

    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    /// The next hop of every interned set (one per set, not per route).
    pub(crate) fn next_hops(&self) -> Vec<std::net::IpAddr> {
        self.set
            .iter()
            .filter(|e| Arc::strong_count(&e.0) > 1)
            .map(|e| e.0.next_hop_addr())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(med: u32) -> Attrs {
        let path = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![65001, 65002])),
            next_hop: Some(Ipv4Addr::new(198, 18, 0, 1)),
            med: Some(med),
            ..Default::default()
        };
        Attrs::new(path, MpNextHop { global: "198.18.0.1".parse().unwrap(), link_local: None })
    }

    #[test]
    fn equal_sets_share_one_allocation_and_are_freed() {
        let mut i = Interner::default();
        let a = i.intern(attrs(1));
        let b = i.intern(attrs(1));
        let c = i.intern(attrs(2));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(i.len(), 2);
        assert_eq!(a.as_path_len(), 2);
        assert_eq!(a.neighbor_as(), Some(65001));
        assert_eq!(a.path.next_hop, None);
        i.release(a);
        assert_eq!(i.len(), 2, "still held by b");
        i.release(b);
        assert_eq!(i.len(), 1);
        drop(c);
        i.sweep();
        assert_eq!(i.len(), 0);
    }
}
