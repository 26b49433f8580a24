#!/usr/bin/env bash
# Graceful restart (RFC 4724) both ways:
#   bird (BIRD, AS 65002, GR, pod 198.19.2.0/24) --eBGP-- A (bgpd, AS 64512, GR, pod
#   198.19.1.0/24) --eBGP-- frr (FRR, AS 65003, GR, pod 198.19.3.0/24)
# 1. bgpd is killed with SIGKILL and started again: BIRD and FRR keep A's route while A is
#    down (BIRD: route from A still in its table and kernel; FRR: path flagged stale, zebra's
#    kernel route stays), the pods keep pinging each other through the restart (at most one
#    lost reply), A's kernel routes to the other pods are never removed (sampled every
#    0.1 s), and after the restart FRR's path is fresh again.
# 2. BIRD is killed and restarted (`bird -R`): bgpd keeps BIRD's route, marked stale, in its
#    RIB and in the kernel, then refreshes it (stale false) when BIRD is back; the kernel route
#    is never removed.
# timeout: 240
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); B=$(node_add bird); F=$(node_add frr)
link_add "$A" "$B" >/dev/null; link_add "$A" "$F" >/dev/null
a_b=198.18.1.1 b=198.18.1.2 a_f=198.18.2.1 f=198.18.2.2
PA=$(pod_add "$A" 198.19.1.0/24); PB=$(pod_add "$B" 198.19.2.0/24); PF=$(pod_add "$F" 198.19.3.0/24)

bgpd_write_config "$TEST_DIR/$A/bgpd.yaml" 198.18.1.1 64512 --gr true \
  --neighbor "$b 65002" --neighbor "$f 65003" --originate 198.19.1.0/24
start_bgpd "$A" "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd did not start"
bird_start "$B" "$b" 65002 --gr --neighbor "$a_b 64512" --originate 198.19.2.0/24
frr_start "$F" "$f" 65003 --gr --neighbor "$a_f 64512" --originate 198.19.3.0/24

wait_until 60 bgpd_established "$A" "$b"; wait_until 60 bgpd_established "$A" "$f"
wait_until 30 bird_established "$B" "$a_b"; wait_until 30 frr_established "$F" "$a_f"
wait_bgpd_route 30 "$A" 198.19.2.0/24 "$b"
wait_bgpd_route 30 "$A" 198.19.3.0/24 "$f"
wait_route_via 30 "$B" 198.19.1.0/24 "$a_b"
wait_route_via 30 "$F" 198.19.1.0/24 "$a_f"
assert_ping "$PB" "$(pod_addr4 "$PA")"
assert_ping "$PF" "$(pod_addr4 "$PA")"
# Let both sides see the End-of-RIB markers before restarting anything.
sleep 2

