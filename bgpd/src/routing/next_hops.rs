//! Our own next hops on a session (next-hop-self, RFC 4271 §5.1.3: "the IP address of the
//! interface used to reach the peer"), chosen when the session comes up and, where taken from
//! the interface, chosen again whenever route-sync reports a change of the namespace's
//! addresses ([`recheck`]): an address that went is no longer advertised, one that came makes
//! the family's routes advertised.
//!
//! The session's local address is the next hop for its own family. For the other family
//! (IPv6 routes over an IPv4 session, the Pod CIDRs of a dual-stack node, or IPv4 over IPv6)
//! there is no such address: RFC 2545 §3 / RFC 4760 want an IPv6 next hop for IPv6 NLRI. In
//! order, the next hop of a family is:
//! 1. the neighbour's `next_hop_v4` / `next_hop_v6`;
//! 2. the session's local address, when of that family;
//! 3. the lowest stable global address of that family on the interface that holds the
//!    session's local address (route-sync's view of the namespace's addresses:
//!    `Interfaces::address_beside`);
//! 4. none: routes of the family that need our next hop (our own prefixes always, every route
//!    toward eBGP) are not advertised on this session. That is logged once per session and
//!    family, with the originated prefixes it affects, and counted in
//!    `bgpd_next_hop_missing_total`.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_core::wire::Family;
use ipnet::IpNet;
use route_sync::RouteSync;
use tracing::{info, warn};

use crate::messages::PeerKey;
use crate::metrics::Metrics;

/// Our next hop per family on one session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct NextHops {
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<Ipv6Addr>,
}

/// Choose the next hops of a session whose local address is `local` (see the module docs);
/// `beside(local, v6)` finds an address of the other family on `local`'s interface.
pub(super) fn choose(
    local: IpAddr,
    configured: NextHops,
    beside: impl Fn(IpAddr, bool) -> Option<IpAddr>,
) -> NextHops {
    let local = local.to_canonical();
    let v4 = configured.v4.or(match local {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => match beside(local, false) {
            Some(IpAddr::V4(a)) => Some(a),
            _ => None,
        },
    });
    let v6 = configured.v6.or(match local {
        IpAddr::V6(a) => Some(a),
        IpAddr::V4(_) => match beside(local, true) {
            Some(IpAddr::V6(a)) => Some(a),
            _ => None,
        },
    });
    NextHops { v4, v6 }
}

/// [`choose`] with route-sync's interface view (none when kernel sync is off), and the report
/// of every negotiated family left without a next hop.
pub(super) fn for_session(
    peer: PeerKey,
    local: IpAddr,
    configured: NextHops,
    families: &[Family],
    kernel: Option<&RouteSync>,
    originated: &[IpNet],
    metrics: &Metrics,
) -> NextHops {
    let chosen = choose(local, configured, |l, v6| kernel.and_then(|k| k.address_beside(l, v6)));
    for family in missing(chosen, families) {
        let v6 = family == Family::IPV6_UNICAST;
        let field = if v6 { "next_hop_v6" } else { "next_hop_v4" };
        let affected: Vec<String> = originated
            .iter()
            .filter(|p| matches!(p, IpNet::V6(_)) == v6)
            .map(|p| p.to_string())
            .collect();
        let why = if kernel.is_some() {
            "the interface of the session's local address has no global address of that family"
        } else {
            "kernel sync is off, so the interface addresses are not known"
        };
        warn!(neighbor = %peer, %family, local_address = %local, originated = ?affected,
              reason = why, fix = field,
              "no next hop of this family on the session: its routes that need our next hop (our own prefixes, all routes toward eBGP) are not advertised to this neighbour");
        metrics.next_hop_missing.with_label_values(&[&peer.to_string(), &family.to_string()]).inc();
    }
    chosen
}

