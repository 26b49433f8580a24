//! Loading, defaults, every validation error at its exact line, and reload diffs.
use super::*;
use bgp_core::wire::Family;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub(super) const MINIMAL: &str = "router_id: 198.18.0.1\nlocal_as: 64512\n";

pub(super) fn ok(text: &str) -> Config {
    match parse(text, "bgpd.yaml") {
        Ok(config) => config,
        Err(errors) => panic!("unexpected errors:\n{errors}"),
    }
}

fn errors(text: &str) -> Vec<String> {
    match parse(text, "bgpd.yaml") {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(errors) => errors.errors.iter().map(|e| e.to_string()).collect(),
    }
}

fn one_error(text: &str) -> String {
    let all = errors(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap_or_default()
}

pub(super) fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub(super) fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

pub(super) fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

/// MINIMAL plus one neighbour with the given extra lines (indented 4 spaces).
pub(super) fn with_neighbor(remote_as: u32, extra: &str) -> String {
    let mut text =
        format!("{MINIMAL}neighbors:\n  - address: 198.18.0.2\n    remote_as: {remote_as}\n");
    for line in extra.lines() {
        text.push_str("    ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[test]
fn minimal_config_gets_every_default() {
    let config = ok(MINIMAL);
    assert_eq!(config.router_id, Ipv4Addr::new(198, 18, 0, 1));
    assert_eq!(config.local_as, 64512);
    assert_eq!(config.listen, vec!["[::]:179".parse::<SocketAddr>().unwrap()]);
    assert_eq!(config.cluster_id, config.router_id);
    assert_eq!(config.max_paths, 1);
    assert!(config.originate.is_empty());
    assert_eq!(config.hostname, None);
    assert_eq!(
        config.kernel,
        KernelConfig {
            enabled: true,
            protocol: 179,
            table: 254,
            metric: 50,
            blackhole_originated: true,
            exclude: vec![],
        }
    );
    assert_eq!(
        config.graceful_restart,
        GracefulRestartConfig { enabled: true, restart_time: 120, max_restart_time: 120 }
    );
    assert_eq!(config.control_socket, PathBuf::from("/run/bgpd/bgpd.sock"));
    assert_eq!(config.http_listen, Some("127.0.0.1:9179".parse().unwrap()));
    assert_eq!(config.log, LogConfig { format: LogFormat::Text, level: "info".into() });
    assert!(!config.file_sets.log_level);
    assert!(config.neighbors.is_empty());
    assert!(config.warnings().is_empty());
}

#[test]
fn neighbor_defaults_for_ibgp() {
    let config = ok(&with_neighbor(64512, ""));
    let n = &config.neighbors[0];
    assert_eq!(n.address, ip("198.18.0.2"));
    assert!(n.ibgp && !n.is_ebgp());
    assert_eq!(n.description, None);
    assert_eq!(n.port, 179);
    assert!(!n.passive);
    assert_eq!(n.hold_time, 90);
    assert_eq!(n.connect_retry, 5);
    assert_eq!(n.local_address, None);
    assert_eq!(n.families, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    assert!(!n.route_reflector_client && !n.next_hop_self);
    assert_eq!((n.multihop, n.ttl, n.ttl_security), (None, 255, false));
    assert_eq!(n.gtsm_min_ttl(), None);
    assert!(n.graceful_restart);
    assert_eq!(n.password, None);
    assert_eq!(n.max_prefixes, None);
    assert_eq!(n.add_path, AddPathConfig { receive: false, send: false });
    assert!(!n.shutdown);
    assert_eq!(n.import, Policy::All);
    assert_eq!(n.export, Policy::All);
    assert_eq!(n.remote(), "198.18.0.2:179".parse().unwrap());
    assert!(config.warnings().is_empty());
}

#[test]
fn ebgp_defaults_follow_rfc_8212_and_warn() {
    let config = ok(&with_neighbor(64999, ""));
    let n = &config.neighbors[0];
    assert!(n.is_ebgp());
    assert_eq!(n.ttl, 1);
    assert_eq!(n.import, Policy::None);
    assert_eq!(n.export, Policy::None);
    let warnings: Vec<String> = config.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    // No import/export key: the neighbour's mapping (line 4, column 5) is pointed at.
    assert!(
        warnings[0].starts_with(
            "bgpd.yaml:4:5: warning: neighbors[0].import: eBGP neighbour without import policy"
        ),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("RFC 8212"));
    assert!(
        warnings[1].starts_with("bgpd.yaml:4:5: warning: neighbors[0].export:"),
        "{}",
        warnings[1]
    );
    // Explicit `none` is a deliberate choice: no warning.
    let config = ok(&with_neighbor(64999, "import: none\nexport: none"));
    assert!(config.warnings().is_empty());
}

#[test]
fn every_field_is_read() {
    let dir = std::env::temp_dir().join(format!("bgpd-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("peer.key"), "from-file\n").unwrap();
    set_mode(&dir.join("peer.key"), 0o600);
    let text = format!(
        "\
router_id: 198.18.0.1
local_as: 64512
listen: [\"198.18.0.1:179\", \"[2001:db8::1]:1179\"]
cluster_id: 198.18.0.100
max_paths: 4
originate: [10.244.1.0/24, \"2001:db8:1::/64\"]
hostname: node-1
kernel:
  enabled: false
  protocol: 200
  table: 100
  metric: 30
  blackhole_originated: false
graceful_restart:
  enabled: false
  restart_time: 300
  max_restart_time: 600
control_socket: /tmp/x.sock
http_listen: null
log:
  format: json
  level: bgpd=debug,info
neighbors:
  - address: 198.18.0.2
    remote_as: 64513
    description: tor-1
    port: 1179
    passive: true
    hold_time: 30
    connect_retry: 10
    local_address: 198.18.0.1
    families: [ipv6_unicast]
    next_hop_self: true
    next_hop_v6: \"2001:db8::1\"
    enforce_first_as: false
    multihop: 2
    ttl_security: true
    graceful_restart: true
    password: secret
    max_prefixes: {{limit: 1000, warning_percent: 80, restart_after: 60}}
    add_path: {{receive: true, send: true}}
    shutdown: true
    import: all
    export:
      - accept 10.244.0.0/16 le 26
      - reject 0.0.0.0/0
  - address: 2001:db8::2
    remote_as: 64512
    route_reflector_client: true
    next_hop_v4: 198.18.0.1
    password_file: {}
    import: [\"accept ::/0 ge 48 le 64\"]
    max_prefixes: {{limit: 5}}
",
        dir.join("peer.key").display()
    );
    let config = ok(&text);
    assert_eq!(config.listen.len(), 2);
    assert_eq!(config.cluster_id, Ipv4Addr::new(198, 18, 0, 100));
    assert_eq!(config.max_paths, 4);
    assert_eq!(config.originate, vec![net("10.244.1.0/24"), net("2001:db8:1::/64")]);
    assert_eq!(config.hostname.as_deref(), Some("node-1"));
    assert_eq!(
        config.kernel,
        KernelConfig {
            enabled: false,
            protocol: 200,
            table: 100,
            metric: 30,
            blackhole_originated: false,
            exclude: vec![],
        }
    );
    assert_eq!(
        config.graceful_restart,
        GracefulRestartConfig { enabled: false, restart_time: 300, max_restart_time: 600 }
    );
    assert_eq!(config.control_socket, PathBuf::from("/tmp/x.sock"));
    assert_eq!(config.http_listen, None);
    assert_eq!(config.log, LogConfig { format: LogFormat::Json, level: "bgpd=debug,info".into() });
    assert!(config.file_sets.log_level, "set in the file: the datastore does not replace it");

    let a = &config.neighbors[0];
    assert_eq!(a.description.as_deref(), Some("tor-1"));
    assert_eq!((a.port, a.passive, a.hold_time, a.connect_retry), (1179, true, 30, 10));
    assert_eq!(a.local_address, Some(ip("198.18.0.1")));
    assert_eq!(a.families, vec![Family::IPV6_UNICAST]);
    assert!(a.next_hop_self && !a.route_reflector_client);
    assert_eq!((a.multihop, a.ttl, a.ttl_security), (Some(2), 255, true));
    assert_eq!(a.gtsm_min_ttl(), Some(254));
    assert!(a.graceful_restart, "per-neighbour override wins over the global false");
    assert_eq!(a.password.as_ref().map(|p| p.expose()), Some("secret"));
    assert_eq!(
        a.max_prefixes,
        Some(MaxPrefixes { limit: 1000, warning_percent: 80, restart_after: Some(60) })
    );
    assert_eq!(a.add_path, AddPathConfig { receive: true, send: true });
    assert!(a.shutdown);
    assert_eq!(a.import, Policy::All);
    assert_eq!(
        a.export,
        Policy::Rules(vec![
            PolicyRule {
                action: PolicyAction::Accept,
                prefix: net("10.244.0.0/16"),
                ge: None,
                le: Some(26)
            },
            PolicyRule {
                action: PolicyAction::Reject,
                prefix: net("0.0.0.0/0"),
                ge: None,
                le: None
            },
        ])
    );

    let b = &config.neighbors[1];
    assert!(b.ibgp && b.route_reflector_client);
    assert!(!b.graceful_restart, "inherits the global false");
    assert_eq!(b.password.as_ref().map(|p| p.expose()), Some("from-file"));
    assert_eq!(b.export, Policy::All);
    assert_eq!(
        b.import,
        Policy::Rules(vec![PolicyRule {
            action: PolicyAction::Accept,
            prefix: net("::/0"),
            ge: Some(48),
            le: Some(64)
        }])
    );
    assert_eq!(
        b.max_prefixes,
        Some(MaxPrefixes { limit: 5, warning_percent: 75, restart_after: None })
    );
    assert_eq!(config.neighbor(ip("2001:db8::2")).map(|n| n.remote_as), Some(64512));
    let a = &config.neighbors[0];
    assert_eq!((a.next_hop_v4, a.next_hop_v6), (None, Some("2001:db8::1".parse().unwrap())));
    assert!(!a.enforce_first_as && b.enforce_first_as);
    assert_eq!(b.next_hop_v4, Some(Ipv4Addr::new(198, 18, 0, 1)));
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn relative_password_file_is_resolved_next_to_the_config_file() {
    let dir = std::env::temp_dir().join(format!("bgpd-config-rel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("k"), "abc\r\n").unwrap();
    set_mode(&dir.join("k"), 0o400);
    let path = dir.join("bgpd.yaml");
    std::fs::write(&path, with_neighbor(64512, "password_file: k")).unwrap();
    let config = load(&path).unwrap();
    assert_eq!(config.neighbors[0].password.as_ref().map(|p| p.expose()), Some("abc"));
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    // A key others can read still works, with a warning.
    set_mode(&dir.join("k"), 0o644);
    let config = load(&path).unwrap();
    assert_eq!(config.neighbors[0].password.as_ref().map(|p| p.expose()), Some("abc"));
    let warning = config.warnings()[0].to_string();
    assert!(
        warning
            .starts_with(&format!("{}:6:5: warning: neighbors[0].password_file: ", path.display())),
        "{warning}"
    );
    assert!(warning.ends_with("/k is readable by other users; chmod 600 it"), "{warning}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_names_a_missing_file() {
    let error = load(std::path::Path::new("/nonexistent/bgpd.yaml")).unwrap_err().to_string();
    assert!(error.starts_with("/nonexistent/bgpd.yaml: cannot read:"), "{error}");
}

#[test]
fn unquoted_ipv6_values_parse_where_the_docs_say_so() {
    let config = ok(&format!(
        "{MINIMAL}originate: [2001:db8:1::/64, 10.244.1.0/24]\nneighbors:\n  - address: 2001:db8::2\n    remote_as: 64512\n    import: [accept ::/0 le 64]\n    export:\n      - accept 2001:db8::/32 le 64\n"
    ));
    assert_eq!(config.originate, vec![net("2001:db8:1::/64"), net("10.244.1.0/24")]);
    assert_eq!(config.neighbors[0].address, ip("2001:db8::2"));
    // A flow-sequence entry starting with `::` is a YAML syntax error: quote it.
    let error = one_error(&format!("{MINIMAL}originate: [::/0]\n"));
    assert!(error.starts_with("bgpd.yaml:3:13: "), "{error}");
    let quoted = format!("{MINIMAL}allow_dangerous_originate: true\noriginate: [\"::/0\"]\n");
    assert_eq!(ok(&quoted).originate, vec![net("::/0")]);
}

#[test]
fn originating_what_would_cut_the_node_off_is_refused() {
    let cases = [
        ("[0.0.0.0/0]", "bgpd.yaml:3:13: originate[0]: 0.0.0.0/0 is a default route: "),
        ("[10.244.1.0/24, \"::/0\"]", "bgpd.yaml:3:28: originate[1]: ::/0 is a default route: "),
        (
            "[224.0.0.0/4]",
            "originate[0]: 224.0.0.0/4 overlaps the IPv4 multicast range 224.0.0.0/4",
        ),
        ("[0.0.0.0/1]", "originate[0]: 0.0.0.0/1 overlaps the IPv4 loopback range 127.0.0.0/8"),
        ("[127.0.0.0/8]", "originate[0]: 127.0.0.0/8 overlaps the IPv4 loopback range"),
        ("[169.254.0.0/16]", "originate[0]: 169.254.0.0/16 overlaps the IPv4 link-local range"),
        ("[\"ff00::/8\"]", "originate[0]: ff00::/8 overlaps the IPv6 multicast range"),
        ("[\"::1/128\"]", "originate[0]: ::1/128 overlaps the IPv6 loopback address"),
        ("[\"fe80::/10\"]", "originate[0]: fe80::/10 overlaps the IPv6 link-local range"),
    ];
    for (list, expected) in cases {
        let error = one_error(&format!("{MINIMAL}originate: {list}\n"));
        assert!(error.contains(expected), "{list}: {error}");
        assert!(error.contains("set allow_dangerous_originate: true"), "{error}");
    }
}

#[test]
fn originating_a_prefix_holding_a_session_address_is_a_warning() {
    let text = format!(
        "{MINIMAL}listen: [\"198.18.0.1:179\"]\noriginate: [198.18.0.0/16]\nneighbors:\n  \
         - address: 2001:db8::2\n    remote_as: 64512\n    local_address: 2001:db8::1\n"
    );
    let warnings =
        |text: &str| -> Vec<String> { ok(text).warnings().iter().map(|w| w.to_string()).collect() };
    let found = warnings(&text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "bgpd.yaml:4:13: warning: originate[0]: 198.18.0.0/16 holds 198.18.0.1, a listen address"
        ),
        "{found:?}"
    );
    assert!(found[0].contains("reached only through a route less specific"), "{found:?}");
    let text = text.replace("198.18.0.0/16", "\"2001:db8::/64\"");
    let found = warnings(&text);
    assert!(
        found[0].contains(
            "2001:db8::/64 holds 2001:db8::1, the local address of neighbour 2001:db8::2"
        ),
        "{found:?}"
    );
    let allowed = text.replace("originate:", "allow_dangerous_originate: true\noriginate:");
    assert_eq!(warnings(&allowed), Vec::<String>::new());
}

#[test]
fn dangerous_originate_is_accepted_when_allowed_or_without_blackholes() {
    let allowed =
        ok(&format!("{MINIMAL}allow_dangerous_originate: true\noriginate: [0.0.0.0/0]\n"));
    assert_eq!(allowed.originate, vec![net("0.0.0.0/0")]);
    assert!(allowed.allow_dangerous_originate);
    let no_blackhole =
        format!("{MINIMAL}kernel: {{blackhole_originated: false}}\noriginate: [0.0.0.0/0]\n");
    assert_eq!(ok(&no_blackhole).originate, vec![net("0.0.0.0/0")]);
    let no_kernel = format!("{MINIMAL}kernel: {{enabled: false}}\noriginate: [0.0.0.0/0]\n");
    assert_eq!(ok(&no_kernel).originate, vec![net("0.0.0.0/0")]);
}

// ---- YAML-level errors carry serde_yaml's position and path ----

#[test]
fn yaml_syntax_error_has_a_position() {
    // An unclosed flow sequence: reported where libyaml gave up, not as a type error.
    let error = one_error("router_id: 198.18.0.1\nlocal_as: [64512\n");
    assert!(error.starts_with("bgpd.yaml:3:1: did not find expected ',' or ']'"), "{error}");
    assert!(!error.contains("at line 3 column 1"), "position given once: {error}");
    let error = one_error("router_id: 198.18.0.1\n  local_as: 1\n");
    assert!(error.starts_with("bgpd.yaml:2:11: mapping values are not allowed"), "{error}");
}

#[test]
fn empty_file_is_reported() {
    let expected = "bgpd.yaml: the file is empty (at least router_id and local_as are needed)";
    assert_eq!(one_error(""), expected);
    assert_eq!(one_error("# only a comment\n\n"), expected);
}

#[test]
fn missing_required_field() {
    let error = one_error("router_id: 198.18.0.1\n");
    assert!(error.starts_with("bgpd.yaml:1:1: missing field `local_as`"), "{error}");
    let error = one_error(&format!("{MINIMAL}neighbors:\n  - address: 198.18.0.2\n"));
    assert!(error.starts_with("bgpd.yaml:4:5: neighbors[0]: missing field `remote_as`"), "{error}");
}

#[test]
fn unknown_field_is_rejected_with_its_path() {
    let error = one_error(&with_neighbor(64512, "hold_tme: 30"));
    assert!(error.starts_with("bgpd.yaml:6:5: neighbors[0]: unknown field `hold_tme`"), "{error}");
    let error = one_error(&format!("{MINIMAL}kernel:\n  tabel: 5\n"));
    assert!(error.starts_with("bgpd.yaml:4:3: kernel: unknown field `tabel`"), "{error}");
}

#[test]
fn wrong_types_are_rejected_with_their_path() {
    let error = one_error(&with_neighbor(64512, "hold_time: soon"));
    assert!(error.starts_with("bgpd.yaml:6:16: neighbors[0].hold_time: invalid type"), "{error}");
    let error = one_error("router_id: 2001:db8::1\nlocal_as: 1\n");
    assert!(error.starts_with("bgpd.yaml:1:12: router_id: "), "{error}");
    let error = one_error(&with_neighbor(64512, "families: [ipv4_multicast]"));
    assert!(
        error.contains("neighbors[0].families[0]: unknown variant `ipv4_multicast`"),
        "{error}"
    );
    let error = one_error(&format!("{MINIMAL}log:\n  format: xml\n"));
    assert!(error.starts_with("bgpd.yaml:4:11: log.format: unknown variant `xml`"), "{error}");
    let error = one_error(&with_neighbor(64512, "import: some"));
    assert!(error.contains("neighbors[0].import: invalid value"), "{error}");
}

// ---- semantic errors: each at its exact line ----

#[test]
fn hold_time_one_or_two_is_rejected() {
    let text = format!("{MINIMAL}neighbors:\n  - address: 198.18.0.2\n    remote_as: 64512\n  - address: 198.18.0.3\n    remote_as: 64512\n    hold_time: 2\n");
    assert_eq!(
        one_error(&text),
        "bgpd.yaml:8:5: neighbors[1].hold_time: must be 0 or at least 3 (got 2) (RFC 4271 §4.2)"
    );
    ok(&with_neighbor(64512, "hold_time: 0"));
    ok(&with_neighbor(64512, "hold_time: 3"));
}

#[test]
fn global_semantic_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "router_id: 0.0.0.0\nlocal_as: 1\n",
            "bgpd.yaml:1:1: router_id: must not be 0.0.0.0 (RFC 6286)",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 0\n",
            "bgpd.yaml:2:1: local_as: AS 0 is reserved (RFC 7607)",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 23456\n",
            "bgpd.yaml:2:1: local_as: AS 23456 is AS_TRANS, reserved (RFC 6793)",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 1\nlisten: [\"[::]:179\", \"[::]:179\"]\n",
            "bgpd.yaml:3:22: listen[1]: [::]:179 listed twice",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 1\ncluster_id: 0.0.0.0\n",
            "bgpd.yaml:3:1: cluster_id: must not be 0.0.0.0",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 1\nmax_paths: 0\n",
            "bgpd.yaml:3:1: max_paths: must be at least 1",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 1\nhostname: \"\"\n",
            "bgpd.yaml:3:1: hostname: must be 1 to 255 bytes long",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 1\nkernel:\n  protocol: 2\n",
            "bgpd.yaml:4:3: kernel.protocol: 2 is reserved by the kernel (0..=4); use e.g. 179",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 1\nkernel:\n  table: 255\n",
            "bgpd.yaml:4:3: kernel.table: 255 is not a usable table (0 = unspec, 255 = local)",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 1\ngraceful_restart:\n  restart_time: 4096\n",
            "bgpd.yaml:4:3: graceful_restart.restart_time: must be at most 4095 (got 4096)",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 1\ngraceful_restart:\n  max_restart_time: 5000\n",
            "bgpd.yaml:4:3: graceful_restart.max_restart_time: must be at most 4095, the largest Restart Time a peer can announce (got 5000)",
        ),
        (
            "router_id: 1.1.1.1\nlocal_as: 1\ncontrol_socket: \"\"\n",
            "bgpd.yaml:3:1: control_socket: must not be empty",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(one_error(text), *expected, "{text}");
    }
    let error = one_error("router_id: 1.1.1.1\nlocal_as: 1\nlog:\n  level: \"=bad=\"\n");
    assert!(error.starts_with("bgpd.yaml:4:3: log.level: `=bad=`"), "{error}");
}

#[test]
fn bad_originate_prefixes_are_all_reported() {
    let text = format!("{MINIMAL}originate:\n  - 10.244.1.0/24\n  - 10.244.2.1/24\n  - nonsense\n  - 10.244.1.0/24\n");
    let all = errors(&text);
    assert_eq!(
        all,
        vec![
            "bgpd.yaml:5:5: originate[1]: `10.244.2.1/24` has host bits set; did you mean 10.244.2.0/24?",
            "bgpd.yaml:6:5: originate[2]: `nonsense` is not a prefix (e.g. 10.244.0.0/16)",
        ]
    );
    let Err(errors) = parse(&text, "bgpd.yaml") else { panic!() };
    assert_eq!(errors.warnings.len(), 1);
    assert_eq!(
        errors.warnings[0].to_string(),
        "bgpd.yaml:7:5: warning: originate[3]: 10.244.1.0/24 listed twice"
    );
}

#[test]
fn neighbor_semantic_errors() {
    let cases: &[(u32, &str, &str)] = &[
        (64512, "port: 0", "bgpd.yaml:6:5: neighbors[0].port: must not be 0"),
        (0, "", "bgpd.yaml:5:5: neighbors[0].remote_as: AS 0 is reserved (RFC 7607)"),
        (64512, "connect_retry: 0", "bgpd.yaml:6:5: neighbors[0].connect_retry: must be at least 1 second"),
        (64512, "local_address: 2001:db8::1", "bgpd.yaml:6:5: neighbors[0].local_address: 2001:db8::1 is not of the same family as address 198.18.0.2"),
        (64512, "families: []", "bgpd.yaml:6:5: neighbors[0].families: at least one family is needed"),
        (64999, "route_reflector_client: true\nimport: all\nexport: all", "bgpd.yaml:6:5: neighbors[0].route_reflector_client: only iBGP neighbours (remote_as == local_as) can be route reflector clients"),
        (64512, "multihop: 0", "bgpd.yaml:6:5: neighbors[0].multihop: must be 1..=255"),
        (64512, "password: a\npassword_file: /x", "bgpd.yaml:7:5: neighbors[0].password_file: set either password or password_file, not both"),
        (64512, "password: \"\"", "bgpd.yaml:6:5: neighbors[0].password: the key is empty"),
        (64512, "max_prefixes:\n  limit: 0", "bgpd.yaml:7:7: neighbors[0].max_prefixes.limit: must be at least 1"),
        (64512, "max_prefixes: {limit: 9, warning_percent: 101}", "bgpd.yaml:6:30: neighbors[0].max_prefixes.warning_percent: must be 1..=100 (got 101)"),
    ];
    for (remote_as, extra, expected) in cases {
        let text = with_neighbor(*remote_as, extra);
        assert_eq!(one_error(&text), *expected, "{text}");
    }
    let long = "x".repeat(81);
    assert_eq!(
        one_error(&with_neighbor(64512, &format!("password: {long}"))),
        "bgpd.yaml:6:5: neighbors[0].password: the key is 81 bytes; at most 80 are allowed"
    );
    let error = one_error(&with_neighbor(64512, "password_file: /nonexistent/key"));
    assert!(
        error.starts_with(
            "bgpd.yaml:6:5: neighbors[0].password_file: cannot read /nonexistent/key:"
        ),
        "{error}"
    );
    let error = one_error(&format!("{MINIMAL}neighbors:\n  - address: 224.0.0.5\n    remote_as: 1\n    import: none\n    export: none\n"));
    assert_eq!(error, "bgpd.yaml:4:5: neighbors[0].address: 224.0.0.5 is not a unicast address");
}

#[test]
fn max_prefixes_flow_mapping_points_at_the_inner_key() {
    // Inside a flow mapping the key is found on the same line.
    let error = one_error(&with_neighbor(64512, "max_prefixes: {limit: 0}"));
    assert_eq!(error, "bgpd.yaml:6:20: neighbors[0].max_prefixes.limit: must be at least 1");
}

#[test]
fn duplicate_neighbor_address_names_the_first() {
    let text = format!("{MINIMAL}neighbors:\n  - address: 198.18.0.2\n    remote_as: 64512\n  - address: 198.18.0.2\n    remote_as: 64512\n");
    assert_eq!(
        one_error(&text),
        "bgpd.yaml:6:5: neighbors[1].address: 198.18.0.2 is already configured at neighbors[0]"
    );
}

#[test]
fn every_bad_rule_is_reported_at_its_line() {
    let text = with_neighbor(64512, "export:\n  - accept 10.244.0.0/16 le 26\n  - allow 10.0.0.0/8\n  - reject 10.0.0.0/8 le 4\nimport: [accept 1.0.0.0/8, reject]");
    assert_eq!(
        errors(&text),
        vec![
            "bgpd.yaml:8:9: neighbors[0].export[1]: `allow 10.0.0.0/8`: rule must start with `accept` or `reject`, not `allow`",
            "bgpd.yaml:9:9: neighbors[0].export[2]: `reject 10.0.0.0/8 le 4`: `le 4` is shorter than the prefix length /8",
            "bgpd.yaml:10:32: neighbors[0].import[1]: `reject`: rule needs a prefix, e.g. `accept 10.0.0.0/8`",
        ]
    );
}

#[test]
fn errors_and_warnings_are_collected_together() {
    let text = format!("{MINIMAL}max_paths: 0\nneighbors:\n  - address: 198.18.0.2\n    remote_as: 64999\n    hold_time: 1\n");
    let Err(errors) = parse(&text, "f.yaml") else { panic!("expected errors") };
    let lines: Vec<String> = errors.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        lines,
        vec![
            "f.yaml:3:1: max_paths: must be at least 1",
            "f.yaml:7:5: neighbors[0].hold_time: must be 0 or at least 3 (got 1) (RFC 4271 §4.2)",
        ]
    );
    assert_eq!(errors.warnings.len(), 2, "the RFC 8212 warnings are kept");
    assert_eq!(errors.to_string(), lines.join("\n"));
}

#[test]
fn duplicate_family_warns_and_is_removed() {
    let config = ok(&with_neighbor(64512, "families: [ipv4_unicast, ipv4_unicast]"));
    assert_eq!(config.neighbors[0].families, vec![Family::IPV4_UNICAST]);
    assert_eq!(
        config.warnings()[0].to_string(),
        "bgpd.yaml:6:30: warning: neighbors[0].families[1]: ipv4_unicast listed twice"
    );
}

#[test]
fn ttl_resolution() {
    let n = ok(&with_neighbor(64999, "multihop: 3\nimport: all\nexport: all")).neighbors[0].clone();
    assert_eq!((n.ttl, n.gtsm_min_ttl()), (3, None));
    let n = ok(&with_neighbor(64999, "ttl_security: true\nimport: all\nexport: all")).neighbors[0]
        .clone();
    assert_eq!((n.ttl, n.gtsm_min_ttl()), (255, Some(255)));
}

#[test]
fn diagnostics_come_in_file_order() {
    // Globals are checked before neighbours, but here the neighbours come first in the file.
    let text = "router_id: 198.18.0.1\nlocal_as: 64512\nneighbors:\n  - address: 198.18.0.2\n    remote_as: 64999\n    hold_time: 1\nmax_paths: 0\noriginate: [10.0.0.0/8, 10.0.0.0/8]\n";
    let Err(errors) = parse(text, "f.yaml") else { panic!("expected errors") };
    let lines: Vec<String> = errors.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        lines,
        vec![
            "f.yaml:6:5: neighbors[0].hold_time: must be 0 or at least 3 (got 1) (RFC 4271 §4.2)",
            "f.yaml:7:1: max_paths: must be at least 1",
        ]
    );
    let all: Vec<String> = errors.all_in_file_order().iter().map(|d| d.to_string()).collect();
    assert_eq!(all.len(), 5, "{all:#?}");
    assert!(all[0].starts_with("f.yaml:4:5: warning: neighbors[0].import:"), "{all:#?}");
    assert!(all[1].starts_with("f.yaml:4:5: warning: neighbors[0].export:"), "{all:#?}");
    assert_eq!(all[2], lines[0]);
    assert_eq!(all[3], lines[1]);
    assert_eq!(all[4], "f.yaml:8:25: warning: originate[1]: 10.0.0.0/8 listed twice");
}

#[test]
fn passive_neighbor_without_listen_warns() {
    let text = format!("listen: []\n{}", with_neighbor(64512, "passive: true"));
    let config = ok(&text);
    assert_eq!(config.listen, vec![]);
    let warnings: Vec<String> = config.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        vec!["bgpd.yaml:7:5: warning: neighbors[0].passive: passive, but `listen` is empty: this session can never come up"]
    );
}

#[test]
fn max_prefixes_restart_after_zero_is_rejected() {
    assert_eq!(
        one_error(&with_neighbor(64512, "max_prefixes:\n  limit: 10\n  restart_after: 0")),
        "bgpd.yaml:8:7: neighbors[0].max_prefixes.restart_after: must be at least 1 second (leave it out to stay down until reset)"
    );
}

// ---- check_command ----

#[test]
fn check_report_counts_errors_and_warnings() {
    let dir = std::env::temp_dir().join(format!("bgpd-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.yaml");
    std::fs::write(&good, with_neighbor(64999, "")).unwrap();
    let (report, passed) = check::check_report(&good);
    assert!(passed);
    assert_eq!(report.diagnostics.len(), 2);
    assert!(
        report.summary.ends_with("OK (1 neighbors, 0 originated prefixes, 2 warnings)"),
        "{}",
        report.summary
    );
    assert_eq!(check_command(&good), std::process::ExitCode::SUCCESS);

    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, with_neighbor(64512, "hold_time: 2")).unwrap();
    let (report, passed) = check::check_report(&bad);
    assert!(!passed);
    assert_eq!(
        report.diagnostics,
        vec![format!(
            "{}:6:5: neighbors[0].hold_time: must be 0 or at least 3 (got 2) (RFC 4271 §4.2)",
            bad.display()
        )]
    );
    assert_eq!(check_command(&bad), std::process::ExitCode::FAILURE);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- examples/*.yaml must stay valid ----

#[test]
fn every_example_config_loads_without_errors_or_warnings() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 4, "expected the example configs in {}: {paths:?}", dir.display());
    for path in &paths {
        match load(path) {
            Ok(config) => {
                let warnings: Vec<String> =
                    config.warnings().iter().map(|w| w.to_string()).collect();
                assert!(warnings.is_empty(), "{}:\n{}", path.display(), warnings.join("\n"));
            }
            Err(errors) => panic!("{}:\n{errors}", path.display()),
        }
    }
}

const DATASTORE: &str = "datastore:\n  etcd:\n    endpoints: [\"http://198.18.0.250:2379\"]\n";

#[test]
fn a_datastore_makes_router_id_and_local_as_optional() {
    let config = ok(&format!("node_name: node-1\n{DATASTORE}"));
    assert_eq!(config.node_name, "node-1");
    let datastore = config.datastore.as_ref().unwrap();
    let DatastoreBackend::Etcd(etcd) = &datastore.backend else { panic!("{datastore:?}") };
    assert_eq!(etcd.endpoints, ["http://198.18.0.250:2379"]);
    assert_eq!(etcd.prefix, "/calico");
    assert_eq!(datastore.state_dir, PathBuf::from("/var/lib/bgpd"));
    assert_eq!(datastore.secrets_dir, PathBuf::from("/etc/bgpd/secrets"));
    assert!(config.router_id.is_unspecified(), "filled in by the datastore");
    assert_eq!(config.file_sets, FileSets::default());
    // Set in the file: kept, and marked so that the datastore does not replace them.
    let config = ok(&format!("node_name: node-1\n{MINIMAL}listen: []\n{DATASTORE}"));
    assert_eq!(config.local_as, 64512);
    let sets = config.file_sets;
    assert!(sets.router_id && sets.local_as && sets.listen && !sets.cluster_id);
    // Without a datastore they are required, named at the top of the file.
    let error = one_error("node_name: node-1\nlocal_as: 64512\n");
    assert!(error.starts_with("bgpd.yaml:1:1: missing field `router_id`"), "{error}");
    assert!(error.contains("datastore"), "{error}");
}

#[test]
fn datastore_mistakes_name_their_field() {
    let check = |yaml: &str, expected: &str| {
        let all = errors(&format!("node_name: node-1\n{yaml}"));
        assert!(all.iter().any(|e| e.contains(expected)), "{expected:?} not in {all:#?}");
    };
    check("datastore:\n  etcd:\n    endpoints: []\n", "datastore.etcd.endpoints: at least one");
    check(
        "datastore:\n  etcd:\n    endpoints: [\"198.18.0.250:2379\"]\n",
        "bgpd.yaml:4:17: datastore.etcd.endpoints[0]: `198.18.0.250:2379` is not an endpoint",
    );
    check("datastore:\n  etcd:\n    endpoints: [\"https://e:2379\"]\n", "set ca_file");
    check(
        "datastore:\n  etcd:\n    endpoints: [\"http://e:2379\"]\n    cert_file: /x\n",
        "set cert_file and key_file together",
    );
    check(
        "datastore:\n  etcd:\n    endpoints: [\"http://e:2379\"]\n    ca_file: /nonexistent/ca.pem\n",
        "datastore.etcd.ca_file: cannot read /nonexistent/ca.pem",
    );
    check(
        "datastore:\n  etcd:\n    endpoints: [\"http://e:2379\"]\n    prefix: calico\n",
        "must start with `/`",
    );
    check("datastore: {}\n", "datastore: name a datastore");
    check("datastore:\n  consul: {}\n", "unknown field `consul`, expected one of `etcd`");
    let all = errors(&format!("node_name: Node_1\n{DATASTORE}"));
    assert!(all.iter().any(|e| e.contains("node_name: `Node_1` is not a node name")), "{all:#?}");
}

fn kubernetes(config: &Config) -> KubernetesConfig {
    match config.datastore.as_ref().map(|d| &d.backend) {
        Some(DatastoreBackend::Kubernetes(kubernetes)) => kubernetes.clone(),
        other => panic!("not a kubernetes datastore: {other:?}"),
    }
}

#[test]
fn an_empty_kubernetes_datastore_means_in_cluster_with_defaults() {
    let config = ok("node_name: node-1\ndatastore:\n  kubernetes: {}\n");
    let expected_namespace = std::env::var("POD_NAMESPACE")
        .ok()
        .filter(|namespace| !namespace.is_empty())
        .unwrap_or_else(|| "kube-system".to_string());
    let kubernetes = kubernetes(&config);
    assert_eq!(
        kubernetes,
        KubernetesConfig { secrets_namespace: expected_namespace, ..KubernetesConfig::default() }
    );
    assert!(config.router_id.is_unspecified(), "filled in by the datastore");
    assert_eq!(config.datastore.as_ref().unwrap().state_dir, PathBuf::from("/var/lib/bgpd"));
}

#[test]
fn every_kubernetes_datastore_field_is_read() {
    let dir = std::env::temp_dir().join(format!("bgpd-kubeconfig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kubeconfig"), "apiVersion: v1\n").unwrap();
    let text = "node_name: node-1\ndatastore:\n  kubernetes:\n    kubeconfig: kubeconfig\n    \
                secrets_namespace: calico-system\n    \
                route_reflector_label: bgpd.io/route-reflector\n    \
                service_cluster_ips: [198.19.0.0/16, \"2001:db8:5::/112\"]\n    \
                service_external_ips: [198.18.100.0/24]\n    \
                service_load_balancer_ips: [198.18.200.0/24, 198.18.200.0/24]\n";
    let path = dir.join("bgpd.yaml");
    std::fs::write(&path, text).unwrap();
    let config = load(&path).unwrap_or_else(|errors| panic!("{errors}"));
    let kubernetes = kubernetes(&config);
    assert_eq!(kubernetes.kubeconfig, Some(dir.join("kubeconfig")), "relative to the file");
    assert_eq!(kubernetes.secrets_namespace, "calico-system");
    assert_eq!(kubernetes.route_reflector_label.as_deref(), Some("bgpd.io/route-reflector"));
    assert_eq!(kubernetes.service_cluster_ips, [net("198.19.0.0/16"), net("2001:db8:5::/112")]);
    assert_eq!(kubernetes.service_external_ips, [net("198.18.100.0/24")]);
    assert_eq!(kubernetes.service_load_balancer_ips, [net("198.18.200.0/24")], "deduplicated");
    let (report, passed) = check::check_report(&path);
    assert!(passed, "{:?}", report.diagnostics);
    assert!(
        report.summary.ends_with(&format!(
            "; node node-1 takes the rest from the Kubernetes API (kubeconfig {}; Secrets from \
             calico-system; route reflectors labelled bgpd.io/route-reflector; 4 Service ranges)",
            dir.join("kubeconfig").display()
        )),
        "{}",
        report.summary
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kubernetes_datastore_mistakes_name_their_line_and_field() {
    let both = "node_name: node-1\ndatastore:\n  etcd:\n    endpoints: [\"http://e:2379\"]\n  \
                kubernetes: {}\n";
    assert_eq!(
        one_error(both),
        "bgpd.yaml:5:3: datastore.kubernetes: set either `etcd` or `kubernetes`, not both"
    );
    let unknown = one_error("node_name: node-1\ndatastore:\n  kubernetes:\n    server: x\n");
    assert!(
        unknown.starts_with("bgpd.yaml:4:5: datastore.kubernetes: unknown field `server`"),
        "{unknown}"
    );
    let host_bits = "node_name: node-1\ndatastore:\n  kubernetes:\n    \
                     service_cluster_ips: [198.19.0.0/16, 198.19.0.1/16]\n";
    assert_eq!(
        one_error(host_bits),
        "bgpd.yaml:4:42: datastore.kubernetes.service_cluster_ips[1]: `198.19.0.1/16` has host \
         bits set; did you mean 198.19.0.0/16?"
    );
    let not_a_prefix = "node_name: node-1\ndatastore:\n  kubernetes:\n    \
                        service_external_ips: [nope]\n";
    let error = one_error(not_a_prefix);
    assert!(error.contains("service_external_ips[0]: `nope` is not a prefix"), "{error}");
    let namespace =
        "node_name: node-1\ndatastore:\n  kubernetes:\n    secrets_namespace: Kube_System\n";
    let error = one_error(namespace);
    assert!(
        error.starts_with("bgpd.yaml:4:5: datastore.kubernetes.secrets_namespace: `Kube_System`"),
        "{error}"
    );
    let label =
        "node_name: node-1\ndatastore:\n  kubernetes:\n    route_reflector_label: \"-rr\"\n";
    assert!(one_error(label).contains("route_reflector_label: `-rr` is not a label key"));
    let missing =
        "node_name: node-1\ndatastore:\n  kubernetes:\n    kubeconfig: /nonexistent/kubeconfig\n";
    assert!(one_error(missing)
        .contains("datastore.kubernetes.kubeconfig: cannot read /nonexistent/kubeconfig"));
}

#[test]
fn next_hops_and_enforce_first_as_are_read_and_checked() {
    let n = ok(&with_neighbor(64513, "export: all\nimport: all")).neighbors[0].clone();
    assert_eq!((n.next_hop_v4, n.next_hop_v6, n.enforce_first_as), (None, None, true));
    let text = with_neighbor(
        64513,
        "export: all\nimport: all\nnext_hop_v4: 198.18.5.5\nnext_hop_v6: \"2001:db8:5::5\"\n\
         enforce_first_as: false",
    );
    let n = ok(&text).neighbors[0].clone();
    assert_eq!(n.next_hop_v4, Some("198.18.5.5".parse().unwrap()));
    assert_eq!(n.next_hop_v6, Some("2001:db8:5::5".parse().unwrap()));
    assert!(!n.enforce_first_as);
    let e = one_error(&with_neighbor(64512, "next_hop_v6: \"fe80::1\""));
    assert!(e.starts_with("bgpd.yaml:6:5: neighbors[0].next_hop_v6: fe80::1"), "{e}");
    assert!(e.contains("global IPv6 address"), "{e}");
    let e = one_error(&with_neighbor(64512, "next_hop_v4: 127.0.0.1"));
    assert!(e.contains("neighbors[0].next_hop_v4: 127.0.0.1 is not a usable next hop"), "{e}");
    // Unused or without effect: warnings.
    let c = ok(&with_neighbor(64512, "families: [ipv4_unicast]\nnext_hop_v6: \"2001:db8::5\""));
    let warnings: Vec<String> = c.warnings().iter().map(|w| w.to_string()).collect();
    assert!(warnings[0].contains("next_hop_v6: ipv6_unicast is not in `families`"), "{warnings:?}");
    let c = ok(&with_neighbor(64512, "enforce_first_as: false"));
    let warnings: Vec<String> = c.warnings().iter().map(|w| w.to_string()).collect();
    assert!(warnings[0].contains("enforce_first_as: has no effect toward iBGP"), "{warnings:?}");
}

#[test]
fn next_hop_and_enforce_first_as_changes_reset_the_session() {
    let old = ok(&with_neighbor(64513, "export: all\nimport: all"));
    let new = ok(&with_neighbor(
        64513,
        "export: all\nimport: all\nnext_hop_v6: \"2001:db8::5\"\nenforce_first_as: false",
    ));
    let diff = ConfigDiff::between(&old, &new);
    assert_eq!(diff.neighbors_reset.len(), 1, "{diff:?}");
    assert_eq!(diff.neighbors_reset[0].fields, vec!["enforce_first_as", "next_hop_v6"]);
}

#[test]
fn kernel_defaults_are_no_routing_daemons_and_taking_frrs_number_is_warned() {
    let config = ok(MINIMAL);
    assert_eq!((config.kernel.protocol, config.kernel.metric), (179, 50));
    assert_eq!(route_sync::config::protocol_owner(179), None);
    let config = ok(&format!("{MINIMAL}kernel:\n  protocol: 186\n  metric: 20\n"));
    let warnings: Vec<String> = config.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        ["bgpd.yaml:4:3: warning: kernel.protocol: 186 is the protocol number of FRR's bgpd (`proto bgp`): on a host that also runs it, bgpd takes its routes (in this table, with this metric) for its own and replaces or removes them"]
    );
}

#[test]
fn other_family_pod_cidr_without_a_way_to_name_its_next_hop_is_warned_about() {
    let base = "router_id: 198.18.0.1\nlocal_as: 64512\nkernel: {enabled: false}\n\
                originate: [\"2001:db8:244:1::/64\"]\nneighbors:\n  - address: 198.18.0.2\n    \
                remote_as: 64512\n";
    let warnings: Vec<String> = ok(base).warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].contains("neighbors[0].families: with kernel sync off"), "{warnings:?}");
    assert!(warnings[0].contains("set next_hop_v6"), "{warnings:?}");
    let fixed = format!("{base}    next_hop_v6: \"2001:db8::1\"\n");
    assert!(ok(&fixed).warnings().is_empty());
    let kernel_on = base.replace("kernel: {enabled: false}\n", "");
    assert!(ok(&kernel_on).warnings().is_empty(), "the interface view finds one");
}
