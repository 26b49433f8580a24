//! The whole path from a session to the RIB and back, in one process and without
//! namespaces: a real session task (this module's parent) and the real RIB owner task
//! (`routing::spawn`), joined only by the `messages/` channels, with a scripted peer on the
//! other end of a loopback TCP connection (the session takes a `TcpStream`, as from the
//! listener). The RIB is read through its query interface (`messages/rib_query.rs`), as
//! `bgpctl show routes` does. Tokio's clock is paused: the session's timers only run when
//! the test waits.
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use bgp_core::wire::capability::Capability;
use bgp_core::wire::message::decode_message;
use bgp_core::wire::split_frame;
use bgp_core::wire::WireContext;
use bgp_core::wire::{AsPath, Family, Message, Nlri, Open, Origin, PathAttributes, Update};
use bytes::BytesMut;
use ipnet::IpNet;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::Session;
use crate::config::Config;
use crate::health::Health;
use crate::messages::{PeerCommand, Query, RibInput};
use crate::metrics::Metrics;
use crate::peer::params;
use crate::peer::status::SharedStatus;

const LOCAL_AS: u32 = 65001;
const PEER_AS: u32 = 65002;
const PEER_ID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The prefix our configuration originates.
const ORIGINATED: &str = "198.18.100.0/24";
/// The prefix the peer announces, and the next hop it gives it.
const LEARNED: &str = "198.18.200.0/24";
const LEARNED_NEXT_HOP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

fn config() -> Config {
    let yaml = format!(
        "router_id: 10.0.0.1\nlocal_as: {LOCAL_AS}\nhttp_listen: null\nkernel: {{enabled: false}}\n\
         originate: [\"{ORIGINATED}\"]\nneighbors:\n  - address: 127.0.0.1\n    \
         remote_as: {PEER_AS}\n    passive: true\n    hold_time: 9\n    import: all\n    export: all\n"
    );
    crate::config::parse(&yaml, "test").unwrap_or_else(|e| panic!("config: {e}"))
}

/// The RIB owner task and one session for neighbour 127.0.0.1, wired as the daemon's
/// start-up wires them (`daemon/setup.rs`), and a listener for the scripted peer.
struct Daemon {
    rib: mpsc::Sender<RibInput>,
    commands: mpsc::UnboundedSender<PeerCommand>,
    metrics: Arc<Metrics>,
    listener: TcpListener,
}

impl Daemon {
    async fn start() -> Daemon {
        let config = config();
        let metrics = Arc::new(Metrics::new());
        let (rib, _rib_task) =
            crate::routing::spawn(&config, None, None, metrics.clone(), Arc::new(Health::new()));
        let neighbor = config.neighbors[0].clone();
        let send = |input| {
            let rib = rib.clone();
            async move { rib.send(input).await.expect("the RIB task runs") }
        };
        send(RibInput::Originate(config.originate.clone())).await;
        let settings = Box::new(crate::daemon::reload::peer_settings(&neighbor));
        send(RibInput::Configure { peer: neighbor.address, settings }).await;
        send(RibInput::ConfigurationComplete).await;
        let params = params::session_params(&config, &neighbor, false);
        let (commands, rx) = mpsc::unbounded_channel();
        let session = Session::new(
            params,
            rx,
            commands.clone(),
            rib.clone(),
            SharedStatus::new(false),
            metrics.clone(),
        );
        tokio::spawn(session.run());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Daemon { rib, commands, metrics, listener }
    }

    /// A connection from the scripted peer, handed to the session as the listener would.
    async fn accept_peer(&self) -> FakePeer {
        let addr = self.listener.local_addr().expect("listener address");
        let client = TcpStream::connect(addr).await.expect("connect");
        // Without it, a small UPDATE behind one not yet acknowledged waits in our kernel for
        // the session's delayed ACK (Nagle), in real time, which the paused clock never gives.
        client.set_nodelay(true).expect("TCP_NODELAY");
        let (server, _) = self.listener.accept().await.expect("accept");
        self.commands.send(PeerCommand::Incoming(server)).expect("the session runs");
        FakePeer { stream: client, buf: BytesMut::new() }
    }

