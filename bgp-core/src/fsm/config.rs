//! What one peer's FSM is configured with: the RFC 4271 §8.1.1 session attributes this daemon
//! supports, the idle-hold back-off, and the capabilities we announce.
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::wire::{AddPathEntry, ExtendedNextHopEntry, Family};

/// RFC 4271 §10: "suggested default value for the HoldTime is 90 seconds".
pub const DEFAULT_HOLD_TIME: u16 = 90;
/// The config schema's default ConnectRetryTime (RFC 4271 §10 suggests 120 s; a cluster wants
/// faster recovery, BIRD's `connect delay time` default is 5 s).
pub const DEFAULT_CONNECT_RETRY: Duration = Duration::from_secs(5);
/// RFC 4271 §8.2.2 (OpenSent): "sets the HoldTimer to a large value ... A HoldTimer value of 4
/// minutes is suggested."
pub const OPEN_HOLD_TIME: Duration = Duration::from_secs(240);
/// RFC 4724 §3: restart time is a 12-bit field; 120 s is the config schema default.
pub const DEFAULT_RESTART_TIME: u16 = 120;

/// Configuration of one peer's FSM. Build with [`FsmConfig::new`] and adjust fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsmConfig {
    /// Our AS number (4-octet).
    pub local_as: u32,
    /// Our BGP Identifier.
    pub router_id: Ipv4Addr,
    /// The AS the peer must announce; `remote_as == local_as` means iBGP.
    pub remote_as: u32,
    /// Hold time we offer in our OPEN (0, or >= 3 seconds).
    pub hold_time: u16,
    /// ConnectRetryTime (RFC 4271 §8.1.1): how long Connect/Active wait before dialing again.
    pub connect_retry: Duration,
    /// RFC 4271 §8.1.1 PassiveTcpEstablishment: never dial, only accept.
    pub passive: bool,
    /// RFC 4271 §8.1.1 DelayOpen / DelayOpenTime: wait this long for the peer's OPEN before
    /// sending ours on a fresh connection.
    pub delay_open: Option<Duration>,
    /// Back-off before an automatic restart (RFC 4271 DampPeerOscillations).
    pub idle_hold: IdleHoldConfig,
    /// The Hold Timer while waiting for the peer's OPEN (RFC 4271 §8.2.2 suggests 4 minutes).
    pub open_hold_time: Duration,
    /// What we announce in our OPEN, and what we require from the peer.
    pub capabilities: LocalCapabilities,
}

impl FsmConfig {
    /// A config with every optional knob at its default: hold time 90 s, connect retry 5 s,
    /// active, no DelayOpen, IPv4 + IPv6 unicast, route refresh, 4-octet AS.
    pub fn new(local_as: u32, router_id: Ipv4Addr, remote_as: u32) -> Self {
        FsmConfig {
            local_as,
            router_id,
            remote_as,
            hold_time: DEFAULT_HOLD_TIME,
            connect_retry: DEFAULT_CONNECT_RETRY,
            passive: false,
            delay_open: None,
            idle_hold: IdleHoldConfig::default(),
            open_hold_time: OPEN_HOLD_TIME,
            capabilities: LocalCapabilities::default(),
        }
    }

    /// Internal BGP: the peer is in our AS.
    pub fn is_ibgp(&self) -> bool {
        self.local_as == self.remote_as
    }
}

impl Default for FsmConfig {
    /// Placeholder identity (AS 0, router id 0.0.0.0): callers set `local_as`, `router_id`
    /// and `remote_as`; prefer [`FsmConfig::new`].
    fn default() -> Self {
        FsmConfig::new(0, Ipv4Addr::UNSPECIFIED, 0)
    }
}

