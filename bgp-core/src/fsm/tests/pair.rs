//! Two FSMs talking through the real codec: A dials, B is passive.
use std::collections::VecDeque;

use super::*;
use crate::fsm::{DownReason, Negotiated};
use crate::wire::message::decode_message;
use crate::wire::{Notification, WireContext};

/// A wire between two FSMs: every Send is encoded with the sender's context and decoded by
/// the receiver with its own, as the runtime does.
struct Pair {
    a: Fsm,
    b: Fsm,
    /// (to_b, event) queue.
    queue: VecDeque<(bool, Event)>,
    a_tx: WireContext,
    b_tx: WireContext,
    up: Vec<(bool, Negotiated)>,
    down: Vec<(bool, DownReason)>,
}

impl Pair {
    fn new() -> Pair {
        let a = Fsm::new(config());
        let mut b_cfg = FsmConfig::new(PEER_AS, PEER_ID, LOCAL_AS);
        b_cfg.passive = true;
        Pair {
            a,
            b: Fsm::new(b_cfg),
            queue: VecDeque::new(),
            a_tx: WireContext::default(),
            b_tx: WireContext::default(),
            up: Vec::new(),
            down: Vec::new(),
        }
    }

    fn feed(&mut self, to_b: bool, event: Event) {
        self.queue.push_back((to_b, event));
        while let Some((to_b, event)) = self.queue.pop_front() {
            let out = if to_b { self.b.handle(event) } else { self.a.handle(event) };
            check_order(&out);
            for o in out {
                self.apply(to_b, o);
            }
        }
    }

    /// Apply an output of the FSM on side `b` (true) or `a` (false).
    fn apply(&mut self, b: bool, o: Output) {
        match o {
            Output::Connect => {
                // The passive side accepts; the dialer's connection is up.
                self.queue.push_back((true, Event::TcpConnectionConfirmed));
                self.queue.push_back((false, Event::TcpCrAcked));
            }
            Output::Send(msg) => {
                let ctx = if b { &self.b_tx } else { &self.a_tx };
                let wire = msg.to_bytes(ctx).unwrap();
                let rx_ctx = if b { &self.a_tx } else { &self.b_tx }; // symmetric here
                let decoded = decode_message(wire, rx_ctx).unwrap();
                self.queue.push_back((!b, Event::from_message(&decoded)));
            }
            Output::CloseConnection => self.queue.push_back((!b, Event::TcpConnectionFails(None))),
            Output::Established(n) => {
                if b {
                    self.b_tx = n.tx.clone();
                } else {
                    self.a_tx = n.tx.clone();
                }
                self.up.push((b, n));
            }
            Output::SessionDown(r) => self.down.push((b, r)),
            _ => {}
        }
    }
}

#[test]
fn two_fsms_establish_and_shut_down() {
    let mut p = Pair::new();
    p.feed(true, Event::ManualStart);
    assert_eq!(p.b.state(), State::Active);
    p.feed(false, Event::ManualStart);
    assert_eq!(p.a.state(), State::Established);
    assert_eq!(p.b.state(), State::Established);
    assert_eq!(p.up.len(), 2);
    let (a, b) = (p.a.negotiated().unwrap(), p.b.negotiated().unwrap());
    assert_eq!((a.peer_as, b.peer_as), (PEER_AS, LOCAL_AS));
    assert_eq!(a.rx, b.tx);
    assert_eq!(a.families, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    // Keepalives flow.
    p.feed(false, Event::KeepaliveTimerExpires);
    assert_eq!(p.b.state(), State::Established);
    // A stops with a shutdown communication; B sees the Cease and backs off.
    p.feed(false, Event::ManualStop { cease_subcode: 2, message: "maintenance".into() });
    assert_eq!(p.a.state(), State::Idle);
    assert_eq!(p.b.state(), State::Idle);
    assert!(p.b.timer_running(TimerKind::IdleHold));
    assert!(!p.a.timer_running(TimerKind::IdleHold));
    let (b_side, reason) = &p.down[1];
    assert!(*b_side);
    let DownReason::NotificationReceived(n) = reason else { panic!("{reason:?}") };
    assert_eq!(n, &Notification::cease_with_message(2, "maintenance"));
    assert!(p.b.last_error().is_some_and(|e| e.contains("maintenance")));
}
