//! Connection collision detection (RFC 4271 §6.8, RFC 6286 §2.3) and what the runtime does
//! with a connection the peer opens.
//!
//! One [`Fsm`] owns at most one connection. The runtime's listener asks
//! [`Fsm::incoming_connection`] what to do with a new connection from the peer:
//!
//! - [`IncomingDecision::Refuse`]: close the socket without sending anything.
//! - [`IncomingDecision::Accept`]: abort the dial in progress, if any; the new socket becomes
//!   the FSM's connection: feed [`Event::TcpConnectionConfirmed`].
//! - [`IncomingDecision::Collision`]: the FSM already has a connection. Keep the new socket
//!   aside, send nothing on it, and read its first message (give up after
//!   `FsmConfig::open_hold_time`). If it is an OPEN, ask [`Fsm::resolve_collision`] and apply
//!   the [`CollisionResolution`]; if it is anything else, or the socket fails, just close it.
//!
//! RFC 4271 runs one FSM per connection and lets the dumped one go Idle; here the peer's one
//! FSM carries on with the surviving connection, which is why [`Event::OpenCollisionDump`]
//! leaves the FSM in Active (ready for [`Event::TcpConnectionConfirmed`]) instead of Idle.
use std::net::Ipv4Addr;

use crate::wire::notification::codes;
use crate::wire::{Notification, Open};

use super::state::State;
#[cfg(doc)]
use super::Event;
use super::{Conn, Fsm};

/// What to do with a new connection from the peer (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncomingDecision {
    /// Close it (Idle; or Established without graceful restart: RFC 4271 §6.8 "a connection
    /// collision with an existing BGP connection that is in the Established state causes
    /// closing of the newly created connection").
    Refuse,
    /// Make it the FSM's connection ([`Event::TcpConnectionConfirmed`]).
    Accept,
    /// Hold it until its OPEN arrives, then call [`Fsm::resolve_collision`].
    Collision,
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
    /// The FSM lost its connection meanwhile (it is Connect or Active): abort the dial in
    /// progress, if any, and feed [`Event::TcpConnectionConfirmed`] then [`Event::BgpOpen`].
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

impl Fsm {
    /// What the runtime does with a new connection from this peer (module documentation).
    ///
    /// Idle refuses (RFC 4271 §8.2.2: "In this state, BGP FSM refuses all incoming BGP
    /// connections for this peer"). Connect and Active accept unless a connection is already
    /// up (DelayOpen running). OpenSent and OpenConfirm hold it for collision detection
    /// (RFC 4271 §8.2.2 OpenSent: "a second TCP connection may be in progress. This second
    /// TCP connection is tracked per Call Collision processing (Section 6.8) until an OPEN
    /// message is received"). Established refuses, unless the peer announced Graceful
    /// Restart: then a new connection may mean the peer restarted (RFC 4724 §4.2), and it is
    /// held for [`Fsm::resolve_collision`].
    pub fn incoming_connection(&self) -> IncomingDecision {
        match self.state {
            State::Idle => IncomingDecision::Refuse,
            State::Established if self.peer_graceful_restart() => IncomingDecision::Collision,
            State::Established => IncomingDecision::Refuse,
            _ if self.conn.is_up() => IncomingDecision::Collision,
            _ => IncomingDecision::Accept,
        }
    }

    /// Decide between the FSM's connection and a new one from the peer whose OPEN is
    /// `incoming_open` (RFC 4271 §6.8 with the RFC 6286 §2.3 tie-break; module documentation
    /// says how to apply the answer).
    ///
    /// In Established the existing session is kept (Cease / Connection Collision Resolution on
    /// the new connection) unless the peer announced Graceful Restart on it: RFC 4724 §4.2
    /// treats an OPEN on a new connection while the old session still looks Established as
    /// the peer having restarted, so the old session is dropped (its routes become stale,
    /// the runtime's decision on [`super::DownReason::Collision`]) and the new one proceeds.
    pub fn resolve_collision(&self, incoming_open: &Open) -> CollisionResolution {
        let collision = || {
            CollisionResolution::CloseIncoming(Notification::new(
                codes::CEASE,
                codes::CEASE_CONNECTION_COLLISION,
            ))
        };
        match self.state {
            State::Idle => CollisionResolution::CloseIncoming(Notification::new(
                codes::CEASE,
                codes::CEASE_CONNECTION_REJECTED,
            )),
            State::Established if self.peer_graceful_restart() => {
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

    fn peer_graceful_restart(&self) -> bool {
        self.negotiated.as_ref().is_some_and(|n| n.peer_graceful_restart.is_some())
    }
}