/// Back-off before the FSM restarts itself after going to Idle (RFC 4271 §8.1.1
/// DampPeerOscillations: "The method of preventing persistent peer oscillation is outside the
/// scope of this document"). Modelled on BIRD's `error wait time` / `error forget time`
/// (BIRD defaults: 60 s doubling up to 300 s; forget after 300 s). A cluster wants Pod routes
/// back quickly after a node restart, so the first wait is shorter here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleHoldConfig {
    /// Wait before the first automatic restart after a session error (anything after our
    /// OPEN went out: NOTIFICATION sent or received, hold timer expiry, connection lost).
    pub initial: Duration,
    /// The wait doubles with every further error, up to this cap.
    pub max: Duration,
    /// Once a session has stayed Established this long, the error sequence is forgotten and
    /// the next wait is `initial` again (BIRD `error forget time`).
    pub forget_after: Duration,
    /// A connection from the peer ends the wait at once (a peer that restarted is back
    /// without delay, as with BIRD and FRR) while at most this many consecutive errors were
    /// counted; after more, the peer's connections are refused until the IdleHold timer
    /// expires, like our own dials (see [`super::Fsm::incoming_connection`]).
    pub accept_incoming_errors: u32,
}

impl Default for IdleHoldConfig {
    /// 5 s, doubling to 120 s, forgotten after 300 s Established; the peer's connections
    /// end the wait after one or two errors, not after three or more.
    fn default() -> Self {
        IdleHoldConfig {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(120),
            forget_after: Duration::from_secs(300),
            accept_incoming_errors: 2,
        }
    }
}

/// The Graceful Restart capability we announce (RFC 4724 §3), for every configured family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    /// Restart Time in seconds (12 bits; larger values are clamped to 4095).
    pub restart_time: u16,
    /// R bit: set after our own restart, while the peer should not wait for our End-of-RIB
    /// before it sends its own (RFC 4724 §4.1).
    pub restart_state: bool,
    /// N bit: RFC 8538 Notification-GR support.
    pub notification: bool,
    /// F bit for every announced family: our forwarding state survived the restart.
    pub forwarding_state: bool,
}

impl Default for GracefulRestartConfig {
    fn default() -> Self {
        GracefulRestartConfig {
            restart_time: DEFAULT_RESTART_TIME,
            restart_state: false,
            notification: true,
            forwarding_state: false,
        }
    }
}

/// Capabilities we announce in our OPEN (RFC 5492) and the ones the peer must announce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalCapabilities {
    /// One Multiprotocol capability per family (RFC 4760).
    pub families: Vec<Family>,
    /// Route Refresh (RFC 2918).
    pub route_refresh: bool,
    /// Enhanced Route Refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// 4-octet AS (RFC 6793). Always announced when `local_as` does not fit 2 octets.
    pub four_octet_as: bool,
    /// Graceful Restart (RFC 4724); `None` = not announced.
    pub graceful_restart: Option<GracefulRestartConfig>,
    /// ADD-PATH per family and direction (RFC 7911).
    pub add_path: Vec<AddPathEntry>,
    /// Extended next hop encoding (RFC 8950), e.g. IPv4 unicast over an IPv6 next hop.
    pub extended_next_hop: Vec<ExtendedNextHopEntry>,
    /// Extended messages up to 65535 octets (RFC 8654).
    pub extended_message: bool,
    /// FQDN capability hostname (draft-walton-bgp-hostname-capability); `None` = not sent.
    pub hostname: Option<String>,
    /// FQDN capability domain name (sent only with `hostname`; empty = none).
    pub domain: String,
    /// Capability codes the peer must announce; a missing one is refused with OPEN Message
    /// Error / Unsupported Capability (RFC 5492 §5). Default: none.
    pub required: Vec<u8>,
}

impl Default for LocalCapabilities {
    fn default() -> Self {
        LocalCapabilities {
            families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            route_refresh: true,
            enhanced_route_refresh: true,
            four_octet_as: true,
            graceful_restart: None,
            add_path: Vec::new(),
            extended_next_hop: Vec::new(),
            extended_message: false,
            hostname: None,
            domain: String::new(),
            required: Vec::new(),
        }
    }
}
