//! The sessions the datastore asks for: the node-to-node mesh and the BGPPeers that apply
//! to this node, with route-reflector roles, as confd's `bgp_processor.go` derives them.
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use bgp_core::wire::Family;

use super::nodes::{go_duration_secs, restart_seconds, BgpSettings, NodeInfo};
use super::resources::{BgpPeer, Password as PasswordRef};
use super::selector::Selector;
use super::{Problem, Secrets};
use crate::config::{
    neighbor_ttl, AddPathConfig, NeighborConfig, NeighborSource, Password, Policy,
};

/// What the peers are built from.
pub struct PeerContext<'a> {
    pub me: &'a NodeInfo,
    pub local_as: u32,
    pub nodes: &'a BTreeMap<String, NodeInfo>,
    pub settings: &'a BgpSettings,
    pub export: &'a Policy,
    /// The file's `graceful_restart.enabled`: every session's default.
    pub graceful_restart: bool,
    pub secrets: &'a dyn Secrets,
}

/// BIRD's default hold time, which Calico keeps (it sets no hold time; `keepaliveTime`
/// sets a third of it here).
const HOLD_TIME: u16 = 240;
/// Calico's `connect retry time 5`.
const CONNECT_RETRY: u16 = 5;
/// Calico renders every session `multihop` (BIRD: TTL 64), never `direct`.
const MULTIHOP_TTL: u8 = 64;

impl PeerContext<'_> {
    /// A session with Calico's defaults: accept every route, the Calico export filter, our
    /// node address of the peer's family as source, that family alone.
    fn neighbor(&self, address: IpAddr, remote_as: u32, source: NeighborSource) -> NeighborConfig {
        let ibgp = remote_as == self.local_as;
        let family = if address.is_ipv4() { Family::IPV4_UNICAST } else { Family::IPV6_UNICAST };
        let description = Some(source.to_string());
        let multihop = (!ibgp).then_some(MULTIHOP_TTL);
        NeighborConfig {
            address,
            source,
            remote_as,
            ibgp,
            description,
            port: self.settings.listen_port,
            passive: false,
            hold_time: HOLD_TIME,
            connect_retry: CONNECT_RETRY,
            local_address: self.me.address_like(address),
            families: vec![family],
            route_reflector_client: false,
            next_hop_self: false,
            next_hop_keep: false,
            allow_local_as: 0,
            next_hop_v4: None,
            next_hop_v6: None,
            // BIRD, which Calico runs, has `enforce first as` off by default and confd
            // never turns it on: a route server or a ToR that does not prepend its AS
            // keeps its routes (RFC 4271 §6.3 leaves the check to configuration).
            enforce_first_as: false,
            multihop,
            ttl: neighbor_ttl(ibgp, multihop, false),
            ttl_security: false,
            graceful_restart: self.graceful_restart,
            password: None,
            password_file: None,
            max_prefixes: None,
            restart_time: None,
            add_path: AddPathConfig::default(),
            shutdown: false,
            import: Policy::All,
            export: self.export.clone(),
            policy_defaulted: (false, false),
        }
    }

    /// RFC 4456 roles as confd sets them (`buildPeerFromData`): a node with a cluster ID
    /// reflects to each iBGP peer whose cluster ID is another or none. Only peers derived
    /// from nodes carry one; a `peerIP` peer never does, so it is always a client.
    fn reflector_client(&self, peer_cluster_id: Option<std::net::Ipv4Addr>, ibgp: bool) -> bool {
        let Some(mine) = self.me.cluster_id else { return false };
        ibgp && peer_cluster_id != Some(mine)
    }

    fn password(
        &self,
        reference: Option<&PasswordRef>,
        key: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<Password> {
        let secret = reference?.secret_key_ref.as_ref()?;
        match self.secrets.read(&secret.name, &secret.key) {
            Ok(text) if !text.is_empty() => Some(Password::new(text)),
            Ok(_) => {
                let message = format!("password: secret {}/{} is empty", secret.name, secret.key);
                problems.push(Problem::new(key, message));
                None
            }
            Err(message) => {
                problems.push(Problem::new(key, format!("password: {message}")));
                None
            }
        }
    }

    /// confd's automatic one-way rule: the side with the greater address, compared as text
    /// as Go compares strings, waits for the other to connect.
    fn passive_toward(&self, peer: IpAddr) -> bool {
        self.me.address_like(peer).is_some_and(|ours| peer.to_string() > ours.to_string())
    }
}

