//! RFC 4271 §8.2.2 OpenConfirm state: OPENs exchanged, waiting for the peer's KEEPALIVE.
use crate::fsm::actions::Next;
use crate::fsm::event::Event;
use crate::fsm::output::{DownReason, Output};
use crate::fsm::Fsm;
use crate::wire::notification::codes;
use crate::wire::Notification;

impl Fsm {
    pub(crate) fn open_confirm(&mut self, event: Event, out: &mut Vec<Output>) {
        match event {
            // "Any start event (Events 1, 3-7) is ignored in the OpenConfirm state."
            Event::ManualStart
            | Event::AutomaticStart
            | Event::ManualStartWithPassiveTcpEstablishment
            | Event::AutomaticStartWithPassiveTcpEstablishment => {}
            // "In response to a ManualStop event (Event 2) initiated by the operator, the
            // local system: sends the NOTIFICATION message with a Cease, releases all BGP
            // resources, drops the TCP connection, sets the ConnectRetryCounter to zero, sets
            // the ConnectRetryTimer to zero, and changes its state to Idle."
            Event::ManualStop { cease_subcode, message } => {
                self.manual_stop(out, cease_subcode, &message)
            }
            // "In response to the AutomaticStop event initiated by the system (Event 8), the
            // local system: sends the NOTIFICATION message with a Cease, ... increments the
            // ConnectRetryCounter by 1, (optionally) performs peer oscillation damping ...,
            // and changes its state to Idle."
            Event::AutomaticStop(n) => self.notify_and_idle(out, n),
            // "If the HoldTimer_Expires event (Event 10) occurs before a KEEPALIVE message is
            // received, the local system: sends the NOTIFICATION message with the Error Code
            // Hold Timer Expired, ... and changes its state to Idle."
            Event::HoldTimerExpires => self.teardown(
                out,
                Some(Notification::hold_timer_expired()),
                DownReason::HoldTimerExpired,
                Next::Idle,
            ),
            // "If the local system receives a KeepaliveTimer_Expires event (Event 11), the
            // local system: sends a KEEPALIVE message, restarts the KeepaliveTimer, and
            // remains in the OpenConfirmed state."
            Event::KeepaliveTimerExpires => self.send_keepalive(out),
            // "In the event of a TcpConnection_Valid event (Event 14), or the success of a TCP
            // connection (Event 16 or Event 17) while in OpenConfirm, the local system needs
            // to track the second connection." (The runtime does.)
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => {}
            // "If the local system receives a TcpConnectionFails event (Event 18) from the
            // underlying TCP or a NOTIFICATION message (Event 25), the local system: sets the
            // ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
            // increments the ConnectRetryCounter by 1, (optionally) performs peer oscillation
            // damping ..., and changes its state to Idle."
            Event::TcpConnectionFails(kind) => self.connection_failed(out, kind, Next::Idle),
            Event::NotifMsg(n) => {
                self.teardown(out, None, DownReason::NotificationReceived(n), Next::Idle)
            }
            // "If the local system receives a NOTIFICATION message with a version error
            // (NotifMsgVerErr (Event 24)), the local system: sets the ConnectRetryTimer to
            // zero, releases all BGP resources, drops the TCP connection, and changes its
            // state to Idle."
            Event::NotifMsgVerErr(n) => {
                self.teardown(out, None, DownReason::NotificationReceived(n), Next::Idle)
            }
            // "If an OPEN message is received, all fields are checked for correctness. If the
            // BGP message header checking (BGPHeaderErr (Event 21)) or OPEN message checking
            // detects an error (see Section 6.2) (BGPOpenMsgErr (Event 22)), the local
            // system: sends a NOTIFICATION message with the appropriate error code, ... and
            // changes its state to Idle."
            Event::BgpHeaderErr(e) | Event::BgpOpenMsgErr(e) => {
                self.notify_and_idle(out, Notification::from(&e))
            }
            // "If, during the processing of another OPEN message, the BGP implementation
            // determines, by a means outside the scope of this document, that a connection
            // collision has occurred and this connection is to be closed, the local system
            // will issue an OpenCollisionDump event (Event 23). When the local system receives
            // an OpenCollisionDump event (Event 23), the local system: sends a NOTIFICATION
            // with a Cease, ... drops the TCP connection". Ends in Active: see
            // `collision_dump`.
            Event::OpenCollisionDump => self.collision_dump(out),
            // "If the local system receives a KEEPALIVE message (KeepAliveMsg (Event 26)), the
            // local system: restarts the HoldTimer and changes its state to Established."
            Event::KeepAliveMsg => self.enter_established(out),
            // A second OPEN on this connection (the runtime resolves collisions between
            // connections before they reach the FSM) is an unexpected message, like the
            // "other events": "In response to any other event (Events 9, 12-13, 20, 27-28),
            // the local system: sends a NOTIFICATION with a code of Finite State Machine
            // Error, ... and changes its state to Idle." RFC 6608 §4: subcode 2, "Receive
            // Unexpected Message in OpenConfirm State".
            Event::BgpOpen(_)
            | Event::BgpOpenWithDelayOpenTimerRunning(_)
            | Event::ConnectRetryTimerExpires
            | Event::DelayOpenTimerExpires
            | Event::IdleHoldTimerExpires
            | Event::ErrorForgetTimerExpires
            | Event::UpdateMsg
            | Event::UpdateMsgErr(_)
            | Event::RouteRefreshMsg
            | Event::RouteRefreshMsgErr(_) => {
                self.fsm_error(out, codes::FSM_UNEXPECTED_IN_OPENCONFIRM)
            }
        }
    }
}
