//! Peer lifecycle (up, down, graceful restart), policy changes, route refresh, local
//! origination and re-evaluation when next-hop reachability changes.
use std::net::IpAddr;

use ipnet::IpNet;

use super::core::{remove, upsert, uses_next_hop, walk};
use super::export::{exportable, queue_all};
use super::path::{Dest, Path, LOCAL_SLOT, REJECTED, STALE};
use super::peer::{PeerInfo, PeerSlot};
use super::prefix::{PrefixKey, V4, V6};
use super::resolver::NextHopCache;
use super::{Changes, FamilyKey, NextHopResolver, PeerId, Resolution, Rib, RibError};
use crate::policy::Policy;
use crate::wire::Family;

impl Rib {
    /// A session reached Established. Queues the initial dump of every negotiated family,
    /// followed by End-of-RIB markers. A peer in graceful restart keeps its stale paths
    /// until it refreshes them ([`Rib::end_of_rib`]) or [`Rib::purge_stale`]. RFC 4724 §4.2:
    /// for a family the new session's Graceful Restart capability does not preserve (absent,
    /// or F bit clear) the daemon calls [`Rib::end_of_rib`] at once, which drops its stale
    /// paths.
    pub fn peer_up(&mut self, peer: PeerId, info: PeerInfo) -> Result<Changes, RibError> {
        let mut out = Changes::default();
        let slot = match self.shared.slots.get(&peer) {
            Some(&slot) => {
                let p = self.shared.peer_mut(slot).ok_or(RibError::UnknownPeer(peer))?;
                if p.up {
                    return Err(RibError::PeerAlreadyUp(peer));
                }
                let kept = p.counts.received > 0;
                let import = info.import.clone();
                p.info = info;
                if kept {
                    // Stale paths were judged by the old import policy and session facts
                    // (router id, address): judge them again.
                    self.reimport::<V4>(slot, &import, &mut out);
                    self.reimport::<V6>(slot, &import, &mut out);
                }
                slot
            }
            None => {
                let free =
                    self.shared.peers.iter().skip(1).position(Option::is_none).map(|i| i + 1);
                let slot = match free {
                    Some(i) => i,
                    None if self.shared.peers.len() < usize::from(u16::MAX) => {
                        self.shared.peers.push(None);
                        self.shared.peers.len() - 1
                    }
                    None => return Err(RibError::TooManyPeers),
                };
                let slot = u16::try_from(slot).map_err(|_| RibError::TooManyPeers)?;
                self.shared.peers[usize::from(slot)] = Some(PeerSlot::new(peer, info));
                self.shared.slots.insert(peer, slot);
                slot
            }
        };
        if let Some(p) = self.shared.peer_mut(slot) {
            p.up = true;
            p.eor_pending = p.info.families.clone();
            p.counts.advertised = 0;
        }
        self.shared.up_slots.push(slot);
        self.shared.refresh_exporters();
        let advertised = queue_all::<V4>(self, slot) + queue_all::<V6>(self, slot);
        if let Some(p) = self.shared.peer_mut(slot) {
            p.counts.advertised = advertised;
        }
        self.done(&mut out);
        Ok(out)
    }

    /// The session went down (no graceful restart): all its paths go, in one pass.
    pub fn peer_down(&mut self, peer: PeerId) -> Result<Changes, RibError> {
        let slot = self.shared.slot_of(peer)?;
        self.stop_export(slot);
        let mut out = Changes::default();
        self.drop_paths::<V4>(slot, |_| true, &mut out);
        self.drop_paths::<V6>(slot, |_| true, &mut out);
        self.shared.peers[usize::from(slot)] = None;
        self.shared.slots.remove(&peer);
        self.done(&mut out);
        Ok(out)
    }

