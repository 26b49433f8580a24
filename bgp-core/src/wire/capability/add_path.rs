//! ADD-PATH capability (RFC 7911 §4): per family, whether several paths may be sent, received
//! or both.
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u8};
use nom::{IResult, Parser};
use serde::Serialize;

use super::tlv::exact_list;
use crate::wire::family::Family;

/// RFC 7911 §4 Send/Receive field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AddPathMode {
    /// 1: the sender can receive several paths.
    Receive = 1,
    /// 2: the sender can send several paths.
    Send = 2,
    /// 3: both.
    Both = 3,
}

/// RFC 7911 §4: AFI (2), SAFI (1), Send/Receive (1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AddPathEntry {
    /// The family this entry is about.
    pub family: Family,
    /// What the sender can do for `family`.
    pub mode: AddPathMode,
}

impl AddPathMode {
    /// True for Send and Both.
    pub fn can_send(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }

    /// True for Receive and Both.
    pub fn can_receive(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }

    /// RFC 7911 §4: "1 Receive, 2 Send, 3 Both"; anything else is not understood.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(AddPathMode::Receive),
            2 => Some(AddPathMode::Send),
            3 => Some(AddPathMode::Both),
            _ => None,
        }
    }
}

fn add_path_entry(input: &[u8]) -> IResult<&[u8], (Family, u8)> {
    let (input, (afi, safi, mode)) = (be_u16, be_u8, be_u8).parse(input)?;
    Ok((input, (Family::new(afi, safi), mode)))
}

/// How an ADD-PATH value decodes.
pub(super) enum Decoded {
    /// Every entry has a known mode.
    Entries(Vec<AddPathEntry>),
    /// Well formed, but a Send/Receive value other than 1..3: "the capability SHOULD be
    /// treated as not understood and ignored" (RFC 7911 §4).
    NotUnderstood,
    /// Not a list of 4-octet tuples.
    Malformed,
}

/// Decode an ADD-PATH capability value.
pub(super) fn decode(value: &[u8]) -> Decoded {
    let Some(entries) = exact_list(value, 4, add_path_entry) else {
        return Decoded::Malformed;
    };
    let known: Option<Vec<AddPathEntry>> = entries
        .into_iter()
        .map(|(family, mode)| AddPathMode::from_u8(mode).map(|mode| AddPathEntry { family, mode }))
        .collect();
    match known {
        Some(entries) => Decoded::Entries(entries),
        None => Decoded::NotUnderstood,
    }
}

/// Append the value for `entries`.
pub(super) fn encode(entries: &[AddPathEntry], out: &mut BytesMut) {
    for e in entries {
        out.put_u16(e.family.afi);
        out.put_u8(e.family.safi);
        out.put_u8(e.mode as u8);
    }
}
