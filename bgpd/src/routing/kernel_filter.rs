//! Prefixes the RIB keeps but does not install into the kernel (`kernel.exclude`): routes
//! inside Calico IP pools that use VXLAN or IP-in-IP, which Felix programs itself (confd's
//! `calico_kernel_programming` filter with Calico's default `programClusterRoutes:
//! EnabledNoEncapOnly`), and the Kubernetes service ranges (kube-proxy handles service IPs on
//! every node: a route to another node, or a blackhole, would take them away from it). They
//! are still exchanged over BGP, and an originated prefix inside one gets no blackhole route
//! (`RibTask::originate`).
use std::sync::{Arc, PoisonError, RwLock};

use bgp_core::rib::FibChange;
use ipnet::IpNet;
use route_sync::RouteSync;

/// Shared between the RIB task and its FIB sink; changed only by reconfiguration.
#[derive(Clone, Debug, Default)]
pub struct KernelFilter(Arc<RwLock<Vec<IpNet>>>);

impl KernelFilter {
    /// Replaces the excluded prefixes; returns the old list.
    pub fn replace(&self, excluded: Vec<IpNet>) -> Vec<IpNet> {
        let mut guard = self.0.write().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *guard, excluded)
    }

    /// The excluded prefixes.
    pub fn excluded(&self) -> Vec<IpNet> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Hands RIB changes to route-sync, 2048 per call (route-sync takes its
    /// table lock once per call); a change inside an excluded prefix becomes a removal.
    /// (An empty next-hop list removes the route: `RouteSync::set_many` takes both in order.)
    pub fn to_kernel(&self, kernel: &RouteSync, changes: &[FibChange]) {
        let excluded = self.0.read().unwrap_or_else(PoisonError::into_inner);
        for chunk in changes.chunks(KERNEL_CHUNK) {
            kernel.set_many(chunk.iter().map(|c| {
                let hops =
                    if inside_any(&excluded, &c.prefix) { &[][..] } else { &c.next_hops[..] };
                (c.prefix, hops)
            }));
        }
    }
}

/// Routes handed to route-sync per call.
const KERNEL_CHUNK: usize = 2048;

/// `prefix` lies inside one of `nets` (same family).
pub fn inside_any(nets: &[IpNet], prefix: &IpNet) -> bool {
    nets.iter().any(|net| net.contains(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_any_by_family_and_length() {
        let nets: Vec<IpNet> =
            vec!["198.19.0.0/16".parse().unwrap(), "2001:db8:1::/48".parse().unwrap()];
        assert!(inside_any(&nets, &"198.19.3.0/26".parse().unwrap()));
        assert!(inside_any(&nets, &"198.19.0.0/16".parse().unwrap()));
        assert!(!inside_any(&nets, &"198.0.0.0/8".parse().unwrap()));
        assert!(!inside_any(&nets, &"198.20.0.0/26".parse().unwrap()));
        assert!(inside_any(&nets, &"2001:db8:1:5::/64".parse().unwrap()));
        assert!(!inside_any(&[], &"198.19.3.0/26".parse().unwrap()));
    }
}
