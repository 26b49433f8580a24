//! Our own TCP connection attempt to the neighbour (RFC 4271 Event 16/17 come back as
//! `Internal::Dialed`). At most one dial runs per session; whenever the FSM or a collision
//! decision abandons it ("abort the dial in progress", RFC 4271 §6.8 / §8.2.2), its task is
//! aborted at once, so no connection from a forgotten dial ever reaches the peer and no task
//! or socket outlives the decision (or the session).
use std::time::Duration;

use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tracing::{debug, info};

use super::{Internal, Session};
use crate::peer::socket;
use bgp_core::fsm::{Event, State, TimerKind};

/// Which of the session's dials a result comes from. Every dial started or abandoned moves
/// the session's current id on, so a result that arrives after its dial was abandoned
/// carries an old id and is ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct DialId(u64);

impl DialId {
    fn next(self) -> DialId {
        DialId(self.0 + 1)
    }
}

/// The dial in progress. Dropping it aborts the task (its socket, if any, is closed).
pub(super) struct DialTask {
    task: JoinHandle<()>,
}

impl Drop for DialTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Session {
    /// Start a dial; one still in progress is aborted first.
    pub(super) fn dial(&mut self) {
        self.abort_dial();
        let id = self.current_dial;
        let remote = self.params.neighbor.remote();
        let opts = self.params.socket.clone();
        let tx = self.internal_tx.clone();
        // The ConnectRetryTimer bounds a dial (see `note_unanswered_dial`); this limit only
        // backs it up, so it is longer and the two never race.
        let limit = self.params.fsm.connect_retry.max(Duration::from_secs(1)) * 2;
        let delay = std::mem::take(&mut self.params.first_dial_delay);
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let result = match tokio::time::timeout(limit, socket::connect(remote, &opts)).await {
                Ok(r) => r,
                Err(_) => {
                    Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))
                }
            };
            let _ = tx.send(Internal::Dialed(id, result));
        });
        self.dial = Some(DialTask { task });
    }

    /// Abort the dial in progress, if any: its result, should one be queued already, is
    /// stale from now on (its [`DialId`] is no longer the current one).
    pub(super) fn abort_dial(&mut self) {
        self.current_dial = self.current_dial.next();
        self.dial = None;
    }

    /// The dial `id` reported its connection (or its failure): the FSM's connection, RFC 4271
    /// Event 16/17 (TcpCrAcked) or Event 18 (TcpConnectionFails), unless the dial is stale.
    pub(super) async fn dialed(&mut self, id: DialId, result: std::io::Result<TcpStream>) {
        if !self.dial_reported(id) || self.fsm.state() != State::Connect || self.conn.is_some() {
            return; // A stale dial: dropping the stream closes it.
        }
        match result {
            Ok(stream) => match self.attach(stream, true, BytesMut::new()) {
                Ok(()) => self.feed(Event::TcpCrAcked).await,
                Err(e) => self.feed(Event::TcpConnectionFails(Some(e.kind()))).await,
            },
            Err(e) => {
                debug!(neighbor = %self.label, error = %e, "connect failed");
                self.status.lock().last_error = Some(format!("connect: {e}"));
                self.feed(Event::TcpConnectionFails(Some(e.kind()))).await;
            }
        }
    }

    /// The dial `id` reported: `true` if it is the current one (and it is done with).
    fn dial_reported(&mut self, id: DialId) -> bool {
        if id != self.current_dial {
            return false;
        }
        self.dial = None;
        true
    }

    /// RFC 4271 §8.2.2 (Connect state): when the ConnectRetryTimer expires the FSM drops
    /// the dial in flight and starts another. The dropped dial never reports, so say here
    /// why the session is not up (a peer that silently drops our SYN, e.g. a TCP MD5 key
    /// mismatch, would otherwise show no error at all).
    pub(super) fn note_unanswered_dial(&mut self, kind: TimerKind) {
        if kind != TimerKind::ConnectRetry
            || self.fsm.state() != State::Connect
            || self.conn.is_some()
        {
            return;
        }
        let secs = self.params.fsm.connect_retry.as_secs();
        let text = format!("connect: timed out (no answer within {secs} s)");
        info!(neighbor = %self.label, reason = %text, "dial abandoned, retrying");
        self.status.lock().last_error = Some(text);
    }
}