    /// The session went down and the peer does graceful restart (RFC 4724 §4.2): "the
    /// Receiving Speaker MUST retain the routes received from the Restarting Speaker for all
    /// the address families that were previously received in the Graceful Restart
    /// Capability and MUST mark them as stale routing information". Its paths of the
    /// `retained` families (those of the peer's last Graceful Restart capability) are marked
    /// stale and kept in use; the paths of every other family go at once, as on
    /// [`Rib::peer_down`]. Nothing is sent to the peer until `peer_up`.
    ///
    /// Paths still stale from an earlier session stay stale: the daemon's restart timer,
    /// started at the first loss, bounds them ([`Rib::purge_stale`]).
    pub fn peer_down_graceful(
        &mut self,
        peer: PeerId,
        retained: &[Family],
    ) -> Result<Changes, RibError> {
        let slot = self.shared.slot_of(peer)?;
        self.stop_export(slot);
        let mut out = Changes::default();
        let mut stale = 0;
        if retained.contains(&Family::IPV4_UNICAST) {
            for dest in self.v4.destinations.values_mut() {
                stale += mark_stale(dest, slot);
            }
        } else {
            self.drop_paths::<V4>(slot, |_| true, &mut out);
        }
        if retained.contains(&Family::IPV6_UNICAST) {
            for dest in self.v6.destinations.values_mut() {
                stale += mark_stale(dest, slot);
            }
        } else {
            self.drop_paths::<V6>(slot, |_| true, &mut out);
        }
        if let Some(p) = self.shared.peer_mut(slot) {
            p.counts.stale += stale;
        }
        self.done(&mut out);
        Ok(out)
    }

    /// End-of-RIB from `peer` for `family` (RFC 4724 §4.2: "the Receiving Speaker MUST
    /// immediately remove all the stale routes from the peer that it is restarting for that
    /// address family").
    pub fn end_of_rib(&mut self, peer: PeerId, family: Family) -> Result<Changes, RibError> {
        let slot = self.shared.slot_of(peer)?;
        let mut out = Changes::default();
        // The common case (no restart in progress) makes no pass over the table.
        if self.has_stale(slot) {
            match family {
                Family::IPV4_UNICAST => self.drop_paths::<V4>(slot, |p| p.has(STALE), &mut out),
                Family::IPV6_UNICAST => self.drop_paths::<V6>(slot, |p| p.has(STALE), &mut out),
                _ => {}
            }
        }
        self.release_if_idle(peer, slot);
        self.done(&mut out);
        Ok(out)
    }

    /// Remove every stale path of `peer` (restart timer expired, RFC 4724 §4.2).
    pub fn purge_stale(&mut self, peer: PeerId) -> Result<Changes, RibError> {
        let slot = self.shared.slot_of(peer)?;
        let mut out = Changes::default();
        if self.has_stale(slot) {
            self.drop_paths::<V4>(slot, |p| p.has(STALE), &mut out);
            self.drop_paths::<V6>(slot, |p| p.has(STALE), &mut out);
        }
        self.release_if_idle(peer, slot);
        self.done(&mut out);
        Ok(out)
    }

    /// New import and export policies for `peer`. Import is re-evaluated on the stored
    /// pre-policy paths (no ROUTE-REFRESH needed); export changes queue the prefixes whose
    /// advertisement changes.
    pub fn set_policy(
        &mut self,
        peer: PeerId,
        import: Policy,
        export: Policy,
    ) -> Result<Changes, RibError> {
        let slot = self.shared.slot_of(peer)?;
        let mut out = Changes::default();
        let Some(p) = self.shared.peer_mut(slot) else { return Err(RibError::UnknownPeer(peer)) };
        if p.info.import != import {
            p.info.import = import.clone();
            self.reimport::<V4>(slot, &import, &mut out);
            self.reimport::<V6>(slot, &import, &mut out);
        }
        let Some(p) = self.shared.peer_mut(slot) else { return Err(RibError::UnknownPeer(peer)) };
        if p.info.export != export {
            let old = p.info.clone();
            p.info.export = export;
            let up = p.up;
            self.shared.refresh_exporters();
            if up {
                self.reexport::<V4>(slot, &old);
                self.reexport::<V6>(slot, &old);
            }
        }
        self.done(&mut out);
        Ok(out)
    }

