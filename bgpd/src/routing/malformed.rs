//! UPDATEs the RIB treated as withdrawn for a malformed AS_PATH it found with the session's
//! facts (RFC 5065 §5.3 confederation segments, RFC 4271 §6.3 enforce-first-AS; RFC 7606
//! §7.2 treat-as-withdraw): logged like the codec's RFC 7606 cases and counted in the same
//! `bgpd_updates_treated_as_withdraw_total`.
use bgp_core::rib::MalformedAsPath;
use tracing::warn;

use super::input::PeerKey;
use super::task::RibTask;

impl RibTask {
    pub(super) fn report_malformed_as_path(&self, peer: PeerKey, why: MalformedAsPath) {
        warn!(neighbor = %peer, reason = %why, "RFC 7606: malformed AS_PATH, the UPDATE's routes are treated as withdrawn");
        self.metrics.treat_as_withdraw.with_label_values(&[&peer.to_string()]).inc();
    }
}
