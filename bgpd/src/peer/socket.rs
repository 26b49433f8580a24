//! TCP sockets for BGP sessions: source address, TTL (eBGP single-hop / multihop), GTSM
//! (RFC 5082), TCP MD5 signatures (RFC 2385), TCP_NODELAY and TCP_USER_TIMEOUT.
// Socket options std and tokio do not expose (TTL floor, MD5 keys, TCP_USER_TIMEOUT, saved
// SYN) go through libc: unsafe is allowed here only.
#![allow(unsafe_code)]
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

pub use crate::messages::SocketOptions;

/// The user timeout for a session proposing `hold_time` seconds: the hold time (a peer that
/// takes nothing from us for that long cannot have received our KEEPALIVEs either, RFC 4271
/// §4.4), or [`crate::peer::writer::DEFAULT_STALL`] when keepalives are off (hold time 0).
pub fn user_timeout(hold_time: u16) -> Duration {
    match hold_time {
        0 => super::writer::DEFAULT_STALL,
        secs => Duration::from_secs(u64::from(secs)),
    }
}

/// Dial `remote` with the given options. TTL, GTSM and MD5 are set before the SYN leaves.
pub async fn connect(remote: SocketAddr, opts: &SocketOptions) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(remote), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.set_tcp_user_timeout(Some(opts.user_timeout))?;
    apply_ttl(&socket, remote.ip(), opts)?;
    if let Some(key) = &opts.md5_key {
        set_md5_key(&socket, remote.ip(), Some(key))?;
    }
    if let Some(local) = opts.local_address {
        socket.bind(&SockAddr::from(SocketAddr::new(local, 0)))?;
    }
    let socket = TcpSocket::from_std_stream(socket.into());
    let stream = socket.connect(remote).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Apply per-peer options to a connection we accepted (TTL of what we send, GTSM).
pub fn apply_to_accepted(stream: &TcpStream, peer: IpAddr, opts: &SocketOptions) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let sock = socket2::SockRef::from(stream);
    sock.set_tcp_user_timeout(Some(opts.user_timeout))?;
    apply_ttl(&sock, peer, opts)
}

fn apply_ttl(socket: &Socket, peer: IpAddr, opts: &SocketOptions) -> io::Result<()> {
    let v6 = peer.is_ipv6() && !is_v4_mapped(peer);
    if let Some(ttl) = opts.ttl {
        if v6 {
            socket.set_unicast_hops_v6(ttl)?;
        } else {
            socket.set_ttl_v4(ttl)?;
        }
    }
    if let Some(min) = opts.min_ttl {
        let (level, name) = if v6 {
            (libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT)
        } else {
            (libc::IPPROTO_IP, libc::IP_MINTTL)
        };
        setsockopt_int(socket.as_raw_fd(), level, name, min as libc::c_int)?;
    }
    Ok(())
}

fn is_v4_mapped(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())
}

/// Bind a listening socket (dual-stack for `[::]`), with SO_REUSEADDR.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(false)?;
    }
    socket.set_nonblocking(true)?;
    // Keep each connection's SYN headers, so that GTSM can check the TTL the connection was
    // opened with (`syn_ttl`): IP_MINTTL can only be set once the connection is accepted.
    setsockopt_int(socket.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_SAVE_SYN, 1)?;
    socket.bind(&SockAddr::from(addr))?;
    socket.listen(128)?;
    TcpListener::from_std(socket.into())
}

