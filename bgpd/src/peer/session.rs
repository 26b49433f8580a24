//! One task per configured neighbour: runs the sans-IO FSM (bgp_core::fsm) over TCP.
//!
//! The task owns the FSM, its timers and at most one connection. It feeds the FSM the RFC 4271
//! §8.1 events (commands, timer expiries, connection results, decoded messages) and carries
//! out what the FSM asks (dial, send, close, start/stop timers). Decoded UPDATEs go to the RIB
//! owner task; the RIB's UPDATEs for this peer go straight to the connection's writer.
use std::sync::Arc;
use std::time::Duration;

use bgp_core::fsm::{Event, Fsm, FsmConfig, Output, State, TimerKind};
use bgp_core::wire::message::{decode_message, encode_message};
use bgp_core::wire::notification::codes;
use bgp_core::wire::{Message, Notification, Open, WireContext};
use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::connection::{canonical_ip, read_first_open, read_or_pend, Connection};
use super::socket::{self, SocketOptions};
use super::status::SharedStatus;
use super::timers::Timers;
use super::{views, PeerCommand};
use crate::config::NeighborConfig;
use crate::metrics::Metrics;
use crate::routing::input::{PeerKey, RibInput};

/// How long a second connection may take to send its OPEN during collision detection.
const COLLISION_OPEN_WAIT: Duration = Duration::from_secs(10);

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

