//! Compact prefix keys for the per-family tables, and the seeded hasher they use.
//!
//! An IPv4 prefix is one `u64` (`address << 8 | length`), an IPv6 prefix two words and a
//! length. Hashing one of them is a single folded multiply (the technique of `foldhash`)
//! keyed by a per-RIB random seed: prefixes come from peers, so the table layout must not be
//! predictable to them (a fixed hash would let a peer aim many prefixes at one bucket).
//! route-sync's `hash.rs` does the same for the kernel's route table; why the two are not
//! shared is in `sharded.rs`.
use std::collections::hash_map::RandomState;
use std::fmt::Debug;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::wire::Family;

/// A prefix key of one address family.
pub(crate) trait PrefixKey: Copy + Eq + Hash + Ord + Debug {
    const FAMILY: Family;
    /// `None` for a prefix of the other family.
    fn from_net(net: &IpNet) -> Option<Self>;
    fn net(self) -> IpNet;

    /// Sort `list` and remove duplicates (a peer's work list before a flush); of the
    /// entries for one prefix the last queued stays (it carries the latest mark).
    fn sort_dedup(list: &mut Vec<Self>) {
        if !is_strictly_sorted(list) {
            Self::stable_sort(list);
            dedup_keep_last(list);
        }
    }

    /// Sort by prefix, keeping the queued order within one prefix.
    fn stable_sort(list: &mut Vec<Self>) {
        list.sort_by_key(|k| k.unmarked());
    }

    /// The key marked "not advertised to the peer when queued" (work lists only): if no later
    /// entry for the prefix follows, the flush withdraws it without looking it up.
    fn marked_withdrawn(self) -> Self {
        self
    }

    fn is_marked_withdrawn(self) -> bool {
        false
    }

    /// The key without the mark (for table lookups).
    fn unmarked(self) -> Self {
        self
    }
}

/// Sorted without duplicates, marks ignored (a work list left by a previous page needs no
/// sorting).
fn is_strictly_sorted<K: PrefixKey>(list: &[K]) -> bool {
    list.windows(2).all(|w| w[0].unmarked() < w[1].unmarked())
}

/// Work lists at least this long are sorted by radix (IPv4) rather than by comparison.
const RADIX_MIN: usize = 4096;
/// Bits per radix digit; four digits cover the 40 significant bits of an IPv4 key.
const RADIX_BITS: u32 = 10;
const RADIX_DIGITS: usize = 4;
const RADIX_MASK: u64 = (1 << RADIX_BITS) - 1;

/// LSD radix sort of IPv4 keys (all below 2^40): linear in the length, unlike the
/// comparison sort that dominated flushing a million withdrawals. Digits every key shares
/// (the prefix length of a table of /24s, the high address bits) are skipped.
fn radix_sort_v4(list: &mut Vec<V4>) {
    let mut counts = [[0usize; 1 << RADIX_BITS]; RADIX_DIGITS];
    let mut all_bits = 0u64;
    for k in list.iter() {
        let key = k.unmarked().0;
        all_bits |= key;
        for (d, c) in counts.iter_mut().enumerate() {
            c[((key >> (d as u32 * RADIX_BITS)) & RADIX_MASK) as usize] += 1;
        }
    }
    if all_bits >> (RADIX_BITS * RADIX_DIGITS as u32) != 0 {
        list.sort_by_key(|k| k.unmarked()); // not a key built by `from_net`: by comparison
        return;
    }
    let n = list.len();
    let mut buf: Vec<V4> = vec![V4(0); n];
    for (d, c) in counts.iter_mut().enumerate() {
        if c.contains(&n) {
            continue; // every key has the same digit: the pass would not move anything
        }
        let mut sum = 0;
        for x in c.iter_mut() {
            let here = *x;
            *x = sum;
            sum += here;
        }
        for k in list.iter() {
            let key = k.unmarked().0;
            let slot = &mut c[((key >> (d as u32 * RADIX_BITS)) & RADIX_MASK) as usize];
            if let Some(dst) = buf.get_mut(*slot) {
                *dst = *k;
            }
            *slot += 1;
        }
        std::mem::swap(list, &mut buf);
    }
}

