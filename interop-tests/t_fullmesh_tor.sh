#!/usr/bin/env bash
# Calico's "node-to-node mesh" plus a top-of-rack router:
#   three bgpd nodes (AS 64512) in an iBGP full mesh on one LAN, each with a pod and its Pod
#   CIDR 198.19.K.0/24, and a BIRD ToR (AS 65000) peering eBGP with every node.
# Checks: every session Established (bgpctl and birdc); every node's kernel has the other two
# Pod CIDRs via the owning node's LAN address with protocol 179 (bgpd); BIRD has all three (the
# owner's path with the owner as next hop), in its table and kernel, and reaches every pod;
# pod 3 pings pod 1 (no tunnel); a node
# leaving (bgpd stopped) withdraws its Pod CIDR from every kernel and from BIRD; it comes back
# when that bgpd starts again. The nodes run with graceful restart off, so stopping bgpd
# (SIGTERM) means leaving: Cease to every peer, routes withdrawn.
# timeout: 200
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

N=(); for i in 1 2 3; do N[i]=$(node_add "n$i"); done
T=$(node_add tor)
L=$(lan_add "${N[1]}" "${N[2]}" "${N[3]}" "$T")
addr=(); for i in 1 2 3; do addr[i]=$(lan_addr4 "$L" "${N[i]}"); done
tor=$(lan_addr4 "$L" "$T")
POD=(); for i in 1 2 3; do POD[i]=$(pod_add "${N[i]}" "198.19.$i.0/24"); done

tor_args=()
for i in 1 2 3; do
  args=(--neighbor "$tor 65000" --originate "198.19.$i.0/24")
  for j in 1 2 3; do [ "$i" = "$j" ] || args+=(--neighbor "${addr[j]} 64512"); done
  # Graceful restart off: a stopped node then sends Cease and its routes are withdrawn at once
  # (with it on, SIGTERM is a graceful restart and peers keep the routes, see t_graceful_restart).
  bgpd_write_config "$TEST_DIR/${N[i]}/bgpd.yaml" "${addr[i]}" 64512 --gr false "${args[@]}"
  start_bgpd "${N[i]}" "$TEST_DIR/${N[i]}/bgpd.yaml" || fail "bgpd on node $i did not start"
  tor_args+=(--neighbor "${addr[i]} 64512")
done
bird_start "$T" "$tor" 65000 "${tor_args[@]}"

harness_log "sessions"
for i in 1 2 3; do
  wait_until 60 bgpd_established "${N[i]}" "$tor"
  for j in 1 2 3; do [ "$i" = "$j" ] || wait_until 60 bgpd_established "${N[i]}" "${addr[j]}"; done
  wait_until 30 bird_established "$T" "${addr[i]}"
done

harness_log "Pod CIDRs in every kernel and in BIRD"
for i in 1 2 3; do
  for j in 1 2 3; do
    [ "$i" = "$j" ] && continue
    wait_bgpd_route 30 "${N[i]}" "198.19.$j.0/24" "${addr[j]}"
    # Only the node's own path: the ToR's copy carries AS 64512 and is dropped (loop).
    assert_eq 1 "$(bgpd_route_paths "${N[i]}" "198.19.$j.0/24")" "paths node $i holds for 198.19.$j.0/24"
  done
  wait_until 30 bird_has_route "$T" "198.19.$i.0/24"
  # The owner's own path is there with the owner as next hop (other nodes may re-advertise
  # it with themselves or the owner as next hop: both are valid, RFC 4271 §5.1.3).
  assert_contains "$(bird_route_nexthops "$T" "198.19.$i.0/24")" "${addr[i]}" "BIRD's next hops for 198.19.$i.0/24"
  wait_until 30 route_exists "$T" "198.19.$i.0/24"
  assert_eq bird "$(kernel_route_protocol "$T" "198.19.$i.0/24")" "protocol in the ToR's kernel"
  assert_ping "$T" "$(pod_addr4 "${POD[i]}")"
done

harness_log "pod on node 3 pings pod on node 1"
assert_ping "${POD[3]}" "$(pod_addr4 "${POD[1]}")" 3
assert_ping "${POD[1]}" "$(pod_addr4 "${POD[2]}")" 3

harness_log "node 2 leaves"
stop_bgpd "${N[2]}" || fail "bgpd on node 2 did not stop on SIGTERM"
wait_no_route 20 "${N[1]}" 198.19.2.0/24
wait_no_route 20 "${N[3]}" 198.19.2.0/24
wait_until 20 _negate bird_has_route "$T" 198.19.2.0/24
wait_no_route 20 "$T" 198.19.2.0/24
# The others are untouched.
assert_route_via "${N[1]}" 198.19.3.0/24 "${addr[3]}"
route_exists "$T" 198.19.1.0/24 || fail "the ToR lost 198.19.1.0/24"
bgpd_established "${N[1]}" "${addr[3]}" || fail "node 1 lost its session to node 3"

harness_log "node 2 comes back"
bgpd_restart "${N[2]}" || fail "bgpd on node 2 did not start again"
wait_bgpd_route 60 "${N[1]}" 198.19.2.0/24 "${addr[2]}"
wait_bgpd_route 30 "${N[3]}" 198.19.2.0/24 "${addr[2]}"
wait_until 30 route_exists "$T" 198.19.2.0/24
wait_bgpd_route 30 "${N[2]}" 198.19.1.0/24 "${addr[1]}"
assert_ping "${POD[2]}" "$(pod_addr4 "${POD[3]}")" 3
echo "full mesh + ToR OK"
