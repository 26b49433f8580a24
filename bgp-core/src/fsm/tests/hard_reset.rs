//! RFC 8538: Cease subcodes sent as Hard Reset when the N bit was exchanged, and which
//! session ends keep the peer's routes as stale.
use std::io::ErrorKind;

use bytes::Bytes;

use super::*;
use crate::fsm::{DownReason, GracefulRestartConfig, Negotiated};
use crate::wire::GracefulRestartCap;

/// Graceful restart announced by us (N bit per `local_n`) and by the peer (per `peer_n`).
fn gr_established(local_n: bool, peer_n: bool) -> (Fsm, Negotiated) {
    let mut cfg = config();
    cfg.capabilities.graceful_restart =
        Some(GracefulRestartConfig { notification: local_n, ..Default::default() });
    let mut caps = peer_caps();
    caps.push(Capability::GracefulRestart(GracefulRestartCap {
        restart_time: 120,
        notification: peer_n,
        ..Default::default()
    }));
    let mut fsm = open_sent(cfg);
    fsm.handle(Event::BgpOpen(peer_open_with(90, caps)));
    let out = fsm.handle(Event::KeepAliveMsg);
    let negotiated = out
        .into_iter()
        .find_map(|o| match o {
            Output::Established(n) => Some(n),
            _ => None,
        })
        .expect("Established");
    (fsm, negotiated)
}

/// The NOTIFICATION sent for `event`, and the session's down reason.
fn down(fsm: &mut Fsm, event: Event) -> (Option<Notification>, DownReason) {
    let out = fsm.handle(event);
    check_order(&out);
    let sent = sent(&out).into_iter().find_map(|m| match m {
        Message::Notification(n) => Some(n.clone()),
        _ => None,
    });
    (sent, session_down(&out).cloned().expect("SessionDown"))
}

fn max_prefix() -> Notification {
    Notification { code: 6, subcode: 1, data: Bytes::from_static(&[0, 1, 1, 0, 0, 0, 100]) }
}

#[test]
fn cease_1_2_3_go_out_as_hard_reset_with_the_n_bit() {
    let stops = [
        Event::AutomaticStop(max_prefix()),
        Event::ManualStop { cease_subcode: 2, message: "maintenance".to_string() },
        Event::ManualStop { cease_subcode: 3, message: String::new() },
    ];
    for event in stops {
        let (mut fsm, negotiated) = gr_established(true, true);
        assert!(negotiated.notification_graceful_restart());
        let name = format!("{event:?}");
        let (sent, reason) = down(&mut fsm, event);
        let sent = sent.expect("a NOTIFICATION goes out");
        assert!(sent.is_hard_reset(), "{name}: {sent}");
        let inner = sent.encapsulated().expect("encapsulated");
        assert_eq!(inner.code, 6, "{name}");
        assert!(reason.is_hard_reset(), "{name}: the down reason records the Hard Reset");
        assert!(!negotiated.retains_routes_after(&reason), "{name}: routes flushed at once");
    }
    // The max-prefix data (AFI, SAFI, limit) travels inside.
    let (mut fsm, _) = gr_established(true, true);
    let (sent, _) = down(&mut fsm, Event::AutomaticStop(max_prefix()));
    assert_eq!(sent.and_then(|n| n.encapsulated()), Some(max_prefix()));
    // The shutdown communication stays readable.
    let (mut fsm, _) = gr_established(true, true);
    let event = Event::ManualStop { cease_subcode: 2, message: "maintenance".to_string() };
    let (sent, _) = down(&mut fsm, event);
    assert_eq!(sent.as_ref().and_then(|n| n.shutdown_message()), Some("maintenance"));
}

/// RFC 8538 §3: the encapsulated NOTIFICATION is the actual reason; a stop that already is a
/// Hard Reset goes out as a bare 6/9 (no data: the data portion belongs to an encapsulated
/// NOTIFICATION, so no shutdown message either), never as 6/9 wrapping 06 09.
#[test]
fn a_hard_reset_stop_goes_out_bare_and_is_never_wrapped() {
    for (local_n, peer_n) in [(true, true), (true, false), (false, false)] {
        let (mut fsm, negotiated) = gr_established(local_n, peer_n);
        let event = Event::ManualStop { cease_subcode: 9, message: "bye".to_string() };
        let (sent, reason) = down(&mut fsm, event);
        assert_eq!(sent, Some(Notification::new(6, 9)), "N bit {local_n}/{peer_n}");
        assert!(reason.is_hard_reset());
        assert!(!negotiated.retains_routes_after(&reason), "a Hard Reset flushes");
    }
}

#[test]
fn other_ceases_and_errors_are_sent_as_they_are_and_keep_the_routes() {
    let (mut fsm, negotiated) = gr_established(true, true);
    let (sent, reason) =
        down(&mut fsm, Event::ManualStop { cease_subcode: 4, message: String::new() });
    assert_eq!(sent.map(|n| (n.code, n.subcode)), Some((6, 4)));
    assert!(negotiated.retains_routes_after(&reason), "RFC 8538 §4: graceful on both sides");
    let (mut fsm, negotiated) = gr_established(true, true);
    let (sent, reason) = down(&mut fsm, Event::HoldTimerExpires);
    assert_eq!(sent, Some(Notification::hold_timer_expired()));
    assert!(negotiated.retains_routes_after(&reason));
}

#[test]
fn without_the_n_bit_on_both_sides_nothing_is_wrapped() {
    for (local_n, peer_n) in [(true, false), (false, true)] {
        let (mut fsm, negotiated) = gr_established(local_n, peer_n);
        assert!(negotiated.graceful_restart());
        assert!(!negotiated.notification_graceful_restart());
        let (sent, reason) =
            down(&mut fsm, Event::ManualStop { cease_subcode: 2, message: String::new() });
        assert_eq!(sent.map(|n| (n.code, n.subcode)), Some((6, 2)));
        assert!(!negotiated.retains_routes_after(&reason), "RFC 4724: a NOTIFICATION ends GR");
    }
    // No graceful restart at all.
    let mut fsm = established(config());
    let (sent, _) = down(&mut fsm, Event::AutomaticStop(max_prefix()));
    assert_eq!(sent, Some(max_prefix()));
}

#[test]
fn received_notifications_per_rfc_8538_section_4() {
    let hard = Notification::hard_reset(&Notification::new(6, 2));
    // N bit exchanged: a received Hard Reset flushes, any other NOTIFICATION keeps.
    let (mut fsm, negotiated) = gr_established(true, true);
    let (sent, reason) = down(&mut fsm, Event::NotifMsg(hard.clone()));
    assert_eq!(sent, None, "a NOTIFICATION is not answered");
    assert!(reason.is_hard_reset());
    assert!(!negotiated.retains_routes_after(&reason));
    let (mut fsm, negotiated) = gr_established(true, true);
    let (_, reason) = down(&mut fsm, Event::NotifMsg(Notification::new(6, 4)));
    assert!(negotiated.retains_routes_after(&reason));
    // Graceful restart without the N bit: any NOTIFICATION flushes; a dead connection keeps.
    let (mut fsm, negotiated) = gr_established(false, false);
    let (_, reason) = down(&mut fsm, Event::NotifMsg(Notification::new(6, 4)));
    assert!(!negotiated.retains_routes_after(&reason));
    let (mut fsm, negotiated) = gr_established(false, false);
    let (_, reason) = down(&mut fsm, Event::TcpConnectionFails(Some(ErrorKind::ConnectionReset)));
    assert!(negotiated.retains_routes_after(&reason));
}
