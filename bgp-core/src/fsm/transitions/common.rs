//! RFC 4271 §8.2.2 transitions that several states share. Each state's handler calls these
//! first and matches only the events they hand back; each quote below names the states it
//! comes from.
use crate::fsm::actions::Next;
use crate::fsm::event::Event;
use crate::fsm::output::{DownReason, Output};
use crate::fsm::Fsm;
use crate::wire::Notification;

impl Fsm {
    /// Events every state but Idle (Connect, Active, OpenSent, OpenConfirm, Established)
    /// handles the same way. Returns the event if it is not one of them.
    pub(super) fn common_started(&mut self, event: Event, out: &mut Vec<Output>) -> Option<Event> {
        match event {
            // Connect: "The start events (Events 1, 3-7) are ignored in the Connect state."
            // Active and OpenSent say the same; OpenConfirm and Established: "Any start event
            // (Events 1, 3-7) is ignored in the OpenConfirm [Established] state."
            Event::ManualStart
            | Event::AutomaticStart
            | Event::ManualStartWithPassiveTcpEstablishment
            | Event::AutomaticStartWithPassiveTcpEstablishment => {}
            // OpenSent: "If a ManualStop event (Event 2) is issued in the OpenSent state, the
            // local system: sends the NOTIFICATION with a Cease, sets the ConnectRetryTimer to
            // zero, releases all BGP resources, drops the TCP connection, sets the
            // ConnectRetryCounter to zero, and changes its state to Idle." OpenConfirm: the
            // same. Established: the same, and "deletes all routes associated with this
            // connection" (`Output::SessionDown`). Connect: "drops the TCP connection,
            // releases all BGP resources, sets ConnectRetryCounter to zero, stops the
            // ConnectRetryTimer and sets ConnectRetryTimer to zero, and changes its state to
            // Idle." Active: "If the DelayOpenTimer is running and the
            // SendNOTIFICATIONwithoutOPEN session attribute is set, the local system sends a
            // NOTIFICATION with a Cease" (`manual_stop` sends it whenever a connection is up).
            Event::ManualStop { cease_subcode, message } => {
                self.manual_stop(out, cease_subcode, &message)
            }
            // OpenSent, OpenConfirm: "If a NOTIFICATION message is received with a version
            // error (Event 24), the local system: sets the ConnectRetryTimer to zero, releases
            // all BGP resources, drops the TCP connection, and changes its state to Idle."
            // Connect, Active: the same after checking the DelayOpenTimer ("stops and resets
            // the DelayOpenTimer (sets to zero)"). OpenConfirm, Established: "If the local
            // system receives a NOTIFICATION message (Event 24 or Event 25) or a
            // TcpConnectionFails (Event 18) from the underlying TCP, the local system: sets
            // the ConnectRetryTimer to zero, [Established: deletes all routes associated with
            // this connection,] releases all BGP resources, drops the TCP connection,
            // increments the ConnectRetryCounter by 1, ... and changes its state to Idle."
            // Connect, Active and OpenSent list NotifMsg (Event 25) among their "other
            // events"; OpenSent would answer it with an FSM Error, but a NOTIFICATION is never
            // answered with one here (the peer is closing anyway): the connection just goes
            // down, as in Connect and Active.
            Event::NotifMsg(n) | Event::NotifMsgVerErr(n) => {
                self.teardown(out, None, DownReason::NotificationReceived(n), Next::Idle)
            }
            // OpenSent: "If a connection in the OpenSent state is determined to be the
            // connection that must be closed, an OpenCollisionDump (Event 23) is signaled to
            // the state machine. If such an event is received in the OpenSent state, the local
            // system: sends a NOTIFICATION with a Cease, ... drops the TCP connection".
            // OpenConfirm: "When the local system receives an OpenCollisionDump event (Event
            // 23), the local system: sends a NOTIFICATION with a Cease, ... drops the TCP
            // connection". Established: the same, and "deletes all routes associated with
            // this connection". Connect, Active: it applies to an existing connection
            // (DelayOpen running); without a connection there is nothing to dump. Ends in
            // Active: see `collision_dump`.
            Event::OpenCollisionDump => self.collision_dump(out),
            other => return Some(other),
        }
        None
    }

    /// Events OpenSent, OpenConfirm and Established handle the same way (after our OPEN went
    /// out), including those of [`Fsm::common_started`]. Returns the event if it is not one
    /// of them.
    pub(super) fn common_open(&mut self, event: Event, out: &mut Vec<Output>) -> Option<Event> {
        match self.common_started(event, out)? {
            // OpenSent: "If an AutomaticStop event (Event 8) is issued in the OpenSent state,
            // the local system: sends the NOTIFICATION with a Cease, ... increments the
            // ConnectRetryCounter by 1, (optionally) performs peer oscillation damping ...,
            // and changes its state to Idle." OpenConfirm: the same. Established: the same,
            // and "deletes all routes associated with this connection".
            Event::AutomaticStop(n) => self.notify_and_idle(out, n),
            // OpenSent: "If the HoldTimer_Expires (Event 10), the local system: sends a
            // NOTIFICATION message with the error code Hold Timer Expired, sets the
            // ConnectRetryTimer to zero, releases all BGP resources, drops the TCP connection,
            // increments the ConnectRetryCounter, (optionally) performs peer oscillation
            // damping ..., and changes its state to Idle." OpenConfirm: "If the
            // HoldTimer_Expires event (Event 10) occurs before a KEEPALIVE message is
            // received", the same. Established: the same.
            Event::HoldTimerExpires => self.teardown(
                out,
                Some(Notification::hold_timer_expired()),
                DownReason::HoldTimerExpired,
                Next::Idle,
            ),
            // OpenSent: "If a TcpConnection_Valid (Event 14), Tcp_CR_Acked (Event 16), or a
            // TcpConnectionConfirmed event (Event 17) is received, a second TCP connection may
            // be in progress. This second TCP connection is tracked per Call Collision
            // processing (Section 6.8) until an OPEN message is received." OpenConfirm: "the
            // local system needs to track the second connection." Established: "the second
            // connection SHALL be tracked until it sends an OPEN message." The runtime tracks
            // it (`Fsm::incoming_connection`).
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => {}
            other => return Some(other),
        }
        None
    }
}
