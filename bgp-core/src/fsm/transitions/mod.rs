//! RFC 4271 §8.2.2, one file per state (Connect and Active share one: the RFC gives them the
//! same transitions except for ConnectRetryTimer_Expires); `common` holds the transitions
//! several states share, quoted once with the states that use them.
mod common;
mod connecting;
mod established;
mod idle;
mod open_confirm;
mod open_sent;
