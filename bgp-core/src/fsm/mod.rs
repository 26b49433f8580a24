//! The BGP finite state machine of RFC 4271 §8, sans-IO.
