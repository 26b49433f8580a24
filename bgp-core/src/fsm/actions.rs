//! The actions RFC 4271 §8.2.2 repeats across states: send our OPEN, process the peer's,
//! tear the connection down, send KEEPALIVEs.
use std::time::Duration;

use crate::wire::notification::codes;
use crate::wire::{Message, Notification, Open};

use super::negotiated::Negotiated;
use super::open_check::local_open;
use super::output::{DownReason, Output, TimerKind};
use super::state::State;
use super::{Conn, Fsm};

/// Where a teardown leaves the FSM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A session error: Idle, and restart after the IdleHold back-off ("(optionally)
    /// performs peer oscillation damping, and changes its state to Idle").
    Idle,
    /// ManualStop: Idle until ManualStart ("sets the ConnectRetryCounter to zero").
    Stopped,
    /// Wait for (or retry) a connection without counting an error: TCP failure before the
    /// OPEN exchange completed, or OpenCollisionDump.
    Active,
}

impl Fsm {
    /// "sends an OPEN message to its peer, sets the HoldTimer to a large value, and changes
    /// its state to OpenSent" (RFC 4271 §8.2.2; "A HoldTimer value of 4 minutes is
    /// suggested", `FsmConfig::open_hold_time`).
    pub(crate) fn send_open(&mut self, out: &mut Vec<Output>) {
        let open = local_open(&self.config);
        out.push(Output::Send(Message::Open(open.clone())));
        self.our_open = Some(open);
        let hold = self.config.open_hold_time;
        self.start_timer(out, TimerKind::Hold, hold);
        self.state = State::OpenSent;
    }

    /// Process the peer's OPEN (OpenSent, or Connect/Active with the DelayOpenTimer running,
    /// when `send_ours` also sends our OPEN first). RFC 4271 §8.2.2 OpenSent: "When an OPEN
    /// message is received, all fields are checked for correctness. If there are no errors in
    /// the OPEN message (Event 19), the local system: resets the DelayOpenTimer to zero, sets
    /// the BGP ConnectRetryTimer to zero, sends a KEEPALIVE message, and sets a KeepaliveTimer
    /// (via the text below), sets the HoldTimer according to the negotiated value (see
    /// Section 4.2), changes its state to OpenConfirm." "If the negotiated hold time value is
    /// zero, then the HoldTimer and KeepaliveTimer are not started." On an error: "sends a
    /// NOTIFICATION message with the appropriate error code, ... changes its state to Idle."
    pub(crate) fn receive_open(&mut self, out: &mut Vec<Output>, peer: Open, send_ours: bool) {
        let ours = match &self.our_open {
            Some(open) => open.clone(),
            None => local_open(&self.config),
        };
        self.stop_timer(out, TimerKind::ConnectRetry);
        self.stop_timer(out, TimerKind::DelayOpen);
        let negotiated = match Negotiated::from_opens(&self.config, &ours, &peer) {
            Ok(n) => n,
            Err(e) => {
                let n = Notification::from(&e);
                self.teardown(out, Some(n.clone()), DownReason::NotificationSent(n), Next::Idle);
                return;
            }
        };
        if send_ours {
            out.push(Output::Send(Message::Open(ours.clone())));
        }
        self.our_open = Some(ours);
        out.push(Output::Send(Message::Keepalive));
        if negotiated.hold_time > 0 {
            self.start_timer(out, TimerKind::Keepalive, negotiated.keepalive_interval);
            let hold = Duration::from_secs(u64::from(negotiated.hold_time));
            self.start_timer(out, TimerKind::Hold, hold);
        } else {
            self.stop_timer(out, TimerKind::Hold);
            self.stop_timer(out, TimerKind::Keepalive);
        }
        self.negotiated = Some(negotiated);
        self.state = State::OpenConfirm;
    }

    /// OpenConfirm + KeepAliveMsg: "restarts the HoldTimer and changes its state to
    /// Established". The session is handed to the runtime once, and the back-off reset timer
    /// starts.
    pub(crate) fn enter_established(&mut self, out: &mut Vec<Output>) {
        self.restart_hold_timer(out);
        let Some(negotiated) = self.negotiated.clone() else {
            // Unreachable: OpenConfirm always has it. Treat as an FSM error, never panic.
            self.fsm_error(out, codes::FSM_UNEXPECTED_IN_OPENCONFIRM);
            return;
        };
        out.push(Output::Established(negotiated));
        let forget = self.config.idle_hold.forget_after;
        self.start_timer(out, TimerKind::ErrorForget, forget);
        self.state = State::Established;
    }

