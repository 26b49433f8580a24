//! NLRI: prefixes, optionally with an ADD-PATH path identifier (RFC 4271 §4.3, RFC 7911 §3).
//!
//! ```text
//! RFC 4271 §4.3                       RFC 7911 §3 (ADD-PATH)
//! +---------------------------+       +--------------------------------+
//! |   Length (1 octet)        |       | Path Identifier (4 octets)     |
//! +---------------------------+       +--------------------------------+
//! |   Prefix (variable)       |       | Length (1 octet)               |
//! +---------------------------+       +--------------------------------+
//!                                     | Prefix (variable)              |
//!                                     +--------------------------------+
//! ```
//! "Length: the Length field indicates the length in bits of the IP address prefix. [...]
//! Prefix: [...] followed by enough trailing bits to make the end of the field fall on an octet
//! boundary. Note that the value of trailing bits is irrelevant." (RFC 4271 §4.3)
//!
//! This is the hottest code of the project (a full table is millions of these), so decoding is
//! a hand-written loop over the slice: no allocation per prefix, the output vector is reserved
//! from an exact count, and an address is read as one big-endian word and masked.
use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use super::error::DecodeError;
use super::family::{Family, AFI_IPV6};

/// One reachability entry: a prefix and, when ADD-PATH is in force for its family, a path id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Nlri {
    pub prefix: IpNet,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path_id: Option<u32>,
}

impl Nlri {
    pub fn new(prefix: IpNet) -> Self {
        Nlri { prefix, path_id: None }
    }
    pub fn with_path_id(prefix: IpNet, path_id: u32) -> Self {
        Nlri { prefix, path_id: Some(path_id) }
    }

    /// Octets this entry takes on the wire (path id, length octet, prefix octets).
    #[inline]
    pub fn encoded_len(&self, add_path: bool) -> usize {
        (if add_path { 4 } else { 0 }) + 1 + prefix_octets(self.prefix.prefix_len())
    }
}

/// Octets needed for a prefix of `bits` bits: "enough trailing bits to make the end of the
/// field fall on an octet boundary".
#[inline]
fn prefix_octets(bits: u8) -> usize {
    (bits as usize).div_ceil(8)
}

/// Network mask of `len` bits (0..=32) as a word: `0xFFFF_FF00` for 24.
#[inline]
fn mask_v4(len: u8) -> u32 {
    (0xFFFF_FFFF_0000_0000u64 >> len) as u32
}

