//! The write side of one BGP connection: a task that owns the socket's write half.
//!
//! Two queues feed it. The session's control queue (OPEN, KEEPALIVE, NOTIFICATION,
//! ROUTE-REFRESH, close) is unbounded and always served first, so a keepalive never waits
//! behind a table dump. The RIB's UPDATE queue is bounded: a slow peer fills it, the RIB sees
//! `try_send` fail and stops generating UPDATEs for that peer until the writer reports the
//! queue drained (back-pressure instead of unbounded memory; the queue and its two ends are in
//! `crate::messages::update_queue`). Whatever is queued when the writer wakes is packed into
//! one buffer and written out (write batching).
//!
//! A peer that stops reading (a zero TCP window) must not pin the writer, its socket and its
//! queued data for ever:
//! - a write that makes no progress for [`Limits::stall`] (the socket's TCP_USER_TIMEOUT, the
//!   proposed hold time, see `socket.rs`) aborts the connection: queued data is discarded,
//!   the peer gets a reset, and the session's read side sees the end of the stream;
//! - Close (or the session dropping its handle) writes what was queued before it for at most
//!   [`Limits::close_grace`], then aborts the same way.
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};
use tracing::warn;

use crate::messages::update_queue::{update_queue, UpdateReceiver, UpdateSender};

/// Batches up to this many octets per write.
const BATCH_BYTES: usize = 256 * 1024;
/// How long a write may make no progress when the socket sets no bound of its own.
pub const DEFAULT_STALL: Duration = Duration::from_secs(240);
/// How long Close waits for what was queued before it (a NOTIFICATION) to be written.
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Time bounds of a writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A write that makes no progress this long aborts the connection.
    pub stall: Duration,
    /// After Close, queued bytes get this long to go out before the connection is aborted.
    pub close_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { stall: DEFAULT_STALL, close_grace: CLOSE_GRACE }
    }
}

/// What a writer writes to.
pub trait Sink: AsyncWrite + Unpin + Send + 'static {
    /// Give the connection up at once: discard what is queued, reset it, end the read side.
    fn abort(&mut self) {}

    /// The limits that suit this sink.
    fn limits(&self) -> Limits {
        Limits::default()
    }

    /// The peer's address, for log lines.
    fn peer(&self) -> Option<std::net::SocketAddr> {
        None
    }
}

impl Sink for OwnedWriteHalf {
    fn abort(&mut self) {
        let sock = socket2::SockRef::from(self.as_ref());
        // SO_LINGER 0: the close that follows sends RST and frees the socket with its queue.
        let _ = sock.set_linger(Some(Duration::ZERO));
        // The session's pending read returns end-of-stream, so it lets go of its half too.
        let _ = sock.shutdown(std::net::Shutdown::Both);
    }

    /// A write may stall as long as the kernel lets unacknowledged data wait
    /// (TCP_USER_TIMEOUT, see `socket.rs`).
    fn limits(&self) -> Limits {
        let sock = socket2::SockRef::from(self.as_ref());
        let stall = sock.tcp_user_timeout().ok().flatten().unwrap_or(DEFAULT_STALL);
        Limits { stall, ..Limits::default() }
    }

    fn peer(&self) -> Option<std::net::SocketAddr> {
        self.peer_addr().ok()
    }
}

impl Sink for tokio::io::DuplexStream {}

/// A control item for the writer.
#[derive(Debug)]
pub enum Control {
    /// One or more whole encoded messages.
    Bytes(Bytes),
    /// Write what is queued on the control queue, then shut the connection down.
    Close,
}

/// The session's handle on the writer.
#[derive(Debug)]
pub struct WriterHandle {
    control: mpsc::UnboundedSender<Control>,
    updates: UpdateSender,
}

impl WriterHandle {
    pub fn send(&self, bytes: Bytes) {
        let _ = self.control.send(Control::Bytes(bytes));
    }

    pub fn close(&self) {
        let _ = self.control.send(Control::Close);
    }

    pub fn updates(&self) -> UpdateSender {
        self.updates.clone()
    }
}

/// Spawn the writer for `sink`, with the sink's limits. `on_drained` runs when the UPDATE queue
/// has been emptied after a `try_send` found it full.
pub fn spawn<W: Sink>(sink: W, on_drained: Box<dyn Fn() + Send + Sync>) -> WriterHandle {
    let limits = sink.limits();
    spawn_with(sink, on_drained, limits)
}

/// [`spawn`] with explicit limits.
pub fn spawn_with<W: Sink>(
    sink: W,
    on_drained: Box<dyn Fn() + Send + Sync>,
    limits: Limits,
) -> WriterHandle {
    let (control, control_rx) = mpsc::unbounded_channel();
    let (updates, update_rx) = update_queue();
    let peer = sink.peer().map_or_else(|| "unknown".to_string(), |a| a.ip().to_string());
    let writer =
        Writer { sink, peer, control: control_rx, limits, close_by: None, later: BytesMut::new() };
    tokio::spawn(writer.run(update_rx, on_drained));
    WriterHandle { control, updates }
}

