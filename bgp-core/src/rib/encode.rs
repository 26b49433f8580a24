//! An [`OutBatch`] as UPDATE messages for one session, where a route that cannot be encoded
//! costs only itself.
//!
//! Attributes grow on the way out (LOCAL_PREF toward iBGP, ORIGINATOR_ID and CLUSTER_LIST
//! when reflecting, our AS prepended toward eBGP), so a route received in a message of 4096
//! octets may not fit one any more. RFC 4271 §9.2: "If due to the limits on the maximum size
//! of an UPDATE message (see Section 4), a single route doesn't fit into the message, the BGP
//! speaker MUST NOT advertise the route to its peers and MAY choose to log an error locally."
//! RFC 8654 §4 adds that such a route, "if the NLRI was previously advertised to that peer,
//! it must be withdrawn from service". The Adj-RIB-Out is implicit (what was sent is not
//! kept), so an unsendable prefix is always withdrawn: harmless when it never was advertised.
//! RFC 8654 §4 also has the speaker first try dropping attributes eligible for "attribute
//! discard" (RFC 7606 §7.6-7.7 and RFC 6793 §6: ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH,
//! AS4_AGGREGATOR). We do not: all but AS4_PATH are a few octets, and AS4_PATH is sent only
//! to peers without 4-octet AS numbers, where dropping it would lose the true path.
//!
//! Everything else of the batch (other attribute sets, other families, End-of-RIB) is sent;
//! the unsendable prefixes are reported in [`Encoded::unsendable`] for the daemon to log and
//! count (this crate does no I/O).
use std::collections::BTreeMap;

use bytes::BytesMut;

use super::export::{Announcement, OutBatch};
use crate::wire::message::{encode_message, Message};
use crate::wire::update::{encode_announcements, encode_withdrawals};
use crate::wire::{EncodeError, Family, Nlri, Update, WireContext};

/// What [`OutBatch::encode`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Encoded {
    /// Whole UPDATE messages appended.
    pub messages: usize,
    /// Prefixes left out (and withdrawn instead), per attribute set.
    pub unsendable: Vec<Unsendable>,
}

impl Encoded {
    /// Prefixes left out of the batch.
    pub fn unsendable_len(&self) -> usize {
        self.unsendable.iter().map(|u| u.nlri.len()).sum()
    }
}

/// Prefixes of one attribute set that no UPDATE of the session can carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsendable {
    pub family: Family,
    pub nlri: Vec<Nlri>,
    /// Why: usually [`EncodeError::MessageTooLong`] (the attributes plus one prefix exceed the
    /// session's maximum message size), or a field too long for its wire encoding.
    pub error: EncodeError,
}

impl OutBatch {
    /// Append the batch as whole UPDATE messages (header included) for a session with `ctx`.
    /// A prefix whose announcement cannot be encoded is withdrawn instead and reported in
    /// [`Encoded::unsendable`]; the rest of the batch is written all the same. `Err` only when
    /// a withdrawal or End-of-RIB does not fit, i.e. `ctx.max_message_len` is below any
    /// usable size; `out` then keeps the messages already completed.
    pub fn encode(&self, ctx: &WireContext, out: &mut BytesMut) -> Result<Encoded, EncodeError> {
        let mut done = Encoded::default();
        for (family, nlri) in &self.withdrawals {
            done.messages += encode_withdrawals(*family, nlri, ctx, out)?;
        }
        for a in &self.announcements {
            let mark = out.len();
            let error = match announce(a, &a.nlri, ctx, out) {
                Ok(n) => {
                    done.messages += n;
                    continue;
                }
                Err(e) => e,
            };
            // Messages of this set written before the failure are dropped and the set is
            // split into the prefixes that fit a message on their own and those that do not.
            out.truncate(mark);
            let (fit, mut unfit) = split_by_fit(a, ctx);
            match announce(a, &fit, ctx, out) {
                Ok(n) => done.messages += n,
                Err(_) => {
                    // Each fits a message alone, so together they fit messages too; should
                    // that ever not hold, none of the set is sent rather than the batch.
                    out.truncate(mark);
                    unfit = a.nlri.clone();
                }
            }
            if !unfit.is_empty() {
                done.messages += encode_withdrawals(a.family, &unfit, ctx, out)?;
                done.unsendable.push(Unsendable { family: a.family, nlri: unfit, error });
            }
        }
        for family in &self.end_of_rib {
            encode_message(&Message::Update(Update::end_of_rib(*family)), ctx, out)?;
            done.messages += 1;
        }
        Ok(done)
    }
}

fn announce(
    a: &Announcement,
    nlri: &[Nlri],
    ctx: &WireContext,
    out: &mut BytesMut,
) -> Result<usize, EncodeError> {
    encode_announcements(&a.attrs.path, &a.attrs.next_hop, a.family, nlri, ctx, out)
}

/// The prefixes of `a` that fit one message with its attributes, and those that do not.
/// Whether one fits depends only on its encoded length (the attributes are the same), so one
/// trial per distinct length decides for all: a few trials, not one per prefix.
fn split_by_fit(a: &Announcement, ctx: &WireContext) -> (Vec<Nlri>, Vec<Nlri>) {
    let add_path = ctx.add_path(a.family);
    let mut fits_by_len: BTreeMap<usize, bool> = BTreeMap::new();
    let mut scratch = BytesMut::new();
    let (mut fit, mut unfit) = (Vec::new(), Vec::new());
    for n in &a.nlri {
        let fits = *fits_by_len.entry(n.encoded_len(add_path)).or_insert_with(|| {
            scratch.clear();
            announce(a, std::slice::from_ref(n), ctx, &mut scratch).is_ok()
        });
        if fits {
            fit.push(*n);
        } else {
            unfit.push(*n);
        }
    }
    (fit, unfit)
}
