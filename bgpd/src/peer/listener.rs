//! The BGP listener: accepts TCP connections on the configured addresses and hands each one
//! to the session of the neighbour whose address it comes from. Connections from anywhere
//! else are refused with Cease / Connection Rejected (RFC 4486 subcode 5) before any of their
//! bytes are parsed.
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};

use bgp_core::wire::notification::codes;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::connection::canonical_ip;
use super::session::refuse_connection;
use super::socket;
use super::PeerCommand;
use crate::metrics::Metrics;

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
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                warn!(error = %e, "accept failed");
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
            None => {
                metrics.connections_refused.inc();
                warn!(source = %from, "connection from an unconfigured address refused");
                refuse_connection(stream, codes::CEASE_CONNECTION_REJECTED);
            }
        }
    }
}
