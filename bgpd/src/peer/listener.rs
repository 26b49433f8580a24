//! The BGP listener: accepts TCP connections on the configured addresses and hands each one
//! to the session of the neighbour whose address it comes from. Connections from anywhere
//! else are refused with Cease / Connection Rejected (RFC 4486 subcode 5) before any of their
//! bytes are parsed.
//!
//! A flood from unconfigured addresses costs neither descriptors nor disk: each source has a
//! connection rate ([`super::source_limit`]; over it, the connection is reset at once with
//! nothing written), and the "refused" log lines are thinned ([`crate::log_limit`]: one line
//! per source per minute, 20 in all, a summary of the rest). `bgpd_connections_refused_total`
//! still counts every refused connection.
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bgp_core::wire::notification::codes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::connection::canonical_ip;
use super::session::refuse_connection;
use super::socket;
use super::source_limit::SourceLimiter;
use crate::log_limit::{LogLimiter, Verdict};
use crate::messages::PeerCommand;
use crate::metrics::Metrics;

/// One "refused" line per source per this interval...
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(60);
/// ...and at most this many per interval in all.
const REFUSAL_LOG_LINES: u32 = 20;

/// Where accepted connections go: neighbour address -> its session's command queue. The
/// daemon updates it when neighbours are added or removed.
pub type Directory = Arc<RwLock<HashMap<IpAddr, mpsc::UnboundedSender<PeerCommand>>>>;

/// A bound listener and its accept task.
pub struct Listener {
    socket: Arc<TcpListener>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Bind `addr` and accept until dropped.
    pub fn spawn(
        addr: SocketAddr,
        directory: Directory,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Listener> {
        let socket = Arc::new(socket::listen(addr)?);
        info!(%addr, "listening for BGP connections");
        let task = tokio::spawn(accept_loop(socket.clone(), directory, metrics));
        Ok(Listener { socket, task })
    }

    /// RFC 2385: the listening socket must know each neighbour's key, or the kernel drops the
    /// neighbour's signed SYNs (and a key for an address makes unsigned SYNs from it dropped).
    /// `None` removes the key.
    pub fn set_md5_key(&self, peer: IpAddr, key: Option<&[u8]>) -> std::io::Result<()> {
        // A dual-stack IPv6 listener sees IPv4 peers as v4-mapped addresses (::ffff:a.b.c.d),
        // and the kernel matches the key against that form.
        let peer = match (self.socket.local_addr()?.is_ipv6(), peer) {
            (true, IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
            _ => peer,
        };
        socket::set_md5_key(&*self.socket, peer, key)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: Arc<TcpListener>, directory: Directory, metrics: Arc<Metrics>) {
    let mut refusals = Refusals::default();
    // One line a minute while accept keeps failing (EMFILE comes ten times a second).
    let mut accept_errors = LogLimiter::<()>::new(REFUSAL_LOG_INTERVAL, 1, 1);
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                if let Verdict::Log { suppressed } = accept_errors.check((), Instant::now()).verdict
                {
                    warn!(error = %e, suppressed, "accept failed");
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = canonical_ip(from.ip());
        let target = directory.read().ok().and_then(|d| d.get(&ip).cloned());
        match target {
            Some(session) => {
                if let Err(mpsc::error::SendError(PeerCommand::Incoming(stream))) =
                    session.send(PeerCommand::Incoming(stream))
                {
                    refuse_connection(stream, codes::CEASE_CONNECTION_REJECTED);
                }
            }
            None => refusals.refuse(stream, from, &metrics, Instant::now()),
        }
    }
}

/// Rate and log limits for connections from unconfigured addresses.
struct Refusals {
    sources: SourceLimiter,
    log: LogLimiter<IpAddr>,
}

impl Default for Refusals {
    fn default() -> Self {
        Refusals {
            sources: SourceLimiter::default(),
            log: LogLimiter::new(
                REFUSAL_LOG_INTERVAL,
                REFUSAL_LOG_LINES,
                super::source_limit::MAX_SOURCES,
            ),
        }
    }
}

impl Refusals {
    fn refuse(&mut self, stream: TcpStream, from: SocketAddr, metrics: &Metrics, now: Instant) {
        metrics.connections_refused.inc();
        let ip = canonical_ip(from.ip());
        let within_rate = self.sources.admit(ip, now);
        if within_rate {
            refuse_connection(stream, codes::CEASE_CONNECTION_REJECTED);
        } else {
            metrics.connections_rate_limited.inc();
            reset_at_once(stream);
        }
        let decision = self.log.check(ip, now);
        if let Some(n) = decision.summary {
            warn!(suppressed = n, "refused-connection log lines suppressed in the last minute");
        }
        if let Verdict::Log { suppressed } = decision.verdict {
            warn!(
                source = %from,
                suppressed,
                rate_limited = !within_rate,
                "connection from an unconfigured address refused"
            );
        }
    }
}

/// Close with a reset (SO_LINGER 0): nothing is written, and no descriptor or TIME_WAIT
/// state is left behind.
fn reset_at_once(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}
