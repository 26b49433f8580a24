//! `bgpblast`: the load generator and route counter of the lab benchmark
//! (`interop-tests/bench/run.sh`, results in `docs/benchmarks.md`). Not part of the daemon.
//!
//! ```text
//! bgpblast send    --local 198.18.0.2 --peer 198.18.0.1 --as 65001 --prefixes 1000000
//!                  [--sessions K] [--offset I]   K sessions from consecutive local addresses,
//!                                                session s announces /24s number
//!                                                I + s*N .. I + (s+1)*N - 1
//! bgpblast monitor --local 198.18.1.2 --peer 198.18.1.1 --as 65002 --expect 1000000
//! bgpblast fibwatch --expect 1000000             (inside the target's namespace)
//! ```
//! Every line printed is `EVENT UNIX_SECONDS [details]`, flushed at once, for the script to
//! pick up. `send` pre-encodes all its UPDATEs (full 4096-octet messages, our own
//! `bgp_core::wire` encoder) before connecting, waits until every session is Established,
//! then writes them as fast as the sockets take them. SIGUSR1 makes it withdraw everything
//! (pre-encoded too), SIGUSR2 or SIGTERM makes it send a Cease and close. `monitor` counts the
//! distinct IPv4 prefixes its peer currently advertises and reports when the count reaches
//! `--expect` and when it is back to zero. `fibwatch` polls `/proc/net/fib_triestat` (the
//! namespace's kernel FIB) the same way.
//!
//! The announced prefixes are /24s counted up from `--base` (default 11.0.0.0, so 11.0.0.0/24 ..
//! 26.255.255.0/24 for the 1,048,576 possible indices). They are routing data only: the lab
//! sends no packet to them, and they only ever reach the kernel of an isolated test namespace.
use std::collections::HashSet;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bgp_core::wire::message::{decode_message, encode_message};
use bgp_core::wire::update::{encode_announcements, encode_withdrawals};
use bgp_core::wire::{
    split_frame, AsPath, Capability, Family, Message, MpNextHop, Nlri, Notification, Open, Origin,
    PathAttributes, Update, WireContext,
};
use bytes::{Bytes, BytesMut};
use clap::{Args, Parser, Subcommand};
use ipnet::{IpNet, Ipv4Net};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, Barrier};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Number of /24s from 11.0.0.0 up to 26.255.255.0.
const MAX_INDEX: u64 = 16 << 16;

#[derive(Parser)]
#[command(about = "BGP load generator and route counter for the lab benchmark")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Open sessions and announce N /24s on each; SIGUSR1 withdraws, SIGUSR2/SIGTERM closes.
    Send(SendArgs),
    /// Count the IPv4 prefixes a peer advertises.
    Monitor(MonitorArgs),
    /// Count the routes of this namespace's kernel FIB (/proc/net/fib_triestat).
    Fibwatch(FibArgs),
}

#[derive(Args, Clone)]
struct SessionArgs {
    /// Local address of the first session (the next sessions use the following addresses).
    #[arg(long)]
    local: Ipv4Addr,
    /// The target's address.
    #[arg(long)]
    peer: IpAddr,
    #[arg(long, default_value_t = 179)]
    port: u16,
    /// Our AS number.
    #[arg(long = "as")]
    asn: u32,
    /// Hold time we offer (keepalives go out every third of the negotiated one).
    #[arg(long, default_value_t = 180)]
    hold: u16,
}

#[derive(Args)]
struct SendArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// Prefixes per session.
    #[arg(long)]
    prefixes: u64,
    /// Index of the first prefix of the first session.
    #[arg(long, default_value_t = 0)]
    offset: u64,
    /// Number of sessions (from consecutive local addresses).
    #[arg(long, default_value_t = 1)]
    sessions: u32,
    /// The first /24 of the index space.
    #[arg(long, default_value = "11.0.0.0")]
    base: Ipv4Addr,
}

