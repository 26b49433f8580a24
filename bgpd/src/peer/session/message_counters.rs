//! Counting the session's messages in both directions (metrics and status), with a log line
//! and `last_error` for each NOTIFICATION.
use bgp_core::wire::Message;
use tracing::warn;

use super::Session;
use crate::peer::views;

/// Which way a counted message went.
#[derive(Clone, Copy)]
pub(super) enum Direction {
    Received,
    Sent,
}

impl Session {
    /// Message counters, and a log line plus `last_error` for a NOTIFICATION.
    pub(super) fn count(&self, msg: &Message, direction: Direction) {
        let (messages, notifications, word) = match direction {
            Direction::Received => {
                (&self.metrics.messages_received, &self.metrics.notifications_received, "received")
            }
            Direction::Sent => {
                (&self.metrics.messages_sent, &self.metrics.notifications_sent, "sent")
            }
        };
        messages.with_label_values(&[&self.label, message_kind(msg)]).inc();
        {
            let mut st = self.status.lock();
            match direction {
                Direction::Received => st.messages_in += 1,
                Direction::Sent => st.messages_out += 1,
            }
        }
        if let Message::Notification(n) = msg {
            notifications
                .with_label_values(&[&self.label, &n.code.to_string(), &n.subcode.to_string()])
                .inc();
            let text = views::describe_notification(n);
            warn!(neighbor = %self.label, notification = %text, "NOTIFICATION {word}");
            self.status.lock().last_error = Some(format!("{word} {text}"));
        }
    }
}

/// The metric label for `msg`'s type (`open`, `update`, ...).
pub fn message_kind(msg: &Message) -> &'static str {
    match msg {
        Message::Open(_) => "open",
        Message::Update(_) => "update",
        Message::Notification(_) => "notification",
        Message::Keepalive => "keepalive",
        Message::RouteRefresh(_) => "route_refresh",
    }
}