/// IPv4 prefix: address in the high 32 bits of the low 40, length in the low 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct V4(u64);

/// IPv6 prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct V6 {
    hi: u64,
    lo: u64,
    len: u8,
}

impl PrefixKey for V4 {
    const FAMILY: Family = Family::IPV4_UNICAST;

    #[inline]
    fn from_net(net: &IpNet) -> Option<Self> {
        match net {
            IpNet::V4(n) => {
                let addr = u32::from(n.network());
                Some(V4(u64::from(addr) << 8 | u64::from(n.prefix_len())))
            }
            IpNet::V6(_) => None,
        }
    }

    #[inline]
    fn net(self) -> IpNet {
        let addr = Ipv4Addr::from((self.0 >> 8) as u32);
        let len = (self.0 & 0xFF) as u8;
        // The length was a valid prefix length when the key was built.
        IpNet::V4(Ipv4Net::new(addr, len.min(32)).unwrap_or_default())
    }

    fn stable_sort(list: &mut Vec<Self>) {
        // Both sorts are stable: entries for one prefix stay in the order they were queued.
        if list.len() >= RADIX_MIN {
            radix_sort_v4(list);
        } else {
            list.sort_by_key(|k| k.unmarked());
        }
    }

    #[inline]
    fn marked_withdrawn(self) -> Self {
        V4(self.0 | V4_WITHDRAWN)
    }

    #[inline]
    fn is_marked_withdrawn(self) -> bool {
        self.0 & V4_WITHDRAWN != 0
    }

    #[inline]
    fn unmarked(self) -> Self {
        V4(self.0 & !V4_WITHDRAWN)
    }
}

/// The "withdrawn when queued" mark of an IPv4 work-list entry (keys use the low 40 bits).
const V4_WITHDRAWN: u64 = 1 << 63;

/// Of each run of entries for one prefix (sorted, stable), keep the last.
fn dedup_keep_last<K: PrefixKey>(list: &mut Vec<K>) {
    let n = list.len();
    let mut w = 0;
    for r in 0..n {
        if r + 1 < n && list[r + 1].unmarked() == list[r].unmarked() {
            continue;
        }
        list[w] = list[r];
        w += 1;
    }
    list.truncate(w);
}

impl PrefixKey for V6 {
    const FAMILY: Family = Family::IPV6_UNICAST;

    #[inline]
    fn from_net(net: &IpNet) -> Option<Self> {
        match net {
            IpNet::V6(n) => {
                let addr = u128::from(n.network());
                Some(V6 { hi: (addr >> 64) as u64, lo: addr as u64, len: n.prefix_len() })
            }
            IpNet::V4(_) => None,
        }
    }

    #[inline]
    fn net(self) -> IpNet {
        let addr = Ipv6Addr::from(u128::from(self.hi) << 64 | u128::from(self.lo));
        IpNet::V6(Ipv6Net::new(addr, self.len.min(128)).unwrap_or_default())
    }
}

/// Multiplier of the folded multiply (the 64-bit golden ratio, odd).
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline(always)]
fn folded_multiply(x: u64, y: u64) -> u64 {
    let full = u128::from(x).wrapping_mul(u128::from(y));
    (full as u64) ^ ((full >> 64) as u64)
}

/// Builds [`PrefixHasher`]s from one random seed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeededState {
    seed: u64,
}

impl SeededState {
    /// A fresh random seed (from std's per-process random keys; no clock, no I/O per call).
    pub(crate) fn random() -> Self {
        SeededState { seed: RandomState::new().hash_one(0x5EED_u64) | 1 }
    }
}

impl Default for SeededState {
    fn default() -> Self {
        Self::random()
    }
}

impl BuildHasher for SeededState {
    type Hasher = PrefixHasher;
    #[inline]
    fn build_hasher(&self) -> PrefixHasher {
        PrefixHasher { state: self.seed }
    }
}

