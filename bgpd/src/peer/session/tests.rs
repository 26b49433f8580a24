//! A session task driven over loopback TCP with tokio's paused clock; the test plays the
//! peer (raw BGP messages) and the RIB (the other end of the session's RIB queue).
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bgp_core::wire::capability::Capability;
use bgp_core::wire::message::decode_message;
use bgp_core::wire::split_frame;
use bgp_core::wire::{
    Family, GracefulRestartCap, Message, Notification, Open, RouteRefresh, Update, WireContext,
};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::Session;
use crate::messages::{PeerCommand, RibInput};
use crate::metrics::Metrics;
use crate::peer::params;
use crate::peer::status::SharedStatus;
use bgp_core::fsm::State;

const PEER_AS: u32 = 65002;
const PEER_ID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// One session task for neighbour 127.0.0.1 (passive, hold time 9 s), its RIB queue of
/// `rib_depth` inputs, and a listener the test's "peer" connects through.
struct Harness {
    commands: mpsc::UnboundedSender<PeerCommand>,
    status: SharedStatus,
    metrics: Arc<Metrics>,
    rib: mpsc::Receiver<RibInput>,
    listener: TcpListener,
    addr: SocketAddr,
}

fn neighbor_yaml(graceful_restart: bool) -> String {
    format!(
        "router_id: 10.0.0.1\nlocal_as: 65001\nhttp_listen: null\nkernel: {{enabled: false}}\n\
         graceful_restart: {{enabled: {graceful_restart}}}\nneighbors:\n  - address: 127.0.0.1\n    \
         remote_as: {PEER_AS}\n    passive: true\n    hold_time: 9\n    import: all\n    export: all\n"
    )
}

impl Harness {
    async fn new(graceful_restart: bool, rib_depth: usize) -> Harness {
        Harness::from_yaml(&neighbor_yaml(graceful_restart), rib_depth, Duration::ZERO).await
    }

    /// An active session (it dials 127.0.0.1:`port` after `first_dial_delay`).
    async fn active(port: u16, first_dial_delay: Duration) -> Harness {
        let yaml = neighbor_yaml(false)
            .replace("passive: true", &format!("passive: false\n    port: {port}"));
        Harness::from_yaml(&yaml, 16, first_dial_delay).await
    }

    async fn from_yaml(yaml: &str, rib_depth: usize, first_dial_delay: Duration) -> Harness {
        let config = crate::config::parse(yaml, "test").unwrap_or_else(|e| panic!("config: {e}"));
        let neighbor = config.neighbors[0].clone();
        let mut params = params::session_params(&config, &neighbor, false);
        params.first_dial_delay = first_dial_delay;
        let (tx, rx) = mpsc::unbounded_channel();
        let (rib_tx, rib) = mpsc::channel(rib_depth);
        let status = SharedStatus::new(false);
        let metrics = Arc::new(Metrics::new());
        let session = Session::new(params, rx, tx.clone(), rib_tx, status.clone(), metrics.clone());
        tokio::spawn(session.run());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        Harness { commands: tx, status, metrics, rib, listener, addr }
    }

    /// A new connection from the peer, handed to the session as the listener would.
    async fn connect(&self) -> Peer {
        let client = TcpStream::connect(self.addr).await.expect("connect");
        let (server, _) = self.listener.accept().await.expect("accept");
        self.commands.send(PeerCommand::Incoming(server)).expect("session alive");
        Peer::new(client)
    }

    fn state(&self) -> State {
        self.status.lock().state
    }

    async fn next_rib_input(&mut self) -> RibInput {
        tokio::time::timeout(Duration::from_secs(30), self.rib.recv())
            .await
            .expect("a RIB input in time")
            .expect("session alive")
    }

    /// A new connection that completes the OPEN exchange; the RIB's PeerUp is consumed.
    async fn establish(&mut self, caps: Vec<Capability>) -> Peer {
        let mut peer = self.connect().await;
        assert!(matches!(peer.recv().await, Some(Message::Open(_))));
        peer.send(&Message::Open(Open::new(PEER_AS, 9, PEER_ID, caps))).await;
        peer.send(&Message::Keepalive).await;
        assert_eq!(peer.recv().await, Some(Message::Keepalive));
        assert!(matches!(self.next_rib_input().await, RibInput::PeerUp { .. }));
        assert_eq!(self.state(), State::Established);
        peer
    }

