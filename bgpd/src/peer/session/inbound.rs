//! The peer's messages on the session's connection: reading (end of stream and errors are
//! TcpConnectionFails), splitting and decoding frames (a decode error becomes the FSM event
//! for its NOTIFICATION), feeding each message to the FSM and, once Established, handing
//! UPDATEs and ROUTE-REFRESH requests to the RIB.
use bgp_core::fsm::{Event, State};
use bgp_core::wire::message::decode_message;
use bgp_core::wire::Message;
use tracing::warn;

use super::message_counters::Direction;
use super::Session;
use crate::messages::RibInput;

impl Session {
    pub(super) async fn on_read(&mut self, read: std::io::Result<usize>) {
        if !matches!(read, Ok(n) if n > 0) {
            // The connection is dead: the FSM is told below and will not ask to close it.
            if let Some(conn) = self.conn.take() {
                conn.writer.close();
            }
        }
        match read {
            Ok(0) => {
                self.status.lock().last_error = Some("connection closed by peer".to_string());
                self.feed(Event::TcpConnectionFails(None)).await;
            }
            Ok(_) => self.drain_frames().await,
            Err(e) => {
                self.status.lock().last_error = Some(format!("connection: {e}"));
                self.feed(Event::TcpConnectionFails(Some(e.kind()))).await;
            }
        }
    }

    /// Decode and handle every whole message in the read buffer.
    /// Stops while the RIB has no room for the last input (rib_feed.rs): the rest waits in
    /// the buffer, in order.
    pub(super) async fn drain_frames(&mut self) {
        loop {
            if self.rib.is_blocked() {
                return;
            }
            let Some(conn) = self.conn.as_mut() else { return };
            let frame = match bgp_core::wire::split_frame(&mut conn.buf, &self.rx_ctx) {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(e) => {
                    self.decode_failed(e).await;
                    return;
                }
            };
            match decode_message(frame, &self.rx_ctx) {
                Ok(msg) => self.on_message(msg).await,
                Err(e) => {
                    self.decode_failed(e).await;
                    return;
                }
            }
            // Handing a message to the RIB never waits (try_send), so yield to the runtime
            // once this task's budget is spent, as an awaited send would: the RIB task runs
            // between the messages of a burst, and the queue holds a few decoded UPDATEs
            // instead of thousands (peak memory of a full-table withdrawal: 92 -> 71 MiB).
            tokio::task::coop::consume_budget().await;
        }
    }

    async fn decode_failed(&mut self, e: bgp_core::wire::DecodeError) {
        warn!(neighbor = %self.label, error = %e, "malformed message");
        self.status.lock().last_error = Some(format!("received malformed message: {e}"));
        self.feed(Event::from_decode_error(e)).await;
    }

    async fn on_message(&mut self, msg: Message) {
        self.count(&msg, Direction::Received);
        self.feed(Event::from_message(&msg)).await;
        if self.fsm.state() != State::Established {
            return;
        }
        match msg {
            Message::Update(update) => {
                self.metrics.updates_received.with_label_values(&[&self.label]).inc();
                if !update.issues.is_empty() {
                    for issue in &update.issues {
                        warn!(neighbor = %self.label, attribute = issue.type_code,
                              action = ?issue.action, reason = issue.reason, "RFC 7606");
                    }
                    self.metrics.treat_as_withdraw.with_label_values(&[&self.label]).inc();
                }
                self.feed_rib(RibInput::Update { peer: self.key, update: Box::new(update) });
            }
            Message::RouteRefresh(request) => {
                let check = self.fsm.negotiated().map(|n| n.check_route_refresh(&request));
                match check {
                    Some(Ok(())) => {
                        self.feed_rib(RibInput::RouteRefresh { peer: self.key, request })
                    }
                    // RFC 2918 §4, RFC 7313 §5: ignored (see `Negotiated::check_route_refresh`).
                    Some(Err(why)) => {
                        warn!(neighbor = %self.label, afi = request.family.afi,
                              safi = request.family.safi, subtype = request.subtype,
                              reason = why.as_str(), "ROUTE-REFRESH ignored");
                        self.metrics
                            .route_refresh_ignored
                            .with_label_values(&[&self.label, why.as_str()])
                            .inc();
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }
}
