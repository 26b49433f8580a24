#!/usr/bin/env bash
# A mixed cluster during a migration: node-1 and node-2 run bgpd configured from etcd;
# node-3 still runs BIRD with the mesh config confd renders for it (one iBGP session per
# other node, `passive on` toward a greater address compared as text, its block as a static
# blackhole). All three are Nodes in etcd.
# Checks: all three mesh sessions come up on both ends with one side dialling (the two rules
# agree); every kernel holds the other nodes' blocks via their owners, BIRD's included.
# timeout: 120
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

E=$(node_add etcd); N1=$(node_add n1); N2=$(node_add n2); N3=$(node_add n3)
L=$(lan_add "$E" "$N1" "$N2" "$N3")
etcd_addr=$(lan_addr4 "$L" "$E")
a1=$(lan_addr4 "$L" "$N1"); a2=$(lan_addr4 "$L" "$N2"); a3=$(lan_addr4 "$L" "$N3")
etcd_start "$E" "$etcd_addr" || fail "etcd did not start"
calico_pool "$E" pods 198.19.0.0/16
calico_node "$E" node-1 "$a1/24"; calico_block "$E" node-1 198.19.1.0/26
calico_node "$E" node-2 "$a2/24"; calico_block "$E" node-2 198.19.2.0/26
calico_node "$E" node-3 "$a3/24"; calico_block "$E" node-3 198.19.3.0/26

# confd's mesh for node-3: passive toward every peer whose address is greater as text.
specs=()
for peer in "$a1" "$a2"; do
  if [[ "$peer" > "$a3" ]]; then specs+=(--neighbor "$peer 64512 passive"); else specs+=(--neighbor "$peer 64512"); fi
done
bird_start "$N3" "$a3" 64512 "${specs[@]}" --originate 198.19.3.0/26
for pair in "$N1 node-1" "$N2 node-2"; do
  set -- $pair
  bgpd_write_datastore_config "$TEST_DIR/$1/bgpd.yaml" "$2" "http://$etcd_addr:2379"
  start_bgpd "$1" "$TEST_DIR/$1/bgpd.yaml" || fail "bgpd $2 did not start"
done

for n in "$N1" "$N2"; do wait_until 30 bgpd_established "$n" "$a3"; done
wait_until 30 bgpd_established "$N1" "$a2"
for a in "$a1" "$a2"; do wait_until 30 bird_established "$N3" "$a"; done
wait_bgpd_route 30 "$N1" 198.19.3.0/26 "$a3"
wait_bgpd_route 30 "$N2" 198.19.3.0/26 "$a3"
wait_bgpd_route 30 "$N1" 198.19.2.0/26 "$a2"
wait_route_via 30 "$N3" 198.19.1.0/26 "$a1"
wait_route_via 30 "$N3" 198.19.2.0/26 "$a2"
# One TCP connection per pair: exactly one side dialled (no collision resolved by closing one).
for n in "$N1" "$N2"; do
  assert_eq 1 "$(bgpd_nbr_field "$n" "$a3" .established_count)" "sessions to BIRD established once"
done
echo "mixed bgpd/BIRD cluster OK"