#[derive(Args)]
struct MonitorArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// Count to report as complete.
    #[arg(long)]
    expect: u64,
    /// Print the count every this many milliseconds while it changes (0: never).
    #[arg(long, default_value_t = 1000)]
    progress_ms: u64,
}

#[derive(Args)]
struct FibArgs {
    /// Routes above the count seen at start to report as complete.
    #[arg(long)]
    expect: u64,
    #[arg(long, default_value_t = 20)]
    interval_ms: u64,
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Print one `EVENT UNIX_SECONDS details` line and flush it.
fn event(name: &str, details: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{name} {:.6} {details}", now());
    let _ = out.flush();
}

fn main() -> Result<(), BoxError> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        match cli.cmd {
            Cmd::Send(a) => send(a).await,
            Cmd::Monitor(a) => monitor(a).await,
            Cmd::Fibwatch(a) => fibwatch(a).await,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Session set-up

/// An Established session: the two halves and the negotiated send context and hold time.
struct Session {
    rd: OwnedReadHalf,
    wr: OwnedWriteHalf,
    /// Bytes already read past the peer's KEEPALIVE.
    buf: BytesMut,
    ctx: WireContext,
    keepalive: Duration,
}

fn nth_addr(first: Ipv4Addr, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(first).wrapping_add(n))
}

/// Read one whole message.
async fn read_message(
    rd: &mut OwnedReadHalf,
    buf: &mut BytesMut,
    ctx: &WireContext,
) -> Result<Message, BoxError> {
    loop {
        if let Some(frame) = split_frame(buf, ctx).map_err(|e| format!("framing: {e}"))? {
            return Ok(decode_message(frame, ctx).map_err(|e| format!("decode: {e}"))?);
        }
        buf.reserve(64 * 1024);
        if rd.read_buf(buf).await? == 0 {
            return Err("connection closed by the peer".into());
        }
    }
}

/// Connect from `local`, exchange OPEN and KEEPALIVE (RFC 4271 §8.2.2) and return the session.
async fn establish(a: &SessionArgs, local: Ipv4Addr) -> Result<Session, BoxError> {
    let sock = TcpSocket::new_v4()?;
    sock.set_reuseaddr(true)?;
    sock.bind(SocketAddr::new(IpAddr::V4(local), 0))?;
    sock.set_recv_buffer_size(4 << 20)?;
    sock.set_send_buffer_size(4 << 20)?;
    let stream: TcpStream = sock.connect(SocketAddr::new(a.peer, a.port)).await?;
    stream.set_nodelay(true)?;
    let (mut rd, mut wr) = stream.into_split();
    let caps = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(a.asn),
    ];
    let open = Message::Open(Open::new(a.asn, a.hold, local, caps));
    let pre = WireContext::default();
    let mut out = BytesMut::new();
    encode_message(&open, &pre, &mut out)?;
    wr.write_all(&out).await?;
    let mut buf = BytesMut::with_capacity(1 << 20);
    let peer_open = match read_message(&mut rd, &mut buf, &pre).await? {
        Message::Open(o) => o,
        Message::Notification(n) => return Err(format!("NOTIFICATION: {}", n.describe()).into()),
        other => return Err(format!("expected OPEN, got {:?}", other.message_type()).into()),
    };
    let four = peer_open.capabilities().any(|c| matches!(c, Capability::FourOctetAs(_)));
    let ctx = WireContext { four_octet_as: four, ..WireContext::default() };
    let hold = peer_open.hold_time.min(a.hold);
    out.clear();
    encode_message(&Message::Keepalive, &ctx, &mut out)?;
    wr.write_all(&out).await?;
    loop {
        match read_message(&mut rd, &mut buf, &ctx).await? {
            Message::Keepalive => break,
            Message::Notification(n) => {
                return Err(format!("NOTIFICATION: {}", n.describe()).into())
            }
            _ => {}
        }
    }
    let keepalive = Duration::from_secs(u64::from(hold / 3).max(1));
    Ok(Session { rd, wr, buf, ctx, keepalive })
}

