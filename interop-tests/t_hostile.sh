#!/usr/bin/env bash
# Hostile input (tools/hostile.py) while a real session must stay up:
#   bird (BIRD, AS 65002) --eBGP-- A (bgpd, AS 64512) --- hostile (198.18.2.2, configured as a
#   passive neighbour AS 65099, and 198.18.2.3, not configured)
# Each malformed message must get the RFC 4271 §6 NOTIFICATION (header errors 1/1, 1/2, 1/3;
# OPEN errors 2/1, 2/2; malformed UPDATE 3/1); an UPDATE with an invalid ORIGIN is
# treat-as-withdraw (RFC 7606 §7.1): the session stays up, that prefix is not installed, the
# next valid UPDATE is. A flood of 300 half-open connections and 300 connect/close cycles
# follows, while bgpctl keeps answering. Throughout: bgpd stays alive, the BIRD session never
# flaps (Since, established_count) and no route is lost in either kernel.
# Each malformed message ends a session with an error; from the third error in a row bgpd
# refuses the neighbour's connections until its idle-hold back-off is over (like its own
# dials), so each scenario starts with `bgpctl neighbor H reset` (a ManualStart forgets the
# back-off).
# timeout: 300
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); B=$(node_add bird); H=$(node_add hostile)
link_add "$A" "$B" >/dev/null; link_add "$A" "$H" >/dev/null
ip -n "$H" addr add 198.18.2.3/24 dev "$(ifname "$H" "$A")"
b=198.18.1.2 h=198.18.2.2
bgpd_write_config "$TEST_DIR/$A/bgpd.yaml" 198.18.1.1 64512 --originate 198.19.1.0/24 \
  --neighbor "$b 65002" --neighbor "$h 65099 passive hold=9"
start_bgpd "$A" "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd did not start"
bird_start "$B" "$b" 65002 --neighbor "198.18.1.1 64512" --originate 198.19.2.0/24
wait_until 60 bgpd_established "$A" "$b"
wait_until 30 bird_established "$B" 198.18.1.1
wait_bgpd_route 30 "$A" 198.19.2.0/24 "$b"
wait_route_via 30 "$B" 198.19.1.0/24 198.18.1.1
bird_mark=$(bird_since "$B" 198.18.1.1)

healthy() {
  bgpd_alive "$A" || fail "bgpd died ($1); log: $(tail -n 5 "$TEST_DIR/$A/bgpd.log" | tr '\n' ' ')"
  bird_established "$B" 198.18.1.1 || fail "BIRD's session went down ($1)"
  bird_same_since "$bird_mark" "$(bird_since "$B" 198.18.1.1)" || fail "BIRD's Since ($1): moved from $bird_mark to $(bird_since "$B" 198.18.1.1) (session re-established)"
  assert_route_via "$A" 198.19.2.0/24 "$b"
  assert_route_via "$B" 198.19.1.0/24 198.18.1.1
}
hostile() {
  ip netns exec "$H" timeout 90 python3 "$(dirname "$0")/tools/hostile.py" "$@" \
    --target 198.18.2.1 --source "$h" --source2 198.18.2.3 2>>"$TEST_DIR/hostile.err"
}
# expect SCENARIO RESULT [CODE SUBCODE]
expect() {
  local s=$1 want=$2 out got
  bgpctl_in "$A" neighbor "$h" reset >/dev/null || fail "bgpctl neighbor $h reset failed"
  out=$(hostile "$s" --wait 5) || fail "hostile.py $s failed: $out $(tail -n 3 "$TEST_DIR/hostile.err")"
  echo "$out" >>"$TEST_DIR/hostile.jsonl"
  got=$(jq -r '[.result, (.code // "-"), (.subcode // "-")] | join(" ")' <<<"$out")
  case $want in
    notification) assert_eq "notification $3 $4" "$got" "bgpd's answer to $s" ;;
    notification-or-close)
      [ "$got" = "notification $3 $4" ] || [ "$(jq -r .result <<<"$out")" = closed ] ||
        fail "bgpd's answer to $s: expected NOTIFICATION $3/$4 or a close, got: $out" ;;
  esac
  harness_log "$s -> $got"
  healthy "after $s"
}

harness_log "malformed messages"
expect bad_marker notification-or-close 1 1
expect bad_marker_est notification 1 1
expect short_length notification 1 2
expect oversized notification 1 2
expect huge_length notification 1 2
expect bad_type notification 1 3
expect open_bad_version notification 2 1
expect open_bad_as notification 2 2
expect withdrawn_overrun notification 3 1

harness_log "invalid ORIGIN: treat-as-withdraw, the session stays up"
bgpctl_in "$A" neighbor "$h" reset >/dev/null || fail "bgpctl neighbor $h reset failed"
hostile bad_origin --wait 5 --hold-after 30 >"$TEST_DIR/bad_origin.json" &
hp=$!; track_pid "$hp"
wait_until 60 test -s "$TEST_DIR/bad_origin.json"
out=$(cat "$TEST_DIR/bad_origin.json")
assert_eq "open" "$(jq -r .result <<<"$out")" "bgpd's answer to an UPDATE with ORIGIN 7 (must not reset: $out)"
wait_until 15 bgpd_established "$A" "$h"
wait_until 15 bgpd_has_route "$A" 198.19.67.0/24
wait_bgpd_route 15 "$A" 198.19.67.0/24 "$h"
bgpd_has_route "$A" 198.19.66.0/24 && fail "bgpd accepted 198.19.66.0/24 despite its invalid ORIGIN"
assert_no_route "$A" 198.19.66.0/24
bird_has_route "$B" 198.19.66.0/24 && fail "bgpd passed 198.19.66.0/24 (invalid ORIGIN) on to BIRD"
wait_until 15 bird_has_route "$B" 198.19.67.0/24
healthy "after the invalid ORIGIN"
kill "$hp" 2>/dev/null || true; wait "$hp" 2>/dev/null || true
wait_no_route 30 "$A" 198.19.67.0/24

harness_log "connection flood"
hostile flood --count 300 --wait 5 >"$TEST_DIR/flood.json" &
fp=$!; track_pid "$fp"
sleep 2
t0=$(date +%s%N)
bgpctl_in "$A" show neighbors --json >/dev/null || fail "bgpctl does not answer during the flood"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
harness_log "bgpctl answered in $ms ms during the flood"
[ "$ms" -lt 3000 ] || fail "bgpctl took $ms ms during the flood"
wait "$fp" || fail "hostile.py flood failed: $(cat "$TEST_DIR/flood.json") $(tail -n 3 "$TEST_DIR/hostile.err")"
harness_log "flood: $(cat "$TEST_DIR/flood.json")"
sleep 2
healthy "after the flood"
assert_eq 1 "$(bgpd_nbr_field "$A" "$b" .established_count)" "bgpd's established_count for BIRD"
echo "hostile input OK"
