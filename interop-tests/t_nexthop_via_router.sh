#!/usr/bin/env bash
# Next hops off the connected subnets (nodes in different racks, iBGP between them across a
# routed underlay that itself speaks no BGP with us):
#   a (bgpd, AS 64512) --link1-- r1 --link2-- f (FRR, AS 64512)
#   a                  --link3-- r2 --link4-- f
# r1 and r2 are plain routers (static routes, no BGP). a reaches f's subnet 198.18.2.0/24 over
# a static route via r1, f reaches a's 198.18.1.0/24 via r1; the iBGP session runs between
# 198.18.1.1 and 198.18.2.2 through r1.
# Checks (RFC 4271 §5.1.3 recursive lookup): bgpd takes f's path as best with next hop
# 198.18.2.2 and interior cost = the static route's metric (`show routes --explain` and
# `show nexthops`: via r1, its device); a's kernel has f's Pod CIDR via
# r1 (the immediate gateway), FRR's kernel has a's via r1; the pods ping each other. a's
# static route moved to r2: the kernel route follows to r2, pods still ping. The static route
# removed: the path turns "next hop unreachable" and the kernel route goes; put back, it
# returns.
# timeout: 150
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add a); R1=$(node_add r1); R2=$(node_add r2); F=$(node_add frr)
link_add "$A" "$R1" >/dev/null   # 1: a 198.18.1.1, r1 198.18.1.2
link_add "$R1" "$F" >/dev/null   # 2: r1 198.18.2.1, f 198.18.2.2
link_add "$A" "$R2" >/dev/null   # 3: a 198.18.3.1, r2 198.18.3.2
link_add "$R2" "$F" >/dev/null   # 4: r2 198.18.4.1, f 198.18.4.2
PA=$(pod_add "$A" 198.19.1.0/24); PF=$(pod_add "$F" 198.19.2.0/24)
# The underlay: static routes only.
ip -n "$A" route add 198.18.2.0/24 via 198.18.1.2 metric 30
ip -n "$F" route add 198.18.1.0/24 via 198.18.2.1
ip -n "$R1" route add 198.19.1.0/24 via 198.18.1.1
ip -n "$R1" route add 198.19.2.0/24 via 198.18.2.2
ip -n "$R2" route add 198.19.1.0/24 via 198.18.3.1
ip -n "$R2" route add 198.19.2.0/24 via 198.18.4.2
ip -n "$R2" route add 198.18.2.0/24 via 198.18.4.2

bgpd_write_config "$TEST_DIR/$A/bgpd.yaml" 198.18.1.1 64512 --originate 198.19.1.0/24 \
  --neighbor "198.18.2.2 64512 local=198.18.1.1"
start_bgpd "$A" "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd did not start"
frr_start "$F" 198.18.2.2 64512 --neighbor "198.18.1.1 64512 local=198.18.2.2" \
  --originate 198.19.2.0/24

harness_log "iBGP across r1: up, routes resolved through the static routes"
wait_until 60 bgpd_established "$A" 198.18.2.2
wait_until 30 frr_established "$F" 198.18.1.1
wait_route_via 30 "$A" 198.19.2.0/24 198.18.1.2
assert_contains " $BGPD_KERNEL_PROTOS " " $(kernel_route_protocol "$A" 198.19.2.0/24) " "protocol of a's route"
wait_route_via 30 "$F" 198.19.1.0/24 198.18.2.1
rj=$(bgpctl_in "$A" show routes 198.19.2.0/24 --explain --json)
assert_eq 198.18.2.2 "$(jq -r '.[0].paths[0].next_hop' <<<"$rj")" "BGP next hop in bgpd's RIB"
assert_eq true "$(jq -r '.[0].paths[0].best' <<<"$rj")" "path best"
assert_eq 30 "$(jq -r '.[0].paths[0].igp_cost' <<<"$rj")" "interior cost (the static route's metric)"
nj=$(bgpctl_in "$A" show nexthops --json | jq '.[] | select(.next_hop == "198.18.2.2")')
assert_eq true "$(jq -r .reachable <<<"$nj")" "show nexthops: reachable"
assert_eq 30 "$(jq -r .igp_cost <<<"$nj")" "show nexthops: igp_cost"
assert_eq 198.18.1.2 "$(jq -r '.via[0].gateway' <<<"$nj")" "show nexthops: via r1"
assert_eq "$(ifname "$A" "$R1")" "$(jq -r '.via[0].dev' <<<"$nj")" "show nexthops: device"
assert_ping "$PA" "$(pod_addr4 "$PF")"
assert_ping "$PF" "$(pod_addr4 "$PA")"

harness_log "a's static route moves to r2: the kernel route follows"
ip -n "$A" route replace 198.18.2.0/24 via 198.18.3.2 metric 30
wait_route_via 15 "$A" 198.19.2.0/24 198.18.3.2
assert_ping "$PA" "$(pod_addr4 "$PF")"
bgpd_established "$A" 198.18.2.2 || fail "the session went down when its route moved"

harness_log "static route removed: next hop unreachable, kernel route gone"
ip -n "$A" route del 198.18.2.0/24 via 198.18.3.2 metric 30
wait_no_route 15 "$A" 198.19.2.0/24
_unreachable() {
  [ "$(bgpctl_in "$A" show routes 198.19.2.0/24 --json | jq -r '.[0].paths[0].reason')" = "next hop unreachable" ]
}
wait_until 10 _unreachable
assert_eq false "$(bgpctl_in "$A" show nexthops --json | jq -r '.[] | select(.next_hop == "198.18.2.2") | .reachable')" "show nexthops: unreachable"

harness_log "static route back: route back"
ip -n "$A" route add 198.18.2.0/24 via 198.18.1.2 metric 30
wait_route_via 30 "$A" 198.19.2.0/24 198.18.1.2
wait_until 60 bgpd_established "$A" 198.18.2.2
assert_ping "$PA" "$(pod_addr4 "$PF")"
echo "NEXT HOP VIA ROUTER OK"
