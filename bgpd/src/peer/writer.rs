//! The write side of one BGP connection: a task that owns the socket's write half.
//!
//! Two queues feed it. The session's control queue (OPEN, KEEPALIVE, NOTIFICATION,
//! ROUTE-REFRESH, close) is unbounded and always served first, so a keepalive never waits
//! behind a table dump. The RIB's UPDATE queue is bounded: a slow peer fills it, the RIB sees
//! `try_send` fail and stops generating UPDATEs for that peer until the writer reports the
//! queue drained (back-pressure instead of unbounded memory). Whatever is queued when the
//! writer wakes is packed into one buffer and written with one `write_all` (write batching).
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Batches up to this many octets per write.
const BATCH_BYTES: usize = 256 * 1024;
/// UPDATE queue depth, in chunks (each chunk is up to ~64 KiB of whole messages).
pub const UPDATE_QUEUE_CHUNKS: usize = 16;

/// A control item for the writer.
#[derive(Debug)]
pub enum Control {
    /// One or more whole encoded messages.
    Bytes(Bytes),
    /// Write what is queued on the control queue, then shut the connection down.
    Close,
}

/// The RIB's handle on a connection's UPDATE queue.
#[derive(Clone, Debug)]
pub struct UpdateSender {
    tx: mpsc::Sender<Bytes>,
    want_drain: Arc<AtomicBool>,
}

impl UpdateSender {
    /// Queue whole encoded UPDATE messages. `Err` gives the chunk back when the queue is full
    /// (try again after the drained callback) or the connection is gone (`is_closed`).
    #[allow(clippy::result_large_err)]
    pub fn try_send(&self, chunk: Bytes) -> Result<(), Bytes> {
        match self.tx.try_send(chunk) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(c)) => {
                self.want_drain.store(true, Ordering::Release);
                Err(c)
            }
            Err(mpsc::error::TrySendError::Closed(c)) => Err(c),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Free chunk slots right now.
    pub fn capacity(&self) -> usize {
        self.tx.capacity()
    }
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

/// Spawn the writer for `sink`. `on_drained` runs when the UPDATE queue has been emptied
/// after a `try_send` found it full.
pub fn spawn<W>(sink: W, on_drained: Box<dyn Fn() + Send + Sync>) -> WriterHandle
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (control, control_rx) = mpsc::unbounded_channel();
    let (tx, update_rx) = mpsc::channel(UPDATE_QUEUE_CHUNKS);
    let want_drain = Arc::new(AtomicBool::new(false));
    let updates = UpdateSender { tx, want_drain: want_drain.clone() };
    tokio::spawn(run(sink, control_rx, update_rx, want_drain, on_drained));
    WriterHandle { control, updates }
}

async fn run<W: AsyncWrite + Unpin>(
    mut sink: W,
    mut control: mpsc::UnboundedReceiver<Control>,
    mut updates: mpsc::Receiver<Bytes>,
    want_drain: Arc<AtomicBool>,
    on_drained: Box<dyn Fn() + Send + Sync>,
) {
    let mut buf = BytesMut::with_capacity(BATCH_BYTES);
    let mut updates_open = true;
    loop {
        let mut closing = false;
        tokio::select! {
            biased;
            item = control.recv() => match item {
                Some(Control::Bytes(b)) => buf.extend_from_slice(&b),
                Some(Control::Close) | None => closing = true,
            },
            item = updates.recv(), if updates_open => match item {
                Some(b) => buf.extend_from_slice(&b),
                None => updates_open = false,
            },
        }
        // Pack whatever else is already queued, control first.
        while !closing && buf.len() < BATCH_BYTES {
            match control.try_recv() {
                Ok(Control::Bytes(b)) => buf.extend_from_slice(&b),
                Ok(Control::Close) => closing = true,
                Err(_) => match updates.try_recv() {
                    Ok(b) => buf.extend_from_slice(&b),
                    Err(_) => break,
                },
            }
        }
        if !buf.is_empty() {
            if sink.write_all(&buf).await.is_err() {
                return;
            }
            buf.clear();
        }
        if closing {
            let _ = sink.shutdown().await;
            return;
        }
        if updates.is_empty() && want_drain.swap(false, Ordering::AcqRel) {
            on_drained();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
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
