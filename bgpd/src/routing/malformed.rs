//! UPDATEs the RIB treated as withdrawn for a malformed AS_PATH it found with the session's
//! facts (RFC 5065 §5.3 confederation segments, RFC 4271 §6.3 enforce-first-AS; RFC 7606
//! §7.2 treat-as-withdraw): logged like the codec's RFC 7606 cases (rate-limited per
//! neighbour: the neighbour can send such UPDATEs at will) and counted in
//! `bgpd_malformed_as_path_total`. They count in `bgpd_updates_treated_as_withdraw_total`
//! too, unless the session already counted that UPDATE there for an issue the codec found.
use std::time::{Duration, Instant};

use bgp_core::rib::MalformedAsPath;
use tracing::warn;

use super::task::RibTask;
use crate::log_limit::{LogLimiter, Verdict};
use crate::messages::PeerKey;

/// One line per neighbour per minute, at most this many lines a minute in all.
const LINES_PER_MINUTE: u32 = 20;
/// Neighbours whose suppressed lines are remembered.
const SOURCES: usize = 1024;

/// The log limiter of one kind of line an outside party can repeat at will.
pub(super) fn per_neighbour_log_limit() -> LogLimiter<PeerKey> {
    LogLimiter::new(Duration::from_secs(60), LINES_PER_MINUTE, SOURCES)
}

impl RibTask {
    /// `codec_counted`: the session counted this UPDATE as treat-as-withdraw already (the
    /// codec reported an RFC 7606 issue in it).
    pub(super) fn report_malformed_as_path(
        &mut self,
        peer: PeerKey,
        why: MalformedAsPath,
        codec_counted: bool,
    ) {
        let label = peer.to_string();
        self.metrics.malformed_as_path.with_label_values(&[&label]).inc();
        if !codec_counted {
            self.metrics.treat_as_withdraw.with_label_values(&[&label]).inc();
        }
        let decision = self.malformed_log.check(peer, Instant::now());
        if let Some(n) = decision.summary {
            warn!(suppressed = n, "malformed-AS_PATH log lines suppressed in the last minute");
        }
        if let Verdict::Log { suppressed } = decision.verdict {
            warn!(neighbor = %peer, reason = %why, suppressed, "RFC 7606: malformed AS_PATH, the UPDATE's routes are treated as withdrawn");
        }
    }
}

/// The log lines written while `f` runs (tests).
#[cfg(test)]
pub(super) fn captured_logs(f: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = sink.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    String::from_utf8_lossy(&bytes).into_owned()
}
