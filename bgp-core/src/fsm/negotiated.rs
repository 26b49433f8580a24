//! What a session negotiated: the one value the codec (through `rx`/`tx`) and the RIB consume.
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::wire::capability::Capability;
use crate::wire::context::{MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
use crate::wire::route_refresh::{SUBTYPE_BORR, SUBTYPE_EORR, SUBTYPE_NORMAL};
use crate::wire::{
    AddPathMode, DecodeError, ExtendedNextHopEntry, Family, GracefulRestartCap, Open, RouteRefresh,
    WireContext,
};

use super::config::FsmConfig;
use super::open_check::check_peer_open;
use super::output::DownReason;

/// The result of the OPEN exchange (RFC 4271 §4.2 and the capabilities of RFC 5492).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The peer's AS (the 4-octet AS capability when present, RFC 6793).
    pub peer_as: u32,
    /// The peer's BGP Identifier.
    pub peer_router_id: Ipv4Addr,
    /// RFC 4271 §4.2: "the smaller of its configured Hold Time and the Hold Time received in
    /// the OPEN message"; 0 = no Hold Timer and no periodic KEEPALIVEs.
    pub hold_time: u16,
    /// RFC 4271 §4.4: "one third of the Hold Time interval"; zero when `hold_time` is 0.
    pub keepalive_interval: Duration,
    /// Families both sides announced (RFC 4760 §8: a side that announced no Multiprotocol
    /// capability at all supports IPv4 unicast only), in our configured order.
    pub families: Vec<Family>,
    /// Context for decoding what we receive.
    pub rx: WireContext,
    /// Context for encoding what we send.
    pub tx: WireContext,
    /// Both announced Route Refresh (RFC 2918).
    pub route_refresh: bool,
    /// Both announced Enhanced Route Refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// We announced Route Refresh (RFC 2918): a received ROUTE-REFRESH is honoured whether
    /// or not the peer announced it (see [`Negotiated::check_route_refresh`]).
    pub local_route_refresh: bool,
    /// We announced Enhanced Route Refresh (RFC 7313): received BoRR/EoRR are understood.
    pub local_enhanced_route_refresh: bool,
    /// The peer's Graceful Restart capability (RFC 4724 §3): restart time, R and N bits,
    /// per-family F bits. `None` = the peer did not announce it.
    pub peer_graceful_restart: Option<GracefulRestartCap>,
    /// We announced Graceful Restart.
    pub local_graceful_restart: bool,
    /// We announced the RFC 8538 N bit ("Notification") in our Graceful Restart capability.
    pub local_graceful_notification: bool,
    /// <NLRI family, next-hop AFI> pairs both announced (RFC 8950 §3): we may send, and must
    /// accept, such next hops.
    pub extended_next_hop: Vec<ExtendedNextHopEntry>,
    /// The peer's FQDN capability hostname, if any.
    pub peer_hostname: Option<String>,
}

