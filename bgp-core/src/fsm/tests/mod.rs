//! FSM tests: each drives an [`Fsm`] event by event and checks the outputs.
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::fsm::{Event, Fsm, FsmConfig, Output, State, TimerKind};
use crate::wire::capability::Capability;
use crate::wire::{DecodeError, Family, Message, Notification, Open};

mod backoff;
mod collision;
mod connecting;
mod established;
mod hard_reset;
mod idle;
mod invariants;
mod negotiation;
mod open_check;
mod open_confirm;
mod open_sent;
mod pair;

pub(super) const LOCAL_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
pub(super) const PEER_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
pub(super) const LOCAL_AS: u32 = 65001;
pub(super) const PEER_AS: u32 = 65002;

/// Our end of a connection from the peer, and the peer's end (ours is the lower address).
pub(super) const LOCAL_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 1));
pub(super) const PEER_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 2));

/// `fsm.incoming_connection` for a connection from the peer (our address is the lower).
pub(super) fn incoming(fsm: &Fsm) -> crate::fsm::IncomingDecision {
    fsm.incoming_connection(LOCAL_ADDR, PEER_ADDR)
}

/// eBGP 65001 -> 65002, defaults otherwise.
pub(super) fn config() -> FsmConfig {
    FsmConfig::new(LOCAL_AS, LOCAL_ID, PEER_AS)
}

/// What a modern peer (BIRD/FRR-like) sends.
pub(super) fn peer_caps() -> Vec<Capability> {
    vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::Multiprotocol(Family::IPV6_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(PEER_AS),
        Capability::EnhancedRouteRefresh,
    ]
}

pub(super) fn peer_open() -> Open {
    Open::new(PEER_AS, 90, PEER_ID, peer_caps())
}

pub(super) fn peer_open_with(hold: u16, caps: Vec<Capability>) -> Open {
    Open::new(PEER_AS, hold, PEER_ID, caps)
}

/// Feed `event` to `fsm` and check it lands in `state`.
pub(super) fn advance(mut fsm: Fsm, event: Event, state: State) -> Fsm {
    fsm.handle(event);
    assert_eq!(fsm.state(), state);
    fsm
}

/// ManualStart: Connect, dialing.
pub(super) fn connect(cfg: FsmConfig) -> Fsm {
    advance(Fsm::new(cfg), Event::ManualStart, State::Connect)
}

/// Our dial succeeded: OpenSent.
pub(super) fn open_sent(cfg: FsmConfig) -> Fsm {
    advance(connect(cfg), Event::TcpCrAcked, State::OpenSent)
}

pub(super) fn open_confirm(cfg: FsmConfig) -> Fsm {
    advance(open_sent(cfg), Event::BgpOpen(peer_open()), State::OpenConfirm)
}

pub(super) fn established(cfg: FsmConfig) -> Fsm {
    advance(open_confirm(cfg), Event::KeepAliveMsg, State::Established)
}

/// The start events (RFC 4271 Events 1, 3-5), ignored in every state but Idle.
pub(super) fn start_events() -> Vec<Event> {
    vec![
        Event::ManualStart,
        Event::AutomaticStart,
        Event::ManualStartWithPassiveTcpEstablishment,
        Event::AutomaticStartWithPassiveTcpEstablishment,
    ]
}

/// The start events and a second connection (Events 16, 17), all ignored from OpenSent on.
pub(super) fn start_and_second_connection_events() -> Vec<Event> {
    let mut events = start_events();
    events.extend([Event::TcpCrAcked, Event::TcpConnectionConfirmed]);
    events
}

/// AutomaticStop, every timer expiry and every TCP event (RFC 4271 Events 8-13, 16-18, and
/// the back-off reset timer), in event-number order.
pub(super) fn stop_timer_and_tcp_events() -> Vec<Event> {
    vec![
        Event::AutomaticStop(Notification::new(6, 1)),
        Event::ConnectRetryTimerExpires,
        Event::HoldTimerExpires,
        Event::KeepaliveTimerExpires,
        Event::DelayOpenTimerExpires,
        Event::IdleHoldTimerExpires,
        Event::ErrorForgetTimerExpires,
        Event::TcpCrAcked,
        Event::TcpConnectionConfirmed,
        Event::TcpConnectionFails(None),
    ]
}

/// Header and OPEN errors, OpenCollisionDump, both NOTIFICATION events and a KEEPALIVE
/// (RFC 4271 Events 21-26), in event-number order.
pub(super) fn error_and_notification_events() -> Vec<Event> {
    vec![
        Event::BgpHeaderErr(DecodeError::BadMessageType(9)),
        Event::BgpOpenMsgErr(DecodeError::BadPeerAs),
        Event::OpenCollisionDump,
        Event::NotifMsgVerErr(Notification::new(2, 1)),
        Event::NotifMsg(Notification::new(6, 2)),
        Event::KeepAliveMsg,
    ]
}

