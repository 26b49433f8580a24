//! RFC 4271 §8.2.2 OpenSent.
use std::io::ErrorKind;
use std::time::Duration;

use super::*;
use crate::fsm::DownReason;
use crate::wire::{DecodeError, Notification};

#[test]
fn start_events_and_second_connections_are_ignored() {
    expect_each_ignored(|| open_sent(config()), start_and_second_connection_events());
}

#[test]
fn manual_stop_sends_cease_with_shutdown_communication() {
    let mut fsm = open_sent(config());
    let out = fsm.handle(Event::ManualStop { cease_subcode: 2, message: "drain".into() });
    check_order(&out);
    let [Message::Notification(n)] = sent(&out)[..] else { panic!("{out:?}") };
    assert_eq!(n.shutdown_message(), Some("drain"));
    assert!(closes(&out));
    assert!(stopped(&out, TimerKind::Hold));
    assert!(started(&out, TimerKind::IdleHold).is_none(), "no automatic restart");
    assert_eq!(fsm.state(), State::Idle);
    assert!(session_down(&out).is_none(), "never Established");
}

#[test]
fn automatic_stop_sends_its_notification() {
    let mut fsm = open_sent(config());
    expect_error_to_idle(&mut fsm, Event::AutomaticStop(Notification::new(6, 8)), Some((6, 8)));
}

#[test]
fn hold_timer_expiry_sends_4_0() {
    let mut fsm = open_sent(config());
    expect_error_to_idle(&mut fsm, Event::HoldTimerExpires, Some((4, 0)));
    assert_eq!(fsm.last_down(), Some(&DownReason::HoldTimerExpired));
    assert_eq!(fsm.connect_retry_counter(), 1);
}

#[test]
fn tcp_failure_goes_to_active() {
    let mut fsm = open_sent(config());
    let out = fsm.handle(Event::TcpConnectionFails(Some(ErrorKind::ConnectionReset)));
    assert!(!closes(&out));
    assert!(stopped(&out, TimerKind::Hold));
    assert_eq!(started(&out, TimerKind::ConnectRetry), Some(Duration::from_secs(5)));
    assert_eq!(state_change(&out), Some((State::OpenSent, State::Active)));
}

#[test]
fn valid_open_sends_keepalive_and_goes_to_open_confirm() {
    let mut fsm = open_sent(config());
    let out = fsm.handle(Event::BgpOpen(peer_open()));
    assert_eq!(
        out,
        vec![
            Output::Send(Message::Keepalive),
            Output::StartTimer(TimerKind::Keepalive, Duration::from_secs(30)),
            Output::StartTimer(TimerKind::Hold, Duration::from_secs(90)),
            Output::StateChanged {
                from: State::OpenSent,
                to: State::OpenConfirm,
                event: "BGPOpen"
            },
        ]
    );
    let n = fsm.negotiated().unwrap();
    assert_eq!((n.peer_as, n.peer_router_id, n.hold_time), (PEER_AS, PEER_ID, 90));
}

#[test]
fn zero_hold_time_starts_neither_hold_nor_keepalive_timer() {
    let mut fsm = open_sent(config());
    let out = fsm.handle(Event::BgpOpen(peer_open_with(0, peer_caps())));
    assert_eq!(sent(&out), vec![&Message::Keepalive], "the OPEN is still confirmed");
    assert!(started(&out, TimerKind::Keepalive).is_none());
    assert!(started(&out, TimerKind::Hold).is_none());
    assert!(stopped(&out, TimerKind::Hold), "the large OpenSent hold timer stops");
    assert_eq!(fsm.state(), State::OpenConfirm);
    assert_eq!(fsm.negotiated().unwrap().keepalive_interval, Duration::ZERO);
}

#[test]
fn open_errors_send_the_right_notification() {
    let cases: Vec<(Open, (u8, u8))> = vec![
        (Open::new(65003, 90, PEER_ID, vec![Capability::FourOctetAs(65003)]), (2, 2)),
        (Open::new(PEER_AS, 90, Ipv4Addr::UNSPECIFIED, vec![]), (2, 3)),
        (Open::new(PEER_AS, 2, PEER_ID, vec![]), (2, 6)),
    ];
    for (open, expected) in cases {
        let mut fsm = open_sent(config());
        expect_error_to_idle(&mut fsm, Event::BgpOpen(open), Some(expected));
        assert!(matches!(fsm.last_down(), Some(DownReason::NotificationSent(_))));
    }
}

#[test]
fn decode_errors_are_reported() {
    let mut fsm = open_sent(config());
    expect_error_to_idle(
        &mut fsm,
        Event::BgpHeaderErr(DecodeError::ConnectionNotSynchronized),
        Some((1, 1)),
    );
    let mut fsm = open_sent(config());
    expect_error_to_idle(
        &mut fsm,
        Event::BgpOpenMsgErr(DecodeError::UnsupportedVersion(3)),
        Some((2, 1)),
    );
}

#[test]
fn collision_dump_sends_cease_7_and_waits_in_active() {
    let mut fsm = open_sent(config());
    let out = fsm.handle(Event::OpenCollisionDump);
    check_order(&out);
    assert_eq!(notification(&out), Some((6, 7)));
    assert!(closes(&out));
    assert_eq!(fsm.state(), State::Active);
    assert_eq!(fsm.last_down(), Some(&DownReason::Collision));
    assert_eq!(fsm.error_count(), 0);
}

#[test]
fn received_notifications_go_idle_without_reply() {
    let mut fsm = open_sent(config());
    expect_error_to_idle(&mut fsm, Event::NotifMsgVerErr(Notification::new(2, 1)), None);
    let mut fsm = open_sent(config());
    expect_error_to_idle(&mut fsm, Event::NotifMsg(Notification::new(6, 5)), None);
    assert!(fsm.last_error().is_some_and(|e| e.contains("received NOTIFICATION 6/5")));
}

#[test]
fn unexpected_messages_are_fsm_error_1() {
    let events = vec![
        Event::KeepAliveMsg,
        Event::UpdateMsg,
        Event::UpdateMsgErr(DecodeError::MalformedAttributeList),
        Event::RouteRefreshMsg,
        Event::RouteRefreshMsgErr(DecodeError::RouteRefreshInvalidLength(Default::default())),
    ];
    expect_each_error_to_idle(|| open_sent(config()), events, Some((5, 1)));
}

#[test]
fn stale_timer_expiries_are_ignored() {
    let events = vec![
        Event::ConnectRetryTimerExpires,
        Event::KeepaliveTimerExpires,
        Event::DelayOpenTimerExpires,
        Event::IdleHoldTimerExpires,
        Event::ErrorForgetTimerExpires,
    ];
    expect_each_ignored(|| open_sent(config()), events);
}
