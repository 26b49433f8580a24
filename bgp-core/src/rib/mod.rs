//! Routing information bases and the decision process (RFC 4271 §9).
