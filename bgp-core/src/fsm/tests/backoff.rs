//! The idle-hold back-off: doubling, cap, reset.
use std::time::Duration;

use super::*;
use crate::fsm::{Backoff, IdleHoldConfig};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn delay_doubles_up_to_the_cap() {
    let cfg = IdleHoldConfig::default();
    let mut b = Backoff::default();
    let delays: Vec<u64> = (0..8).map(|_| b.next_delay(&cfg).as_secs()).collect();
    assert_eq!(delays, vec![5, 10, 20, 40, 80, 120, 120, 120]);
    for _ in 0..100 {
        assert_eq!(b.next_delay(&cfg), secs(120), "no overflow");
    }
    b.reset();
    assert_eq!(b.next_delay(&cfg), secs(5));
}

/// From Connect: the session reaches OpenSent and its hold timer expires.
fn fail_once(fsm: &mut Fsm) -> Duration {
    fsm.handle(Event::TcpCrAcked);
    let out = fsm.handle(Event::HoldTimerExpires);
    started(&out, TimerKind::IdleHold).unwrap()
}

#[test]
fn consecutive_errors_double_the_idle_hold() {
    let mut fsm = connect(config());
    let mut waits = Vec::new();
    for _ in 0..7 {
        waits.push(fail_once(&mut fsm).as_secs());
        assert_eq!(fsm.state(), State::Idle);
        let out = fsm.handle(Event::IdleHoldTimerExpires);
        assert!(out.contains(&Output::Connect), "restarts automatically");
    }
    assert_eq!(waits, vec![5, 10, 20, 40, 80, 120, 120]);
    assert_eq!(fsm.error_count(), 7);
}

#[test]
fn a_long_enough_session_forgets_the_errors() {
    let mut fsm = connect(config());
    fail_once(&mut fsm);
    fsm.handle(Event::IdleHoldTimerExpires);
    fail_once(&mut fsm);
    fsm.handle(Event::IdleHoldTimerExpires);
    assert_eq!(fsm.error_count(), 2);
    // Established, but down before ErrorForget: the sequence goes on.
    fsm.handle(Event::TcpCrAcked);
    fsm.handle(Event::BgpOpen(peer_open()));
    fsm.handle(Event::KeepAliveMsg);
    let out = fsm.handle(Event::TcpConnectionFails(None));
    assert_eq!(started(&out, TimerKind::IdleHold), Some(secs(20)));
    // Established long enough: forgotten.
    fsm.handle(Event::IdleHoldTimerExpires);
    fsm.handle(Event::TcpCrAcked);
    fsm.handle(Event::BgpOpen(peer_open()));
    fsm.handle(Event::KeepAliveMsg);
    assert_eq!(fsm.handle(Event::ErrorForgetTimerExpires), vec![]);
    assert_eq!(fsm.error_count(), 0);
    let out = fsm.handle(Event::HoldTimerExpires);
    assert_eq!(started(&out, TimerKind::IdleHold), Some(secs(5)));
}

#[test]
fn custom_back_off_configuration() {
    let cfg = FsmConfig {
        idle_hold: IdleHoldConfig {
            initial: secs(1),
            max: secs(3),
            forget_after: secs(60),
            accept_incoming_errors: 2,
        },
        ..config()
    };
    let mut fsm = connect(cfg);
    let waits: Vec<u64> = (0..4)
        .map(|_| {
            let w = fail_once(&mut fsm).as_secs();
            fsm.handle(Event::IdleHoldTimerExpires);
            w
        })
        .collect();
    assert_eq!(waits, vec![1, 2, 3, 3]);
    fsm.handle(Event::TcpCrAcked);
    fsm.handle(Event::BgpOpen(peer_open()));
    let out = fsm.handle(Event::KeepAliveMsg);
    assert_eq!(started(&out, TimerKind::ErrorForget), Some(secs(60)));
}
