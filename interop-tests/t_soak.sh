#!/usr/bin/env bash
# Soak: SOAK_SECONDS (default 120; the benchmark set runs 1800 through
# interop-tests/bench/soak.sh) of flapping peers, route churn, refresh storms, reloads and
# HTTP scrapes against one bgpd, then a check that nothing leaked and nothing untouched moved:
#
#   bird (BIRD, 65002, steady) --\                        /-- frr (FRR, 65003, steady)
#                                 A (bgpd, 64512, kernel)
#   flap (BIRD, 65005, disabled/enabled in a loop) --/    \-- churn (GoBGP, 65004: routes
#                                                             added/removed, ROUTE-REFRESH storms)
#   plus, on A: `bgpctl reload` (unchanged config, then an originate added/removed), scrapes
#   of /metrics /healthz /readyz, `bgpctl show` commands.
#
# Checked at the end against a baseline taken after convergence (before the load):
# - open descriptors of bgpd equal (margin SOAK_FD_MARGIN, default 2: a scrape in flight);
# - resident memory within SOAK_RSS_MARGIN_KIB (default 8192 KiB) of the baseline;
# - tokio tasks alive (bgpd_runtime_tasks) within SOAK_TASK_MARGIN (default 3);
# - the steady BIRD and FRR sessions never flapped (their own uptime markers and bgpd's
#   established_count), and their routes are in A's kernel;
# - the churn and flap peers' routes are back to their final state in A's kernel;
# - bgpd is alive, /healthz answers 200.
# timeout: 2400
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init
soak=${SOAK_SECONDS:-120}

A=$(node_add bgpd); B=$(node_add bird); F=$(node_add frr); G=$(node_add gobgp); X=$(node_add flap)
link_add "$A" "$B" >/dev/null; link_add "$A" "$F" >/dev/null; link_add "$A" "$G" >/dev/null
link_add "$A" "$X" >/dev/null
b=198.18.1.2 f=198.18.2.2 g=198.18.3.2 x=198.18.4.2
conf="$TEST_DIR/$A/bgpd.yaml"
write_conf() {
  bgpd_write_config "$conf" 198.18.1.1 64512 --http-listen 127.0.0.1:9179 \
    --neighbor "$b 65002" --neighbor "$f 65003" --neighbor "$g 65004" --neighbor "$x 65005" \
    --originate 198.19.1.0/24 "$@"
}
write_conf
start_bgpd "$A" "$conf" || fail "bgpd did not start"
bird_start "$B" "$b" 65002 --neighbor "198.18.1.1 64512" --originate 198.19.2.0/24
frr_start "$F" "$f" 65003 --neighbor "198.18.2.1 64512" --originate 198.19.3.0/24
gobgp_start "$G" "$g" 65004 --neighbor "198.18.3.1 64512" --originate 198.19.4.0/24
bird_start "$X" "$x" 65005 --neighbor "198.18.4.1 64512" --originate 198.19.5.0/24 --no-kernel
for p in "$b" "$f" "$g" "$x"; do wait_until 60 bgpd_established "$A" "$p"; done
wait_until 30 bird_established "$B" 198.18.1.1
wait_until 30 frr_established "$F" 198.18.2.1
wait_route_via 30 "$A" 198.19.2.0/24 "$b"; wait_route_via 30 "$A" 198.19.3.0/24 "$f"
wait_route_via 30 "$A" 198.19.4.0/24 "$g"; wait_route_via 30 "$A" 198.19.5.0/24 "$x"
wait_route_via 30 "$B" 198.19.1.0/24 198.18.1.1

