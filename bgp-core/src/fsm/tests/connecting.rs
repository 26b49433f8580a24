//! RFC 4271 §8.2.2 Connect and Active.
use std::io::ErrorKind;
use std::time::Duration;

use super::*;
use crate::fsm::{DownReason, IncomingDecision};
use crate::wire::notification::codes;
use crate::wire::{DecodeError, Notification};

fn delay_open() -> FsmConfig {
    FsmConfig { delay_open: Some(Duration::from_secs(7)), ..config() }
}

/// Active after a failed dial.
fn active(cfg: FsmConfig) -> Fsm {
    let failed = Event::TcpConnectionFails(Some(ErrorKind::ConnectionRefused));
    advance(connect(cfg), failed, State::Active)
}

/// Connect with DelayOpen running on our dialed connection.
fn connect_delaying() -> Fsm {
    let mut fsm = connect(delay_open());
    let expected = [
        Output::StopTimer(TimerKind::ConnectRetry),
        Output::StartTimer(TimerKind::DelayOpen, Duration::from_secs(7)),
    ];
    expect_outputs(&mut fsm, Event::TcpCrAcked, &expected, State::Connect);
    fsm
}

#[test]
fn start_events_are_ignored() {
    expect_each_ignored(|| connect(config()), start_events());
    expect_each_ignored(|| active(config()), start_events());
}

#[test]
fn manual_stop_aborts_the_dial_and_stays_idle() {
    let mut fsm = connect(config());
    let expected = [
        Output::CloseConnection,
        Output::StopTimer(TimerKind::ConnectRetry),
        Output::StateChanged { from: State::Connect, to: State::Idle, event: "ManualStop" },
    ];
    expect_outputs(&mut fsm, Event::manual_stop(), &expected, State::Idle);
    assert!(fsm.is_admin_down());
    assert_eq!(fsm.connect_retry_counter(), 0);
    assert!(matches!(fsm.last_down(), Some(DownReason::ManualStop(_))));
    expect_ignored(&mut fsm, Event::AutomaticStart);
}

#[test]
fn manual_stop_with_a_connection_sends_cease() {
    let mut fsm = connect_delaying();
    let out = fsm.handle(Event::ManualStop {
        cease_subcode: codes::CEASE_PEER_DECONFIGURED,
        message: "bye".into(),
    });
    check_order(&out);
    assert_eq!(notification(&out), Some((6, 3)));
    assert!(closes(&out));
    assert_eq!(fsm.state(), State::Idle);
    assert!(!fsm.timer_running(TimerKind::IdleHold));
}

#[test]
fn connect_retry_expiry_redials_in_connect() {
    let mut fsm = connect(config());
    let expected = [
        Output::CloseConnection,
        Output::StartTimer(TimerKind::ConnectRetry, Duration::from_secs(5)),
        Output::Connect,
    ];
    expect_outputs(&mut fsm, Event::ConnectRetryTimerExpires, &expected, State::Connect);
}

#[test]
fn connect_retry_expiry_in_active_dials() {
    let mut fsm = active(config());
    let expected = [
        Output::StartTimer(TimerKind::ConnectRetry, Duration::from_secs(5)),
        Output::Connect,
        Output::StateChanged {
            from: State::Active,
            to: State::Connect,
            event: "ConnectRetryTimer_Expires",
        },
    ];
    expect_outputs(&mut fsm, Event::ConnectRetryTimerExpires, &expected, State::Connect);
}

#[test]
fn tcp_up_sends_open_with_the_large_hold_timer() {
    for event in [Event::TcpCrAcked, Event::TcpConnectionConfirmed] {
        let mut fsm = connect(config());
        let out = fsm.handle(event);
        assert_eq!(out[0], Output::StopTimer(TimerKind::ConnectRetry));
        let [Message::Open(open)] = sent(&out)[..] else { panic!("{out:?}") };
        assert_eq!((open.my_as, open.hold_time, open.bgp_id), (65001, 90, LOCAL_ID));
        assert_eq!(started(&out, TimerKind::Hold), Some(Duration::from_secs(240)));
        assert_eq!(fsm.state(), State::OpenSent);
    }
    let mut fsm = active(config());
    fsm.handle(Event::TcpConnectionConfirmed);
    assert_eq!(fsm.state(), State::OpenSent);
}

#[test]
fn dial_failure_waits_in_active_and_accepts_the_peer() {
    let mut fsm = connect(config());
    let out = fsm.handle(Event::TcpConnectionFails(Some(ErrorKind::ConnectionRefused)));
    assert!(!closes(&out));
    assert_eq!(started(&out, TimerKind::ConnectRetry), Some(Duration::from_secs(5)));
    assert_eq!(fsm.state(), State::Active);
    assert_eq!(fsm.error_count(), 0, "not a session error");
    assert!(fsm.last_error().is_some_and(|e| e.contains("refused")), "{:?}", fsm.last_error());
    assert_eq!(incoming(&fsm), IncomingDecision::Accept);
    // Active + TcpConnectionFails: retry again.
    let mut fsm = active(config());
    let out = fsm.handle(Event::TcpConnectionFails(None));
    assert!(started(&out, TimerKind::ConnectRetry).is_some());
    assert_eq!(fsm.state(), State::Active);
}

