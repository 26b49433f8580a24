//! One TCP connection of a session: the read half with its frame buffer, the writer task, and
//! the addresses. Also the helpers that read the first OPEN off a second connection during
//! collision detection (RFC 4271 §6.8).
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bgp_core::wire::message::decode_message;
use bgp_core::wire::split_frame;
use bgp_core::wire::{DecodeError, Message, MessageType, Open, WireContext};
use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;

use super::writer::{self, WriterHandle};

const READ_CHUNK: usize = 64 * 1024;

pub struct Connection {
    pub reader: OwnedReadHalf,
    pub writer: WriterHandle,
    pub buf: BytesMut,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// We dialled it (vs accepted it).
    pub outgoing: bool,
}

impl Connection {
    /// Split `stream`, start its writer. `on_drained` is the writer's back-pressure callback.
    pub fn new(
        stream: TcpStream,
        outgoing: bool,
        buf: BytesMut,
        on_drained: Box<dyn Fn() + Send + Sync>,
    ) -> io::Result<Connection> {
        let local = canonical(stream.local_addr()?);
        let remote = canonical(stream.peer_addr()?);
        let (reader, write_half) = stream.into_split();
        let writer = writer::spawn(write_half, on_drained);
        Ok(Connection { reader, writer, buf, local, remote, outgoing })
    }

    /// Read more bytes into the frame buffer; `Ok(0)` = the peer closed.
    pub async fn read_more(&mut self) -> io::Result<usize> {
        self.buf.reserve(READ_CHUNK);
        self.reader.read_buf(&mut self.buf).await
    }
}

/// Read on `conn` if there is one; otherwise never complete (for `select!`).
pub async fn read_or_pend(conn: &mut Option<Connection>) -> io::Result<usize> {
    match conn {
        Some(c) => c.read_more().await,
        None => std::future::pending().await,
    }
}

/// A listener on `[::]` reports IPv4 peers as `::ffff:a.b.c.d`: use the IPv4 form.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(canonical_ip(addr.ip()), addr.port())
}

pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Why no OPEN could be read off a fresh connection ([`read_first_open`]).
#[derive(Debug)]
pub enum FirstOpenError {
    /// The first message (or its header) does not decode: RFC 4271 §6.2 / §6.1, the
    /// NOTIFICATION to send is `Notification::from(&err)`.
    Decode(DecodeError),
    /// A well-formed message other than OPEN came first.
    NotOpen(MessageType),
    /// The peer closed the connection before its OPEN was complete.
    Closed,
    /// No OPEN within the time limit.
    TimedOut,
    /// Reading the socket failed.
    Io(io::Error),
}

impl fmt::Display for FirstOpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirstOpenError::Decode(e) => write!(f, "bad OPEN: {e}"),
            FirstOpenError::NotOpen(kind) => write!(f, "expected OPEN, got {kind:?}"),
            FirstOpenError::Closed => f.write_str("closed before OPEN"),
            FirstOpenError::TimedOut => f.write_str("no OPEN in time"),
            FirstOpenError::Io(e) => write!(f, "read: {e}"),
        }
    }
}

/// Read the first message of a fresh connection, which must be an OPEN, within `limit`.
/// Returns the OPEN and whatever bytes followed it.
pub async fn read_first_open(
    stream: &mut TcpStream,
    limit: Duration,
) -> Result<(Open, BytesMut), FirstOpenError> {
    let ctx = WireContext::default();
    let mut buf = BytesMut::with_capacity(4096);
    let work = async {
        loop {
            match split_frame(&mut buf, &ctx) {
                Ok(Some(frame)) => {
                    return match decode_message(frame, &ctx) {
                        Ok(Message::Open(open)) => Ok(open),
                        Ok(other) => Err(FirstOpenError::NotOpen(other.message_type())),
                        Err(e) => Err(FirstOpenError::Decode(e)),
                    };
                }
                Ok(None) => {}
                Err(e) => return Err(FirstOpenError::Decode(e)),
            }
            match stream.read_buf(&mut buf).await {
                Ok(0) => return Err(FirstOpenError::Closed),
                Ok(_) => {}
                Err(e) => return Err(FirstOpenError::Io(e)),
            }
        }
    };
    match tokio::time::timeout(limit, work).await {
        Ok(Ok(open)) => Ok((open, buf)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(FirstOpenError::TimedOut),
    }
}
