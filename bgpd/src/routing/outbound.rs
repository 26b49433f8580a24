//! Outgoing UPDATEs: each dirty peer's Adj-RIB-Out changes are encoded (grouped by attribute
//! set, as few messages as the session's maximum size allows) and pushed into its bounded
//! writer queue. What does not fit waits in a per-peer backlog until the writer reports the
//! queue drained, and no further batch is generated for that peer meanwhile: a slow peer holds
//! at most one batch, and never slows the others.
use std::time::Instant;

use bgp_core::rib::{Encoded, PeerId};
use bgp_core::wire::notification::codes;
use bgp_core::wire::EncodeError;
use bgp_core::wire::{Family, Notification};
use bytes::{BufMut, BytesMut};
use tracing::{debug, warn};

use super::task::RibTask;
use crate::log_limit::{LogLimiter, Verdict};
use crate::messages::{PeerCommand, PeerKey};
use crate::metrics::Metrics;

/// Size of the chunks queued to a writer.
const CHUNK: usize = 64 * 1024;
/// Prefixes taken from the Adj-RIB-Out work list at a time: a blocked peer holds at most
/// one page of encoded UPDATEs (about 200 KiB of IPv4 /24s).
const PREFIXES_PER_BATCH: usize = 50_000;

/// RFC 4271 §9.2: a route that does not fit a message "MUST NOT" be advertised, and the
/// speaker "MAY choose to log an error locally": we log each attribute set left out (the
/// encoder has withdrawn its prefixes instead; rate-limited per neighbour, as every
/// re-export of the route would log it again) and count the prefixes.
pub(super) fn report_unsendable(
    addr: &PeerKey,
    encoded: &Encoded,
    metrics: &Metrics,
    log: &mut LogLimiter<PeerKey>,
) {
    for u in &encoded.unsendable {
        let decision = log.check(*addr, Instant::now());
        if let Some(n) = decision.summary {
            warn!(suppressed = n, "unsendable-route log lines suppressed in the last minute");
        }
        let Verdict::Log { suppressed } = decision.verdict else { continue };
        let first = u.nlri.first().map(|n| n.prefix.to_string()).unwrap_or_default();
        match u.error {
            EncodeError::MessageTooLong { .. } => {
                warn!(neighbor = %addr, family = %u.family, prefixes = u.nlri.len(), first = %first,
                      error = %u.error, suppressed, "route too large for this session once our attributes are added: withdrawn instead of announced")
            }
            EncodeError::FieldTooLong(_) => {
                warn!(neighbor = %addr, family = %u.family, prefixes = u.nlri.len(), first = %first,
                      error = %u.error, suppressed, "route cannot be encoded for this session: withdrawn instead of announced")
            }
        }
    }
    let n = encoded.unsendable_len();
    if n > 0 {
        metrics.routes_unsendable.with_label_values(&[addr.to_string()]).inc_by(n as u64);
    }
}

impl RibTask {
    /// Push output for every dirty peer.
    pub(super) fn flush(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        for id in dirty {
            self.pump(id);
        }
    }

    /// Send the peer's pending work until done or its writer queue is full (then the
    /// writer's drained callback marks it dirty again).
    fn pump(&mut self, id: PeerId) {
        let Some(addr) = self.peers.address_of(id) else { return };
        while self.push_backlog(&addr) && self.rib.has_pending(id) && self.encode_batch(id, &addr) {
        }
    }

