#!/usr/bin/env bash
# Cluster datastore, a top-of-rack router: three bgpd nodes in a mesh from etcd; a BGPPeer
# {nodeSelector: rack == 'a', peerIP: the ToR, asNumber: 65000} gives the two rack-a nodes an
# eBGP session to a real BIRD ToR. Then a block moves from node-1 to node-2 (IPAM gives it to
# another node), as when a node is drained and its block reassigned.
# Checks: rack-a nodes peer with BIRD (source bgppeer/tor-a), node-3 does not; BIRD holds every
# node's block and installs it in its kernel; after the move node-2 originates the block
# (blackhole in its kernel), node-1 and node-3 route it via node-2, BIRD has a path via node-2
# and its kernel routes it there; no session flapped.
# timeout: 200
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

E=$(node_add etcd); T=$(node_add tor)
N=(); for i in 1 2 3; do N[i]=$(node_add "n$i"); done
L=$(lan_add "$E" "$T" "${N[1]}" "${N[2]}" "${N[3]}")
etcd_addr=$(lan_addr4 "$L" "$E"); tor=$(lan_addr4 "$L" "$T")
a=(); for i in 1 2 3; do a[i]=$(lan_addr4 "$L" "${N[i]}"); done
url="http://$etcd_addr:2379"

etcd_start "$E" "$etcd_addr" || fail "etcd did not start"
calico_pool "$E" pods 198.19.0.0/16
calico_node "$E" node-1 "${a[1]}/24" "" "" '"rack":"a"'
calico_node "$E" node-2 "${a[2]}/24" "" "" '"rack":"a"'
calico_node "$E" node-3 "${a[3]}/24" "" "" '"rack":"b"'
for i in 1 2 3; do calico_block "$E" "node-$i" "198.19.$i.0/26"; done
calico_bgppeer "$E" tor-a "{\"nodeSelector\":\"rack == 'a'\",\"peerIP\":\"$tor\",\"asNumber\":65000}"

bird_start "$T" "$tor" 65000 --neighbor "${a[1]} 64512" --neighbor "${a[2]} 64512"
for i in 1 2 3; do
  bgpd_write_datastore_config "$TEST_DIR/${N[i]}/bgpd.yaml" "node-$i" "$url"
  start_bgpd "${N[i]}" "$TEST_DIR/${N[i]}/bgpd.yaml" || fail "bgpd node-$i did not start"
done

harness_log "rack a peers with the ToR, rack b does not"
for i in 1 2; do
  wait_until 45 bgpd_established "${N[i]}" "$tor"
  wait_until 30 bird_established "$T" "${a[i]}"
  assert_eq bgppeer/tor-a "$(bgpd_nbr_field "${N[i]}" "$tor" .source)" "node-$i's ToR session source"
done
_no_tor() { ! bgpd_neighbor_addresses "${N[3]}" | grep -qw "$tor"; }
assert_cmd _no_tor

harness_log "BIRD holds every node's block and installs it"
for i in 1 2 3; do wait_until 30 bird_has_route "$T" "198.19.$i.0/26"; done
wait_route_via 30 "$T" 198.19.1.0/26 "${a[1]}"
wait_route_via 30 "$T" 198.19.2.0/26 "${a[2]}"
for i in 1 2 3; do for j in 1 2 3; do
  [ "$i" = "$j" ] || wait_bgpd_route 30 "${N[i]}" "198.19.$j.0/26" "${a[j]}"
done; done
before=$(for i in 1 2 3; do bgpd_flaps "${N[i]}"; done)

harness_log "block 198.19.1.0/26 moves from node-1 to node-2"
calico_block_del "$E" node-1 198.19.1.0/26
calico_block "$E" node-2 198.19.1.0/26
_blackhole() { [ "$(ip -n "$1" -j route show exact "$2" | jq -r '.[0].type // empty')" = blackhole ]; }
wait_until 10 _blackhole "${N[2]}" 198.19.1.0/26
wait_bgpd_route 10 "${N[1]}" 198.19.1.0/26 "${a[2]}"
wait_bgpd_route 10 "${N[3]}" 198.19.1.0/26 "${a[2]}"
_bird_via() { bird_route_nexthops "$T" 198.19.1.0/26 | grep -qx "${a[2]}"; }
wait_until 15 _bird_via
wait_route_via 15 "$T" 198.19.1.0/26 "${a[2]}"
after=$(for i in 1 2 3; do bgpd_flaps "${N[i]}"; done)
assert_eq "$before" "$after" "sessions' established counts across the move"
echo "etcd ToR and block move OK"