    fn refused(&self, reason: &str) -> u64 {
        self.metrics.incoming_refused.with_label_values(&["127.0.0.1", reason]).get()
    }
}

fn caps(graceful: Option<GracefulRestartCap>) -> Vec<Capability> {
    let mut caps = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(PEER_AS),
    ];
    caps.extend(graceful.map(Capability::GracefulRestart));
    caps
}

fn gr(restart_state: bool, notification: bool) -> Option<GracefulRestartCap> {
    Some(GracefulRestartCap {
        restart_state,
        notification,
        restart_time: 120,
        families: vec![(Family::IPV4_UNICAST, false)],
    })
}

/// The read side of the test's end of one connection.
struct Inbox {
    reader: OwnedReadHalf,
    buf: BytesMut,
}

impl Inbox {
    /// The next message from the session; `None` once it closed the connection.
    async fn next(&mut self) -> Option<Message> {
        loop {
            if let Ok(Some(frame)) = split_frame(&mut self.buf, &WireContext::modern()) {
                return decode_message(frame, &WireContext::modern()).ok();
            }
            match self.reader.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }
}

/// The test's end of one connection.
struct Peer {
    inbox: Inbox,
    writer: OwnedWriteHalf,
}

impl Peer {
    fn new(stream: TcpStream) -> Peer {
        let (reader, writer) = stream.into_split();
        Peer { inbox: Inbox { reader, buf: BytesMut::new() }, writer }
    }

    async fn send(&mut self, msg: &Message) {
        let wire = msg.to_bytes(&WireContext::modern()).expect("encode");
        self.writer.write_all(&wire).await.expect("write");
    }

    /// The next message from the session (within 30 s); `None` once it closed the
    /// connection.
    async fn recv(&mut self) -> Option<Message> {
        tokio::time::timeout(Duration::from_secs(30), self.inbox.next())
            .await
            .expect("the session answers in time")
    }

