//! Malformed attributes a speaker survives (RFC 7606): what was wrong and what was done.
use serde::Serialize;

/// What RFC 7606 §2 tells a speaker to do with a malformed attribute it can survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AttributeAction {
    /// "attribute discard": drop the attribute, process the UPDATE.
    Discard,
    /// "treat-as-withdraw": every NLRI of the UPDATE is withdrawn.
    TreatAsWithdraw,
}

/// A malformed attribute that did not reset the session, and what was done about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttributeIssue {
    /// The attribute's type code.
    pub type_code: u8,
    /// What was done with the attribute (and so with the UPDATE).
    pub action: AttributeAction,
    /// Short reason, for logs and `bgpctl decode`.
    pub reason: &'static str,
}