    /// Encode the next page of the peer's Adj-RIB-Out work into its backlog; `false` when
    /// there was nothing to send.
    fn encode_batch(&mut self, id: PeerId, addr: &PeerKey) -> bool {
        let addr = *addr;
        let batch = match self.rib.pending_updates_max(id, PREFIXES_PER_BATCH) {
            Ok(b) => b,
            Err(e) => {
                debug!(neighbor = %addr, error = %e, "no updates");
                return false;
            }
        };
        if batch.is_empty() {
            return false;
        }
        let Some(entry) = self.peers.get_mut(&addr) else { return false };
        let Some(session) = entry.session.as_mut() else { return false };
        let mut buf = BytesMut::with_capacity(4096);
        let messages = match batch.encode(&session.tx, &mut buf) {
            Ok(encoded) => {
                report_unsendable(&addr, &encoded, &self.metrics, &mut self.unsendable_log);
                // Not in the Adj-RIB-Out: the advertised count and views leave them out.
                self.rib.set_unsendable(id, &encoded.unsendable);
                encoded.messages
            }
            Err(e) => {
                warn!(neighbor = %addr, error = %e, "cannot encode UPDATEs");
                0
            }
        };
        if !batch.end_of_rib.is_empty() {
            debug!(neighbor = %addr, families = ?batch.end_of_rib, "End-of-RIB sent");
        }
        let label = [addr.to_string()];
        self.metrics.updates_sent.with_label_values(&label).inc_by(messages as u64);
        self.metrics
            .messages_sent
            .with_label_values(&[label[0].as_str(), "update"])
            .inc_by(messages as u64);
        let mut bytes = buf.freeze();
        while !bytes.is_empty() {
            let n = bytes.len().min(CHUNK);
            session.backlog.push_back(bytes.split_to(n));
        }
        true
    }

    /// Move the backlog into the writer queue; `false` when it is still blocked.
    fn push_backlog(&mut self, addr: &PeerKey) -> bool {
        let Some(session) = self.peers.get_mut(addr).and_then(|e| e.session.as_mut()) else {
            return true;
        };
        while let Some(chunk) = session.backlog.pop_front() {
            if let Err(chunk) = session.out.try_send(chunk) {
                if session.out.is_closed() {
                    session.backlog.clear();
                    return true;
                }
                session.backlog.push_front(chunk);
                return false;
            }
        }
        true
    }

    /// RFC 4486 §4: maximum number of prefixes. At the warning threshold, log once; beyond
    /// the limit, send Cease / Maximum Number of Prefixes Reached with the data "AFI (2
    /// octets), SAFI (1 octet), and the prefix upper bound (4 octets)", and keep the session
    /// down (until `restart_after`, or until an operator resets it).
    pub(super) fn check_max_prefixes(&mut self, addr: PeerKey) {
        let Some(entry) = self.peers.get_mut(&addr) else { return };
        let Some(limit) = entry.settings.max_prefixes else { return };
        let Some(counts) = self.rib.peer_counts(entry.id) else { return };
        let Some(session) = entry.session.as_mut() else { return };
        let received = counts.received;
        let warn_at = u64::from(limit.limit) * u64::from(limit.warning_percent) / 100;
        if received >= warn_at && !session.warned_max_prefix {
            session.warned_max_prefix = true;
            warn!(neighbor = %addr, received, limit = limit.limit, "prefix count at the warning threshold");
        }
        if received <= u64::from(limit.limit) {
            return;
        }
        warn!(neighbor = %addr, received, limit = limit.limit, "maximum prefixes exceeded: closing the session");
        let family = session.families.first().copied().unwrap_or(Family::IPV4_UNICAST);
        let mut data = BytesMut::with_capacity(7);
        data.put_u16(family.afi);
        data.put_u8(family.safi);
        data.put_u32(limit.limit);
        let notification = Notification {
            code: codes::CEASE,
            subcode: codes::CEASE_MAX_PREFIXES,
            data: data.freeze(),
        };
        let control = session.control.clone();
        let _ = control.send(PeerCommand::AutomaticStop(notification));
        // The session holds itself down and arms `restart_after` (peer/prefix_limit.rs), so
        // that an operator's shutdown meanwhile is not undone by the timer.
        let _ = control
            .send(PeerCommand::Stop { subcode: codes::CEASE_MAX_PREFIXES, message: String::new() });
    }
}
