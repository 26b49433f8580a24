//! RFC 4271 §6.8 collision resolution and incoming connections: the one implementation the
//! daemon carries out.
use std::time::Duration;

use super::*;
use crate::fsm::{
    keep_existing, keep_existing_with_as, CollisionResolution, DownReason, GracefulRestartConfig,
    IncomingDecision, Refusal,
};
use crate::wire::{GracefulRestartCap, Notification};

const LOW: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const HIGH: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

#[test]
fn higher_identifier_keeps_the_connection_it_initiated() {
    // Local higher: keep our outgoing connection, close the peer's new one.
    assert!(keep_existing(HIGH, LOW, true));
    // Local lower: close ours, accept the peer's.
    assert!(!keep_existing(LOW, HIGH, true));
    // Both connections came from the peer: keep the newer.
    assert!(!keep_existing(HIGH, LOW, false));
    assert!(!keep_existing(LOW, HIGH, false));
    // Identifiers compare as unsigned integers, not as text.
    assert!(keep_existing(Ipv4Addr::new(200, 0, 0, 1), Ipv4Addr::new(30, 0, 0, 1), true));
}

#[test]
fn equal_identifiers_break_ties_on_the_as_number() {
    assert!(keep_existing_with_as(LOW, 65002, LOW, 65001, true));
    assert!(!keep_existing_with_as(LOW, 65001, LOW, 65002, true));
    assert!(keep_existing_with_as(LOW, 65001, LOW, 65001, true), "all equal: keep existing");
}

#[test]
fn equal_identifiers_in_a_real_collision_follow_rfc_6286() {
    // An eBGP peer may share our identifier (RFC 6286 §2.2); the larger AS keeps the
    // connection it initiated (RFC 6286 §2.3).
    let same_id = Open::new(PEER_AS, 90, LOCAL_ID, peer_caps());
    // We are AS 65001 < 65002: our outgoing connection loses.
    assert_eq!(open_sent(config()).resolve_collision(&same_id), CollisionResolution::CloseExisting);
    // We are AS 65003 > 65002: our outgoing connection stays.
    let bigger = FsmConfig::new(65003, LOCAL_ID, PEER_AS);
    assert_eq!(
        open_sent(bigger).resolve_collision(&same_id),
        CollisionResolution::CloseIncoming(Notification::new(6, 7))
    );
}

fn gr_config() -> FsmConfig {
    let mut cfg = config();
    cfg.capabilities.graceful_restart = Some(GracefulRestartConfig::default());
    cfg
}

fn gr_peer_open_with(restart_state: bool) -> Open {
    let mut caps = peer_caps();
    caps.push(Capability::GracefulRestart(GracefulRestartCap {
        restart_time: 120,
        restart_state,
        ..Default::default()
    }));
    peer_open_with(90, caps)
}

fn gr_peer_open() -> Open {
    gr_peer_open_with(false)
}

/// Established with graceful restart announced by both sides.
fn gr_established() -> Fsm {
    let mut fsm = open_sent(gr_config());
    fsm.handle(Event::BgpOpen(gr_peer_open()));
    fsm.handle(Event::KeepAliveMsg);
    assert_eq!(fsm.state(), State::Established);
    fsm
}

#[test]
fn incoming_decision_per_state() {
    let fsm = Fsm::new(config());
    assert_eq!(incoming(&fsm), IncomingDecision::Refuse(Refusal::Stopped));
    assert_eq!(incoming(&connect(config())), IncomingDecision::Accept);
    let mut delaying = connect(FsmConfig { delay_open: Some(Duration::from_secs(5)), ..config() });
    delaying.handle(Event::TcpCrAcked);
    assert_eq!(incoming(&delaying), IncomingDecision::Collision);
    assert_eq!(incoming(&open_sent(config())), IncomingDecision::Collision);
    assert_eq!(incoming(&open_confirm(config())), IncomingDecision::Collision);
    assert_eq!(incoming(&established(config())), IncomingDecision::Refuse(Refusal::Established));
    // Established with graceful restart negotiated: the peer may have restarted.
    assert_eq!(incoming(&gr_established()), IncomingDecision::Collision);
    // The peer announced graceful restart but we did not: not negotiated, refused.
    let mut fsm = open_sent(config());
    fsm.handle(Event::BgpOpen(gr_peer_open()));
    fsm.handle(Event::KeepAliveMsg);
    assert_eq!(incoming(&fsm), IncomingDecision::Refuse(Refusal::Established));
    // Stopped by the operator.
    let mut fsm = open_sent(config());
    fsm.handle(Event::manual_stop());
    assert_eq!(incoming(&fsm), IncomingDecision::Refuse(Refusal::Stopped));
}

#[test]
fn refusals_say_why_on_the_wire() {
    assert_eq!(Refusal::Stopped.notification(), Notification::new(6, 5));
    assert_eq!(Refusal::BackOff.notification(), Notification::new(6, 5));
    assert_eq!(Refusal::Established.notification(), Notification::new(6, 7));
}