/// Network mask of `len` bits (0..=128).
#[inline]
fn mask_v6(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// Decode the NLRI run `buf` of `family` (IPv4 or IPv6 unicast) into `out`.
///
/// RFC 7606 §5.3: the field is "syntactically incorrect" when a prefix length exceeds the
/// family's maximum or the last prefix overruns the field; both are a session reset
/// ([`DecodeError::InvalidNetworkField`]). Host bits past the prefix length are cleared, so
/// `10.0.0.1/24` on the wire reads as `10.0.0.0/24` ("the value of trailing bits is
/// irrelevant").
pub fn decode_nlri(
    buf: &[u8],
    family: Family,
    add_path: bool,
    out: &mut Vec<Nlri>,
) -> Result<(), DecodeError> {
    if buf.is_empty() {
        return Ok(());
    }
    out.reserve(estimate_entries(buf, family.afi == AFI_IPV6, add_path));
    match (family.afi == AFI_IPV6, add_path) {
        (false, false) => decode_v4(buf, out),
        (false, true) => decode_v4_add_path(buf, out),
        (true, add_path) => decode_v6(buf, add_path, out),
    }
    .map_err(|_| DecodeError::InvalidNetworkField)
}

/// Marker error of the inner loops; mapped to `InvalidNetworkField` once, outside them.
struct Malformed;

/// Entries to reserve room for: `buf` as if every entry were the usual size, a /24 (4 octets)
/// or an IPv6 /48 (7 octets), plus a path id with ADD-PATH. Counting exactly would walk the
/// length octets twice; an estimate costs one reallocation at worst (shorter prefixes) and a
/// little slack otherwise (longer ones).
#[inline]
fn estimate_entries(buf: &[u8], v6: bool, add_path: bool) -> usize {
    let typical = if v6 { 7 } else { 4 } + if add_path { 4 } else { 0 };
    buf.len() / typical + 1
}

/// The common case: IPv4 without path ids. While at least five octets remain, an entry is the
/// length octet plus one 4-octet big-endian load, masked to the prefix length (octets past
/// the prefix belong to the next entry and are masked away), with no further bounds checks.
/// Only the last entries, where fewer than four octets follow the length, take the
/// zero-padded slow path.
fn decode_v4(buf: &[u8], out: &mut Vec<Nlri>) -> Result<(), Malformed> {
    let mut rest = buf;
    while let Some((&[bits, a, b, c, d], _)) = rest.split_first_chunk::<5>() {
        if bits > 32 {
            return Err(Malformed);
        }
        let word = u32::from_be_bytes([a, b, c, d]) & mask_v4(bits);
        let prefix = Ipv4Net::new(Ipv4Addr::from(word), bits).map_err(|_| Malformed)?;
        out.push(Nlri { prefix: IpNet::V4(prefix), path_id: None });
        // 1 + at most 4 octets: always within the five just matched.
        rest = rest.get(1 + prefix_octets(bits)..).ok_or(Malformed)?;
    }
    while let Some((&bits, tail)) = rest.split_first() {
        let (addr, used) = read_v4(bits, tail)?;
        let prefix = Ipv4Net::new(addr, bits).map_err(|_| Malformed)?;
        out.push(Nlri { prefix: IpNet::V4(prefix), path_id: None });
        rest = tail.get(used..).ok_or(Malformed)?;
    }
    Ok(())
}

/// IPv4 with a 4-octet path identifier before each entry (RFC 7911 §3).
fn decode_v4_add_path(buf: &[u8], out: &mut Vec<Nlri>) -> Result<(), Malformed> {
    let mut rest = buf;
    while !rest.is_empty() {
        let (id, tail) = rest.split_first_chunk::<4>().ok_or(Malformed)?;
        let (&bits, tail) = tail.split_first().ok_or(Malformed)?;
        let (addr, used) = read_v4(bits, tail)?;
        let prefix = Ipv4Net::new(addr, bits).map_err(|_| Malformed)?;
        out.push(Nlri { prefix: IpNet::V4(prefix), path_id: Some(u32::from_be_bytes(*id)) });
        rest = tail.get(used..).ok_or(Malformed)?;
    }
    Ok(())
}

/// Read an IPv4 prefix of `bits` bits from the front of `tail`; returns the masked address and
/// the octets it occupies.
#[inline(always)]
fn read_v4(bits: u8, tail: &[u8]) -> Result<(Ipv4Addr, usize), Malformed> {
    if bits > 32 {
        return Err(Malformed);
    }
    let used = prefix_octets(bits);
    let word = match tail.first_chunk::<4>() {
        Some(w) => u32::from_be_bytes(*w),
        None => {
            let src = tail.get(..used).ok_or(Malformed)?;
            let mut w = [0u8; 4];
            w[..used].copy_from_slice(src);
            u32::from_be_bytes(w)
        }
    };
    Ok((Ipv4Addr::from(word & mask_v4(bits)), used))
}

/// IPv6, with or without path ids; same technique as IPv4 with a 16-octet load.
fn decode_v6(buf: &[u8], add_path: bool, out: &mut Vec<Nlri>) -> Result<(), Malformed> {
    let mut rest = buf;
    // Fast path without path ids: while 17 octets remain, one unchecked 16-octet load.
    while let (false, Some((&bits, tail))) = (add_path, rest.split_first()) {
        let Some(word) = tail.first_chunk::<16>() else { break };
        if bits > 128 {
            return Err(Malformed);
        }
        let addr = Ipv6Addr::from(u128::from_be_bytes(*word) & mask_v6(bits));
        let prefix = Ipv6Net::new(addr, bits).map_err(|_| Malformed)?;
        out.push(Nlri { prefix: IpNet::V6(prefix), path_id: None });
        rest = tail.get(prefix_octets(bits)..).ok_or(Malformed)?;
    }
    while !rest.is_empty() {
        let path_id = if add_path {
            let (id, tail) = rest.split_first_chunk::<4>().ok_or(Malformed)?;
            rest = tail;
            Some(u32::from_be_bytes(*id))
        } else {
            None
        };
        let (&bits, tail) = rest.split_first().ok_or(Malformed)?;
        if bits > 128 {
            return Err(Malformed);
        }
        let used = prefix_octets(bits);
        let word = match tail.first_chunk::<16>() {
            Some(w) => u128::from_be_bytes(*w),
            None => {
                let src = tail.get(..used).ok_or(Malformed)?;
                let mut w = [0u8; 16];
                w[..used].copy_from_slice(src);
                u128::from_be_bytes(w)
            }
        };
        let addr = Ipv6Addr::from(word & mask_v6(bits));
        let prefix = Ipv6Net::new(addr, bits).map_err(|_| Malformed)?;
        out.push(Nlri { prefix: IpNet::V6(prefix), path_id });
        rest = tail.get(used..).ok_or(Malformed)?;
    }
    Ok(())
}

/// Append one entry. With `add_path`, an entry without a path id is sent with id 0.
#[inline]
pub fn encode_nlri(nlri: &Nlri, add_path: bool, out: &mut BytesMut) {
    if add_path {
        out.put_u32(nlri.path_id.unwrap_or(0));
    }
    let bits = nlri.prefix.prefix_len();
    let used = prefix_octets(bits);
    match nlri.prefix {
        IpNet::V4(p) => {
            let octets = p.addr().octets();
            out.put_u8(bits);
            out.put_slice(&octets[..used.min(4)]);
        }
        IpNet::V6(p) => {
            let octets = p.addr().octets();
            out.put_u8(bits);
            out.put_slice(&octets[..used.min(16)]);
        }
    }
}

/// Append every entry of `list`; returns the octets written.
pub fn encode_nlri_list(list: &[Nlri], add_path: bool, out: &mut BytesMut) -> usize {
    let start = out.len();
    encode_nlri_run(list, add_path, usize::MAX, out);
    out.len() - start
}

/// Octets of scratch space filled before it is copied to the output.
const SCRATCH: usize = 1024;
/// Largest entry: path id, length octet, 16 address octets, plus slack so that every entry
/// can be written as a fixed-size store (the octets past its length are overwritten by the
/// next entry or never copied out).
const MAX_ENTRY: usize = 4 + 1 + 16;

/// Append entries from the front of `list` while they fit in `budget` octets; returns how many
/// were written. This is the encoder's hot loop: each entry is one fixed-size store into a
/// stack buffer (no capacity check, no variable-length copy), and the buffer goes to `out`
/// in 1 KiB copies. With `add_path`, an entry without a path id is sent with id 0.
pub fn encode_nlri_run(list: &[Nlri], add_path: bool, budget: usize, out: &mut BytesMut) -> usize {
    let id_len = if add_path { 4 } else { 0 };
    let mut scratch = [0u8; SCRATCH + MAX_ENTRY];
    let mut at = 0;
    let mut used = 0usize;
    let mut taken = 0;
    for n in list {
        let bits = n.prefix.prefix_len();
        let len = id_len + 1 + prefix_octets(bits);
        if used.saturating_add(len) > budget {
            break;
        }
        let Some(dst) = scratch.get_mut(at..at + MAX_ENTRY) else { break };
        if add_path {
            dst[..4].copy_from_slice(&n.path_id.unwrap_or(0).to_be_bytes());
        }
        dst[id_len] = bits;
        match n.prefix {
            IpNet::V4(p) => dst[id_len + 1..id_len + 5].copy_from_slice(&p.addr().octets()),
            IpNet::V6(p) => dst[id_len + 1..id_len + 17].copy_from_slice(&p.addr().octets()),
        }
        at += len;
        used += len;
        taken += 1;
        if at >= SCRATCH {
            out.extend_from_slice(&scratch[..at]);
            at = 0;
        }
    }
    out.extend_from_slice(&scratch[..at]);
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Nlri {
        Nlri::new(s.parse().unwrap())
    }

    fn decode(buf: &[u8], family: Family, add_path: bool) -> Result<Vec<Nlri>, DecodeError> {
        let mut out = Vec::new();
        decode_nlri(buf, family, add_path, &mut out).map(|_| out)
    }

    #[test]
    fn ipv4_prefixes_of_every_length_round_trip() {
        let list: Vec<Nlri> = (0..=32u8)
            .map(|len| {
                let addr = Ipv4Addr::from(0xC612_3456u32 & mask_v4(len));
                Nlri::new(IpNet::V4(Ipv4Net::new(addr, len).unwrap()))
            })
            .collect();
        let mut buf = BytesMut::new();
        encode_nlri_list(&list, false, &mut buf);
        assert_eq!(decode(&buf, Family::IPV4_UNICAST, false).unwrap(), list);
    }

    #[test]
    fn ipv6_prefixes_of_every_length_round_trip_with_path_ids() {
        let base: u128 = 0x2001_0db8_1234_5678_9abc_def0_1122_3344;
        let list: Vec<Nlri> = (0..=128u8)
            .map(|len| {
                let p = Ipv6Net::new(Ipv6Addr::from(base & mask_v6(len)), len).unwrap();
                Nlri::with_path_id(IpNet::V6(p), u32::from(len) * 7)
            })
            .collect();
        let mut buf = BytesMut::new();
        encode_nlri_list(&list, true, &mut buf);
        assert_eq!(decode(&buf, Family::IPV6_UNICAST, true).unwrap(), list);
    }

    #[test]
    fn known_bytes_decode() {
        // 198.18.0.0/15, 0.0.0.0/0, 198.18.1.0/24, 198.18.1.1/32
        let buf = [15, 198, 18, 0, 24, 198, 18, 1, 32, 198, 18, 1, 1];
        assert_eq!(
            decode(&buf, Family::IPV4_UNICAST, false).unwrap(),
            vec![v4("198.18.0.0/15"), v4("0.0.0.0/0"), v4("198.18.1.0/24"), v4("198.18.1.1/32")]
        );
    }

    #[test]
    fn add_path_ids_decode() {
        let buf = [0, 0, 0, 1, 24, 198, 18, 1, 0, 0, 0, 2, 24, 198, 18, 1];
        assert_eq!(
            decode(&buf, Family::IPV4_UNICAST, true).unwrap(),
            vec![
                Nlri::with_path_id("198.18.1.0/24".parse().unwrap(), 1),
                Nlri::with_path_id("198.18.1.0/24".parse().unwrap(), 2)
            ]
        );
    }

    #[test]
    fn trailing_host_bits_are_cleared() {
        assert_eq!(
            decode(&[23, 198, 19, 255], Family::IPV4_UNICAST, false).unwrap(),
            vec![v4("198.19.254.0/23")]
        );
    }

    #[test]
    fn too_long_prefix_is_invalid_network_field() {
        for (buf, fam) in [
            (&[33u8, 1, 2, 3, 4, 5][..], Family::IPV4_UNICAST),
            (&[129u8; 18][..], Family::IPV6_UNICAST),
        ] {
            assert_eq!(decode(buf, fam, false), Err(DecodeError::InvalidNetworkField));
        }
    }

    #[test]
    fn overrun_is_invalid_network_field() {
        for buf in [&[24u8, 198, 18][..], &[32, 1], &[8], &[24, 198, 18, 1, 9]] {
            assert_eq!(
                decode(buf, Family::IPV4_UNICAST, false),
                Err(DecodeError::InvalidNetworkField),
                "{buf:?}"
            );
        }
        // A path id cut short, and a path id with no length octet after it.
        assert!(decode(&[0, 0, 1], Family::IPV4_UNICAST, true).is_err());
        assert!(decode(&[0, 0, 0, 1], Family::IPV6_UNICAST, true).is_err());
        assert!(decode(&[64, 0x20, 1, 0xd, 0xb8], Family::IPV6_UNICAST, false).is_err());
    }

    #[test]
    fn encoded_len_matches_encoding() {
        for n in [v4("0.0.0.0/0"), v4("198.18.0.0/15"), v4("198.18.1.1/32")] {
            for ap in [false, true] {
                let mut buf = BytesMut::new();
                encode_nlri(&n, ap, &mut buf);
                assert_eq!(buf.len(), n.encoded_len(ap));
            }
        }
    }
}
