//! RFC 4271 §8.2.2 Established state. Start events, ManualStop, AutomaticStop,
//! HoldTimer_Expires, second connections, received NOTIFICATIONs and OpenCollisionDump: see
//! [`Fsm::common_open`].
use crate::fsm::actions::Next;
use crate::fsm::event::Event;
use crate::fsm::output::Output;
use crate::fsm::Fsm;
use crate::wire::notification::codes;
use crate::wire::Notification;

impl Fsm {
    pub(crate) fn established(&mut self, event: Event, out: &mut Vec<Output>) {
        let Some(event) = self.common_open(event, out) else { return };
        match event {
            // "If the KeepaliveTimer_Expires event occurs (Event 11), the local system: sends
            // a KEEPALIVE message, and restarts its KeepaliveTimer, unless the negotiated
            // HoldTime value is zero." (The runtime need not report the UPDATEs it sends:
            // periodic KEEPALIVEs alongside them are harmless.)
            Event::KeepaliveTimerExpires => self.send_keepalive(out),
            // "If the local system receives a NOTIFICATION message (Event 24 or Event 25) or a
            // TcpConnectionFails (Event 18) from the underlying TCP, the local system: sets
            // the ConnectRetryTimer to zero, deletes all routes associated with this
            // connection, releases all the BGP resources, drops the TCP connection, increments
            // the ConnectRetryCounter by 1, and changes its state to Idle." (NOTIFICATION:
            // `common_started`.)
            Event::TcpConnectionFails(kind) => self.connection_failed(out, kind, Next::Idle),
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
            // The session stayed up for `forget_after`: forget the error sequence.
            Event::ErrorForgetTimerExpires => self.backoff.reset(),
            // "In response to any other event (Events 9, 12-13, 20-22), the local system:
            // deletes all routes associated with this connection, sets the ConnectRetryTimer
            // to zero, ... sends a NOTIFICATION message with the Error Code Finite State
            // Machine Error, ... and changes its state to Idle." An OPEN on the established
            // connection is among them (RFC 6608 §4: subcode 3, "Receive Unexpected Message
            // in Established State"). Here: ConnectRetryTimer_Expires, DelayOpenTimer_Expires,
            // IdleHoldTimer_Expires, OPEN (valid, with DelayOpen, or with an OPEN error);
            // Event 21 (header error) is handled above.
            _ => self.fsm_error(out, codes::FSM_UNEXPECTED_IN_ESTABLISHED),
        }
    }
}
