//! RFC 4271 §8.2.2 Established state.
use crate::fsm::actions::Next;
use crate::fsm::event::Event;
use crate::fsm::output::{DownReason, Output};
use crate::fsm::Fsm;
use crate::wire::notification::codes;
use crate::wire::Notification;

impl Fsm {
    pub(crate) fn established(&mut self, event: Event, out: &mut Vec<Output>) {
        match event {
            // "Any Start event (Events 1, 3-7) is ignored in the Established state."
            Event::ManualStart
            | Event::AutomaticStart
            | Event::ManualStartWithPassiveTcpEstablishment
            | Event::AutomaticStartWithPassiveTcpEstablishment => {}
            // "In response to a ManualStop event (initiated by an operator) (Event 2), the
            // local system: sends the NOTIFICATION message with a Cease, sets the
            // ConnectRetryTimer to zero, deletes all routes associated with this connection,
            // releases BGP resources, drops the TCP connection, sets the ConnectRetryCounter to
            // zero, and changes its state to Idle."
            Event::ManualStop { cease_subcode, message } => {
                self.manual_stop(out, cease_subcode, &message)
            }
            // "In response to an AutomaticStop event (Event 8), the local system: sends a
            // NOTIFICATION with a Cease, ... deletes all routes associated with this
            // connection, ... increments the ConnectRetryCounter by 1, (optionally) performs
            // peer oscillation damping ..., and changes its state to Idle."
            Event::AutomaticStop(n) => self.notify_and_idle(out, n),
            // "If the HoldTimer_Expires event occurs (Event 10), the local system: sends a
            // NOTIFICATION message with the Error Code Hold Timer Expired, ... and changes
            // its state to Idle."
            Event::HoldTimerExpires => self.teardown(
                out,
                Some(Notification::hold_timer_expired()),
                DownReason::HoldTimerExpired,
                Next::Idle,
            ),
            // "If the KeepaliveTimer_Expires event occurs (Event 11), the local system: sends
            // a KEEPALIVE message, and restarts its KeepaliveTimer, unless the negotiated
            // HoldTime value is zero." (The runtime need not report the UPDATEs it sends:
            // periodic KEEPALIVEs alongside them are harmless.)
            Event::KeepaliveTimerExpires => self.send_keepalive(out),
            // "If the local system receives a TcpConnection_Valid (Event 14), Tcp_CR_Acked
            // (Event 16), or a TcpConnectionConfirmed event (Event 17) in the Established
            // state, the second connection SHALL be tracked until it sends an OPEN message."
            // (The runtime does, per `Fsm::incoming_connection`.)
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => {}
            // "If the local system receives a NOTIFICATION message (Event 24 or Event 25) or a
            // TcpConnectionFails (Event 18) from the underlying TCP, the local system: sets
            // the ConnectRetryTimer to zero, deletes all routes associated with this
            // connection, releases all the BGP resources, drops the TCP connection, increments
            // the ConnectRetryCounter by 1, and changes its state to Idle."
            Event::TcpConnectionFails(kind) => self.connection_failed(out, kind, Next::Idle),
            Event::NotifMsg(n) | Event::NotifMsgVerErr(n) => {
                self.teardown(out, None, DownReason::NotificationReceived(n), Next::Idle)
            }
            // "If the local system receives a KEEPALIVE message (Event 26), the local system:
            // restarts its HoldTimer, if the negotiated HoldTime value is non-zero, and
            // remains in the Established state." "If the local system receives an UPDATE
            // message (Event 27), the local system: processes the message, restarts its
            // HoldTimer, if the negotiated HoldTime value is non-zero, and remains in the
            // Established state." A ROUTE-REFRESH counts the same (RFC 4271 §4.4: the hold
            // timer measures successive messages).
            Event::KeepAliveMsg | Event::UpdateMsg | Event::RouteRefreshMsg => {
                self.restart_hold_timer(out)
            }
            // "If the local system receives an UPDATE message, and the UPDATE message error
            // handling procedure (see Section 6.3) detects an error (Event 28), the local
            // system: sends a NOTIFICATION message with an Update error, ... deletes all
            // routes associated with this connection, ... and changes its state to Idle."
            // RFC 7313 §5: a malformed ROUTE-REFRESH is answered with ROUTE-REFRESH Message
            // Error the same way. RFC 4271 §6.1: a header error is answered with Message
            // Header Error (rather than the FSM Error the "other events" list implies).
            Event::UpdateMsgErr(e) | Event::RouteRefreshMsgErr(e) | Event::BgpHeaderErr(e) => {
                self.notify_and_idle(out, Notification::from(&e))
            }
            // "If the local system receives an OpenCollisionDump event (Event 23), the local
            // system: sends a NOTIFICATION with a Cease, ... deletes all routes associated with
            // this connection, ... drops the TCP connection". Ends in Active: see
            // `collision_dump`.
            Event::OpenCollisionDump => self.collision_dump(out),
            // The session stayed up for `forget_after`: forget the error sequence.
            Event::ErrorForgetTimerExpires => self.backoff.reset(),
            // "In response to any other event (Events 9, 12-13, 20-22), the local system:
            // deletes all routes associated with this connection, sets the ConnectRetryTimer
            // to zero, ... sends a NOTIFICATION message with the Error Code Finite State
            // Machine Error, ... and changes its state to Idle." An OPEN on the established
            // connection is among them (RFC 6608 §4: subcode 3, "Receive Unexpected Message
            // in Established State").
            Event::ConnectRetryTimerExpires
            | Event::DelayOpenTimerExpires
            | Event::IdleHoldTimerExpires
            | Event::BgpOpen(_)
            | Event::BgpOpenWithDelayOpenTimerRunning(_)
            | Event::BgpOpenMsgErr(_) => self.fsm_error(out, codes::FSM_UNEXPECTED_IN_ESTABLISHED),
        }
    }
}
