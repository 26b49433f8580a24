//! One task per configured neighbour: runs the sans-IO FSM (bgp_core::fsm) over TCP.
//!
//! The task owns the FSM, its timers and at most one connection. It feeds the FSM the RFC 4271
//! §8.1 events (commands, timer expiries, connection results, decoded messages) and carries
//! out what the FSM asks (dial, send, close, start/stop timers). Decoded UPDATEs go to the RIB
//! owner task through the session's [`RibFeed`] (which never makes the session wait); the
//! RIB's UPDATEs for this peer go straight to the connection's writer. Connections the peer
//! opens: `incoming.rs`.
mod dial;
mod incoming;
mod rib_feed;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use bgp_core::fsm::{Event, Fsm, FsmConfig, Negotiated, Output, State, TimerKind};
use bgp_core::wire::message::{decode_message, encode_message};
use bgp_core::wire::notification::codes;
use bgp_core::wire::{Message, Notification, Open, WireContext};
use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::connection::{read_or_pend, Connection, FirstOpenError};
use super::prefix_limit::PrefixLimitHold;
use super::socket::SocketOptions;
use super::status::SharedStatus;
use super::timers::Timers;
use super::views;
use crate::config::NeighborConfig;
use crate::messages::{PeerCommand, PeerKey, RibInput};
use crate::metrics::Metrics;
use dial::{DialId, DialTask};
use incoming::HeldConnection;
use rib_feed::RibFeed;

/// Everything a session is configured with.
#[derive(Clone, Debug)]
pub struct SessionParams {
    pub neighbor: NeighborConfig,
    pub fsm: FsmConfig,
    pub socket: SocketOptions,
    /// Wait this long before the session's first dial (BIRD's `connect delay time`): a
    /// session the datastore adds is added on the other node at about the same moment, and
    /// a dial that arrives before it would be refused and retried only after the
    /// ConnectRetryTimer.
    pub first_dial_delay: Duration,
}

#[derive(Clone, Copy)]
enum Direction {
    Received,
    Sent,
}

/// How long an exiting session waits for the RIB to take its last inputs (PeerDown).
const RIB_FLUSH_ON_EXIT: Duration = Duration::from_secs(5);

