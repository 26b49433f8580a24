//! FSM event sequences: each input octet picks an RFC 4271 §8.1 event (OPENs are built from
//! the following octets, or decoded from them raw). The FSM must never panic, and whatever it
//! is fed, it has negotiated parameters exactly in OpenConfirm and Established.
#![no_main]
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp_core::fsm::{CollisionResolution, Event, Fsm, FsmConfig, IncomingDecision, State};
use bgp_core::wire::notification::codes;
use bgp_core::wire::{Capability, DecodeError, Family, GracefulRestartCap, Notification, Open};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

const LOCAL_AS: u32 = 64512;

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut rest)) = data.split_first() else { return };
    let remote_as = if setup & 1 != 0 { LOCAL_AS } else { 65001 };
    let mut cfg = FsmConfig::new(LOCAL_AS, Ipv4Addr::new(198, 18, 0, 1), remote_as);
    cfg.passive = setup & 2 != 0;
    if setup & 4 != 0 {
        cfg.delay_open = Some(Duration::from_secs(5));
    }
    cfg.hold_time = if setup & 8 != 0 { 0 } else { 9 };
    let mut fsm = Fsm::new(cfg);
    let mut steps = 0;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        steps += 1;
        if steps > 512 {
            break;
        }
        let event = match op % 32 {
            0 => Event::ManualStart,
            1 => Event::manual_stop(),
            2 => Event::AutomaticStart,
            3 => Event::ManualStartWithPassiveTcpEstablishment,
            4 => Event::AutomaticStartWithPassiveTcpEstablishment,
            5 => Event::AutomaticStop(Notification::new(codes::CEASE, 1)),
            6 => Event::ConnectRetryTimerExpires,
            7 => Event::HoldTimerExpires,
            8 => Event::KeepaliveTimerExpires,
            9 => Event::DelayOpenTimerExpires,
            10 => Event::IdleHoldTimerExpires,
            11 => Event::ErrorForgetTimerExpires,
            12 => Event::TcpCrAcked,
            13 => Event::TcpConnectionConfirmed,
            14 => Event::TcpConnectionFails(None),
            15 => Event::TcpConnectionFails(Some(ErrorKind::ConnectionRefused)),
            16 | 17 | 18 => {
                let Some(open) = built_open(&mut rest, remote_as) else { break };
                Event::BgpOpen(open)
            }
            19 => {
                let Some(open) = built_open(&mut rest, remote_as) else { break };
                Event::BgpOpenWithDelayOpenTimerRunning(open)
            }
            20 => {
                // A raw OPEN body: length octet, then that many octets.
                let Some((&len, tail)) = rest.split_first() else { break };
                let len = usize::from(len).min(tail.len());
                let (body, tail) = tail.split_at(len);
                rest = tail;
                match Open::decode(&Bytes::copy_from_slice(body)) {
                    Ok(open) => Event::BgpOpen(open),
                    Err(e) => Event::BgpOpenMsgErr(e),
                }
            }
            21 => Event::BgpHeaderErr(DecodeError::BadMessageLength(3)),
            22 => Event::OpenCollisionDump,
            23 => Event::NotifMsgVerErr(Notification::new(codes::OPEN_MESSAGE_ERROR, 1)),
            24 => Event::NotifMsg(Notification::new(codes::CEASE, op >> 5)),
            25 => Event::KeepAliveMsg,
            26 => {
                // A new connection from the peer (RFC 4271 §6.8), carried out as the runtime
                // does: either address order, then the held connection's OPEN.
                let (ours, theirs) = (IpAddr::from([198, 18, 0, 1]), IpAddr::from([198, 18, 0, 2]));
                let (local, remote) = if op & 32 != 0 { (ours, theirs) } else { (theirs, ours) };
                match fsm.incoming_connection(local, remote) {
                    IncomingDecision::Refuse(_) => continue,
                    IncomingDecision::Accept => Event::TcpConnectionConfirmed,
                    IncomingDecision::Collision => {
                        let Some(open) = built_open(&mut rest, remote_as) else { break };
                        match fsm.resolve_collision(&open) {
                            CollisionResolution::CloseIncoming(_) => continue,
                            CollisionResolution::CloseExisting => {
                                step(&mut fsm, Event::OpenCollisionDump);
                                step(&mut fsm, Event::TcpConnectionConfirmed);
                            }
                            CollisionResolution::AcceptIncoming => {
                                step(&mut fsm, Event::TcpConnectionConfirmed);
                            }
                        }
                        Event::BgpOpen(open)
                    }
                }
            }
            27 => Event::UpdateMsg,
            28 => Event::UpdateMsgErr(DecodeError::MalformedAsPath),
            29 => Event::RouteRefreshMsg,
            30 => Event::RouteRefreshMsgErr(DecodeError::BadMessageLength(5)),
            _ => Event::ManualStop { cease_subcode: op >> 5, message: "fuzz".into() },
        };
        step(&mut fsm, event);
    }
});

/// Feed one event and check the invariant: negotiated parameters exactly in OpenConfirm and
/// Established.
fn step(fsm: &mut Fsm, event: Event) {
    let _ = fsm.handle(event);
    let opened = matches!(fsm.state(), State::OpenConfirm | State::Established);
    assert_eq!(opened, fsm.negotiated().is_some(), "negotiated iff OpenConfirm/Established");
}

/// An OPEN from the next three octets: which AS, hold time and capability set.
fn built_open(rest: &mut &[u8], remote_as: u32) -> Option<Open> {
    let (head, tail) = rest.split_at_checked(3)?;
    *rest = tail;
    let asn = match head[0] % 4 {
        0 | 1 => remote_as,
        2 => 65099,
        _ => u32::from(head[0]) << 16 | 7,
    };
    let hold = match head[1] % 4 {
        0 => 90,
        1 => 0,
        2 => 2,
        _ => u16::from(head[1]),
    };
    let mut caps = vec![Capability::FourOctetAs(asn)];
    if head[2] & 1 != 0 {
        caps.push(Capability::Multiprotocol(Family::IPV4_UNICAST));
    }
    if head[2] & 2 != 0 {
        caps.push(Capability::Multiprotocol(Family::IPV6_UNICAST));
    }
    if head[2] & 4 != 0 {
        caps.push(Capability::RouteRefresh);
    }
    if head[2] & 8 != 0 {
        caps.push(Capability::GracefulRestart(GracefulRestartCap {
            restart_state: head[2] & 16 != 0,
            notification: head[2] & 32 != 0,
            restart_time: 120,
            families: vec![(Family::IPV4_UNICAST, head[2] & 64 != 0)],
        }));
    }
    let id = if head[2] & 128 != 0 {
        Ipv4Addr::new(198, 18, 0, 1)
    } else {
        Ipv4Addr::new(198, 18, 0, 2)
    };
    Some(Open::new(asn, hold, id, caps))
}