impl Negotiated {
    /// Check `peer_open` against `local` (see [`check_peer_open`]), then negotiate with the
    /// OPEN we sent. The error converts into the NOTIFICATION to send.
    pub fn from_opens(
        local: &FsmConfig,
        our_open: &Open,
        peer_open: &Open,
    ) -> Result<Negotiated, DecodeError> {
        check_peer_open(local, peer_open)?;
        // RFC 4271 §4.2: a BGP speaker "MUST calculate the value of the Hold Timer by using
        // the smaller of its configured Hold Time and the Hold Time received in the OPEN
        // message". min() also makes 0 (no hold timer) win.
        let hold_time = our_open.hold_time.min(peer_open.hold_time);
        let ours = announced_families(our_open);
        let theirs = announced_families(peer_open);
        let families: Vec<Family> = ours.into_iter().filter(|f| theirs.contains(f)).collect();
        // RFC 6793 §4.1: 4-octet AS numbers on the wire when both sides announced it.
        let four_octet_as = has(our_open, |c| matches!(c, Capability::FourOctetAs(_)))
            && has(peer_open, |c| matches!(c, Capability::FourOctetAs(_)));
        // RFC 8654 §3: Extended Messages when both sides announced the capability.
        let max_message_len =
            if has(our_open, is_extended_message) && has(peer_open, is_extended_message) {
                MAX_EXTENDED_MESSAGE_LEN
            } else {
                MAX_MESSAGE_LEN
            };
        let (rx_add_path, tx_add_path) = add_path(our_open, peer_open, &families);
        let local_route_refresh = has(our_open, |c| matches!(c, Capability::RouteRefresh));
        let local_enhanced_route_refresh =
            has(our_open, |c| matches!(c, Capability::EnhancedRouteRefresh));
        Ok(Negotiated {
            peer_as: peer_open.asn(),
            peer_router_id: peer_open.bgp_id,
            hold_time,
            keepalive_interval: Duration::from_secs(u64::from(hold_time)) / 3,
            rx: WireContext { four_octet_as, add_path: rx_add_path, max_message_len },
            tx: WireContext { four_octet_as, add_path: tx_add_path, max_message_len },
            families,
            route_refresh: local_route_refresh
                && has(peer_open, |c| matches!(c, Capability::RouteRefresh)),
            enhanced_route_refresh: local_enhanced_route_refresh
                && has(peer_open, |c| matches!(c, Capability::EnhancedRouteRefresh)),
            local_route_refresh,
            local_enhanced_route_refresh,
            peer_graceful_restart: peer_open.capabilities().find_map(|c| match c {
                Capability::GracefulRestart(gr) => Some(gr.clone()),
                _ => None,
            }),
            local_graceful_restart: has(our_open, |c| matches!(c, Capability::GracefulRestart(_))),
            local_graceful_notification: has(
                our_open,
                |c| matches!(c, Capability::GracefulRestart(gr) if gr.notification),
            ),
            extended_next_hop: extended_next_hop(our_open, peer_open),
            peer_hostname: peer_open.capabilities().find_map(|c| match c {
                Capability::Fqdn { hostname, .. } => Some(hostname.clone()),
                _ => None,
            }),
        })
    }

    /// Was `family` negotiated?
    pub fn has_family(&self, family: Family) -> bool {
        self.families.contains(&family)
    }

    /// Both sides announced Graceful Restart (RFC 4724 §4.2 applies to this session).
    pub fn graceful_restart(&self) -> bool {
        self.local_graceful_restart && self.peer_graceful_restart.is_some()
    }

    /// Both sides announced Graceful Restart with the RFC 8538 N bit: NOTIFICATIONs other
    /// than Hard Reset end the session gracefully, and the Cease subcodes of RFC 8538 §5 go
    /// out as Hard Reset.
    pub fn notification_graceful_restart(&self) -> bool {
        self.graceful_restart()
            && self.local_graceful_notification
            && self.peer_graceful_restart.as_ref().is_some_and(|g| g.notification)
    }

    /// Are the peer's routes kept as stale when this session ends for `reason`?
    ///
    /// RFC 4724 §4.2, with Graceful Restart negotiated: yes when the session ended without a
    /// NOTIFICATION ([`DownReason::allows_graceful_restart`]). RFC 8538 §4, with the N bit
    /// exchanged too: also after a NOTIFICATION sent or received, except Cease / Hard Reset,
    /// after which the routes are flushed at once
    /// ([`DownReason::allows_notification_graceful_restart`]).
    pub fn retains_routes_after(&self, reason: &DownReason) -> bool {
        self.graceful_restart()
            && (reason.allows_graceful_restart()
                || (self.notification_graceful_restart()
                    && reason.allows_notification_graceful_restart()))
    }

    /// Should a received ROUTE-REFRESH be acted on? RFC 2918 §4: "If a BGP speaker receives
    /// from its peer a ROUTE-REFRESH message with the <AFI, SAFI> that the speaker didn't
    /// advertise to the peer at the session establishment time via capability
    /// advertisement, the speaker shall ignore such a message." Only what *we* advertised
    /// counts: a peer may send a ROUTE-REFRESH without announcing the capability itself
    /// (older speakers announce only the pre-standard code 128), so a request is ignored
    /// only when we did not announce Route Refresh. RFC 7313 §5: "When the BGP speaker
    /// receives a ROUTE-REFRESH message with a "Message Subtype" field other than 0, 1, or
    /// 2, it MUST ignore the received ROUTE-REFRESH message" (1 and 2, BoRR and EoRR, only
    /// when we announced Enhanced Route Refresh).
    pub fn check_route_refresh(&self, request: &RouteRefresh) -> Result<(), RouteRefreshRefusal> {
        if !self.local_route_refresh && !self.local_enhanced_route_refresh {
            return Err(RouteRefreshRefusal::CapabilityNotNegotiated);
        }
        match request.subtype {
            SUBTYPE_NORMAL => {}
            SUBTYPE_BORR | SUBTYPE_EORR if self.local_enhanced_route_refresh => {}
            SUBTYPE_BORR | SUBTYPE_EORR => {
                return Err(RouteRefreshRefusal::CapabilityNotNegotiated)
            }
            other => return Err(RouteRefreshRefusal::UnknownSubtype(other)),
        }
        if !self.has_family(request.family) {
            return Err(RouteRefreshRefusal::FamilyNotNegotiated(request.family));
        }
        Ok(())
    }
}

