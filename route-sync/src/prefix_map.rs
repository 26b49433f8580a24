//! A map keyed by prefix that stores the key in 4 bytes (IPv4) or 16 bytes (IPv6): one hash
//! table per prefix length, keyed by the network address. A million `IpNet` keys (18 bytes
//! each, plus padding next to the value) would cost more than the values themselves.
//!
//! bgp-core's RIB has prefix tables of its own (`bgp-core/src/rib/sharded.rs`, keys in
//! `rib/prefix.rs`); the two are deliberately not shared. route-sync does not depend on
//! bgp-core: it takes "this prefix has these next hops" commands and knows nothing of BGP,
//! and a shared map is not worth tying it to the BGP crate. The RIB's keys also serve its
//! per-peer work lists (sorted by radix, marked) and its tables are sharded per family;
//! this map takes and yields `IpNet` and needs neither.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::hash::FastState;

/// See the module documentation. Prefixes are truncated to their network address.
pub struct PrefixMap<V> {
    v4: Vec<HashMap<u32, V, FastState>>,
    v6: Vec<HashMap<u128, V, FastState>>,
}

impl<V> Default for PrefixMap<V> {
    fn default() -> Self {
        PrefixMap {
            v4: (0..=32).map(|_| HashMap::default()).collect(),
            v6: (0..=128).map(|_| HashMap::default()).collect(),
        }
    }
}

fn v4(len: usize, addr: u32) -> Option<IpNet> {
    let len = u8::try_from(len).ok()?;
    Ipv4Net::new(Ipv4Addr::from(addr), len).ok().map(IpNet::V4)
}

fn v6(len: usize, addr: u128) -> Option<IpNet> {
    let len = u8::try_from(len).ok()?;
    Ipv6Net::new(Ipv6Addr::from(addr), len).ok().map(IpNet::V6)
}

impl<V> PrefixMap<V> {
    pub fn get(&self, p: &IpNet) -> Option<&V> {
        match p.trunc() {
            IpNet::V4(n) => self.v4.get(usize::from(n.prefix_len()))?.get(&n.addr().to_bits()),
            IpNet::V6(n) => self.v6.get(usize::from(n.prefix_len()))?.get(&n.addr().to_bits()),
        }
    }

    pub fn get_mut(&mut self, p: &IpNet) -> Option<&mut V> {
        match p.trunc() {
            IpNet::V4(n) => {
                self.v4.get_mut(usize::from(n.prefix_len()))?.get_mut(&n.addr().to_bits())
            }
            IpNet::V6(n) => {
                self.v6.get_mut(usize::from(n.prefix_len()))?.get_mut(&n.addr().to_bits())
            }
        }
    }

    /// The value for `p`, inserted with `make` when absent.
    pub fn get_or_insert_with(&mut self, p: &IpNet, make: impl FnOnce() -> V) -> &mut V {
        // Prefix lengths are at most 32 / 128, so the indexes are in range.
        match p.trunc() {
            IpNet::V4(n) => {
                self.v4[usize::from(n.prefix_len())].entry(n.addr().to_bits()).or_insert_with(make)
            }
            IpNet::V6(n) => {
                self.v6[usize::from(n.prefix_len())].entry(n.addr().to_bits()).or_insert_with(make)
            }
        }
    }

    pub fn remove(&mut self, p: &IpNet) -> Option<V> {
        match p.trunc() {
            IpNet::V4(n) => {
                self.v4.get_mut(usize::from(n.prefix_len()))?.remove(&n.addr().to_bits())
            }
            IpNet::V6(n) => {
                self.v6.get_mut(usize::from(n.prefix_len()))?.remove(&n.addr().to_bits())
            }
        }
    }

    pub fn len(&self) -> usize {
        self.v4.iter().map(HashMap::len).sum::<usize>()
            + self.v6.iter().map(HashMap::len).sum::<usize>()
    }

    pub fn iter(&self) -> impl Iterator<Item = (IpNet, &V)> {
        let a = self
            .v4
            .iter()
            .enumerate()
            .flat_map(|(len, m)| m.iter().filter_map(move |(a, v)| Some((v4(len, *a)?, v))));
        let b = self
            .v6
            .iter()
            .enumerate()
            .flat_map(|(len, m)| m.iter().filter_map(move |(a, v)| Some((v6(len, *a)?, v))));
        a.chain(b)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (IpNet, &mut V)> {
        let a =
            self.v4.iter_mut().enumerate().flat_map(|(len, m)| {
                m.iter_mut().filter_map(move |(a, v)| Some((v4(len, *a)?, v)))
            });
        let b =
            self.v6.iter_mut().enumerate().flat_map(|(len, m)| {
                m.iter_mut().filter_map(move |(a, v)| Some((v6(len, *a)?, v)))
            });
        a.chain(b)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.v4
            .iter_mut()
            .flat_map(|m| m.values_mut())
            .chain(self.v6.iter_mut().flat_map(|m| m.values_mut()))
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&mut V) -> bool) {
        for m in &mut self.v4 {
            m.retain(|_, v| keep(v));
        }
        for m in &mut self.v6 {
            m.retain(|_, v| keep(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_by_length_and_network() {
        let mut m: PrefixMap<u8> = PrefixMap::default();
        let p = |s: &str| s.parse::<IpNet>().unwrap();
        *m.get_or_insert_with(&p("10.0.0.0/8"), || 1) += 0;
        *m.get_or_insert_with(&p("10.0.0.0/32"), || 2) += 0;
        *m.get_or_insert_with(&p("2001:db8::/32"), || 3) += 0;
        assert_eq!(m.get_mut(&p("10.1.2.3/8")), Some(&mut 1), "truncated");
        assert_eq!(m.get_mut(&p("10.0.0.0/32")), Some(&mut 2));
        assert_eq!(m.len(), 3);
        let mut all: Vec<(IpNet, u8)> = m.iter().map(|(k, v)| (k, *v)).collect();
        all.sort();
        assert_eq!(all, vec![(p("10.0.0.0/8"), 1), (p("10.0.0.0/32"), 2), (p("2001:db8::/32"), 3)]);
        m.retain(|v| *v != 2);
        assert_eq!(m.remove(&p("10.0.0.0/8")), Some(1));
        assert_eq!(m.len(), 1);
    }
}
