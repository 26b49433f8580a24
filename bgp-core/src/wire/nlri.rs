//! NLRI: prefixes, optionally with an ADD-PATH path identifier (RFC 4271 §4.3, RFC 7911 §3).
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// One reachability entry: a prefix and, when ADD-PATH is in force for its family, a path id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Nlri {
    pub prefix: IpNet,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path_id: Option<u32>,
}

impl Nlri {
    pub fn new(prefix: IpNet) -> Self {
        Nlri { prefix, path_id: None }
    }
    pub fn with_path_id(prefix: IpNet, path_id: u32) -> Self {
        Nlri { prefix, path_id: Some(path_id) }
    }
}
