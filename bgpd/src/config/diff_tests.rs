//! Reload diffs: which changes reset which sessions, and which reset none.
use super::tests::{ip, net, ok, set_mode, with_neighbor, MINIMAL};
use super::*;

fn diff(old: &str, new: &str) -> ConfigDiff {
    ConfigDiff::between(&ok(old), &ok(new))
}

fn change(address: &str, fields: &[&'static str]) -> NeighborChange {
    NeighborChange { address: ip(address), fields: fields.to_vec() }
}

/// MINIMAL plus iBGP neighbours .2 and .3; `extra` goes under .3 only.
fn two_neighbors(extra: &str) -> String {
    two_neighbors_as(64512, extra)
}

/// Like [`two_neighbors`] with .3 in `remote_as`.
fn two_neighbors_as(remote_as: u32, extra: &str) -> String {
    let mut text = format!(
        "{MINIMAL}neighbors:\n  - address: 198.18.0.2\n    remote_as: 64512\n  - address: 198.18.0.3\n    remote_as: {remote_as}\n"
    );
    for line in extra.lines() {
        text.push_str(&format!("    {line}\n"));
    }
    text
}

#[test]
fn identical_configs_have_an_empty_diff() {
    let text = with_neighbor(64512, "");
    let d = diff(&text, &text);
    assert!(d.is_empty());
    assert!(!d.resets_sessions());
    assert_eq!(d.to_string(), "no changes");
}

#[test]
fn config_diff_is_the_same_as_between() {
    let (old, new) = (ok(&with_neighbor(64512, "")), ok(&with_neighbor(64512, "hold_time: 9")));
    assert_eq!(old.diff(&new), ConfigDiff::between(&old, &new));
}

#[test]
fn neighbors_added_and_removed() {
    let old = with_neighbor(64512, "");
    let new = format!("{MINIMAL}neighbors:\n  - address: 198.18.0.3\n    remote_as: 64512\n");
    let d = diff(&old, &new);
    assert_eq!(d.neighbors_added, vec![ip("198.18.0.3")]);
    assert_eq!(d.neighbors_removed, vec![ip("198.18.0.2")]);
    assert!(d.neighbors_reset.is_empty());
    assert_eq!(d.to_string(), "neighbors added: 198.18.0.3\nneighbors removed: 198.18.0.2");
}

#[test]
fn adding_a_neighbor_touches_no_other_session() {
    let old = with_neighbor(64512, "");
    let d = diff(&old, &two_neighbors(""));
    assert_eq!(d.neighbors_added, vec![ip("198.18.0.3")]);
    assert_eq!(ConfigDiff { neighbors_added: vec![ip("198.18.0.3")], ..ConfigDiff::default() }, d);
}

#[test]
fn session_fields_need_a_reset() {
    let base = two_neighbors("");
    let cases: &[(&str, &str)] = &[
        ("port: 1179", "port"),
        ("local_address: 198.18.0.1", "local_address"),
        ("hold_time: 30", "hold_time"),
        ("families: [ipv4_unicast]", "families"),
        ("passive: true", "passive"),
        ("password: x", "password"),
        ("add_path: {send: true}", "add_path"),
        ("multihop: 2", "multihop"),
        ("ttl_security: true", "ttl_security"),
        ("graceful_restart: false", "graceful_restart"),
    ];
    for (extra, field) in cases {
        let d = diff(&base, &two_neighbors(extra));
        // Only the changed neighbour (.3) is reset; .2 is untouched.
        assert_eq!(d.neighbors_reset, vec![change("198.18.0.3", &[field])], "{extra}");
        assert!(d.neighbors_policy.is_empty() && d.neighbors_updated.is_empty(), "{extra}");
        assert!(d.reset_all.is_empty() && d.resets_sessions(), "{extra}");
    }
    // remote_as turns iBGP into eBGP: the TTL (255 -> 1) follows from it and is not listed
    // as a separate change; the resolved policies changed too (RFC 8212 default: none).
    let d = diff(&base, &two_neighbors_as(64999, "import: all\nexport: all"));
    assert_eq!(d.neighbors_reset, vec![change("198.18.0.3", &["remote_as"])]);
    let d = diff(&base, &two_neighbors_as(64999, ""));
    assert_eq!(d.neighbors_reset[0].fields, vec!["remote_as", "import", "export"]);
}

#[test]
fn password_file_content_change_resets() {
    let dir = std::env::temp_dir().join(format!("bgpd-diff-pw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bgpd.yaml");
    std::fs::write(&path, with_neighbor(64512, "password_file: key")).unwrap();
    std::fs::write(dir.join("key"), "one\n").unwrap();
    set_mode(&dir.join("key"), 0o600);
    let old = load(&path).unwrap();
    std::fs::write(dir.join("key"), "two\n").unwrap();
    let new = load(&path).unwrap();
    assert_eq!(
        ConfigDiff::between(&old, &new).neighbors_reset,
        vec![change("198.18.0.2", &["password"])]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn global_graceful_restart_toggle_resets_neighbors_that_inherit_it() {
    let old = with_neighbor(64512, "");
    let new = format!("graceful_restart:\n  enabled: false\n{old}");
    let d = diff(&old, &new);
    assert_eq!(d.neighbors_reset[0].fields, vec!["graceful_restart"]);
    let pinned = with_neighbor(64512, "graceful_restart: true");
    let d = diff(&pinned, &format!("graceful_restart:\n  enabled: false\n{pinned}"));
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn policy_fields_apply_without_reset() {
    let base = with_neighbor(64512, "");
    let cases: &[(&str, &str, bool, bool, bool)] = &[
        // (change, field, import_changed, export_changed, reflection_changed)
        ("import: none", "import", true, false, false),
        ("export: [accept 10.0.0.0/8]", "export", false, true, false),
        ("route_reflector_client: true", "route_reflector_client", false, true, true),
        ("next_hop_self: true", "next_hop_self", false, true, false),
    ];
    for (extra, field, import, export, reflection) in cases {
        let d = diff(&base, &with_neighbor(64512, extra));
        assert_eq!(d.neighbors_policy, vec![change("198.18.0.2", &[field])], "{extra}");
        assert!(d.neighbors_reset.is_empty() && !d.resets_sessions());
        let c = &d.neighbors_policy[0];
        assert_eq!(
            (c.import_changed(), c.export_changed(), c.reflection_changed()),
            (*import, *export, *reflection),
            "{extra}"
        );
    }
    // A reset field and a policy field together: one reset listing both.
    let d = diff(&base, &with_neighbor(64512, "hold_time: 30\nimport: none"));
    assert_eq!(d.neighbors_reset[0].fields, vec!["hold_time", "import"]);
    assert!(d.neighbors_policy.is_empty());
    // A policy field and an update field: policy, listing both.
    let d = diff(&base, &with_neighbor(64512, "description: x\nnext_hop_self: true"));
    assert_eq!(d.neighbors_policy, vec![change("198.18.0.2", &["next_hop_self", "description"])]);
}

#[test]
fn description_connect_retry_and_max_prefixes_need_no_reset() {
    let d = diff(
        &with_neighbor(64512, ""),
        &with_neighbor(64512, "description: x\nconnect_retry: 9\nmax_prefixes: {limit: 10}"),
    );
    assert_eq!(
        d.neighbors_updated,
        vec![change("198.18.0.2", &["description", "connect_retry", "max_prefixes"])]
    );
    assert!(d.neighbors_reset.is_empty() && d.neighbors_policy.is_empty());
    assert_eq!(
        d.to_string(),
        "neighbors updated: 198.18.0.2 (description, connect_retry, max_prefixes)"
    );
}

#[test]
fn shutdown_toggles() {
    let up = with_neighbor(64512, "");
    let down = with_neighbor(64512, "shutdown: true\nhold_time: 30");
    let d = diff(&up, &down);
    assert_eq!(d.neighbors_shutdown, vec![ip("198.18.0.2")]);
    assert!(d.neighbors_reset.is_empty(), "shutdown dominates other changes");
    let d = diff(&down, &up);
    assert_eq!(d.neighbors_enabled, vec![ip("198.18.0.2")]);
    assert!(d.neighbors_reset.is_empty());
    // Down before and after: nothing to do, whatever else changed.
    let d = diff(&down, &with_neighbor(64512, "shutdown: true\nhold_time: 60"));
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn originate_changes_reset_nothing() {
    let d = diff(
        &format!("{MINIMAL}originate: [10.244.1.0/24, 10.244.2.0/24]\n"),
        &format!("{MINIMAL}originate: [10.244.2.0/24, \"2001:db8::/64\"]\n"),
    );
    assert_eq!(d.originate_added, vec![net("2001:db8::/64")]);
    assert_eq!(d.originate_removed, vec![net("10.244.1.0/24")]);
    assert!(!d.resets_sessions());
    assert_eq!(d.to_string(), "originate added: 2001:db8::/64\noriginate removed: 10.244.1.0/24");
}

#[test]
fn router_id_or_local_as_resets_every_enabled_session() {
    let old = format!(
        "{}  - address: 198.18.0.4\n    remote_as: 64512\n    shutdown: true\n",
        two_neighbors("")
    );
    let new = old.replace("router_id: 198.18.0.1", "router_id: 198.18.0.9");
    let d = diff(&old, &new);
    assert_eq!(d.reset_all, vec!["router_id"]);
    assert_eq!(
        d.neighbors_reset,
        vec![change("198.18.0.2", &["router_id"]), change("198.18.0.3", &["router_id"])],
        "the shut-down neighbour stays down"
    );
    // local_as: every session flips iBGP -> eBGP; TTL and default policies follow.
    let new = old.replace("local_as: 64512", "local_as: 64513");
    let d = diff(&old, &new);
    assert_eq!(d.reset_all, vec!["local_as"]);
    assert_eq!(
        d.neighbors_reset[0],
        change("198.18.0.2", &["local_as", "ttl", "import", "export"])
    );
    assert!(d.to_string().starts_with("all sessions reset: local_as\nsessions reset: 198.18.0.2"));
}

#[test]
fn global_changes_are_classified() {
    let old = "router_id: 198.18.0.1\nlocal_as: 64512\n";
    let new = "router_id: 198.18.0.1\nlocal_as: 64512\nlisten: []\ncluster_id: 1.2.3.4\ncontrol_socket: /x\nhttp_listen: null\nlog: {format: json, level: debug}\nmax_paths: 2\nhostname: h\ngraceful_restart: {restart_time: 60}\nkernel: {enabled: false, protocol: 100, table: 10, metric: 1, blackhole_originated: false}\n";
    let d = diff(old, new);
    assert!(d.reset_all.is_empty());
    assert!(d.listen_changed && d.http_listen_changed && d.control_socket_changed);
    assert_eq!(d.restart_required, vec!["log.format"]);
    assert_eq!(d.rib_changed, vec!["max_paths"]);
    assert_eq!(
        d.kernel_changed,
        vec![
            "kernel.enabled",
            "kernel.protocol",
            "kernel.table",
            "kernel.metric",
            "kernel.blackhole_originated"
        ]
    );
    assert!(d.log_level_changed);
    assert_eq!(d.deferred, vec!["hostname", "graceful_restart.restart_time"]);
    assert_eq!(
        d.to_string(),
        "routes re-evaluated: max_paths\n\
         kernel re-synced: kernel.enabled, kernel.protocol, kernel.table, kernel.metric, kernel.blackhole_originated\n\
         listen addresses changed\nhttp_listen changed\ncontrol_socket changed\nlog level changed\n\
         needs a restart to apply: log.format\n\
         applied at next session start: hostname, graceful_restart.restart_time"
    );
}

#[test]
fn a_new_cluster_id_resets_the_ibgp_sessions_only() {
    let ibgp = "- {address: 198.18.0.2, remote_as: 64512}";
    let ebgp = "- {address: 198.18.0.3, remote_as: 65001, import: all, export: all}";
    let old = format!("router_id: 198.18.0.1\nlocal_as: 64512\nneighbors:\n  {ibgp}\n  {ebgp}\n");
    let new = old.replace("local_as: 64512\n", "local_as: 64512\ncluster_id: 1.2.3.4\n");
    let d = diff(&old, &new);
    assert!(d.rib_changed.is_empty() && d.reset_all.is_empty());
    assert_eq!(d.neighbors_reset, vec![change("198.18.0.2", &["cluster_id"])]);
}
