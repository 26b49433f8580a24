//! One path (a route from one peer, or locally originated) and the candidate paths of one
//! destination, laid out to keep a single-path destination at 16 bytes.
use std::sync::Arc;

use super::attrs::Attrs;

/// Peer slot of locally originated routes.
pub(crate) const LOCAL_SLOT: u16 = 0;

/// The path is from a peer in graceful restart (RFC 4724 §4.2): kept and still used until
/// refreshed or purged.
pub(crate) const STALE: u8 = 1;
/// Rejected by the peer's import policy: kept (soft reconfiguration) but never a candidate.
pub(crate) const REJECTED: u8 = 2;
/// The best path of its destination.
pub(crate) const BEST: u8 = 4;
/// One of the paths whose next hops are installed (the ECMP set; includes the best).
pub(crate) const SELECTED: u8 = 8;

#[derive(Clone, Debug)]
pub(crate) struct Path {
    pub(crate) attrs: Arc<Attrs>,
    /// RFC 7911 path identifier (0 without ADD-PATH).
    pub(crate) path_id: u32,
    /// Index into the RIB's peer table ([`LOCAL_SLOT`] for our own routes).
    pub(crate) slot: u16,
    pub(crate) flags: u8,
}

impl Path {
    #[inline]
    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
    #[inline]
    pub(crate) fn set(&mut self, flag: u8, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }
    #[inline]
    pub(crate) fn is_local(&self) -> bool {
        self.slot == LOCAL_SLOT
    }
}

/// All candidate paths of one prefix (the Loc-RIB entry and, for each peer, its Adj-RIB-In
/// entry: a path is in the Adj-RIB-In of the peer in its `slot`).
#[derive(Debug)]
pub(crate) enum Dest {
    One(Path),
    // Boxed on purpose: a `Vec` inline would make every destination 24 bytes or more; a
    // pointer keeps `Dest` at 16 (a million one-path prefixes: 8 MB saved).
    #[allow(clippy::box_collection)]
    Many(Box<Vec<Path>>),
}

impl Dest {
    #[inline]
    pub(crate) fn paths(&self) -> &[Path] {
        match self {
            Dest::One(p) => std::slice::from_ref(p),
            Dest::Many(v) => v,
        }
    }

    #[inline]
    pub(crate) fn paths_mut(&mut self) -> &mut [Path] {
        match self {
            Dest::One(p) => std::slice::from_mut(p),
            Dest::Many(v) => v,
        }
    }

    pub(crate) fn push(&mut self, path: Path) {
        match self {
            Dest::Many(v) => v.push(path),
            Dest::One(_) => {
                // Placeholder swapped out at once; `One` cannot be left empty.
                let first = std::mem::replace(self, Dest::Many(Box::default()));
                if let (Dest::One(first), Dest::Many(v)) = (first, &mut *self) {
                    v.reserve_exact(2);
                    v.push(first);
                    v.push(path);
                }
            }
        }
    }

    /// Index of the path of `slot` with `path_id`.
    #[inline]
    pub(crate) fn find(&self, slot: u16, path_id: u32) -> Option<usize> {
        self.paths().iter().position(|p| p.slot == slot && p.path_id == path_id)
    }

    /// The best path, if any.
    #[inline]
    pub(crate) fn best(&self) -> Option<&Path> {
        self.paths().iter().find(|p| p.has(BEST))
    }

    /// Remove the paths `remove` says to, passing each to `gone`. Returns whether any path is
    /// left; a destination with none must be dropped by the caller (a `One` whose path went
    /// still holds a clone of it, which `gone` has also received).
    pub(crate) fn remove_where(
        &mut self,
        mut remove: impl FnMut(&Path) -> bool,
        mut gone: impl FnMut(Path),
    ) -> bool {
        match self {
            Dest::One(p) => {
                if remove(p) {
                    gone(p.clone());
                    return false;
                }
                true
            }
            Dest::Many(v) => {
                let mut i = 0;
                while i < v.len() {
                    if remove(&v[i]) {
                        gone(v.swap_remove(i));
                    } else {
                        i += 1;
                    }
                }
                match v.len() {
                    0 => false,
                    1 => {
                        if let Some(last) = v.pop() {
                            *self = Dest::One(last);
                        }
                        true
                    }
                    _ => true,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_path_destination_is_small() {
        assert_eq!(std::mem::size_of::<Path>(), 16);
        assert_eq!(std::mem::size_of::<Dest>(), 16);
    }

    #[test]
    fn push_and_remove_switch_representation() {
        let attrs = Arc::new(Attrs::local());
        let p = |slot| Path { attrs: attrs.clone(), path_id: 0, slot, flags: 0 };
        let mut d = Dest::One(p(1));
        d.push(p(2));
        d.push(p(3));
        assert_eq!(d.paths().len(), 3);
        assert_eq!(d.find(2, 0), Some(1));
        let mut gone = Vec::new();
        assert!(d.remove_where(|x| x.slot != 3, |x| gone.push(x.slot)));
        assert!(matches!(d, Dest::One(Path { slot: 3, .. })));
        assert_eq!(gone.len(), 2);
        assert!(!d.remove_where(|_| true, |x| gone.push(x.slot)));
        assert_eq!(gone, vec![1, 2, 3]);
    }
}
