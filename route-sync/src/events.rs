//! What route-sync tells the daemon: events, counters and the kernel view for `bgpctl`.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use ipnet::IpNet;
use serde::Serialize;

/// Reported on the channel returned by [`crate::RouteSync::start`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum KernelEvent {
    /// These next hops (used by desired routes) no longer resolve (not on a connected subnet
    /// of an interface that is up, not behind another route of the main table): routes
    /// through them are gone from the kernel (the RIB should consider them unreachable).
    NextHopsUnreachable(Vec<IpAddr>),
    /// These next hops (used by desired routes) resolve again, or now resolve differently;
    /// their routes are being (re)installed.
    NextHopsReachable(Vec<IpAddr>),
    /// Links, addresses or the main table's other routes changed: any next hop may resolve
    /// differently now (also those no desired route uses, such as the next hop of a path
    /// that lost because it was unreachable). Sent once per burst of changes.
    NetworkChanged,
    /// A route of another protocol holds the slot (same prefix, table and metric) of a route
    /// we want: it is left alone, ours is not installed until it goes away. `protocol` is 0
    /// when the kernel refused ours (EEXIST) and the holder could not be looked up.
    ForeignRoute { prefix: IpNet, protocol: u8 },
    /// `true` when every desired route that can be installed is in the kernel (and no request
    /// waits for a retry); `false` when that stops being the case. Sent on changes only.
    InSync(bool),
}

/// Counters (monotonic unless said otherwise), readable at any time from any thread.
#[derive(Debug, Default)]
pub struct Stats {
    /// Routes of ours in the kernel now (gauge).
    pub installed: AtomicU64,
    /// Route installs/replacements the kernel accepted.
    pub install_ok: AtomicU64,
    /// Route installs/replacements the kernel refused (retried later).
    pub install_failed: AtomicU64,
    /// Error replies from the kernel and socket errors, of any kind.
    pub netlink_errors: AtomicU64,
    /// Times a foreign route was found in the slot of a route we wanted.
    pub foreign_conflicts: AtomicU64,
    /// Routes put back after someone (or something) deleted or changed them.
    pub repaired: AtomicU64,
    /// Routes of ours removed from the kernel (one by one or through their nexthop object).
    pub removed: AtomicU64,
    /// Prefixes waiting for a request to be sent or retried (gauge).
    pub pending: AtomicU64,
    /// Events dropped because the event channel was full.
    pub events_dropped: AtomicU64,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set(counter: &AtomicU64, n: u64) {
        counter.store(n, Ordering::Relaxed);
    }

    /// Reads a counter (`Relaxed`).
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

macro_rules! readers {
    ($($name:ident),*) => {
        impl Stats {
            $(
                #[doc = concat!("Current value of [`Stats::", stringify!($name), "`].")]
                pub fn $name(&self) -> u64 {
                    Stats::get(&self.$name)
                }
            )*
        }
    };
}

readers!(
    installed,
    install_ok,
    install_failed,
    netlink_errors,
    foreign_conflicts,
    repaired,
    removed,
    pending,
    events_dropped
);

/// One of our routes as the kernel holds it (`bgpctl show kernel`). Serialises as
/// `{"prefix", "next_hops": [{"gateway", "ifindex", "dev"}], "blackhole", "nexthop_id"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelRoute {
    pub prefix: IpNet,
    /// Empty for a blackhole/unreachable route.
    pub next_hops: Vec<KernelNextHop>,
    /// `true` for our blackhole (or unreachable) route.
    pub blackhole: bool,
    /// The nexthop object the route points at, when it uses one.
    pub nexthop_id: Option<u32>,
}

/// A gateway of a kernel route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelNextHop {
    pub gateway: IpAddr,
    pub ifindex: u32,
    /// Interface name (empty when unknown).
    pub dev: String,
}
