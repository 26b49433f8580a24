//! UPDATE message (RFC 4271 §4.3) with MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 §3, §4).
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```
//!
//! [`decode_update`] / [`encode_update_body`] handle one message body; the splitting encoder
//! ([`encode_announcements`], [`encode_withdrawals`]) packs many prefixes into as few whole
//! messages as the session allows. The MP_REACH_NLRI / MP_UNREACH_NLRI types and codec are in
//! `mp.rs`.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

use super::attributes::decode::{decode_attributes, push_issue};
use super::attributes::encode::{encode_attributes, AttributeSource};
use super::attributes::{PathAttributes, ATTR_AS_PATH, ATTR_NEXT_HOP, ATTR_ORIGIN};
use super::context::WireContext;
use super::error::{AttributeAction, AttributeIssue, DecodeError, EncodeError};
use super::family::Family;
use super::nlri::{decode_nlri, encode_nlri_list, Nlri};

pub(crate) mod mp;
pub mod split;

pub use mp::{MpNextHop, MpReach, MpUnreach};
pub use split::{encode_announcements, encode_withdrawals};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Update {
    /// IPv4 unicast withdrawn routes (the classic field).
    pub withdrawn: Vec<Nlri>,
    pub attributes: PathAttributes,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    /// IPv4 unicast NLRI (the classic field).
    pub nlri: Vec<Nlri>,
    /// RFC 7606 problems survived while decoding (ignored by the encoder). When one of them is
    /// treat-as-withdraw, the decoder has already moved every NLRI into `withdrawn` /
    /// `mp_unreach`, so the UPDATE reads as the explicit withdrawal it stands for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<AttributeIssue>,
}

impl Update {
    /// The End-of-RIB marker for `family` (RFC 4724 §2): an empty UPDATE for IPv4 unicast,
    /// an UPDATE with only an empty MP_UNREACH_NLRI otherwise.
    pub fn end_of_rib(family: Family) -> Self {
        if family == Family::IPV4_UNICAST {
            Update::default()
        } else {
            Update {
                mp_unreach: Some(MpUnreach { family, withdrawn: Vec::new() }),
                ..Default::default()
            }
        }
    }

    /// If this UPDATE is an End-of-RIB marker, its family.
    pub fn end_of_rib_family(&self) -> Option<Family> {
        let no_attrs = self.attributes == PathAttributes::default();
        if !self.issues.is_empty()
            || !self.withdrawn.is_empty()
            || !self.nlri.is_empty()
            || self.mp_reach.is_some()
            || !no_attrs
        {
            return None;
        }
        match &self.mp_unreach {
            None => Some(Family::IPV4_UNICAST),
            Some(u) if u.withdrawn.is_empty() => Some(u.family),
            Some(_) => None,
        }
    }
}

/// Decode an UPDATE body (the message after its 19-octet header).
///
/// Session-reset errors are returned; RFC 7606 treat-as-withdraw and attribute-discard cases
/// are recorded in [`Update::issues`], and after a treat-as-withdraw every NLRI of the message
/// (classic and MP_REACH_NLRI) has been moved to `withdrawn` / `mp_unreach`.
pub fn decode_update(body: &Bytes, ctx: &WireContext) -> Result<Update, DecodeError> {
    let b: &[u8] = body;
    // RFC 4271 §6.3: "If the Withdrawn Routes Length or Total Attribute Length is too large
    // (i.e., if Withdrawn Routes Length + Total Attribute Length + 23 exceeds the message
    // Length), then the Error Subcode MUST be set to Malformed Attribute List." RFC 7606 §4
    // keeps this a session reset: the NLRI field cannot be located.
    let Some((&[w0, w1], rest)) = b.split_first_chunk::<2>() else {
        return Err(DecodeError::MalformedAttributeList);
    };
    let withdrawn_len = usize::from(u16::from_be_bytes([w0, w1]));
    let withdrawn = rest.get(..withdrawn_len).ok_or(DecodeError::MalformedAttributeList)?;
    let Some(&[a0, a1]) = rest.get(withdrawn_len..withdrawn_len + 2) else {
        return Err(DecodeError::MalformedAttributeList);
    };
    let attr_start = 4 + withdrawn_len;
    let attr_end = attr_start + usize::from(u16::from_be_bytes([a0, a1]));
    let nlri = b.get(attr_end..).ok_or(DecodeError::MalformedAttributeList)?;

    let v4 = Family::IPV4_UNICAST;
    let mut update = Update::default();
    decode_nlri(withdrawn, v4, ctx.add_path(v4), &mut update.withdrawn)?;
    decode_attributes(body, attr_start, attr_end, ctx, &mut update)?;
    decode_nlri(nlri, v4, ctx.add_path(v4), &mut update.nlri)?;

    check_mandatory(&mut update);
    if update.issues.iter().any(|i| i.action == AttributeAction::TreatAsWithdraw) {
        treat_as_withdraw(&mut update);
    }
    Ok(update)
}

/// RFC 7606 §3 d: "If any of the well-known mandatory attributes are not present in an UPDATE
/// message, then "treat-as-withdraw" MUST be used. (Note that [RFC4760] reclassifies NEXT_HOP
/// as what is effectively discretionary.)" They are mandatory only when the UPDATE announces
/// something (RFC 4760 §4: a message with only MP_UNREACH_NLRI "is not required to carry any
/// other path attributes"); NEXT_HOP only with classic NLRI (RFC 4760 §3). LOCAL_PREF for
/// internal peers (RFC 4271 §5.1.5) is the session's business: the codec does not know the
/// peer's AS.
fn check_mandatory(update: &mut Update) {
    let mp_nlri = update.mp_reach.as_ref().is_some_and(|r| !r.nlri.is_empty());
    if update.nlri.is_empty() && !mp_nlri {
        return;
    }
    // A malformed attribute that was already dropped is not "missing" a second time.
    let reported = |u: &Update, t: u8| u.issues.iter().any(|i| i.type_code == t);
    if update.attributes.origin.is_none() && !reported(update, ATTR_ORIGIN) {
        push_issue(update, ATTR_ORIGIN, AttributeAction::TreatAsWithdraw, "ORIGIN missing");
    }
    if update.attributes.as_path.is_none() && !reported(update, ATTR_AS_PATH) {
        push_issue(update, ATTR_AS_PATH, AttributeAction::TreatAsWithdraw, "AS_PATH missing");
    }
    if !update.nlri.is_empty()
        && update.attributes.next_hop.is_none()
        && !reported(update, ATTR_NEXT_HOP)
    {
        push_issue(update, ATTR_NEXT_HOP, AttributeAction::TreatAsWithdraw, "NEXT_HOP missing");
    }
}

/// RFC 7606 §2: "treat-as-withdraw": "the UPDATE message [...] MUST be handled as though all
/// contained routes had been withdrawn". Every NLRI moves to the withdrawn side of its family,
/// so the RIB sees explicit withdrawals.
fn treat_as_withdraw(update: &mut Update) {
    let mut announced = std::mem::take(&mut update.nlri);
    update.withdrawn.append(&mut announced);
    let Some(reach) = update.mp_reach.take() else { return };
    if reach.family == Family::IPV4_UNICAST {
        update.withdrawn.extend(reach.nlri);
        return;
    }
    match &mut update.mp_unreach {
        Some(unreach) if unreach.family == reach.family => unreach.withdrawn.extend(reach.nlri),
        Some(unreach) => {
            // MP_UNREACH_NLRI of another family: IPv4 unicast is the only other decoded one,
            // and it has the classic withdrawn field.
            let old = std::mem::replace(
                unreach,
                MpUnreach { family: reach.family, withdrawn: reach.nlri },
            );
            update.withdrawn.extend(old.withdrawn);
        }
        None => update.mp_unreach = Some(MpUnreach { family: reach.family, withdrawn: reach.nlri }),
    }
}

/// Encode an UPDATE body (no header) into `out`. The caller checks the message size when it
/// writes the header (`header::finish_message`). On error `out` is left as it was.
pub fn encode_update_body(
    update: &Update,
    ctx: &WireContext,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let start = out.len();
    let result = encode_body_inner(update, ctx, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn encode_body_inner(
    update: &Update,
    ctx: &WireContext,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let add_path = ctx.add_path(Family::IPV4_UNICAST);
    let withdrawn_at = out.len();
    out.put_u16(0);
    let len = encode_nlri_list(&update.withdrawn, add_path, out);
    patch_u16(out, withdrawn_at, len, "withdrawn routes")?;
    let attrs_at = out.len();
    out.put_u16(0);
    let src = AttributeSource {
        attrs: &update.attributes,
        next_hop: update.attributes.next_hop,
        mp_reach: update.mp_reach.as_ref(),
        mp_unreach: update.mp_unreach.as_ref(),
    };
    encode_attributes(&src, ctx, out)?;
    patch_u16(out, attrs_at, out.len() - attrs_at - 2, "path attributes")?;
    encode_nlri_list(&update.nlri, add_path, out);
    Ok(())
}

/// Write `len` as the 2-octet length field at `at`.
pub(crate) fn patch_u16(
    out: &mut BytesMut,
    at: usize,
    len: usize,
    what: &'static str,
) -> Result<(), EncodeError> {
    let len = u16::try_from(len).map_err(|_| EncodeError::FieldTooLong(what))?;
    let field = out.get_mut(at..at + 2).ok_or(EncodeError::FieldTooLong(what))?;
    field.copy_from_slice(&len.to_be_bytes());
    Ok(())
}
