//! The RIB owner task: the one place that holds the `bgp_core::rib::Rib`.
//!
//! Sessions send it decoded UPDATEs and up/down events; it applies them, sends the kernel
//! changes to route-sync and generates each peer's UPDATEs (grouped by attribute set) into that
//! peer's bounded writer queue. Inputs are drained in batches before the outputs are flushed,
//! so a burst of UPDATEs costs one export pass, not one per message. What it receives and
//! sends is defined in `crate::messages` ([`RibInput`], `KernelEvent`, `UpdateSender`,
//! `PeerCommand`).
mod kernel_filter;
mod malformed;
mod next_hops;
mod outbound;
mod peers;
mod resolver;
mod task;
mod views;

use std::sync::Arc;

use route_sync::RouteSync;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::health::Health;
use crate::messages::{KernelEvent, RibInput};
use crate::metrics::Metrics;

/// Depth of the RIB's input queue (sessions wait when it is full: TCP back-pressure).
const INPUT_QUEUE: usize = 4096;

/// Start the RIB owner task.
pub fn spawn(
    config: &Config,
    kernel: Option<RouteSync>,
    kernel_events: Option<mpsc::Receiver<KernelEvent>>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
) -> (mpsc::Sender<RibInput>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(INPUT_QUEUE);
    let task = task::RibTask::new(config, kernel, metrics, health);
    let handle = tokio::spawn(task.run(rx, kernel_events));
    (tx, handle)
}