/// Keep reading (and dropping) whatever the peer sends; returns when the connection ends.
async fn drain(mut rd: OwnedReadHalf, mut buf: BytesMut, ctx: WireContext, name: String) {
    loop {
        match read_message(&mut rd, &mut buf, &ctx).await {
            Ok(Message::Notification(n)) => {
                event("notification", format_args!("{name} {}", n.describe()));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                event("closed", format_args!("{name} {e}"));
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// send

enum Command {
    /// Pre-encoded messages; the reply goes out once they are all written.
    Bulk(Bytes, tokio::sync::oneshot::Sender<()>),
    /// Send a Cease and close.
    Close(tokio::sync::oneshot::Sender<()>),
}

/// The session's writer: bulk writes and keepalives, one at a time.
async fn writer(
    mut wr: OwnedWriteHalf,
    ctx: WireContext,
    keepalive: Duration,
    mut rx: mpsc::Receiver<Command>,
) {
    let mut ka = BytesMut::new();
    if encode_message(&Message::Keepalive, &ctx, &mut ka).is_err() {
        return;
    }
    let mut tick = tokio::time::interval(keepalive);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if wr.write_all(&ka).await.is_err() { return; }
            }
            cmd = rx.recv() => match cmd {
                Some(Command::Bulk(bytes, done)) => {
                    if wr.write_all(&bytes).await.is_err() { return; }
                    let _ = done.send(());
                }
                Some(Command::Close(done)) => {
                    let cease = Notification::cease_with_message(2, "bgpblast done");
                    let mut out = BytesMut::new();
                    if encode_message(&Message::Notification(cease), &ctx, &mut out).is_ok() {
                        let _ = wr.write_all(&out).await;
                    }
                    let _ = wr.shutdown().await;
                    let _ = done.send(());
                    return;
                }
                None => return,
            }
        }
    }
}

/// The prefixes of one session: /24s number `first .. first + count` above `base`.
fn prefixes(base: Ipv4Addr, first: u64, count: u64) -> Vec<Nlri> {
    (first..first + count)
        .map(|i| {
            let addr = Ipv4Addr::from(u32::from(base).wrapping_add((i as u32) << 8));
            Nlri::new(IpNet::V4(Ipv4Net::new_assert(addr, 24)))
        })
        .collect()
}

/// Announcements (ORIGIN IGP, AS_PATH = our AS, NEXT_HOP = `local`) plus End-of-RIB, and the
/// withdrawals of the same prefixes.
fn encode_session(
    a: &SendArgs,
    s: u32,
    local: Ipv4Addr,
    ctx: &WireContext,
) -> Result<(Bytes, Bytes, usize), BoxError> {
    let first = a.offset + u64::from(s) * a.prefixes;
    let nlri = prefixes(a.base, first, a.prefixes);
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(vec![a.session.asn])),
        next_hop: Some(local),
        ..Default::default()
    };
    let nh = MpNextHop { global: IpAddr::V4(local), link_local: None };
    let mut ann = BytesMut::new();
    let messages = encode_announcements(&attrs, &nh, Family::IPV4_UNICAST, &nlri, ctx, &mut ann)?;
    encode_message(&Message::Update(Update::end_of_rib(Family::IPV4_UNICAST)), ctx, &mut ann)?;
    let mut wd = BytesMut::new();
    encode_withdrawals(Family::IPV4_UNICAST, &nlri, ctx, &mut wd)?;
    Ok((ann.freeze(), wd.freeze(), messages))
}

