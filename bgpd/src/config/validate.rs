//! Semantic validation: raw YAML structs -> [`Config`], collecting every error and warning
//! with the line it is on.
use super::diagnostic::{path_string, sort_by_position, ConfigErrors, Diagnostic, Seg, Severity};
use super::locate::locate;
use super::model::{
    AddPathConfig, Config, FileSets, GracefulRestartConfig, KernelConfig, LogConfig, MaxPrefixes,
    NeighborConfig, NeighborSource, Password, DEFAULT_LOG_LEVEL,
};
use super::originate_guard;
use super::policy::{parse_prefix, Policy, PolicyRule};
use super::raw::{default_listen, FamilyName, RawConfig, RawNeighbor, RawPolicy};
use bgp_core::wire::Family;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

/// RFC 6793 §9: AS_TRANS, "reserved" as a placeholder for 4-octet AS numbers.
const AS_TRANS: u32 = 23456;
/// Linux `TCP_MD5SIG_MAXKEYLEN`.
const MD5_MAX_KEY_LEN: usize = 80;

/// Collects diagnostics, each located in the source text.
pub struct Checker<'a> {
    text: &'a str,
    origin: &'a str,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub fn new(text: &'a str, origin: &'a str) -> Self {
        Checker { text, origin, errors: Vec::new(), warnings: Vec::new() }
    }

    fn diagnostic(&self, severity: Severity, path: &[Seg], message: String) -> Diagnostic {
        let position = locate(self.text, path);
        Diagnostic {
            severity,
            origin: self.origin.to_string(),
            line: position.map(|(line, _)| line),
            column: position.map(|(_, column)| column),
            field: path_string(path),
            message,
        }
    }

    pub(super) fn error(&mut self, path: &[Seg], message: String) {
        let diagnostic = self.diagnostic(Severity::Error, path, message);
        self.errors.push(diagnostic);
    }

    fn warn(&mut self, path: &[Seg], message: String) {
        let diagnostic = self.diagnostic(Severity::Warning, path, message);
        self.warnings.push(diagnostic);
    }

    /// Validates `raw`; `base_dir` resolves relative `password_file` paths.
    pub fn finish(
        mut self,
        raw: RawConfig,
        base_dir: Option<&Path>,
    ) -> Result<Config, ConfigErrors> {
        let config = self.check(raw, base_dir);
        // Checks run field by field, not in file order: report in file order.
        sort_by_position(&mut self.errors);
        sort_by_position(&mut self.warnings);
        if self.errors.is_empty() {
            Ok(Config { warnings: self.warnings, ..config })
        } else {
            Err(ConfigErrors { errors: self.errors, warnings: self.warnings })
        }
    }

    /// A field the file must set when no datastore supplies it: reported at the top of the
    /// file, as serde reports a missing field.
    fn missing(&mut self, field: &str) {
        self.errors.push(Diagnostic {
            severity: Severity::Error,
            origin: self.origin.to_string(),
            line: Some(1),
            column: Some(1),
            field: String::new(),
            message: format!(
                "missing field `{field}` (set it, or set `datastore` to take it from the cluster)"
            ),
        });
    }

    fn check(&mut self, raw: RawConfig, base_dir: Option<&Path>) -> Config {
        use Seg::Key;
        let datastore = raw.datastore.as_ref().and_then(|d| self.datastore(d, base_dir));
        if raw.datastore.is_none() {
            if raw.router_id.is_none() {
                self.missing("router_id");
            }
            if raw.local_as.is_none() {
                self.missing("local_as");
            }
        }
        let file_sets = FileSets {
            router_id: raw.router_id.is_some(),
            local_as: raw.local_as.is_some(),
            listen: raw.listen.is_some(),
            cluster_id: raw.cluster_id.is_some(),
            log_level: raw.log.level.is_some(),
        };
        // With a datastore, unset identity fields are placeholders until the cluster's
        // view fills them (`datastore::mapping`).
        let router_id = raw.router_id.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let local_as = raw.local_as.unwrap_or(0);
        let listen = raw.listen.clone().unwrap_or_else(|| default_listen(179));
        // RFC 6286 §2.1: "the BGP Identifier ... a 4-octet, unsigned, non-zero integer".
        if raw.router_id.is_some_and(|id| id.is_unspecified()) {
            self.error(&[Key("router_id")], "must not be 0.0.0.0 (RFC 6286)".into());
        }
        if let Some(local_as) = raw.local_as {
            self.check_as(&[Key("local_as")], local_as);
        }
        let node_name = match &raw.node_name {
            Some(name) => {
                if !valid_node_name(name) {
                    self.error(
                        &[Key("node_name")],
                        format!(
                            "`{name}` is not a node name (1-253 characters: a-z, 0-9, `-`, `.`)"
                        ),
                    );
                }
                name.clone()
            }
            // Calico's NODENAME (a DaemonSet sets it from spec.nodeName), else the host name.
            None => match std::env::var("NODENAME") {
                Ok(name) if !name.trim().is_empty() => {
                    let name = name.trim().to_string();
                    if !valid_node_name(&name) {
                        self.error(
                            &[Key("node_name")],
                            format!(
                                "$NODENAME `{name}` is not a node name (1-253 characters: \
                                 a-z, 0-9, `-`, `.`)"
                            ),
                        );
                    }
                    name
                }
                _ => host_name(),
            },
        };
        if datastore.is_some() && raw.node_name.is_none() && node_name.is_empty() {
            self.error(
                &[Key("node_name")],
                "the host name is unknown: set node_name to this node's name in the cluster".into(),
            );
        }
        for (index, addr) in listen.iter().enumerate() {
            if listen[..index].contains(addr) {
                self.error(&[Key("listen"), Seg::Index(index)], format!("{addr} listed twice"));
            }
        }
        if raw.cluster_id.is_some_and(|id| id.is_unspecified()) {
            self.error(&[Key("cluster_id")], "must not be 0.0.0.0".into());
        }
        if raw.max_paths == 0 {
            self.error(&[Key("max_paths")], "must be at least 1".into());
        }
        let mut originate = Vec::new();
        for (index, text) in raw.originate.iter().enumerate() {
            let path = [Key("originate"), Seg::Index(index)];
            match parse_prefix(text) {
                Ok(prefix) if originate.contains(&prefix) => {
                    self.warn(&path, format!("{prefix} listed twice"));
                }
                Ok(prefix) => originate.push(prefix),
                Err(message) => self.error(&path, message),
            }
        }
        // The FQDN capability carries the hostname behind a one-octet length.
        if let Some(hostname) = &raw.hostname {
            if hostname.is_empty() || hostname.len() > 255 {
                self.error(&[Key("hostname")], "must be 1 to 255 bytes long".into());
            }
        }
        let kernel = &raw.kernel;
        // rtnetlink RTPROT_UNSPEC/REDIRECT/KERNEL/BOOT/STATIC: routes bgpd must never own.
        if kernel.protocol <= 4 {
            self.error(
                &[Key("kernel"), Key("protocol")],
                format!("{} is reserved by the kernel (0..=4); use e.g. 179", kernel.protocol),
            );
        } else if let Some(owner) = route_sync::config::protocol_owner(kernel.protocol) {
            self.warn(
                &[Key("kernel"), Key("protocol")],
                format!(
                    "{} is the protocol number of {owner}: on a host that also runs it, bgpd \
                     takes its routes (in this table, with this metric) for its own and replaces \
                     or removes them",
                    kernel.protocol
                ),
            );
        }
        if kernel.table == 0 || kernel.table == 255 {
            self.error(
                &[Key("kernel"), Key("table")],
                format!("{} is not a usable table (0 = unspec, 255 = local)", kernel.table),
            );
        }
        // RFC 4724 §3: "Restart Time: ... 12 bits".
        if raw.graceful_restart.restart_time > 4095 {
            self.error(
                &[Key("graceful_restart"), Key("restart_time")],
                format!("must be at most 4095 (got {})", raw.graceful_restart.restart_time),
            );
        }
        if raw.graceful_restart.max_restart_time > 4095 {
            self.error(
                &[Key("graceful_restart"), Key("max_restart_time")],
                format!(
                    "must be at most 4095, the largest Restart Time a peer can announce (got {})",
                    raw.graceful_restart.max_restart_time
                ),
            );
        }
        if raw.control_socket.as_os_str().is_empty() {
            self.error(&[Key("control_socket")], "must not be empty".into());
        }
        if let Some(level) = &raw.log.level {
            if let Err(error) = tracing_subscriber::EnvFilter::try_new(level) {
                self.error(&[Key("log"), Key("level")], format!("`{level}`: {error}"));
            }
        }

        let globals = Globals {
            local_as,
            graceful_restart: raw.graceful_restart.enabled,
            listening: !listen.is_empty(),
            interface_view: raw.kernel.enabled,
            originates: (
                originate.iter().any(|p: &ipnet::IpNet| p.addr().is_ipv4()),
                originate.iter().any(|p: &ipnet::IpNet| p.addr().is_ipv6()),
            ),
        };
        let mut first_index: HashMap<IpAddr, usize> = HashMap::new();
        let mut neighbors = Vec::new();
        for (index, neighbor) in raw.neighbors.into_iter().enumerate() {
            if let Some(first) = first_index.get(&neighbor.address) {
                self.error(
                    &[Key("neighbors"), Seg::Index(index), Key("address")],
                    format!("{} is already configured at neighbors[{first}]", neighbor.address),
                );
            } else {
                first_index.insert(neighbor.address, index);
            }
            let resolved = self.check_neighbor(index, neighbor, &globals, base_dir);
            neighbors.push(resolved);
        }
        if kernel.enabled && kernel.blackhole_originated && !raw.allow_dangerous_originate {
            self.check_originate_danger(&raw.originate, &listen, &neighbors);
        }

        Config {
            router_id,
            local_as,
            listen,
            cluster_id: raw.cluster_id.unwrap_or(router_id),
            max_paths: raw.max_paths,
            originate,
            allow_dangerous_originate: raw.allow_dangerous_originate,
            hostname: raw.hostname,
            kernel: KernelConfig {
                enabled: kernel.enabled,
                protocol: kernel.protocol,
                table: kernel.table,
                metric: kernel.metric,
                blackhole_originated: kernel.blackhole_originated,
                exclude: Vec::new(),
            },
            graceful_restart: GracefulRestartConfig {
                enabled: raw.graceful_restart.enabled,
                restart_time: raw.graceful_restart.restart_time,
                max_restart_time: raw.graceful_restart.max_restart_time,
            },
            control_socket: raw.control_socket,
            http_listen: raw.http_listen,
            log: LogConfig {
                format: raw.log.format,
                level: raw.log.level.clone().unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_string()),
            },
            neighbors,
            node_name,
            datastore,
            file_sets,
            warnings: Vec::new(),
        }
    }

    fn check_as(&mut self, path: &[Seg], asn: u32) {
        // RFC 7607 §2: AS 0 "MUST NOT" be used in an OPEN; RFC 6793 reserves AS_TRANS.
        if asn == 0 {
            self.error(path, "AS 0 is reserved (RFC 7607)".into());
        } else if asn == AS_TRANS {
            self.error(path, "AS 23456 is AS_TRANS, reserved (RFC 6793)".into());
        }
    }

    /// `originate` prefixes whose blackhole route would cut the node off (see
    /// `originate_guard`): the default route, reserved ranges, this node's session addresses.
    fn check_originate_danger(
        &mut self,
        originate: &[String],
        listen: &[SocketAddr],
        neighbors: &[NeighborConfig],
    ) {
        let mut own: Vec<(IpAddr, String)> = listen
            .iter()
            .filter(|a| !a.ip().is_unspecified())
            .map(|a| (a.ip(), "a listen address".to_string()))
            .collect();
        for n in neighbors {
            if let Some(local) = n.local_address {
                own.push((local, format!("the local address of neighbour {}", n.address)));
            }
            own.push((n.address, format!("the address of neighbour {}", n.address)));
        }
        let mut seen = Vec::new();
        for (index, text) in originate.iter().enumerate() {
            let Ok(prefix) = parse_prefix(text) else { continue };
            if seen.contains(&prefix) {
                continue;
            }
            seen.push(prefix);
            let at = [Seg::Key("originate"), Seg::Index(index)];
            if let Some(why) = originate_guard::reserved_danger(&prefix) {
                self.error(
                    &at,
                    format!(
                        "{why}: {}; set allow_dangerous_originate: true if this is meant, or \
                         kernel.blackhole_originated: false",
                        originate_guard::CONSEQUENCE
                    ),
                );
            } else if let Some(why) = originate_guard::holds_own_address(&prefix, &own) {
                self.warn(
                    &at,
                    format!(
                        "{why}: {}; set allow_dangerous_originate: true to silence this",
                        originate_guard::OWN_ADDRESS_CAVEAT
                    ),
                );
            }
        }
    }

    fn check_neighbor(
        &mut self,
        index: usize,
        raw: RawNeighbor,
        globals: &Globals,
        base_dir: Option<&Path>,
    ) -> NeighborConfig {
        let at = |field: &'static str| [Seg::Key("neighbors"), Seg::Index(index), Seg::Key(field)];
        let ibgp = raw.remote_as == globals.local_as;
        let address = raw.address;
        if address.is_unspecified() || address.is_multicast() || is_broadcast(address) {
            self.error(&at("address"), format!("{address} is not a unicast address"));
        }
        self.check_as(&at("remote_as"), raw.remote_as);
        if raw.port == 0 {
            self.error(&at("port"), "must not be 0".into());
        }
        // RFC 4271 §4.2: "Hold Time MUST be either zero or at least three seconds."
        if raw.hold_time == 1 || raw.hold_time == 2 {
            self.error(
                &at("hold_time"),
                format!("must be 0 or at least 3 (got {}) (RFC 4271 §4.2)", raw.hold_time),
            );
        }
        if raw.passive && !globals.listening {
            self.warn(
                &at("passive"),
                "passive, but `listen` is empty: this session can never come up".into(),
            );
        }
        if raw.connect_retry == 0 {
            self.error(&at("connect_retry"), "must be at least 1 second".into());
        }
        if let Some(local) = raw.local_address {
            if local.is_ipv4() != address.is_ipv4() {
                self.error(
                    &at("local_address"),
                    format!("{local} is not of the same family as address {address}"),
                );
            }
        }
        let mut families = Vec::new();
        if raw.families.is_empty() {
            self.error(&at("families"), "at least one family is needed".into());
        }
        for (family_index, name) in raw.families.iter().enumerate() {
            let family = match name {
                FamilyName::Ipv4Unicast => Family::IPV4_UNICAST,
                FamilyName::Ipv6Unicast => Family::IPV6_UNICAST,
            };
            if families.contains(&family) {
                let mut path = at("families").to_vec();
                path.push(Seg::Index(family_index));
                self.warn(&path, format!("{family} listed twice"));
            } else {
                families.push(family);
            }
        }
        // RFC 4456 §5: route reflection happens between iBGP peers only.
        if raw.route_reflector_client && !ibgp {
            self.error(
                &at("route_reflector_client"),
                "only iBGP neighbours (remote_as == local_as) can be route reflector clients"
                    .into(),
            );
        }
        if raw.next_hop_keep && raw.next_hop_self {
            self.error(&at("next_hop_keep"), "set next_hop_self or next_hop_keep, not both".into());
        } else if raw.next_hop_keep && ibgp && globals.local_as != 0 {
            self.warn(
                &at("next_hop_keep"),
                "has no effect toward iBGP: the next hop is kept anyway (RFC 4271 §5.1.3)".into(),
            );
        }
        if raw.allow_local_as > 0 && ibgp && globals.local_as != 0 {
            self.warn(
                &at("allow_local_as"),
                "has no effect toward iBGP: AS_PATH loops are only checked on eBGP routes".into(),
            );
        }
        self.check_next_hops(index, &raw, globals);
        if !raw.enforce_first_as && ibgp && globals.local_as != 0 {
            self.warn(
                &at("enforce_first_as"),
                "has no effect toward iBGP: only eBGP routes are checked (RFC 4271 §6.3)".into(),
            );
        }
        if raw.multihop == Some(0) {
            self.error(&at("multihop"), "must be 1..=255".into());
        }
        let ttl = neighbor_ttl(ibgp, raw.multihop, raw.ttl_security);
        let password = self.password(index, &raw, base_dir);
        let max_prefixes = raw.max_prefixes.as_ref().map(|max| {
            if max.limit == 0 {
                self.error(&sub(index, "max_prefixes", "limit"), "must be at least 1".into());
            }
            if max.warning_percent == 0 || max.warning_percent > 100 {
                self.error(
                    &sub(index, "max_prefixes", "warning_percent"),
                    format!("must be 1..=100 (got {})", max.warning_percent),
                );
            }
            if max.restart_after == Some(0) {
                self.error(
                    &sub(index, "max_prefixes", "restart_after"),
                    "must be at least 1 second (leave it out to stay down until reset)".into(),
                );
            }
            MaxPrefixes {
                limit: max.limit,
                warning_percent: max.warning_percent,
                restart_after: max.restart_after,
            }
        });
        // Without a local_as (a datastore will supply it) iBGP/eBGP is not known yet.
        let known = globals.local_as != 0;
        let import = self.policy(index, "import", raw.import.as_ref(), ibgp, known);
        let export = self.policy(index, "export", raw.export.as_ref(), ibgp, known);
        NeighborConfig {
            address,
            source: NeighborSource::Config,
            remote_as: raw.remote_as,
            ibgp,
            description: raw.description,
            port: raw.port,
            passive: raw.passive,
            hold_time: raw.hold_time,
            connect_retry: raw.connect_retry,
            local_address: raw.local_address,
            families,
            route_reflector_client: raw.route_reflector_client,
            next_hop_self: raw.next_hop_self,
            next_hop_keep: raw.next_hop_keep,
            allow_local_as: raw.allow_local_as,
            next_hop_v4: raw.next_hop_v4,
            next_hop_v6: raw.next_hop_v6,
            enforce_first_as: raw.enforce_first_as,
            multihop: raw.multihop,
            ttl,
            ttl_security: raw.ttl_security,
            graceful_restart: raw.graceful_restart.unwrap_or(globals.graceful_restart),
            password,
            password_file: raw.password_file,
            max_prefixes,
            restart_time: None,
            add_path: AddPathConfig { receive: raw.add_path.receive, send: raw.add_path.send },
            shutdown: raw.shutdown,
            import,
            export,
            policy_defaulted: (raw.import.is_none(), raw.export.is_none()),
        }
    }

    /// `next_hop_v4` / `next_hop_v6`: an address others can forward to (RFC 4271 §5.1.3), and
    /// of a family the neighbour is offered.
    fn check_next_hops(&mut self, index: usize, raw: &RawNeighbor, globals: &Globals) {
        let at = |field: &'static str| [Seg::Key("neighbors"), Seg::Index(index), Seg::Key(field)];
        let offered = |name: FamilyName| raw.families.contains(&name);
        // Without route-sync's view of the interfaces, the other family's next hop can only
        // come from the config: our own prefixes of that family would never be sent.
        let session_v4 = raw.address.to_canonical().is_ipv4();
        let (v4_originated, v6_originated) = globals.originates;
        let (other, name, configured, originated) = if session_v4 {
            ("next_hop_v6", FamilyName::Ipv6Unicast, raw.next_hop_v6.is_some(), v6_originated)
        } else {
            ("next_hop_v4", FamilyName::Ipv4Unicast, raw.next_hop_v4.is_some(), v4_originated)
        };
        if !globals.interface_view && offered(name) && originated && !configured {
            self.warn(
                &at("families"),
                format!(
                    "with kernel sync off no address of the other family is known for this \
                     session: set {other}, or the `originate` prefixes of that family are not \
                     advertised to this neighbour"
                ),
            );
        }
        if let Some(v4) = raw.next_hop_v4 {
            if v4.is_unspecified() || v4.is_loopback() || v4.is_multicast() || v4.is_broadcast() {
                self.error(&at("next_hop_v4"), format!("{v4} is not a usable next hop"));
            } else if !offered(FamilyName::Ipv4Unicast) {
                self.warn(&at("next_hop_v4"), "ipv4_unicast is not in `families`: unused".into());
            }
        }
        if let Some(v6) = raw.next_hop_v6 {
            // RFC 2545 §3: the global address is the next hop; a link-local one only comes
            // second, and is of no use to a neighbour on another link.
            let link_local = v6.segments()[0] & 0xffc0 == 0xfe80;
            if v6.is_unspecified() || v6.is_loopback() || v6.is_multicast() || link_local {
                self.error(
                    &at("next_hop_v6"),
                    format!("{v6} is not a usable next hop (a global IPv6 address is needed)"),
                );
            } else if !offered(FamilyName::Ipv6Unicast) {
                self.warn(&at("next_hop_v6"), "ipv6_unicast is not in `families`: unused".into());
            }
        }
    }

    /// The TCP MD5 key (RFC 2385) from `password` or `password_file` (read now).
    fn password(
        &mut self,
        index: usize,
        raw: &RawNeighbor,
        base_dir: Option<&Path>,
    ) -> Option<Password> {
        let at = |field: &'static str| [Seg::Key("neighbors"), Seg::Index(index), Seg::Key(field)];
        let (key, field) = match (&raw.password, &raw.password_file) {
            (Some(_), Some(_)) => {
                self.error(
                    &at("password_file"),
                    "set either password or password_file, not both".into(),
                );
                return None;
            }
            (None, None) => return None,
            (Some(key), None) => (key.clone(), "password"),
            (None, Some(file)) => {
                let full = match base_dir {
                    Some(dir) if file.is_relative() => dir.join(file),
                    _ => file.clone(),
                };
                if readable_by_others(&full) {
                    self.warn(
                        &at("password_file"),
                        format!("{} is readable by other users; chmod 600 it", full.display()),
                    );
                }
                match std::fs::read_to_string(&full) {
                    Ok(text) => (text.trim_end_matches(['\n', '\r']).to_string(), "password_file"),
                    Err(error) => {
                        self.error(
                            &at("password_file"),
                            format!("cannot read {}: {error}", full.display()),
                        );
                        return None;
                    }
                }
            }
        };
        if key.is_empty() {
            self.error(&at(field), "the key is empty".into());
            return None;
        }
        if key.len() > MD5_MAX_KEY_LEN {
            self.error(
                &at(field),
                format!("the key is {} bytes; at most {MD5_MAX_KEY_LEN} are allowed", key.len()),
            );
            return None;
        }
        Some(Password::new(key))
    }

    /// Resolves an import/export policy. RFC 8212 §4: an eBGP session with no explicit
    /// policy exchanges nothing ("routes are neither imported nor exported").
    fn policy(
        &mut self,
        index: usize,
        field: &'static str,
        raw: Option<&RawPolicy>,
        ibgp: bool,
        warn: bool,
    ) -> Policy {
        let path = [Seg::Key("neighbors"), Seg::Index(index), Seg::Key(field)];
        match raw {
            None => {
                let policy = default_policy(ibgp);
                if ibgp || !warn {
                    return policy;
                }
                let verb = if field == "import" { "accepted from" } else { "advertised to" };
                self.warn(
                    &path,
                    format!("eBGP neighbour without {field} policy: no route will be {verb} it (RFC 8212); set `{field}: all`, `{field}: none` or rules"),
                );
                policy
            }
            Some(RawPolicy::All) => Policy::All,
            Some(RawPolicy::None) => Policy::None,
            Some(RawPolicy::Rules(texts)) => {
                let mut rules = Vec::new();
                for (rule_index, text) in texts.iter().enumerate() {
                    match text.parse::<PolicyRule>() {
                        Ok(rule) => rules.push(rule),
                        Err(message) => {
                            let mut rule_path = path.to_vec();
                            rule_path.push(Seg::Index(rule_index));
                            self.error(&rule_path, format!("`{text}`: {message}"));
                        }
                    }
                }
                Policy::Rules(rules)
            }
        }
    }
}

