//! `bgp-core`: everything about BGP that needs no sockets, no runtime and no clock.
//!
//! - [`wire`]: the BGP-4 message codec (RFC 4271, 4760, 6793, 7606, 7911, 8654, 8950, 9072 ...).
//! - [`fsm`]: the sans-IO session state machine of RFC 4271 §8.
//! - [`rib`]: Adj-RIB-In, Loc-RIB, the decision process of RFC 4271 §9.1, Adj-RIB-Out.
//! - [`policy`]: prefix policies (`all`, `none`, `accept|reject PREFIX [ge N] [le N]`).
#![forbid(unsafe_code)]

pub mod fsm;
pub mod policy;
pub mod rib;
pub mod wire;
