//! RFC 4271 §8.2.2 OpenConfirm.
use std::io::ErrorKind;
use std::time::Duration;

use super::*;
use crate::fsm::DownReason;
use crate::wire::{DecodeError, Notification};

#[test]
fn start_events_and_second_connections_are_ignored() {
    expect_each_ignored(|| open_confirm(config()), start_and_second_connection_events());
}

#[test]
fn manual_stop_sends_cease_and_stays_idle() {
    let mut fsm = open_confirm(config());
    let out = fsm.handle(Event::manual_stop());
    check_order(&out);
    assert_eq!(notification(&out), Some((6, 2)));
    assert!(stopped(&out, TimerKind::Hold) && stopped(&out, TimerKind::Keepalive));
    assert!(started(&out, TimerKind::IdleHold).is_none());
    assert_eq!(fsm.state(), State::Idle);
    assert!(fsm.negotiated().is_none());
}

#[test]
fn automatic_stop_and_hold_expiry_notify() {
    let mut fsm = open_confirm(config());
    expect_error_to_idle(&mut fsm, Event::AutomaticStop(Notification::new(6, 1)), Some((6, 1)));
    let mut fsm = open_confirm(config());
    expect_error_to_idle(&mut fsm, Event::HoldTimerExpires, Some((4, 0)));
}

#[test]
fn keepalive_timer_sends_keepalive_and_restarts() {
    let mut fsm = open_confirm(config());
    expect_keepalive_sent(&mut fsm);
}

#[test]
fn tcp_failure_and_notifications_go_idle() {
    let mut fsm = open_confirm(config());
    expect_error_to_idle(&mut fsm, Event::TcpConnectionFails(Some(ErrorKind::BrokenPipe)), None);
    assert_eq!(fsm.last_down(), Some(&DownReason::ConnectionFailed(Some(ErrorKind::BrokenPipe))));
    let mut fsm = open_confirm(config());
    expect_error_to_idle(&mut fsm, Event::NotifMsg(Notification::new(6, 2)), None);
    let mut fsm = open_confirm(config());
    expect_error_to_idle(&mut fsm, Event::NotifMsgVerErr(Notification::new(2, 1)), None);
}

#[test]
fn decode_errors_are_reported() {
    let mut fsm = open_confirm(config());
    expect_error_to_idle(
        &mut fsm,
        Event::BgpHeaderErr(DecodeError::BadMessageLength(5)),
        Some((1, 2)),
    );
    let mut fsm = open_confirm(config());
    expect_error_to_idle(
        &mut fsm,
        Event::BgpOpenMsgErr(DecodeError::BadBgpIdentifier),
        Some((2, 3)),
    );
}

#[test]
fn collision_dump_sends_cease_7() {
    let mut fsm = open_confirm(config());
    let out = fsm.handle(Event::OpenCollisionDump);
    assert_eq!(notification(&out), Some((6, 7)));
    assert_eq!(fsm.state(), State::Active);
    assert!(session_down(&out).is_none());
}

#[test]
fn keepalive_establishes_once() {
    let mut fsm = open_confirm(config());
    let out = fsm.handle(Event::KeepAliveMsg);
    check_order(&out);
    assert_eq!(started(&out, TimerKind::Hold), Some(Duration::from_secs(90)));
    assert_eq!(started(&out, TimerKind::ErrorForget), Some(Duration::from_secs(300)));
    let established: Vec<_> = out.iter().filter(|o| matches!(o, Output::Established(_))).collect();
    assert_eq!(established.len(), 1);
    let Output::Established(n) = established[0] else { unreachable!() };
    assert_eq!(Some(n), fsm.negotiated());
    assert_eq!(state_change(&out), Some((State::OpenConfirm, State::Established)));
    // Further KEEPALIVEs do not announce the session again.
    let out = fsm.handle(Event::KeepAliveMsg);
    assert!(!out.iter().any(|o| matches!(o, Output::Established(_))));
}

#[test]
fn unexpected_events_are_fsm_error_2() {
    let events = vec![
        Event::BgpOpen(peer_open()),
        Event::BgpOpenWithDelayOpenTimerRunning(peer_open()),
        Event::UpdateMsg,
        Event::UpdateMsgErr(DecodeError::InvalidNetworkField),
        Event::RouteRefreshMsg,
        Event::RouteRefreshMsgErr(DecodeError::RouteRefreshInvalidLength(Default::default())),
    ];
    expect_each_error_to_idle(|| open_confirm(config()), events, Some((5, 2)));
}

#[test]
fn stale_timer_expiries_are_ignored() {
    let events = vec![
        Event::ConnectRetryTimerExpires,
        Event::DelayOpenTimerExpires,
        Event::IdleHoldTimerExpires,
        Event::ErrorForgetTimerExpires,
    ];
    expect_each_ignored(|| open_confirm(config()), events);
}