#[test]
fn delay_open_expiry_sends_open() {
    let mut fsm = connect_delaying();
    let out = fsm.handle(Event::DelayOpenTimerExpires);
    assert!(matches!(sent(&out)[..], [Message::Open(_)]));
    assert_eq!(started(&out, TimerKind::Hold), Some(Duration::from_secs(240)));
    assert_eq!(fsm.state(), State::OpenSent);
}

#[test]
fn open_while_delay_open_runs_goes_to_open_confirm() {
    for event in [Event::BgpOpen(peer_open()), Event::BgpOpenWithDelayOpenTimerRunning(peer_open())]
    {
        let mut fsm = connect_delaying();
        let out = fsm.handle(event);
        assert!(stopped(&out, TimerKind::DelayOpen));
        assert!(matches!(sent(&out)[..], [Message::Open(_), Message::Keepalive]), "{out:?}");
        assert_eq!(started(&out, TimerKind::Keepalive), Some(Duration::from_secs(30)));
        assert_eq!(started(&out, TimerKind::Hold), Some(Duration::from_secs(90)));
        assert_eq!(fsm.state(), State::OpenConfirm);
        assert!(fsm.negotiated().is_some());
    }
}

#[test]
fn bad_open_while_delay_open_runs_sends_only_the_notification() {
    let mut fsm = connect_delaying();
    let open = Open::new(65003, 90, PEER_ID, vec![]);
    expect_error_to_idle(&mut fsm, Event::BgpOpen(open), Some((2, 2)));
}

#[test]
fn delay_open_and_tcp_failure_goes_to_active() {
    let mut fsm = connect_delaying();
    let out = fsm.handle(Event::TcpConnectionFails(None));
    assert!(stopped(&out, TimerKind::DelayOpen));
    assert!(started(&out, TimerKind::ConnectRetry).is_some());
    assert_eq!(fsm.state(), State::Active);
}

#[test]
fn header_and_open_errors_notify_and_go_idle() {
    let mut fsm = connect_delaying();
    expect_error_to_idle(
        &mut fsm,
        Event::BgpHeaderErr(DecodeError::BadMessageType(9)),
        Some((1, 3)),
    );
    let mut fsm = connect_delaying();
    expect_error_to_idle(&mut fsm, Event::BgpOpenMsgErr(DecodeError::BadPeerAs), Some((2, 2)));
}

#[test]
fn version_error_notification_goes_idle_silently() {
    let mut fsm = connect_delaying();
    expect_error_to_idle(&mut fsm, Event::NotifMsgVerErr(Notification::new(2, 1)), None);
    assert!(matches!(fsm.last_down(), Some(DownReason::NotificationReceived(_))));
}

#[test]
fn other_events_go_idle_without_notification() {
    let events = vec![
        Event::KeepAliveMsg,
        Event::UpdateMsg,
        Event::UpdateMsgErr(DecodeError::MalformedAsPath),
        Event::RouteRefreshMsg,
        Event::NotifMsg(Notification::new(6, 2)),
    ];
    expect_each_error_to_idle(connect_delaying, events, None);
    // Events 8 and 19 with no connection at all (dialing).
    let mut fsm = connect(config());
    expect_error_to_idle(&mut fsm, Event::BgpOpen(peer_open()), None);
    let mut fsm = active(config());
    expect_error_to_idle(&mut fsm, Event::AutomaticStop(Notification::new(6, 8)), None);
    // AutomaticStop with a connection up tells the peer why.
    let mut fsm = connect_delaying();
    expect_error_to_idle(&mut fsm, Event::AutomaticStop(Notification::new(6, 8)), Some((6, 8)));
}

#[test]
fn collision_dump_closes_the_delayed_connection() {
    let mut fsm = connect_delaying();
    let out = fsm.handle(Event::OpenCollisionDump);
    check_order(&out);
    assert_eq!(notification(&out), Some((6, 7)));
    assert!(closes(&out));
    assert_eq!(fsm.state(), State::Active);
    // Without a connection there is nothing to dump.
    expect_ignored(&mut connect(config()), Event::OpenCollisionDump);
}

#[test]
fn a_replaced_connection_restarts_delay_open() {
    let mut fsm = connect_delaying();
    let expected = [
        Output::StopTimer(TimerKind::DelayOpen),
        Output::StartTimer(TimerKind::DelayOpen, Duration::from_secs(7)),
    ];
    expect_outputs(&mut fsm, Event::TcpConnectionConfirmed, &expected, State::Connect);
}

#[test]
fn passive_active_never_dials() {
    let mut fsm = Fsm::new(FsmConfig { passive: true, ..config() });
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpConnectionConfirmed);
    let out = fsm.handle(Event::TcpConnectionFails(None));
    assert!(started(&out, TimerKind::ConnectRetry).is_none());
    assert_eq!(fsm.state(), State::Active);
    expect_ignored(&mut fsm, Event::ConnectRetryTimerExpires);
}
