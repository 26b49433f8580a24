//! The BGP finite state machine of RFC 4271 §8, sans-IO.
//!
//! `(state, event) -> (state, Vec<Output>)`: the FSM reads no clock and touches no socket.
//! The runtime feeds [`Event`]s (decoded messages, TCP events, timer expiries) into
//! [`Fsm::handle`] and applies the returned [`Output`]s in order (dial, send, close, arm or
//! disarm a timer, hand the session to the RIB).
//!
//! Runtime contract:
//! - Start the FSM with [`Event::ManualStart`] (operator) or [`Event::AutomaticStart`]
//!   (configured peer); stop it with [`Event::ManualStop`]. After a ManualStop the FSM stays
//!   Idle until the next ManualStart; after any other failure it restarts by itself when the
//!   IdleHold timer (back-off) it asked for expires.
//! - Timers are one-shot; feed [`Event::timer_expired`] when one fires (see [`TimerKind`]).
//! - Feed every decoded message ([`Event::from_message`]) and every fatal decode error
//!   ([`Event::from_decode_error`]). Process an UPDATE or ROUTE-REFRESH body only if the FSM
//!   is still Established after its event.
//! - New connections from the peer: see [`collision`].
//!
//! Deviations from the letter of RFC 4271 §8.2.2, each documented at its transition:
//! - A TCP failure before the peer's OPEN was accepted (Connect, Active, OpenSent) goes to
//!   Active and retries after ConnectRetryTime (RFC: Idle from Connect/Active), so the peer
//!   can still connect to us meanwhile; it does not count as a session error for the back-off.
//! - OpenCollisionDump leaves the FSM in Active, ready for the surviving connection.
//! - Idle accepts a connection from the peer (TcpConnectionConfirmed) while the idle-hold
//!   back-off runs after few errors, ending it ([`Fsm::incoming_connection`]).
//! - With the RFC 8538 N bit exchanged, the Ceases of RFC 8538 §5 go out as Hard Reset.
//! - A received NOTIFICATION is never answered with a NOTIFICATION (RFC 4271 lists NotifMsg
//!   among the "other events" that send an FSM Error in OpenSent).
//! - The expiry of a timer the FSM does not consider running is ignored.
//! - SendNOTIFICATIONwithoutOPEN (§8.1.1) is on: header and OPEN errors are reported to the
//!   peer even before our OPEN went out.
//! - A passive configuration (`FsmConfig::passive`) never runs the ConnectRetry timer: it
//!   never dials. The *_with_PassiveTcpEstablishment start events on an active configuration
//!   wait in Active and dial when the ConnectRetry timer expires, as in the RFC.
use std::time::Duration;

use crate::wire::Open;

mod actions;
pub mod backoff;
pub mod collision;
pub mod config;
pub mod event;
pub mod negotiated;
pub mod open_check;
pub mod output;
pub mod state;
mod transitions;

#[cfg(test)]
mod tests;

pub use backoff::Backoff;
pub use collision::{
    keep_existing, keep_existing_with_as, open_announces_restart, CollisionResolution,
    IncomingDecision, Refusal,
};
pub use config::{FsmConfig, GracefulRestartConfig, IdleHoldConfig, LocalCapabilities};
pub use event::Event;
pub use negotiated::{Negotiated, RouteRefreshRefusal};
pub use open_check::{check_peer_open, local_open};
pub use output::{DownReason, Output, TimerKind};
pub use state::State;

/// The FSM's view of its one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conn {
    /// No connection, no dial in progress.
    None,
    /// We asked the runtime to dial ([`Output::Connect`]).
    Dialing,
    /// The connection we dialed is up (Tcp_CR_Acked).
    Outgoing,
    /// The connection the peer dialed is up (TcpConnectionConfirmed).
    Incoming,
}

impl Conn {
    /// A TCP connection is up.
    pub(crate) fn is_up(self) -> bool {
        matches!(self, Conn::Outgoing | Conn::Incoming)
    }
}

