//! Per-source admission for connections from addresses that are not neighbours: a token
//! bucket per source (an IPv4 address, or an IPv6 /64, which one host usually holds whole),
//! in a bounded map. A source over its rate is closed at once, without a NOTIFICATION, so a
//! flood costs neither descriptors (no lingering refusal task) nor bandwidth. Sources that find
//! the map full share one overflow bucket. Sans-IO: the caller passes the time.
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Connections a source may open back to back.
pub const BURST: u32 = 4;
/// One more connection per this much time.
pub const REFILL_EVERY: Duration = Duration::from_secs(2);
/// Sources remembered at most.
pub const MAX_SOURCES: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: u32,
    /// When the next token is due (meaningful while `tokens < burst`).
    refill_from: Instant,
}

impl Bucket {
    fn full(burst: u32, now: Instant) -> Bucket {
        Bucket { tokens: burst, refill_from: now }
    }

    fn refill(&mut self, burst: u32, every: Duration, now: Instant) {
        if self.tokens >= burst {
            self.refill_from = now;
            return;
        }
        let elapsed = now.saturating_duration_since(self.refill_from);
        let earned = (elapsed.as_nanos() / every.as_nanos().max(1)).min(u128::from(burst)) as u32;
        if earned > 0 {
            self.tokens = (self.tokens + earned).min(burst);
            self.refill_from =
                if self.tokens >= burst { now } else { self.refill_from + every * earned };
        }
    }

    fn take(&mut self, burst: u32, every: Duration, now: Instant) -> bool {
        self.refill(burst, every, now);
        if self.tokens == 0 {
            return false;
        }
        if self.tokens == burst {
            self.refill_from = now;
        }
        self.tokens -= 1;
        true
    }
}

/// Token buckets per source.
pub struct SourceLimiter {
    burst: u32,
    every: Duration,
    max_sources: usize,
    sources: HashMap<IpAddr, Bucket>,
    overflow: Option<Bucket>,
}

impl Default for SourceLimiter {
    fn default() -> Self {
        SourceLimiter::new(BURST, REFILL_EVERY, MAX_SOURCES)
    }
}

impl SourceLimiter {
    pub fn new(burst: u32, every: Duration, max_sources: usize) -> SourceLimiter {
        SourceLimiter { burst, every, max_sources, sources: HashMap::new(), overflow: None }
    }

    /// A connection from `source` at `now`: `true` if it is within its rate.
    pub fn admit(&mut self, source: IpAddr, now: Instant) -> bool {
        let (burst, every) = (self.burst, self.every);
        let key = source_key(source);
        if !self.sources.contains_key(&key) && self.sources.len() >= self.max_sources {
            // Forget the sources whose buckets have filled up again: they are as good as new.
            self.sources.retain(|_, b| {
                b.refill(burst, every, now);
                b.tokens < burst
            });
        }
        let bucket = if self.sources.len() < self.max_sources || self.sources.contains_key(&key) {
            self.sources.entry(key).or_insert_with(|| Bucket::full(burst, now))
        } else {
            self.overflow.get_or_insert_with(|| Bucket::full(burst, now))
        };
        bucket.take(burst, every, now)
    }
}

/// IPv4: the address; IPv6: its /64.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_then_one_per_refill_interval() {
        let mut l = SourceLimiter::new(4, Duration::from_secs(2), 16);
        let t0 = Instant::now();
        let a = ip("198.18.0.9");
        assert!((0..4).all(|_| l.admit(a, t0)));
        assert!(!l.admit(a, t0));
        assert!(!l.admit(a, t0 + Duration::from_millis(1999)));
        assert!(l.admit(a, t0 + Duration::from_secs(2)));
        assert!(!l.admit(a, t0 + Duration::from_secs(3)));
        // Another source has its own bucket.
        assert!(l.admit(ip("198.18.0.10"), t0));
        // After a long pause the burst is back, not more.
        let later = t0 + Duration::from_secs(3600);
        assert_eq!((0..10).filter(|_| l.admit(a, later)).count(), 4);
    }

    #[test]
    fn an_ipv6_64_is_one_source() {
        let mut l = SourceLimiter::new(2, Duration::from_secs(2), 16);
        let t0 = Instant::now();
        assert!(l.admit(ip("2001:db8::1"), t0));
        assert!(l.admit(ip("2001:db8::2:2"), t0));
        assert!(!l.admit(ip("2001:db8::ffff:3"), t0));
        assert!(l.admit(ip("2001:db8:0:1::1"), t0));
    }

    #[test]
    fn the_map_is_bounded_and_a_full_map_shares_one_bucket() {
        let mut l = SourceLimiter::new(2, Duration::from_secs(2), 8);
        let t0 = Instant::now();
        let admitted =
            (0..1000u32).filter(|i| l.admit(IpAddr::V4((0xc612_0000 + i).into()), t0)).count();
        assert_eq!(l.sources.len(), 8);
        // 8 sources with a bucket of their own, then the overflow bucket's burst for the rest.
        assert_eq!(admitted, 8 + 2);
        // Once the remembered buckets have refilled, new sources get their own again.
        let later = t0 + Duration::from_secs(10);
        assert!(l.admit(ip("198.19.0.1"), later));
        assert!(l.admit(ip("198.19.0.1"), later));
        assert!(!l.admit(ip("198.19.0.1"), later));
        assert!(l.sources.len() <= 8);
    }
}
