//! Prometheus metrics (the `prometheus` crate), one registry per daemon. Names are part of the
//! operator contract (docs/operations.md).
use prometheus::{
    Encoder, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// 1..=6 = Idle, Connect, Active, OpenSent, OpenConfirm, Established.
    pub neighbor_state: IntGaugeVec,
    pub neighbor_up: IntGaugeVec,
    /// Seconds since the epoch when the session last became Established (0 when down);
    /// uptime is `time() - this`, computed at scrape by `neighbor_uptime_seconds`.
    pub neighbor_uptime_seconds: IntGaugeVec,
    pub messages_received: IntCounterVec,
    pub messages_sent: IntCounterVec,
    pub updates_received: IntCounterVec,
    pub updates_sent: IntCounterVec,
    pub prefixes_received: IntGaugeVec,
    pub prefixes_accepted: IntGaugeVec,
    pub prefixes_advertised: IntGaugeVec,
    pub notifications_sent: IntCounterVec,
    pub notifications_received: IntCounterVec,
    pub session_transitions: IntCounterVec,
    pub rib_routes: IntGaugeVec,
    pub kernel_routes_installed: IntGauge,
    pub kernel_route_failures: IntGauge,
    pub netlink_errors: IntGauge,
    pub config_reloads: IntCounterVec,
    pub treat_as_withdraw: IntCounterVec,
    /// Announcements the RIB treated as withdrawn for a malformed AS_PATH found with the
    /// session's facts (confederation segments, enforce-first-AS), one per UPDATE.
    pub malformed_as_path: IntCounterVec,
    /// Prefixes left out of UPDATEs to a neighbour (and withdrawn) because their attributes
    /// grew past the session's maximum message size (RFC 4271 §9.2).
    pub routes_unsendable: IntCounterVec,
    /// Sessions (by neighbour and family) without a next hop of that family: routes of the
    /// family that need our next hop cannot be advertised on them.
    pub next_hop_missing: IntCounterVec,
    pub connections_refused: IntCounter,
    /// Connections from a configured neighbour refused by its session, by reason.
    pub incoming_refused: IntCounterVec,
    /// ROUTE-REFRESH messages ignored (RFC 2918 §4, RFC 7313 §5), by reason.
    pub route_refresh_ignored: IntCounterVec,
    /// ROUTE-REFRESH requests merged into one already pending for the same family.
    pub route_refresh_coalesced: IntCounterVec,
    /// Times a session found the RIB's input queue full and stopped reading its peer.
    pub rib_queue_waits: IntCounterVec,
    /// Of those, connections from unconfigured sources over their rate: closed unanswered.
    pub connections_rate_limited: IntCounter,
    /// HTTP connections closed at once because the endpoint had its cap of connections.
    pub http_connections_refused: IntCounter,
    /// 1 while the cluster datastore answers.
    pub datastore_connected: IntGauge,
    /// The datastore revision the running configuration reflects.
    pub datastore_revision: IntGauge,
    /// Resources (or fields of them) in the datastore view that could not be used.
    pub datastore_problems: IntGauge,
    /// Batches of datastore changes applied to the running configuration.
    pub datastore_updates: IntCounter,
    /// Connection or watch failures.
    pub datastore_errors: IntCounter,
    /// Times a neighbour's stale routes were removed without End-of-RIB (RFC 4724 §4.2), by
    /// reason: `restart_timer`, `family_not_retained`, `forwarding_not_preserved`.
    pub stale_route_purges: IntCounterVec,
    /// Tasks that ended by a panic, by task (`session`, `rib`, `route_sync`).
    pub task_panics: IntCounterVec,
    /// Tasks alive in the daemon's runtime (sessions, writers, timers, HTTP connections):
    /// a number that keeps growing is a leak (the soak test checks it).
    pub runtime_tasks: IntGauge,
    /// File descriptors the process holds (BGP sockets, netlink, HTTP, control).
    pub open_fds: IntGauge,
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("static metric definition");
    r.register(Box::new(g.clone())).expect("metric registered once");
    g
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("static metric definition");
    r.register(Box::new(c.clone())).expect("metric registered once");
    c
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).expect("static metric definition");
    r.register(Box::new(g.clone())).expect("metric registered once");
    g
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).expect("static metric definition");
    r.register(Box::new(c.clone())).expect("metric registered once");
    c
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = Registry::new();
        let n = &["neighbor"];
        let nt = &["neighbor", "type"];
        let ncs = &["neighbor", "code", "subcode"];
        Metrics {
            neighbor_state: gauge_vec(
                &r,
                "bgpd_neighbor_state",
                "FSM state: 1 Idle .. 6 Established",
                n,
            ),
            neighbor_up: gauge_vec(&r, "bgpd_neighbor_up", "1 when the session is Established", n),
            neighbor_uptime_seconds: gauge_vec(
                &r,
                "bgpd_neighbor_uptime_seconds",
                "Seconds the session has been Established (0 when down)",
                n,
            ),
            messages_received: counter_vec(
                &r,
                "bgpd_messages_received_total",
                "BGP messages received",
                nt,
            ),
            messages_sent: counter_vec(&r, "bgpd_messages_sent_total", "BGP messages sent", nt),
            updates_received: counter_vec(
                &r,
                "bgpd_updates_received_total",
                "UPDATE messages received",
                n,
            ),
            updates_sent: counter_vec(&r, "bgpd_updates_sent_total", "UPDATE messages sent", n),
            prefixes_received: gauge_vec(
                &r,
                "bgpd_prefixes_received",
                "Prefixes in Adj-RIB-In before policy",
                n,
            ),
            prefixes_accepted: gauge_vec(
                &r,
                "bgpd_prefixes_accepted",
                "Prefixes accepted by import policy",
                n,
            ),
            prefixes_advertised: gauge_vec(
                &r,
                "bgpd_prefixes_advertised",
                "Prefixes advertised to the neighbour",
                n,
            ),
            notifications_sent: counter_vec(
                &r,
                "bgpd_notifications_sent_total",
                "NOTIFICATIONs sent",
                ncs,
            ),
            notifications_received: counter_vec(
                &r,
                "bgpd_notifications_received_total",
                "NOTIFICATIONs received",
                ncs,
            ),
            session_transitions: counter_vec(
                &r,
                "bgpd_session_transitions_total",
                "FSM state changes, by the state entered",
                &["neighbor", "to"],
            ),
            rib_routes: gauge_vec(
                &r,
                "bgpd_rib_routes",
                "Routes in the RIB (table=loc|in)",
                &["table"],
            ),
            kernel_routes_installed: gauge(
                &r,
                "bgpd_kernel_routes_installed",
                "Routes bgpd has in the kernel",
            ),
            kernel_route_failures: gauge(
                &r,
                "bgpd_kernel_route_failures_total",
                "Kernel route installs the kernel refused",
            ),
            netlink_errors: gauge(&r, "bgpd_netlink_errors_total", "Netlink errors seen"),
            config_reloads: counter_vec(
                &r,
                "bgpd_config_reloads_total",
                "Config reloads",
                &["result"],
            ),
            treat_as_withdraw: counter_vec(
                &r,
                "bgpd_updates_treated_as_withdraw_total",
                "UPDATEs handled as withdrawals under RFC 7606",
                n,
            ),
            malformed_as_path: counter_vec(
                &r,
                "bgpd_malformed_as_path_total",
                "UPDATEs whose routes the RIB treated as withdrawn for a malformed AS_PATH",
                n,
            ),
            routes_unsendable: counter_vec(
                &r,
                "bgpd_routes_unsendable_total",
                "Prefixes withdrawn instead of announced: not encodable for the session (size)",
                n,
            ),
            next_hop_missing: counter_vec(
                &r,
                "bgpd_next_hop_missing_total",
                "Sessions up without a next hop of the family: its routes needing one not sent",
                &["neighbor", "family"],
            ),
            connections_refused: counter(
                &r,
                "bgpd_connections_refused_total",
                "Incoming connections refused (unknown source, admin down, collision)",
            ),
            incoming_refused: counter_vec(
                &r,
                "bgpd_neighbor_connections_refused_total",
                "Connections from a neighbour refused by its session (stopped, back_off, \
                 established, collision, collision_replaced, invalid_open, gtsm, ...)",
                &["neighbor", "reason"],
            ),
            route_refresh_ignored: counter_vec(
                &r,
                "bgpd_route_refresh_ignored_total",
                "ROUTE-REFRESH messages ignored: family or capability not negotiated, \
                 unknown subtype",
                &["neighbor", "reason"],
            ),
            route_refresh_coalesced: counter_vec(
                &r,
                "bgpd_route_refresh_coalesced_total",
                "ROUTE-REFRESH requests merged into one already pending for the family",
                n,
            ),
            rib_queue_waits: counter_vec(
                &r,
                "bgpd_session_rib_queue_waits_total",
                "Times the session found the RIB input queue full and paused reading its peer",
                n,
            ),
            connections_rate_limited: counter(
                &r,
                "bgpd_connections_rate_limited_total",
                "Connections from unconfigured sources over their rate, closed without a reply",
            ),
            http_connections_refused: counter(
                &r,
                "bgpd_http_connections_refused_total",
                "HTTP connections closed at once because the endpoint had its cap",
            ),
            datastore_connected: gauge(
                &r,
                "bgpd_datastore_connected",
                "1 while the cluster datastore answers",
            ),
            datastore_revision: gauge(
                &r,
                "bgpd_datastore_revision",
                "Datastore revision the running configuration reflects",
            ),
            datastore_problems: gauge(
                &r,
                "bgpd_datastore_problems",
                "Datastore resources (or fields) that could not be used",
            ),
            datastore_updates: counter(
                &r,
                "bgpd_datastore_updates_total",
                "Batches of datastore changes applied to the running configuration",
            ),
            datastore_errors: counter(
                &r,
                "bgpd_datastore_errors_total",
                "Datastore connection or watch failures",
            ),
            stale_route_purges: counter_vec(
                &r,
                "bgpd_stale_route_purges_total",
                "Graceful restart: a neighbour's stale routes removed without its End-of-RIB",
                &["neighbor", "reason"],
            ),
            task_panics: counter_vec(
                &r,
                "bgpd_task_panics_total",
                "Tasks ended by a panic (session: restarted; rib, route_sync: the daemon exits)",
                &["task"],
            ),
            runtime_tasks: gauge(&r, "bgpd_runtime_tasks", "Tasks alive in the daemon's runtime"),
            open_fds: gauge(&r, "bgpd_open_fds", "File descriptors the process holds"),
            registry: r,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Forget a removed neighbour's series.
    pub fn remove_neighbor(&self, neighbor: &str) {
        for g in [
            &self.neighbor_state,
            &self.neighbor_up,
            &self.neighbor_uptime_seconds,
            &self.prefixes_received,
            &self.prefixes_accepted,
            &self.prefixes_advertised,
        ] {
            let _ = g.remove_label_values(&[neighbor]);
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_registered_families() {
        let m = Metrics::new();
        m.neighbor_state.with_label_values(&["198.18.0.2"]).set(6);
        m.config_reloads.with_label_values(&["success"]).inc();
        let text = m.render();
        assert!(text.contains("bgpd_neighbor_state{neighbor=\"198.18.0.2\"} 6"));
        assert!(text.contains("bgpd_config_reloads_total{result=\"success\"} 1"));
        m.remove_neighbor("198.18.0.2");
        assert!(!m.render().contains("neighbor=\"198.18.0.2\""));
    }
}
