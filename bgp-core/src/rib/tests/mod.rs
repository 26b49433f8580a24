//! RIB tests: helpers shared by the files of one concern each.
mod as_path_checks;
mod buffers;
mod decision;
mod export;
mod import;
mod lifecycle;
mod order;
mod unsendable;

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::*;
use crate::policy::Policy;
use crate::wire::{
    AsPath, Family, MpNextHop, MpReach, MpUnreach, Nlri, Origin, PathAttributes, Update,
};

pub(super) const LOCAL_AS: u32 = 65000;

pub(super) fn config() -> RibConfig {
    RibConfig {
        local_as: LOCAL_AS,
        router_id: Ipv4Addr::new(10, 0, 0, 1),
        cluster_id: Ipv4Addr::new(10, 0, 0, 1),
        max_paths: 4,
    }
}

pub(super) fn rib() -> Rib {
    Rib::new(config())
}

pub(super) fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A peer at `address` in `asn` (iBGP when `asn` is ours), router id `rid`, both families,
/// policies `all`.
pub(super) fn peer(address: &str, asn: u32, rid: &str) -> PeerInfo {
    PeerInfo {
        address: ip(address),
        asn,
        router_id: rid.parse().unwrap(),
        ibgp: asn == LOCAL_AS,
        rr_client: false,
        local_v4: Some(Ipv4Addr::new(198, 18, 0, 254)),
        local_v6: Some("2001:db8::fe".parse().unwrap()),
        local_v6_link_local: None,
        families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
        import: Policy::All,
        export: Policy::All,
        next_hop_self: false,
        next_hop_keep: false,
        allow_local_as: 0,
        enforce_first_as: true,
    }
}

pub(super) fn up(rib: &mut Rib, id: u32, info: PeerInfo) -> PeerId {
    rib.peer_up(PeerId(id), info).unwrap();
    // The initial dump and End-of-RIB are not what the tests look at.
    rib.pending_updates(PeerId(id)).unwrap();
    PeerId(id)
}

/// Attributes with ORIGIN IGP and an AS_SEQUENCE.
pub(super) fn attrs(as_path: &[u32]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(as_path.to_vec())),
        ..Default::default()
    }
}

/// Announce `prefixes` (all IPv4 or all IPv6) with `attrs` and next hop `nh`.
pub(super) fn announce(prefixes: &[&str], mut attrs: PathAttributes, nh: &str) -> Update {
    let nlri: Vec<Nlri> = prefixes.iter().map(|p| Nlri::new(net(p))).collect();
    announce_nlri(nlri, &mut attrs, nh)
}

pub(super) fn announce_nlri(nlri: Vec<Nlri>, attrs: &mut PathAttributes, nh: &str) -> Update {
    match (ip(nh), nlri.first().map(|n| n.prefix)) {
        (IpAddr::V4(a), Some(IpNet::V4(_))) => {
            attrs.next_hop = Some(a);
            Update { attributes: attrs.clone(), nlri, ..Default::default() }
        }
        (global, _) => {
            let family = match nlri.first().map(|n| n.prefix) {
                Some(IpNet::V4(_)) => Family::IPV4_UNICAST,
                _ => Family::IPV6_UNICAST,
            };
            Update {
                attributes: attrs.clone(),
                mp_reach: Some(MpReach {
                    family,
                    next_hop: MpNextHop { global, link_local: None },
                    nlri,
                }),
                ..Default::default()
            }
        }
    }
}

/// Withdraw `prefixes` (classic field for IPv4, MP_UNREACH_NLRI for IPv6).
pub(super) fn withdraw(prefixes: &[&str]) -> Update {
    let (v4, v6): (Vec<Nlri>, Vec<Nlri>) =
        prefixes.iter().map(|p| Nlri::new(net(p))).partition(|n| n.prefix.addr().is_ipv4());
    Update {
        withdrawn: v4,
        mp_unreach: (!v6.is_empty())
            .then_some(MpUnreach { family: Family::IPV6_UNICAST, withdrawn: v6 }),
        ..Default::default()
    }
}

/// The FIB change for `prefix` in `changes`, if any.
pub(super) fn fib_of(changes: &Changes, prefix: &str) -> Option<Vec<IpAddr>> {
    changes.fib.iter().find(|c| c.prefix == net(prefix)).map(|c| c.next_hops.clone())
}

pub(super) fn ips(list: &[&str]) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = list.iter().map(|s| ip(s)).collect();
    v.sort();
    v
}

/// The best path's peer for `prefix` (`None` = local or no best).
pub(super) fn best_peer(rib: &Rib, prefix: &str) -> Option<PeerId> {
    rib.explain(&net(prefix))?.paths.iter().find(|p| p.best).and_then(|p| p.peer)
}

/// The step at which the path from `peer` lost.
pub(super) fn lost(rib: &Rib, prefix: &str, peer: PeerId) -> Option<Step> {
    rib.explain(&net(prefix))?.paths.iter().find(|p| p.peer == Some(peer)).and_then(|p| p.lost)
}

/// Announced prefixes of a batch, per attribute set, sorted.
pub(super) fn announced(batch: &OutBatch) -> Vec<IpNet> {
    let mut v: Vec<IpNet> =
        batch.announcements.iter().flat_map(|a| a.nlri.iter().map(|n| n.prefix)).collect();
    v.sort();
    v
}

pub(super) fn withdrawn(batch: &OutBatch) -> Vec<IpNet> {
    let mut v: Vec<IpNet> =
        batch.withdrawals.iter().flat_map(|w| w.1.iter().map(|n| n.prefix)).collect();
    v.sort();
    v
}

#[test]
fn rib_can_move_to_the_owner_task() {
    fn send<T: Send>() {}
    send::<Rib>();
    send::<Changes>();
    send::<OutBatch>();
}
