//! AS_PATH checks that need the session a route came on, so the codec cannot make them:
//! confederation segments from outside our confederation, and enforce-first-AS.
//!
//! Both make the AS_PATH malformed, and RFC 7606 §7.2 says an UPDATE "with a malformed
//! AS_PATH attribute SHALL be handled using the approach of "treat-as-withdraw"": the routes
//! of the UPDATE are withdrawn (an earlier route for the same prefix from that peer is
//! removed), the session stays up. The RIB counts them in `PeerCounts::malformed_as_path` and
//! reports each such UPDATE in `Changes::malformed_as_path` for the daemon to log.
use serde::Serialize;

use super::peer::PeerInfo;
use crate::wire::{AsPath, SegmentType};

/// Why an AS_PATH is malformed for the session it came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MalformedAsPath {
    /// AS_CONFED_SEQUENCE or AS_CONFED_SET from a neighbour outside our confederation.
    ConfederationSegment,
    /// From an external peer, the leftmost AS is not the peer's (`None`: the path is empty or
    /// starts with an AS_SET).
    FirstAsNotPeer { peer_as: u32, first: Option<u32> },
}

impl std::fmt::Display for MalformedAsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MalformedAsPath::ConfederationSegment => f.write_str(
                "AS_PATH has confederation segments, and this neighbour is not in our \
                 confederation (we are in none, RFC 5065 §5.3)",
            ),
            MalformedAsPath::FirstAsNotPeer { peer_as, first: Some(first) } => write!(
                f,
                "AS_PATH starts with AS {first}, not the neighbour's AS {peer_as} \
                 (enforce_first_as, RFC 4271 §6.3)"
            ),
            MalformedAsPath::FirstAsNotPeer { peer_as, first: None } => write!(
                f,
                "AS_PATH does not start with the neighbour's AS {peer_as} \
                 (enforce_first_as, RFC 4271 §6.3)"
            ),
        }
    }
}

/// Check the AS_PATH of a route received from the peer `info` (a missing AS_PATH is the
/// codec's business: it reports it as treat-as-withdraw already).
pub(crate) fn check_as_path(path: Option<&AsPath>, info: &PeerInfo) -> Option<MalformedAsPath> {
    let path = path?;
    // RFC 5065 §5.3: "It is a error for a BGP speaker to receive an UPDATE message with an
    // AS_PATH attribute that contains AS_CONFED_SEQUENCE or AS_CONFED_SET path segments from
    // a neighbor that is not located in the same confederation. If a BGP speaker receives
    // such an UPDATE message, it SHALL treat the message as having a malformed AS_PATH
    // according to the procedures of [RFC7606]". We are not a confederation member, so no
    // neighbour, internal or external, is in our confederation.
    if path.segments.iter().any(|s| s.seg_type.is_confed()) {
        return Some(MalformedAsPath::ConfederationSegment);
    }
    // RFC 4271 §6.3: "If the UPDATE message is received from an external peer, the local
    // system MAY check whether the leftmost (with respect to the position of octets in the
    // protocol message) AS in the AS_PATH attribute is equal to the autonomous system number
    // of the peer that sent the message. If the check determines this is not the case, the
    // error is treated as Malformed AS_PATH." On by default (as FRR and Cisco); a route
    // server, which does not put its AS in the path, needs it off.
    if !info.ibgp && info.enforce_first_as {
        let first = match path.segments.first() {
            Some(s) if s.seg_type == SegmentType::AsSequence => s.asns.first().copied(),
            _ => None,
        };
        if first != Some(info.asn) {
            return Some(MalformedAsPath::FirstAsNotPeer { peer_as: info.asn, first });
        }
    }
    None
}
