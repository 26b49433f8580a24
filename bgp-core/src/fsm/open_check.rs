//! Our OPEN, built from the configuration, and the checks of the peer's OPEN that need the
//! configuration (the codec already checked version, hold time 1-2 and identifier 0.0.0.0;
//! they are checked again here so a hand-built `Open` gets the same treatment).
use bytes::{Bytes, BytesMut};

use crate::wire::capability::Capability;
use crate::wire::open::BGP_VERSION;
use crate::wire::{DecodeError, GracefulRestartCap, Open, OptionalParameter};

use super::config::FsmConfig;

/// RFC 4724 §3: Restart Time is a 12-bit field.
const MAX_RESTART_TIME: u16 = 0x0fff;

/// The OPEN we send (RFC 4271 §4.2), capabilities in code order (RFC 5492).
///
/// "My Autonomous System" is our AS, or AS_TRANS when it does not fit 2 octets (RFC 6793 §4.1:
/// "the NEW BGP speaker ... MUST ... use AS_TRANS"); the 4-octet AS capability is announced
/// when configured and always when the AS needs it. A configured hold time of 1 or 2 (which
/// config validation refuses) is raised to 3, so we never send an OPEN the peer must reject.
pub fn local_open(config: &FsmConfig) -> Open {
    let caps = &config.capabilities;
    let mut out = Vec::new();
    // RFC 4760 §8: one Multiprotocol capability per <AFI, SAFI>.
    out.extend(caps.families.iter().map(|f| Capability::Multiprotocol(*f)));
    if caps.route_refresh {
        out.push(Capability::RouteRefresh);
    }
    if !caps.extended_next_hop.is_empty() {
        out.push(Capability::ExtendedNextHop(caps.extended_next_hop.clone()));
    }
    if caps.extended_message {
        out.push(Capability::ExtendedMessage);
    }
    if let Some(gr) = &caps.graceful_restart {
        out.push(Capability::GracefulRestart(GracefulRestartCap {
            restart_state: gr.restart_state,
            notification: gr.notification,
            restart_time: gr.restart_time.min(MAX_RESTART_TIME),
            families: caps.families.iter().map(|f| (*f, gr.forwarding_state)).collect(),
        }));
    }
    if caps.four_octet_as || config.local_as > u32::from(u16::MAX) {
        out.push(Capability::FourOctetAs(config.local_as));
    }
    if !caps.add_path.is_empty() {
        out.push(Capability::AddPath(caps.add_path.clone()));
    }
    if caps.enhanced_route_refresh {
        out.push(Capability::EnhancedRouteRefresh);
    }
    if let Some(hostname) = &caps.hostname {
        out.push(Capability::Fqdn { hostname: hostname.clone(), domain: caps.domain.clone() });
    }
    let hold_time = match config.hold_time {
        1 | 2 => 3,
        h => h,
    };
    Open::new(config.local_as, hold_time, config.router_id, out)
}

/// Check the peer's OPEN against the configuration (RFC 4271 §6.2, RFC 5492 §5, RFC 6286,
/// RFC 6793, RFC 7607). The error converts into the NOTIFICATION to send.
pub fn check_peer_open(config: &FsmConfig, peer: &Open) -> Result<(), DecodeError> {
    // RFC 4271 §6.2: "If the version number in the Version field of the received OPEN
    // message is not supported, then the Error Subcode MUST be set to Unsupported Version
    // Number."
    if peer.version != BGP_VERSION {
        return Err(DecodeError::UnsupportedVersion(peer.version));
    }
    check_peer_as(config, peer)?;
    check_identifier(config, peer)?;
    // RFC 4271 §6.2: "An implementation MUST reject Hold Time values of one or two seconds."
    if peer.hold_time == 1 || peer.hold_time == 2 {
        return Err(DecodeError::UnacceptableHoldTime(peer.hold_time));
    }
    // RFC 4271 §6.2: "If one of the Optional Parameters in the OPEN message is not
    // recognized, then the Error Subcode MUST be set to Unsupported Optional Parameters."
    if let Some(OptionalParameter::Unknown { param_type, .. }) =
        peer.params.iter().find(|p| matches!(p, OptionalParameter::Unknown { .. }))
    {
        return Err(DecodeError::UnsupportedOptionalParameter(*param_type));
    }
    check_required_capabilities(config, peer)
}

/// RFC 4271 §6.2: "If the Autonomous System field of the OPEN message is unacceptable, then
/// the Error Subcode MUST be set to Bad Peer AS."
///
/// The peer's AS is the 4-octet AS capability when present, else "My Autonomous System"
/// (RFC 6793 §4.1; a peer without the capability whose AS is large shows up as AS_TRANS and
/// is refused unless configured so). AS 0 is refused (RFC 7607 §2: "If a BGP speaker receives
/// zero as the peer AS in an OPEN message, it MUST abort the connection and send a
/// NOTIFICATION with Error Code 'OPEN Message Error' and subcode 'Bad Peer AS'"). Like BIRD,
/// a "My Autonomous System" that disagrees with the capability is tolerated.
fn check_peer_as(config: &FsmConfig, peer: &Open) -> Result<(), DecodeError> {
    let asn = peer.asn();
    if asn == 0 || asn != config.remote_as {
        return Err(DecodeError::BadPeerAs);
    }
    Ok(())
}

/// RFC 4271 §6.2: "If the BGP Identifier field of the OPEN message is syntactically
/// incorrect, then the Error Subcode MUST be set to Bad BGP Identifier." RFC 6286 §2.2: the
/// identifier is a non-zero 4-octet value, and an internal peer's must differ from ours
/// (an external peer may share it: the AS numbers break collision ties, RFC 6286 §2.3).
fn check_identifier(config: &FsmConfig, peer: &Open) -> Result<(), DecodeError> {
    if peer.bgp_id.is_unspecified() || (config.is_ibgp() && peer.bgp_id == config.router_id) {
        return Err(DecodeError::BadBgpIdentifier);
    }
    Ok(())
}

/// RFC 5492 §5: "If a BGP speaker that supports a certain capability determines that its
/// peer doesn't support this capability, the speaker MAY send a NOTIFICATION message to the
/// peer and terminate peering ... The Error Subcode in the message is set to Unsupported
/// Capability. The message MUST contain the capability or capabilities that causes the
/// speaker to send the message." The data is our own announcement of each missing capability
/// (code + length 0 when we do not announce it ourselves).
fn check_required_capabilities(config: &FsmConfig, peer: &Open) -> Result<(), DecodeError> {
    let missing: Vec<u8> = config
        .capabilities
        .required
        .iter()
        .copied()
        .filter(|code| !peer.capabilities().any(|c| c.code() == *code))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let ours = local_open(config);
    let mut data = BytesMut::new();
    for code in missing {
        let mut announced = false;
        for cap in ours.capabilities().filter(|c| c.code() == code) {
            announced |= cap.encode(&mut data).is_ok();
        }
        if !announced {
            data.extend_from_slice(&[code, 0]);
        }
    }
    Err(DecodeError::UnsupportedCapability(Bytes::from(data)))
}
