#!/usr/bin/env bash
# A route that outgrows 4096 octets on the way out holds back nothing else (issue 16, the
# lab case):
#   gobgp (GoBGP, AS 64512) --iBGP-- A (bgpd, AS 64512, reflector) --iBGP, rr client-- bird
# GoBGP announces one route with LOCAL_PREF and 1008 communities (an UPDATE of ~4084 octets),
# then 40 small ones; then BIRD comes up and gets bgpd's initial dump, in which the big route
# comes first. Reflected to BIRD, ORIGINATOR_ID and CLUSTER_LIST push it past 4096 octets (no
# Extended Message capability on either side).
# Checks: BIRD gets the 40 small routes, never the big one; bgpd logs `route too large` and
# counts it in bgpd_routes_unsendable_total; no session flaps. Then the big route shrinks to
# 10 communities: BIRD gets it.
# timeout: 120
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); G=$(node_add gobgp); B=$(node_add bird)
link_add "$A" "$G" >/dev/null; link_add "$A" "$B" >/dev/null
g=198.18.1.2 b=198.18.2.2
bgpd_write_config "$TEST_DIR/$A/bgpd.yaml" 198.18.1.1 64512 --http-listen 127.0.0.1:9179 \
  --neighbor "$g 64512" --neighbor "$b 64512 rr_client"
start_bgpd "$A" "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd did not start"
gobgp_start "$G" "$g" 64512 --neighbor "198.18.1.1 64512"
wait_until 60 bgpd_established "$A" "$g"

# Next hop on BIRD's link, so that BIRD (gateway direct) and bgpd can both resolve it.
nh=198.18.2.9
communities() { local i out=""; for i in $(seq 1 "$1"); do out+="${out:+,}64512:$i"; done; echo "$out"; }
big=198.19.0.0/24   # sorts first: the first attribute set of the dump
harness_log "one route with 1008 communities, then 40 small ones"
gobgp_in "$G" global rib -a ipv4 add "$big" nexthop "$nh" local-pref 100 community "$(communities 1008)" >/dev/null
wait_until 30 bgpd_has_route "$A" "$big"
for i in $(seq 1 40); do
  gobgp_in "$G" global rib -a ipv4 add "198.19.$i.0/24" nexthop "$nh" local-pref 100 >/dev/null
done
wait_until 30 bgpd_has_route "$A" 198.19.40.0/24
harness_log "BIRD comes up: bgpd's initial dump"
bird_start "$B" "$b" 64512 --neighbor "198.18.2.1 64512"
wait_until 60 bgpd_established "$A" "$b"; wait_until 30 bird_established "$B" 198.18.2.1
bird_mark=$(bird_since "$B" 198.18.2.1)
for i in $(seq 1 40); do wait_until 30 bird_has_route "$B" "198.19.$i.0/24"; done
holds_for 3 _negate bird_has_route "$B" "$big"
wait_until 10 bgpd_log_has "$A" "route too large for this session"
unsendable=$(ip netns exec "$A" curl -s -m 5 http://127.0.0.1:9179/metrics |
  awk -v n="$b" '$1 ~ /^bgpd_routes_unsendable_total/ && index($1, n) { print $2 }')
[ "${unsendable:-0}" -ge 1 ] || fail "bgpd_routes_unsendable_total for $b is '${unsendable:-}'"

harness_log "the big route shrinks to 10 communities: it is reflected"
gobgp_in "$G" global rib -a ipv4 add "$big" nexthop "$nh" local-pref 100 community "$(communities 10)" >/dev/null
wait_until 30 bird_has_route "$B" "$big"

bird_same_since "$bird_mark" "$(bird_since "$B" 198.18.2.1)" || fail "BIRD's session flapped"
assert_eq 1 "$(bgpd_nbr_field "$A" "$g" .established_count)" "bgpd's established_count for GoBGP"
echo "oversize reflect OK"
