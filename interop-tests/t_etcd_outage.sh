#!/usr/bin/env bash
# Cluster datastore failures: three bgpd nodes meshed from etcd.
# 1. etcd stopped for 30 s: no session flaps, no route is lost, `show datastore` says not
#    connected with the error; etcd back: reconnected, and a node added then appears.
# 2. etcd cut off from the nodes (its switch port down) while a block is added and the
#    store compacted past the nodes' watch revision: after the cut the nodes re-list and
#    route the new block, still without a flap.
# 3. bgpd restarted while etcd is down: it starts from its saved view (log says so), its
#    sessions come up and it routes every block again; etcd back: the view is etcd's again.
# timeout: 240
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

E=$(node_add etcd)
N=(); for i in 1 2 3 4; do N[i]=$(node_add "n$i"); done
L=$(lan_add "$E" "${N[1]}" "${N[2]}" "${N[3]}" "${N[4]}")
etcd_addr=$(lan_addr4 "$L" "$E")
a=(); for i in 1 2 3 4; do a[i]=$(lan_addr4 "$L" "${N[i]}"); done
url="http://$etcd_addr:2379"

etcd_start "$E" "$etcd_addr" || fail "etcd did not start"
calico_pool "$E" pods 198.19.0.0/16
for i in 1 2 3; do
  calico_node "$E" "node-$i" "${a[i]}/24"
  calico_block "$E" "node-$i" "198.19.$i.0/26"
done
for i in 1 2 3 4; do bgpd_write_datastore_config "$TEST_DIR/${N[i]}/bgpd.yaml" "node-$i" "$url"; done
for i in 1 2 3 4; do start_bgpd "${N[i]}" "$TEST_DIR/${N[i]}/bgpd.yaml" || fail "bgpd node-$i did not start"; done
all_routed() {
  local i j
  for i in 1 2 3; do for j in 1 2 3; do
    [ "$i" = "$j" ] || bgpd_kernel_route "${N[i]}" "198.19.$j.0/26" "${a[j]}" || return 1
  done; done
}
wait_until 45 all_routed
# The established counts of the sessions among nodes 1..3 (a flap raises one).
counts() {
  local i j
  for i in 1 2 3; do for j in 1 2 3; do
    [ "$i" = "$j" ] || printf '%s ' "$(bgpd_nbr_field "${N[i]}" "${a[j]}" .established_count)"
  done; done
}
flaps=$(counts)
assert_eq "1 1 1 1 1 1 " "$flaps" "established counts among nodes 1..3"
no_flap() { [ "$(counts)" = "$flaps" ]; }
steady() { all_routed && no_flap; }

harness_log "1. etcd stopped for 30 s: sessions and routes stay"
etcd_stop "$E"
_disconnected() { [ "$(bgpd_datastore_json "${N[1]}" | jq -r .connected)" = false ]; }
wait_until 20 _disconnected
holds_for 30 steady
jq -e '.last_error != null' <<<"$(bgpd_datastore_json "${N[1]}")" >/dev/null ||
  fail "show datastore has no last_error: $(bgpd_datastore_json "${N[1]}")"
etcd_restart "$E" || fail "etcd did not restart"
_connected() { [ "$(bgpd_datastore_json "$1" | jq -r .connected)" = true ]; }
for i in 1 2 3; do wait_until 30 _connected "${N[i]}"; done
calico_node "$E" node-4 "${a[4]}/24"
calico_block "$E" node-4 198.19.4.0/26
for i in 1 2 3; do wait_bgpd_route 30 "${N[i]}" 198.19.4.0/26 "${a[4]}"; done
wait_bgpd_route 30 "${N[4]}" 198.19.1.0/26 "${a[1]}"
assert_cmd no_flap

harness_log "2. etcd cut off; a block added and the store compacted meanwhile"
sw=$(ns "sw$L")
ip -n "$sw" link set p1 down   # etcd is the first port of the LAN's bridge
_not_connected_at() { [ "$(bgpd_datastore_json "$1" | jq -r .connected)" = false ]; }
wait_until 30 _not_connected_at "${N[1]}"
calico_block "$E" node-2 198.19.22.0/26
calico_node "$E" node-1 "${a[1]}/24" "" "" '"touched":"yes"'   # more revisions to compact
etcdctl_in "$E" compact "$(etcd_revision "$E")" >/dev/null
holds_for 5 steady
ip -n "$sw" link set p1 up
for i in 1 3; do wait_bgpd_route 45 "${N[i]}" 198.19.22.0/26 "${a[2]}"; done
assert_cmd no_flap
bgpd_log_has "${N[1]}" "compacted" || fail "node-1 did not notice the compaction (log)"

harness_log "3. bgpd restarted while etcd is down: starts from the saved view"
etcd_stop "$E"
stop_bgpd "${N[1]}"
bgpd_restart "${N[1]}" || fail "bgpd node-1 did not restart"
bgpd_log_has "${N[1]}" "starting from the saved datastore view" || fail "node-1 did not use its saved view"
assert_eq saved "$(bgpd_datastore_json "${N[1]}" | jq -r .view_source)" "node-1's view source"
for j in 2 3 4; do wait_bgpd_route 45 "${N[1]}" "198.19.$j.0/26" "${a[j]}"; done
wait_bgpd_route 45 "${N[1]}" 198.19.22.0/26 "${a[2]}"
for i in 2 3; do wait_bgpd_route 45 "${N[i]}" 198.19.1.0/26 "${a[1]}"; done
etcd_restart "$E" || fail "etcd did not restart"
_from_datastore() { [ "$(bgpd_datastore_json "${N[1]}" | jq -r .view_source)" = datastore ]; }
wait_until 30 _from_datastore
wait_until 10 _connected "${N[1]}"
echo "etcd outages OK"