#[test]
fn simultaneous_open_in_connect_is_decided_by_address() {
    // Both sides dial. The side with the lower address takes the peer's connection and
    // abandons its own dial ...
    let fsm = connect(config());
    assert_eq!(fsm.incoming_connection(LOCAL_ADDR, PEER_ADDR), IncomingDecision::Accept);
    // ... the other keeps dialling and holds the peer's connection until its OPEN.
    assert_eq!(fsm.incoming_connection(PEER_ADDR, LOCAL_ADDR), IncomingDecision::Collision);
    // The OPEN arrives while our dial is still in flight: take the peer's connection.
    assert_eq!(fsm.resolve_collision(&peer_open()), CollisionResolution::AcceptIncoming);
    // Our dial completed first: RFC 4271 §6.8 by identifier (ours 198.18.0.1 is lower).
    let mut fsm = connect(config());
    fsm.handle(Event::TcpCrAcked);
    assert_eq!(fsm.resolve_collision(&peer_open()), CollisionResolution::CloseExisting);
    // In Active (no dial in flight) the address does not matter.
    let fsm =
        advance(Fsm::new(config()), Event::ManualStartWithPassiveTcpEstablishment, State::Active);
    assert_eq!(fsm.incoming_connection(PEER_ADDR, LOCAL_ADDR), IncomingDecision::Accept);
}

/// From Connect: reach OpenSent and fail on the hold timer, `n` times; ends Idle in back-off.
fn fail_times(n: usize) -> Fsm {
    fail_times_with(config(), n)
}

fn fail_times_with(cfg: FsmConfig, n: usize) -> Fsm {
    let mut fsm = connect(cfg);
    for i in 0..n {
        if i > 0 {
            fsm.handle(Event::IdleHoldTimerExpires);
        }
        fsm.handle(Event::TcpCrAcked);
        fsm.handle(Event::HoldTimerExpires);
    }
    assert_eq!(fsm.state(), State::Idle);
    assert!(fsm.timer_running(TimerKind::IdleHold));
    fsm
}

#[test]
fn idle_back_off_ends_for_a_peer_that_comes_back_after_few_errors() {
    for errors in [1, 2] {
        let mut fsm = fail_times(errors);
        assert_eq!(incoming(&fsm), IncomingDecision::Accept, "after {errors} errors");
        // The connection is the session: no dial, the OPEN goes out on it.
        let out = fsm.handle(Event::TcpConnectionConfirmed);
        check_order(&out);
        assert!(stopped(&out, TimerKind::IdleHold));
        assert!(!out.contains(&Output::Connect));
        assert!(matches!(sent(&out)[..], [Message::Open(_)]));
        assert_eq!(fsm.state(), State::OpenSent);
        fsm.handle(Event::BgpOpen(peer_open()));
        assert_eq!(fsm.state(), State::OpenConfirm);
    }
}

#[test]
fn idle_back_off_refuses_the_peer_after_repeated_errors() {
    let mut fsm = fail_times(3);
    assert_eq!(incoming(&fsm), IncomingDecision::Refuse(Refusal::BackOff));
    assert_eq!(
        fsm.resolve_collision(&peer_open()),
        CollisionResolution::CloseIncoming(Notification::new(6, 5))
    );
    // A confirmation fed anyway changes nothing.
    expect_ignored(&mut fsm, Event::TcpConnectionConfirmed);
    // Once the back-off is over the session restarts and takes connections again.
    fsm.handle(Event::IdleHoldTimerExpires);
    assert_eq!(fsm.state(), State::Connect);
    assert_eq!(incoming(&fsm), IncomingDecision::Accept);
    // The threshold is configurable.
    let mut cfg = config();
    cfg.idle_hold.accept_incoming_errors = 5;
    let fsm = fail_times_with(cfg, 3);
    assert_eq!(fsm.error_count(), 3);
    assert_eq!(incoming(&fsm), IncomingDecision::Accept);
}

#[test]
fn lower_local_identifier_switches_to_the_incoming_connection() {
    // We are 198.18.0.1, the peer 198.18.0.2: the peer's connection wins.
    let mut fsm = open_sent(config());
    assert_eq!(fsm.resolve_collision(&peer_open()), CollisionResolution::CloseExisting);
    // The runtime's sequence: dump the existing connection ...
    let out = fsm.handle(Event::OpenCollisionDump);
    check_order(&out);
    assert_eq!(notification(&out), Some((6, 7)));
    assert!(closes(&out));
    assert_eq!(fsm.state(), State::Active);
    // ... adopt the new one and process its OPEN.
    let out = fsm.handle(Event::TcpConnectionConfirmed);
    assert!(stopped(&out, TimerKind::ConnectRetry));
    assert!(matches!(sent(&out)[..], [Message::Open(_)]));
    let out = fsm.handle(Event::BgpOpen(peer_open()));
    assert_eq!(sent(&out), vec![&Message::Keepalive]);
    assert_eq!(fsm.state(), State::OpenConfirm);
    // The surviving connection is the peer's: a further connection from it replaces it.
    assert_eq!(fsm.resolve_collision(&peer_open()), CollisionResolution::CloseExisting);
}

