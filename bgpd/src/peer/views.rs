//! Operator-facing renderings of session facts: state numbers for metrics, NOTIFICATION text
//! for logs, the negotiated parameters for `show neighbor`.
use std::net::IpAddr;

use bgp_core::fsm::{DownReason, Negotiated, State};
use bgp_core::wire::Notification;

use super::status::NegotiatedView;

/// 1 Idle .. 6 Established (the `bgpd_neighbor_state` metric).
pub fn state_number(state: State) -> i64 {
    match state {
        State::Idle => 1,
        State::Connect => 2,
        State::Active => 3,
        State::OpenSent => 4,
        State::OpenConfirm => 5,
        State::Established => 6,
    }
}

/// `NOTIFICATION 6/2 (Cease / Administrative Shutdown) "maintenance"`.
pub fn describe_notification(n: &Notification) -> String {
    let mut text = format!("NOTIFICATION {}/{} ({})", n.code, n.subcode, n.describe());
    // RFC 8538 §3: a Hard Reset says why in the NOTIFICATION it encapsulates.
    let inner = n.encapsulated();
    // A Hard Reset too short to encapsulate anything shows its data like any other.
    let encapsulates = inner.is_some();
    if let Some(inner) = &inner {
        text.push_str(&format!(" for {}/{} ({})", inner.code, inner.subcode, inner.describe()));
    }
    if let Some(message) = n.shutdown_message() {
        text.push_str(&format!(" {message:?}"));
    } else if let Some(inner) = inner.filter(|i| !i.data.is_empty()) {
        let hex: String = inner.data.iter().take(32).map(|b| format!("{b:02x}")).collect();
        text.push_str(&format!(" data {hex}"));
    } else if !n.data.is_empty() && !encapsulates {
        let hex: String = n.data.iter().take(32).map(|b| format!("{b:02x}")).collect();
        text.push_str(&format!(" data {hex}"));
    }
    text
}

/// Why a session ended, in one line for logs and `show neighbors`.
pub fn describe_down(reason: &DownReason) -> String {
    match reason {
        DownReason::ManualStop(n) => {
            format!("administratively stopped, sent {}", describe_notification(n))
        }
        DownReason::NotificationSent(n) => format!("sent {}", describe_notification(n)),
        DownReason::NotificationReceived(n) => format!("received {}", describe_notification(n)),
        DownReason::HoldTimerExpired => "hold timer expired".to_string(),
        DownReason::ConnectionFailed(None) => "connection closed by peer".to_string(),
        DownReason::ConnectionFailed(Some(kind)) => format!("connection failed: {kind}"),
        DownReason::UnexpectedEvent(event) => format!("unexpected event {event}"),
        DownReason::Collision => "replaced by a newer connection (collision)".to_string(),
    }
}

pub fn negotiated_view(n: &Negotiated, local: IpAddr, remote_port: u16) -> NegotiatedView {
    NegotiatedView {
        peer_as: n.peer_as,
        peer_router_id: n.peer_router_id.to_string(),
        hold_time: n.hold_time,
        keepalive_secs: n.keepalive_interval.as_secs(),
        families: n.families.iter().map(ToString::to_string).collect(),
        four_octet_as: n.rx.four_octet_as,
        route_refresh: n.route_refresh,
        graceful_restart: n.peer_graceful_restart.is_some() && n.local_graceful_restart,
        extended_message: n.rx.max_message_len > 4096,
        add_path_rx: n.rx.add_path.iter().map(ToString::to_string).collect(),
        add_path_tx: n.tx.add_path.iter().map(ToString::to_string).collect(),
        peer_hostname: n.peer_hostname.clone(),
        local_address: local.to_string(),
        remote_port,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_text_has_code_names_and_message() {
        let n = Notification::cease_with_message(2, "maintenance");
        let text = describe_notification(&n);
        assert!(text.starts_with("NOTIFICATION 6/2 ("), "{text}");
        assert!(text.ends_with("\"maintenance\""), "{text}");
        let hard = describe_notification(&Notification::hard_reset(&n));
        assert_eq!(
            hard,
            "NOTIFICATION 6/9 (Cease / Hard Reset) for 6/2 (Cease / Administrative Shutdown) \
             \"maintenance\""
        );
        let max = Notification { code: 6, subcode: 1, data: bytes::Bytes::from_static(&[0, 1]) };
        let hard = describe_notification(&Notification::hard_reset(&max));
        assert!(hard.ends_with("for 6/1 (Cease / Maximum Number of Prefixes Reached) data 0001"));
        // A Hard Reset too short to encapsulate a NOTIFICATION still shows its data.
        let short = Notification { code: 6, subcode: 9, data: bytes::Bytes::from_static(&[6]) };
        assert_eq!(describe_notification(&short), "NOTIFICATION 6/9 (Cease / Hard Reset) data 06");
        let bare = Notification::new(6, 9);
        assert_eq!(describe_notification(&bare), "NOTIFICATION 6/9 (Cease / Hard Reset)");
        assert_eq!(state_number(State::Established), 6);
    }
}
