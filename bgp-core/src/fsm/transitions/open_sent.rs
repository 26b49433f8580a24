//! RFC 4271 §8.2.2 OpenSent state: our OPEN is out, waiting for the peer's.
use crate::fsm::actions::Next;
use crate::fsm::event::Event;
use crate::fsm::output::{DownReason, Output};
use crate::fsm::Fsm;
use crate::wire::notification::codes;
use crate::wire::Notification;

impl Fsm {
    pub(crate) fn open_sent(&mut self, event: Event, out: &mut Vec<Output>) {
        match event {
            // "The start events (Events 1, 3-7) are ignored in the OpenSent state."
            Event::ManualStart
            | Event::AutomaticStart
            | Event::ManualStartWithPassiveTcpEstablishment
            | Event::AutomaticStartWithPassiveTcpEstablishment => {}
            // "If a ManualStop event (Event 2) is issued in the OpenSent state, the local
            // system: sends the NOTIFICATION with a Cease, sets the ConnectRetryTimer to zero,
            // releases all BGP resources, drops the TCP connection, sets the
            // ConnectRetryCounter to zero, and changes its state to Idle."
            Event::ManualStop { cease_subcode, message } => {
                self.manual_stop(out, cease_subcode, &message)
            }
            // "If an AutomaticStop event (Event 8) is issued in the OpenSent state, the local
            // system: sends the NOTIFICATION with a Cease, ... increments the
            // ConnectRetryCounter by 1, (optionally) performs peer oscillation damping ...,
            // and changes its state to Idle."
            Event::AutomaticStop(n) => self.notify_and_idle(out, n),
            // "If the HoldTimer_Expires (Event 10), the local system: sends a NOTIFICATION
            // message with the error code Hold Timer Expired, sets the ConnectRetryTimer to
            // zero, releases all BGP resources, drops the TCP connection, increments the
            // ConnectRetryCounter, (optionally) performs peer oscillation damping ..., and
            // changes its state to Idle."
            Event::HoldTimerExpires => self.teardown(
                out,
                Some(Notification::hold_timer_expired()),
                DownReason::HoldTimerExpired,
                Next::Idle,
            ),
            // "If a TcpConnection_Valid (Event 14), Tcp_CR_Acked (Event 16), or a
            // TcpConnectionConfirmed event (Event 17) is received, a second TCP connection may
            // be in progress. This second TCP connection is tracked per Call Collision
            // processing (Section 6.8) until an OPEN message is received." The runtime tracks
            // it (`Fsm::incoming_connection`).
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => {}
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
            // "If a connection in the OpenSent state is determined to be the connection that
            // must be closed, an OpenCollisionDump (Event 23) is signaled to the state machine.
            // If such an event is received in the OpenSent state, the local system: sends a
            // NOTIFICATION with a Cease, ... drops the TCP connection". Ends in Active: see
            // `collision_dump`.
            Event::OpenCollisionDump => self.collision_dump(out),
            // "If a NOTIFICATION message is received with a version error (Event 24), the
            // local system: sets the ConnectRetryTimer to zero, releases all BGP resources,
            // drops the TCP connection, and changes its state to Idle."
            Event::NotifMsgVerErr(n) => {
                self.teardown(out, None, DownReason::NotificationReceived(n), Next::Idle)
            }
            // RFC 4271 lists NotifMsg (Event 25) among the "other events" below, which answer
            // with an FSM Error; a NOTIFICATION is never answered with one here (the peer is
            // closing anyway), the connection just goes down.
            Event::NotifMsg(n) => {
                self.teardown(out, None, DownReason::NotificationReceived(n), Next::Idle)
            }
            // "In response to any other event (Events 9, 11-13, 20, 25-28), the local system:
            // sends the NOTIFICATION with the Error Code Finite State Machine Error, sets the
            // ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
            // increments the ConnectRetryCounter by 1, (optionally) performs peer oscillation
            // damping ..., and changes its state to Idle." RFC 6608 §4: subcode 1, "Receive
            // Unexpected Message in OpenSent State".
            Event::ConnectRetryTimerExpires
            | Event::KeepaliveTimerExpires
            | Event::DelayOpenTimerExpires
            | Event::IdleHoldTimerExpires
            | Event::ErrorForgetTimerExpires
            | Event::KeepAliveMsg
            | Event::UpdateMsg
            | Event::UpdateMsgErr(_)
            | Event::RouteRefreshMsg
            | Event::RouteRefreshMsgErr(_) => {
                self.fsm_error(out, codes::FSM_UNEXPECTED_IN_OPENSENT)
            }
        }
    }
}
