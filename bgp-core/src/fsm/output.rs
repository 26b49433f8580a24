//! What the FSM asks the runtime to do. The runtime applies the outputs of one
//! [`super::Fsm::handle`] call in order.
use std::fmt;
use std::io::ErrorKind;
use std::time::Duration;

use crate::wire::{Message, Notification};

use super::negotiated::Negotiated;
use super::state::State;

/// The timers of RFC 4271 §8 plus the back-off reset timer. All are one-shot: the runtime
/// arms one on [`Output::StartTimer`] (re-arming it if it already runs), disarms it on
/// [`Output::StopTimer`], and feeds [`super::Event::timer_expired`] when it fires. The FSM
/// ignores the expiry of a timer it does not consider running, so an expiry that raced with a
/// `StopTimer` is harmless. The runtime may apply the RFC 4271 §10 jitter (x 0.75..1.0) to
/// ConnectRetry and Keepalive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// RFC 4271 §8: ConnectRetryTimer.
    ConnectRetry,
    /// RFC 4271 §8: HoldTimer.
    Hold,
    /// RFC 4271 §8: KeepaliveTimer.
    Keepalive,
    /// RFC 4271 §8: DelayOpenTimer.
    DelayOpen,
    /// RFC 4271 §8: IdleHoldTimer (the automatic-restart back-off).
    IdleHold,
    /// Not in RFC 4271: forget the back-off after a long enough Established session.
    ErrorForget,
}

impl TimerKind {
    /// All timers, in a fixed order.
    pub const ALL: [TimerKind; 6] = [
        TimerKind::ConnectRetry,
        TimerKind::Hold,
        TimerKind::Keepalive,
        TimerKind::DelayOpen,
        TimerKind::IdleHold,
        TimerKind::ErrorForget,
    ];

    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// One instruction to the runtime. Order inside the returned `Vec` matters: a
/// [`Output::Send`] that precedes [`Output::CloseConnection`] must be written (flushed) before
/// the connection is closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Dial the peer. If a dial is already in progress, abandon it and dial again. Report the
    /// result with [`super::Event::TcpCrAcked`] or [`super::Event::TcpConnectionFails`].
    /// Never emitted in passive mode.
    Connect,
    /// Close the current connection (after flushing the `Send`s before it), or abandon the
    /// dial in progress. The runtime reports nothing back for it.
    CloseConnection,
    /// Write this message on the current connection, encoded with the `tx` context of
    /// [`Output::Established`] once there is one (OPEN/KEEPALIVE/NOTIFICATION before that:
    /// `WireContext::default()`).
    Send(Message),
    /// (Re)arm a one-shot timer.
    StartTimer(TimerKind, Duration),
    /// Disarm a timer.
    StopTimer(TimerKind),
    /// The session reached Established (emitted once per session). Switch the connection's
    /// codec to `rx`/`tx`, hand the session to the RIB, send the initial UPDATEs.
    Established(Negotiated),
    /// The session left Established (emitted once per session, after the CloseConnection):
    /// withdraw the peer's routes, or retain them as stale (graceful restart, see
    /// [`DownReason::allows_graceful_restart`]).
    SessionDown(DownReason),
    /// The state changed (at most once per `handle` call, always the last output); `event`
    /// is the RFC 4271 §8.1 name of the event that caused it, for logs.
    StateChanged { from: State, to: State, event: &'static str },
}

/// Why a session (or a session attempt) went down. Carried by [`Output::SessionDown`] and kept
/// by the FSM as [`super::Fsm::last_down`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownReason {
    /// ManualStop with this Cease (and RFC 8203 shutdown communication, if any); it was sent
    /// if a connection was up.
    ManualStop(Notification),
    /// We sent this NOTIFICATION: a decode error, an OPEN check failure, an FSM error,
    /// an AutomaticStop (e.g. Cease / Maximum Number of Prefixes Reached).
    NotificationSent(Notification),
    /// The peer sent this NOTIFICATION.
    NotificationReceived(Notification),
    /// Our Hold Timer expired; we sent NOTIFICATION 4/0.
    HoldTimerExpired,
    /// The TCP connection failed or was closed by the peer (`None` = EOF), without a
    /// NOTIFICATION.
    ConnectionFailed(Option<ErrorKind>),
    /// An event the state does not expect closed the connection without a NOTIFICATION
    /// (Connect/Active "any other event", e.g. a KEEPALIVE while DelayOpen waits for the
    /// OPEN); the RFC 4271 §8.1 event name.
    UnexpectedEvent(&'static str),
    /// RFC 4271 §6.8 collision resolution closed this connection (we sent Cease / Connection
    /// Collision Resolution): a newer connection from the peer replaces it.
    Collision,
}

impl DownReason {
    /// The NOTIFICATION exchanged, and whether we sent it (`true`) or received it.
    pub fn notification(&self) -> Option<(&Notification, bool)> {
        match self {
            DownReason::ManualStop(n) | DownReason::NotificationSent(n) => Some((n, true)),
            DownReason::NotificationReceived(n) => Some((n, false)),
            _ => None,
        }
    }

    /// RFC 4724 §4.2: may the peer's routes be retained as stale (when both sides negotiated
    /// Graceful Restart)? Yes when the session ended without a NOTIFICATION exchange that
    /// RFC 4724 would honour: the TCP connection failed, our hold timer expired (like a dead
    /// connection: the peer's control plane is gone), or the peer opened a new connection
    /// (collision in Established: the peer restarted). Not after a
    /// NOTIFICATION (see [`DownReason::allows_notification_graceful_restart`]) nor a
    /// ManualStop.
    pub fn allows_graceful_restart(&self) -> bool {
        matches!(
            self,
            DownReason::ConnectionFailed(_) | DownReason::HoldTimerExpired | DownReason::Collision
        )
    }

    /// RFC 8538 §4 (both sides announced the N bit): a NOTIFICATION, sent or received, also
    /// keeps the routes, except Cease / Hard Reset. A ManualStop is a sent NOTIFICATION like
    /// any other: its Cease subcodes that RFC 8538 §5 wants as Hard Reset (Administrative
    /// Shutdown, Peer De-configured) went out as one, the others (Administrative Reset,
    /// Other Configuration Change) keep the routes on both sides.
    pub fn allows_notification_graceful_restart(&self) -> bool {
        match self {
            DownReason::ManualStop(_)
            | DownReason::NotificationSent(_)
            | DownReason::NotificationReceived(_) => !self.is_hard_reset(),
            _ => self.allows_graceful_restart(),
        }
    }

    /// RFC 8538 §3: a Cease / Hard Reset NOTIFICATION (sent or received) ends the session
    /// without graceful restart.
    pub fn is_hard_reset(&self) -> bool {
        self.notification().is_some_and(|(n, _)| n.is_hard_reset())
    }
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::ManualStop(n) => write!(f, "administratively stopped ({n})"),
            DownReason::NotificationSent(n) => write!(f, "sent NOTIFICATION {n}"),
            DownReason::NotificationReceived(n) => write!(f, "received NOTIFICATION {n}"),
            DownReason::HoldTimerExpired => {
                f.write_str("hold timer expired (sent NOTIFICATION 4/0)")
            }
            DownReason::ConnectionFailed(None) => f.write_str("connection closed by the peer"),
            DownReason::ConnectionFailed(Some(kind)) => write!(f, "connection failed: {kind}"),
            DownReason::UnexpectedEvent(e) => write!(f, "unexpected event {e}"),
            DownReason::Collision => {
                f.write_str("connection collision: replaced by the peer's other connection")
            }
        }
    }
}