    /// The RIB's paths for `prefix` (`bgpctl show routes PREFIX`), as JSON objects.
    async fn paths(&self, prefix: &str) -> Vec<Value> {
        let prefix: IpNet = prefix.parse().expect("prefix");
        let query = Query::Routes {
            prefix: Some(prefix),
            received_from: None,
            advertised_to: None,
            explain: false,
        };
        let (reply, answer) = oneshot::channel();
        self.rib.send(RibInput::Query { query, reply }).await.expect("the RIB task runs");
        let answer = answer.await.expect("the RIB answers");
        let routes = answer.as_array().cloned().unwrap_or_default();
        routes
            .iter()
            .filter(|r| r["prefix"] == prefix.to_string())
            .flat_map(|r| r["paths"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Ask the RIB until `done` holds for the paths of `prefix` (the session forwards what
    /// it reads without waiting for the RIB), for at most 2 s of the test's clock.
    async fn paths_until(&self, prefix: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..200 {
            let paths = self.paths(prefix).await;
            if done(&paths) {
                return paths;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.paths(prefix).await
    }
}

/// The scripted peer's end of the connection.
struct FakePeer {
    stream: TcpStream,
    buf: BytesMut,
}

impl FakePeer {
    async fn send(&mut self, msg: &Message) {
        let wire = msg.to_bytes(&WireContext::modern()).expect("encode");
        self.stream.write_all(&wire).await.expect("write");
    }

    /// The next message from the session (within 30 s); `None` once it closed.
    async fn recv(&mut self) -> Option<Message> {
        let next = async {
            loop {
                if let Ok(Some(frame)) = split_frame(&mut self.buf, &WireContext::modern()) {
                    return decode_message(frame, &WireContext::modern()).ok();
                }
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), next).await.expect("the session answers")
    }

    /// The next UPDATE that announces something, skipping KEEPALIVEs and End-of-RIB.
    async fn next_announcement(&mut self) -> Update {
        loop {
            match self.recv().await {
                Some(Message::Update(u)) if !u.nlri.is_empty() => return u,
                Some(Message::Update(_) | Message::Keepalive) => {}
                other => panic!("expected an UPDATE, got {other:?}"),
            }
        }
    }
}

fn learned_nlri() -> Vec<Nlri> {
    vec![Nlri::new(LEARNED.parse().expect("prefix"))]
}

#[tokio::test(start_paused = true)]
async fn an_update_reaches_the_rib_a_withdrawal_removes_it_and_our_prefix_is_announced() {
    let daemon = Daemon::start().await;
    let mut peer = daemon.accept_peer().await;

    // OPEN exchange (we are passive: the session sends its OPEN on the accepted connection).
    let Some(Message::Open(our_open)) = peer.recv().await else { panic!("expected our OPEN") };
    assert_eq!(our_open.asn(), LOCAL_AS);
    let caps = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(PEER_AS),
    ];
    peer.send(&Message::Open(Open::new(PEER_AS, 9, PEER_ID, caps))).await;
    peer.send(&Message::Keepalive).await;
    assert_eq!(peer.recv().await, Some(Message::Keepalive));

    // Established: the RIB exports our originated prefix through the session's writer, with
    // our address on the connection as next hop and our AS prepended (eBGP).
    let ours = peer.next_announcement().await;
    assert_eq!(ours.nlri, vec![Nlri::new(ORIGINATED.parse().expect("prefix"))]);
    assert_eq!(ours.attributes.next_hop, Some(Ipv4Addr::LOCALHOST));
    assert_eq!(ours.attributes.as_path, Some(AsPath::from_sequence(vec![LOCAL_AS])));

    // The peer announces a prefix: the RIB holds it, from the peer, with its next hop.
    assert!(daemon.paths(LEARNED).await.is_empty());
    let announce = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![PEER_AS])),
            next_hop: Some(LEARNED_NEXT_HOP),
            ..Default::default()
        },
        nlri: learned_nlri(),
        ..Default::default()
    };
    peer.send(&Message::Update(announce)).await;
    let paths = daemon.paths_until(LEARNED, |p| !p.is_empty()).await;
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert_eq!(paths[0]["from"], IpAddr::from(Ipv4Addr::LOCALHOST).to_string());
    assert_eq!(paths[0]["next_hop"], LEARNED_NEXT_HOP.to_string());
    assert_eq!(paths[0]["best"], true);

    // The peer withdraws it: the RIB no longer holds it; ours stays.
    let withdraw = Update { withdrawn: learned_nlri(), ..Default::default() };
    peer.send(&Message::Update(withdraw)).await;
    let paths = daemon.paths_until(LEARNED, |p| p.is_empty()).await;
    assert!(paths.is_empty(), "still in the RIB after the withdrawal: {paths:?}");
    let ours = daemon.paths(ORIGINATED).await;
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0]["from"], "local");
    let received = daemon.metrics.updates_received.with_label_values(&["127.0.0.1"]).get();
    assert_eq!(received, 2, "the announcement and the withdrawal");
}
