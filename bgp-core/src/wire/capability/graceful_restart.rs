//! Graceful restart capability (RFC 4724 §3, with the RFC 8538 N bit).
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u8};
use nom::{IResult, Parser};
use serde::Serialize;

use super::tlv::exact_list;
use crate::wire::family::Family;

/// RFC 4724 §3.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct GracefulRestartCap {
    /// R bit: the sender has restarted.
    pub restart_state: bool,
    /// N bit: RFC 8538 Notification-GR support.
    pub notification: bool,
    /// Restart time in seconds (12 bits).
    pub restart_time: u16,
    /// Per family: the F bit (forwarding state preserved).
    pub families: Vec<(Family, bool)>,
}

/// RFC 4724 §3 Restart Flags (top 4 bits of the first 2 octets): R bit.
const GR_FLAG_RESTART_STATE: u16 = 0x8000;
/// RFC 8538 §2: N bit, the second most significant bit of the Restart Flags.
const GR_FLAG_NOTIFICATION: u16 = 0x4000;
/// Restart Time is the low 12 bits.
const GR_RESTART_TIME_MASK: u16 = 0x0fff;
/// RFC 4724 §3 Flags for Address Family: the most significant bit is the F bit.
const GR_FAMILY_FORWARDING: u8 = 0x80;

fn graceful_restart_family(input: &[u8]) -> IResult<&[u8], (Family, bool)> {
    let (input, (afi, safi, flags)) = (be_u16, be_u8, be_u8).parse(input)?;
    Ok((input, (Family::new(afi, safi), flags & GR_FAMILY_FORWARDING != 0)))
}

impl GracefulRestartCap {
    /// Decode a capability value: Restart Flags (4 bits), Restart Time (12 bits), then 4-octet
    /// <AFI, SAFI, Flags for Address Family> tuples. `None` when the length is not 2 + 4n.
    pub(super) fn decode(value: &[u8]) -> Option<GracefulRestartCap> {
        let (rest, flags) = be_u16::<_, nom::error::Error<&[u8]>>(value).ok()?;
        let families = exact_list(rest, 4, graceful_restart_family)?;
        Some(GracefulRestartCap {
            restart_state: flags & GR_FLAG_RESTART_STATE != 0,
            notification: flags & GR_FLAG_NOTIFICATION != 0,
            restart_time: flags & GR_RESTART_TIME_MASK,
            families,
        })
    }

    /// Append the capability value.
    pub(super) fn encode(&self, out: &mut BytesMut) {
        let mut flags = self.restart_time & GR_RESTART_TIME_MASK;
        if self.restart_state {
            flags |= GR_FLAG_RESTART_STATE;
        }
        if self.notification {
            flags |= GR_FLAG_NOTIFICATION;
        }
        out.put_u16(flags);
        for (family, forwarding) in &self.families {
            out.put_u16(family.afi);
            out.put_u8(family.safi);
            out.put_u8(if *forwarding { GR_FAMILY_FORWARDING } else { 0 });
        }
    }
}