http() { ip netns exec "$A" curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:9179$1" || true; }
pid=$(bgpd_pid "$A")
fds() { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
tasks() {
  ip netns exec "$A" curl -s -m 5 http://127.0.0.1:9179/metrics |
    awk '/^bgpd_runtime_tasks / {print $2}'
}
settle() {
  # Wait until the descriptor count stops moving (a scrape or a reload still finishing).
  local last=-1 now i
  for i in $(seq 1 20); do now=$(fds); [ "$now" = "$last" ] && return 0; last=$now; sleep 1; done
}
sleep 3
settle
fd0=$(fds); rss0=$(rss_kib); tasks0=$(tasks)
[ -n "$tasks0" ] || fail "bgpd_runtime_tasks is not exported on /metrics"
bird_mark=$(bird_since "$B" 198.18.1.1)
frr_conns=$(frr_connections "$F" 198.18.2.1)
harness_log "baseline: $fd0 descriptors, $rss0 KiB resident, $tasks0 tasks; soaking ${soak}s"

end=$((SECONDS + soak))
flap_proto=$(_peer_proto_name 198.18.4.1)
# Flapping peer: down and up every few seconds.
( while [ $SECONDS -lt $end ]; do
    birdc_in "$X" disable "$flap_proto" >/dev/null 2>&1; sleep 1.5
    birdc_in "$X" enable "$flap_proto" >/dev/null 2>&1; sleep 2.5
  done ) & loops=($!)
# Route churn from GoBGP: 50 prefixes added and withdrawn in waves, and ROUTE-REFRESH storms.
( i=0; while [ $SECONDS -lt $end ]; do
    for k in $(seq 0 49); do gobgp_in "$G" global rib -a ipv4 add "198.19.$((100 + k % 50)).0/24" >/dev/null 2>&1; done
    for k in $(seq 1 20); do gobgp_in "$G" neighbor 198.18.3.1 softresetin >/dev/null 2>&1; done
    for k in $(seq 0 49); do gobgp_in "$G" global rib -a ipv4 del "198.19.$((100 + k % 50)).0/24" >/dev/null 2>&1; done
    i=$((i + 1))
  done ) & loops+=($!)
# Operator load: reloads (unchanged, then an originate added and removed), scrapes, shows.
( n=0; while [ $SECONDS -lt $end ]; do
    n=$((n + 1))
    if [ $((n % 2)) = 0 ]; then write_conf --originate 198.19.9.0/24; else write_conf; fi
    bgpctl_in "$A" reload >/dev/null 2>&1 || echo "reload $n failed" >>"$TEST_DIR/soak-errors"
    for k in 1 2 3 4 5; do
      [ "$(http /metrics)" = 200 ] || echo "scrape failed" >>"$TEST_DIR/soak-errors"
      http /healthz >/dev/null; http /readyz >/dev/null
      bgpctl_in "$A" show neighbors --json >/dev/null 2>&1
      bgpctl_in "$A" show routes --json >/dev/null 2>&1
    done
    sleep 1
  done; write_conf; bgpctl_in "$A" reload >/dev/null 2>&1 ) & loops+=($!)
for l in "${loops[@]}"; do wait "$l" || true; done
bgpd_alive "$A" || fail "bgpd died during the soak"

harness_log "load stopped: letting the flapping peer settle and the churn drain"
birdc_in "$X" enable "$flap_proto" >/dev/null 2>&1 || true
wait_until 60 bgpd_established "$A" "$x"
wait_route_via 60 "$A" 198.19.5.0/24 "$x"
for k in 0 17 49; do wait_no_route 30 "$A" "198.19.$((100 + k)).0/24"; done
wait_no_route 30 "$A" 198.19.9.0/24
wait_route_via 10 "$A" 198.19.2.0/24 "$b"; wait_route_via 10 "$A" 198.19.3.0/24 "$f"
wait_route_via 10 "$A" 198.19.4.0/24 "$g"
[ ! -s "$TEST_DIR/soak-errors" ] || fail "operator commands failed during the soak: $(sort "$TEST_DIR/soak-errors" | uniq -c | tr '\n' ';')"
assert_eq 200 "$(http /healthz)" "/healthz after the soak"

harness_log "untouched sessions did not flap"
bird_same_since "$bird_mark" "$(bird_since "$B" 198.18.1.1)" || fail "the steady BIRD session flapped"
assert_eq "$frr_conns" "$(frr_connections "$F" 198.18.2.1)" "FRR's connectionsEstablished"
assert_eq 1 "$(bgpd_nbr_field "$A" "$b" .established_count)" "bgpd's established_count for BIRD"
assert_eq 1 "$(bgpd_nbr_field "$A" "$f" .established_count)" "bgpd's established_count for FRR"
flaps=$(bgpd_nbr_field "$A" "$x" .established_count)
[ "${flaps:-0}" -ge 3 ] || fail "the flapping peer came up only ${flaps:-0} times: the soak did not flap it"

harness_log "nothing leaked"
sleep 3
settle
fd1=$(fds); rss1=$(rss_kib); tasks1=$(tasks)
harness_log "after: $fd1 descriptors (was $fd0), $rss1 KiB (was $rss0), $tasks1 tasks (was $tasks0), $flaps flaps"
[ $((fd1 - fd0)) -le "${SOAK_FD_MARGIN:-2}" ] || fail "descriptors grew from $fd0 to $fd1"
[ $((rss1 - rss0)) -le "${SOAK_RSS_MARGIN_KIB:-8192}" ] || fail "resident memory grew from $rss0 to $rss1 KiB"
[ $((tasks1 - tasks0)) -le "${SOAK_TASK_MARGIN:-3}" ] || fail "tasks grew from $tasks0 to $tasks1"
echo "soak ${soak}s: fds $fd0 -> $fd1, rss $rss0 -> $rss1 KiB, tasks $tasks0 -> $tasks1, flapping peer up $flaps times" >"$TEST_DIR/soak-summary"
harness_log "PASS"
