//! The BGP-4 wire format.
//!
//! Every decoder takes an explicit [`WireContext`] (what the session negotiated); nothing is
//! guessed from the bytes. Every decode error is typed and converts straight into the
//! NOTIFICATION that RFC 4271 §6 / RFC 7606 ask for.

pub mod attributes;
pub mod capability;
pub mod codec;
pub mod context;
pub mod error;
pub mod family;
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
pub use codec::BgpCodec;
pub use context::WireContext;
pub use error::{AttributeAction, AttributeIssue, DecodeError, EncodeError};
pub use family::{Afi, Family, Safi};
pub use message::{Message, MessageType};
pub use nlri::Nlri;
pub use notification::Notification;
pub use open::{Open, OptionalParameter};
pub use route_refresh::RouteRefresh;
pub use update::{MpNextHop, MpReach, MpUnreach, Update};
