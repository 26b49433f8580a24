//! RFC 4271 §6.8 collision resolution and incoming connections.
use std::time::Duration;

use super::*;
use crate::fsm::{
    keep_existing, keep_existing_with_as, CollisionResolution, DownReason, GracefulRestartConfig,
    IncomingDecision,
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

fn gr_config() -> FsmConfig {
    let mut cfg = config();
    cfg.capabilities.graceful_restart = Some(GracefulRestartConfig::default());
    cfg
}

fn gr_peer_open() -> Open {
    let mut caps = peer_caps();
    caps.push(Capability::GracefulRestart(GracefulRestartCap {
        restart_time: 120,
        ..Default::default()
    }));
    peer_open_with(90, caps)
}

#[test]
fn incoming_decision_per_state() {
    let fsm = Fsm::new(config());
    assert_eq!(fsm.incoming_connection(), IncomingDecision::Refuse);
    assert_eq!(connect(config()).incoming_connection(), IncomingDecision::Accept);
    let mut delaying = connect(FsmConfig { delay_open: Some(Duration::from_secs(5)), ..config() });
    delaying.handle(Event::TcpCrAcked);
    assert_eq!(delaying.incoming_connection(), IncomingDecision::Collision);
    assert_eq!(open_sent(config()).incoming_connection(), IncomingDecision::Collision);
    assert_eq!(open_confirm(config()).incoming_connection(), IncomingDecision::Collision);
    assert_eq!(established(config()).incoming_connection(), IncomingDecision::Refuse);
    // Established with a peer that announced graceful restart: it may have restarted.
    let mut fsm = open_sent(gr_config());
    fsm.handle(Event::BgpOpen(gr_peer_open()));
    fsm.handle(Event::KeepAliveMsg);
    assert_eq!(fsm.incoming_connection(), IncomingDecision::Collision);
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
}

#[test]
fn established_keeps_its_session_unless_the_peer_restarted() {
    let fsm = established(config());
    assert_eq!(
        fsm.resolve_collision(&peer_open()),
        CollisionResolution::CloseIncoming(Notification::new(6, 7))
    );
    // Graceful restart: the new connection replaces the session.
    let mut fsm = open_sent(gr_config());
    fsm.handle(Event::BgpOpen(gr_peer_open()));
    fsm.handle(Event::KeepAliveMsg);
    assert_eq!(fsm.resolve_collision(&gr_peer_open()), CollisionResolution::CloseExisting);
    let out = fsm.handle(Event::OpenCollisionDump);
    assert_eq!(session_down(&out), Some(&DownReason::Collision));
    fsm.handle(Event::TcpConnectionConfirmed);
    fsm.handle(Event::BgpOpen(gr_peer_open()));
    let out = fsm.handle(Event::KeepAliveMsg);
    assert!(out.iter().any(|o| matches!(o, Output::Established(_))));
}
