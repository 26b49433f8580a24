#!/usr/bin/env bash
# Maximum prefixes (max_prefixes.limit, RFC 4486 Cease subcode 1):
#   gobgp (GoBGP, AS 65005) --eBGP, limit 10-- A (bgpd, AS 64512) --eBGP-- bird (BIRD, AS 65002)
# GoBGP first announces 8 prefixes (below the limit: accepted, installed), then 3 more (11 > 10).
# Checks: bgpd sends NOTIFICATION Cease / Maximum Number of Prefixes Reached (GoBGP logs
# "received notification" Code=6 Subcode=1 and counts it), both sides leave Established,
# bgpctl's last_error says why, GoBGP's routes leave bgpd's kernel, the session stays down
# (no restart_after), and the BIRD session is untouched (no flap, routes still there).
# timeout: 120
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); G=$(node_add gobgp); B=$(node_add bird)
link_add "$A" "$G" >/dev/null; link_add "$A" "$B" >/dev/null
g=198.18.1.2 b=198.18.2.2
bgpd_write_config "$TEST_DIR/$A/bgpd.yaml" 198.18.1.1 64512 --originate 198.19.1.0/24 \
  --neighbor "$g 65005 maxpfx=10" --neighbor "$b 65002"
start_bgpd "$A" "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd did not start"
origs=(); for i in $(seq 10 17); do origs+=(--originate "198.19.$i.0/24"); done
gobgp_start "$G" "$g" 65005 --neighbor "198.18.1.1 64512" "${origs[@]}"
bird_start "$B" "$b" 65002 --neighbor "198.18.2.1 64512" --originate 198.19.2.0/24

wait_until 60 bgpd_established "$A" "$g"; wait_until 60 bgpd_established "$A" "$b"
wait_until 30 gobgp_established "$G" 198.18.1.1; wait_until 30 bird_established "$B" 198.18.2.1
harness_log "8 prefixes: below the limit"
wait_bgpd_route 30 "$A" 198.19.10.0/24 "$g"
wait_bgpd_route 30 "$A" 198.19.17.0/24 "$g"
wait_route_via 30 "$B" 198.19.1.0/24 198.18.2.1
wait_until 30 gobgp_has_route "$G" 198.19.1.0/24
holds_for 3 gobgp_established "$G" 198.18.1.1
bird_mark=$(bird_since "$B" 198.18.2.1)

harness_log "11 prefixes: over the limit"
gobgp_announce "$G" 198.19.30.0/24 198.19.31.0/24 198.19.32.0/24
_notified() { grep -qE 'msg="received notification" Code=6 .*Subcode=1 ' "$TEST_DIR/$G/gobgpd.log"; }
wait_until 20 _notified
_down() { ! gobgp_established "$G" 198.18.1.1 && ! bgpd_established "$A" "$g"; }
wait_until 10 _down
ntf=$(gobgp_in "$G" neighbor 198.18.1.1 -j | jq -r '.state.messages.received.notification // 0')
[ "$ntf" -ge 1 ] || fail "GoBGP counts no NOTIFICATION received"
e=$(bgpd_nbr_field "$A" "$g" .last_error)
harness_log "bgpd last_error for $g: $e"
grep -qiE 'prefix|limit' <<<"$e" || fail "bgpctl last_error for $g does not mention the prefix limit: '$e'"
wait_no_route 20 "$A" 198.19.10.0/24
wait_no_route 20 "$A" 198.19.17.0/24
assert_no_route "$A" 198.19.30.0/24
_stays_down() { ! gobgp_established "$G" 198.18.1.1; }
holds_for 10 _stays_down

harness_log "the BIRD session is untouched"
bird_established "$B" 198.18.2.1 || fail "BIRD's session went down"
bird_same_since "$bird_mark" "$(bird_since "$B" 198.18.2.1)" || fail "BIRD's Since: moved from $bird_mark to $(bird_since "$B" 198.18.2.1) (session re-established)"
assert_eq 1 "$(bgpd_nbr_field "$A" "$b" .established_count)" "bgpd's established_count for BIRD"
assert_route_via "$A" 198.19.2.0/24 "$b"
assert_route_via "$B" 198.19.1.0/24 198.18.2.1
echo "max prefix OK"