#[test]
fn higher_local_identifier_keeps_the_existing_connection() {
    let cfg = FsmConfig::new(LOCAL_AS, Ipv4Addr::new(198, 18, 0, 9), PEER_AS);
    for mut fsm in [open_sent(cfg.clone()), open_confirm(cfg)] {
        assert_eq!(
            fsm.resolve_collision(&peer_open()),
            CollisionResolution::CloseIncoming(Notification::new(6, 7))
        );
        // Nothing changes for the existing connection.
        assert!(fsm.state() == State::OpenSent || fsm.state() == State::OpenConfirm);
        expect_ignored(&mut fsm, Event::TcpConnectionConfirmed);
    }
}

#[test]
fn resolution_when_the_existing_connection_is_gone() {
    assert_eq!(
        Fsm::new(config()).resolve_collision(&peer_open()),
        CollisionResolution::CloseIncoming(Notification::new(6, 5))
    );
    let mut fsm = open_sent(config());
    fsm.handle(Event::TcpConnectionFails(None));
    assert_eq!(fsm.resolve_collision(&peer_open()), CollisionResolution::AcceptIncoming);
    fsm.handle(Event::TcpConnectionConfirmed);
    fsm.handle(Event::BgpOpen(peer_open()));
    assert_eq!(fsm.state(), State::OpenConfirm);
    // The existing connection failed with an error meanwhile (Idle, first back-off): the
    // new connection ends the back-off.
    let mut fsm = fail_times(1);
    assert_eq!(fsm.resolve_collision(&peer_open()), CollisionResolution::AcceptIncoming);
    fsm.handle(Event::TcpConnectionConfirmed);
    fsm.handle(Event::BgpOpen(peer_open()));
    assert_eq!(fsm.state(), State::OpenConfirm);
}

/// An OPEN from AS `asn` (in "My Autonomous System" and the 4-octet AS capability).
fn open_from(asn: u32, id: Ipv4Addr, mut caps: Vec<Capability>) -> Open {
    for c in &mut caps {
        if let Capability::FourOctetAs(a) = c {
            *a = asn;
        }
    }
    Open::new(asn, 90, id, caps)
}

#[test]
fn an_invalid_open_is_refused_on_the_new_connection_only() {
    let bad_as = open_from(64999, PEER_ID, peer_caps());
    let bad_hold = peer_open_with(1, peer_caps());
    // OpenSent: the identifiers would make the new connection win, but its OPEN is bad.
    for (open, code) in [(&bad_as, (2, 2)), (&bad_hold, (2, 6))] {
        let fsm = open_sent(config());
        let CollisionResolution::CloseIncoming(n) = fsm.resolve_collision(open) else {
            panic!("must close the new connection");
        };
        assert_eq!((n.code, n.subcode), code);
    }
    // iBGP: the peer's identifier must differ from ours (RFC 6286 §2.2).
    let ibgp = FsmConfig::new(LOCAL_AS, LOCAL_ID, LOCAL_AS);
    let same_id = open_from(LOCAL_AS, LOCAL_ID, peer_caps());
    assert_eq!(
        open_sent(ibgp).resolve_collision(&same_id),
        CollisionResolution::CloseIncoming(Notification::new(2, 3))
    );
    // Established with graceful restart: a restarting OPEN that fails the checks leaves the
    // session up.
    let fsm = gr_established();
    let mut caps = peer_caps();
    caps.push(Capability::GracefulRestart(GracefulRestartCap {
        restart_time: 120,
        restart_state: true,
        ..Default::default()
    }));
    let restarted_bad_as = open_from(64999, PEER_ID, caps);
    assert_eq!(
        fsm.resolve_collision(&restarted_bad_as),
        CollisionResolution::CloseIncoming(Notification::new(2, 2))
    );
    assert_eq!(fsm.state(), State::Established);
}

#[test]
fn established_keeps_its_session_unless_the_peer_restarted_with_graceful_restart() {
    // No graceful restart: the existing session wins.
    let fsm = established(config());
    assert_eq!(
        fsm.resolve_collision(&gr_peer_open_with(true)),
        CollisionResolution::CloseIncoming(Notification::new(6, 7))
    );
    // Graceful restart negotiated, but the new OPEN does not say the peer restarted: a
    // simultaneous-open straggler; the session stays.
    let fsm = gr_established();
    assert_eq!(
        fsm.resolve_collision(&gr_peer_open()),
        CollisionResolution::CloseIncoming(Notification::new(6, 7))
    );
    // Restart State bit: the peer restarted, the new connection replaces the session.
    let mut fsm = gr_established();
    assert_eq!(fsm.resolve_collision(&gr_peer_open_with(true)), CollisionResolution::CloseExisting);
    let out = fsm.handle(Event::OpenCollisionDump);
    assert_eq!(session_down(&out), Some(&DownReason::Collision));
    assert!(DownReason::Collision.allows_graceful_restart(), "routes kept as stale");
    fsm.handle(Event::TcpConnectionConfirmed);
    fsm.handle(Event::BgpOpen(gr_peer_open_with(true)));
    let out = fsm.handle(Event::KeepAliveMsg);
    assert!(out.iter().any(|o| matches!(o, Output::Established(_))));
}