enum Internal {
    Dialed(u64, std::io::Result<TcpStream>),
    CollisionOpen(TcpStream, Result<(Open, BytesMut), String>),
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
    dial_gen: u64,
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal_rx: mpsc::UnboundedReceiver<Internal>,
    commands: mpsc::UnboundedReceiver<PeerCommand>,
    self_tx: mpsc::UnboundedSender<PeerCommand>,
    rib: mpsc::Sender<RibInput>,
    status: SharedStatus,
    metrics: Arc<Metrics>,
    /// The RIB was told PeerUp and not yet PeerDown.
    rib_up: bool,
    /// GR was negotiated on the current Established session (RFC 4724 §4.2 decides on it).
    graceful_negotiated: bool,
    /// Both sides announced the RFC 8538 N bit.
    notification_gr: bool,
    /// Set while feeding an event whose `Connect` output must not dial (an accepted
    /// connection is about to be handed to the FSM).
    suppress_dial: bool,
    exiting: bool,
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
            dial_gen: 0,
            internal_tx,
            internal_rx,
            commands,
            self_tx,
            rib,
            status,
            metrics,
            rib_up: false,
            graceful_negotiated: false,
            notification_gr: false,
            suppress_dial: false,
            exiting: false,
        }
    }

    pub async fn run(mut self) {
        self.publish_state();
        if !self.params.neighbor.shutdown {
            self.start().await;
        }
        loop {
            let next_timer = self.timers.next();
            tokio::select! {
                biased;
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => self.exit(false).await,
                },
                Some(internal) = self.internal_rx.recv() => self.internal(internal).await,
                read = read_or_pend(&mut self.conn) => self.on_read(read).await,
                _ = sleep_until(next_timer.map(|(d, _)| d)), if next_timer.is_some() => {
                    if let Some(kind) = self.timers.take_expired(Instant::now()) {
                        self.note_unanswered_dial(kind);
                        self.feed(Event::timer_expired(kind)).await;
                    }
                }
            }
            if self.exiting {
                return;
            }
        }
    }

    async fn start(&mut self) {
        self.status.lock().admin_down = false;
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
                self.feed(Event::ManualStop { cease_subcode: subcode, message }).await;
                self.timers.stop_all();
            }
            PeerCommand::Reset { subcode, message } => {
                self.feed(Event::ManualStop { cease_subcode: subcode, message }).await;
                self.timers.stop_all();
                self.start().await;
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
        if graceful && self.graceful_negotiated && self.fsm.state() == State::Established {
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
        self.tell_rib_down(graceful).await;
        self.exiting = true;
    }

    async fn internal(&mut self, internal: Internal) {
        match internal {
            Internal::Dialed(gen, result) => {
                if gen != self.dial_gen || self.fsm.state() != State::Connect || self.conn.is_some()
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
            Internal::CollisionOpen(stream, result) => self.resolve_collision(stream, result).await,
        }
    }

    fn attach(&mut self, stream: TcpStream, outgoing: bool, buf: BytesMut) -> std::io::Result<()> {
        let rib = self.rib.clone();
        let key = self.key;
        let on_drained = Box::new(move || {
            let _ = rib.try_send(RibInput::Writable { peer: key });
        });
        self.conn = Some(Connection::new(stream, outgoing, buf, on_drained)?);
        Ok(())
    }

    /// An accepted connection from this neighbour (the listener matched its source).
    async fn incoming(&mut self, stream: TcpStream) {
        if let Err(why) = socket::check_gtsm(&stream, &self.params.socket) {
            // RFC 5082: discarded silently.
            warn!(neighbor = %self.label, reason = %why, "connection dropped by GTSM");
            self.metrics.connections_refused.inc();
            return;
        }
        let _ = socket::apply_to_accepted(&stream, self.key, &self.params.socket);
        let state = self.fsm.state();
        let admin_down = self.status.lock().admin_down;
        match state {
            _ if admin_down => self.refuse(stream, codes::CEASE_CONNECTION_REJECTED),
            // The idle-hold back-off damps our own dialling; a peer that comes back (e.g. after
            // its restart, RFC 4724) is accepted at once, as BIRD and FRR do.
            State::Idle | State::Active => self.adopt_incoming(stream).await,
            // Connect: our own dial is in flight and the peer is dialling us too. If both
            // sides dropped their dial for the other's connection, both connections would
            // close. Both sides can order their two addresses, so: the side with the lower
            // address takes the peer's connection at once and abandons its dial; the other
            // keeps dialling and treats this connection as a collision to resolve on its
            // OPEN (RFC 4271 §6.8, by BGP Identifier).
            State::Connect if lower_address(&stream) => self.adopt_incoming(stream).await,
            State::Connect | State::OpenSent | State::OpenConfirm | State::Established => {
                // RFC 4271 §6.8: learn the BGP Identifier of the new connection from its OPEN,
                // then decide which connection survives.
                let tx = self.internal_tx.clone();
                tokio::spawn(async move {
                    let mut stream = stream;
                    let result = read_first_open(&mut stream, COLLISION_OPEN_WAIT).await;
                    let _ = tx.send(Internal::CollisionOpen(stream, result));
                });
            }
        }
    }

    /// Make an accepted connection the session's connection (Idle, Active, or Connect with
    /// our dial abandoned).
    async fn adopt_incoming(&mut self, stream: TcpStream) {
        if self.fsm.state() == State::Idle {
            if self.timers.is_running(TimerKind::IdleHold) {
                // End the back-off now: the FSM restarts (RFC 4271 Event 13). The dial it
                // asks for is not made: this connection is the session.
                self.timers.stop(TimerKind::IdleHold);
                self.suppress_dial = true;
                self.feed(Event::IdleHoldTimerExpires).await;
                self.suppress_dial = false;
            } else {
                self.feed(Event::AutomaticStartWithPassiveTcpEstablishment).await;
            }
        }
        self.dial_gen += 1; // Forget any dial in flight.
        self.conn = None;
        match self.attach(stream, false, BytesMut::new()) {
            Ok(()) => self.feed(Event::TcpConnectionConfirmed).await,
            Err(e) => warn!(neighbor = %self.label, error = %e, "accepted connection unusable"),
        }
    }

    /// RFC 4271 §6.8 Connection collision detection.
    async fn resolve_collision(
        &mut self,
        stream: TcpStream,
        result: Result<(Open, BytesMut), String>,
    ) {
        let (open, rest) = match result {
            Ok(x) => x,
            Err(e) => {
                debug!(neighbor = %self.label, reason = %e, "second connection dropped");
                return;
            }
        };
        let state = self.fsm.state();
        let local_id = u32::from(self.params.fsm.router_id);
        let remote_id = u32::from(open.bgp_id);
        let take_new = match state {
            // RFC 4724 §4.2 (paraphrased): a peer that restarted may reconnect before we have
            // noticed that its old connection died; its OPEN then carries the Restart State
            // bit, and the old session is treated as terminated. Otherwise the existing
            // Established session wins (RFC 4271 §6.8).
            State::Established => open_restarted(&open),
            // "If the value of the local BGP Identifier is less than the remote one, the local
            // system closes the BGP connection that already exists ... and accepts the BGP
            // connection initiated by the remote system."
            State::OpenSent | State::OpenConfirm => {
                let existing_outgoing = self.conn.as_ref().is_some_and(|c| c.outgoing);
                !existing_outgoing || local_id < remote_id
            }
            // The old connection went away meanwhile: the new one is all there is.
            State::Idle | State::Connect | State::Active => true,
        };
        if !take_new {
            info!(neighbor = %self.label, "connection collision: keeping the existing connection");
            self.refuse(stream, codes::CEASE_CONNECTION_COLLISION);
            return;
        }
        info!(neighbor = %self.label, state = %state, "connection collision: taking the new connection");
        match state {
            State::Established => {
                self.feed(Event::OpenCollisionDump).await;
            }
            State::OpenSent | State::OpenConfirm => self.feed(Event::OpenCollisionDump).await,
            _ => {}
        }
        // Start over on the new connection with a fresh FSM (the old one is Idle now).
        self.timers.stop_all();
        self.conn = None;
        self.dial_gen += 1;
        self.fsm = Fsm::new(self.params.fsm.clone());
        self.feed(Event::AutomaticStartWithPassiveTcpEstablishment).await;
        let _ = socket::apply_to_accepted(&stream, self.key, &self.params.socket);
        if let Err(e) = self.attach(stream, false, rest) {
            warn!(neighbor = %self.label, error = %e, "accepted connection unusable");
            return;
        }
        self.feed(Event::TcpConnectionConfirmed).await;
        self.feed(Event::BgpOpen(open)).await;
        // Messages that arrived right behind the OPEN.
        self.drain_frames().await;
    }

    fn refuse(&self, stream: TcpStream, subcode: u8) {
        self.metrics.connections_refused.inc();
        refuse_connection(stream, subcode);
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
    async fn drain_frames(&mut self) {
        loop {
            let Some(conn) = self.conn.as_mut() else { return };
            let frame = match bgp_core::wire::codec::split_frame(&mut conn.buf, &self.rx_ctx) {
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
                let _ = self
                    .rib
                    .send(RibInput::Update { peer: self.key, update: Box::new(update) })
                    .await;
            }
            Message::RouteRefresh(request) => {
                let _ = self.rib.send(RibInput::RouteRefresh { peer: self.key, request }).await;
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
            Output::Connect if self.suppress_dial => {}
            Output::Connect => self.dial(),
            Output::CloseConnection => {
                if let Some(conn) = self.conn.take() {
                    conn.writer.close();
                }
                self.dial_gen += 1;
            }
            Output::Send(msg) => self.send(&msg),
            Output::StartTimer(kind, after) => self.timers.start(kind, after),
            Output::StopTimer(kind) => self.timers.stop(kind),
            Output::Established(negotiated) => {
                self.rx_ctx = negotiated.rx.clone();
                self.tx_ctx = negotiated.tx.clone();
                self.graceful_negotiated =
                    negotiated.peer_graceful_restart.is_some() && negotiated.local_graceful_restart;
                self.notification_gr = self.graceful_negotiated
                    && negotiated.peer_graceful_restart.as_ref().is_some_and(|g| g.notification)
                    && self
                        .params
                        .fsm
                        .capabilities
                        .graceful_restart
                        .as_ref()
                        .is_some_and(|g| g.notification);
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
                let _ = self
                    .rib
                    .send(RibInput::PeerUp {
                        peer: self.key,
                        negotiated: Box::new(negotiated),
                        local_address: local,
                        out,
                        control: self.self_tx.clone(),
                    })
                    .await;
            }
            Output::SessionDown(reason) => {
                let text = views::describe_down(&reason);
                // RFC 4724 §4.2: keep the routes as stale when the session ends without a
                // NOTIFICATION; RFC 8538 §4 widens this to NOTIFICATIONs other than Hard Reset
                // when both sides announced the N bit.
                let graceful = self.graceful_negotiated
                    && (reason.allows_graceful_restart()
                        || (self.notification_gr && reason.allows_notification_graceful_restart()));
                info!(neighbor = %self.label, reason = %text, graceful, "session down");
                {
                    let mut st = self.status.lock();
                    st.established_at = None;
                    st.negotiated = None;
                    if st.last_error.is_none() || !text.is_empty() {
                        st.last_error = Some(text);
                    }
                }
                self.tell_rib_down(graceful).await;
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
            #[allow(unreachable_patterns)]
            other => debug!(neighbor = %self.label, output = ?other, "FSM output ignored"),
        }
    }

    async fn tell_rib_down(&mut self, graceful: bool) {
        if self.rib_up {
            self.rib_up = false;
            let _ = self.rib.send(RibInput::PeerDown { peer: self.key, graceful }).await;
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

    /// RFC 4271 §8.2.2 (Connect state): when the ConnectRetryTimer expires the FSM drops
    /// the dial in flight and starts another. The dropped dial never reports, so say here
    /// why the session is not up (a peer that silently drops our SYN, e.g. a TCP MD5 key
    /// mismatch, would otherwise show no error at all).
    fn note_unanswered_dial(&mut self, kind: TimerKind) {
        if kind != TimerKind::ConnectRetry
            || self.fsm.state() != State::Connect
            || self.conn.is_some()
        {
            return;
        }
        let secs = self.params.fsm.connect_retry.as_secs();
        let text = format!("connect: timed out (no answer within {secs} s)");
        info!(neighbor = %self.label, reason = %text, "dial abandoned, retrying");
        self.status.lock().last_error = Some(text);
    }

    fn dial(&mut self) {
        self.dial_gen += 1;
        let gen = self.dial_gen;
        let remote = self.params.neighbor.remote();
        let opts = self.params.socket.clone();
        let tx = self.internal_tx.clone();
        // The ConnectRetryTimer bounds a dial (see `note_unanswered_dial`); this limit only
        // backs it up, so it is longer and the two never race.
        let limit = self.params.fsm.connect_retry.max(Duration::from_secs(1)) * 2;
        let delay = std::mem::take(&mut self.params.first_dial_delay);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let result = match tokio::time::timeout(limit, socket::connect(remote, &opts)).await {
                Ok(r) => r,
                Err(_) => {
                    Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))
                }
            };
            let _ = tx.send(Internal::Dialed(gen, result));
        });
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The OPEN announces Graceful Restart with the Restart State bit: the peer has restarted
/// (RFC 4724 §4.1), so a session we still think Established is gone (§4.2). Without it, a
/// second connection is a simultaneous-open straggler and the Established one wins (RFC 4271
/// §6.8).
fn open_restarted(open: &Open) -> bool {
    open.capabilities()
        .any(|c| matches!(c, bgp_core::wire::Capability::GracefulRestart(g) if g.restart_state))
}

/// Our end of `stream` has the lower address of the two (the simultaneous-open tie-break).
fn lower_address(stream: &TcpStream) -> bool {
    match (stream.local_addr(), stream.peer_addr()) {
        (Ok(local), Ok(remote)) => canonical_ip(local.ip()) < canonical_ip(remote.ip()),
        _ => true,
    }
}

/// Send Cease (`subcode`) on a connection we do not want, then close it.
pub fn refuse_connection(stream: TcpStream, subcode: u8) {
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let mut stream = stream;
        let mut out = BytesMut::new();
        let msg = Message::Notification(Notification::new(codes::CEASE, subcode));
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
