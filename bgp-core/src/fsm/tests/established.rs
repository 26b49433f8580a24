//! RFC 4271 §8.2.2 Established.
use std::time::Duration;

use super::*;
use crate::fsm::DownReason;
use crate::wire::{DecodeError, Notification};

fn expect_down(fsm: &mut Fsm, event: Event, notif: Option<(u8, u8)>) -> DownReason {
    let out = fsm.handle(event.clone());
    check_order(&out);
    assert_eq!(notification(&out), notif, "{}: {out:?}", event.name());
    let downs: Vec<_> = out.iter().filter(|o| matches!(o, Output::SessionDown(_))).collect();
    assert_eq!(downs.len(), 1, "{out:?}");
    assert!(stopped(&out, TimerKind::Keepalive));
    assert!(stopped(&out, TimerKind::ErrorForget));
    for kind in [TimerKind::Hold, TimerKind::Keepalive, TimerKind::ErrorForget] {
        assert!(!fsm.timer_running(kind), "{kind:?}");
    }
    assert!(fsm.negotiated().is_none());
    assert_eq!(state_change(&out).map(|s| s.0), Some(State::Established));
    session_down(&out).cloned().unwrap()
}

#[test]
fn start_events_and_second_connections_are_ignored() {
    expect_each_ignored(|| established(config()), start_and_second_connection_events());
}

#[test]
fn manual_stop() {
    let mut fsm = established(config());
    let event = Event::ManualStop { cease_subcode: 4, message: "reset by operator".into() };
    let reason = expect_down(&mut fsm, event, Some((6, 4)));
    let DownReason::ManualStop(n) = &reason else { panic!("{reason:?}") };
    assert_eq!(n.shutdown_message(), Some("reset by operator"));
    assert_eq!(fsm.state(), State::Idle);
    assert!(!fsm.timer_running(TimerKind::IdleHold));
    assert_eq!(
        fsm.last_error(),
        Some(
            "administratively stopped (6/4 Cease / Administrative Reset: \
             \"reset by operator\") (in Established)"
        )
    );
}

#[test]
fn automatic_stop() {
    let mut fsm = established(config());
    let reason = expect_down(&mut fsm, Event::AutomaticStop(Notification::new(6, 1)), Some((6, 1)));
    assert_eq!(reason, DownReason::NotificationSent(Notification::new(6, 1)));
    assert!(fsm.timer_running(TimerKind::IdleHold));
}

#[test]
fn hold_timer_expiry() {
    let mut fsm = established(config());
    let reason = expect_down(&mut fsm, Event::HoldTimerExpires, Some((4, 0)));
    assert_eq!(reason, DownReason::HoldTimerExpired);
    assert_eq!(fsm.state(), State::Idle);
}

#[test]
fn keepalive_timer_sends_keepalive() {
    let mut fsm = established(config());
    expect_keepalive_sent(&mut fsm);
}

#[test]
fn tcp_failure_and_notifications() {
    let mut fsm = established(config());
    let reason = expect_down(&mut fsm, Event::TcpConnectionFails(None), None);
    assert_eq!(reason, DownReason::ConnectionFailed(None));
    assert_eq!(fsm.state(), State::Idle);
    assert_eq!(fsm.last_error(), Some("connection closed by the peer (in Established)"));
    let mut fsm = established(config());
    let reason = expect_down(&mut fsm, Event::NotifMsg(Notification::new(6, 9)), None);
    assert!(reason.is_hard_reset());
    assert_eq!(reason.notification(), Some((&Notification::new(6, 9), false)));
    let mut fsm = established(config());
    expect_down(&mut fsm, Event::NotifMsgVerErr(Notification::new(2, 1)), None);
}

#[test]
fn messages_restart_the_hold_timer() {
    for event in [Event::KeepAliveMsg, Event::UpdateMsg, Event::RouteRefreshMsg] {
        let mut fsm = established(config());
        assert_eq!(
            fsm.handle(event),
            vec![Output::StartTimer(TimerKind::Hold, Duration::from_secs(90))]
        );
    }
}

#[test]
fn zero_hold_time_means_no_timers() {
    let mut fsm = open_sent(config());
    fsm.handle(Event::BgpOpen(peer_open_with(0, peer_caps())));
    let out = fsm.handle(Event::KeepAliveMsg);
    assert!(started(&out, TimerKind::Hold).is_none());
    assert_eq!(fsm.state(), State::Established);
    assert_eq!(fsm.handle(Event::UpdateMsg), vec![]);
    assert!(!fsm.timer_running(TimerKind::Keepalive));
    assert!(!fsm.timer_running(TimerKind::Hold));
    expect_ignored(&mut fsm, Event::HoldTimerExpires);
    expect_ignored(&mut fsm, Event::KeepaliveTimerExpires);
}

#[test]
fn update_and_route_refresh_errors_notify() {
    let mut fsm = established(config());
    expect_down(&mut fsm, Event::UpdateMsgErr(DecodeError::MalformedAsPath), Some((3, 11)));
    let mut fsm = established(config());
    let e = DecodeError::RouteRefreshInvalidLength(Default::default());
    expect_down(&mut fsm, Event::RouteRefreshMsgErr(e), Some((7, 1)));
    let mut fsm = established(config());
    expect_down(&mut fsm, Event::BgpHeaderErr(DecodeError::BadMessageType(7)), Some((1, 3)));
}

#[test]
fn open_in_established_is_fsm_error_3() {
    for event in [
        Event::BgpOpen(peer_open()),
        Event::BgpOpenWithDelayOpenTimerRunning(peer_open()),
        Event::BgpOpenMsgErr(DecodeError::BadPeerAs),
    ] {
        let mut fsm = established(config());
        let reason = expect_down(&mut fsm, event, Some((5, 3)));
        assert_eq!(reason, DownReason::NotificationSent(Notification::new(5, 3)));
        assert_eq!(fsm.state(), State::Idle);
    }
}

#[test]
fn collision_dump_goes_down_and_waits_in_active() {
    let mut fsm = established(config());
    let reason = expect_down(&mut fsm, Event::OpenCollisionDump, Some((6, 7)));
    assert_eq!(reason, DownReason::Collision);
    assert_eq!(fsm.state(), State::Active);
}

#[test]
fn stale_timer_expiries_are_ignored() {
    let events = vec![
        Event::ConnectRetryTimerExpires,
        Event::DelayOpenTimerExpires,
        Event::IdleHoldTimerExpires,
    ];
    expect_each_ignored(|| established(config()), events);
}

#[test]
fn session_down_is_emitted_once_per_session() {
    let mut fsm = established(config());
    let out = fsm.handle(Event::HoldTimerExpires);
    assert_eq!(out.iter().filter(|o| matches!(o, Output::SessionDown(_))).count(), 1);
    // Whatever follows in Idle says nothing more.
    assert!(session_down(&fsm.handle(Event::TcpConnectionFails(None))).is_none());
    assert!(session_down(&fsm.handle(Event::manual_stop())).is_none());
}