struct Writer<W> {
    sink: W,
    /// The peer's address, for log lines.
    peer: String,
    control: mpsc::UnboundedReceiver<Control>,
    limits: Limits,
    /// Set by Close: when the connection is aborted if the queue has not gone out by then.
    close_by: Option<Instant>,
    /// Control bytes that arrived while a write was under way.
    later: BytesMut,
}

/// How one buffer's write ended.
enum Written {
    All,
    /// The peer closed or the socket failed.
    Failed,
    /// No progress for `Limits::stall`.
    Stalled,
    /// Close's grace ran out.
    GraceOver,
}

impl<W: Sink> Writer<W> {
    async fn run(mut self, mut updates: UpdateReceiver, on_drained: Box<dyn Fn() + Send + Sync>) {
        let mut buf = BytesMut::with_capacity(BATCH_BYTES);
        let mut updates_open = true;
        loop {
            if self.close_by.is_none() && buf.is_empty() {
                tokio::select! {
                    biased;
                    item = self.control.recv() => self.take(item, &mut buf),
                    item = updates.recv(), if updates_open => match item {
                        Some(b) => buf.extend_from_slice(&b),
                        None => updates_open = false,
                    },
                }
                // Pack whatever else is already queued, control first.
                while self.close_by.is_none() && buf.len() < BATCH_BYTES {
                    match self.control.try_recv() {
                        Ok(item) => self.take(Some(item), &mut buf),
                        Err(_) => match updates.try_recv() {
                            Some(b) => buf.extend_from_slice(&b),
                            None => break,
                        },
                    }
                }
            }
            if !buf.is_empty() {
                match self.write(&buf).await {
                    Written::All => buf.clear(),
                    Written::Failed => return,
                    Written::Stalled => {
                        warn!(
                            neighbor = %self.peer,
                            stalled_secs = self.limits.stall.as_secs(),
                            "peer reads nothing: connection aborted"
                        );
                        self.sink.abort();
                        return;
                    }
                    Written::GraceOver => {
                        self.sink.abort();
                        return;
                    }
                }
                if !self.later.is_empty() {
                    buf = std::mem::take(&mut self.later);
                    continue;
                }
            }
            if let Some(close_by) = self.close_by {
                if tokio::time::timeout_at(close_by, self.sink.shutdown()).await.is_err() {
                    self.sink.abort();
                }
                return;
            }
            if updates.drained_after_refusal() {
                on_drained();
            }
        }
    }

    /// One control item (`None`: the session dropped its handle, which closes too).
    fn take(&mut self, item: Option<Control>, buf: &mut BytesMut) {
        match item {
            Some(Control::Bytes(b)) => buf.extend_from_slice(&b),
            Some(Control::Close) | None => {
                self.close_by = Some(Instant::now() + self.limits.close_grace);
            }
        }
    }

    /// Write all of `buf`, watching the control queue meanwhile (a Close must not wait behind
    /// a write that cannot finish).
    async fn write(&mut self, buf: &[u8]) -> Written {
        let mut done = 0;
        let mut progress_by = Instant::now() + self.limits.stall;
        while done < buf.len() {
            let deadline = self.close_by.map_or(progress_by, |c| c.min(progress_by));
            tokio::select! {
                biased;
                // `write` is cancel-safe: when it does not complete, nothing was written.
                r = self.sink.write(&buf[done..]) => match r {
                    Ok(0) | Err(_) => return Written::Failed,
                    Ok(n) => {
                        done += n;
                        progress_by = Instant::now() + self.limits.stall;
                    }
                },
                item = self.control.recv(), if self.close_by.is_none() => {
                    let mut later = std::mem::take(&mut self.later);
                    self.take(item, &mut later);
                    self.later = later;
                }
                _ = sleep_until(deadline) => {
                    return match self.close_by {
                        Some(c) if Instant::now() >= c => Written::GraceOver,
                        _ => Written::Stalled,
                    };
                }
            }
        }
        Written::All
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::update_queue::UPDATE_QUEUE_CHUNKS;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn control_and_updates_reach_the_socket_and_close_shuts_down() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let drained = Arc::new(AtomicUsize::new(0));
        let d = drained.clone();
        let w = spawn(
            a,
            Box::new(move || {
                d.fetch_add(1, Ordering::SeqCst);
            }),
        );
        w.send(Bytes::from_static(b"open"));
        w.updates().try_send(Bytes::from_static(b"-upd")).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        w.close();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(&got, b"open-upd");
    }

