//! The RIB's queue of encoded UPDATEs toward one connection, and its back-pressure signal.
//!
//! The RIB owner task holds the [`UpdateSender`] (handed over in `RibInput::PeerUp`); the
//! connection's writer task (`peer/writer.rs`) holds the [`UpdateReceiver`]. The queue is
//! bounded: a slow peer fills it, the RIB's `try_send` is refused and the RIB stops generating
//! UPDATEs for that peer until the writer, having emptied the queue, reports it
//! (`RibInput::Writable`). Back-pressure instead of unbounded memory.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

/// UPDATE queue depth, in chunks (each chunk is up to ~64 KiB of whole messages).
pub const UPDATE_QUEUE_CHUNKS: usize = 16;

/// A new UPDATE queue of [`UPDATE_QUEUE_CHUNKS`] chunks.
pub fn update_queue() -> (UpdateSender, UpdateReceiver) {
    let (tx, rx) = mpsc::channel(UPDATE_QUEUE_CHUNKS);
    let want_drain = Arc::new(AtomicBool::new(false));
    (UpdateSender { tx, want_drain: want_drain.clone() }, UpdateReceiver { rx, want_drain })
}

/// The RIB's handle on a connection's UPDATE queue.
#[derive(Clone, Debug)]
pub struct UpdateSender {
    tx: mpsc::Sender<Bytes>,
    /// Set when a `try_send` found the queue full: the receiver reports when it is drained.
    want_drain: Arc<AtomicBool>,
}

impl UpdateSender {
    /// Queue whole encoded UPDATE messages. `Err` gives the chunk back when the queue is full
    /// (try again after the drained callback) or the connection is gone (`is_closed`).
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

/// The writer's end of the UPDATE queue.
#[derive(Debug)]
pub struct UpdateReceiver {
    rx: mpsc::Receiver<Bytes>,
    want_drain: Arc<AtomicBool>,
}

impl UpdateReceiver {
    /// The next chunk; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Bytes> {
        self.rx.recv().await
    }

    /// A chunk that is already queued, if any.
    pub fn try_recv(&mut self) -> Option<Bytes> {
        self.rx.try_recv().ok()
    }

    /// `true` once: when the queue is empty and a sender was refused since the last time.
    /// The writer then tells the RIB (`RibInput::Writable`).
    pub fn drained_after_refusal(&self) -> bool {
        self.rx.is_empty() && self.want_drain.swap(false, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_sender_is_told_once_when_the_queue_has_drained() {
        let (tx, mut rx) = update_queue();
        let chunk = || Bytes::from_static(b"update");
        for _ in 0..UPDATE_QUEUE_CHUNKS {
            tx.try_send(chunk()).unwrap();
        }
        assert!(!rx.drained_after_refusal(), "nobody was refused yet");
        assert_eq!(tx.try_send(chunk()), Err(chunk()), "full: the chunk comes back");
        assert!(!rx.drained_after_refusal(), "not drained yet");
        while rx.try_recv().is_some() {}
        assert!(rx.drained_after_refusal());
        assert!(!rx.drained_after_refusal(), "reported once");
        drop(rx);
        assert!(tx.is_closed());
    }
}