/// Top-level settings a neighbour's resolution depends on.
struct Globals {
    local_as: u32,
    /// `graceful_restart.enabled`, the default of each neighbour's `graceful_restart`.
    graceful_restart: bool,
    /// `listen` is not empty.
    listening: bool,
    /// `kernel.enabled`: interface addresses are known (our next hop of the other family).
    interface_view: bool,
    /// `originate` has IPv4 / IPv6 prefixes.
    originates: (bool, bool),
}

fn sub(index: usize, field: &'static str, inner: &'static str) -> [Seg; 4] {
    [Seg::Key("neighbors"), Seg::Index(index), Seg::Key(field), Seg::Key(inner)]
}

/// The file's mode grants group or other users any access (a TCP MD5 key should be 0600).
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o077 != 0)
}

/// The IP TTL of a session: 255 with GTSM (RFC 5082), else the `multihop` count, else 1 for
/// eBGP (directly connected) and 255 for iBGP.
pub fn neighbor_ttl(ibgp: bool, multihop: Option<u8>, ttl_security: bool) -> u8 {
    if ttl_security {
        255
    } else {
        multihop.unwrap_or(if ibgp { 255 } else { 1 })
    }
}

/// RFC 8212 §4: an eBGP session with no explicit policy exchanges nothing; iBGP all.
pub fn default_policy(ibgp: bool) -> Policy {
    if ibgp {
        Policy::All
    } else {
        Policy::None
    }
}

/// Kubernetes node names are DNS subdomains (RFC 1123): lower-case letters, digits, `-`, `.`.
fn valid_node_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// The kernel's host name (what Calico's NODENAME defaults to), or "" when unknown.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_broadcast(address: IpAddr) -> bool {
    matches!(address, IpAddr::V4(v4) if v4.is_broadcast())
}
