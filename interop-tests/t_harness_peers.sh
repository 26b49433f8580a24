#!/usr/bin/env bash
# Self-test of the harness with real peers only (no bgpd):
#   a: BIRD  AS 65001 ---eBGP--- b: FRR   AS 4200000002 (4-octet AS)
#   a: BIRD  AS 65001 ---iBGP--- c: GoBGP AS 65001
# one IPv4 and one IPv6 session on each link. Checks Established on both sides of every
# session, each originated prefix in the peers' BGP tables and in the kernel tables of BIRD's
# and FRR's namespaces, and pod-to-pod pings across the BIRD<->FRR link over those routes.
# timeout: 120
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add a); B=$(node_add b); C=$(node_add c)
link_add "$A" "$B" >/dev/null   # 198.18.1.0/24, 2001:db8:1::/64
link_add "$A" "$C" >/dev/null   # 198.18.2.0/24, 2001:db8:2::/64
POD_A=$(pod_add "$A" 198.19.1.0/24 2001:db8:ff01::/48)
POD_B=$(pod_add "$B" 198.19.2.0/24 2001:db8:ff02::/48)

bird_start "$A" 198.18.1.1 65001 \
  --neighbor "198.18.1.2 4200000002" --neighbor "2001:db8:1::2 4200000002" \
  --neighbor "198.18.2.2 65001" --neighbor "2001:db8:2::2 65001" \
  --originate 198.19.1.0/24 --originate 2001:db8:ff01::/48
frr_start "$B" 198.18.1.2 4200000002 \
  --neighbor "198.18.1.1 65001" --neighbor "2001:db8:1::1 65001" \
  --originate 198.19.2.0/24 --originate 2001:db8:ff02::/48
gobgp_start "$C" 198.18.2.2 65001 \
  --neighbor "198.18.2.1 65001" --neighbor "2001:db8:2::1 65001" \
  --originate 198.19.3.0/24 --originate 2001:db8:ff03::/48

for peer in 198.18.1.2 2001:db8:1::2 198.18.2.2 2001:db8:2::2; do
  wait_until 60 bird_established "$A" "$peer"
done
for peer in 198.18.1.1 2001:db8:1::1; do wait_until 30 frr_established "$B" "$peer"; done
for peer in 198.18.2.1 2001:db8:2::1; do wait_until 30 gobgp_established "$C" "$peer"; done

# BIRD learned FRR's and GoBGP's prefixes and put them into its kernel table.
wait_route_via 30 "$A" 198.19.2.0/24 198.18.1.2
wait_route_via 30 "$A" 2001:db8:ff02::/48 2001:db8:1::2
wait_route_via 30 "$A" 198.19.3.0/24 198.18.2.2
wait_route_via 30 "$A" 2001:db8:ff03::/48 2001:db8:2::2
assert_eq bird "$(kernel_route_protocol "$A" 198.19.2.0/24)" "protocol of 198.19.2.0/24 in BIRD's node"
assert_eq "$(printf '198.18.1.2')" "$(bird_route_nexthops "$A" 198.19.2.0/24)" "BIRD's next hop"

# FRR (zebra) installed BIRD's prefixes and GoBGP's (re-advertised by BIRD over eBGP).
wait_route_via 30 "$B" 198.19.1.0/24 198.18.1.1
wait_route_via 30 "$B" 198.19.3.0/24 198.18.1.1
wait_until 30 frr_has_route "$B" 2001:db8:ff01::/48
assert_eq 2001:db8:1::1 "$(frr_route_nexthops "$B" 2001:db8:ff01::/48)" "FRR's global next hop"
# FRR routes IPv6 via the peer's link-local address.
ll_a=$(linklocal6 "$A" "$(ifname "$A" "$B")")
wait_route_via 30 "$B" 2001:db8:ff01::/48 "$ll_a"
assert_eq bgp "$(kernel_route_protocol "$B" 198.19.1.0/24)" "protocol of 198.19.1.0/24 in FRR's node"
# The AS_PATH FRR sees for GoBGP's prefix went through BIRD.
assert_eq "65001" "$(frr_route_json "$B" 198.19.3.0/24 | jq -r '.paths[0].aspath.string')" "AS_PATH at FRR"

# GoBGP learned BIRD's and FRR's prefixes over iBGP (no kernel install in GoBGP).
wait_until 30 gobgp_has_route "$C" 198.19.1.0/24
wait_until 30 gobgp_has_route "$C" 2001:db8:ff02::/48
assert_eq 198.18.2.1 "$(gobgp_route_nexthops "$C" 198.19.1.0/24)" "GoBGP's next hop for BIRD's prefix"

# Pods behind BIRD and FRR reach each other over the BGP routes.
assert_ping "$POD_A" "$(pod_addr4 "$POD_B")"
assert_ping "$POD_B" "$(pod_addr4 "$POD_A")"
assert_ping "$POD_A" "$(pod_addr6 "$POD_B")"

# A withdrawn prefix leaves the kernel: stop GoBGP, BIRD drops its routes.
gobgp_stop "$C"
wait_no_route 30 "$A" 198.19.3.0/24
wait_until 30 _negate frr_has_route "$B" 198.19.3.0/24
echo "harness peers OK"
