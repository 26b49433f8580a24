#!/usr/bin/env bash
# Cluster datastore, full mesh: four bgpd nodes configure themselves from a real etcd holding
# Calico's v3 resources (nodes, an IP pool, block affinities, as calicoctl stores them); their
# files name only the node and the etcd endpoint.
# Checks: every kernel holds every other node's blocks via that node (proto 179), each node's
# own block is a blackhole; `show neighbors` says the sessions come from the mesh;
# `show datastore` is connected with the right counts; a fifth node and its block added in etcd
# are meshed and routed everywhere within 5 s; deleting a node removes its sessions and routes
# everywhere while no other session flaps (established counts and uptimes unchanged); a bad
# resource is skipped, reported with its key, and does not stop later changes; a block in a
# VXLAN pool is exchanged over BGP but not installed (Felix's), and installed once the pool
# no longer encapsulates.
# timeout: 200
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

E=$(node_add etcd)
N=(); for i in 1 2 3 4 5; do N[i]=$(node_add "n$i"); done
L=$(lan_add "$E" "${N[1]}" "${N[2]}" "${N[3]}" "${N[4]}" "${N[5]}")
etcd_addr=$(lan_addr4 "$L" "$E")
a=(); for i in 1 2 3 4 5; do a[i]=$(lan_addr4 "$L" "${N[i]}"); done
url="http://$etcd_addr:2379"

etcd_start "$E" "$etcd_addr" || fail "etcd did not start"
calico_pool "$E" default-ipv4 198.19.0.0/16
for i in 1 2 3 4; do
  calico_node "$E" "node-$i" "${a[i]}/24"
  calico_block "$E" "node-$i" "198.19.$i.0/26"
done

for i in 1 2 3 4 5; do
  bgpd_write_datastore_config "$TEST_DIR/${N[i]}/bgpd.yaml" "node-$i" "$url"
done
for i in 1 2 3 4; do start_bgpd "${N[i]}" "$TEST_DIR/${N[i]}/bgpd.yaml" || fail "bgpd node-$i did not start"; done

harness_log "4 nodes: every kernel holds every other node's block via that node"
for i in 1 2 3 4; do
  for j in 1 2 3 4; do
    [ "$i" = "$j" ] && continue
    wait_bgpd_route 45 "${N[i]}" "198.19.$j.0/26" "${a[j]}"
  done
  assert_eq blackhole "$(ip -n "${N[i]}" -j route show exact "198.19.$i.0/26" | jq -r '.[0].type // empty')" "node-$i's own block"
done
for i in 1 2 3 4; do
  assert_eq 3 "$(bgpd_established_count "${N[i]}")" "Established sessions at node-$i"
done
assert_eq "mesh/node-2" "$(bgpd_nbr_field "${N[1]}" "${a[2]}" .source)" "source of node-1's session to node-2"
ds=$(bgpd_datastore_json "${N[1]}")
assert_eq true "$(jq -r .connected <<<"$ds")" "show datastore: connected"
assert_eq 4 "$(jq -r .resources.nodes <<<"$ds")" "show datastore: nodes"
assert_eq 1 "$(jq -r .resources.blocks <<<"$ds")" "show datastore: this node's blocks"
assert_eq 1 "$(jq -r .resources.ippools <<<"$ds")" "show datastore: pools"
bgpctl_in "${N[1]}" show datastore | grep -q "^State *connected" || fail "show datastore table: $(bgpctl_in "${N[1]}" show datastore)"
bgpctl_in "${N[1]}" show neighbors | grep -q "mesh/node-2" || fail "show neighbors has no Source column"
before=$(for i in 1 2 3; do bgpd_flaps "${N[i]}"; done)

harness_log "a fifth node joins: meshed and routed everywhere within 5 s"
start_bgpd "${N[5]}" "$TEST_DIR/${N[5]}/bgpd.yaml" || fail "bgpd node-5 did not start"
t0=$(date +%s%N)
calico_node "$E" node-5 "${a[5]}/24"
calico_block "$E" node-5 198.19.5.0/26
for i in 1 2 3 4; do
  wait_bgpd_route 5 "${N[i]}" 198.19.5.0/26 "${a[5]}"
  wait_bgpd_route 5 "${N[5]}" "198.19.$i.0/26" "${a[i]}"
