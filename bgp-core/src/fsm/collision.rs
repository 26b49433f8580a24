//! Connection collision detection (RFC 4271 §6.8, RFC 6286 §2.3) and what the runtime does
//! with a connection the peer opens. The runtime only carries these decisions out.
//!
//! One [`Fsm`] owns at most one connection. The runtime's listener asks
//! [`Fsm::incoming_connection`] what to do with a new connection from the peer:
//!
//! - [`IncomingDecision::Refuse`]: send the [`Refusal::notification`] on it and close it.
//! - [`IncomingDecision::Accept`]: abort the dial in progress, if any; the new socket becomes
//!   the FSM's connection: feed [`Event::TcpConnectionConfirmed`].
//! - [`IncomingDecision::Collision`]: keep the new socket aside (at most one per peer: a
//!   newer one replaces it), send nothing on it, and read its first message (give up after a
//!   bound). If it is an OPEN, ask [`Fsm::resolve_collision`] and apply the
//!   [`CollisionResolution`]; if it does not decode, send `Notification::from(&err)` on it
//!   (RFC 4271 §6.2), if another message comes first, Finite State Machine Error (RFC 6608);
//!   if the socket fails or stays silent, just close it.
//!
//! RFC 4271 runs one FSM per connection and lets the dumped one go Idle; here the peer's one
//! FSM carries on with the surviving connection, which is why [`Event::OpenCollisionDump`]
//! leaves the FSM in Active (ready for [`Event::TcpConnectionConfirmed`]) instead of Idle.
use std::net::{IpAddr, Ipv4Addr};

use crate::wire::capability::Capability;
use crate::wire::notification::codes;
use crate::wire::{Notification, Open};

use super::open_check::check_peer_open;
use super::output::TimerKind;
use super::state::State;
#[cfg(doc)]
use super::Event;
use super::{Conn, Fsm};

/// What to do with a new connection from the peer (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncomingDecision {
    /// Send the refusal's NOTIFICATION and close it.
    Refuse(Refusal),
    /// Make it the FSM's connection ([`Event::TcpConnectionConfirmed`]).
    Accept,
    /// Hold it until its OPEN arrives, then call [`Fsm::resolve_collision`].
    Collision,
}

/// Why a new connection from the peer is refused before its OPEN is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The session is administratively down or was never started (RFC 4271 §8.2.2 Idle:
    /// "In this state, BGP FSM refuses all incoming BGP connections for this peer").
    Stopped,
    /// The idle-hold back-off runs after more consecutive errors than
    /// `IdleHoldConfig::accept_incoming_errors`: the peer waits like our own dials do.
    BackOff,
    /// Established without graceful restart: RFC 4271 §6.8 "a connection collision with an
    /// existing BGP connection that is in the Established state causes closing of the newly
    /// created connection".
    Established,
}

impl Refusal {
    /// RFC 4486 Cease: Connection Rejected (5), or Connection Collision Resolution (7) in
    /// Established.
    pub fn notification(self) -> Notification {
        let subcode = match self {
            Refusal::Stopped | Refusal::BackOff => codes::CEASE_CONNECTION_REJECTED,
            Refusal::Established => codes::CEASE_CONNECTION_COLLISION,
        };
        Notification::new(codes::CEASE, subcode)
    }

    /// A short name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Stopped => "stopped",
            Refusal::BackOff => "back_off",
            Refusal::Established => "established",
        }
    }
}

/// What to do once the OPEN of a held-aside connection has arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CollisionResolution {
    /// Send this NOTIFICATION on the new connection and close it; the FSM is unchanged.
    CloseIncoming(Notification),
    /// The existing connection loses: apply `fsm.handle(Event::OpenCollisionDump)` to the
    /// existing connection (it sends Cease / Connection Collision Resolution and closes it),
    /// then make the new socket the FSM's connection and feed
    /// [`Event::TcpConnectionConfirmed`] followed by [`Event::BgpOpen`] with this OPEN.
    CloseExisting,
    /// The FSM has no connection (a dial in flight, none, or Idle waiting out a back-off
    /// that a peer connection may end): abort the dial in progress, if any, and feed
    /// [`Event::TcpConnectionConfirmed`] then [`Event::BgpOpen`].
    AcceptIncoming,
}

