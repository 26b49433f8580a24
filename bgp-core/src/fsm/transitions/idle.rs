//! RFC 4271 §8.2.2 Idle state.
use crate::fsm::event::Event;
use crate::fsm::output::{Output, TimerKind};
use crate::fsm::state::State;
use crate::fsm::Fsm;

impl Fsm {
    pub(crate) fn idle(&mut self, event: Event, out: &mut Vec<Output>) {
        match event {
            // "In response to a ManualStart event (Event 1) or an AutomaticStart event
            // (Event 3), the local system: initializes all BGP resources for the peer
            // connection, sets ConnectRetryCounter to zero, starts the ConnectRetryTimer with
            // the initial value, initiates a TCP connection to the other BGP peer, listens for
            // a connection that may be initiated by the remote BGP peer, and changes its state
            // to Connect."
            // A ManualStart also forgets the back-off: the operator asked for it now.
            Event::ManualStart => {
                self.backoff.reset();
                self.connect_retry_counter = 0;
                self.start(out, false);
            }
            // "In response to a ManualStart_with_PassiveTcpEstablishment event (Event 4) or
            // AutomaticStart_with_PassiveTcpEstablishment event (Event 5), the local system:
            // initializes all BGP resources, sets the ConnectRetryCounter to zero, starts the
            // ConnectRetryTimer with the initial value, listens for a connection that may be
            // initiated by the remote peer, and changes its state to Active." (No
            // ConnectRetryTimer when the configuration is passive: it never dials.)
            Event::ManualStartWithPassiveTcpEstablishment => {
                self.backoff.reset();
                self.connect_retry_counter = 0;
                self.start(out, true);
            }
            // Automatic starts do nothing after a ManualStop (which holds until the next
            // ManualStart) or while the IdleHold back-off runs (RFC 4271 Events 6/7,
            // AutomaticStart_with_DampPeerOscillations: the restart waits for the
            // IdleHoldTimer).
            Event::AutomaticStart | Event::AutomaticStartWithPassiveTcpEstablishment
                if self.admin_down || self.timer_running(TimerKind::IdleHold) => {}
            Event::AutomaticStart => self.start(out, false),
            Event::AutomaticStartWithPassiveTcpEstablishment => self.start(out, true),
            // RFC 4271 §8.1.3 Event 13: "IdleHoldTimer_Expires ... Definition: An event
            // generated when the IdleHoldTimer expires, indicating that the BGP connection
            // has completed waiting for the back-off period to prevent BGP peer oscillation."
            // The restart is an AutomaticStart: active or passive as configured.
            Event::IdleHoldTimerExpires => self.start(out, false),
            // A connection from the peer while the back-off may be ended by one (see
            // `Fsm::incoming_connection`): the automatic restart happens now, passively,
            // with this connection (as Active + TcpConnectionConfirmed). A deviation from
            // "refuses all incoming BGP connections" that BIRD and FRR share: a peer that
            // restarted is back at once.
            Event::TcpConnectionConfirmed if self.idle_accepts_incoming() => {
                self.stop_timer(out, TimerKind::IdleHold);
                self.state = State::Active;
                self.connecting(event, out);
            }
            // "The ManualStop event (Event 2) and AutomaticStop (Event 8) event are ignored in
            // the Idle state." A ManualStop still cancels a pending automatic restart: the FSM
            // then stays Idle until ManualStart.
            Event::ManualStop { .. } => {
                self.admin_down = true;
                self.stop_timer(out, TimerKind::IdleHold);
            }
            // "Any other event (Events 9-12, 15-28) received in the Idle state does not cause
            // change in the state of the local system."
            _ => {}
        }
    }
}