    /// Our own next hops on `peer`'s session changed (the interface address they were taken
    /// from went or came, RFC 4271 §5.1.3: "the IP address of the interface used to reach the
    /// peer"). Routes that need our next hop and had none are now advertised, those whose
    /// next hop went are withdrawn, and a family whose next hop changed is sent again whole.
    pub fn set_local_next_hops(
        &mut self,
        peer: PeerId,
        v4: Option<std::net::Ipv4Addr>,
        v6: Option<std::net::Ipv6Addr>,
    ) -> Result<Changes, RibError> {
        let slot = self.shared.up_slot_of(peer)?;
        let Some(p) = self.shared.peer_mut(slot) else { return Err(RibError::UnknownPeer(peer)) };
        let old = p.info.clone();
        p.info.local_v4 = v4;
        p.info.local_v6 = v6;
        // Exportability (a next hop to name) changes: queued and counted as on a policy change.
        self.reexport::<V4>(slot, &old);
        self.reexport::<V6>(slot, &old);
        // Same exportability, another next hop: everything of the family goes out again.
        if old.local_v4.is_some() && v4.is_some() && old.local_v4 != v4 {
            queue_all::<V4>(self, slot);
        }
        if old.local_v6.is_some() && v6.is_some() && old.local_v6 != v6 {
            queue_all::<V6>(self, slot);
        }
        let mut out = Changes::default();
        self.done(&mut out);
        Ok(out)
    }

    /// ROUTE-REFRESH from `peer` (RFC 2918 §4: the speaker "re-advertise(s) to that peer the
    /// Adj-RIB-Out of the AFI/SAFI carried in the message"): queue the whole family again.
    pub fn route_refresh(&mut self, peer: PeerId, family: Family) -> Result<Changes, RibError> {
        let slot = self.shared.up_slot_of(peer)?;
        match family {
            Family::IPV4_UNICAST => {
                queue_all::<V4>(self, slot);
            }
            Family::IPV6_UNICAST => {
                queue_all::<V6>(self, slot);
            }
            _ => {}
        }
        let mut out = Changes::default();
        self.done(&mut out);
        Ok(out)
    }

    /// Originate `prefix` (a Pod CIDR): ORIGIN IGP, empty AS_PATH, our session address as
    /// next hop on export. It wins over learned routes and is never in [`FibChange`]s.
    ///
    /// [`FibChange`]: super::FibChange
    pub fn originate(&mut self, prefix: IpNet) -> Changes {
        let mut out = Changes::default();
        self.originate_one(prefix.trunc(), &mut out);
        self.done(&mut out);
        out
    }

    /// Stop originating `prefix`.
    pub fn withdraw_originated(&mut self, prefix: IpNet) -> Changes {
        let mut out = Changes::default();
        self.withdraw_one(prefix.trunc(), &mut out);
        self.done(&mut out);
        out
    }

    /// Make the originated set exactly `prefixes` (config reload).
    pub fn set_originated(&mut self, prefixes: Vec<IpNet>) -> Changes {
        let want: std::collections::BTreeSet<IpNet> = prefixes.iter().map(IpNet::trunc).collect();
        let mut out = Changes::default();
        let gone: Vec<IpNet> = self.shared.originated.difference(&want).copied().collect();
        for p in gone {
            self.withdraw_one(p, &mut out);
        }
        for p in want {
            if !self.shared.originated.contains(&p) {
                self.originate_one(p, &mut out);
            }
        }
        self.done(&mut out);
        out
    }

    /// Replace the next-hop resolver and re-run the decision everywhere.
    pub fn set_resolver(&mut self, resolver: Box<dyn NextHopResolver>) -> Changes {
        self.shared.next_hops = NextHopCache::new(resolver);
        self.redecide(|_| true)
    }

    /// The resolver's answer for `next_hops` changed: re-run the decision where they are used.
    pub fn next_hops_changed(&mut self, next_hops: &[IpAddr]) -> Changes {
        self.shared.next_hops.forget(next_hops);
        self.redecide_users(next_hops)
    }

    /// The resolver's view of the network changed (an interface, an address, a route of the
    /// kernel table): ask it again about every next hop in use, and re-run the decision where
    /// the answer changed: a path whose next hop became reachable competes again, one whose
    /// next hop went away stops competing, a changed interior cost is weighed again
    /// (RFC 4271 §9.1.2, §9.1.2.2 e).
    pub fn revalidate_next_hops(&mut self) -> Changes {
        let in_use = self.next_hops();
        let changed = self.shared.next_hops.revalidate(&in_use);
        self.redecide_users(&changed)
    }