/// RFC 4271 §6.8: "If the value of the local BGP Identifier is less than the remote one, the
/// local system closes the BGP connection that already exists (the one that is already in
/// the OpenConfirm state), and accepts the BGP connection initiated by the remote system.
/// Otherwise, the local system closes the newly created BGP connection (the one associated
/// with the newly received OPEN message), and continues to use the existing one."
///
/// The new connection is the one the peer initiated. The rule keeps the connection initiated
/// by the speaker with the higher identifier, so both speakers keep the same one. When the
/// existing connection was initiated by the peer too (the peer gave up on it and dialed
/// again), the identifiers say nothing and the newer one is kept (`false`). Returns `true`
/// to keep the existing connection.
pub fn keep_existing(local_id: Ipv4Addr, remote_id: Ipv4Addr, existing_is_outgoing: bool) -> bool {
    keep_existing_with_as(local_id, 0, remote_id, 0, existing_is_outgoing)
}

/// [`keep_existing`] with the RFC 6286 §2.3 tie-break: "If the BGP Identifiers of the peers
/// involved in the connection collision are identical, then the connection initiated by the
/// BGP speaker with the larger AS number is preserved." Identifiers compare as 4-octet
/// unsigned integers (RFC 6286 §2.3). Identical identifiers and AS: keep the existing one.
pub fn keep_existing_with_as(
    local_id: Ipv4Addr,
    local_as: u32,
    remote_id: Ipv4Addr,
    remote_as: u32,
    existing_is_outgoing: bool,
) -> bool {
    if !existing_is_outgoing {
        return false;
    }
    (u32::from(local_id), local_as) >= (u32::from(remote_id), remote_as)
}

/// RFC 4724 §3: the Restart State bit "is set to 1" by a speaker that has restarted. An OPEN
/// with it tells a session we still think Established that the peer restarted (RFC 4724
/// §4.2); without it, a second connection is a simultaneous-open straggler and the
/// Established one wins (RFC 4271 §6.8).
pub fn open_announces_restart(open: &Open) -> bool {
    open.capabilities().any(|c| matches!(c, Capability::GracefulRestart(gr) if gr.restart_state))
}

impl Fsm {
    /// What the runtime does with a new connection from this peer (module documentation).
    /// `local` and `remote` are the new connection's addresses (IPv4-mapped IPv6 already
    /// turned into IPv4, the same way on both speakers).
    ///
    /// - Idle refuses (RFC 4271 §8.2.2: "In this state, BGP FSM refuses all incoming BGP
    ///   connections for this peer"), except while the idle-hold back-off runs after at most
    ///   `IdleHoldConfig::accept_incoming_errors` consecutive errors: a peer that comes back
    ///   (e.g. after its restart, RFC 4724) is accepted at once, as BIRD and FRR do, and
    ///   [`Event::TcpConnectionConfirmed`] ends the back-off. After more errors the peer waits
    ///   for the IdleHold timer like our own dials.
    /// - Connect with our dial in flight: both sides are dialling. If both dropped their dial
    ///   for the other's connection, both connections would close, so the side with the
    ///   lower address accepts the peer's connection and abandons its dial; the other keeps
    ///   dialling and resolves a collision on the OPEN (RFC 4271 §6.8, by BGP Identifier).
    /// - Connect and Active without a connection up accept; with one up (DelayOpen running),
    ///   OpenSent and OpenConfirm hold it for collision detection (RFC 4271 §8.2.2 OpenSent:
    ///   "a second TCP connection may be in progress. This second TCP connection is tracked
    ///   per Call Collision processing (Section 6.8) until an OPEN message is received").
    /// - Established refuses, unless graceful restart was negotiated on the session: then a
    ///   new connection may mean the peer restarted (RFC 4724 §4.2), and it is held for
    ///   [`Fsm::resolve_collision`].
    pub fn incoming_connection(&self, local: IpAddr, remote: IpAddr) -> IncomingDecision {
        match self.state {
            State::Idle if self.idle_accepts_incoming() => IncomingDecision::Accept,
            State::Idle => IncomingDecision::Refuse(self.idle_refusal()),
            State::Established if self.graceful_restart_negotiated() => IncomingDecision::Collision,
            State::Established => IncomingDecision::Refuse(Refusal::Established),
            State::Connect if self.conn == Conn::Dialing && local > remote => {
                IncomingDecision::Collision
            }
            _ if self.conn.is_up() => IncomingDecision::Collision,
            _ => IncomingDecision::Accept,
        }
    }

