//! The six session states of RFC 4271 §8.2.2.
use std::fmt;

/// RFC 4271 §8.2.2 session state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// "Initially, the BGP peer FSM is in the Idle state. ... In this state, BGP FSM refuses
    /// all incoming BGP connections for this peer."
    Idle,
    /// "In this state, BGP FSM is waiting for the TCP connection to be completed."
    Connect,
    /// "In this state, BGP FSM is trying to acquire a peer by listening for, and accepting, a
    /// TCP connection."
    Active,
    /// "In this state, BGP FSM waits for an OPEN message from its peer."
    OpenSent,
    /// "In this state, BGP waits for a KEEPALIVE or NOTIFICATION message."
    OpenConfirm,
    /// "In the Established state, the BGP FSM can exchange UPDATE, NOTIFICATION, and
    /// KEEPALIVE messages with its peer."
    Established,
}

impl State {
    /// The RFC's name of the state.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