    /// Re-runs the decision for the prefixes with a path through one of `next_hops`.
    fn redecide_users(&mut self, next_hops: &[IpAddr]) -> Changes {
        if next_hops.is_empty() {
            return Changes::default();
        }
        let set: std::collections::HashSet<IpAddr> = next_hops.iter().copied().collect();
        self.redecide(|d| uses_next_hop(d, &set))
    }

    /// The kernel watcher's news: `reachable` next hops now resolve (cost unknown),
    /// `unreachable` ones do not. These answers take precedence over the resolver until
    /// [`Rib::clear_next_hop_overrides`]. Re-runs the decision where they are used.
    pub fn set_next_hop_reachability(
        &mut self,
        reachable: &[IpAddr],
        unreachable: &[IpAddr],
    ) -> Changes {
        for nh in reachable {
            self.shared.overrides.insert(*nh, Resolution::Reachable { igp_cost: None });
        }
        for nh in unreachable {
            self.shared.overrides.insert(*nh, Resolution::Unreachable);
        }
        let changed: Vec<IpAddr> = reachable.iter().chain(unreachable).copied().collect();
        self.next_hops_changed(&changed)
    }

    /// Drop the answers of [`Rib::set_next_hop_reachability`]: the resolver decides again.
    pub fn clear_next_hop_overrides(&mut self) -> Changes {
        let changed: Vec<IpAddr> = self.shared.overrides.drain().map(|(nh, _)| nh).collect();
        self.next_hops_changed(&changed)
    }

    /// New router id, AS number and cluster id (a reload). The daemon resets the sessions
    /// they matter to (all of them for `router_id`/`local_as`, which every OPEN carries; the
    /// iBGP ones for `cluster_id`), so paths are learned again under the new loop checks
    /// (RFC 4271 §9.1.2 AS_PATH, RFC 4456 §8 ORIGINATOR_ID / CLUSTER_LIST) and exported
    /// with the new AS_PATH prepend and CLUSTER_LIST entry.
    pub fn set_identity(
        &mut self,
        router_id: std::net::Ipv4Addr,
        local_as: u32,
        cluster_id: std::net::Ipv4Addr,
    ) {
        let c = &mut self.shared.config;
        c.router_id = router_id;
        c.local_as = local_as;
        c.cluster_id = cluster_id;
        if let Some(local) = self.shared.peer_mut(LOCAL_SLOT) {
            local.info.router_id = router_id;
            local.info.asn = local_as;
        }
    }

    /// New ECMP width.
    pub fn set_max_paths(&mut self, max_paths: u16) -> Changes {
        self.shared.config.max_paths = max_paths.max(1);
        self.redecide(|d| d.paths().len() > 1)
    }

    fn redecide(&mut self, touch: impl Fn(&Dest) -> bool) -> Changes {
        let mut out = Changes::default();
        walk(&mut self.v4, &mut self.shared, &mut out, &touch, |_: V4, _, _| true);
        walk(&mut self.v6, &mut self.shared, &mut out, &touch, |_: V6, _, _| true);
        self.done(&mut out);
        out
    }

    fn originate_one(&mut self, prefix: IpNet, out: &mut Changes) {
        self.shared.originated.insert(prefix);
        let path =
            Path { attrs: self.shared.local_attrs.clone(), path_id: 0, slot: LOCAL_SLOT, flags: 0 };
        match (V4::from_net(&prefix), V6::from_net(&prefix)) {
            (Some(k), _) => upsert(&mut self.v4, &mut self.shared, out, k, path),
            (_, Some(k)) => upsert(&mut self.v6, &mut self.shared, out, k, path),
            _ => {}
        }
    }

    fn withdraw_one(&mut self, prefix: IpNet, out: &mut Changes) {
        if !self.shared.originated.remove(&prefix) {
            return;
        }
        match (V4::from_net(&prefix), V6::from_net(&prefix)) {
            (Some(k), _) => remove(&mut self.v4, &mut self.shared, out, k, LOCAL_SLOT, 0),
            (_, Some(k)) => remove(&mut self.v6, &mut self.shared, out, k, LOCAL_SLOT, 0),
            _ => {}
        }
    }

