//! A FIFO of prefixes that holds an IPv4 prefix in 8 bytes (an `IpNet` takes 18): the work
//! queues of [`crate::fib::Fib`] hold a million prefixes when a peer's routes come or go at
//! once. IPv4 and IPv6 prefixes are queued separately (each in order, IPv4 first), and the
//! memory of a long queue is given back once it has drained.
//!
//! A long backlog of installs can be put into *spread order* ([`PrefixQueue::spread`]): by
//! the bit-reversed network address, so that consecutive requests land far apart in the
//! address space. Linux's FIB trie takes far longer to absorb a long run of consecutive
//! prefixes in address order than the same prefixes spread out (1M /24s counted up from
//! 11.0.0.0: 4.4 s of kernel CPU in address order, 3.0 s spread; `FIB_BENCH_LEN=24
//! FIB_BENCH_ORDER=scatter fib_bench`), and peers send their tables in address order.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Capacity kept by a drained queue.
const KEEP: usize = 4096;
/// Backlogs shorter than this keep their order (spreading a few routes gains nothing).
const SPREAD_MIN: usize = 4096;

#[derive(Debug, Default)]
pub struct PrefixQueue {
    /// `address << 8 | prefix length`.
    v4: VecDeque<u64>,
    v6: VecDeque<(u128, u8)>,
    /// How many leading entries of `v4` / `v6` are in spread order.
    spread4: usize,
    spread6: usize,
}

/// Sort `q` into spread order when it is long and at least half of it arrived since the
/// last sort (so each entry takes part in O(log n) sorts at most).
fn spread_queue<T, K: Ord>(q: &mut VecDeque<T>, sorted: &mut usize, key: impl FnMut(&T) -> K) {
    if q.len() >= SPREAD_MIN && q.len() >= 2 * *sorted {
        q.make_contiguous().sort_unstable_by_key(key);
        *sorted = q.len();
    }
}

fn v4_key(n: &Ipv4Net) -> u64 {
    u64::from(n.network().to_bits()) << 8 | u64::from(n.prefix_len())
}

fn v4_net(key: u64) -> Option<IpNet> {
    let addr = u32::try_from(key >> 8).ok()?;
    let len = (key & 0xff) as u8;
    Ipv4Net::new(Ipv4Addr::from(addr), len).ok().map(IpNet::V4)
}

fn v6_net((addr, len): (u128, u8)) -> Option<IpNet> {
    Ipv6Net::new(Ipv6Addr::from(addr), len).ok().map(IpNet::V6)
}

impl PrefixQueue {
    pub fn push_back(&mut self, p: IpNet) {
        match p {
            IpNet::V4(n) => self.v4.push_back(v4_key(&n)),
            IpNet::V6(n) => self.v6.push_back((n.network().to_bits(), n.prefix_len())),
        }
    }

    /// Put a long backlog into spread order (see the module documentation); new entries go
    /// to the back as usual until the next call.
    pub fn spread(&mut self) {
        spread_queue(&mut self.v4, &mut self.spread4, |k| {
            let addr = (k >> 8) as u32;
            u64::from(addr.reverse_bits()) << 8 | (k & 0xff)
        });
        spread_queue(&mut self.v6, &mut self.spread6, |(addr, len)| (addr.reverse_bits(), *len));
    }

    pub fn pop_front(&mut self) -> Option<IpNet> {
        loop {
            let next = match self.v4.pop_front() {
                Some(k) => {
                    self.spread4 = self.spread4.saturating_sub(1);
                    v4_net(k)
                }
                None => {
                    self.spread6 = self.spread6.saturating_sub(1);
                    v6_net(self.v6.pop_front()?)
                }
            };
            if self.is_empty() {
                self.v4.shrink_to(KEEP);
                self.v6.shrink_to(KEEP);
            }
            // Keys are only made from valid prefixes: `None` cannot happen.
            if next.is_some() {
                return next;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn clear(&mut self) {
        *self = PrefixQueue::default();
    }

    pub fn iter(&self) -> impl Iterator<Item = IpNet> + '_ {
        let v4 = self.v4.iter().filter_map(|k| v4_net(*k));
        v4.chain(self.v6.iter().filter_map(|k| v6_net(*k)))
    }

    /// Keeps the prefixes for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(IpNet) -> bool) {
        self.v4.retain(|k| v4_net(*k).is_some_and(&mut keep));
        self.v6.retain(|k| v6_net(*k).is_some_and(&mut keep));
        self.spread4 = self.spread4.min(self.v4.len());
        self.spread6 = self.spread6.min(self.v6.len());
    }

    /// Moves every prefix of `other` to the back of this queue.
    pub fn append(&mut self, other: &mut PrefixQueue) {
        if self.is_empty() {
            std::mem::swap(self, other);
            return;
        }
        self.v4.append(&mut other.v4);
        self.v6.append(&mut other.v6);
        other.clear();
    }
}

impl Extend<IpNet> for PrefixQueue {
    fn extend<I: IntoIterator<Item = IpNet>>(&mut self, iter: I) {
        for p in iter {
            self.push_back(p);
        }
    }
}

impl Iterator for PrefixQueue {
    type Item = IpNet;
    fn next(&mut self) -> Option<IpNet> {
        self.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_per_family_and_retain() {
        let p = |s: &str| s.parse::<IpNet>().unwrap();
        let mut q = PrefixQueue::default();
        q.extend([p("10.0.0.1/32"), p("2001:db8::/32"), p("10.1.0.0/16"), p("0.0.0.0/0")]);
        assert_eq!(q.len(), 4);
        q.retain(|n| n != p("10.1.0.0/16"));
        assert_eq!(q.iter().count(), 3);
        let all: Vec<IpNet> = std::mem::take(&mut q).collect();
        assert_eq!(all, vec![p("10.0.0.1/32"), p("0.0.0.0/0"), p("2001:db8::/32")]);
        assert!(q.is_empty());
        let mut other = PrefixQueue::default();
        other.push_back(p("10.0.0.0/8"));
        q.push_back(p("10.0.0.1/32"));
        q.append(&mut other);
        assert!(other.is_empty());
        assert_eq!(q.pop_front(), Some(p("10.0.0.1/32")));
        assert_eq!(q.pop_front(), Some(p("10.0.0.0/8")));
        assert_eq!(q.pop_front(), None);
    }

    #[test]
    fn a_long_backlog_is_spread_over_the_address_space_and_nothing_is_lost() {
        let n = 3 * SPREAD_MIN as u32;
        let net =
            |i: u32| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(0x0B00_0000 + (i << 8)), 24).unwrap());
        let mut q = PrefixQueue::default();
        q.extend((0..16).map(net));
        q.spread();
        assert_eq!(q.pop_front(), Some(net(0)), "a short queue keeps its order");
        q.extend((16..n).map(net));
        q.spread();
        let first: Vec<IpNet> = (0..4).filter_map(|_| q.pop_front()).collect();
        // Consecutive requests are far apart: bit-reversed order of the /24 numbers.
        // (/24 number i, bits reversed: 8192 = 2^13 first, then 2^12, 2^11, 2^11 + 2^13.)
        assert_eq!(first, vec![net(8192), net(4096), net(2048), net(10240)]);
        let mut rest: Vec<IpNet> = first;
        q.push_back(net(n));
        q.spread(); // not half new: no re-sort, the new one waits at the back
        rest.extend(std::mem::take(&mut q));
        assert_eq!(rest.last(), Some(&net(n)));
        rest.sort();
        rest.dedup();
        assert_eq!(rest.len() as u32, n, "every prefix exactly once");
    }
}
