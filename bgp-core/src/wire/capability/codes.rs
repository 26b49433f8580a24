//! Capability codes (RFC 5492 §4, IANA "Capability Codes") this speaker understands.

/// Multiprotocol extensions (RFC 4760).
pub const CAP_MULTIPROTOCOL: u8 = 1;
/// Route refresh (RFC 2918).
pub const CAP_ROUTE_REFRESH: u8 = 2;
/// Extended next hop encoding (RFC 8950).
pub const CAP_EXTENDED_NEXT_HOP: u8 = 5;
/// Extended message (RFC 8654).
pub const CAP_EXTENDED_MESSAGE: u8 = 6;
/// Graceful restart (RFC 4724).
pub const CAP_GRACEFUL_RESTART: u8 = 64;
/// 4-octet AS numbers (RFC 6793).
pub const CAP_FOUR_OCTET_AS: u8 = 65;
/// ADD-PATH (RFC 7911).
pub const CAP_ADD_PATH: u8 = 69;
/// Enhanced route refresh (RFC 7313).
pub const CAP_ENHANCED_ROUTE_REFRESH: u8 = 70;
/// FQDN (draft-walton-bgp-hostname-capability).
pub const CAP_FQDN: u8 = 73;
