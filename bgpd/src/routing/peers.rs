//! The RIB task's book of neighbours: configured settings, the RIB's peer id, and the live
//! session (writer queue, encoding context) while Established.
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use bgp_core::rib::PeerId;
use bgp_core::wire::{Family, WireContext};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::messages::{PeerCommand, PeerKey, PeerSettings, UpdateSender};

/// An Established session as the RIB task sees it.
pub struct LiveSession {
    pub out: UpdateSender,
    pub tx: WireContext,
    pub families: Vec<Family>,
    pub control: mpsc::UnboundedSender<PeerCommand>,
    /// Encoded UPDATEs that did not fit the writer queue yet.
    pub backlog: VecDeque<Bytes>,
    /// Families for which the peer's End-of-RIB has arrived (RFC 4724 §4.2).
    pub eor_received: Vec<Family>,
    /// The peer's Graceful Restart capability on this session (RFC 4724 §3).
    pub peer_gr: Option<bgp_core::wire::GracefulRestartCap>,
    /// The peer exceeded its maximum-prefix warning threshold (logged once).
    pub warned_max_prefix: bool,
    /// Our address on the session, where the next hops not configured are derived from.
    pub local_address: IpAddr,
    /// Our next hop per family on the session, as the RIB has it.
    pub next_hops: super::next_hops::NextHops,
}

pub struct PeerEntry {
    pub id: PeerId,
    pub settings: PeerSettings,
    pub session: Option<LiveSession>,
    /// Routes kept stale after a graceful session loss (RFC 4724 §4.2) and since when: the
    /// first loss of a series; a later loss while routes are still stale does not restart it.
    pub stale_since: Option<tokio::time::Instant>,
    /// Restart time the peer announced (before our `max_restart_time` cap), for the stale
    /// timer.
    pub restart_time: u16,
}

#[derive(Default)]
pub struct Peers {
    by_addr: HashMap<PeerKey, PeerEntry>,
    by_id: HashMap<PeerId, PeerKey>,
    next_id: u32,
}

impl Peers {
    pub fn configure(&mut self, addr: PeerKey, settings: PeerSettings) -> &mut PeerEntry {
        let id = PeerId(self.next_id);
        let entry = self.by_addr.entry(addr).or_insert_with(|| PeerEntry {
            id,
            settings: settings.clone(),
            session: None,
            stale_since: None,
            restart_time: 0,
        });
        if entry.id == id {
            self.next_id += 1;
            self.by_id.insert(id, addr);
        }
        entry.settings = settings;
        entry
    }

    pub fn get(&self, addr: &PeerKey) -> Option<&PeerEntry> {
        self.by_addr.get(addr)
    }

    pub fn get_mut(&mut self, addr: &PeerKey) -> Option<&mut PeerEntry> {
        self.by_addr.get_mut(addr)
    }

    pub fn remove(&mut self, addr: &PeerKey) -> Option<PeerEntry> {
        let entry = self.by_addr.remove(addr)?;
        self.by_id.remove(&entry.id);
        Some(entry)
    }

    pub fn address_of(&self, id: PeerId) -> Option<IpAddr> {
        self.by_id.get(&id).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&PeerKey, &PeerEntry)> {
        self.by_addr.iter()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&PeerKey, &mut PeerEntry)> {
        self.by_addr.iter_mut()
    }
}
