//! RFC 4271 §8.2.2 Idle.
use std::time::Duration;

use super::*;
use crate::fsm::{IncomingDecision, Refusal};
use crate::wire::DecodeError;

#[test]
fn new_fsm_is_idle_and_refuses_connections() {
    let fsm = Fsm::new(config());
    assert_eq!(fsm.state(), State::Idle);
    assert_eq!(incoming(&fsm), IncomingDecision::Refuse(Refusal::Stopped));
    assert!(fsm.negotiated().is_none());
    assert!(fsm.last_error().is_none());
}

#[test]
fn manual_start_dials_and_goes_to_connect() {
    let mut fsm = Fsm::new(config());
    let expected = [
        Output::StartTimer(TimerKind::ConnectRetry, Duration::from_secs(5)),
        Output::Connect,
        Output::StateChanged { from: State::Idle, to: State::Connect, event: "ManualStart" },
    ];
    expect_outputs(&mut fsm, Event::ManualStart, &expected, State::Connect);
}

#[test]
fn automatic_start_dials_too() {
    let mut fsm = Fsm::new(config());
    let out = fsm.handle(Event::AutomaticStart);
    assert!(out.contains(&Output::Connect));
    assert_eq!(fsm.state(), State::Connect);
}

#[test]
fn passive_starts_go_to_active() {
    for event in [
        Event::ManualStartWithPassiveTcpEstablishment,
        Event::AutomaticStartWithPassiveTcpEstablishment,
    ] {
        // Active configuration: wait, and dial when the ConnectRetryTimer expires.
        let mut fsm = Fsm::new(config());
        let out = fsm.handle(event.clone());
        assert!(!out.contains(&Output::Connect));
        assert_eq!(started(&out, TimerKind::ConnectRetry), Some(Duration::from_secs(5)));
        assert_eq!(fsm.state(), State::Active);
        assert!(fsm.handle(Event::ConnectRetryTimerExpires).contains(&Output::Connect));
        // Passive configuration: never dial.
        let mut fsm = Fsm::new(FsmConfig { passive: true, ..config() });
        let out = fsm.handle(event);
        assert!(started(&out, TimerKind::ConnectRetry).is_none());
        assert_eq!(fsm.state(), State::Active);
    }
    // A passive config turns the plain start events passive.
    for event in [Event::ManualStart, Event::AutomaticStart] {
        let mut fsm = Fsm::new(FsmConfig { passive: true, ..config() });
        let out = fsm.handle(event);
        assert!(
            matches!(
                out.as_slice(),
                [Output::StateChanged { from: State::Idle, to: State::Active, .. }]
            ),
            "{out:?}"
        );
        assert_eq!(incoming(&fsm), IncomingDecision::Accept);
    }
}

#[test]
fn manual_stop_is_ignored_but_holds_until_manual_start() {
    let mut fsm = Fsm::new(config());
    assert_eq!(fsm.handle(Event::manual_stop()), vec![]);
    assert_eq!(fsm.state(), State::Idle);
    assert!(fsm.is_admin_down());
    expect_ignored(&mut fsm, Event::AutomaticStart);
    expect_ignored(&mut fsm, Event::AutomaticStartWithPassiveTcpEstablishment);
    fsm.handle(Event::ManualStart);
    assert_eq!(fsm.state(), State::Connect);
    assert!(!fsm.is_admin_down());
}

#[test]
fn manual_stop_cancels_a_pending_automatic_restart() {
    let mut fsm = open_sent(config());
    fsm.handle(Event::HoldTimerExpires);
    assert!(fsm.timer_running(TimerKind::IdleHold));
    let out = fsm.handle(Event::manual_stop());
    assert_eq!(out, vec![Output::StopTimer(TimerKind::IdleHold)]);
    expect_ignored(&mut fsm, Event::IdleHoldTimerExpires);
    expect_ignored(&mut fsm, Event::AutomaticStart);
}

#[test]
fn other_events_do_not_change_idle() {
    let mut events = stop_timer_and_tcp_events();
    events.extend([
        Event::BgpOpen(peer_open()),
        Event::BgpOpenWithDelayOpenTimerRunning(peer_open()),
    ]);
    events.extend(error_and_notification_events());
    events.extend([
        Event::UpdateMsg,
        Event::UpdateMsgErr(DecodeError::MalformedAsPath),
        Event::RouteRefreshMsg,
        Event::RouteRefreshMsgErr(DecodeError::BadMessageType(9)),
    ]);
    expect_each_ignored(|| Fsm::new(config()), events);
}

#[test]
fn automatic_start_waits_for_the_idle_hold_timer() {
    let mut fsm = open_sent(config());
    fsm.handle(Event::HoldTimerExpires);
    assert_eq!(fsm.state(), State::Idle);
    expect_ignored(&mut fsm, Event::AutomaticStart);
    let out = fsm.handle(Event::IdleHoldTimerExpires);
    assert!(out.contains(&Output::Connect));
    assert_eq!(fsm.state(), State::Connect);
}

#[test]
fn idle_hold_restart_follows_the_configuration() {
    // A passive start on an active configuration (the runtime accepted a connection in Idle)
    // restarts actively.
    let mut fsm = Fsm::new(config());
    fsm.handle(Event::AutomaticStartWithPassiveTcpEstablishment);
    fsm.handle(Event::TcpConnectionConfirmed);
    assert_eq!(fsm.state(), State::OpenSent);
    fsm.handle(Event::HoldTimerExpires);
    let out = fsm.handle(Event::IdleHoldTimerExpires);
    assert!(out.contains(&Output::Connect));
    // A passive configuration restarts passively.
    let mut fsm = Fsm::new(FsmConfig { passive: true, ..config() });
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpConnectionConfirmed);
    fsm.handle(Event::HoldTimerExpires);
    let out = fsm.handle(Event::IdleHoldTimerExpires);
    assert!(!out.contains(&Output::Connect));
    assert_eq!(fsm.state(), State::Active);
}

#[test]
fn manual_start_clears_the_back_off() {
    let mut fsm = open_sent(config());
    fsm.handle(Event::HoldTimerExpires);
    assert_eq!(fsm.error_count(), 1);
    let out = fsm.handle(Event::ManualStart);
    assert!(stopped(&out, TimerKind::IdleHold));
    assert!(out.contains(&Output::Connect));
    assert_eq!(fsm.error_count(), 0);
}
