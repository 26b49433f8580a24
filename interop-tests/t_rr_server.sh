#!/usr/bin/env bash
# bgpd as a route reflector (RFC 4456) for a BIRD, an FRR and a GoBGP client on one LAN,
# `route_reflector_client: true`, cluster_id 198.18.255.9. Clients originate 198.19.2.0/24
# (BIRD), 198.19.3.0/24 (FRR), 198.19.4.0/24 (GoBGP); bgpd itself 198.19.1.0/24.
# Checks: sessions Established on both sides; each client has the other clients' prefixes with
# the ORIGINATING client as next hop (unchanged), ORIGINATOR_ID = that client's router id and
# CLUSTER_LIST = [198.18.255.9] (BIRD `show route all`, FRR JSON, GoBGP attrs 9/10), in BIRD's
# and FRR's kernels too; bgpd's kernel has all three via their owners; a client leaving
# (GoBGP stopped) is withdrawn from the other clients' tables and kernels.
# timeout: 180
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

R=$(node_add rr); B=$(node_add bird); F=$(node_add frr); G=$(node_add gobgp)
L=$(lan_add "$R" "$B" "$F" "$G")
r=$(lan_addr4 "$L" "$R"); b=$(lan_addr4 "$L" "$B"); f=$(lan_addr4 "$L" "$F"); g=$(lan_addr4 "$L" "$G")
CLUSTER=198.18.255.9

bgpd_write_config "$TEST_DIR/$R/bgpd.yaml" "$r" 64512 --cluster-id "$CLUSTER" \
  --neighbor "$b 64512 rr_client" --neighbor "$f 64512 rr_client" --neighbor "$g 64512 rr_client" \
  --originate 198.19.1.0/24
start_bgpd "$R" "$TEST_DIR/$R/bgpd.yaml" || fail "bgpd did not start"
bird_start "$B" "$b" 64512 --neighbor "$r 64512" --originate 198.19.2.0/24
frr_start "$F" "$f" 64512 --neighbor "$r 64512" --originate 198.19.3.0/24
gobgp_start "$G" "$g" 64512 --neighbor "$r 64512" --originate 198.19.4.0/24

harness_log "sessions"
for a in "$b" "$f" "$g"; do wait_until 60 bgpd_established "$R" "$a"; done
wait_until 30 bird_established "$B" "$r"
wait_until 30 frr_established "$F" "$r"
wait_until 30 gobgp_established "$G" "$r"

harness_log "bgpd's kernel has every client's prefix via its owner"
wait_bgpd_route 30 "$R" 198.19.2.0/24 "$b"
wait_bgpd_route 30 "$R" 198.19.3.0/24 "$f"
wait_bgpd_route 30 "$R" 198.19.4.0/24 "$g"

declare -A owner=([198.19.2.0/24]=$b [198.19.3.0/24]=$f [198.19.4.0/24]=$g)
harness_log "BIRD client"
for p in 198.19.1.0/24 198.19.3.0/24 198.19.4.0/24; do
  nh=${owner[$p]:-$r}
  wait_until 30 bird_has_route "$B" "$p"
  assert_eq "$nh" "$(bird_route_nexthops "$B" "$p")" "BIRD's next hop for $p"
  wait_route_via 30 "$B" "$p" "$nh"
done
for p in 198.19.3.0/24 198.19.4.0/24; do
  all=$(birdc_in "$B" show route "$p" all)
  assert_contains "$all" "BGP.originator_id: ${owner[$p]}" "BIRD's ORIGINATOR_ID for $p"
  assert_contains "$all" "BGP.cluster_list: $CLUSTER" "BIRD's CLUSTER_LIST for $p"
done

harness_log "FRR client"
for p in 198.19.1.0/24 198.19.2.0/24 198.19.4.0/24; do
  nh=${owner[$p]:-$r}
  wait_until 30 frr_has_route "$F" "$p"
  assert_eq "$nh" "$(frr_route_nexthops "$F" "$p")" "FRR's next hop for $p"
  wait_route_via 30 "$F" "$p" "$nh"
done
for p in 198.19.2.0/24 198.19.4.0/24; do
  j=$(frr_route_json "$F" "$p")
  assert_eq "${owner[$p]}" "$(jq -r '.paths[0].originatorId' <<<"$j")" "FRR's ORIGINATOR_ID for $p"
  assert_eq "$CLUSTER" "$(jq -r '.paths[0].clusterList.list | join(",")' <<<"$j")" "FRR's CLUSTER_LIST for $p"
done

harness_log "GoBGP client"
for p in 198.19.1.0/24 198.19.2.0/24 198.19.3.0/24; do
  nh=${owner[$p]:-$r}
  wait_until 30 gobgp_has_route "$G" "$p"
  assert_eq "$nh" "$(gobgp_route_nexthops "$G" "$p")" "GoBGP's next hop for $p"
done
j=$(gobgp_route_json "$G" 198.19.2.0/24)
assert_eq "$b" "$(jq -r '.[][0].attrs[] | select(.type == 9) | .value' <<<"$j")" "GoBGP's ORIGINATOR_ID for 198.19.2.0/24"
assert_eq "$CLUSTER" "$(jq -r '.[][0].attrs[] | select(.type == 10) | .value | join(",")' <<<"$j")" "GoBGP's CLUSTER_LIST for 198.19.2.0/24"

harness_log "GoBGP client leaves: withdrawn everywhere"
gobgp_stop "$G"
wait_no_route 30 "$R" 198.19.4.0/24
wait_until 30 _negate bird_has_route "$B" 198.19.4.0/24
wait_no_route 30 "$B" 198.19.4.0/24
wait_until 30 _negate frr_has_route "$F" 198.19.4.0/24
wait_no_route 30 "$F" 198.19.4.0/24
assert_route_via "$B" 198.19.3.0/24 "$f"
echo "route reflector server OK"