    /// Does `slot` hold stale paths (its counter, kept by every path entering or leaving)?
    fn has_stale(&self, slot: u16) -> bool {
        self.shared.peer(slot).is_some_and(|p| p.counts.stale > 0)
    }

    /// Take `slot` out of the export targets and drop its work list.
    fn stop_export(&mut self, slot: u16) {
        self.shared.up_slots.retain(|&s| s != slot);
        self.shared.refresh_exporters();
        if let Some(p) = self.shared.peer_mut(slot) {
            p.up = false;
            p.dirty4 = Vec::new();
            p.dirty6 = Vec::new();
            p.paging4 = Vec::new();
            p.paging6 = Vec::new();
            p.eor_pending.clear();
            p.counts.advertised = 0;
            p.unsendable.clear();
        }
    }

    /// Remove the paths of `slot` that `which` selects, in one pass over the family.
    fn drop_paths<K: FamilyKey>(
        &mut self,
        slot: u16,
        which: impl Fn(&Path) -> bool,
        out: &mut Changes,
    ) {
        let (table, shared) = K::split(self);
        let mine = |p: &Path| p.slot == slot && which(p);
        walk(
            table,
            shared,
            out,
            |d| d.paths().iter().any(mine),
            |_, d, shared| d.remove_where(mine, |p| shared.gone(p)),
        );
    }

    /// Re-judge the paths of `slot` with `import`.
    fn reimport<K: FamilyKey>(&mut self, slot: u16, import: &Policy, out: &mut Changes) {
        let (table, shared) = K::split(self);
        walk(
            table,
            shared,
            out,
            |d| d.paths().iter().any(|p| p.slot == slot),
            |key, d, shared| {
                let accept = import.accepts(&key.net());
                for p in d.paths_mut().iter_mut().filter(|p| p.slot == slot) {
                    if p.has(REJECTED) == accept {
                        shared.count_out(p);
                        p.set(REJECTED, !accept);
                        shared.count_in(p);
                    }
                }
                true
            },
        );
    }

    /// Queue the prefixes whose advertisement to `slot` differs between its old session
    /// facts `old` and the current ones.
    fn reexport<K: FamilyKey>(&mut self, slot: u16, old: &PeerInfo) {
        let (table, shared) = K::split(self);
        let Some(peer) = shared.peer_mut(slot) else { return };
        let mut dirty = std::mem::take(K::dirty(peer));
        let mut delta: i64 = 0;
        let mut requeued = Vec::new();
        if let Some(new) = shared.peer(slot).map(|p| &p.info) {
            for (key, dest) in &table.destinations {
                let Some(b) = dest.best() else { continue };
                let net = key.net();
                let was = exportable(&shared.peers, b.slot, &b.attrs, slot, old, K::FAMILY, &net);
                let is = exportable(&shared.peers, b.slot, &b.attrs, slot, new, K::FAMILY, &net);
                if was != is {
                    PeerSlot::queue(&mut dirty, *key);
                    requeued.push(net);
                    delta += i64::from(is) - i64::from(was);
                }
            }
        }
        if let Some(peer) = shared.peer_mut(slot) {
            *K::dirty(peer) = dirty;
            peer.counts.advertised = peer.counts.advertised.saturating_add_signed(delta);
            for net in &requeued {
                peer.requeued(net);
            }
        }
    }

    /// Forget a peer that is down and has no paths left.
    fn release_if_idle(&mut self, peer: PeerId, slot: u16) {
        if self.shared.peer(slot).is_some_and(|p| !p.up && p.counts.received == 0) {
            self.shared.peers[usize::from(slot)] = None;
            self.shared.slots.remove(&peer);
        }
    }
}

/// Mark the paths of `slot` in `dest` stale; returns how many were not already.
fn mark_stale(dest: &mut Dest, slot: u16) -> u64 {
    let mut n = 0;
    for p in dest.paths_mut().iter_mut().filter(|p| p.slot == slot && !p.has(STALE)) {
        p.set(STALE, true);
        n += 1;
    }
    n
}