enum Internal {
    Dialed(DialId, std::io::Result<TcpStream>),
    /// The first message of the held connection `id` (see `incoming.rs`).
    CollisionOpen(u64, TcpStream, Result<(Open, BytesMut), FirstOpenError>),
}

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

    /// Start the Hold Timer over with its current length: negotiated (Established,
    /// OpenConfirm) or the large OpenSent value.
    fn restart_hold(&mut self) {
        let hold = match self.fsm.negotiated() {
            Some(n) => Duration::from_secs(u64::from(n.hold_time)),
            None => self.params.fsm.open_hold_time,
        };
        self.timers.start(TimerKind::Hold, hold);
    }

    /// The RIB took everything that waited: give the peer a full Hold Time for what we did
    /// not read meanwhile, and go on with the messages already buffered.
    async fn rib_unblocked(&mut self) {
        if self.fsm.timer_running(TimerKind::Hold) {
            self.restart_hold();
        }
        self.drain_frames().await;
    }

    /// Queue `input` for the RIB (see rib_feed.rs); counted when it has to wait.
    fn feed_rib(&mut self, input: RibInput) {
        if self.rib.push(input) {
            self.metrics.rib_queue_waits.with_label_values(&[&self.label]).inc();
            debug!(neighbor = %self.label, "RIB queue full: not reading from the peer until it has room");
        }
    }

    async fn start(&mut self) {
        self.status.lock().admin_down = false;
        self.prefix_limit.started();
        let event = if self.params.fsm.passive {
            Event::ManualStartWithPassiveTcpEstablishment
        } else {
            Event::ManualStart
        };
        self.feed(event).await;
    }

    async fn command(&mut self, cmd: PeerCommand) {
        match cmd {
            PeerCommand::Start => {
                if self.fsm.state() == State::Idle {
                    self.start().await;
                }
            }
            PeerCommand::Stop { subcode, message } => {
                self.status.lock().admin_down = true;
                let restart_after = self.params.neighbor.max_prefixes.and_then(|m| m.restart_after);
                self.prefix_limit.stopped(subcode, restart_after, &self.self_tx);
                self.feed(Event::ManualStop { cease_subcode: subcode, message }).await;
                self.timers.stop_all();
            }
            PeerCommand::Reset { subcode, message } => {
                self.feed(Event::ManualStop { cease_subcode: subcode, message }).await;
                self.timers.stop_all();
                self.start().await;
            }
            PeerCommand::RestartAfterPrefixLimit { hold } => {
                if self.prefix_limit.restart_due(hold) && self.fsm.state() == State::Idle {
                    info!(neighbor = %self.label, "maximum-prefix restart timer expired: starting");
                    self.start().await;
                }
            }
            PeerCommand::AutomaticStop(notification) => {
                self.feed(Event::AutomaticStop(notification)).await;
            }
            PeerCommand::Incoming(stream) => self.incoming(stream).await,
            PeerCommand::Reconfigure(params) => {
                // Only fields that need no reset reach here (the daemon resets otherwise).
                self.fsm.set_config(params.fsm.clone());
                self.params = *params;
            }
            PeerCommand::SendRouteRefresh(request) => {
                // RFC 2918 §3: only to a peer that announced the Route Refresh capability.
                if self.fsm.negotiated().is_some_and(|n| n.route_refresh) {
                    self.send(&Message::RouteRefresh(request));
                }
            }
            PeerCommand::Exit { graceful } => self.exit(graceful).await,
        }
    }

    /// Daemon shutdown. With graceful restart negotiated the connection is closed without a
    /// NOTIFICATION so the peer keeps our routes (RFC 4724 §4.2); otherwise Cease /
    /// Administrative Shutdown (RFC 4486).
    async fn exit(&mut self, graceful: bool) {
        let gr = self.negotiated.as_ref().is_some_and(Negotiated::graceful_restart);
        if graceful && gr && self.fsm.state() == State::Established {
            if let Some(conn) = self.conn.take() {
                conn.writer.close();
            }
        } else {
            self.feed(Event::ManualStop {
                cease_subcode: codes::CEASE_ADMIN_SHUTDOWN,
                message: "bgpd shutting down".to_string(),
            })
            .await;
        }
        self.tell_rib_down(graceful);
        self.drop_held();
        self.abort_dial();
        // The RIB must hear PeerDown, whatever waits before it; bounded, so a RIB that no
        // longer reads (it is shutting down too) cannot keep the session task alive.
        if tokio::time::timeout(RIB_FLUSH_ON_EXIT, self.rib.flush()).await.is_err() {
            warn!(neighbor = %self.label, "RIB did not take the session's last inputs within 5 s: exiting without them");
        }
        self.exiting = true;
    }

    async fn internal(&mut self, internal: Internal) {
        match internal {
            Internal::Dialed(id, result) => {
                if !self.dial_reported(id)
                    || self.fsm.state() != State::Connect
                    || self.conn.is_some()
                {
                    return; // A stale dial: dropping the stream closes it.
                }
                match result {
                    Ok(stream) => match self.attach(stream, true, BytesMut::new()) {
                        Ok(()) => self.feed(Event::TcpCrAcked).await,
                        Err(e) => self.feed(Event::TcpConnectionFails(Some(e.kind()))).await,
                    },
                    Err(e) => {
                        debug!(neighbor = %self.label, error = %e, "connect failed");
                        self.status.lock().last_error = Some(format!("connect: {e}"));
                        self.feed(Event::TcpConnectionFails(Some(e.kind()))).await;
                    }
                }
            }
            Internal::CollisionOpen(id, stream, result) => {
                self.resolve_collision(id, stream, result).await
            }
        }
    }

    fn attach(&mut self, stream: TcpStream, outgoing: bool, buf: BytesMut) -> std::io::Result<()> {
        let rib = self.rib.sender().clone();
        let key = self.key;
        // The writer's queue drained: the RIB resumes this peer's UPDATEs. The notice must not
        // be lost to a full RIB queue (the peer's backlog would wait for an unrelated change),
        // so it then waits in a task of its own. The writer reports a drain only after the RIB
        // found its queue full, so there is at most one such task per fill-and-drain cycle.
        let on_drained = Box::new(move || {
            if let Err(mpsc::error::TrySendError::Full(input)) =
                rib.try_send(RibInput::Writable { peer: key })
            {
                let rib = rib.clone();
                tokio::spawn(async move {
                    let _ = rib.send(input).await;
                });
            }
        });
        self.conn = Some(Connection::new(stream, outgoing, buf, on_drained)?);
        Ok(())
    }

    async fn on_read(&mut self, read: std::io::Result<usize>) {
        if !matches!(read, Ok(n) if n > 0) {
            // The connection is dead: the FSM is told below and will not ask to close it.
            if let Some(conn) = self.conn.take() {
                conn.writer.close();
            }
        }
        match read {
            Ok(0) => {
                self.status.lock().last_error = Some("connection closed by peer".to_string());
                self.feed(Event::TcpConnectionFails(None)).await;
            }
            Ok(_) => self.drain_frames().await,
            Err(e) => {
                self.status.lock().last_error = Some(format!("connection: {e}"));
                self.feed(Event::TcpConnectionFails(Some(e.kind()))).await;
            }
        }
    }

    /// Decode and handle every whole message in the read buffer.
    /// Stops while the RIB has no room for the last input (rib_feed.rs): the rest waits in
    /// the buffer, in order.
    async fn drain_frames(&mut self) {
        loop {
            if self.rib.is_blocked() {
                return;
            }
            let Some(conn) = self.conn.as_mut() else { return };
            let frame = match bgp_core::wire::split_frame(&mut conn.buf, &self.rx_ctx) {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(e) => {
                    self.decode_failed(e).await;
                    return;
                }
            };
            match decode_message(frame, &self.rx_ctx) {
                Ok(msg) => self.on_message(msg).await,
                Err(e) => {
                    self.decode_failed(e).await;
                    return;
                }
            }
            // Handing a message to the RIB never waits (try_send), so yield to the runtime
            // once this task's budget is spent, as an awaited send would: the RIB task runs
            // between the messages of a burst, and the queue holds a few decoded UPDATEs
            // instead of thousands (peak memory of a full-table withdrawal: 92 -> 71 MiB).
            tokio::task::coop::consume_budget().await;
        }
    }

    async fn decode_failed(&mut self, e: bgp_core::wire::DecodeError) {
        warn!(neighbor = %self.label, error = %e, "malformed message");
        self.status.lock().last_error = Some(format!("received malformed message: {e}"));
        self.feed(Event::from_decode_error(e)).await;
    }

    async fn on_message(&mut self, msg: Message) {
        self.count(&msg, Direction::Received);
        self.feed(Event::from_message(&msg)).await;
        if self.fsm.state() != State::Established {
            return;
        }
        match msg {
            Message::Update(update) => {
                self.metrics.updates_received.with_label_values(&[&self.label]).inc();
                if !update.issues.is_empty() {
                    for issue in &update.issues {
                        warn!(neighbor = %self.label, attribute = issue.type_code,
                              action = ?issue.action, reason = issue.reason, "RFC 7606");
                    }
                    self.metrics.treat_as_withdraw.with_label_values(&[&self.label]).inc();
                }
                self.feed_rib(RibInput::Update { peer: self.key, update: Box::new(update) });
            }
            Message::RouteRefresh(request) => {
                let check = self.fsm.negotiated().map(|n| n.check_route_refresh(&request));
                match check {
                    Some(Ok(())) => {
                        self.feed_rib(RibInput::RouteRefresh { peer: self.key, request })
                    }
                    // RFC 2918 §4, RFC 7313 §5: ignored (see `Negotiated::check_route_refresh`).
                    Some(Err(why)) => {
                        warn!(neighbor = %self.label, afi = request.family.afi,
                              safi = request.family.safi, subtype = request.subtype,
                              reason = why.as_str(), "ROUTE-REFRESH ignored");
                        self.metrics
                            .route_refresh_ignored
                            .with_label_values(&[&self.label, why.as_str()])
                            .inc();
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }

    /// Feed one event to the FSM and carry out its outputs.
    async fn feed(&mut self, event: Event) {
        let outputs = self.fsm.handle(event);
        for output in outputs {
            self.output(output).await;
        }
    }

    async fn output(&mut self, output: Output) {
        match output {
            Output::Connect => self.dial(),
            Output::CloseConnection => {
                if let Some(conn) = self.conn.take() {
                    conn.writer.close();
                }
                self.abort_dial();
            }
            Output::Send(msg) => self.send(&msg),
            Output::StartTimer(kind, after) => self.timers.start(kind, after),
            Output::StopTimer(kind) => self.timers.stop(kind),
            Output::Established(negotiated) => {
                self.rx_ctx = negotiated.rx.clone();
                self.tx_ctx = negotiated.tx.clone();
                self.negotiated = Some(negotiated.clone());
                let (local, remote_port, out) = match &self.conn {
                    Some(c) => (c.local.ip(), c.remote.port(), c.writer.updates()),
                    None => return,
                };
                {
                    let mut st = self.status.lock();
                    st.established_at = Some(std::time::Instant::now());
                    st.established_count += 1;
                    st.negotiated = Some(views::negotiated_view(&negotiated, local, remote_port));
                    st.last_error = None;
                }
                self.rib_up = true;
                self.feed_rib(RibInput::PeerUp {
                    peer: self.key,
                    negotiated: Box::new(negotiated),
                    local_address: local,
                    out,
                    control: self.self_tx.clone(),
                });
            }
            Output::SessionDown(reason) => {
                let text = views::describe_down(&reason);
                // RFC 4724 §4.2: keep the routes as stale when the session ends without a
                // NOTIFICATION; RFC 8538 §4 widens this to NOTIFICATIONs other than Hard Reset
                // when both sides announced the N bit (bgp-core decides).
                let graceful =
                    self.negotiated.take().is_some_and(|n| n.retains_routes_after(&reason));
                info!(neighbor = %self.label, reason = %text, graceful, "session down");
                {
                    let mut st = self.status.lock();
                    st.established_at = None;
                    st.negotiated = None;
                    if st.last_error.is_none() || !text.is_empty() {
                        st.last_error = Some(text);
                    }
                }
                self.tell_rib_down(graceful);
                self.rx_ctx = WireContext::default();
                self.tx_ctx = WireContext::default();
            }
            Output::StateChanged { from, to, event } => {
                let reason = match to {
                    State::Idle | State::Active => {
                        self.status.lock().last_error.clone().unwrap_or_default()
                    }
                    _ => String::new(),
                };
                info!(neighbor = %self.label, %from, %to, event, reason = %reason, "session state");
                self.metrics
                    .session_transitions
                    .with_label_values(&[&self.label, &to.to_string()])
                    .inc();
                self.publish_state();
            }
        }
    }

    fn tell_rib_down(&mut self, graceful: bool) {
        if self.rib_up {
            self.rib_up = false;
            self.feed_rib(RibInput::PeerDown { peer: self.key, graceful });
        }
    }

    fn publish_state(&self) {
        let state = self.fsm.state();
        {
            let mut st = self.status.lock();
            st.state = state;
            st.since = std::time::Instant::now();
        }
        let n = [self.label.as_str()];
        self.metrics.neighbor_state.with_label_values(&n).set(views::state_number(state));
        self.metrics.neighbor_up.with_label_values(&n).set(i64::from(state == State::Established));
    }

    fn send(&mut self, msg: &Message) {
        let Some(conn) = &self.conn else { return };
        let mut out = BytesMut::new();
        if let Err(e) = encode_message(msg, &self.tx_ctx, &mut out) {
            warn!(neighbor = %self.label, error = %e, "cannot encode message");
            return;
        }
        self.count(msg, Direction::Sent);
        conn.writer.send(out.freeze());
    }

    /// Message counters, and a log line plus `last_error` for a NOTIFICATION.
    fn count(&self, msg: &Message, direction: Direction) {
        let (messages, notifications, word) = match direction {
            Direction::Received => {
                (&self.metrics.messages_received, &self.metrics.notifications_received, "received")
            }
            Direction::Sent => {
                (&self.metrics.messages_sent, &self.metrics.notifications_sent, "sent")
            }
        };
        messages.with_label_values(&[&self.label, message_kind(msg)]).inc();
        {
            let mut st = self.status.lock();
            match direction {
                Direction::Received => st.messages_in += 1,
                Direction::Sent => st.messages_out += 1,
            }
        }
        if let Message::Notification(n) = msg {
            notifications
                .with_label_values(&[&self.label, &n.code.to_string(), &n.subcode.to_string()])
                .inc();
            let text = views::describe_notification(n);
            warn!(neighbor = %self.label, notification = %text, "NOTIFICATION {word}");
            self.status.lock().last_error = Some(format!("{word} {text}"));
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Send Cease (`subcode`) on a connection we do not want, then close it.
pub fn refuse_connection(stream: TcpStream, subcode: u8) {
    refuse_with(stream, Notification::new(codes::CEASE, subcode));
}

/// Send `notification` on a connection we do not want, then close it.
pub fn refuse_with(stream: TcpStream, notification: Notification) {
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let mut stream = stream;
        let mut out = BytesMut::new();
        let msg = Message::Notification(notification);
        if encode_message(&msg, &WireContext::default(), &mut out).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(&out)).await;
        }
        let _ = stream.shutdown().await;
    });
}

pub fn message_kind(msg: &Message) -> &'static str {
    match msg {
        Message::Open(_) => "open",
        Message::Update(_) => "update",
        Message::Notification(_) => "notification",
        Message::Keepalive => "keepalive",
        Message::RouteRefresh(_) => "route_refresh",
    }
}
