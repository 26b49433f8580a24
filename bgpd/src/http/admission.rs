//! Which accepted HTTP connections may stay: a global cap, a per-source share of it and a few
//! places kept for loopback, so that one client holding idle connections can neither take
//! the whole endpoint nor lock out a local `/healthz` probe (an orchestrator would restart
//! bgpd for it).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Why a connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The endpoint is full (for this source's kind: loopback may use the reserved places).
    Full,
    /// This source already holds its share.
    SourceShare,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Full => "too many open",
            Refusal::SourceShare => "too many open from this source",
        }
    }
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// The open connections, by source.
#[derive(Debug)]
pub struct Admission {
    max: usize,
    per_source: usize,
    loopback_reserve: usize,
    open: Mutex<Open>,
}

/// Places kept for loopback sources, at most.
const LOOPBACK_RESERVE: usize = 2;

impl Admission {
    /// `max` connections at once; a source holds at most a quarter of them (at least one);
    /// up to [`LOOPBACK_RESERVE`] of them (a quarter of `max` at most) only loopback may take.
    pub fn new(max: usize) -> Arc<Admission> {
        Arc::new(Admission {
            max,
            per_source: (max / 4).max(1),
            loopback_reserve: (max / 4).min(LOOPBACK_RESERVE),
            open: Mutex::new(Open::default()),
        })
    }

    pub fn per_source(&self) -> usize {
        self.per_source
    }

    /// A place for a connection from `source`, given back when the ticket is dropped.
    pub fn admit(self: &Arc<Self>, source: IpAddr) -> Result<Ticket, Refusal> {
        let source = source.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let cap = if source.is_loopback() { self.max } else { self.max - self.loopback_reserve };
        if open.total >= cap {
            return Err(Refusal::Full);
        }
        let held = open.by_source.entry(source).or_insert(0);
        if *held >= self.per_source {
            return Err(Refusal::SourceShare);
        }
        *held += 1;
        open.total += 1;
        Ok(Ticket { admission: self.clone(), source })
    }
}

/// One admitted connection's place.
#[derive(Debug)]
pub struct Ticket {
    admission: Arc<Admission>,
    source: IpAddr,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.admission.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(held) = open.by_source.get_mut(&self.source) {
            *held -= 1;
            if *held == 0 {
                open.by_source.remove(&self.source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_source_holds_at_most_a_quarter() {
        let a = Admission::new(64);
        let mine: Vec<_> = (0..16).map(|_| a.admit(ip("198.18.0.9")).unwrap()).collect();
        assert_eq!(a.admit(ip("198.18.0.9")).err(), Some(Refusal::SourceShare));
        // Another source is not affected, nor the same source once a place is given back.
        assert!(a.admit(ip("198.18.0.10")).is_ok());
        drop(mine);
        assert!(a.admit(ip("198.18.0.9")).is_ok());
    }

    #[test]
    fn the_last_places_are_kept_for_loopback() {
        let a = Admission::new(64);
        let mut held = Vec::new();
        for n in 0..62 {
            held.push(a.admit(IpAddr::from([198, 18, 1, n / 16])).unwrap());
        }
        assert_eq!(a.admit(ip("198.18.2.1")).err(), Some(Refusal::Full));
        assert_eq!(a.admit(ip("2001:db8::1")).err(), Some(Refusal::Full));
        let probe = a.admit(ip("127.0.0.1")).unwrap();
        let _probe6 = a.admit(ip("::1")).unwrap();
        assert_eq!(a.admit(ip("127.0.0.1")).err(), Some(Refusal::Full));
        drop(probe);
        // An IPv4-mapped loopback address is loopback too.
        assert!(a.admit(ip("::ffff:127.0.0.1")).is_ok());
    }

    #[test]
    fn a_tiny_cap_still_admits_one() {
        let a = Admission::new(1);
        let t = a.admit(ip("198.18.0.9")).unwrap();
        assert_eq!(a.admit(ip("127.0.0.1")).err(), Some(Refusal::Full));
        drop(t);
        assert!(a.admit(ip("127.0.0.1")).is_ok());
    }
}
