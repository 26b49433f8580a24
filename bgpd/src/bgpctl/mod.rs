//! The `bgpctl` commands that talk to a running bgpd over its control socket (`show ...`,
//! `reload`, `neighbor ADDR shutdown|enable|reset|refresh`): each becomes one control-socket
//! request (`crate::control`), and the answer is printed as a human table (`table.rs`) or,
//! with `--json`, as JSON for scripts. The `bgpctl` binary (`src/bin/bgpctl.rs`) adds the
//! offline `decode`.
mod table;

use std::net::IpAddr;
use std::path::Path;

use clap::Subcommand;
use ipnet::IpNet;
use serde_json::Value;

use crate::control::client::call;
use crate::control::protocol::Request;

/// A `bgpctl` command for the running daemon.
#[derive(Subcommand, Debug, Clone)]
pub enum DaemonCommand {
    /// Show sessions, routes or kernel routes.
    Show {
        #[command(subcommand)]
        what: ShowWhat,
        /// Machine-readable JSON output.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Reload the configuration file (like SIGHUP); a bad file is rejected, the running
    /// configuration stays.
    Reload,
    /// Administrative actions on one neighbour.
    Neighbor {
        address: IpAddr,
        #[command(subcommand)]
        action: NeighborAction,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum ShowWhat {
    /// All neighbours, one line each.
    Neighbors,
    /// One neighbour in detail, with the negotiated session parameters.
    Neighbor { address: IpAddr },
    /// The RIB: every path per prefix, which is best and (with --explain) why.
    Routes {
        prefix: Option<IpNet>,
        #[arg(long)]
        received_from: Option<IpAddr>,
        #[arg(long)]
        advertised_to: Option<IpAddr>,
        #[arg(long)]
        explain: bool,
    },
    /// The routes bgpd has in the kernel.
    Kernel,
    /// Every BGP next hop in use: reachable or not, interior cost, the gateways it goes via.
    Nexthops,
    /// The cluster datastore: endpoint, connected or not, revision, resource counts, and
    /// every resource that could not be used.
    Datastore,
}

#[derive(Subcommand, Debug, Clone)]
pub enum NeighborAction {
    /// Cease / Administrative Shutdown (RFC 8203 message), stays down until `enable`.
    Shutdown {
        #[arg(long)]
        message: Option<String>,
    },
    /// Start a shut-down session again.
    Enable,
    /// Cease / Administrative Reset, then re-establish.
    Reset {
        #[arg(long)]
        message: Option<String>,
    },
    /// Ask the neighbour to re-send its routes (ROUTE-REFRESH, RFC 2918), no reset.
    Refresh,
}

/// Run `cmd` against the daemon at `socket`; returns the process exit code.
pub async fn run(socket: &Path, cmd: DaemonCommand) -> i32 {
    let (request, json, render): (Request, bool, fn(&Value) -> String) = match cmd {
        DaemonCommand::Show { what, json } => match what {
            ShowWhat::Neighbors => (Request::ShowNeighbors, json, table::neighbors),
            ShowWhat::Neighbor { address } => {
                (Request::ShowNeighbor { address }, json, table::pretty)
            }
            ShowWhat::Routes { prefix, received_from, advertised_to, explain } => (
                Request::ShowRoutes { prefix, received_from, advertised_to, explain },
                json,
                table::routes,
            ),
            ShowWhat::Kernel => (Request::ShowKernel, json, table::kernel),
            ShowWhat::Nexthops => (Request::ShowNexthops, json, table::nexthops),
            ShowWhat::Datastore => (Request::ShowDatastore, json, table::datastore),
        },
        DaemonCommand::Reload => (Request::Reload, false, table::summary),
        DaemonCommand::Neighbor { address, action } => {
            let request = match action {
                NeighborAction::Shutdown { message } => {
                    Request::NeighborShutdown { address, message }
                }
                NeighborAction::Enable => Request::NeighborEnable { address },
                NeighborAction::Reset { message } => Request::NeighborReset { address, message },
                NeighborAction::Refresh => Request::NeighborRefresh { address },
            };
            (request, false, table::summary)
        }
    };
    match call(socket, &request).await {
        Ok(resp) if resp.ok => {
            if json {
                println!("{}", serde_json::to_string_pretty(&resp.data).unwrap_or_default());
            } else {
                print!("{}", render(&resp.data));
            }
            0
        }
        Ok(resp) => {
            eprintln!("bgpctl: {}", resp.error.unwrap_or_else(|| "failed".to_string()));
            1
        }
        Err(e) => {
            eprintln!("bgpctl: cannot reach bgpd at {}: {e}", socket.display());
            2
        }
    }
}
