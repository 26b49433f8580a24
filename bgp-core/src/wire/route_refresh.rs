//! ROUTE-REFRESH message (RFC 2918 §3) with the RFC 7313 §3.2 message subtypes.
//!
//! ```text
//!  0       7      15      23      31
//! +-------+-------+-------+-------+
//! |      AFI      | Subt. | SAFI  |
//! +-------+-------+-------+-------+
//! ```
use serde::Serialize;

use super::family::Family;

pub const SUBTYPE_NORMAL: u8 = 0;
/// Beginning of Route Refresh (RFC 7313).
pub const SUBTYPE_BORR: u8 = 1;
/// End of Route Refresh (RFC 7313).
pub const SUBTYPE_EORR: u8 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RouteRefresh {
    pub family: Family,
    pub subtype: u8,
}
