//! Interned values with reference counts: a million routes through the same next hops share
//! one copy of them and each holds a 4-byte id instead of a heap allocation.

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;

use crate::hash::FastState;

/// Id of an interned value (never 0, so that `Option<Id>` is 4 bytes).
pub type Id = NonZeroU32;

struct Slot<T> {
    value: T,
    refs: u64,
}

/// See the module documentation. Ids of released values are reused.
pub struct Interner<T> {
    slots: Vec<Option<Slot<T>>>,
    by_value: HashMap<T, Id, FastState>,
    free: Vec<Id>,
    /// The last value acquired: runs of routes through the same next hops skip the hashing.
    last: Option<Id>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner { slots: Vec::new(), by_value: HashMap::default(), free: Vec::new(), last: None }
    }
}

fn index(id: Id) -> usize {
    id.get() as usize - 1
}

impl<T: Hash + Eq + Clone> Interner<T> {
    /// Takes one reference to `value`, interning it if new (then `true` comes back too).
    pub fn acquire<Q>(&mut self, value: &Q) -> (Id, bool)
    where
        T: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized + ToOwned<Owned = T>,
    {
        let last = self.last.filter(|id| self.get(*id).is_some_and(|v| v.borrow() == value));
        if let Some(id) = last.or_else(|| self.by_value.get(value).copied()) {
            self.retain(id);
            self.last = Some(id);
            return (id, false);
        }
        let owned: T = value.to_owned();
        let slot = Some(Slot { value: owned.clone(), refs: 1 });
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[index(id)] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                // More than 4 billion distinct values cannot be held in memory anyway.
                Id::new(u32::try_from(self.slots.len()).unwrap_or(u32::MAX)).unwrap_or(Id::MIN)
            }
        };
        self.by_value.insert(owned, id);
        self.last = Some(id);
        (id, true)
    }

    /// Takes one more reference to an interned value.
    pub fn retain(&mut self, id: Id) {
        if let Some(Some(s)) = self.slots.get_mut(index(id)) {
            s.refs += 1;
        }
    }

    /// Drops one reference; returns the value when that was the last one.
    pub fn release(&mut self, id: Id) -> Option<T> {
        let slot = self.slots.get_mut(index(id))?;
        let s = slot.as_mut()?;
        s.refs -= 1;
        if s.refs > 0 {
            return None;
        }
        let s = slot.take()?;
        self.by_value.remove(&s.value);
        if self.last == Some(id) {
            self.last = None;
        }
        self.free.push(id);
        Some(s.value)
    }

    pub fn get(&self, id: Id) -> Option<&T> {
        self.slots.get(index(id))?.as_ref().map(|s| &s.value)
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.by_value.clear();
        self.free.clear();
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_until_the_last_release() {
        let mut t: Interner<Vec<u8>> = Interner::default();
        let (a, new) = t.acquire(&[1u8, 2][..]);
        assert!(new);
        let (b, new) = t.acquire(&[1u8, 2][..]);
        assert_eq!((a, new), (b, false));
        let (c, _) = t.acquire(&[3u8][..]);
        assert_ne!(a, c);
        assert_eq!(t.release(a), None);
        assert_eq!(t.release(a).as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(t.get(a), None);
        let (d, _) = t.acquire(&[4u8][..]);
        assert_eq!(d, a, "id reused");
        assert_eq!(t.get(c).map(|v| &v[..]), Some(&[3u8][..]));
    }
}