    /// "restarts its HoldTimer, if the HoldTimer is not zero" (KEEPALIVE, UPDATE).
    pub(crate) fn restart_hold_timer(&mut self, out: &mut Vec<Output>) {
        let hold = self.negotiated.as_ref().map_or(0, |n| n.hold_time);
        if hold > 0 {
            self.start_timer(out, TimerKind::Hold, Duration::from_secs(u64::from(hold)));
        }
    }

    /// KeepaliveTimer_Expires (OpenConfirm, Established): "sends a KEEPALIVE message, [and]
    /// restarts the KeepaliveTimer".
    pub(crate) fn send_keepalive(&mut self, out: &mut Vec<Output>) {
        out.push(Output::Send(Message::Keepalive));
        if let Some(interval) =
            self.negotiated.as_ref().filter(|n| n.hold_time > 0).map(|n| n.keepalive_interval)
        {
            self.start_timer(out, TimerKind::Keepalive, interval);
        }
    }

    /// "sends the NOTIFICATION with the Error Code Finite State Machine Error" with the
    /// RFC 6608 subcode of the state ("Receive Unexpected Message in OpenSent State" = 1,
    /// "... in OpenConfirm State" = 2, "... in Established State" = 3), then Idle.
    pub(crate) fn fsm_error(&mut self, out: &mut Vec<Output>, subcode: u8) {
        let n = Notification::new(codes::FSM_ERROR, subcode);
        self.teardown(out, Some(n.clone()), DownReason::NotificationSent(n), Next::Idle);
    }

    /// A NOTIFICATION we send for an error, then Idle with back-off.
    pub(crate) fn notify_and_idle(&mut self, out: &mut Vec<Output>, n: Notification) {
        self.teardown(out, Some(n.clone()), DownReason::NotificationSent(n), Next::Idle);
    }

    /// ManualStop: "sends the NOTIFICATION with a Cease, ... sets the ConnectRetryCounter to
    /// zero, and changes its state to Idle" (RFC 8203 shutdown communication in the data).
    /// The Cease is sent only if a connection is up.
    pub(crate) fn manual_stop(&mut self, out: &mut Vec<Output>, subcode: u8, message: &str) {
        let n = Notification::cease_with_message(subcode, message);
        let send = self.conn.is_up().then(|| n.clone());
        self.teardown(out, send, DownReason::ManualStop(n), Next::Stopped);
    }

    /// OpenCollisionDump: "sends the NOTIFICATION with a Cease" (RFC 4486 subcode 7,
    /// Connection Collision Resolution) and drops the connection. Ends in Active, ready for
    /// the surviving connection (see [`super::collision`]); not a session error.
    pub(crate) fn collision_dump(&mut self, out: &mut Vec<Output>) {
        if !self.conn.is_up() {
            return;
        }
        let n = Notification::new(codes::CEASE, codes::CEASE_CONNECTION_COLLISION);
        self.teardown(out, Some(n), DownReason::Collision, Next::Active);
    }

    /// TcpConnectionFails: the runtime already lost the connection.
    pub(crate) fn connection_failed(
        &mut self,
        out: &mut Vec<Output>,
        kind: Option<std::io::ErrorKind>,
        next: Next,
    ) {
        self.conn = Conn::None;
        self.teardown(out, None, DownReason::ConnectionFailed(kind), next);
    }