/// Hasher for small integer keys: each word is mixed in with one folded multiply.
pub(crate) struct PrefixHasher {
    state: u64,
}

impl Hasher for PrefixHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.state = folded_multiply(self.state ^ i, MULTIPLIER);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // One more round so that the last word also reaches the high bits (hashbrown's tag).
        folded_multiply(self.state, MULTIPLIER ^ 0xA076_1D64_78BD_642F)
    }
}

pub(crate) type PrefixMap<K, V> = super::sharded::ShardedMap<K, V>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_queued_entry_of_a_prefix_wins_with_its_mark() {
        let k = |i: u32| {
            V4::from_net(&format!("10.{}.{}.0/24", i >> 8, i & 0xff).parse().unwrap()).unwrap()
        };
        for n in [10u32, 5000] {
            // Prefix 0: marked, then unmarked (re-announced). Prefix 1: unmarked, then marked.
            let mut list = vec![k(0).marked_withdrawn(), k(1), k(0)];
            list.extend((2..n).rev().map(k));
            list.push(k(1).marked_withdrawn());
            V4::sort_dedup(&mut list);
            assert_eq!(list.len() as u32, n);
            assert_eq!(list[0], k(0), "re-announced after the withdrawal: looked up");
            assert!(list[1].is_marked_withdrawn() && list[1].unmarked() == k(1));
            assert!(list.windows(2).all(|w| w[0].unmarked() < w[1].unmarked()));
            assert_eq!(list[1].net(), k(1).net(), "the mark does not change the prefix");
        }
    }

    #[test]
    fn radix_sort_matches_comparison_sort() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for n in [0, 1, 5, RADIX_MIN - 1, RADIX_MIN, 20_000] {
            let mut keys: Vec<V4> = (0..n)
                .map(|i| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    // Duplicates and /24s mixed with other lengths.
                    let addr =
                        if i % 3 == 0 { (x >> 40) as u32 & 0xFFF0_0000 } else { (x >> 32) as u32 };
                    V4((u64::from(addr) << 8) | ((x >> 3) % 33))
                })
                .collect();
            let mut expected = keys.clone();
            expected.sort_unstable();
            expected.dedup();
            V4::sort_dedup(&mut keys);
            assert_eq!(keys, expected, "{n} keys");
            V4::sort_dedup(&mut keys); // already sorted: unchanged
            assert_eq!(keys, expected);
        }
        // Only /24s in one /8: the shared digits are skipped.
        let mut keys: Vec<V4> =
            (0..10_000u64).rev().map(|i| V4((16 << 32 | i << 16) | 24)).collect();
        keys.extend_from_within(..100);
        let mut expected = keys.clone();
        expected.sort_unstable();
        expected.dedup();
        V4::sort_dedup(&mut keys);
        assert_eq!(keys, expected);
    }

    #[test]
    fn keys_round_trip() {
        for s in ["0.0.0.0/0", "198.18.0.0/15", "255.255.255.255/32", "10.1.2.0/24"] {
            let net: IpNet = s.parse().unwrap();
            assert_eq!(V4::from_net(&net).unwrap().net(), net);
            assert!(V6::from_net(&net).is_none());
        }
        for s in ["::/0", "2001:db8::/32", "2001:db8:ffff:1::1/128"] {
            let net: IpNet = s.parse().unwrap();
            assert_eq!(V6::from_net(&net).unwrap().net(), net);
            assert!(V4::from_net(&net).is_none());
        }
    }

    #[test]
    fn keys_are_small() {
        assert_eq!(std::mem::size_of::<V4>(), 8);
        assert_eq!(std::mem::size_of::<V6>(), 24);
    }

    #[test]
    fn sequential_prefixes_spread_over_buckets() {
        let state = SeededState::random();
        let mut low = std::collections::HashSet::new();
        for i in 0..4096u32 {
            let key = V4(u64::from(i << 8) << 8 | 24);
            low.insert(state.hash_one(key) & 0xFFF);
        }
        // Perfect spreading would fill 4096 buckets; random would fill ~63%.
        assert!(low.len() > 2300, "{}", low.len());
    }
}