/// Why a received ROUTE-REFRESH is ignored ([`Negotiated::check_route_refresh`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteRefreshRefusal {
    /// We did not announce Route Refresh (or, for subtypes 1 and 2, Enhanced Route
    /// Refresh).
    CapabilityNotNegotiated,
    /// The <AFI, SAFI> was not negotiated (RFC 2918 §4).
    FamilyNotNegotiated(Family),
    /// RFC 7313 §5: a subtype other than 0, 1 or 2.
    UnknownSubtype(u8),
}

impl RouteRefreshRefusal {
    /// A short name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteRefreshRefusal::CapabilityNotNegotiated => "capability_not_negotiated",
            RouteRefreshRefusal::FamilyNotNegotiated(_) => "family_not_negotiated",
            RouteRefreshRefusal::UnknownSubtype(_) => "unknown_subtype",
        }
    }
}

fn has(open: &Open, pred: impl Fn(&Capability) -> bool) -> bool {
    open.capabilities().any(pred)
}

fn is_extended_message(c: &Capability) -> bool {
    matches!(c, Capability::ExtendedMessage)
}

/// The families an OPEN announces (RFC 4760 §8, one Multiprotocol capability per family).
/// A speaker that announces no Multiprotocol capability at all is a plain RFC 4271 speaker:
/// IPv4 unicast only. Duplicates are dropped.
fn announced_families(open: &Open) -> Vec<Family> {
    let mut out: Vec<Family> = Vec::new();
    let mut any = false;
    for c in open.capabilities() {
        if let Capability::Multiprotocol(f) = c {
            any = true;
            if !out.contains(f) {
                out.push(*f);
            }
        }
    }
    if !any {
        out.push(Family::IPV4_UNICAST);
    }
    out
}

/// The ADD-PATH mode an OPEN announces per family (the last entry wins if repeated).
fn add_path_modes(open: &Open) -> Vec<(Family, AddPathMode)> {
    let mut out: Vec<(Family, AddPathMode)> = Vec::new();
    for c in open.capabilities() {
        if let Capability::AddPath(entries) = c {
            for e in entries {
                out.retain(|(f, _)| *f != e.family);
                out.push((e.family, e.mode));
            }
        }
    }
    out
}

/// RFC 7911 §4/§5, per direction: path identifiers are received for a family when we
/// announced Receive (1) or Both (3) and the peer Send (2) or Both; they are sent when we
/// announced Send or Both and the peer Receive or Both. Only negotiated families are
/// considered. Returns (receive, send).
fn add_path(ours: &Open, peer: &Open, families: &[Family]) -> (Vec<Family>, Vec<Family>) {
    let ours = add_path_modes(ours);
    let theirs = add_path_modes(peer);
    let mut rx = Vec::new();
    let mut tx = Vec::new();
    for (family, mode) in ours {
        if !families.contains(&family) {
            continue;
        }
        let Some((_, peer_mode)) = theirs.iter().find(|(f, _)| *f == family) else {
            continue;
        };
        if mode.can_receive() && peer_mode.can_send() {
            rx.push(family);
        }
        if mode.can_send() && peer_mode.can_receive() {
            tx.push(family);
        }
    }
    (rx, tx)
}

/// RFC 8950 §3: an <NLRI AFI/SAFI, Nexthop AFI> tuple applies when both sides announced it.
fn extended_next_hop(ours: &Open, peer: &Open) -> Vec<ExtendedNextHopEntry> {
    let collect = |open: &Open| -> Vec<ExtendedNextHopEntry> {
        open.capabilities()
            .filter_map(|c| match c {
                Capability::ExtendedNextHop(entries) => Some(entries.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    };
    let theirs = collect(peer);
    let mut out: Vec<ExtendedNextHopEntry> = Vec::new();
    for e in collect(ours) {
        if theirs.contains(&e) && !out.contains(&e) {
            out.push(e);
        }
    }
    out
}
