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
    pub connections_refused: IntCounter,
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
            connections_refused: counter(
                &r,
                "bgpd_connections_refused_total",
                "Incoming connections refused (unknown source, admin down, collision)",
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
