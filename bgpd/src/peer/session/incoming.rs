//! Connections the peer opens to us: bgp-core decides (`Fsm::incoming_connection`,
//! `Fsm::resolve_collision`: RFC 4271 §6.8, RFC 6286 §2.3, RFC 4724 §4.2, the back-off);
//! this module only carries the decision out. Also here: making a socket the session's
//! connection (`Session::attach`, for our own dial's too) and refusing a connection with a
//! NOTIFICATION (`refuse_with`, also used by the listener).
//!
//! A connection that must wait for its OPEN before the collision can be resolved is read by
//! a small task. At most one such connection is held per session: a newer one replaces it
//! (the older is closed, counted and logged), so a peer address that opens connections in a
//! loop costs one task and one socket, not one per connection.
use std::time::Duration;

use bgp_core::fsm::{CollisionResolution, Event, IncomingDecision};
use bgp_core::wire::message::encode_message;
use bgp_core::wire::notification::codes;
use bgp_core::wire::{Message, Notification, Open, WireContext};
use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::message_counters::Direction;
use super::{Internal, Session};
use crate::messages::RibInput;
use crate::peer::connection::{canonical_ip, read_first_open, Connection, FirstOpenError};
use crate::peer::socket;

/// How long a second connection may take to send its OPEN during collision detection.
const COLLISION_OPEN_WAIT: Duration = Duration::from_secs(10);

/// A connection held aside until its OPEN arrives (RFC 4271 §6.8). Dropping it closes the
/// connection (the reading task is aborted).
pub(super) struct HeldConnection {
    id: u64,
    task: JoinHandle<()>,
}

impl Drop for HeldConnection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Session {
    /// An accepted connection from this neighbour (the listener matched its source).
    pub(super) async fn incoming(&mut self, stream: TcpStream) {
        if let Err(why) = socket::check_gtsm(&stream, &self.params.socket) {
            // RFC 5082: discarded silently.
            warn!(neighbor = %self.label, reason = %why, "connection dropped by GTSM");
            self.count_refused("gtsm");
            return;
        }
        let _ = socket::apply_to_accepted(&stream, self.key, &self.params.socket);
        let (local, remote) = match (stream.local_addr(), stream.peer_addr()) {
            (Ok(local), Ok(remote)) => (canonical_ip(local.ip()), canonical_ip(remote.ip())),
            _ => {
                debug!(neighbor = %self.label, "accepted connection already gone");
                return;
            }
        };
        match self.fsm.incoming_connection(local, remote) {
            IncomingDecision::Refuse(why) => {
                info!(neighbor = %self.label, state = %self.fsm.state(), reason = why.as_str(),
                      errors = self.fsm.error_count(), "incoming connection refused");
                self.refuse(stream, why.as_str(), why.notification());
            }
            IncomingDecision::Accept => {
                self.take_connection(stream, BytesMut::new()).await;
            }
            IncomingDecision::Collision => self.hold_aside(stream),
        }
    }

    /// Read the new connection's OPEN before deciding (RFC 4271 §6.8: "the BGP Identifier
    /// of the peer ... is learned from the OPEN message").
    fn hold_aside(&mut self, stream: TcpStream) {
        if self.held.take().is_some() {
            warn!(neighbor = %self.label, "another connection from the peer replaces the one still waiting for its OPEN");
            self.count_refused("collision_replaced");
        }
        self.held_id += 1;
        let id = self.held_id;
        let tx = self.internal_tx.clone();
        let task = tokio::spawn(async move {
            let mut stream = stream;
            let result = read_first_open(&mut stream, COLLISION_OPEN_WAIT).await;
            let _ = tx.send(Internal::CollisionOpen(id, stream, result));
        });
        self.held = Some(HeldConnection { id, task });
    }

    /// The held connection's first message arrived (or it failed): apply the FSM's
    /// resolution.
    pub(super) async fn resolve_collision(
        &mut self,
        id: u64,
        stream: TcpStream,
        result: Result<(Open, BytesMut), FirstOpenError>,
    ) {
        if self.held.as_ref().map(|h| h.id) != Some(id) {
            return; // Replaced meanwhile: dropping the stream closes it.
        }
        self.held = None;
        let (open, rest) = match result {
            Ok(x) => x,
            Err(e) => return self.refuse_without_open(stream, e),
        };
        let state = self.fsm.state();
        match self.fsm.resolve_collision(&open) {
            CollisionResolution::CloseIncoming(n) => {
                info!(neighbor = %self.label, %state, notification = %n,
                      "connection collision: keeping the existing connection");
                self.refuse(stream, refusal_reason(&n), n);
            }
            CollisionResolution::CloseExisting => {
                info!(neighbor = %self.label, %state, "connection collision: taking the new connection");
                self.feed(Event::OpenCollisionDump).await;
                self.adopt_with_open(stream, rest, open).await;
            }
            CollisionResolution::AcceptIncoming => {
                info!(neighbor = %self.label, %state, "taking the new connection");
                self.adopt_with_open(stream, rest, open).await;
            }
        }
    }

