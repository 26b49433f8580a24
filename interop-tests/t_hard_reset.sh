#!/usr/bin/env bash
# RFC 8538 Hard Reset, both directions:
#   A (bgpd, AS 64512, graceful restart with the N bit, pod 198.19.1.0/24) --eBGP--
#   frr (FRR, AS 65003, graceful restart, pod 198.19.3.0/24)
# 1. `bgpctl neighbor FRR shutdown`: bgpd sends Cease / Hard Reset (6/9) encapsulating Cease /
#    Administrative Shutdown (6/2) with its message; FRR decodes it as a Hard Reset and drops
#    A's route at once (no stale period), and bgpd drops FRR's.
# 2. FRR sends a Hard Reset (`neighbor X shutdown` on FRR): bgpd removes FRR's route at once
#    instead of keeping it stale for the restart time.
# timeout: 120
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); F=$(node_add frr)
link_add "$A" "$F" >/dev/null
a=198.18.1.1 f=198.18.1.2
bgpd_write_config "$TEST_DIR/$A/bgpd.yaml" "$a" 64512 --gr true \
  --http-listen 127.0.0.1:9179 --neighbor "$f 65003" --originate 198.19.1.0/24
start_bgpd "$A" "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd did not start"
frr_start "$F" "$f" 65003 --gr --neighbor "$a 64512" --originate 198.19.3.0/24

_up() { bgpd_established "$A" "$f" && frr_established "$F" "$a"; }
wait_until 60 _up
wait_bgpd_route 30 "$A" 198.19.3.0/24 "$f"
wait_until 30 frr_has_route "$F" 198.19.1.0/24
frr_nbr() { vtysh_in "$F" -c "show bgp neighbors $a json" 2>/dev/null | jq -r --arg p "$a" ".[\$p]$1"; }
assert_eq true "$(frr_nbr .gracefulRestartInfo.nBit)" "FRR sees bgpd's N bit"

harness_log "1. bgpd shuts the session down: Hard Reset"
bgpctl_in "$A" neighbor "$f" shutdown --message "maintenance" >/dev/null ||
  fail "bgpctl neighbor $f shutdown failed"
_frr_down() { ! frr_established "$F" "$a"; }
wait_until 10 _frr_down
e=$(bgpd_nbr_field "$A" "$f" .last_error)
harness_log "bgpd last_error: $e"
grep -q "6/9 (Cease / Hard Reset) for 6/2" <<<"$e" || fail "bgpd did not send a Hard Reset: '$e'"
# FRR decodes the encapsulated Cease and its shutdown communication.
_frr_decoded() {
  grep -qE 'NOTIFICATION\(Hard Reset\): received from neighbor 198\.18\.1\.1 6/2 .*"maintenance"' \
    "$TEST_DIR/$F/frr/bgpd.log"
}
wait_until 10 _frr_decoded
assert_eq true "$(frr_nbr .lastNotificationHardReset)" "FRR's lastNotificationHardReset"
# No stale period on either side (the restart time is 120 s).
_frr_no_route() { ! frr_has_route "$F" 198.19.1.0/24; }
wait_until 5 _frr_no_route
_a_no_route() { ! bgpd_has_route "$A" 198.19.3.0/24; }
wait_until 5 _a_no_route

harness_log "2. FRR shuts the session down: bgpd flushes FRR's route at once"
bgpctl_in "$A" neighbor "$f" enable >/dev/null || fail "bgpctl neighbor $f enable failed"
wait_until 60 _up
wait_bgpd_route 30 "$A" 198.19.3.0/24 "$f"
vtysh_in "$F" -c 'configure terminal' -c 'router bgp 65003' -c "neighbor $a shutdown" >/dev/null
_a_down() { ! bgpd_established "$A" "$f"; }
wait_until 10 _a_down
wait_until 5 _a_no_route
# bgpd keeps dialling FRR (which refuses now): a failed dial may already have replaced
# last_error, so the received Hard Reset is read from the metrics.
harness_log "bgpd last_error (informational): $(bgpd_nbr_field "$A" "$f" .last_error)"
_hard_reset_received() {
  ip netns exec "$A" curl -s -m 5 http://127.0.0.1:9179/metrics >"$TEST_DIR/metrics.txt" ||
    return 1
  grep -qE '^bgpd_notifications_received_total\{([^}]*,)?code="6",([^}]*,)?subcode="9"[,}].* [1-9][0-9]*$' \
    "$TEST_DIR/metrics.txt"
}
wait_until 10 _hard_reset_received
echo "hard reset OK"