    /// The common tail of every path out of a connection: "sends the NOTIFICATION ...,
    /// sets the ConnectRetryTimer to zero, ... releases all BGP resources, drops the TCP
    /// connection, increments the ConnectRetryCounter by 1, (optionally) performs peer
    /// oscillation damping if the DampPeerOscillations attribute is set to TRUE, and changes
    /// its state to Idle." Leaving Established also "deletes all routes associated with this
    /// connection": that is [`Output::SessionDown`].
    pub(crate) fn teardown(
        &mut self,
        out: &mut Vec<Output>,
        notification: Option<Notification>,
        reason: DownReason,
        next: Next,
    ) {
        let (notification, reason) = self.as_hard_reset(notification, reason);
        if let Some(n) = notification {
            out.push(Output::Send(Message::Notification(n)));
        }
        if self.conn != Conn::None {
            out.push(Output::CloseConnection);
        }
        self.conn = Conn::None;
        self.stop_all_timers(out);
        if self.state == State::Established {
            out.push(Output::SessionDown(reason.clone()));
        }
        self.last_error = Some(format!("{reason} (in {})", self.state));
        self.last_down = Some(reason);
        self.negotiated = None;
        self.our_open = None;
        match next {
            Next::Idle => {
                self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
                let wait = self.backoff.next_delay(&self.config.idle_hold);
                self.start_timer(out, TimerKind::IdleHold, wait);
                self.state = State::Idle;
            }
            Next::Stopped => {
                self.connect_retry_counter = 0;
                self.admin_down = true;
                self.state = State::Idle;
            }
            Next::Active => {
                self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
                if !self.config.passive {
                    let retry = self.config.connect_retry;
                    self.start_timer(out, TimerKind::ConnectRetry, retry);
                }
                self.state = State::Active;
            }
        }
    }

    /// RFC 8538 §5: with the N bit exchanged, a Cease with one of the subcodes the RFC wants
    /// as Hard Reset (Maximum Number of Prefixes Reached, Administrative Shutdown, Peer
    /// De-configured) is sent as Cease / Hard Reset encapsulating it (RFC 8538 §3), so the
    /// peer flushes our routes at once instead of keeping them stale; a stop that already is
    /// a Hard Reset goes out as it is (a bare 6/9, never wrapped in another Hard Reset);
    /// the session's down reason records what was sent. Other subcodes (Administrative
    /// Reset, Other Configuration Change, ...) go out as they are: graceful restart then
    /// keeps the routes on both sides (RFC 8538 §4).
    fn as_hard_reset(
        &self,
        notification: Option<Notification>,
        reason: DownReason,
    ) -> (Option<Notification>, DownReason) {
        if !self.negotiated.as_ref().is_some_and(|n| n.notification_graceful_restart()) {
            return (notification, reason);
        }
        let wrap = |n: Notification| {
            let hard = n.code == codes::CEASE
                && matches!(
                    n.subcode,
                    codes::CEASE_MAX_PREFIXES
                        | codes::CEASE_ADMIN_SHUTDOWN
                        | codes::CEASE_PEER_DECONFIGURED
                );
            if hard {
                Notification::hard_reset(&n)
            } else {
                n
            }
        };
        let reason = match reason {
            DownReason::ManualStop(n) => DownReason::ManualStop(wrap(n)),
            DownReason::NotificationSent(n) => DownReason::NotificationSent(wrap(n)),
            other => other,
        };
        (notification.map(wrap), reason)
    }

    /// Start: active dials ("starts the ConnectRetryTimer with the initial value, initiates a
    /// TCP connection to the other BGP peer, listens for a connection that may be initiated
    /// by the remote BGP peer, and changes its state to Connect"); a passive start waits in
    /// Active ("starts the ConnectRetryTimer with the initial value, listens for a connection
    /// that may be initiated by the remote peer, and changes its state to Active"), without
    /// the ConnectRetryTimer when the configuration is passive (it would only dial).
    pub(crate) fn start(&mut self, out: &mut Vec<Output>, passive_event: bool) {
        self.admin_down = false;
        self.stop_timer(out, TimerKind::IdleHold);
        if self.config.passive || passive_event {
            if !self.config.passive {
                let retry = self.config.connect_retry;
                self.start_timer(out, TimerKind::ConnectRetry, retry);
            }
            self.state = State::Active;
        } else {
            self.dial(out);
        }
    }

    /// "initiates a TCP connection to the other BGP peer ... changes its state to Connect".
    pub(crate) fn dial(&mut self, out: &mut Vec<Output>) {
        let retry = self.config.connect_retry;
        self.start_timer(out, TimerKind::ConnectRetry, retry);
        out.push(Output::Connect);
        self.conn = Conn::Dialing;
        self.state = State::Connect;
    }
}