async fn send(a: SendArgs) -> Result<(), BoxError> {
    if a.offset + u64::from(a.sessions) * a.prefixes > MAX_INDEX {
        return Err(format!("at most {MAX_INDEX} /24s above --base").into());
    }
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let mut usr2 = signal(SignalKind::user_defined2())?;
    let mut term = signal(SignalKind::terminate())?;
    let barrier = Arc::new(Barrier::new(a.sessions as usize + 1));
    let args = Arc::new(a);
    let mut handles = Vec::new();
    for s in 0..args.sessions {
        let args = Arc::clone(&args);
        let barrier = Arc::clone(&barrier);
        handles.push(tokio::spawn(async move { run_sender(args, s, barrier).await }));
    }
    // Every session is Established (or failed) once the barrier opens.
    barrier.wait().await;
    let t0 = now();
    event("start", format_args!("sessions={}", args.sessions));
    let mut senders = Vec::new();
    let mut waits = Vec::new();
    for h in handles {
        match h.await? {
            Ok((tx, announce, withdraw)) => {
                let (done_tx, done_rx) = tokio::sync::oneshot::channel();
                if tx.send(Command::Bulk(announce, done_tx)).await.is_ok() {
                    waits.push(done_rx);
                }
                senders.push((tx, withdraw));
            }
            Err(e) => event("error", format_args!("{e}")),
        }
    }
    for w in waits {
        let _ = w.await;
    }
    event("sent", format_args!("seconds={:.3}", now() - t0));
    loop {
        tokio::select! {
            _ = usr1.recv() => {
                event("withdraw", format_args!(""));
                let mut waits = Vec::new();
                for (tx, withdraw) in &senders {
                    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
                    if tx.send(Command::Bulk(withdraw.clone(), done_tx)).await.is_ok() {
                        waits.push(done_rx);
                    }
                }
                for w in waits { let _ = w.await; }
                event("withdrawn", format_args!(""));
            }
            _ = usr2.recv() => break,
            _ = term.recv() => break,
        }
    }
    event("disconnect", format_args!(""));
    let mut waits = Vec::new();
    for (tx, _) in &senders {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        if tx.send(Command::Close(done_tx)).await.is_ok() {
            waits.push(done_rx);
        }
    }
    for w in waits {
        let _ = w.await;
    }
    event("closed_all", format_args!(""));
    Ok(())
}

type SenderReady = (mpsc::Sender<Command>, Bytes, Bytes);