/// The messages sent, in order.
pub(super) fn sent(out: &[Output]) -> Vec<&Message> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// (code, subcode) of the NOTIFICATION sent, if any.
pub(super) fn notification(out: &[Output]) -> Option<(u8, u8)> {
    sent(out).into_iter().find_map(|m| match m {
        Message::Notification(n) => Some((n.code, n.subcode)),
        _ => None,
    })
}

pub(super) fn started(out: &[Output], kind: TimerKind) -> Option<Duration> {
    out.iter().find_map(|o| match o {
        Output::StartTimer(k, d) if *k == kind => Some(*d),
        _ => None,
    })
}

pub(super) fn stopped(out: &[Output], kind: TimerKind) -> bool {
    out.contains(&Output::StopTimer(kind))
}

pub(super) fn closes(out: &[Output]) -> bool {
    out.contains(&Output::CloseConnection)
}

pub(super) fn state_change(out: &[Output]) -> Option<(State, State)> {
    out.iter().find_map(|o| match o {
        Output::StateChanged { from, to, .. } => Some((*from, *to)),
        _ => None,
    })
}

pub(super) fn session_down(out: &[Output]) -> Option<&crate::fsm::DownReason> {
    out.iter().find_map(|o| match o {
        Output::SessionDown(r) => Some(r),
        _ => None,
    })
}

/// Every Send comes before the CloseConnection, and StateChanged (if any) is last.
pub(super) fn check_order(out: &[Output]) {
    if let Some(close) = out.iter().position(|o| *o == Output::CloseConnection) {
        assert!(
            !out[close..].iter().any(|o| matches!(o, Output::Send(_))),
            "Send after CloseConnection: {out:?}"
        );
    }
    if let Some(i) = out.iter().position(|o| matches!(o, Output::StateChanged { .. })) {
        assert_eq!(i, out.len() - 1, "StateChanged not last: {out:?}");
    }
}

/// The event tears the session down with NOTIFICATION `code/subcode` (or none), the FSM goes
/// Idle and asks for the IdleHold back-off.
pub(super) fn expect_error_to_idle(fsm: &mut Fsm, event: Event, notif: Option<(u8, u8)>) {
    let from = fsm.state();
    let name = event.name();
    let out = fsm.handle(event);
    check_order(&out);
    assert_eq!(notification(&out), notif, "{from} + {name}: {out:?}");
    assert_eq!(fsm.state(), State::Idle, "{from} + {name}");
    assert!(started(&out, TimerKind::IdleHold).is_some(), "{from} + {name}: {out:?}");
    assert!(fsm.last_error().is_some());
    assert!(fsm.negotiated().is_none());
    assert!(!fsm.timer_running(TimerKind::Hold));
}

/// The event changes nothing and produces nothing.
pub(super) fn expect_ignored(fsm: &mut Fsm, event: Event) {
    let from = fsm.state();
    let name = event.name();
    let out = fsm.handle(event);
    assert_eq!(out, vec![], "{from} + {name}");
    assert_eq!(fsm.state(), from, "{from} + {name}");
}

/// Each event, fed to a fresh FSM from `setup`, changes nothing and produces nothing.
pub(super) fn expect_each_ignored(setup: impl Fn() -> Fsm, events: Vec<Event>) {
    for event in events {
        expect_ignored(&mut setup(), event);
    }
}

/// Each event, fed to a fresh FSM from `setup`, tears the session down as
/// [`expect_error_to_idle`] checks.
pub(super) fn expect_each_error_to_idle(
    setup: impl Fn() -> Fsm,
    events: Vec<Event>,
    notif: Option<(u8, u8)>,
) {
    for event in events {
        expect_error_to_idle(&mut setup(), event, notif);
    }
}

/// The event produces exactly `expected`, and the FSM is then in `state`.
pub(super) fn expect_outputs(fsm: &mut Fsm, event: Event, expected: &[Output], state: State) {
    let from = fsm.state();
    let name = event.name();
    let out = fsm.handle(event);
    assert_eq!(out, expected, "{from} + {name}");
    assert_eq!(fsm.state(), state, "{from} + {name}");
}

/// KeepaliveTimer_Expires (OpenConfirm, Established, hold time 90 s): a KEEPALIVE goes out,
/// the timer restarts, the state stays.
pub(super) fn expect_keepalive_sent(fsm: &mut Fsm) {
    let state = fsm.state();
    let expected = [
        Output::Send(Message::Keepalive),
        Output::StartTimer(TimerKind::Keepalive, Duration::from_secs(30)),
    ];
    expect_outputs(fsm, Event::KeepaliveTimerExpires, &expected, state);
}