/// The next hops of an established session chosen again after the interface addresses
/// changed; `Some` (and logged) when they differ from `current`. A family that lost its next
/// hop is reported as at session start (`bgpd_next_hop_missing_total`).
pub(super) fn recheck(
    peer: PeerKey,
    local: IpAddr,
    configured: NextHops,
    current: NextHops,
    families: &[Family],
    beside: impl Fn(IpAddr, bool) -> Option<IpAddr>,
    metrics: &Metrics,
) -> Option<NextHops> {
    let chosen = choose(local, configured, beside);
    if chosen == current {
        return None;
    }
    let lost =
        missing(chosen, families).into_iter().filter(|f| !missing(current, families).contains(f));
    for family in lost {
        warn!(neighbor = %peer, %family, local_address = %local,
              "the interface address our next hop of this family was taken from is gone and no other is usable: its routes that need our next hop are withdrawn from this neighbour");
        metrics.next_hop_missing.with_label_values(&[&peer.to_string(), &family.to_string()]).inc();
    }
    info!(neighbor = %peer, old_v4 = ?current.v4, old_v6 = ?current.v6, v4 = ?chosen.v4, v6 = ?chosen.v6,
          "our next hop on the session changed with the interface addresses: routes re-advertised");
    Some(chosen)
}

/// The negotiated unicast families without a next hop.
fn missing(chosen: NextHops, families: &[Family]) -> Vec<Family> {
    families
        .iter()
        .copied()
        .filter(|f| {
            (*f == Family::IPV4_UNICAST && chosen.v4.is_none())
                || (*f == Family::IPV6_UNICAST && chosen.v6.is_none())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// An interface holding 198.18.0.11 and 2001:db8::11.
    fn beside(local: IpAddr, v6: bool) -> Option<IpAddr> {
        match (local, v6) {
            (l, true) if l == ip("198.18.0.11") => Some(ip("2001:db8::11")),
            (l, false) if l == ip("2001:db8::11") => Some(ip("198.18.0.11")),
            _ => None,
        }
    }

    #[test]
    fn the_other_family_comes_from_the_sessions_interface() {
        let got = choose(ip("198.18.0.11"), NextHops::default(), beside);
        assert_eq!(got.v4, Some("198.18.0.11".parse().unwrap()));
        assert_eq!(got.v6, Some("2001:db8::11".parse().unwrap()));
        let got = choose(ip("::ffff:198.18.0.11"), NextHops::default(), beside);
        assert_eq!(got.v6, Some("2001:db8::11".parse().unwrap()), "v4-mapped local address");
        let got = choose(ip("2001:db8::11"), NextHops::default(), beside);
        assert_eq!(got.v4, Some("198.18.0.11".parse().unwrap()));
    }

    #[test]
    fn configured_next_hops_win() {
        let configured = NextHops {
            v4: Some("198.18.5.5".parse().unwrap()),
            v6: Some("2001:db8:5::5".parse().unwrap()),
        };
        assert_eq!(choose(ip("198.18.0.11"), configured, beside), configured);
    }

    #[test]
    fn a_family_without_next_hop_is_reported() {
        let got = choose(ip("198.18.1.1"), NextHops::default(), beside);
        assert_eq!(got.v6, None);
        let both = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];
        assert_eq!(missing(got, &both), vec![Family::IPV6_UNICAST]);
        assert!(missing(got, &[Family::IPV4_UNICAST]).is_empty(), "only negotiated families");
        let metrics = Metrics::new();
        let peer: PeerKey = ip("198.18.1.2");
        let nets = ["10.244.1.0/24".parse().unwrap(), "2001:db8:244:1::/64".parse().unwrap()];
        let local = ip("198.18.1.1");
        for_session(peer, local, NextHops::default(), &both, None, &nets, &metrics);
        let counted = metrics.next_hop_missing.with_label_values(&["198.18.1.2", "ipv6_unicast"]);
        assert_eq!(counted.get(), 1);
        assert!(metrics.render().contains("bgpd_next_hop_missing_total"));
    }
}
