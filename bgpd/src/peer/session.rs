//! One task per configured neighbour: runs the sans-IO FSM (bgp_core::fsm) over TCP.
//!
//! The task owns the FSM, its timers and at most one connection. It feeds the FSM the RFC 4271
//! §8.1 events (commands, timer expiries, connection results, decoded messages) and carries
//! out what the FSM asks (dial, send, close, start/stop timers). Decoded UPDATEs go to the RIB
//! owner task through the session's [`RibFeed`] (which never makes the session wait); the
//! RIB's UPDATEs for this peer go straight to the connection's writer.
//!
//! This file holds the [`Session`] state and its main loop; the work is in the submodules:
//! - `commands.rs`: [`PeerCommand`]s (start, stop, reset, reconfigure, exit);
//! - `dial.rs`: our own connection attempt and its result;
//! - `incoming.rs`: connections the peer opens (intake, collision), refusing connections;
//! - `inbound.rs`: reading and decoding the peer's messages, handing them to FSM and RIB;
//! - `fsm_outputs.rs`: feeding the FSM and carrying out its outputs;
//! - `rib_handoff.rs` / `rib_feed.rs`: inputs for the RIB and the back-pressure rules;
//! - `message_counters.rs`: message counters and NOTIFICATION log lines.
mod commands;
mod dial;
mod fsm_outputs;
mod inbound;
mod incoming;
mod message_counters;
#[cfg(test)]
mod path_tests;
mod rib_feed;
mod rib_handoff;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use bgp_core::fsm::{Event, Fsm, Negotiated, TimerKind};
use bgp_core::wire::{Open, WireContext};
use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::debug;

use super::connection::{read_or_pend, Connection, FirstOpenError};
use super::prefix_limit::PrefixLimitHold;
use super::status::SharedStatus;
use super::timers::Timers;
use crate::messages::{PeerCommand, PeerKey, RibInput};
use crate::metrics::Metrics;
use dial::{DialId, DialTask};
use incoming::HeldConnection;
use rib_feed::RibFeed;

pub use crate::messages::SessionParams;
pub use incoming::{refuse_connection, refuse_with};
pub use message_counters::message_kind;

/// What the session's own helper tasks report back to its main loop.
enum Internal {
    Dialed(DialId, std::io::Result<TcpStream>),
    /// The first message of the held connection `id` (see `incoming.rs`).
    CollisionOpen(u64, TcpStream, Result<(Open, BytesMut), FirstOpenError>),
}

/// One neighbour's session task: its FSM, timers, connection and channels (see the module
/// documentation). Built with [`Session::new`], run with [`Session::run`].
pub struct Session {
    key: PeerKey,
    label: String,
    params: SessionParams,
    fsm: Fsm,
    timers: Timers,
    conn: Option<Connection>,
    rx_ctx: WireContext,
    tx_ctx: WireContext,
    /// The current dial: a `Dialed` report of another one is stale.
    current_dial: DialId,
    /// The dial in progress, if any (aborted whenever it is abandoned, see dial.rs).
    dial: Option<DialTask>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal_rx: mpsc::UnboundedReceiver<Internal>,
    commands: mpsc::UnboundedReceiver<PeerCommand>,
    self_tx: mpsc::UnboundedSender<PeerCommand>,
    rib: RibFeed,
    status: SharedStatus,
    metrics: Arc<Metrics>,
    /// The RIB was told PeerUp and not yet PeerDown.
    rib_up: bool,
    /// What the current Established session negotiated (graceful restart, RFC 8538 N bit:
    /// what happens to the peer's routes when it ends).
    negotiated: Option<Negotiated>,
    /// The connection held aside for collision detection, if any, and the last id given.
    held: Option<HeldConnection>,
    held_id: u64,
    exiting: bool,
    /// A maximum-prefix teardown holding the session down (its `restart_after` timer).
    prefix_limit: PrefixLimitHold,
}

impl Session {
    /// A session for `params.neighbor`, not yet running: it takes `commands` (and sends
    /// itself some through `self_tx`), hands the RIB its inputs on `rib`, and publishes its
    /// state in `status` and `metrics`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        params: SessionParams,
        commands: mpsc::UnboundedReceiver<PeerCommand>,
        self_tx: mpsc::UnboundedSender<PeerCommand>,
        rib: mpsc::Sender<RibInput>,
        status: SharedStatus,
        metrics: Arc<Metrics>,
    ) -> Session {
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let key = params.neighbor.address;
        Session {
            key,
            label: key.to_string(),
            fsm: Fsm::new(params.fsm.clone()),
            params,
            timers: Timers::default(),
            conn: None,
            rx_ctx: WireContext::default(),
            tx_ctx: WireContext::default(),
            current_dial: DialId::default(),
            dial: None,
            internal_tx,
            internal_rx,
            commands,
            self_tx,
            rib: RibFeed::new(rib),
            status: status.clone(),
            metrics,
            rib_up: false,
            negotiated: None,
            held: None,
            held_id: 0,
            exiting: false,
            prefix_limit: PrefixLimitHold::shared(status),
        }
    }

    /// The session task: runs until [`PeerCommand::Exit`] or until its command channel
    /// closes.
    pub async fn run(mut self) {
        self.publish_state();
        if self.params.neighbor.shutdown {
            // Down until `Start`: the FSM refuses the peer's connections meanwhile.
            self.feed(Event::manual_stop()).await;
        } else {
            self.start().await;
        }
        loop {
            let next_timer = self.timers.next();
            // While the RIB has no room for our last input, the peer is not read (TCP
            // back-pressure); timers and commands are still served (rib_feed.rs).
            let reading = !self.rib.is_blocked();
            tokio::select! {
                biased;
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => self.exit(false).await,
                },
                Some(internal) = self.internal_rx.recv() => self.internal(internal).await,
                // Timers before the socket: a peer that floods us cannot starve KEEPALIVEs.
                _ = sleep_until(next_timer.map(|(d, _)| d)), if next_timer.is_some() => {
                    if let Some(kind) = self.timers.take_expired(Instant::now()) {
                        self.timer_expired(kind).await;
                    }
                }
                permit = self.rib.room() => {
                    if self.rib.deliver(permit) {
                        self.rib_unblocked().await;
                    }
                }
                read = read_or_pend(&mut self.conn), if reading => self.on_read(read).await,
            }
            if self.exiting {
                return;
            }
        }
    }

    async fn internal(&mut self, internal: Internal) {
        match internal {
            Internal::Dialed(id, result) => self.dialed(id, result).await,
            Internal::CollisionOpen(id, stream, result) => {
                self.resolve_collision(id, stream, result).await
            }
        }
    }

    async fn timer_expired(&mut self, kind: TimerKind) {
        if kind == TimerKind::Hold && self.rib.is_blocked() && self.fsm.timer_running(kind) {
            // RFC 4271 §4.4: the Hold Timer measures the time between the peer's messages.
            // We are the ones not reading them now (the RIB is busy): the peer is not at
            // fault, so its timer starts over.
            debug!(neighbor = %self.label, "hold timer restarted: waiting for the RIB, not reading");
            self.restart_hold();
            return;
        }
        self.note_unanswered_dial(kind);
        self.feed(Event::timer_expired(kind)).await;
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