    /// The next NOTIFICATION (skipping KEEPALIVEs), or `None` if the connection closed.
    async fn notification(&mut self) -> Option<Notification> {
        loop {
            if let Message::Notification(n) = self.recv().await? {
                return Some(n);
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_rib_queue_does_not_stop_keepalives_or_expire_the_hold_timer() {
    // Room for PeerUp only: the first UPDATE finds the RIB's queue full.
    let mut h = Harness::new(false, 1).await;
    let mut peer = h.connect().await;
    assert!(matches!(peer.recv().await, Some(Message::Open(_))));
    peer.send(&Message::Open(Open::new(PEER_AS, 9, PEER_ID, caps(None)))).await;
    peer.send(&Message::Keepalive).await;
    assert_eq!(peer.recv().await, Some(Message::Keepalive));
    for _ in 0..3 {
        peer.send(&Message::Update(Update::end_of_rib(Family::IPV4_UNICAST))).await;
    }
    // The peer keeps sending KEEPALIVEs every 3 s (we are the ones not reading them) and
    // collects what the session sends for 60 s, far beyond the 9 s hold time.
    let Peer { mut inbox, mut writer } = peer;
    let keepalive = Message::Keepalive.to_bytes(&WireContext::default()).expect("encode");
    let sender = tokio::spawn(async move {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_secs(3)).await;
            if writer.write_all(&keepalive).await.is_err() {
                break;
            }
        }
        writer
    });
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let collector = tokio::spawn(async move {
        while let Some(msg) = inbox.next().await {
            let _ = seen_tx.send(msg);
        }
    });
    tokio::time::sleep(Duration::from_secs(60)).await;
    let mut keepalives = 0;
    while let Ok(msg) = seen.try_recv() {
        assert_eq!(msg, Message::Keepalive, "nothing but KEEPALIVEs: no Hold Timer Expired");
        keepalives += 1;
    }
    assert!(keepalives >= 18, "a KEEPALIVE every 3 s while blocked, got {keepalives}");
    assert_eq!(h.state(), State::Established);
    assert_eq!(h.metrics.rib_queue_waits.with_label_values(&["127.0.0.1"]).get(), 1);
    // The RIB catches up: everything arrives in order and the session stays up.
    assert!(matches!(h.next_rib_input().await, RibInput::PeerUp { .. }));
    for _ in 0..3 {
        assert!(matches!(h.next_rib_input().await, RibInput::Update { .. }));
    }
    assert_eq!(h.state(), State::Established);
    let _ = sender.await;
    collector.abort();
}

#[tokio::test(start_paused = true)]
async fn route_refresh_for_a_family_not_negotiated_is_ignored_and_counted() {
    let mut h = Harness::new(false, 16).await;
    // The peer announces IPv4 unicast only.
    let mut peer = h.establish(caps(None)).await;
    peer.send(&Message::RouteRefresh(RouteRefresh::new(Family::IPV6_UNICAST))).await;
    peer.send(&Message::RouteRefresh(RouteRefresh::new(Family::IPV4_UNICAST))).await;
    match h.next_rib_input().await {
        RibInput::RouteRefresh { request, .. } => assert_eq!(request.family, Family::IPV4_UNICAST),
        other => panic!("expected the IPv4 refresh only, got {other:?}"),
    }
    let ignored = h
        .metrics
        .route_refresh_ignored
        .with_label_values(&["127.0.0.1", "family_not_negotiated"])
        .get();
    assert_eq!(ignored, 1);
    assert_eq!(h.state(), State::Established);
}

#[tokio::test(start_paused = true)]
async fn admin_shutdown_is_sent_as_hard_reset_when_both_announced_the_n_bit() {
    let mut h = Harness::new(true, 16).await;
    let mut peer = h.establish(caps(gr(false, true))).await;
    h.commands
        .send(PeerCommand::Stop { subcode: 2, message: "maintenance".to_string() })
        .expect("session alive");
    let n = peer.notification().await.expect("a NOTIFICATION");
    assert_eq!((n.code, n.subcode), (6, 9), "RFC 8538 Hard Reset");
    let inner = n.encapsulated().expect("the Cease is encapsulated");
    assert_eq!((inner.code, inner.subcode), (6, 2));
    assert_eq!(n.shutdown_message(), Some("maintenance"));
    match h.next_rib_input().await {
        RibInput::PeerDown { graceful, .. } => assert!(!graceful, "no stale routes kept"),
        other => panic!("expected PeerDown, got {other:?}"),
    }
    // Without the peer's N bit: a plain Cease.
    let mut h = Harness::new(true, 16).await;
    let mut peer = h.establish(caps(gr(false, false))).await;
    h.commands.send(PeerCommand::Stop { subcode: 2, message: String::new() }).expect("alive");
    let n = peer.notification().await.expect("a NOTIFICATION");
    assert_eq!((n.code, n.subcode), (6, 2));
}

#[tokio::test(start_paused = true)]
async fn received_hard_reset_flushes_and_other_notifications_keep_routes_with_the_n_bit() {
    let mut h = Harness::new(true, 16).await;
    for (sent, keeps) in [
        (Notification::new(6, 4), true),
        (Notification::hard_reset(&Notification::new(6, 2)), false),
    ] {
        let mut peer = h.establish(caps(gr(false, true))).await;
        peer.send(&Message::Notification(sent.clone())).await;
        match h.next_rib_input().await {
            RibInput::PeerDown { graceful, .. } => assert_eq!(graceful, keeps, "{sent}"),
            other => panic!("expected PeerDown, got {other:?}"),
        }
        // Back in Idle with the back-off running; the peer's next connection ends it.
    }
}

#[tokio::test(start_paused = true)]
async fn a_restarting_peer_replaces_the_session_only_with_a_valid_open() {
    let mut h = Harness::new(true, 16).await;
    let mut old = h.establish(caps(gr(false, true))).await;
    // A second connection claiming a restart, from the wrong AS: refused on that connection
    // only, the Established session stays.
    let mut bad = h.connect().await;
    let mut bad_caps = caps(gr(true, true));
    bad_caps.retain(|c| !matches!(c, Capability::FourOctetAs(_)));
    bad_caps.push(Capability::FourOctetAs(64999));
    bad.send(&Message::Open(Open::new(64999, 9, PEER_ID, bad_caps))).await;
    let n = bad.notification().await.expect("a NOTIFICATION on the new connection");
    assert_eq!((n.code, n.subcode), (2, 2), "Bad Peer AS");
    assert_eq!(bad.recv().await, None, "then closed");
    assert_eq!(h.state(), State::Established);
    assert_eq!(h.refused("invalid_open"), 1);
    old.send(&Message::Keepalive).await;
    // A valid OPEN with the Restart State bit: RFC 4724 §4.2, the old session goes (its
    // routes kept as stale) and the new connection becomes the session.
    let mut new = h.connect().await;
    new.send(&Message::Open(Open::new(PEER_AS, 9, PEER_ID, caps(gr(true, true))))).await;
    let n = old.notification().await.expect("the old connection is closed with a Cease");
    assert_eq!((n.code, n.subcode), (6, 7));
    match h.next_rib_input().await {
        RibInput::PeerDown { graceful, .. } => assert!(graceful, "stale routes kept"),
        other => panic!("expected PeerDown, got {other:?}"),
    }
    assert!(matches!(new.recv().await, Some(Message::Open(_))));
    assert_eq!(new.recv().await, Some(Message::Keepalive));
    new.send(&Message::Keepalive).await;
    assert!(matches!(h.next_rib_input().await, RibInput::PeerUp { .. }));
    assert_eq!(h.state(), State::Established);
}

#[tokio::test(start_paused = true)]
async fn at_most_one_connection_waits_for_its_open() {
    let mut h = Harness::new(true, 16).await;
    let _session = h.establish(caps(gr(false, true))).await;
    // Two connections that never send an OPEN: the second replaces the first.
    let mut first = h.connect().await;
    let _second = h.connect().await;
    assert_eq!(first.recv().await, None, "the first is closed at once");
    assert_eq!(h.refused("collision_replaced"), 1);
    assert_eq!(h.state(), State::Established);
}

#[tokio::test(start_paused = true)]
async fn incoming_connections_honour_the_back_off_after_repeated_failures() {
    let mut h = Harness::new(false, 16).await;
    // Three sessions that fail (the peer drops the connection once Established): the first
    // two reconnections end the back-off at once.
    for _ in 0..3 {
        let peer = h.establish(caps(None)).await;
        drop(peer);
        assert!(matches!(h.next_rib_input().await, RibInput::PeerDown { .. }));
    }
    // The fourth attempt comes during the back-off after three errors: refused.
    let mut peer = h.connect().await;
    let n = peer.notification().await.expect("a NOTIFICATION");
    assert_eq!((n.code, n.subcode), (6, 5), "Cease / Connection Rejected");
    assert_eq!(h.refused("back_off"), 1);
    assert_eq!(h.state(), State::Idle);
    // After the idle-hold time (5 s doubling: 20 s now) the peer is welcome again.
    tokio::time::sleep(Duration::from_secs(21)).await;
    let _peer = h.establish(caps(None)).await;
}

#[tokio::test(start_paused = true)]
async fn the_writers_drain_notice_is_not_lost_to_a_full_rib_queue() {
    let mut h = Harness::new(false, 1).await;
    let mut peer = h.connect().await;
    assert!(matches!(peer.recv().await, Some(Message::Open(_))));
    peer.send(&Message::Open(Open::new(PEER_AS, 9, PEER_ID, caps(None)))).await;
    peer.send(&Message::Keepalive).await;
    assert_eq!(peer.recv().await, Some(Message::Keepalive));
    let RibInput::PeerUp { out, .. } = h.next_rib_input().await else {
        panic!("expected PeerUp");
    };
    // The RIB fills the writer's queue while the peer reads nothing ...
    let chunk = bytes::Bytes::from(vec![0u8; 64 * 1024]);
    let mut queued = 0;
    while out.try_send(chunk.clone()).is_ok() {
        queued += 1;
        assert!(queued < 10_000, "the writer's queue never fills");
        tokio::task::yield_now().await;
    }
    // ... and its own input queue is full too (an UPDATE from the peer waits in it).
    peer.send(&Message::Update(Update::end_of_rib(Family::IPV4_UNICAST))).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The peer reads everything: the writer drains and says so while the RIB queue is full.
    let mut sink = vec![0u8; 1 << 20];
    let drained = tokio::spawn(async move {
        while let Ok(n) = peer.inbox.reader.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(matches!(h.next_rib_input().await, RibInput::Update { .. }));
    match h.next_rib_input().await {
        RibInput::Writable { peer } => assert_eq!(peer, IpAddr::from([127, 0, 0, 1])),
        other => panic!("expected the drain notice, got {other:?}"),
    }
    drained.abort();
}

/// RFC 4271 §6.2: a malformed OPEN on a connection held aside during collision detection
/// gets its NOTIFICATION on that connection (not just a closed socket); the session stays.
#[tokio::test(start_paused = true)]
async fn a_malformed_open_on_a_held_connection_gets_its_notification() {
    let mut h = Harness::new(true, 16).await;
    let mut old = h.establish(caps(gr(false, true))).await;
    let mut bad = h.connect().await;
    // An OPEN with version 3: marker, length 29, type 1, version 3, AS, hold 9, id, no
    // optional parameters.
    let mut wire = vec![0xff; 16];
    wire.extend_from_slice(&[0, 29, 1, 3, 0xfe, 0x02, 0, 9, 10, 0, 0, 2, 0]);
    bad.writer.write_all(&wire).await.expect("write");
    let n = bad.notification().await.expect("a NOTIFICATION on the new connection");
    assert_eq!((n.code, n.subcode), (2, 1), "Unsupported Version Number");
    assert_eq!(&n.data[..], &[0, 4], "the largest version we support");
    assert_eq!(bad.recv().await, None, "then closed");
    assert_eq!(h.refused("invalid_open"), 1);
    // A KEEPALIVE instead of an OPEN: RFC 6608 FSM Error / unexpected in OpenSent.
    let mut early = h.connect().await;
    early.send(&Message::Keepalive).await;
    let n = early.notification().await.expect("a NOTIFICATION");
    assert_eq!((n.code, n.subcode), (5, 1));
    assert_eq!(h.refused("invalid_open"), 2);
    // The Established session was left alone.
    assert_eq!(h.state(), State::Established);
    old.send(&Message::Keepalive).await;
    assert_eq!(h.state(), State::Established);
}

/// A stand-in for the neighbour's port 179 that counts the connections it accepts.
async fn counting_listener() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            kept.push(stream);
        }
    });
    (port, count)
}

/// Let 30 s of paused time pass, plus some real time for loopback connects to land.
async fn wait_for_dials() {
    tokio::time::sleep(Duration::from_secs(30)).await;
    let real = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(100)));
    real.await.expect("sleep");
    tokio::task::yield_now().await;
}