/// The IP TTL (IPv4) or hop limit (IPv6) of the SYN that opened an accepted connection, from
/// the headers the listener saved (`TCP_SAVE_SYN`); `None` when none were saved.
pub fn syn_ttl(stream: &TcpStream) -> io::Result<Option<u8>> {
    let mut buf = [0u8; 512];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` octets into `buf` and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_SAVED_SYN,
            buf.as_mut_ptr() as *mut libc::c_void,
            &mut len,
        )
    };
    if rc != 0 {
        let e = io::Error::last_os_error();
        // ENOENT: nothing saved (already read, or the listener did not save it).
        return if e.raw_os_error() == Some(libc::ENOENT) { Ok(None) } else { Err(e) };
    }
    let saved = buf.get(..len as usize).unwrap_or(&[]);
    Ok(match saved.first().map(|b| b >> 4) {
        Some(4) => saved.get(8).copied(),
        Some(6) => saved.get(7).copied(),
        _ => None,
    })
}

/// Why an accepted connection fails the GTSM check ([`check_gtsm`]).
#[derive(Debug)]
pub enum GtsmError {
    /// The SYN arrived with a TTL below the configured minimum.
    TtlTooLow { ttl: u8, min: u8 },
    /// The SYN's TTL could not be read.
    Unreadable(io::Error),
}

impl std::fmt::Display for GtsmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GtsmError::TtlTooLow { ttl, min } => {
                write!(f, "SYN arrived with TTL {ttl}, GTSM needs {min}")
            }
            GtsmError::Unreadable(e) => write!(f, "cannot read the SYN's TTL: {e}"),
        }
    }
}

impl std::error::Error for GtsmError {}

/// RFC 5082 §3: "If the TTL/Hop Limit value ... of the packet is less than the configured
/// minimum, ... the packet MUST be discarded". `IP_MINTTL` enforces it from accept on; this
/// checks the SYN that came before. `Err` names the offending TTL.
pub fn check_gtsm(stream: &TcpStream, opts: &SocketOptions) -> Result<(), GtsmError> {
    let Some(min) = opts.min_ttl else { return Ok(()) };
    match syn_ttl(stream) {
        Ok(Some(ttl)) if ttl < min => Err(GtsmError::TtlTooLow { ttl, min }),
        Ok(_) => Ok(()),
        Err(e) => Err(GtsmError::Unreadable(e)),
    }
}

/// Install (or with `None` remove) the RFC 2385 key for `peer` on a socket: on a listener it
/// makes the kernel accept only signed SYNs from that peer; on a dialling socket it signs
/// every segment.
pub fn set_md5_key(socket: &impl AsRawFd, peer: IpAddr, key: Option<&[u8]>) -> io::Result<()> {
    // linux/tcp.h: struct tcp_md5sig { sockaddr_storage tcpm_addr; u8 tcpm_flags;
    // u8 tcpm_prefixlen; u16 tcpm_keylen; int tcpm_ifindex; u8 tcpm_key[80]; }
    #[repr(C)]
    struct TcpMd5Sig {
        addr: libc::sockaddr_storage,
        flags: u8,
        prefixlen: u8,
        keylen: u16,
        ifindex: libc::c_int,
        key: [u8; 80],
    }
    let key = key.unwrap_or(&[]);
    if key.len() > 80 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "TCP MD5 key longer than 80 octets",
        ));
    }
    // A listener bound to [::] sees IPv4 peers as v4-mapped IPv6 addresses.
    let sockaddr = SockAddr::from(SocketAddr::new(peer, 0));
    // SAFETY: all-zero bytes are a valid value for this plain-old-data C struct.
    let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
    // SAFETY: SockAddr's storage is a sockaddr_storage of at most that size.
    unsafe {
        std::ptr::copy_nonoverlapping(
            sockaddr.as_ptr() as *const u8,
            &mut sig.addr as *mut libc::sockaddr_storage as *mut u8,
            sockaddr.len() as usize,
        );
    }
    sig.keylen = key.len() as u16;
    sig.key[..key.len()].copy_from_slice(key);
    // SAFETY: passing a pointer to a properly sized, initialised struct the kernel reads.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            &sig as *const TcpMd5Sig as *const libc::c_void,
            std::mem::size_of::<TcpMd5Sig>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn setsockopt_int(fd: i32, level: i32, name: i32, value: libc::c_int) -> io::Result<()> {
    // SAFETY: a c_int option value, passed by pointer with its exact size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connect_applies_options_and_reaches_listener() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let opts = SocketOptions {
            local_address: Some("127.0.0.1".parse().unwrap()),
            ttl: Some(1),
            min_ttl: None,
            md5_key: None,
            user_timeout: user_timeout(90),
        };
        let (client, accepted) = tokio::join!(connect(addr, &opts), listener.accept());
        let client = client.unwrap();
        let (server, peer) = accepted.unwrap();
        assert_eq!(peer.ip(), "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(client.ttl().unwrap(), 1);
        assert!(client.nodelay().unwrap());
        let sock = socket2::SockRef::from(&client);
        assert_eq!(sock.tcp_user_timeout().unwrap(), Some(Duration::from_secs(90)));
        apply_to_accepted(
            &server,
            peer.ip(),
            &SocketOptions {
                ttl: Some(255),
                min_ttl: Some(254),
                user_timeout: user_timeout(0),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(server.ttl().unwrap(), 255);
        let sock = socket2::SockRef::from(&server);
        assert_eq!(sock.tcp_user_timeout().unwrap(), Some(crate::peer::writer::DEFAULT_STALL));
    }

    #[tokio::test]
    async fn md5_mismatch_prevents_connection() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        set_md5_key(&listener, "127.0.0.1".parse().unwrap(), Some(b"right")).unwrap();
        let wrong = SocketOptions { md5_key: Some(b"wrong".to_vec()), ..Default::default() };
        let attempt =
            tokio::time::timeout(std::time::Duration::from_millis(500), connect(addr, &wrong))
                .await;
        // The listener drops SYNs with a bad signature, so the dial never completes.
        assert!(attempt.is_err() || attempt.unwrap().is_err());
        let right = SocketOptions { md5_key: Some(b"right".to_vec()), ..Default::default() };
        let (client, accepted) = tokio::join!(connect(addr, &right), listener.accept());
        assert!(client.is_ok());
        assert!(accepted.is_ok());
    }

    #[tokio::test]
    async fn gtsm_checks_the_ttl_of_the_syn() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let gtsm = SocketOptions { min_ttl: Some(255), ..Default::default() };
        for (ttl, ok) in [(1u32, false), (255, true)] {
            let opts = SocketOptions { ttl: Some(ttl), ..Default::default() };
            let (client, accepted) = tokio::join!(connect(addr, &opts), listener.accept());
            let _client = client.unwrap();
            let (server, _) = accepted.unwrap();
            // The saved SYN can be read once.
            assert_eq!(check_gtsm(&server, &gtsm).is_ok(), ok, "TTL {ttl}");
            assert_eq!(syn_ttl(&server).unwrap(), None);
        }
    }
}
