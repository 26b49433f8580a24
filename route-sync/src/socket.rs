//! A non-blocking `NETLINK_ROUTE` socket (netlink-sys) registered with tokio, plus an iterator
//! over the messages of one received datagram.
// The netlink socket and its BPF filter are set up through libc: unsafe is allowed here only.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use netlink_packet_core::{ErrorBuffer, NetlinkBuffer, NLMSG_ALIGNTO};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use tokio::io::unix::AsyncFd;

/// Multicast groups (`enum rtnetlink_groups` in `linux/rtnetlink.h`).
pub const RTNLGRP_LINK: u32 = 1;
pub const RTNLGRP_IPV4_IFADDR: u32 = 5;
pub const RTNLGRP_IPV4_ROUTE: u32 = 7;
pub const RTNLGRP_IPV6_IFADDR: u32 = 9;
pub const RTNLGRP_IPV6_ROUTE: u32 = 11;
pub const RTNLGRP_NEXTHOP: u32 = 32;

/// Message types (`linux/rtnetlink.h`).
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_GETLINK: u16 = 18;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;

const RECV_BUFFER: usize = 256 * 1024;

/// A netlink socket in the network namespace of the thread that opened it.
pub struct NlSocket {
    fd: AsyncFd<Socket>,
    buf: Vec<u8>,
}

fn set_int_option(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> bool {
    // SAFETY: `value` lives for the duration of the call and its size is passed along.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

impl NlSocket {
    /// Opens, binds and registers a socket; joins `groups`. `buffer_bytes` sizes both socket
    /// buffers (forced past rmem_max when we have CAP_NET_ADMIN, as a monitor socket that
    /// overflows loses notifications).
    pub fn open(groups: &[u32], buffer_bytes: i32) -> io::Result<NlSocket> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind(&SocketAddr::new(0, 0))?;
        let fd = sock.as_raw_fd();
        for (force, plain) in
            [(libc::SO_RCVBUFFORCE, libc::SO_RCVBUF), (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF)]
        {
            if !set_int_option(fd, libc::SOL_SOCKET, force, buffer_bytes) {
                set_int_option(fd, libc::SOL_SOCKET, plain, buffer_bytes);
            }
        }
        // Error replies carry only the header of the failed request, not the whole request.
        sock.set_cap_ack(true)?;
        // Dumps are filtered by table and protocol in the kernel (ignored by old kernels).
        let _ = sock.set_netlink_get_strict_chk(true);
        for group in groups {
            sock.add_membership(*group)?;
        }
        sock.set_non_blocking(true)?;
        // SAFETY: `Socket` owns its descriptor and closes it only when dropped, which happens
        // when the `AsyncFd` holding it is dropped; `as_raw_fd` always returns that descriptor.
        let fd = unsafe { AsyncFd::register(sock) }.map_err(io::Error::from)?;
        Ok(NlSocket { fd, buf: Vec::with_capacity(RECV_BUFFER) })
    }

    /// Joins one more multicast group.
    pub fn join(&self, group: u32) -> io::Result<()> {
        self.fd.get_ref().add_membership(group)
    }

    /// The netlink port id the kernel gave this socket (`nlmsg_pid` of the notifications our
    /// requests cause).
    pub fn port_id(&self) -> io::Result<u32> {
        let mut addr = SocketAddr::new(0, 0);
        self.fd.get_ref().get_address(&mut addr)?;
        Ok(addr.port_number())
    }

    /// Drops, in the kernel, every notification whose `nlmsg_pid` is `port_id`: the echo of
    /// the requests sent on our request socket (up to a million per burst), which would only
    /// overflow this monitor socket. Changes made by anybody else (other pid, or the kernel
    /// itself with pid 0) still arrive, so a route of ours that someone else replaces is seen.
    /// Classic BPF, one message per multicast skb.
    pub fn drop_echoes_of(&self, port_id: u32) -> io::Result<()> {
        // nlmsg_pid sits at offset 12 in host order; BPF_W loads big-endian.
        let pid = if cfg!(target_endian = "little") { port_id.swap_bytes() } else { port_id };
        let filter = [
            bpf(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 12),
            bpf(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, 0, 1, pid),
            bpf(libc::BPF_RET | libc::BPF_K, 0, 0, 0),
            bpf(libc::BPF_RET | libc::BPF_K, 0, 0, u32::MAX),
        ];
        let prog =
            libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr().cast_mut() };
        // SAFETY: `prog` points at `filter`, both alive during the call; the kernel copies them.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.get_ref().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                (&prog as *const libc::sock_fprog).cast(),
                std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Sends one datagram (any number of messages). The kernel handles rtnetlink requests
    /// synchronously inside `send()`, so replies are queued when this returns.
    pub fn send(&self, data: &[u8]) -> io::Result<()> {
        loop {
            match self.fd.get_ref().send(data, 0) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Receives one datagram without waiting; `Ok(None)` when nothing is queued.
    pub fn try_recv(&mut self) -> io::Result<Option<&[u8]>> {
        self.buf.clear();
        self.buf.reserve(RECV_BUFFER);
        match self.fd.get_ref().recv(&mut self.buf, 0) {
            Ok(_) => Ok(Some(&self.buf)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits until a datagram can be read.
    pub async fn readable(&self) -> io::Result<()> {
        let mut guard = self.fd.readable().await?;
        guard.clear_ready();
        Ok(())
    }

    /// Receives one datagram, waiting for it.
    pub async fn recv(&mut self) -> io::Result<&[u8]> {
        loop {
            self.buf.clear();
            self.buf.reserve(RECV_BUFFER);
            let mut guard = self.fd.readable().await?;
            let sock = self.fd.get_ref();
            let buf = &mut self.buf;
            match guard.try_io(|_| sock.recv(buf, 0)) {
                Ok(Ok(_)) => return Ok(&self.buf),
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

fn bpf(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt, jf, k }
}

/// One message of a datagram.
pub struct Message<'a> {
    pub message_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub payload: &'a [u8],
}

impl Message<'_> {
    /// For `NLMSG_ERROR`: the errno (positive) or 0 for an ACK.
    pub fn error_code(&self) -> Option<i32> {
        if self.message_type != NLMSG_ERROR {
            return None;
        }
        let buf = ErrorBuffer::new_checked(self.payload).ok()?;
        Some(buf.code().map(|c| -c.get()).unwrap_or(0))
    }

    /// For `NLMSG_ERROR`: the sequence number of the request it answers.
    pub fn error_seq(&self) -> Option<u32> {
        let header = self.payload.get(4 + 8..4 + 12)?;
        Some(u32::from_ne_bytes(header.try_into().ok()?))
    }
}

/// Iterates over the netlink messages of one datagram; stops at the first malformed one.
pub fn messages(datagram: &[u8]) -> impl Iterator<Item = Message<'_>> {
    let mut rest = datagram;
    std::iter::from_fn(move || {
        let buf = NetlinkBuffer::new_checked(rest).ok()?;
        let len = buf.length() as usize;
        if len < 16 {
            return None;
        }
        let msg = Message {
            message_type: buf.message_type(),
            flags: buf.flags(),
            seq: buf.sequence_number(),
            payload: rest.get(16..len)?,
        };
        let align = usize::from(NLMSG_ALIGNTO);
        let aligned = (len + align - 1) & !(align - 1);
        rest = rest.get(aligned.min(rest.len())..).unwrap_or(&[]);
        Some(msg)
    })
}