    /// A sink that records whether it was aborted and dropped.
    struct Recorder {
        inner: tokio::io::DuplexStream,
        aborted: Arc<AtomicBool>,
        dropped: Arc<AtomicBool>,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
        }
        fn poll_flush(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.inner).poll_flush(cx)
        }
        fn poll_shutdown(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    impl Sink for Recorder {
        fn abort(&mut self) {
            self.aborted.store(true, Ordering::SeqCst);
        }
    }

    impl Drop for Recorder {
        fn drop(&mut self) {
            self.dropped.store(true, Ordering::SeqCst);
        }
    }

    /// A writer on a peer that never reads: 8 octets of room, 4 KiB queued.
    fn stuck_writer(
        limits: Limits,
    ) -> (WriterHandle, tokio::io::DuplexStream, [Arc<AtomicBool>; 2]) {
        let (a, b) = tokio::io::duplex(8);
        let aborted = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicBool::new(false));
        let sink = Recorder { inner: a, aborted: aborted.clone(), dropped: dropped.clone() };
        let w = spawn_with(sink, Box::new(|| {}), limits);
        w.send(Bytes::from(vec![1u8; 4096]));
        (w, b, [aborted, dropped])
    }

    const SLOW: Duration = Duration::from_secs(3600);

    #[tokio::test(start_paused = true)]
    async fn close_does_not_wait_behind_a_write_the_peer_never_reads() {
        let limits = Limits { stall: SLOW, close_grace: Duration::from_secs(5) };
        let (w, _never_read, [aborted, dropped]) = stuck_writer(limits);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!dropped.load(Ordering::SeqCst), "a slow peer alone is no reason to give up");
        w.close();
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(!dropped.load(Ordering::SeqCst), "the queue gets its grace");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(aborted.load(Ordering::SeqCst), "the connection is aborted after the grace");
        assert!(dropped.load(Ordering::SeqCst), "the writer let go of the socket");
        assert!(w.updates().is_closed(), "the writer task ended");
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_handle_also_ends_a_stuck_writer() {
        let limits = Limits { stall: SLOW, close_grace: Duration::from_secs(5) };
        let (w, _never_read, [aborted, dropped]) = stuck_writer(limits);
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(w);
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert!(aborted.load(Ordering::SeqCst) && dropped.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_without_progress_for_the_stall_limit_aborts() {
        let limits = Limits { stall: Duration::from_secs(90), close_grace: CLOSE_GRACE };
        let (w, mut peer, [aborted, dropped]) = stuck_writer(limits);
        // The peer reads a little now and then: each read is progress.
        let mut chunk = [0u8; 8];
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(60)).await;
            peer.read_exact(&mut chunk).await.unwrap();
        }
        assert!(!dropped.load(Ordering::SeqCst), "progress keeps the writer going");
        tokio::time::sleep(Duration::from_secs(89)).await;
        assert!(!dropped.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(aborted.load(Ordering::SeqCst), "90 s without progress aborts");
        assert!(dropped.load(Ordering::SeqCst));
        assert!(w.updates().is_closed());
    }

    #[tokio::test(start_paused = true)]
    async fn close_lets_the_queue_out_when_the_peer_reads_within_the_grace() {
        let limits = Limits { stall: SLOW, close_grace: Duration::from_secs(5) };
        let (w, mut peer, [aborted, dropped]) = stuck_writer(limits);
        tokio::time::sleep(Duration::from_secs(1)).await;
        w.send(Bytes::from_static(b"notification"));
        w.close();
        w.send(Bytes::from_static(b"after close"));
        let mut got = Vec::new();
        peer.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), 4096 + b"notification".len());
        assert!(got.ends_with(b"notification"));
        assert!(!aborted.load(Ordering::SeqCst), "a clean close, not an abort");
        assert!(dropped.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn full_queue_refuses_and_drain_is_reported() {
        // A duplex with a tiny buffer: the writer blocks on the first write.
        let (a, mut b) = tokio::io::duplex(8);
        let drained = Arc::new(AtomicUsize::new(0));
        let d = drained.clone();
        let w = spawn(
            a,
            Box::new(move || {
                d.fetch_add(1, Ordering::SeqCst);
            }),
        );
        let up = w.updates();
        let mut refused = false;
        for _ in 0..(UPDATE_QUEUE_CHUNKS * 4) {
            if up.try_send(Bytes::from(vec![7u8; 64])).is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused, "a bounded queue must refuse eventually");
        // Read everything: the writer drains and reports it.
        let reader = tokio::spawn(async move {
            let mut sink = vec![0u8; 4096];
            let mut total = 0;
            while let Ok(n) = b.read(&mut sink).await {
                if n == 0 {
                    break;
                }
                total += n;
            }
            total
        });
        for _ in 0..100 {
            if drained.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(drained.load(Ordering::SeqCst), 1);
        w.close();
        assert!(reader.await.unwrap() >= 64);
    }
}
