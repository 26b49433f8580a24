//! The session's [`PeerCommand`]s, from the daemon, the listener, the RIB and the session
//! itself: start, stop, reset, the maximum-prefix restart, reconfiguration, ROUTE-REFRESH
//! requests and the daemon's shutdown (`exit`).
use std::time::Duration;

use bgp_core::fsm::{Event, Negotiated, State};
use bgp_core::wire::notification::codes;
use bgp_core::wire::Message;
use tracing::{info, warn};

use super::Session;
use crate::messages::PeerCommand;

/// How long an exiting session waits for the RIB to take its last inputs (PeerDown).
const RIB_FLUSH_ON_EXIT: Duration = Duration::from_secs(5);

impl Session {
    pub(super) async fn start(&mut self) {
        self.status.lock().admin_down = false;
        self.prefix_limit.started();
        let event = if self.params.fsm.passive {
            Event::ManualStartWithPassiveTcpEstablishment
        } else {
            Event::ManualStart
        };
        self.feed(event).await;
    }

    pub(super) async fn command(&mut self, cmd: PeerCommand) {
        match cmd {
            PeerCommand::Start => {
                if self.fsm.state() == State::Idle {
                    self.start().await;
                }
            }
            PeerCommand::Stop { subcode, message } => {
                self.status.lock().admin_down = true;
                let restart_after = self.params.neighbor.max_prefixes.and_then(|m| m.restart_after);
                self.prefix_limit.stopped(subcode, restart_after, &self.self_tx);
                self.feed(Event::ManualStop { cease_subcode: subcode, message }).await;
                self.timers.stop_all();
            }
            PeerCommand::Reset { subcode, message } => {
                self.feed(Event::ManualStop { cease_subcode: subcode, message }).await;
                self.timers.stop_all();
                self.start().await;
            }
            PeerCommand::RestartAfterPrefixLimit { hold } => {
                if self.prefix_limit.restart_due(hold) && self.fsm.state() == State::Idle {
                    info!(neighbor = %self.label, "maximum-prefix restart timer expired: starting");
                    self.start().await;
                }
            }
            PeerCommand::AutomaticStop(notification) => {
                self.feed(Event::AutomaticStop(notification)).await;
            }
            PeerCommand::Incoming(stream) => self.incoming(stream).await,
            PeerCommand::Reconfigure(params) => {
                // Only fields that need no reset reach here (the daemon resets otherwise).
                self.fsm.set_config(params.fsm.clone());
                self.params = *params;
            }
            PeerCommand::SendRouteRefresh(request) => {
                // RFC 2918 §3: only to a peer that announced the Route Refresh capability.
                if self.fsm.negotiated().is_some_and(|n| n.route_refresh) {
                    self.send(&Message::RouteRefresh(request));
                }
            }
            PeerCommand::Exit { graceful } => self.exit(graceful).await,
        }
    }

    /// Daemon shutdown. With graceful restart negotiated the connection is closed without a
    /// NOTIFICATION so the peer keeps our routes (RFC 4724 §4.2); otherwise Cease /
    /// Administrative Shutdown (RFC 4486).
    pub(super) async fn exit(&mut self, graceful: bool) {
        let gr = self.negotiated.as_ref().is_some_and(Negotiated::graceful_restart);
        if graceful && gr && self.fsm.state() == State::Established {
            if let Some(conn) = self.conn.take() {
                conn.writer.close();
            }
        } else {
            self.feed(Event::ManualStop {
                cease_subcode: codes::CEASE_ADMIN_SHUTDOWN,
                message: "bgpd shutting down".to_string(),
            })
            .await;
        }
        self.tell_rib_down(graceful);
        self.drop_held();
        self.abort_dial();
        // The RIB must hear PeerDown, whatever waits before it; bounded, so a RIB that no
        // longer reads (it is shutting down too) cannot keep the session task alive.
        if tokio::time::timeout(RIB_FLUSH_ON_EXIT, self.rib.flush()).await.is_err() {
            warn!(neighbor = %self.label, "RIB did not take the session's last inputs within 5 s: exiting without them");
        }
        self.exiting = true;
    }
}