    /// Decide between the FSM's connection and a new one from the peer whose OPEN is
    /// `incoming_open` (RFC 4271 §6.8 with the RFC 6286 §2.3 tie-break; the module
    /// documentation says how to apply the answer).
    ///
    /// The OPEN is checked first, with the checks the FSM applies to any OPEN (peer AS, BGP
    /// Identifier, hold time, optional parameters, required capabilities: RFC 4271 §6.2): an
    /// invalid one gets its NOTIFICATION on the new connection only, and the existing
    /// connection or session is left alone.
    ///
    /// In Established the existing session is kept (Cease / Connection Collision Resolution
    /// on the new connection) unless graceful restart was negotiated on it and the new OPEN
    /// says the peer restarted (Restart State bit, [`open_announces_restart`]). Then RFC 4724
    /// §4.2 applies: "When the Receiving Speaker detects the re-establishment of the TCP
    /// session ... it MUST ... close the previous TCP connection": the old session is dropped
    /// (its routes become stale, [`super::DownReason::Collision`]) and the new one proceeds.
    pub fn resolve_collision(&self, incoming_open: &Open) -> CollisionResolution {
        let collision = || {
            CollisionResolution::CloseIncoming(Notification::new(
                codes::CEASE,
                codes::CEASE_CONNECTION_COLLISION,
            ))
        };
        if let Err(e) = check_peer_open(&self.config, incoming_open) {
            return CollisionResolution::CloseIncoming(Notification::from(&e));
        }
        match self.state {
            State::Idle if self.idle_accepts_incoming() => CollisionResolution::AcceptIncoming,
            State::Idle => CollisionResolution::CloseIncoming(self.idle_refusal().notification()),
            State::Established
                if self.graceful_restart_negotiated() && open_announces_restart(incoming_open) =>
            {
                CollisionResolution::CloseExisting
            }
            State::Established => collision(),
            _ => match self.conn {
                Conn::None | Conn::Dialing => CollisionResolution::AcceptIncoming,
                Conn::Outgoing | Conn::Incoming => {
                    if keep_existing_with_as(
                        self.config.router_id,
                        self.config.local_as,
                        incoming_open.bgp_id,
                        incoming_open.asn(),
                        self.conn == Conn::Outgoing,
                    ) {
                        collision()
                    } else {
                        CollisionResolution::CloseExisting
                    }
                }
            },
        }
    }

    /// Why Idle refuses a connection from the peer (when [`Fsm::idle_accepts_incoming`] does
    /// not hold): the back-off runs, or the session is stopped.
    fn idle_refusal(&self) -> Refusal {
        if self.timer_running(TimerKind::IdleHold) {
            Refusal::BackOff
        } else {
            Refusal::Stopped
        }
    }

    /// Idle, waiting out a back-off that a connection from the peer may still end (see
    /// [`Fsm::incoming_connection`]). Never after a ManualStop (the timer is stopped then).
    pub(crate) fn idle_accepts_incoming(&self) -> bool {
        self.state == State::Idle
            && !self.admin_down
            && self.timer_running(TimerKind::IdleHold)
            && self.backoff.errors() <= self.config.idle_hold.accept_incoming_errors
    }

    /// Both sides announced Graceful Restart on the current session (RFC 4724 §4.2 applies).
    fn graceful_restart_negotiated(&self) -> bool {
        self.negotiated.as_ref().is_some_and(|n| n.graceful_restart())
    }
}
