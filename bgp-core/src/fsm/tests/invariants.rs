//! Random event sequences: the FSM never panics and keeps its promises to the runtime.
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::fsm::IncomingDecision;
use crate::wire::DecodeError;

fn palette() -> Vec<Event> {
    let mut events = start_events();
    events.insert(1, Event::manual_stop());
    events.extend(stop_timer_and_tcp_events());
    events.extend([
        Event::BgpOpen(peer_open()),
        Event::BgpOpen(peer_open_with(0, peer_caps())),
        Event::BgpOpen(Open::new(65099, 90, PEER_ID, vec![])),
        Event::BgpOpenWithDelayOpenTimerRunning(peer_open()),
    ]);
    events.extend(error_and_notification_events());
    events.extend([
        Event::KeepAliveMsg,
        Event::UpdateMsg,
        Event::UpdateMsgErr(DecodeError::MalformedAsPath),
        Event::RouteRefreshMsg,
        Event::RouteRefreshMsgErr(DecodeError::RouteRefreshInvalidLength(Default::default())),
    ]);
    events
}

/// What a cooperative peer and runtime would feed next.
fn happy(fsm: &Fsm) -> Event {
    match fsm.state() {
        State::Idle if fsm.timer_running(TimerKind::IdleHold) => Event::IdleHoldTimerExpires,
        State::Idle => Event::ManualStart,
        State::Connect | State::Active if fsm.timer_running(TimerKind::DelayOpen) => {
            Event::BgpOpen(peer_open())
        }
        State::Connect => Event::TcpCrAcked,
        State::Active => Event::TcpConnectionConfirmed,
        State::OpenSent => Event::BgpOpen(peer_open()),
        State::OpenConfirm => Event::KeepAliveMsg,
        State::Established => Event::UpdateMsg,
    }
}

/// Each pick is a hostile event from the palette when `pick >= 40`, else the cooperative
/// next event. Returns how many sessions reached Established.
fn run(passive: bool, delay_open: bool, picks: &[usize], connect_collisions: &mut usize) -> usize {
    let palette = palette();
    let cfg =
        FsmConfig { passive, delay_open: delay_open.then(|| Duration::from_secs(3)), ..config() };
    let mut fsm = Fsm::new(cfg);
    let mut running = [false; 6];
    let mut up = false;
    let mut sessions = 0;
    for &i in picks {
        let event = if i < 40 { happy(&fsm) } else { palette[i % palette.len()].clone() };
        if let Some(kind) = event.timer() {
            running[kind as usize] = false;
        }
        let before = fsm.state();
        let out = fsm.handle(event);
        check_order(&out);
        for o in &out {
            match o {
                Output::StartTimer(k, _) => running[*k as usize] = true,
                Output::StopTimer(k) => running[*k as usize] = false,
                Output::Connect => assert!(!passive, "a passive FSM dialed"),
                Output::Established(_) => {
                    assert!(!up, "Established twice");
                    up = true;
                    sessions += 1;
                }
                Output::SessionDown(_) => {
                    assert!(up, "SessionDown without Established");
                    up = false;
                }
                Output::StateChanged { from, to, .. } => {
                    assert_eq!((*from, *to), (before, fsm.state()));
                }
                _ => {}
            }
        }
        let state = fsm.state();
        assert_eq!(up, state == State::Established);
        assert_eq!(
            fsm.negotiated().is_some(),
            matches!(state, State::OpenConfirm | State::Established)
        );
        for kind in TimerKind::ALL {
            assert_eq!(fsm.timer_running(kind), running[kind as usize], "{kind:?} in {state}");
        }
        let idle = state == State::Idle;
        assert!(idle || !running[TimerKind::IdleHold as usize]);
        if matches!(state, State::Idle | State::Connect | State::Active) {
            assert!(!running[TimerKind::Hold as usize] && !running[TimerKind::Keepalive as usize]);
        }
        if idle {
            assert!(!running[TimerKind::ConnectRetry as usize]);
        }
        // A new connection from the peer gets an answer in every state; one the FSM accepts
        // is never ignored when fed; refusals only in Idle and Established. Both address
        // orders: with ours the higher one, Connect holds the peer's connection (Collision).
        for (local, remote) in [(LOCAL_ADDR, PEER_ADDR), (PEER_ADDR, LOCAL_ADDR)] {
            let decision = fsm.incoming_connection(local, remote);
            match decision {
                IncomingDecision::Accept => {
                    let mut probe = fsm.clone();
                    let out = probe.handle(Event::TcpConnectionConfirmed);
                    assert!(!out.is_empty(), "accepted connection ignored in {state}");
                }
                IncomingDecision::Refuse(_) => {
                    assert!(
                        matches!(state, State::Idle | State::Established),
                        "refused in {state}"
                    );
                }
                IncomingDecision::Collision => {
                    assert!(state != State::Idle);
                    if state == State::Connect && local > remote {
                        *connect_collisions += 1;
                    }
                    // The held connection's OPEN is decided without touching the FSM.
                    let mut probe = fsm.clone();
                    if probe.resolve_collision(&peer_open())
                        == crate::fsm::CollisionResolution::CloseExisting
                    {
                        let out = probe.handle(Event::OpenCollisionDump);
                        check_order(&out);
                    }
                }
            }
        }
        let _ = fsm.resolve_collision(&peer_open());
    }
    sessions
}

#[test]
fn random_sequences_do_reach_established() {
    // A fixed pseudo-random walk (xorshift), to check the generator covers Established.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut total = 0;
    let mut connect_collisions = 0;
    for case in 0..200 {
        let picks: Vec<usize> = (0..120)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 80) as usize
            })
            .collect();
        total += run(case % 2 == 0, case % 3 == 0, &picks, &mut connect_collisions);
    }
    assert!(total >= 50, "only {total} sessions reached Established");
    assert!(connect_collisions > 0, "the Connect-state collision branch was never probed");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn random_event_sequences_keep_the_invariants(
        passive in any::<bool>(),
        delay_open in any::<bool>(),
        picks in proptest::collection::vec(0usize..80, 0..120),
    ) {
        run(passive, delay_open, &picks, &mut 0);
    }
}
