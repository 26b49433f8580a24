//! FSM inputs, named after RFC 4271 §8.1 (the number in each doc comment is the RFC's event
//! number) plus the few this daemon adds (ROUTE-REFRESH, the back-off reset timer).
use std::io::ErrorKind;

use crate::wire::notification::codes;
use crate::wire::{DecodeError, Message, Notification, Open};

use super::output::TimerKind;

/// One input to [`super::Fsm::handle`].
///
/// RFC 4271 events not listed: 6/7 (AutomaticStart_with_DampPeerOscillations*) are what the
/// FSM does by itself on [`Event::IdleHoldTimerExpires`]; 14/15 (TcpConnection_Valid,
/// Tcp_CR_Invalid, only with the TrackTcpState attribute) are decided by the runtime with
/// [`super::Fsm::incoming_connection`] before a connection is handed to the FSM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    // --- Administrative events (RFC 4271 §8.1.2) ---
    /// Event 1 (or 4 when the config is passive).
    ManualStart,
    /// Event 2. Sends Cease with `cease_subcode` (RFC 4486: 2 Administrative Shutdown,
    /// 3 Peer De-configured, 4 Administrative Reset, 6 Other Configuration Change) and the
    /// RFC 8203 shutdown communication `message` (may be empty). The FSM then stays Idle until
    /// the next [`Event::ManualStart`].
    ManualStop { cease_subcode: u8, message: String },
    /// Event 3 (or 5 when the config is passive).
    AutomaticStart,
    /// Event 4: start, but only accept connections.
    ManualStartWithPassiveTcpEstablishment,
    /// Event 5.
    AutomaticStartWithPassiveTcpEstablishment,
    /// Event 8: the local system stops the session by itself and sends this NOTIFICATION
    /// (e.g. Cease / Maximum Number of Prefixes Reached, RFC 4486). The FSM restarts after the
    /// idle-hold back-off.
    AutomaticStop(Notification),

    // --- Timer events (RFC 4271 §8.1.3) ---
    /// Event 9.
    ConnectRetryTimerExpires,
    /// Event 10.
    HoldTimerExpires,
    /// Event 11.
    KeepaliveTimerExpires,
    /// Event 12.
    DelayOpenTimerExpires,
    /// Event 13.
    IdleHoldTimerExpires,
    /// Not in RFC 4271: the session stayed Established for `IdleHoldConfig::forget_after`;
    /// the back-off is reset (BIRD `error forget time`).
    ErrorForgetTimerExpires,

    // --- TCP connection-based events (RFC 4271 §8.1.4) ---
    /// Event 16: the connection we dialed is up. In Connect/Active with a connection already
    /// up (DelayOpen running), the new one replaces it; in later states it is ignored (a
    /// second connection is tracked by the runtime, RFC 4271 §6.8).
    TcpCrAcked,
    /// Event 17: the connection the peer dialed is accepted (runtime asked
    /// [`super::Fsm::incoming_connection`] first). Same rules as [`Event::TcpCrAcked`]; in
    /// Idle it ends a back-off the peer's connection may end (see
    /// [`super::Fsm::incoming_connection`]).
    TcpConnectionConfirmed,
    /// Event 18: the dial failed, or the established connection closed or failed. `None` =
    /// closed by the peer (EOF); `Some(kind)` = the I/O error ("connection refused", ...).
    TcpConnectionFails(Option<ErrorKind>),

    // --- BGP message-based events (RFC 4271 §8.1.5) ---
    /// Event 19: an OPEN was decoded. The FSM validates it against the config.
    BgpOpen(Open),
    /// Event 20. The FSM knows whether its DelayOpenTimer runs, so the runtime may always send
    /// [`Event::BgpOpen`]; both variants are handled the same way.
    BgpOpenWithDelayOpenTimerRunning(Open),
    /// Event 21: message header error (DecodeError with NOTIFICATION code 1).
    BgpHeaderErr(DecodeError),
    /// Event 22: OPEN message error (code 2).
    BgpOpenMsgErr(DecodeError),
    /// Event 23: the collision procedure of RFC 4271 §6.8 chose to drop this connection
    /// (see [`super::collision`]).
    OpenCollisionDump,
    /// Event 24: NOTIFICATION with OPEN Message Error / Unsupported Version Number.
    NotifMsgVerErr(Notification),
    /// Event 25: any other NOTIFICATION.
    NotifMsg(Notification),
    /// Event 26.
    KeepAliveMsg,
    /// Event 27: an UPDATE was decoded. The runtime processes it itself, and only if the FSM
    /// is still [`super::State::Established`] after this event.
    UpdateMsg,
    /// Event 28: UPDATE message error (code 3) that resets the session.
    UpdateMsgErr(DecodeError),
    /// ROUTE-REFRESH received (RFC 2918); restarts the hold timer like an UPDATE.
    RouteRefreshMsg,
    /// Malformed ROUTE-REFRESH (RFC 7313 §5, code 7).
    RouteRefreshMsgErr(DecodeError),
}

