//! RFC 4271 §8.2.2 OpenSent state: our OPEN is out, waiting for the peer's. Start events,
//! ManualStop, AutomaticStop, HoldTimer_Expires, second connections, received NOTIFICATIONs
//! and OpenCollisionDump: see [`Fsm::common_open`].
use crate::fsm::actions::Next;
use crate::fsm::event::Event;
use crate::fsm::output::Output;
use crate::fsm::Fsm;
use crate::wire::notification::codes;
use crate::wire::Notification;

impl Fsm {
    pub(crate) fn open_sent(&mut self, event: Event, out: &mut Vec<Output>) {
        let Some(event) = self.common_open(event, out) else { return };
        match event {
            // "If a TcpConnectionFails event (Event 18) is received, the local system: closes
            // the BGP connection, restarts the ConnectRetryTimer, continues to listen for a
            // connection that may be initiated by the remote BGP peer, and changes its state
            // to Active."
            Event::TcpConnectionFails(kind) => self.connection_failed(out, kind, Next::Active),
            // "When an OPEN message is received, all fields are checked for correctness. If
            // there are no errors in the OPEN message (Event 19), the local system: ... sends
            // a KEEPALIVE message, ... changes its state to OpenConfirm." Errors: "If the BGP
            // message header checking (Event 21) or OPEN message checking detects an error
            // (Event 22) (see Section 6.2), the local system: sends a NOTIFICATION message
            // with the appropriate error code, ... and changes its state to Idle." Collision
            // detection (§6.8) is done by the runtime before the OPEN reaches this FSM.
            Event::BgpOpen(open) | Event::BgpOpenWithDelayOpenTimerRunning(open) => {
                self.receive_open(out, open, false)
            }
            Event::BgpHeaderErr(e) | Event::BgpOpenMsgErr(e) => {
                self.notify_and_idle(out, Notification::from(&e))
            }
            // "In response to any other event (Events 9, 11-13, 20, 25-28), the local system:
            // sends the NOTIFICATION with the Error Code Finite State Machine Error, sets the
            // ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
            // increments the ConnectRetryCounter by 1, (optionally) performs peer oscillation
            // damping ..., and changes its state to Idle." RFC 6608 §4: subcode 1, "Receive
            // Unexpected Message in OpenSent State". (Events 20 and 25 are handled above and
            // in `common_open`: see there.) The others here: ConnectRetryTimer_Expires,
            // KeepaliveTimer_Expires, DelayOpenTimer_Expires, IdleHoldTimer_Expires,
            // ErrorForgetTimer_Expires, KEEPALIVE, UPDATE (valid or not), ROUTE-REFRESH
            // (valid or not).
            _ => self.fsm_error(out, codes::FSM_UNEXPECTED_IN_OPENSENT),
        }
    }
}
