//! Import: an UPDATE from a peer into its Adj-RIB-In and the Loc-RIB (RFC 4271 §9, §9.1.2),
//! with the AS_PATH checks that need the session (`as_path_check`: RFC 5065 §5.3,
//! enforce-first-AS), the loop checks of RFC 4271 §9.1.2 and RFC 4456 §8 and the peer's
//! import policy.
use std::net::IpAddr;
use std::sync::Arc;

use super::as_path_check::{check_as_path, MalformedAsPath};
use super::attrs::Attrs;
use super::core::{remove, upsert, WARM_BATCH};
use super::decision::DEFAULT_LOCAL_PREF;
use super::path::{Path, REJECTED};
use super::prefix::{V4, V6};
use super::{Changes, FamilyKey, PeerId, Rib, RibConfig, RibError};
use crate::wire::{Family, MpNextHop, Nlri, PathAttributes, Update};

/// Why an UPDATE's routes are dropped before policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loop {
    /// Our AS in the AS_PATH of a route from an external peer.
    AsPath,
    /// RFC 4456 §8: our router id as ORIGINATOR_ID.
    OriginatorId,
    /// RFC 4456 §8: our CLUSTER_ID in the CLUSTER_LIST.
    ClusterList,
}

/// The loop checks on one UPDATE's attributes.
pub(crate) fn loop_check(
    config: &RibConfig,
    attrs: &PathAttributes,
    ibgp: bool,
    allow_local_as: u8,
) -> Option<Loop> {
    // RFC 4271 §9.1.2: "If the AS_PATH attribute of a BGP route contains an AS loop, the BGP
    // route should be excluded from the Phase 2 decision function. AS loop detection is done
    // by scanning the full AS path (as specified in the AS_PATH attribute), and checking that
    // the autonomous system number of the local system does not appear in the AS path."
    // A peer may be allowed our AS `allow_local_as` times (BIRD's `allow local as`).
    let own = |p: &crate::wire::AsPath| p.count(config.local_as) > usize::from(allow_local_as);
    if !ibgp && attrs.as_path.as_ref().is_some_and(own) {
        return Some(Loop::AsPath);
    }
    // RFC 4456 §8: "A router that recognizes the ORIGINATOR_ID attribute SHOULD ignore a
    // route received with its BGP Identifier as the ORIGINATOR_ID."
    if attrs.originator_id == Some(config.router_id) {
        return Some(Loop::OriginatorId);
    }
    // RFC 4456 §8: "When an RR receives a route from an IBGP peer, it SHOULD check the
    // CLUSTER_LIST. If the local CLUSTER_ID is found in the CLUSTER_LIST, the advertisement
    // received SHOULD be ignored."
    if attrs.cluster_list.contains(&config.cluster_id) {
        return Some(Loop::ClusterList);
    }
    None
}

/// The attributes as stored for a route from a peer.
fn normalize(mut attrs: PathAttributes, ibgp: bool) -> PathAttributes {
    if !ibgp {
        // RFC 4271 §5.1.5: LOCAL_PREF "received from an external peer [...] MUST be ignored
        // by the receiving speaker"; the degree of preference of an external route is our
        // default (RFC 4271 §9.1.1 leaves it to policy; ours has no knob).
        attrs.local_pref = Some(DEFAULT_LOCAL_PREF);
        // ORIGINATOR_ID and CLUSTER_LIST are optional non-transitive and mean nothing
        // outside the AS that set them (RFC 4456 §8).
        attrs.originator_id = None;
        attrs.cluster_list.clear();
    }
    attrs
}

/// Why the announcements of an UPDATE are not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refused {
    Loop(Loop),
    /// RFC 7606 §7.2 treat-as-withdraw.
    Malformed(MalformedAsPath),
}

/// The prefixes of one family that one UPDATE announces, with their interned attributes or
/// why they are dropped.
struct Announced<'a> {
    nlri: &'a [Nlri],
    attrs: Result<Arc<Attrs>, Refused>,
}