/// Calico's full mesh (`nodeToNodeMeshEnabled`, confd `processMeshPeers`): a session to
/// every other BGP node's address of each family we have, except route reflectors; a route
/// reflector itself takes no part. The peer's AS is its own, else the cluster's (confd falls
/// back to *ours*, which makes the two ends disagree when only one node sets an AS); its
/// port is its listen port.
pub fn mesh(ctx: &PeerContext<'_>, problems: &mut Vec<Problem>) -> Vec<NeighborConfig> {
    if !ctx.settings.mesh || ctx.me.cluster_id.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for node in ctx.nodes.values() {
        if node.name == ctx.me.name || node.cluster_id.is_some() {
            continue;
        }
        for peer in node.addresses() {
            let Some(ours) = ctx.me.address_like(peer) else { continue };
            if peer == ours {
                problems.push(Problem::new(
                    &format!("nodes/{}", node.name),
                    format!("has this node's address {ours}: no mesh session"),
                ));
                continue;
            }
            let mut n = ctx.neighbor(peer, node.asn, NeighborSource::Mesh(node.name.clone()));
            n.port = node.listen_port;
            n.passive = ctx.passive_toward(peer);
            n.restart_time = ctx.settings.mesh_restart_time;
            let reference = ctx.settings.mesh_password.as_ref();
            n.password = ctx.password(reference, "bgpconfigurations/default", problems);
            if reference.is_some() && n.password.is_none() {
                // Never up without the key the operator asked for (the problem says why).
                continue;
            }
            out.push(n);
        }
    }
    out
}

/// The BGPPeers for this node, as confd's `updatePeersV1` collects them: first the global
/// ones (neither `node` nor `nodeSelector`), then those naming or selecting this node, then
/// the automatic reverse peerings (this node is the one a BGPPeer's `peerSelector` or
/// `peerIP` designates); each pass in name order. An address taken by an earlier session is
/// skipped by the caller.
pub fn bgp_peers(
    ctx: &PeerContext<'_>,
    peers: &BTreeMap<String, BgpPeer>,
    problems: &mut Vec<Problem>,
) -> Vec<NeighborConfig> {
    let mut global = Vec::new();
    let mut local = Vec::new();
    let mut reverse = Vec::new();
    for (name, peer) in peers {
        let key = format!("bgppeers/{name}");
        let scope = match scope(peer) {
            Ok(scope) => scope,
            Err(message) => {
                problems.push(Problem::new(&key, message));
                continue;
            }
        };
        let result = (|| {
            if scope.applies(ctx.me) {
                let is_global = matches!(scope, Scope::All);
                let out = if is_global { &mut global } else { &mut local };
                for target in forward_targets(ctx, peer)? {
                    out.push(session(ctx, name, peer, &target, is_global, problems)?);
                }
            }
            if peer.spec.reverse_peering.as_deref() != Some("Manual") {
                for target in reverse_targets(ctx, peer, &scope)? {
                    reverse.push(session(ctx, name, peer, &target, false, problems)?);
                }
            }
            Ok::<(), String>(())
        })();
        if let Err(message) = result {
            problems.push(Problem::new(&key, message));
        }
    }
    global.into_iter().chain(local).chain(reverse).collect()
}

/// Which nodes a BGPPeer is for.
enum Scope {
    All,
    Node(String),
    Selected(Selector),
}

impl Scope {
    fn applies(&self, node: &NodeInfo) -> bool {
        match self {
            Scope::All => true,
            Scope::Node(name) => *name == node.name,
            Scope::Selected(selector) => selector.matches(&node.labels),
        }
    }
}

fn scope(peer: &BgpPeer) -> Result<Scope, String> {
    let spec = &peer.spec;
    if !spec.node.is_empty() {
        return Ok(Scope::Node(spec.node.clone()));
    }
    if spec.node_selector.trim().is_empty() {
        return Ok(Scope::All);
    }
    Selector::from_str(&spec.node_selector)
        .map(Scope::Selected)
        .map_err(|error| format!("nodeSelector `{}`: {error}", spec.node_selector))
}

/// One address a BGPPeer makes us peer with.
struct Target {
    address: IpAddr,
    port: u16,
    asn: u32,
    /// The peer's cluster ID (only peers derived from nodes carry one).
    cluster_id: Option<std::net::Ipv4Addr>,
    /// The address is a cluster node's (confd's `calico_node`).
    is_node: bool,
}

fn peer_selector(peer: &BgpPeer) -> Result<Option<Selector>, String> {
    let text = &peer.spec.peer_selector;
    if text.trim().is_empty() {
        return Ok(None);
    }
    Selector::from_str(text).map(Some).map_err(|error| format!("peerSelector `{text}`: {error}"))
}