/// RFC 4271 §6.8 "abort the dial in progress": once the session takes the peer's connection
/// (or exits), the dial it had started never reaches the peer.
#[tokio::test(start_paused = true)]
async fn an_abandoned_dial_never_reaches_the_peer() {
    use std::sync::atomic::Ordering;
    // Control: left alone, the dial arrives once its 5 s delay is over.
    let (port, dials) = counting_listener().await;
    let _h = Harness::active(port, Duration::from_secs(5)).await;
    wait_for_dials().await;
    assert_eq!(dials.load(Ordering::SeqCst), 1, "the dial itself works");
    // The peer's connection arrives first and is adopted: the dial is aborted.
    let (port, dials) = counting_listener().await;
    let h = Harness::active(port, Duration::from_secs(5)).await;
    let mut peer = h.connect().await;
    assert!(matches!(peer.recv().await, Some(Message::Open(_))));
    wait_for_dials().await;
    assert_eq!(dials.load(Ordering::SeqCst), 0, "no dial after adopting the peer's connection");
    // The session exits while its dial waits: nothing outlives it.
    let (port, dials) = counting_listener().await;
    let h = Harness::active(port, Duration::from_secs(5)).await;
    tokio::task::yield_now().await;
    h.commands.send(PeerCommand::Exit { graceful: false }).expect("session alive");
    wait_for_dials().await;
    assert_eq!(dials.load(Ordering::SeqCst), 0, "no dial after exit");
}

/// An exiting session waits for the RIB to take its PeerDown, but not for ever: a RIB that
/// reads no more (it is shutting down too) lets the session end after 5 s.
#[tokio::test(start_paused = true)]
async fn an_exiting_session_does_not_wait_for_a_stuck_rib_for_ever() {
    let mut h = Harness::new(false, 1).await;
    let mut peer = h.establish(caps(None)).await;
    // Two UPDATEs: the first fills the RIB's queue (nobody reads it), the second waits.
    for _ in 0..2 {
        peer.send(&Message::Update(Update::end_of_rib(Family::IPV4_UNICAST))).await;
    }
    for _ in 0..50 {
        if h.metrics.rib_queue_waits.with_label_values(&["127.0.0.1"]).get() == 1 {
            break;
        }
        let real = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(10)));
        real.await.expect("sleep");
    }
    assert_eq!(h.metrics.rib_queue_waits.with_label_values(&["127.0.0.1"]).get(), 1);
    h.commands.send(PeerCommand::Exit { graceful: false }).expect("session alive");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(!h.commands.is_closed(), "still offering PeerDown to the RIB");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(h.commands.is_closed(), "the session task ended");
}