/// One peer's session state machine (RFC 4271 §8).
#[derive(Clone, Debug)]
pub struct Fsm {
    config: FsmConfig,
    state: State,
    /// Bit set of the running timers ([`TimerKind::bit`]).
    timers: u8,
    conn: Conn,
    /// ManualStop: stay Idle until ManualStart.
    admin_down: bool,
    /// The OPEN we sent on the current connection.
    our_open: Option<Open>,
    /// Set from the peer's OPEN (OpenConfirm, Established).
    negotiated: Option<Negotiated>,
    backoff: Backoff,
    /// RFC 4271 §8.1.1 ConnectRetryCounter (for `show neighbor`).
    connect_retry_counter: u32,
    last_down: Option<DownReason>,
    last_error: Option<String>,
}

impl Fsm {
    /// A new FSM in Idle. Nothing happens until a start event.
    pub fn new(config: FsmConfig) -> Fsm {
        Fsm {
            config,
            state: State::Idle,
            timers: 0,
            conn: Conn::None,
            admin_down: false,
            our_open: None,
            negotiated: None,
            backoff: Backoff::default(),
            connect_retry_counter: 0,
            last_down: None,
            last_error: None,
        }
    }

    /// Process one event; the outputs are to be applied in order.
    pub fn handle(&mut self, event: Event) -> Vec<Output> {
        let mut out = Vec::new();
        if let Some(kind) = event.timer() {
            if !self.timer_running(kind) {
                // A stale expiry (it raced with a StopTimer, or a restart): ignore.
                return out;
            }
            self.timers &= !kind.bit();
        }
        let from = self.state;
        let name = event.name();
        match self.state {
            State::Idle => self.idle(event, &mut out),
            State::Connect | State::Active => self.connecting(event, &mut out),
            State::OpenSent => self.open_sent(event, &mut out),
            State::OpenConfirm => self.open_confirm(event, &mut out),
            State::Established => self.established(event, &mut out),
        }
        if self.state != from {
            out.push(Output::StateChanged { from, to: self.state, event: name });
        }
        out
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// What the OPEN exchange negotiated (OpenConfirm and Established only).
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &FsmConfig {
        &self.config
    }

    /// Replace the configuration. It applies from the next connection on (a running session
    /// keeps what it negotiated); the runtime decides whether a change needs a ManualStop /
    /// ManualStart (RFC 4486 Cease / Other Configuration Change).
    pub fn set_config(&mut self, config: FsmConfig) {
        self.config = config;
    }

    /// Why the session (or the last attempt) last went down, with the state it was in, for
    /// `show neighbor`.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// The structured reason behind [`Fsm::last_error`].
    pub fn last_down(&self) -> Option<&DownReason> {
        self.last_down.as_ref()
    }

    /// RFC 4271 §8.1.1 ConnectRetryCounter: failures since the last ManualStart/ManualStop.
    pub fn connect_retry_counter(&self) -> u32 {
        self.connect_retry_counter
    }

    /// Consecutive session errors counted by the idle-hold back-off.
    pub fn error_count(&self) -> u32 {
        self.backoff.errors()
    }

    /// Stopped by ManualStop (stays Idle until ManualStart).
    pub fn is_admin_down(&self) -> bool {
        self.admin_down
    }

    /// Does the FSM consider this timer running?
    pub fn timer_running(&self, kind: TimerKind) -> bool {
        self.timers & kind.bit() != 0
    }

    pub(crate) fn start_timer(&mut self, out: &mut Vec<Output>, kind: TimerKind, d: Duration) {
        self.timers |= kind.bit();
        out.push(Output::StartTimer(kind, d));
    }

    pub(crate) fn stop_timer(&mut self, out: &mut Vec<Output>, kind: TimerKind) {
        if self.timer_running(kind) {
            self.timers &= !kind.bit();
            out.push(Output::StopTimer(kind));
        }
    }

    pub(crate) fn stop_all_timers(&mut self, out: &mut Vec<Output>) {
        for kind in TimerKind::ALL {
            self.stop_timer(out, kind);
        }
    }
}
