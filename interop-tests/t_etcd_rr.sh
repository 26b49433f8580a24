#!/usr/bin/env bash
# Cluster datastore, route reflectors (Calico's usual setup at scale): the mesh is off in the
# default BGPConfiguration, two nodes have a routeReflectorClusterID and the label
# route-reflector, and one BGPPeer {nodeSelector: all(), peerSelector: has(route-reflector)}
# makes every node peer with the reflectors (the reflectors peer back with every node:
# Calico's automatic reverse peering).
# Checks: clients have sessions with the two reflectors only (source bgppeer/...); each
# reflector has every other node, the clients as route-reflector clients, the other reflector
# not; every client's kernel holds every other client's block via the originating node (the
# reflectors keep the next hop), from both reflectors; deleting the BGPPeer removes every
# session, adding it back restores them.
# timeout: 200
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

E=$(node_add etcd)
R1=$(node_add rr1); R2=$(node_add rr2)
C=(); for i in 1 2 3; do C[i]=$(node_add "c$i"); done
L=$(lan_add "$E" "$R1" "$R2" "${C[1]}" "${C[2]}" "${C[3]}")
etcd_addr=$(lan_addr4 "$L" "$E")
r1=$(lan_addr4 "$L" "$R1"); r2=$(lan_addr4 "$L" "$R2")
c=(); for i in 1 2 3; do c[i]=$(lan_addr4 "$L" "${C[i]}"); done
url="http://$etcd_addr:2379"

etcd_start "$E" "$etcd_addr" || fail "etcd did not start"
calico_bgpconfig "$E" default '{"nodeToNodeMeshEnabled":false,"asNumber":64513}'
calico_pool "$E" pods 198.19.0.0/16
rr='"routeReflectorClusterID":"224.0.0.1"'
calico_node "$E" rr-1 "$r1/24" "" "$rr" '"route-reflector":"true"'
calico_node "$E" rr-2 "$r2/24" "" "$rr" '"route-reflector":"true"'
for i in 1 2 3; do
  calico_node "$E" "client-$i" "${c[i]}/24"
  calico_block "$E" "client-$i" "198.19.$i.0/26"
done
calico_bgppeer "$E" peer-with-route-reflectors '{"nodeSelector":"all()","peerSelector":"has(route-reflector)"}'

bgpd_write_datastore_config "$TEST_DIR/$R1/bgpd.yaml" rr-1 "$url"
bgpd_write_datastore_config "$TEST_DIR/$R2/bgpd.yaml" rr-2 "$url"
for i in 1 2 3; do bgpd_write_datastore_config "$TEST_DIR/${C[i]}/bgpd.yaml" "client-$i" "$url"; done
start_bgpd "$R1" "$TEST_DIR/$R1/bgpd.yaml" || fail "rr-1 did not start"
start_bgpd "$R2" "$TEST_DIR/$R2/bgpd.yaml" || fail "rr-2 did not start"
for i in 1 2 3; do start_bgpd "${C[i]}" "$TEST_DIR/${C[i]}/bgpd.yaml" || fail "client-$i did not start"; done

harness_log "sessions: clients with the reflectors only"
_neighbors_are() { [ "$(bgpd_neighbor_addresses "$1")" = "$2" ]; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
for i in 1 2 3; do
  wait_until 20 _neighbors_are "${C[i]}" "$(sorted "$r1" "$r2")"
  wait_until 45 bgpd_established "${C[i]}" "$r1"
  wait_until 45 bgpd_established "${C[i]}" "$r2"
  assert_eq bgppeer/peer-with-route-reflectors "$(bgpd_nbr_field "${C[i]}" "$r1" .source)" "client-$i's session source"
done
wait_until 20 _neighbors_are "$R1" "$(sorted "$r2" "${c[1]}" "${c[2]}" "${c[3]}")"
wait_until 45 bgpd_established "$R1" "$r2"
assert_eq 64513 "$(bgpd_nbr_field "$R1" "$r2" .remote_as)" "AS from the BGPConfiguration"
ds=$(bgpctl_in "$R1" show neighbor "$r2" --json)
assert_eq true "$(jq -r .ibgp <<<"$ds")" "rr-1 -> rr-2 is iBGP"

harness_log "every client routes every other client's block via the originating node, from both reflectors"
for i in 1 2 3; do
  for j in 1 2 3; do
    [ "$i" = "$j" ] && continue
    wait_bgpd_route 45 "${C[i]}" "198.19.$j.0/26" "${c[j]}"
    _two_paths() { [ "$(bgpd_route_paths "$1" "$2")" = 2 ]; }
    wait_until 20 _two_paths "${C[i]}" "198.19.$j.0/26"
  done
done
froms=$(bgpd_route_json "${C[1]}" 198.19.2.0/26 | jq -r '.[0].paths[].from' | sort | tr '\n' ' ' | sed 's/ $//')
assert_eq "$(sorted "$r1" "$r2")" "$froms" "client-1's paths for client-2's block come from"

harness_log "the BGPPeer is deleted: every session goes, and comes back when it returns"
calico_bgppeer_del "$E" peer-with-route-reflectors
for n in "${C[1]}" "${C[2]}" "${C[3]}" "$R1" "$R2"; do wait_until 10 _neighbors_are "$n" ""; done
wait_no_route 10 "${C[1]}" 198.19.2.0/26
calico_bgppeer "$E" peer-with-route-reflectors '{"nodeSelector":"all()","peerSelector":"has(route-reflector)"}'
wait_bgpd_route 45 "${C[1]}" 198.19.2.0/26 "${c[2]}"
echo "etcd route reflectors OK"