# sample_routes NS OUT PREFIX...: writes "ok"/"missing PREFIX" every 0.1 s until OUT.stop exists.
sample_routes() {
  local n=$1 out=$2 p; shift 2
  rm -f "$out.stop"; : >"$out"
  while [ ! -e "$out.stop" ]; do
    for p in "$@"; do route_exists "$n" "$p" && echo ok || echo "missing $p $(date +%T.%N)"; done >>"$out"
    sleep 0.1
  done
}
# ping_stats FILE -> "TRANSMITTED RECEIVED"
ping_stats() { sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$1"; }
check_ping() {
  local t r
  read -r t r <<<"$(ping_stats "$1")"
  [ -n "$t" ] || fail "no ping summary in $1"
  [ $(( t - r )) -le 1 ] || fail "$2: $r of $t pings answered ($(tail -n 2 "$1" | tr '\n' ' '))"
  harness_log "$2: $r of $t pings answered"
}
check_samples() {
  local missing
  missing=$(grep -c '^missing' "$1" || true)
  [ "$(grep -c '^ok' "$1" || true)" -gt 10 ] || fail "test bug: too few route samples in $1"
  [ "$missing" = 0 ] || fail "$2: kernel route missing in $missing samples, first: $(grep -m1 '^missing' "$1")"
}

harness_log "1. kill -9 bgpd, restart it"
sample_routes "$A" "$TEST_DIR/samples-a" 198.19.2.0/24 198.19.3.0/24 &
sampler=$!; track_pid "$sampler"
ip netns exec "$PB" ping -n -i 0.2 -c 100 -W 1 "$(pod_addr4 "$PA")" >"$TEST_DIR/ping-b-a.txt" 2>&1 &
pinger=$!; track_pid "$pinger"
sleep 1
stop_bgpd "$A" KILL
wait_until 15 peer_not_established bird "$B" "$a_b"
wait_until 15 peer_not_established frr "$F" "$a_f"
sleep 3
# Both peers still hold A's route, stale, in their tables and kernels.
bird_route_from "$B" 198.19.1.0/24 "$a_b" || fail "BIRD dropped A's route while A restarts (GR)"
assert_route_via "$B" 198.19.1.0/24 "$a_b"
frr_has_route "$F" 198.19.1.0/24 || fail "FRR dropped A's route while A restarts (GR)"
frr_route_stale "$F" 198.19.1.0/24 || fail "FRR's path for A's route is not flagged stale: $(frr_route_json "$F" 198.19.1.0/24 | jq -c '.paths')"
assert_route_via "$F" 198.19.1.0/24 "$a_f"
bgpd_restart "$A" || fail "bgpd did not start again"
wait_until 60 bgpd_established "$A" "$b"; wait_until 60 bgpd_established "$A" "$f"
wait_until 30 bird_established "$B" "$a_b"; wait_until 30 frr_established "$F" "$a_f"
wait_until 30 _negate frr_route_stale "$F" 198.19.1.0/24
_fresh() { bgpd_route_json "$A" "$1" | jq -e '.[0].paths | length > 0 and all(.stale == false)' >/dev/null; }
wait_until 30 _fresh 198.19.2.0/24
wait_until 30 _fresh 198.19.3.0/24
wait "$pinger" || true
touch "$TEST_DIR/samples-a.stop"; wait "$sampler" || true
check_samples "$TEST_DIR/samples-a" "A's routes during bgpd's restart"
check_ping "$TEST_DIR/ping-b-a.txt" "pod B -> pod A during bgpd's restart"
assert_route_via "$A" 198.19.2.0/24 "$b"
assert_route_via "$B" 198.19.1.0/24 "$a_b"
assert_route_via "$F" 198.19.1.0/24 "$a_f"

harness_log "2. BIRD killed and restarted with -R: bgpd keeps its route stale, then refreshes it"
sleep 2
sample_routes "$A" "$TEST_DIR/samples-b" 198.19.2.0/24 &
sampler=$!; track_pid "$sampler"
ip netns exec "$PA" ping -n -i 0.2 -c 60 -W 1 "$(pod_addr4 "$PB")" >"$TEST_DIR/ping-a-b.txt" 2>&1 &
pinger=$!; track_pid "$pinger"
sleep 1
bird_kill "$B"
_not_up() { ! bgpd_established "$A" "$b"; }
wait_until 15 _not_up
_stale() { bgpd_route_json "$A" "$1" | jq -e '.[0].paths | length > 0 and all(.stale == true)' >/dev/null; }
wait_until 5 _stale 198.19.2.0/24
assert_route_via "$A" 198.19.2.0/24 "$b"
sleep 2
_stale 198.19.2.0/24 || fail "bgpd dropped BIRD's stale route before BIRD came back"
_bird_launch "$B" -R
wait_until 60 bgpd_established "$A" "$b"
wait_until 30 _fresh 198.19.2.0/24
wait "$pinger" || true
touch "$TEST_DIR/samples-b.stop"; wait "$sampler" || true
check_samples "$TEST_DIR/samples-b" "A's route to BIRD's pod during BIRD's restart"
check_ping "$TEST_DIR/ping-a-b.txt" "pod A -> pod B during BIRD's restart"
assert_route_via "$A" 198.19.2.0/24 "$b"
echo "graceful restart OK"
