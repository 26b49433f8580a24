//! A hash map split into shards by hash, each an ordinary hashbrown table.
//!
//! A single table of a million routes doubles in one step: for a moment it holds the old
//! buckets and twice as many new ones (about 26 + 52 MiB at 1M routes), and that moment sets
//! the daemon's peak RSS. With [`SHARDS`] shards each grows on its own, so the extra memory
//! of a growth step is a [`SHARDS`]th of that. Lookups pay one more hash of the key (a folded
//! multiply) to pick the shard.
//!
//! route-sync has a prefix map of its own (`route-sync/src/prefix_map.rs`, with the hasher of
//! its `hash.rs`); the two are deliberately not shared. route-sync does not depend on
//! bgp-core: the kernel sink takes "this prefix has these next hops" commands and knows
//! nothing of BGP, and sharing one small map is not worth tying it to the BGP crate. They
//! are also shaped for different callers: this map is keyed by the RIB's compact
//! [`PrefixKey`](super::prefix::PrefixKey)s (an IPv4 prefix is one `u64`, which the per-peer
//! work lists also sort by radix and mark), holds every prefix length of a family in one
//! sharded table, and is seeded per RIB; route-sync's map takes and yields `IpNet`, keeps one
//! table per prefix length keyed by the bare address, and is seeded per process.
use std::collections::hash_map::{Entry, HashMap};
use std::hash::{BuildHasher, Hash};

use super::prefix::SeededState;

/// Number of shards (a power of two).
pub(crate) const SHARDS: usize = 64;
/// The shard index comes from these bits of the hash: hashbrown uses the low bits (bucket)
/// and the top 7 (tag), so bits 32.. are free for tables of fewer than 2^32 buckets.
const SHARD_SHIFT: u32 = 32;

pub(crate) struct ShardedMap<K, V> {
    shards: Box<[Shard<K, V>]>,
    hasher: SeededState,
}

impl<K: Hash + Eq, V> ShardedMap<K, V> {
    pub(crate) fn with_hasher(hasher: SeededState) -> Self {
        let shards = (0..SHARDS).map(|_| HashMap::with_hasher(hasher)).collect();
        ShardedMap { shards, hasher }
    }

    #[inline]
    fn index(&self, key: &K) -> usize {
        (self.hasher.hash_one(key) >> SHARD_SHIFT) as usize & (SHARDS - 1)
    }

    #[inline]
    fn shard(&self, key: &K) -> &Shard<K, V> {
        &self.shards[self.index(key)]
    }

    #[inline]
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.shard(key).get(key)
    }

    #[inline]
    pub(crate) fn contains_key(&self, key: &K) -> bool {
        self.shard(key).contains_key(key)
    }

    #[inline]
    pub(crate) fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        let i = self.index(&key);
        self.shards[i].entry(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(HashMap::len).sum()
    }

    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.shards.iter().map(HashMap::capacity).sum()
    }

    /// Shrink every shard that has fallen to a quarter of its capacity (to twice its size).
    pub(crate) fn shrink_sparse(&mut self) {
        for shard in self.shards.iter_mut() {
            let (len, capacity) = (shard.len(), shard.capacity());
            if capacity > 64 && len * 4 < capacity {
                shard.shrink_to(len * 2);
            }
        }
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        for shard in self.shards.iter_mut() {
            shard.retain(&mut keep);
        }
    }

    pub(crate) fn iter(&self) -> <&Self as IntoIterator>::IntoIter {
        self.into_iter()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.shards.iter().flat_map(HashMap::keys)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.shards.iter().flat_map(HashMap::values)
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.shards.iter_mut().flat_map(HashMap::values_mut)
    }
}

type Shard<K, V> = HashMap<K, V, SeededState>;

impl<'a, K: Hash + Eq, V> IntoIterator for &'a ShardedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::FlatMap<
        std::slice::Iter<'a, Shard<K, V>>,
        std::collections::hash_map::Iter<'a, K, V>,
        fn(&'a Shard<K, V>) -> std::collections::hash_map::Iter<'a, K, V>,
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.shards.iter().flat_map(HashMap::iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_over_shards_and_behaves_as_one_map() {
        let mut m: ShardedMap<u64, u64> = ShardedMap::with_hasher(SeededState::random());
        for k in 0..10_000u64 {
            *m.entry(k << 8 | 24).or_insert(0) += k;
        }
        assert_eq!(m.len(), 10_000);
        assert!(m.shards.iter().all(|s| s.len() > 60), "every shard takes a share");
        assert_eq!(m.get(&(77 << 8 | 24)), Some(&77));
        assert!(m.contains_key(&(9_999 << 8 | 24)));
        assert!(!m.contains_key(&(10_000 << 8 | 24)));
        assert_eq!(m.iter().count(), 10_000);
        assert_eq!(m.keys().count(), 10_000);
        assert_eq!(m.values().sum::<u64>(), (0..10_000u64).sum());
        m.retain(|k, _| k >> 8 < 100);
        assert_eq!(m.len(), 100);
        let before = m.capacity();
        m.shrink_sparse();
        assert!(m.capacity() < before / 4, "{} -> {}", before, m.capacity());
        for v in m.values_mut() {
            *v = 0;
        }
        assert_eq!((&m).into_iter().map(|(_, v)| *v).sum::<u64>(), 0);
    }
}
