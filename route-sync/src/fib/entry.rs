//! One prefix of the [`super::Fib`] in 12 bytes (16 with its IPv4 key in the table): the
//! interned next-hop set the RIB wants, what the kernel holds, and the bookkeeping flags.

use crate::intern::Id;

/// Our route as the kernel holds it; inline gateway lists are interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Blackhole,
    Unreachable,
    Object(u32),
    Gateways(Id),
}

/// A flag of an [`Entry`].
#[derive(Debug, Clone, Copy)]
pub struct Flag(u16);

/// Blackhole wanted (`set_blackhole`); takes precedence over `next_hop_set`.
pub const BLACKHOLE: Flag = Flag(1 << 3);
/// Left by a previous run (or written by someone else with our protocol) and never set by
/// the RIB since: removed only once the stale purge is allowed.
pub const STALE: Flag = Flag(1 << 4);
/// In one of the work queues.
pub const QUEUED: Flag = Flag(1 << 5);
/// In the retry list.
pub const FAILED: Flag = Flag(1 << 6);
/// A foreign route holds the slot: not retried until it goes away (or a resync).
pub const FOREIGN: Flag = Flag(1 << 7);
/// The foreign holder was reported (once per episode).
pub const REPORTED: Flag = Flag(1 << 8);
/// The kernel lost or changed it behind our back: count it as repaired when put back.
pub const REPAIR: Flag = Flag(1 << 9);

/// Low bits of `bits`: which [`Held`] (0: the kernel holds no route of ours).
const HELD_MASK: u16 = 0b111;

#[derive(Debug, Clone, Copy, Default)]
pub struct Entry {
    /// Next hops the RIB wants (`set`): an interned sorted set.
    pub next_hop_set: Option<Id>,
    /// The object or gateway-list id of the [`Held`] state.
    held: u32,
    /// [`Held`] variant (`HELD_MASK`) and flags.
    bits: u16,
}

impl Entry {
    pub fn stale(stale: bool) -> Entry {
        let mut e = Entry::default();
        e.set(STALE, stale);
        e
    }

    pub fn has(&self, f: Flag) -> bool {
        self.bits & f.0 != 0
    }

    pub fn set(&mut self, f: Flag, on: bool) {
        if on {
            self.bits |= f.0;
        } else {
            self.bits &= !f.0;
        }
    }

    /// Clears the flag and returns what it was.
    pub fn take(&mut self, f: Flag) -> bool {
        let was = self.has(f);
        self.set(f, false);
        was
    }

    pub fn desired(&self) -> bool {
        self.has(BLACKHOLE) || self.next_hop_set.is_some()
    }

    /// Our route as the kernel holds it, as far as we know.
    pub fn kernel(&self) -> Option<Held> {
        match self.bits & HELD_MASK {
            1 => Some(Held::Blackhole),
            2 => Some(Held::Unreachable),
            3 => Some(Held::Object(self.held)),
            4 => Id::new(self.held).map(Held::Gateways),
            _ => None,
        }
    }

    /// Records the kernel state (the caller keeps reference counts right).
    pub fn set_kernel_raw(&mut self, held: Option<Held>) {
        let (tag, value) = match held {
            None => (0, 0),
            Some(Held::Blackhole) => (1, 0),
            Some(Held::Unreachable) => (2, 0),
            Some(Held::Object(id)) => (3, id),
            Some(Held::Gateways(id)) => (4, id.get()),
        };
        self.bits = (self.bits & !HELD_MASK) | tag;
        self.held = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_kernel_state_and_flags() {
        assert_eq!(std::mem::size_of::<Entry>(), 12);
        let mut e = Entry::stale(true);
        assert!(e.has(STALE) && !e.has(QUEUED) && !e.desired());
        e.set(BLACKHOLE, true);
        assert!(e.desired());
        for h in
            [None, Some(Held::Blackhole), Some(Held::Object(u32::MAX)), Some(Held::Unreachable)]
        {
            e.set_kernel_raw(h);
            assert_eq!(e.kernel(), h);
        }
        e.set_kernel_raw(Id::new(7).map(Held::Gateways));
        assert_eq!(e.kernel(), Id::new(7).map(Held::Gateways));
        assert!(e.take(STALE) && !e.has(STALE) && e.has(BLACKHOLE));
    }
}
