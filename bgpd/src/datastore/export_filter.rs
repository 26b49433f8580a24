//! Calico's export filter for the sessions the datastore configures, as prefix rules.
//!
//! confd renders BIRD's `calico_export_to_bgp_peers` (`confd/pkg/backends/calico/
//! bgp_processor.go`, `bird_aggr.cfg.template`): reject what is inside a pool with
//! `disableBGPExport`; then `calico_aggr`, which accepts each of this node's confirmed blocks
//! and rejects anything more specific inside it (the routes of single pods); then accept
//! what is inside any other pool; then reject the rest. The prefixes the file itself
//! originates are accepted after the blocks (the file is the operator's explicit word).
use ipnet::IpNet;

use crate::config::{Policy, PolicyAction, PolicyRule};

/// One IP pool, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    pub cidr: IpNet,
    pub export: bool,
    /// VXLAN or IP-in-IP (`Always`/`CrossSubnet`): Felix programs its routes, not us.
    pub encapsulated: bool,
}

/// The service routes a node exports.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServiceExport<'a> {
    /// The configured service ranges.
    pub ranges: &'a [IpNet],
    /// What this node originates inside them (the ranges, its `Local` Services' /32s).
    pub originated: &'a [IpNet],
}

/// The export policy, first match wins: pools closed to export, own blocks, the file's
/// prefixes, the service routes this node originates, nothing else inside the service
/// ranges (a `Local` Service's /32 learned from the node with the endpoint is not passed on
/// with this node as next hop), the other pools.
pub fn export_policy(
    own_blocks: &[IpNet],
    file_prefixes: &[IpNet],
    services: ServiceExport<'_>,
    pools: &[Pool],
) -> Policy {
    let mut rules = Vec::with_capacity(
        own_blocks.len() * 2
            + file_prefixes.len()
            + services.ranges.len()
            + services.originated.len()
            + pools.len(),
    );
    for pool in pools.iter().filter(|p| !p.export) {
        rules.push(rule(PolicyAction::Reject, pool.cidr, true));
    }
    for block in own_blocks {
        rules.push(rule(PolicyAction::Accept, *block, false));
        if block.prefix_len() < block.max_prefix_len() {
            rules.push(rule(PolicyAction::Reject, *block, true));
        }
    }
    for prefix in file_prefixes {
        rules.push(rule(PolicyAction::Accept, *prefix, false));
    }
    for prefix in services.originated {
        rules.push(rule(PolicyAction::Accept, *prefix, false));
    }
    for range in services.ranges {
        rules.push(rule(PolicyAction::Reject, *range, true));
    }
    for pool in pools.iter().filter(|p| p.export) {
        rules.push(rule(PolicyAction::Accept, pool.cidr, true));
    }
    Policy::Rules(rules)
}

/// `prefix` exactly, or (`more_specific`) `prefix le <max>`: everything inside it.
fn rule(action: PolicyAction, prefix: IpNet, more_specific: bool) -> PolicyRule {
    PolicyRule { action, prefix, ge: None, le: more_specific.then_some(prefix.max_prefix_len()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    fn accepts(policy: &Policy, prefix: &str) -> bool {
        let Policy::Rules(rules) = policy else { panic!("rules expected") };
        let prefix = net(prefix);
        rules.iter().find(|r| r.matches(&prefix)).is_some_and(|r| r.action == PolicyAction::Accept)
    }

    #[test]
    fn calico_export_semantics() {
        let pools = [
            Pool { cidr: net("198.19.0.0/16"), export: true, encapsulated: false },
            Pool { cidr: net("198.18.128.0/20"), export: false, encapsulated: false },
            Pool { cidr: net("2001:db8:100::/48"), export: true, encapsulated: true },
        ];
        let policy = export_policy(
            &[net("198.19.1.0/26"), net("198.18.128.0/26")],
            &[net("198.18.200.0/24")],
            ServiceExport {
                ranges: &[net("10.96.0.0/12")],
                originated: &[net("10.96.0.0/12"), net("10.96.0.10/32")],
            },
            &pools,
        );
        // Own block: itself, not the pods inside it.
        assert!(accepts(&policy, "198.19.1.0/26"));
        assert!(!accepts(&policy, "198.19.1.5/32"));
        // Other nodes' blocks inside an exported pool (route reflection, transit).
        assert!(accepts(&policy, "198.19.2.0/26"));
        // Inside a pool with disableBGPExport: nothing, our own block included.
        assert!(!accepts(&policy, "198.18.128.0/26"));
        assert!(!accepts(&policy, "198.18.129.0/26"));
        // The file's own prefix, and IPv6 pools.
        assert!(accepts(&policy, "198.18.200.0/24"));
        assert!(accepts(&policy, "2001:db8:100:1::/64"));
        // The service routes this node originates, and no other inside the ranges.
        assert!(accepts(&policy, "10.96.0.0/12"));
        assert!(accepts(&policy, "10.96.0.10/32"));
        assert!(!accepts(&policy, "10.96.0.11/32"), "learned from the node with the endpoint");
        // Outside every pool.
        assert!(!accepts(&policy, "203.0.113.0/24"));
        assert!(!accepts(&policy, "0.0.0.0/0"));
    }
}
