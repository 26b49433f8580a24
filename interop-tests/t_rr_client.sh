#!/usr/bin/env bash
# bgpd nodes as route reflector clients (Calico with dedicated reflectors):
#   two bgpd nodes n1, n2 (AS 64512, Pod CIDRs 198.19.1.0/24 and 198.19.2.0/24, a pod each),
#   a BIRD reflector and an FRR reflector, all on one LAN; the nodes do not peer each other.
# Checks: every session Established on both sides; both reflectors hold both Pod CIDRs with
# the originating node as next hop (BIRD: table and kernel; FRR: JSON with ORIGINATOR_ID and
# CLUSTER_LIST, and zebra's kernel routes); each node got the other's Pod CIDR from BOTH
# reflectors (2 paths) and installed it via the other node (next hop unchanged by reflection,
# protocol 179); pods ping across; with the BIRD reflector gone the route stays (FRR's path).
# timeout: 180
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

N1=$(node_add n1); N2=$(node_add n2); RB=$(node_add rrbird); RF=$(node_add rrfrr)
L=$(lan_add "$N1" "$N2" "$RB" "$RF")
n1=$(lan_addr4 "$L" "$N1"); n2=$(lan_addr4 "$L" "$N2")
rb=$(lan_addr4 "$L" "$RB"); rf=$(lan_addr4 "$L" "$RF")
P1=$(pod_add "$N1" 198.19.1.0/24); P2=$(pod_add "$N2" 198.19.2.0/24)

bgpd_write_config "$TEST_DIR/$N1/bgpd.yaml" "$n1" 64512 --neighbor "$rb 64512" --neighbor "$rf 64512" \
  --originate 198.19.1.0/24
bgpd_write_config "$TEST_DIR/$N2/bgpd.yaml" "$n2" 64512 --neighbor "$rb 64512" --neighbor "$rf 64512" \
  --originate 198.19.2.0/24
start_bgpd "$N1" "$TEST_DIR/$N1/bgpd.yaml" || fail "bgpd n1 did not start"
start_bgpd "$N2" "$TEST_DIR/$N2/bgpd.yaml" || fail "bgpd n2 did not start"
bird_start "$RB" "$rb" 64512 --cluster-id 198.18.255.1 \
  --neighbor "$n1 64512 rr_client" --neighbor "$n2 64512 rr_client"
frr_start "$RF" "$rf" 64512 --cluster-id 198.18.255.2 \
  --neighbor "$n1 64512 rr_client" --neighbor "$n2 64512 rr_client"

harness_log "sessions"
for n in "$N1" "$N2"; do
  wait_until 60 bgpd_established "$n" "$rb"
  wait_until 60 bgpd_established "$n" "$rf"
done
for a in "$n1" "$n2"; do
  wait_until 30 bird_established "$RB" "$a"
  wait_until 30 frr_established "$RF" "$a"
done

harness_log "reflectors hold both Pod CIDRs with the node as next hop"
wait_until 30 bird_has_route "$RB" 198.19.1.0/24
wait_until 30 bird_has_route "$RB" 198.19.2.0/24
assert_eq "$n1" "$(bird_route_nexthops "$RB" 198.19.1.0/24)" "BIRD reflector's next hop for n1's CIDR"
assert_eq "$n2" "$(bird_route_nexthops "$RB" 198.19.2.0/24)" "BIRD reflector's next hop for n2's CIDR"
wait_route_via 30 "$RB" 198.19.1.0/24 "$n1"
wait_route_via 30 "$RB" 198.19.2.0/24 "$n2"
wait_until 30 frr_has_route "$RF" 198.19.1.0/24
wait_until 30 frr_has_route "$RF" 198.19.2.0/24
assert_eq "$n2" "$(frr_route_nexthops "$RF" 198.19.2.0/24)" "FRR reflector's next hop for n2's CIDR"
wait_route_via 30 "$RF" 198.19.1.0/24 "$n1"
wait_route_via 30 "$RF" 198.19.2.0/24 "$n2"

harness_log "each node learned the other's CIDR from both reflectors, via the other node"
wait_bgpd_route 30 "$N1" 198.19.2.0/24 "$n2"
wait_bgpd_route 30 "$N2" 198.19.1.0/24 "$n1"
_paths_are() { [ "$(bgpd_route_paths "$1" "$2")" = "$3" ]; }
wait_until 30 _paths_are "$N1" 198.19.2.0/24 2
wait_until 30 _paths_are "$N2" 198.19.1.0/24 2
assert_eq "$n2" "$(kernel_route_gateways "$N1" 198.19.2.0/24 | sort -u)" "n1's kernel next hops for n2's CIDR"
froms=$(bgpd_route_json "$N1" 198.19.2.0/24 | jq -r '.[0].paths[].from' | sort | tr '\n' ' ')
assert_eq "$(printf '%s\n' "$rb" "$rf" | sort | tr '\n' ' ')" "$froms" "n1's paths for n2's CIDR come from"
nhs=$(bgpd_route_json "$N1" 198.19.2.0/24 | jq -r '.[0].paths[].next_hop' | sort -u)
assert_eq "$n2" "$nhs" "next hop of both reflected paths at n1"
# A node must not install its own reflected route.
assert_eq blackhole "$(ip -n "$N1" -j route show exact 198.19.1.0/24 | jq -r '.[0].type // empty')" "n1's own CIDR in n1's kernel"

assert_ping "$P1" "$(pod_addr4 "$P2")" 3

harness_log "BIRD reflector gone: the FRR path carries on"
bird_stop "$RB"
wait_until 30 _paths_are "$N1" 198.19.2.0/24 1
assert_route_via "$N1" 198.19.2.0/24 "$n2"
assert_route_via "$N2" 198.19.1.0/24 "$n1"
assert_ping "$P2" "$(pod_addr4 "$P1")" 3
echo "route reflector clients OK"