/// `node`'s addresses of the families we have, as targets. (confd does not mark these as
/// `calico_node`: sessions from selectors are never made passive.)
fn node_targets(ctx: &PeerContext<'_>, node: &NodeInfo, default_as: u32) -> Vec<Target> {
    node.addresses()
        .filter(|address| ctx.me.address_like(*address).is_some_and(|ours| ours != *address))
        .map(|address| Target {
            address,
            port: node.listen_port,
            asn: node.own_as.unwrap_or(default_as),
            cluster_id: node.cluster_id,
            is_node: false,
        })
        .collect()
}

/// Where a BGPPeer that applies to this node points: the nodes its `peerSelector` selects
/// (their own addresses, AS and port), or its `peerIP`.
fn forward_targets(ctx: &PeerContext<'_>, peer: &BgpPeer) -> Result<Vec<Target>, String> {
    let spec = &peer.spec;
    if !spec.local_workload_selector.trim().is_empty() {
        return Err("localWorkloadSelector (peering with pods) is not supported yet".to_string());
    }
    if let Some(selector) = peer_selector(peer)? {
        let selected =
            ctx.nodes.values().filter(|n| n.name != ctx.me.name && selector.matches(&n.labels));
        return Ok(selected.flat_map(|n| node_targets(ctx, n, ctx.settings.as_number)).collect());
    }
    let (address, port) = peer_ip(&spec.peer_ip)?;
    let asn = spec
        .as_number
        .as_ref()
        .ok_or("asNumber is required with peerIP")?
        .value()
        .map_err(|message| format!("asNumber: {message}"))?;
    if ctx.me.address_like(address) == Some(address) {
        // confd skips a peer at the node's own address (the reverse side of it).
        return Ok(Vec::new());
    }
    if ctx.me.address_like(address).is_none() {
        return Ok(Vec::new()); // no address of that family here
    }
    let node = ctx.nodes.values().find(|n| n.address_like(address) == Some(address));
    let port =
        port.unwrap_or_else(|| node.map_or(ctx.settings.global_listen_port, |n| n.listen_port));
    Ok(vec![Target { address, port, asn, cluster_id: None, is_node: node.is_some() }])
}

/// confd's automatic reverse peering: when this node is what a BGPPeer points at (its
/// `peerSelector` selects us, or its `peerIP` is our address with our AS and port), we peer
/// back with every node the BGPPeer applies to.
fn reverse_targets(
    ctx: &PeerContext<'_>,
    peer: &BgpPeer,
    scope: &Scope,
) -> Result<Vec<Target>, String> {
    let spec = &peer.spec;
    let me = ctx.me;
    let family: Option<bool> = match peer_selector(peer)? {
        Some(selector) if selector.matches(&me.labels) => None,
        Some(_) => return Ok(Vec::new()),
        None => {
            let Ok((address, port)) = peer_ip(&spec.peer_ip) else { return Ok(Vec::new()) };
            let asn = match spec.as_number.as_ref().map(|a| a.value()) {
                Some(Ok(0)) | None => ctx.settings.as_number,
                Some(Ok(asn)) => asn,
                Some(Err(_)) => return Ok(Vec::new()),
            };
            let ours = me.address_like(address) == Some(address);
            if !ours || asn != ctx.local_as || port.is_some_and(|p| p != me.listen_port) {
                return Ok(Vec::new());
            }
            Some(address.is_ipv4())
        }
    };
    let mut out = Vec::new();
    for node in ctx.nodes.values().filter(|n| n.name != me.name && scope.applies(n)) {
        let targets = node_targets(ctx, node, ctx.settings.as_number);
        out.extend(
            targets.into_iter().filter(|t| family.is_none_or(|v4| t.address.is_ipv4() == v4)),
        );
    }
    Ok(out)
}

/// The session to one target of BGPPeer `name`.
fn session(
    ctx: &PeerContext<'_>,
    name: &str,
    peer: &BgpPeer,
    target: &Target,
    global: bool,
    problems: &mut Vec<Problem>,
) -> Result<NeighborConfig, String> {
    let key = format!("bgppeers/{name}");
    let mut n = ctx.neighbor(target.address, target.asn, NeighborSource::BgpPeer(name.to_string()));
    n.port = target.port;
    n.route_reflector_client = ctx.reflector_client(target.cluster_id, n.ibgp);
    // confd: automatic passive only for global peers that are cluster nodes.
    n.passive = global && target.is_node && ctx.passive_toward(target.address);
    peer_options(ctx, &key, peer, &mut n, problems)?;
    Ok(n)
}

