//! What a session task is configured with: given at its start and carried by
//! [`PeerCommand::Reconfigure`](super::PeerCommand::Reconfigure). Plain data, built from the
//! configuration in `peer/params.rs` and applied to sockets in `peer/socket.rs`; it lives here
//! so that the messages depend on no task's internals.
use std::net::IpAddr;
use std::time::Duration;

use bgp_core::fsm::FsmConfig;

use crate::config::NeighborConfig;

/// Everything a session is configured with.
#[derive(Clone, Debug)]
pub struct SessionParams {
    /// The neighbour's configuration, as loaded.
    pub neighbor: NeighborConfig,
    /// The FSM's configuration (our OPEN's contents, timers, passive mode).
    pub fsm: FsmConfig,
    /// Socket settings for the session's connections.
    pub socket: SocketOptions,
    /// Wait this long before the session's first dial (BIRD's `connect delay time`): a
    /// session the datastore adds is added on the other node at about the same moment, and
    /// a dial that arrives before it would be refused and retried only after the
    /// ConnectRetryTimer.
    pub first_dial_delay: Duration,
}

/// Per-session socket settings, derived from the neighbour's config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketOptions {
    /// Source address to bind before dialling.
    pub local_address: Option<IpAddr>,
    /// TTL / hop limit of outgoing packets (1 for single-hop eBGP, 255 with GTSM).
    pub ttl: Option<u32>,
    /// RFC 5082 §3: accept only packets whose TTL is at least this (255 - hops + 1).
    pub min_ttl: Option<u8>,
    /// RFC 2385 TCP MD5 key for the peer.
    pub md5_key: Option<Vec<u8>>,
    /// TCP_USER_TIMEOUT: data we sent may stay unacknowledged (a peer that stopped reading,
    /// a dead path) this long before the kernel gives the connection up. The writer uses the
    /// same bound for a write that makes no progress (`peer/writer.rs`). See `user_timeout`
    /// in `peer/socket.rs`.
    pub user_timeout: Duration,
}