done
took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
harness_log "node-5 routed everywhere after ${took_ms} ms"
[ "$took_ms" -le 5000 ] || fail "node-5 took ${took_ms} ms to be routed everywhere (goal 5000)"
_count_is() { [ "$(bgpd_established_count "$1")" = "$2" ]; }
for i in 1 2 3 4 5; do wait_until 10 _count_is "${N[i]}" 4; done

harness_log "node-4 leaves: its sessions and routes go, no other session flaps"
sleep 2
up_before=$(bgpd_nbr_field "${N[1]}" "${a[2]}" .uptime_secs)
calico_block_del "$E" node-4 198.19.4.0/26
calico_node_del "$E" node-4
for i in 1 2 3 5; do
  wait_no_route 10 "${N[i]}" 198.19.4.0/26
  _gone() { ! bgpd_neighbor_addresses "$1" | grep -qw "$2"; }
  wait_until 10 _gone "${N[i]}" "${a[4]}"
done
after=$(for i in 1 2 3; do bgpd_flaps "${N[i]}"; done)
# The sessions among 1..3 kept their established count (node-4's are gone, node-5's new).
for i in 1 2 3; do
  for j in 1 2 3; do
    [ "$i" = "$j" ] && continue
    assert_eq 1 "$(bgpd_nbr_field "${N[i]}" "${a[j]}" .established_count)" "node-$i -> node-$j established count"
  done
done
up=$(bgpd_nbr_field "${N[1]}" "${a[2]}" .uptime_secs)
[ "$up" -ge "$up_before" ] || fail "node-1 -> node-2 uptime $up s, was $up_before s: the session was reset"
harness_log "flaps before: $before / after: $after"

harness_log "a bad resource is skipped with its key; later changes still apply"
etcd_put "$E" "$_CALICO_RES/nodes/node-9" '{"spec":{"bgp":{"ipv4Address": oops'
calico_node "$E" node-8 "198.18.$L.250/24"   # an address no bgpd has: configured, not up
_listed() { bgpd_neighbor_addresses "$1" | grep -qw "198.18.$L.250"; }
wait_until 10 _listed "${N[1]}"
jq -e '.problems[] | select(.key | endswith("/nodes/node-9"))' <<<"$(bgpd_datastore_json "${N[1]}")" >/dev/null ||
  fail "node-9 not reported: $(bgpd_datastore_json "${N[1]}")"
bgpd_log_has "${N[1]}" "node-9.*resource skipped|resource skipped.*node-9" || fail "no log line names node-9"
for j in 2 3 5; do assert_eq 1 "$(bgpd_nbr_field "${N[1]}" "${a[j]}" .established_count)" "node-1 -> ${a[j]} after the bad resource"; done
harness_log "a VXLAN pool's routes are exchanged but left to Felix; without VXLAN they are installed"
calico_pool "$E" vxlan 198.19.128.0/17 Never Always
calico_block "$E" node-3 198.19.130.0/26
wait_until 10 bgpd_has_route "${N[1]}" 198.19.130.0/26
holds_for 2 _negate bgpd_kernel_route "${N[1]}" 198.19.130.0/26 "${a[3]}"
assert_no_route "${N[1]}" 198.19.130.0/26
calico_pool "$E" vxlan 198.19.128.0/17 Never Never
wait_bgpd_route 10 "${N[1]}" 198.19.130.0/26 "${a[3]}"
harness_log "logSeverityScreen Debug for node-1 only: its log level changes live, no session flaps"
calico_bgpconfig "$E" node.node-1 '{"logSeverityScreen": "Debug"}'
wait_until 10 bgpd_log_has "${N[1]}" "log level changed.*to=debug"
bgpctl_in "${N[1]}" reload >/dev/null 2>&1 || fail "reload on node-1 failed"
_debug_lines() { [ "$(grep -c " DEBUG " "$TEST_DIR/${N[1]}/bgpd.log")" -gt 0 ]; }
wait_until 10 _debug_lines
bgpd_log_has "${N[2]}" "log level changed" && fail "node-2's log level changed too"
grep -q " DEBUG " "$TEST_DIR/${N[2]}/bgpd.log" && fail "node-2 logs debug lines"
for j in 2 3 5; do assert_eq 1 "$(bgpd_nbr_field "${N[1]}" "${a[j]}" .established_count)" "node-1 -> ${a[j]} after the log level change"; done
echo "etcd mesh OK (node-5 routed everywhere in ${took_ms} ms)"