/// `peerIP`: `198.18.0.1`, `198.18.0.1:1179`, `2001:db8::1`, `[2001:db8::1]:1179`.
pub fn peer_ip(text: &str) -> Result<(IpAddr, Option<u16>), String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("set peerIP or peerSelector".to_string());
    }
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok((address, None));
    }
    match text.parse::<SocketAddr>() {
        Ok(socket) if socket.port() != 0 => Ok((socket.ip(), Some(socket.port()))),
        _ => Err(format!("peerIP `{text}` is not an address or address:port")),
    }
}

/// The BGPPeer's session options onto `n`. An option bgpd cannot honour yet is reported
/// (the session is still configured without it); a bad value rejects the session.
fn peer_options(
    ctx: &PeerContext<'_>,
    key: &str,
    peer: &BgpPeer,
    n: &mut NeighborConfig,
    problems: &mut Vec<Problem>,
) -> Result<(), String> {
    let spec = &peer.spec;
    if let Some(text) = &spec.keepalive_time {
        let secs =
            go_duration_secs(text).ok_or(format!("keepaliveTime `{text}` is not a duration"))?;
        // RFC 4271 §10: KEEPALIVE at a third of the hold time; we propose the hold time.
        let hold = (secs * 3.0).round();
        if !(3.0..=65535.0).contains(&hold) {
            return Err(format!("keepaliveTime `{text}` must be 1s..21845s"));
        }
        n.hold_time = hold as u16;
    }
    if let Some(text) = &spec.max_restart_time {
        n.restart_time = Some(restart_seconds(text).map_err(|m| format!("maxRestartTime: {m}"))?);
    }
    match spec.source_address.as_deref() {
        None | Some("UseNodeIP") => {}
        Some("None") => n.local_address = None,
        Some(other) => return Err(format!("sourceAddress `{other}`: expected UseNodeIP or None")),
    }
    // confd: `ttlSecurity` 0 (or unset) is off.
    if let Some(hops) = spec.ttl_security.filter(|hops| *hops > 0) {
        n.ttl_security = true;
        n.multihop = Some(hops);
        n.ttl = neighbor_ttl(n.ibgp, n.multihop, true);
    }
    let mode = match spec.next_hop_mode.as_deref() {
        Some(mode) => mode,
        None if spec.keep_original_next_hop => "Keep",
        None => "Auto",
    };
    match mode {
        "Auto" => {}
        "Self" => n.next_hop_self = true,
        // RFC 4271 §5.1.3: toward iBGP the next hop is kept anyway.
        "Keep" => n.next_hop_keep = !n.ibgp,
        other => return Err(format!("nextHopMode `{other}`: expected Auto, Self or Keep")),
    }
    // Calico's `allow local as N` (BIRD); only eBGP routes are loop-checked.
    if let Some(allowed) = spec.num_allowed_local_as_numbers.filter(|n| *n > 0) {
        n.allow_local_as = u8::try_from(allowed).unwrap_or_else(|_| {
            problems.push(Problem::new(
                key,
                format!("numAllowedLocalASNumbers {allowed} is more than 255: 255 is used"),
            ));
            u8::MAX
        });
    }
    if spec.local_as_number.is_some() {
        problems.push(Problem::new(
            key,
            "localASNumber is not supported yet: the node's AS is used".into(),
        ));
    }
    if spec.reachable_by.as_deref().is_some_and(|r| !r.is_empty()) {
        problems.push(Problem::new(key, "reachableBy is not supported yet".into()));
    }
    if !spec.filters.is_empty() {
        problems.push(Problem::new(
            key,
            "filters (BGPFilter) are not supported yet: the default export filter applies".into(),
        ));
    }
    n.password = ctx.password(spec.password.as_ref(), key, problems);
    if spec.password.as_ref().and_then(|p| p.secret_key_ref.as_ref()).is_some()
        && n.password.is_none()
    {
        return Err("its password cannot be read: session not configured (it would come up without TCP MD5)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ip_forms() {
        assert_eq!(peer_ip("198.18.0.1"), Ok(("198.18.0.1".parse().unwrap(), None)));
        assert_eq!(peer_ip("198.18.0.1:1179"), Ok(("198.18.0.1".parse().unwrap(), Some(1179))));
        assert_eq!(peer_ip("2001:db8::1"), Ok(("2001:db8::1".parse().unwrap(), None)));
        assert_eq!(peer_ip("[2001:db8::1]:1179"), Ok(("2001:db8::1".parse().unwrap(), Some(1179))));
        assert!(peer_ip("").is_err());
        assert!(peer_ip("198.18.0.1:0").is_err());
        assert!(peer_ip("tor-1").is_err());
    }
}
