//! Feeding the FSM an event and carrying out its [`Output`]s: dial, close, send (encoded with
//! the negotiated context), timers, Established (PeerUp to the RIB) and session down
//! (PeerDown, with the graceful-restart retention decided by bgp-core), state changes
//! published to the status and metrics.
use bgp_core::fsm::{Event, Output, State};
use bgp_core::wire::message::encode_message;
use bgp_core::wire::{Message, WireContext};
use bytes::BytesMut;
use tracing::{info, warn};

use super::message_counters::Direction;
use super::Session;
use crate::messages::RibInput;
use crate::peer::views;

impl Session {
    /// Feed one event to the FSM and carry out its outputs.
    pub(super) async fn feed(&mut self, event: Event) {
        let outputs = self.fsm.handle(event);
        for output in outputs {
            self.output(output).await;
        }
    }

    async fn output(&mut self, output: Output) {
        match output {
            Output::Connect => self.dial(),
            Output::CloseConnection => {
                if let Some(conn) = self.conn.take() {
                    conn.writer.close();
                }
                self.abort_dial();
            }
            Output::Send(msg) => self.send(&msg),
            Output::StartTimer(kind, after) => self.timers.start(kind, after),
            Output::StopTimer(kind) => self.timers.stop(kind),
            Output::Established(negotiated) => {
                self.rx_ctx = negotiated.rx.clone();
                self.tx_ctx = negotiated.tx.clone();
                self.negotiated = Some(negotiated.clone());
                let (local, remote_port, out) = match &self.conn {
                    Some(c) => (c.local.ip(), c.remote.port(), c.writer.updates()),
                    None => return,
                };
                {
                    let mut st = self.status.lock();
                    st.established_at = Some(std::time::Instant::now());
                    st.established_count += 1;
                    st.negotiated = Some(views::negotiated_view(&negotiated, local, remote_port));
                    st.last_error = None;
                }
                self.rib_up = true;
                self.feed_rib(RibInput::PeerUp {
                    peer: self.key,
                    negotiated: Box::new(negotiated),
                    local_address: local,
                    out,
                    control: self.self_tx.clone(),
                });
            }
            Output::SessionDown(reason) => {
                let text = views::describe_down(&reason);
                // RFC 4724 §4.2: keep the routes as stale when the session ends without a
                // NOTIFICATION; RFC 8538 §4 widens this to NOTIFICATIONs other than Hard Reset
                // when both sides announced the N bit (bgp-core decides).
                let graceful =
                    self.negotiated.take().is_some_and(|n| n.retains_routes_after(&reason));
                info!(neighbor = %self.label, reason = %text, graceful, "session down");
                {
                    let mut st = self.status.lock();
                    st.established_at = None;
                    st.negotiated = None;
                    if st.last_error.is_none() || !text.is_empty() {
                        st.last_error = Some(text);
                    }
                }
                self.tell_rib_down(graceful);
                self.rx_ctx = WireContext::default();
                self.tx_ctx = WireContext::default();
            }
            Output::StateChanged { from, to, event } => {
                let reason = match to {
                    State::Idle | State::Active => {
                        self.status.lock().last_error.clone().unwrap_or_default()
                    }
                    _ => String::new(),
                };
                info!(neighbor = %self.label, %from, %to, event, reason = %reason, "session state");
                self.metrics
                    .session_transitions
                    .with_label_values(&[&self.label, &to.to_string()])
                    .inc();
                self.publish_state();
            }
        }
    }

    pub(super) fn tell_rib_down(&mut self, graceful: bool) {
        if self.rib_up {
            self.rib_up = false;
            self.feed_rib(RibInput::PeerDown { peer: self.key, graceful });
        }
    }

    pub(super) fn publish_state(&self) {
        let state = self.fsm.state();
        {
            let mut st = self.status.lock();
            st.state = state;
            st.since = std::time::Instant::now();
        }
        let n = [self.label.as_str()];
        self.metrics.neighbor_state.with_label_values(&n).set(views::state_number(state));
        self.metrics.neighbor_up.with_label_values(&n).set(i64::from(state == State::Established));
    }

    pub(super) fn send(&mut self, msg: &Message) {
        let Some(conn) = &self.conn else { return };
        let mut out = BytesMut::new();
        if let Err(e) = encode_message(msg, &self.tx_ctx, &mut out) {
            warn!(neighbor = %self.label, error = %e, "cannot encode message");
            return;
        }
        self.count(msg, Direction::Sent);
        conn.writer.send(out.freeze());
    }
}
