//! RFC 4271 §8.2.2 Connect and Active states: a dial in progress, or waiting for the peer to
//! connect; with DelayOpen, a connection that waits for the peer's OPEN. Start events,
//! ManualStop, received NOTIFICATIONs and OpenCollisionDump: see [`Fsm::common_started`].
use crate::fsm::actions::Next;
use crate::fsm::event::Event;
use crate::fsm::output::{DownReason, Output, TimerKind};
use crate::fsm::{Conn, Fsm};
use crate::wire::Notification;

impl Fsm {
    pub(crate) fn connecting(&mut self, event: Event, out: &mut Vec<Output>) {
        let Some(event) = self.common_started(event, out) else { return };
        match event {
            // Connect: "If the ConnectRetryTimer expires (Event 9), the local system: drops
            // the TCP connection, restarts the ConnectRetryTimer, stops the DelayOpenTimer
            // and resets the timer to zero, initiates a TCP connection to the other BGP peer,
            // continues to listen for a connection that may be initiated by the remote BGP
            // peer, and stays in the Connect state." Active: "restarts the ConnectRetryTimer
            // (with initial value), initiates a TCP connection to the other BGP peer,
            // continues to listen for a TCP connection that may be initiated by a remote BGP
            // peer, and changes its state to Connect."
            Event::ConnectRetryTimerExpires if !self.config.passive => {
                if self.conn != Conn::None {
                    out.push(Output::CloseConnection);
                }
                self.stop_timer(out, TimerKind::DelayOpen);
                self.dial(out);
            }
            Event::ConnectRetryTimerExpires => {}
            // "If the DelayOpenTimer expires (Event 12) in the Connect state, the local
            // system: sends an OPEN message to its peer, sets the HoldTimer to a large value,
            // and changes its state to OpenSent." (Active: the same, after "sets the
            // ConnectRetryTimer to zero".)
            Event::DelayOpenTimerExpires => {
                self.stop_timer(out, TimerKind::ConnectRetry);
                self.send_open(out);
            }
            // "If the TCP connection succeeds (Event 16 or Event 17), the local system checks
            // the DelayOpen attribute prior to processing. If the DelayOpen attribute is set
            // to TRUE, the local system: stops the ConnectRetryTimer (if running) and sets the
            // ConnectRetryTimer to zero, sets the DelayOpenTimer to the initial value, and
            // stays in the Connect state. If the DelayOpen attribute is set to FALSE, the
            // local system: stops the ConnectRetryTimer (if running) and sets the
            // ConnectRetryTimer to zero, completes BGP initialization, sends an OPEN message
            // to its peer, sets the HoldTimer to a large value, and changes its state to
            // OpenSent." If a connection is already up (DelayOpen running), the runtime
            // replaced it with this one: the DelayOpenTimer starts over for it.
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => {
                self.conn =
                    if event == Event::TcpCrAcked { Conn::Outgoing } else { Conn::Incoming };
                self.stop_timer(out, TimerKind::ConnectRetry);
                self.stop_timer(out, TimerKind::DelayOpen);
                match self.config.delay_open {
                    Some(delay) => self.start_timer(out, TimerKind::DelayOpen, delay),
                    None => self.send_open(out),
                }
            }
            // Connect: "If the TCP connection fails (Event 18), the local system checks the
            // DelayOpenTimer. If the DelayOpenTimer is running, the local system: restarts the
            // ConnectRetryTimer with the initial value, stops the DelayOpenTimer and resets
            // its value to zero, continues to listen for a connection that may be initiated
            // by the remote BGP peer, and changes its state to Active. If the DelayOpenTimer
            // is not running, the local system: stops the ConnectRetryTimer to zero, drops the
            // TCP connection, releases all BGP resources, and changes its state to Idle."
            // Here always the first branch (Active, retry after ConnectRetryTime; the peer
            // may connect meanwhile), and it is not a session error for the back-off.
            Event::TcpConnectionFails(kind) => self.connection_failed(out, kind, Next::Active),
            // "If a BGPOpen with DelayOpenTimer running event (Event 20) ... the local system:
            // stops the ConnectRetryTimer (if running) and sets the ConnectRetryTimer to zero,
            // completes the BGP initialization, stops and clears the DelayOpenTimer (sets the
            // value to zero), sends an OPEN message, sends a KEEPALIVE message, if the
            // HoldTimer initial value is non-zero, starts the KeepaliveTimer with the initial
            // value and resets the HoldTimer to the negotiated value, else, if the HoldTimer
            // initial value is zero, resets the KeepaliveTimer and resets the HoldTimer value
            // to zero, and changes its state to OpenConfirm."
            Event::BgpOpen(open) | Event::BgpOpenWithDelayOpenTimerRunning(open)
                if self.timer_running(TimerKind::DelayOpen) =>
            {
                self.receive_open(out, open, true)
            }
            // "If BGP message header checking (Event 21) or OPEN message checking detects an
            // error (Event 22) (see Section 6.2), the local system: (optionally) If the
            // SendNOTIFICATIONwithoutOPEN attribute is set to TRUE, then the local system
            // first sends a NOTIFICATION message with the appropriate error code, and then
            // stops the ConnectRetryTimer (if running) and sets the ConnectRetryTimer to zero,
            // releases all BGP resources, drops the TCP connection, increments the
            // ConnectRetryCounter by 1, (optionally) performs peer oscillation damping if the
            // DampPeerOscillations attribute is set to TRUE, and changes its state to Idle."
            Event::BgpHeaderErr(e) | Event::BgpOpenMsgErr(e) => {
                self.notify_and_idle(out, Notification::from(&e))
            }
            // AutomaticStop is among the "other events" below; the local system's reason is
            // still sent when a connection is up.
            Event::AutomaticStop(n) => {
                let send = self.conn.is_up().then(|| n.clone());
                self.teardown(out, send, DownReason::NotificationSent(n), Next::Idle)
            }
            // "In response to any other events (Events 8, 10-11, 13, 19, 23, 25-28), the local
            // system: if the ConnectRetryTimer is running, stops and resets the
            // ConnectRetryTimer (sets to zero), if the DelayOpenTimer is running, stops and
            // resets the DelayOpenTimer (sets to zero), releases all BGP resources, drops the
            // TCP connection, increments the ConnectRetryCounter by 1, performs peer
            // oscillation damping if the DampPeerOscillations attribute is set to True, and
            // changes its state to Idle." (Events 23 and 25: see `common_started`.)
            other => {
                self.teardown(out, None, DownReason::UnexpectedEvent(other.name()), Next::Idle)
            }
        }
    }
}
