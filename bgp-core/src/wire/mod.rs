//! The BGP-4 wire format.
//!
//! Every decoder takes an explicit [`WireContext`] (what the session negotiated); nothing is
//! guessed from the bytes. Every decode error is typed and converts straight into the
//! NOTIFICATION that RFC 4271 §6 / RFC 7606 ask for.
//!
//! Entry points, all re-exported here:
//! - receiving: [`split_frame`] cuts a whole message off the read buffer (`frame.rs`), then
//!   [`decode_message`] decodes it (`message.rs`); [`decode_update`] decodes an UPDATE body.
//! - sending: [`encode_message`] (or [`Message::to_bytes`]) for one message,
//!   [`encode_update_body`] for an UPDATE body, and the splitting encoder
//!   [`encode_announcements`] / [`encode_withdrawals`] (`update/split.rs`) that packs many
//!   prefixes into as few whole UPDATEs as the session allows.
//!
//! One module per message or element: `header.rs` (header and [`MessageType`]),
//! `open.rs`, `update/` (with MP_REACH/MP_UNREACH in `update/mp.rs`), `notification/` (with
//! the error codes in `notification/codes.rs`), `route_refresh.rs`, `capability/` (one file per
//! capability family), `attributes/`, `nlri.rs`, `family.rs`, `context.rs`, `error/` (decode
//! errors, their NOTIFICATION, RFC 7606 issues, encode errors).

pub mod attributes;
pub mod capability;
pub mod context;
pub mod error;
pub mod family;
mod frame;
pub mod header;
pub mod message;
pub mod nlri;
pub mod notification;
pub mod open;
pub mod route_refresh;
pub mod update;

pub use attributes::{
    Aggregator, AsPath, AsPathSegment, LargeCommunity, Origin, PathAttributes, RawAttribute,
    SegmentType,
};
pub use capability::{
    AddPathEntry, AddPathMode, Capability, ExtendedNextHopEntry, GracefulRestartCap,
};
pub use context::WireContext;
pub use error::{AttributeAction, AttributeIssue, DecodeError, EncodeError};
pub use family::{Afi, Family, Safi};
pub use frame::split_frame;
pub use header::MessageType;
pub use message::{decode_message, encode_message, Message};
pub use nlri::Nlri;
pub use notification::Notification;
pub use open::{Open, OptionalParameter};
pub use route_refresh::RouteRefresh;
pub use update::{
    decode_update, encode_announcements, encode_update_body, encode_withdrawals, MpNextHop,
    MpReach, MpUnreach, Update,
};