impl Event {
    /// `ManualStop` with Cease / Administrative Shutdown and no shutdown communication.
    pub fn manual_stop() -> Self {
        Event::ManualStop { cease_subcode: codes::CEASE_ADMIN_SHUTDOWN, message: String::new() }
    }

    /// The event for a decoded message. UPDATE and ROUTE-REFRESH bodies are not carried: the
    /// runtime keeps them and processes them if the FSM is Established afterwards.
    pub fn from_message(msg: &Message) -> Self {
        match msg {
            Message::Open(open) => Event::BgpOpen(open.clone()),
            Message::Update(_) => Event::UpdateMsg,
            Message::Notification(n) => Event::from_notification(n.clone()),
            Message::Keepalive => Event::KeepAliveMsg,
            Message::RouteRefresh(_) => Event::RouteRefreshMsg,
        }
    }

    /// [`Event::NotifMsgVerErr`] for OPEN Message Error / Unsupported Version Number (2/1),
    /// [`Event::NotifMsg`] otherwise.
    pub fn from_notification(n: Notification) -> Self {
        if n.code == codes::OPEN_MESSAGE_ERROR && n.subcode == 1 {
            Event::NotifMsgVerErr(n)
        } else {
            Event::NotifMsg(n)
        }
    }

    /// The event for a fatal decode error, by the NOTIFICATION code it produces.
    pub fn from_decode_error(err: DecodeError) -> Self {
        match err.code_subcode().0 {
            codes::MESSAGE_HEADER_ERROR => Event::BgpHeaderErr(err),
            codes::OPEN_MESSAGE_ERROR => Event::BgpOpenMsgErr(err),
            codes::ROUTE_REFRESH_MESSAGE_ERROR => Event::RouteRefreshMsgErr(err),
            _ => Event::UpdateMsgErr(err),
        }
    }

    /// The expiry event of a timer the runtime started for [`super::Output::StartTimer`].
    pub fn timer_expired(kind: TimerKind) -> Self {
        match kind {
            TimerKind::ConnectRetry => Event::ConnectRetryTimerExpires,
            TimerKind::Hold => Event::HoldTimerExpires,
            TimerKind::Keepalive => Event::KeepaliveTimerExpires,
            TimerKind::DelayOpen => Event::DelayOpenTimerExpires,
            TimerKind::IdleHold => Event::IdleHoldTimerExpires,
            TimerKind::ErrorForget => Event::ErrorForgetTimerExpires,
        }
    }

    /// The timer whose expiry this event reports, if any.
    pub fn timer(&self) -> Option<TimerKind> {
        Some(match self {
            Event::ConnectRetryTimerExpires => TimerKind::ConnectRetry,
            Event::HoldTimerExpires => TimerKind::Hold,
            Event::KeepaliveTimerExpires => TimerKind::Keepalive,
            Event::DelayOpenTimerExpires => TimerKind::DelayOpen,
            Event::IdleHoldTimerExpires => TimerKind::IdleHold,
            Event::ErrorForgetTimerExpires => TimerKind::ErrorForget,
            _ => return None,
        })
    }

    /// RFC 4271 §8.1 event name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Event::ManualStart => "ManualStart",
            Event::ManualStop { .. } => "ManualStop",
            Event::AutomaticStart => "AutomaticStart",
            Event::ManualStartWithPassiveTcpEstablishment => {
                "ManualStart_with_PassiveTcpEstablishment"
            }
            Event::AutomaticStartWithPassiveTcpEstablishment => {
                "AutomaticStart_with_PassiveTcpEstablishment"
            }
            Event::AutomaticStop(_) => "AutomaticStop",
            Event::ConnectRetryTimerExpires => "ConnectRetryTimer_Expires",
            Event::HoldTimerExpires => "HoldTimer_Expires",
            Event::KeepaliveTimerExpires => "KeepaliveTimer_Expires",
            Event::DelayOpenTimerExpires => "DelayOpenTimer_Expires",
            Event::IdleHoldTimerExpires => "IdleHoldTimer_Expires",
            Event::ErrorForgetTimerExpires => "ErrorForgetTimer_Expires",
            Event::TcpCrAcked => "Tcp_CR_Acked",
            Event::TcpConnectionConfirmed => "TcpConnectionConfirmed",
            Event::TcpConnectionFails(_) => "TcpConnectionFails",
            Event::BgpOpen(_) => "BGPOpen",
            Event::BgpOpenWithDelayOpenTimerRunning(_) => "BGPOpen with DelayOpenTimer running",
            Event::BgpHeaderErr(_) => "BGPHeaderErr",
            Event::BgpOpenMsgErr(_) => "BGPOpenMsgErr",
            Event::OpenCollisionDump => "OpenCollisionDump",
            Event::NotifMsgVerErr(_) => "NotifMsgVerErr",
            Event::NotifMsg(_) => "NotifMsg",
            Event::KeepAliveMsg => "KeepAliveMsg",
            Event::UpdateMsg => "UpdateMsg",
            Event::UpdateMsgErr(_) => "UpdateMsgErr",
            Event::RouteRefreshMsg => "RouteRefreshMsg",
            Event::RouteRefreshMsgErr(_) => "RouteRefreshMsgErr",
        }
    }
}
