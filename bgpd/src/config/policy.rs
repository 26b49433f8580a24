//! Prefix policies: the types and their parser live in `bgp_core::policy` (the RIB evaluates
//! them); the configuration re-exports them.
pub use bgp_core::policy::{parse_prefix, Policy, PolicyAction, PolicyRule};
