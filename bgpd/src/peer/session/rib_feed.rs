//! A session's inputs for the RIB owner task, kept in order, handed over without ever making
//! the session wait.
//!
//! The RIB's input queue is shared by every session and bounded. A session that awaited room
//! in it would serve no timer meanwhile: no KEEPALIVE out, and its Hold Timer running on
//! against messages it does not read, so one busy RIB (a refresh storm, a flapping peer)
//! could take every session down. Instead an input that finds the queue full waits here, and
//! the session:
//! - stops reading from the socket and decoding buffered messages (TCP back-pressure reaches
//!   the peer), so at most one message's input plus the session's up/down notices wait;
//! - offers the waiting inputs with [`RibFeed::room`] as one branch of its `select!`, while
//!   commands and timers (KEEPALIVEs) are still served;
//! - does not let its own Hold Timer expire while it is the one not reading (see
//!   `Session::timer_expired`).
use std::collections::VecDeque;

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::{self, OwnedPermit};

use crate::messages::RibInput;

pub struct RibFeed {
    tx: mpsc::Sender<RibInput>,
    /// Inputs the RIB's queue had no room for yet, oldest first.
    waiting: VecDeque<RibInput>,
}

impl RibFeed {
    pub fn new(tx: mpsc::Sender<RibInput>) -> RibFeed {
        RibFeed { tx, waiting: VecDeque::new() }
    }

    /// The RIB's queue, for callers that only ever `try_send` (the writer's drain notice).
    pub fn sender(&self) -> &mpsc::Sender<RibInput> {
        &self.tx
    }

    /// Hand `input` to the RIB behind whatever already waits. Returns `true` when it had to
    /// wait (the feed just became blocked).
    pub fn push(&mut self, input: RibInput) -> bool {
        if !self.waiting.is_empty() {
            self.waiting.push_back(input);
            return false;
        }
        match self.tx.try_send(input) {
            Ok(()) => false,
            Err(TrySendError::Full(input)) => {
                self.waiting.push_back(input);
                true
            }
            // The RIB task is gone: the daemon is stopping.
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Inputs wait for room: the session reads nothing from its peer meanwhile.
    pub fn is_blocked(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Room for the oldest waiting input (`None`: the RIB is gone). Never completes while
    /// nothing waits, so it can sit in a `select!` as it is.
    pub async fn room(&self) -> Option<OwnedPermit<RibInput>> {
        if self.waiting.is_empty() {
            std::future::pending::<()>().await;
        }
        self.tx.clone().reserve_owned().await.ok()
    }

    /// Send the oldest waiting input with `permit` (from [`RibFeed::room`]), then as many of
    /// the others as fit. Returns `true` when nothing waits any more.
    pub fn deliver(&mut self, permit: Option<OwnedPermit<RibInput>>) -> bool {
        let Some(permit) = permit else {
            self.waiting.clear();
            return true;
        };
        match self.waiting.pop_front() {
            Some(input) => {
                permit.send(input);
            }
            None => return true,
        }
        while let Some(input) = self.waiting.pop_front() {
            match self.tx.try_send(input) {
                Ok(()) => {}
                Err(TrySendError::Full(input)) => {
                    self.waiting.push_front(input);
                    return false;
                }
                Err(TrySendError::Closed(_)) => self.waiting.clear(),
            }
        }
        true
    }

    /// Wait until everything waiting is handed over (the session is ending).
    pub async fn flush(&mut self) {
        while let Some(input) = self.waiting.pop_front() {
            if self.tx.send(input).await.is_err() {
                self.waiting.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writable(n: u8) -> RibInput {
        RibInput::Writable { peer: std::net::IpAddr::from([127, 0, 0, n]) }
    }

    fn peer_of(input: RibInput) -> u8 {
        match input {
            RibInput::Writable { peer: std::net::IpAddr::V4(a) } => a.octets()[3],
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn inputs_wait_in_order_and_are_delivered_when_there_is_room() {
        let (tx, mut rx) = mpsc::channel(1);
        let mut feed = RibFeed::new(tx);
        assert!(!feed.push(writable(1)), "room: handed over at once");
        assert!(feed.push(writable(2)), "full: now blocked");
        assert!(!feed.push(writable(3)), "already blocked");
        assert!(feed.is_blocked());
        // Nothing is ready while the RIB has not taken the first input.
        let pending = tokio::time::timeout(std::time::Duration::from_millis(10), feed.room());
        assert!(pending.await.is_err());
        assert_eq!(rx.recv().await.map(peer_of), Some(1));
        let permit = feed.room().await;
        assert!(!feed.deliver(permit), "3 still waits: the queue holds 2");
        assert_eq!(rx.recv().await.map(peer_of), Some(2));
        let permit = feed.room().await;
        assert!(feed.deliver(permit));
        assert!(!feed.is_blocked());
        assert_eq!(rx.recv().await.map(peer_of), Some(3));
    }

    #[tokio::test]
    async fn a_closed_rib_unblocks_the_feed() {
        let (tx, rx) = mpsc::channel(1);
        let mut feed = RibFeed::new(tx);
        feed.push(writable(1));
        feed.push(writable(2));
        drop(rx);
        let permit = feed.room().await;
        assert!(feed.deliver(permit));
        assert!(!feed.is_blocked());
        feed.push(writable(3));
        assert!(!feed.is_blocked());
    }
}
