//! Typed decode errors and the RFC 7606 actions.
//!
//! A [`DecodeError`] always means "reset the session": it converts straight into the
//! NOTIFICATION (code, subcode, data) that RFC 4271 §6 names. Errors that RFC 7606 lets a
//! speaker survive are not `DecodeError`s: they are [`AttributeIssue`]s carried on the decoded
//! UPDATE, with the [`AttributeAction`] taken.
//!
//! One concern per file: `decode.rs` (the fatal errors), `notification_mapping.rs` (their
//! NOTIFICATION), `attribute_issue.rs` (the survivable ones), `encode.rs` (encoding failures).

mod attribute_issue;
mod decode;
mod encode;
mod notification_mapping;

pub use attribute_issue::{AttributeAction, AttributeIssue};
pub use decode::DecodeError;
pub use encode::EncodeError;