/// Encode, connect, wait at the barrier; hand back the writer's channel and the messages.
async fn run_sender(
    a: Arc<SendArgs>,
    s: u32,
    barrier: Arc<Barrier>,
) -> Result<SenderReady, BoxError> {
    let local = nth_addr(a.session.local, s);
    let result = async {
        let mut attempt = 0;
        let sess = loop {
            match establish(&a.session, local).await {
                Ok(sess) => break sess,
                Err(e) if attempt < 50 => {
                    attempt += 1;
                    event("retry", format_args!("{local} {e}"));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        };
        let (announce, withdraw, messages) = encode_session(&a, s, local, &sess.ctx)?;
        if s == 0 {
            event(
                "encoded",
                format_args!("updates_per_session={messages} bytes={}", announce.len()),
            );
        }
        Ok((sess, announce, withdraw))
    }
    .await;
    barrier.wait().await;
    let (sess, announce, withdraw) = result?;
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(drain(sess.rd, sess.buf, sess.ctx.clone(), local.to_string()));
    tokio::spawn(writer(sess.wr, sess.ctx, sess.keepalive, rx));
    Ok((tx, announce, withdraw))
}

// ---------------------------------------------------------------------------------------------
// monitor

/// The set of IPv4 prefixes currently advertised: a bitmap for /24s, a hash set for the rest.
struct PrefixSet {
    bits: Vec<u64>,
    other: HashSet<Ipv4Net>,
    count: u64,
}

impl PrefixSet {
    fn new() -> Self {
        PrefixSet { bits: vec![0; (1 << 24) / 64], other: HashSet::new(), count: 0 }
    }

    fn slot(net: &Ipv4Net) -> Option<(usize, u64)> {
        (net.prefix_len() == 24).then(|| {
            let i = (u32::from(net.network()) >> 8) as usize;
            (i / 64, 1u64 << (i % 64))
        })
    }

    fn insert(&mut self, net: Ipv4Net) {
        let new = match Self::slot(&net) {
            Some((w, m)) => {
                let fresh = self.bits[w] & m == 0;
                self.bits[w] |= m;
                fresh
            }
            None => self.other.insert(net),
        };
        self.count += u64::from(new);
    }

    fn remove(&mut self, net: Ipv4Net) {
        let gone = match Self::slot(&net) {
            Some((w, m)) => {
                let had = self.bits[w] & m != 0;
                self.bits[w] &= !m;
                had
            }
            None => self.other.remove(&net),
        };
        self.count -= u64::from(gone);
    }
}

fn v4(n: &Nlri) -> Option<Ipv4Net> {
    match n.prefix {
        IpNet::V4(p) => Some(p),
        IpNet::V6(_) => None,
    }
}

async fn monitor(a: MonitorArgs) -> Result<(), BoxError> {
    let Session { mut rd, wr, mut buf, ctx, keepalive } = loop {
        match establish(&a.session, a.session.local).await {
            Ok(s) => break s,
            Err(e) => {
                event("retry", format_args!("{e}"));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    event("established", format_args!(""));
    let (_tx, rx) = mpsc::channel(1);
    tokio::spawn(writer(wr, ctx.clone(), keepalive, rx));
    let mut set = PrefixSet::new();
    let (mut full, mut first, mut updates) = (false, false, 0u64);
    let progress = Duration::from_millis(a.progress_ms);
    let mut last_print = Instant::now();
    let mut last_count = 0;
    loop {
        let msg = match read_message(&mut rd, &mut buf, &ctx).await {
            Ok(m) => m,
            Err(e) => {
                event("closed", format_args!("count={} {e}", set.count));
                return Ok(());
            }
        };
        let Message::Update(u) = msg else {
            if let Message::Notification(n) = msg {
                event("notification", format_args!("{}", n.describe()));
                return Ok(());
            }
            continue;
        };
        updates += 1;
        if u.end_of_rib_family().is_some() {
            event("eor", format_args!("count={}", set.count));
        }
        u.withdrawn.iter().filter_map(v4).for_each(|p| set.remove(p));
        if let Some(m) = &u.mp_unreach {
            m.withdrawn.iter().filter_map(v4).for_each(|p| set.remove(p));
        }
        u.nlri.iter().filter_map(v4).for_each(|p| set.insert(p));
        if let Some(m) = &u.mp_reach {
            m.nlri.iter().filter_map(v4).for_each(|p| set.insert(p));
        }
        if !first && set.count > 0 {
            first = true;
            event("first", format_args!("count={}", set.count));
        }
        if !full && set.count >= a.expect {
            full = true;
            event("full", format_args!("count={} updates={updates}", set.count));
        }
        if full && set.count == 0 {
            full = false;
            event("zero", format_args!("updates={updates}"));
        }
        if a.progress_ms > 0 && set.count != last_count && last_print.elapsed() >= progress {
            last_print = Instant::now();
            last_count = set.count;
            event("count", format_args!("{}", set.count));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// fibwatch

/// The first `Prefixes:` figure of /proc/net/fib_triestat (the main/local trie).
fn fib_prefixes() -> Result<u64, BoxError> {
    let text = std::fs::read_to_string("/proc/net/fib_triestat")?;
    Ok(text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Prefixes:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0))
}

async fn fibwatch(a: FibArgs) -> Result<(), BoxError> {
    let mut term = signal(SignalKind::terminate())?;
    let base = fib_prefixes()?;
    event("baseline", format_args!("{base}"));
    let mut tick = tokio::time::interval(Duration::from_millis(a.interval_ms));
    let (mut full, mut seen, mut last_print) = (false, false, Instant::now());
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = term.recv() => return Ok(()),
        }
        let n = fib_prefixes()?.saturating_sub(base);
        if !seen && n > 0 {
            seen = true;
            event("first", format_args!("count={n}"));
        }
        if !full && n >= a.expect {
            full = true;
            event("full", format_args!("count={n}"));
        }
        if full && n == 0 {
            full = false;
            event("zero", format_args!(""));
        }
        if last_print.elapsed() >= Duration::from_secs(1) {
            last_print = Instant::now();
            event("count", format_args!("{n}"));
        }
    }
}