impl Rib {
    /// Apply an UPDATE received from `peer`: withdrawals and announcements of IPv4 and IPv6
    /// unicast, classic and MP_REACH/MP_UNREACH, ADD-PATH ids kept per path. An End-of-RIB
    /// marker (RFC 4724 §2) ends the peer's graceful-restart refresh of that family.
    /// RFC 7606 treat-as-withdraw UPDATEs arrive from the codec already as withdrawals.
    pub fn apply_update(&mut self, peer: PeerId, update: &Update) -> Result<Changes, RibError> {
        let slot = self.shared.up_slot_of(peer)?;
        if let Some(family) = update.end_of_rib_family() {
            return self.end_of_rib(peer, family);
        }
        let mut out = Changes::default();
        let (ibgp, allow_local_as, families, malformed) = match self.shared.peer(slot) {
            Some(p) => (
                p.info.ibgp,
                p.info.allow_local_as,
                p.info.families.clone(),
                check_as_path(update.attributes.as_path.as_ref(), &p.info),
            ),
            None => return Err(RibError::UnknownPeer(peer)),
        };
        let wants = |f: Family| families.contains(&f);
        // Reported only when announcements of a negotiated family are treated as withdrawn:
        // an UPDATE of a family the session does not carry withdraws nothing.
        let announces = (!update.nlri.is_empty()
            && wants(Family::IPV4_UNICAST)
            && update.attributes.next_hop.is_some())
            || update.mp_reach.as_ref().is_some_and(|r| !r.nlri.is_empty() && wants(r.family));
        out.malformed_as_path = malformed.filter(|_| announces);

        // Withdrawals first (RFC 4271 §4.3 lists them before the NLRI).
        if wants(Family::IPV4_UNICAST) {
            self.withdraw::<V4>(slot, &update.withdrawn, &mut out);
        }
        if let Some(u) = &update.mp_unreach {
            if wants(u.family) {
                self.withdraw_family(slot, u.family, &u.withdrawn, &mut out);
            }
        }

        if !update.nlri.is_empty() && wants(Family::IPV4_UNICAST) {
            match update.attributes.next_hop {
                Some(nh) => {
                    let next_hop = MpNextHop { global: IpAddr::V4(nh), link_local: None };
                    let a = self.announced(
                        &update.attributes,
                        next_hop,
                        (ibgp, allow_local_as, malformed),
                        &update.nlri,
                    );
                    self.announce::<V4>(slot, a, &mut out);
                }
                // The codec reports a missing NEXT_HOP as treat-as-withdraw, so this is only
                // a hand-built UPDATE; withdrawing is the RFC 7606 answer.
                None => self.withdraw::<V4>(slot, &update.nlri, &mut out),
            }
        }
        if let Some(r) = &update.mp_reach {
            if wants(r.family) {
                let checks = (ibgp, allow_local_as, malformed);
                let a = self.announced(&update.attributes, r.next_hop, checks, &r.nlri);
                match r.family {
                    Family::IPV4_UNICAST => self.announce::<V4>(slot, a, &mut out),
                    Family::IPV6_UNICAST => self.announce::<V6>(slot, a, &mut out),
                    _ => {}
                }
            }
        }
        self.done(&mut out);
        Ok(out)
    }

    fn announced<'a>(
        &mut self,
        attrs: &PathAttributes,
        next_hop: MpNextHop,
        (ibgp, allow_local_as, malformed): (bool, u8, Option<MalformedAsPath>),
        nlri: &'a [Nlri],
    ) -> Announced<'a> {
        let refused = match malformed {
            Some(m) => Some(Refused::Malformed(m)),
            None => loop_check(&self.shared.config, attrs, ibgp, allow_local_as).map(Refused::Loop),
        };
        let attrs = match refused {
            Some(r) => Err(r),
            None => Ok(self
                .shared
                .interner
                .intern(Attrs::new(normalize(attrs.clone(), ibgp), next_hop))),
        };
        Announced { nlri, attrs }
    }

    fn withdraw_family(&mut self, slot: u16, family: Family, nlri: &[Nlri], out: &mut Changes) {
        match family {
            Family::IPV4_UNICAST => self.withdraw::<V4>(slot, nlri, out),
            Family::IPV6_UNICAST => self.withdraw::<V6>(slot, nlri, out),
            _ => {}
        }
    }

    fn withdraw<K: FamilyKey>(&mut self, slot: u16, nlri: &[Nlri], out: &mut Changes) {
        let (table, shared) = K::split(self);
        for chunk in nlri.chunks(WARM_BATCH) {
            table.warm(chunk.iter().filter_map(|n| K::from_net(&n.prefix)));
            for n in chunk {
                if let Some(key) = K::from_net(&n.prefix) {
                    remove(table, shared, out, key, slot, n.path_id.unwrap_or(0));
                }
            }
        }
    }

    fn announce<K: FamilyKey>(&mut self, slot: u16, a: Announced<'_>, out: &mut Changes) {
        let (table, shared) = K::split(self);
        let attrs = match a.attrs {
            Ok(attrs) => attrs,
            Err(why) => {
                // Dropped: an earlier route for the same NLRI is implicitly withdrawn (for a
                // malformed AS_PATH, RFC 7606 §2 treat-as-withdraw says so explicitly).
                if let Some(p) = shared.peer_mut(slot) {
                    let counter = match why {
                        Refused::Loop(_) => &mut p.counts.looped,
                        Refused::Malformed(_) => &mut p.counts.malformed_as_path,
                    };
                    *counter += a.nlri.len() as u64;
                }
                for n in a.nlri {
                    if let Some(key) = K::from_net(&n.prefix) {
                        remove(table, shared, out, key, slot, n.path_id.unwrap_or(0));
                    }
                }
                return;
            }
        };
        let Some(policy) = shared.peer(slot).map(|p| p.info.import.clone()) else { return };
        for chunk in a.nlri.chunks(WARM_BATCH) {
            table.warm(chunk.iter().filter_map(|n| K::from_net(&n.prefix)));
            for n in chunk {
                let Some(key) = K::from_net(&n.prefix) else { continue };
                let flags = if policy.accepts(&n.prefix) { 0 } else { REJECTED };
                let path =
                    Path { attrs: attrs.clone(), path_id: n.path_id.unwrap_or(0), slot, flags };
                upsert(table, shared, out, key, path);
            }
        }
        shared.graveyard.push(attrs);
    }
}
