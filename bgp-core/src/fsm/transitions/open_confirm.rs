//! RFC 4271 §8.2.2 OpenConfirm state: OPENs exchanged, waiting for the peer's KEEPALIVE.
//! Start events, ManualStop, AutomaticStop, HoldTimer_Expires, second connections, received
//! NOTIFICATIONs and OpenCollisionDump: see [`Fsm::common_open`].
use crate::fsm::actions::Next;
use crate::fsm::event::Event;
use crate::fsm::output::Output;
use crate::fsm::Fsm;
use crate::wire::notification::codes;
use crate::wire::Notification;

impl Fsm {
    pub(crate) fn open_confirm(&mut self, event: Event, out: &mut Vec<Output>) {
        let Some(event) = self.common_open(event, out) else { return };
        match event {
            // "If the local system receives a KeepaliveTimer_Expires event (Event 11), the
            // local system: sends a KEEPALIVE message, restarts the KeepaliveTimer, and
            // remains in the OpenConfirmed state."
            Event::KeepaliveTimerExpires => self.send_keepalive(out),
            // "If the local system receives a TcpConnectionFails event (Event 18) from the
            // underlying TCP or a NOTIFICATION message (Event 25), the local system: sets the
            // ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
            // increments the ConnectRetryCounter by 1, (optionally) performs peer oscillation
            // damping ..., and changes its state to Idle." (NOTIFICATION: `common_started`.)
            Event::TcpConnectionFails(kind) => self.connection_failed(out, kind, Next::Idle),
            // "If an OPEN message is received, all fields are checked for correctness. If the
            // BGP message header checking (BGPHeaderErr (Event 21)) or OPEN message checking
            // detects an error (see Section 6.2) (BGPOpenMsgErr (Event 22)), the local
            // system: sends a NOTIFICATION message with the appropriate error code, ... and
            // changes its state to Idle."
            Event::BgpHeaderErr(e) | Event::BgpOpenMsgErr(e) => {
                self.notify_and_idle(out, Notification::from(&e))
            }
            // "If the local system receives a KEEPALIVE message (KeepAliveMsg (Event 26)), the
            // local system: restarts the HoldTimer and changes its state to Established."
            Event::KeepAliveMsg => self.enter_established(out),
            // "In response to any other event (Events 9, 12-13, 20, 27-28), the local system:
            // sends a NOTIFICATION with a code of Finite State Machine Error, ... and changes
            // its state to Idle." RFC 6608 §4: subcode 2, "Receive Unexpected Message in
            // OpenConfirm State". A second OPEN on this connection (the runtime resolves
            // collisions between connections before they reach the FSM) is such an
            // unexpected message. The others here: ConnectRetryTimer_Expires,
            // DelayOpenTimer_Expires, IdleHoldTimer_Expires, ErrorForgetTimer_Expires, UPDATE
            // (valid or not), ROUTE-REFRESH (valid or not).
            _ => self.fsm_error(out, codes::FSM_UNEXPECTED_IN_OPENCONFIRM),
        }
    }
}