    /// Make the held connection the session's and process the OPEN read from it, then
    /// whatever arrived right behind it.
    async fn adopt_with_open(&mut self, stream: TcpStream, rest: BytesMut, open: Open) {
        if !self.take_connection(stream, rest).await {
            return;
        }
        let msg = Message::Open(open);
        self.count(&msg, Direction::Received);
        self.feed(Event::from_message(&msg)).await;
        self.drain_frames().await;
    }

    /// Make `stream` the FSM's connection (the FSM said so): abort the dial in progress
    /// (RFC 4271 §6.8), attach the socket, feed TcpConnectionConfirmed (RFC 4271 Event 17).
    async fn take_connection(&mut self, stream: TcpStream, buf: BytesMut) -> bool {
        self.abort_dial();
        if let Some(old) = self.conn.take() {
            old.writer.close();
        }
        match self.attach(stream, false, buf) {
            Ok(()) => {
                self.feed(Event::TcpConnectionConfirmed).await;
                true
            }
            Err(e) => {
                warn!(neighbor = %self.label, error = %e, "accepted connection unusable");
                false
            }
        }
    }

    /// Make `stream` the session's connection (`outgoing`: our own dial), `buf` holding what
    /// was already read from it.
    pub(super) fn attach(
        &mut self,
        stream: TcpStream,
        outgoing: bool,
        buf: BytesMut,
    ) -> std::io::Result<()> {
        let rib = self.rib.sender().clone();
        let key = self.key;
        // The writer's queue drained: the RIB resumes this peer's UPDATEs. The notice must not
        // be lost to a full RIB queue (the peer's backlog would wait for an unrelated change),
        // so it then waits in a task of its own. The writer reports a drain only after the RIB
        // found its queue full, so there is at most one such task per fill-and-drain cycle.
        let on_drained = Box::new(move || {
            if let Err(mpsc::error::TrySendError::Full(input)) =
                rib.try_send(RibInput::Writable { peer: key })
            {
                let rib = rib.clone();
                tokio::spawn(async move {
                    let _ = rib.send(input).await;
                });
            }
        });
        self.conn = Some(Connection::new(stream, outgoing, buf, on_drained)?);
        Ok(())
    }

    /// The held connection sent no usable OPEN. RFC 4271 §6.2: a malformed OPEN gets its
    /// NOTIFICATION (`Notification::from(&DecodeError)`), like a message error in the
    /// header (§6.1); RFC 4271 §8.2.2 (OpenSent, "any other event"): another message first is
    /// a Finite State Machine Error (RFC 6608 subcode 1). Only the new connection is
    /// closed; the existing one or the session is left alone.
    fn refuse_without_open(&self, stream: TcpStream, e: FirstOpenError) {
        let notification = match &e {
            FirstOpenError::Decode(decode) => Notification::from(decode),
            FirstOpenError::NotOpen(_) => {
                Notification::new(codes::FSM_ERROR, codes::FSM_UNEXPECTED_IN_OPENSENT)
            }
            FirstOpenError::Closed | FirstOpenError::TimedOut | FirstOpenError::Io(_) => {
                info!(neighbor = %self.label, reason = %e, "second connection dropped before its OPEN");
                self.count_refused("no_open");
                return;
            }
        };
        info!(neighbor = %self.label, reason = %e, notification = %notification,
              "second connection refused: invalid OPEN");
        self.refuse(stream, "invalid_open", notification);
    }

    /// Send `n` on a connection we do not want, then close it; counted by `reason`.
    fn refuse(&self, stream: TcpStream, reason: &str, n: Notification) {
        self.count_refused(reason);
        refuse_with(stream, n);
    }

    fn count_refused(&self, reason: &str) {
        self.metrics.connections_refused.inc();
        self.metrics.incoming_refused.with_label_values(&[&self.label, reason]).inc();
    }

    /// Drop the connection held for collision detection, if any (the session is ending).
    pub(super) fn drop_held(&mut self) {
        self.held = None;
    }
}

/// The metric label for a collision resolution that closes the new connection.
fn refusal_reason(n: &Notification) -> &'static str {
    match (n.code, n.subcode) {
        (codes::CEASE, codes::CEASE_CONNECTION_COLLISION) => "collision",
        (codes::CEASE, _) => "rejected",
        (codes::OPEN_MESSAGE_ERROR, _) => "invalid_open",
        _ => "other",
    }
}

/// Send Cease (`subcode`) on a connection we do not want, then close it.
pub fn refuse_connection(stream: TcpStream, subcode: u8) {
    refuse_with(stream, Notification::new(codes::CEASE, subcode));
}

/// Send `notification` on a connection we do not want, then close it.
pub fn refuse_with(stream: TcpStream, notification: Notification) {
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let mut stream = stream;
        let mut out = BytesMut::new();
        let msg = Message::Notification(notification);
        if encode_message(&msg, &WireContext::default(), &mut out).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(&out)).await;
        }
        let _ = stream.shutdown().await;
    });
}
