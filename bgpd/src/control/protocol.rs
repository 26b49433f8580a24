//! The control-socket protocol shared by `bgpd` and `bgpctl`: one JSON request per line, one
//! JSON response per line, over a Unix stream socket that only root can open.
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    ShowNeighbors,
    ShowNeighbor {
        address: IpAddr,
    },
    ShowRoutes {
        #[serde(default)]
        prefix: Option<IpNet>,
        #[serde(default)]
        received_from: Option<IpAddr>,
        #[serde(default)]
        advertised_to: Option<IpAddr>,
        #[serde(default)]
        explain: bool,
    },
    ShowKernel,
    ShowNexthops,
    /// The cluster datastore: connection, revision, resources, problems.
    ShowDatastore,
    Reload,
    NeighborShutdown {
        address: IpAddr,
        #[serde(default)]
        message: Option<String>,
    },
    NeighborEnable {
        address: IpAddr,
    },
    NeighborReset {
        address: IpAddr,
        #[serde(default)]
        message: Option<String>,
    },
    /// Ask the neighbour to re-send its routes (ROUTE-REFRESH, RFC 2918): a soft reset in.
    NeighborRefresh {
        address: IpAddr,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub data: serde_json::Value,
}

impl Response {
    pub fn ok(data: serde_json::Value) -> Response {
        Response { ok: true, error: None, data }
    }

    pub fn error(text: impl Into<String>) -> Response {
        Response { ok: false, error: Some(text.into()), data: serde_json::Value::Null }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_as_tagged_json() {
        let r = Request::ShowRoutes {
            prefix: Some("10.244.2.0/24".parse().unwrap()),
            received_from: None,
            advertised_to: None,
            explain: true,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("\"cmd\":\"show_routes\""), "{text}");
        assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), r);
        let minimal: Request = serde_json::from_str(r#"{"cmd":"show_routes"}"#).unwrap();
        assert!(matches!(minimal, Request::ShowRoutes { prefix: None, explain: false, .. }));
    }
}
