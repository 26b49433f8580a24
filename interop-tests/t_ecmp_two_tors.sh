#!/usr/bin/env bash
# ECMP over two top-of-rack routers (Calico "AS per rack" with two ToRs):
#   tor1 (BIRD, AS 65000) --eBGP-- node (bgpd, AS 64512, max_paths: 4) --eBGP-- tor2 (BIRD, AS 65000)
# Both ToRs announce 198.19.100.0/24 and 2001:db8:ff64::/48 with equal attributes (same AS,
# same origin, no MED). Checks: both paths in bgpd's RIB marked ecmp; the kernel route is ONE
# route with both ToRs as next hops (proto 179); both ToRs have the node's Pod CIDR in their
# table and kernel; tor2 gone -> single next hop via tor1; tor2 back -> two again.
# timeout: 180
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

N=$(node_add node); T1=$(node_add tor1); T2=$(node_add tor2)
link_add "$N" "$T1" >/dev/null   # 198.18.1.0/24
link_add "$N" "$T2" >/dev/null   # 198.18.2.0/24
t1=198.18.1.2 t2=198.18.2.2

bgpd_write_config "$TEST_DIR/$N/bgpd.yaml" 198.18.1.1 64512 --max-paths 4 \
  --neighbor "$t1 65000" --neighbor "$t2 65000" \
  --neighbor "2001:db8:1::2 65000" --neighbor "2001:db8:2::2 65000" \
  --originate 198.19.1.0/24
start_bgpd "$N" "$TEST_DIR/$N/bgpd.yaml" || fail "bgpd did not start"
for k in 1 2; do
  T=$T1; [ "$k" = 2 ] && T=$T2
  bird_start "$T" "198.18.$k.2" 65000 \
    --neighbor "198.18.$k.1 64512" --neighbor "2001:db8:$k::1 64512" \
    --originate 198.19.100.0/24 --originate 2001:db8:ff64::/48
done

for p in "$t1" "$t2" 2001:db8:1::2 2001:db8:2::2; do wait_until 60 bgpd_established "$N" "$p"; done
wait_until 30 bird_established "$T1" 198.18.1.1
wait_until 30 bird_established "$T2" 198.18.2.1

harness_log "IPv4: one kernel route, two next hops"
wait_multipath 30 "$N" 198.19.100.0/24 "$t1" "$t2"
assert_contains " $BGPD_KERNEL_PROTOS " " $(kernel_route_protocol "$N" 198.19.100.0/24) " "protocol of the ECMP route"
assert_eq 1 "$(ip -n "$N" -j route show exact 198.19.100.0/24 | jq length)" "number of kernel routes for 198.19.100.0/24"
rj=$(bgpd_route_json "$N" 198.19.100.0/24)
assert_eq 2 "$(jq '[.[0].paths[]] | length' <<<"$rj")" "paths in bgpd's RIB"
assert_eq 2 "$(jq '[.[0].paths[] | select(.ecmp == true)] | length' <<<"$rj")" "paths marked ecmp"
assert_eq 1 "$(jq '[.[0].paths[] | select(.best == true)] | length' <<<"$rj")" "paths marked best"
kj=$(bgpctl_in "$N" show kernel --json)
# The contract shows next hops as strings; accept {"gateway": ...} objects too.
assert_eq "$t1 $t2" "$(jq -r '.[] | select(.prefix == "198.19.100.0/24") | .next_hops
  | map(if type == "string" then . else .gateway end) | sort | join(" ")' <<<"$kj")" "bgpctl show kernel next hops"

harness_log "IPv6: one kernel route, two next hops"
ll1=$(linklocal6 "$T1" "$(ifname "$T1" "$N")"); ll2=$(linklocal6 "$T2" "$(ifname "$T2" "$N")")
_v6_two_hops() {
  local hops
  hops=$(kernel_route_gateways "$N" 2001:db8:ff64::/48 | sort -u | tr '\n' ' ')
  { [[ $hops == *"2001:db8:1::2 "* ]] || [[ $hops == *"$ll1 "* ]]; } &&
    { [[ $hops == *"2001:db8:2::2 "* ]] || [[ $hops == *"$ll2 "* ]]; }
}
eventually 30 _v6_two_hops ||
  fail "2001:db8:ff64::/48 in node: expected a next hop via each ToR, kernel has: $(ip -n "$N" -6 route show exact 2001:db8:ff64::/48 | tr '\n' ';')"

harness_log "both ToRs have the node's Pod CIDR"
for k in 1 2; do
  T=$T1; [ "$k" = 2 ] && T=$T2
  wait_until 30 bird_has_route "$T" 198.19.1.0/24
  assert_eq "198.18.$k.1" "$(bird_route_nexthops "$T" 198.19.1.0/24)" "tor$k's next hop"
  wait_route_via 30 "$T" 198.19.1.0/24 "198.18.$k.1"
done

harness_log "tor2 gone: one next hop left"
bird_stop "$T2"
wait_multipath 30 "$N" 198.19.100.0/24 "$t1"
harness_log "tor2 back: two again"
_bird_launch "$T2"
wait_multipath 60 "$N" 198.19.100.0/24 "$t1" "$t2"
echo "ECMP over two ToRs OK"
