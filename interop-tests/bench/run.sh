#!/usr/bin/env bash
# Lab benchmark (not part of the test suite): one routing daemon as the target, load from
# bgpblast. See docs/benchmarks.md.
#
#   interop-tests/bench/run.sh SCENARIO [TARGET...]
#     SCENARIO  KxN         K tester sessions each announce N distinct /24s (1x1000000,
#                           10x100000, 100x1000); a monitor session counts what the target
#                           re-advertises; then the testers withdraw everything.
#               kernel      1 tester x 1,000,000 /24s into the target namespace's kernel FIB
#                           (counted with /proc/net/fib_triestat); then the tester disconnects.
#     TARGET    bgpd bird frr gobgp (default: all that apply; gobgp cannot program the kernel)
#
# Topology: two namespaces joined by one veth. The target (198.18.0.1, AS 65000) runs pinned
# to CPU $TARGET_CPU (default 1); bgpblast (testers 198.18.0.10.., AS 65001; monitor
# 198.18.0.2, AS 65002) and this script run on CPU $TESTER_CPU (default 0). The target is
# passive, imports everything from the testers and exports nothing back to them; it exports
# everything to the monitor (eBGP: next hop self) and imports nothing from it.
#
# Prints one line per target:
#   RESULT scenario target t_in t_out cpu_in cpu_out hwm_mib rss_in_mib other_s wait_in wait_out hwm_in_mib
# t_in: from the first UPDATE written to the monitor (or the kernel) holding all K*N routes;
# t_out: from the withdrawal (kernel: the disconnect) to none left; cpu_*: target CPU seconds
# (utime+stime of its processes) spent in each phase; hwm_mib: peak RSS (VmHWM) over the run;
# rss_in_mib: RSS once everything is in; other_s: CPU seconds something else (other people's
# builds and tests, kernel work of other namespaces) took on the target CPU meanwhile. A
# phase that did not finish within $TIMEOUT seconds prints "timeout" (and the count reached).
# wait_in/out: seconds the target was runnable but waiting for its CPU (schedstat) per phase;
# hwm_in_mib: peak RSS up to the end of the first phase.
#
# Before each target the script waits for an idle machine (see wait_quiet).
# Env: PERF=1 records `perf record -g` of the target into the work directory (with KEEP=1;
# PERF_CALLGRAPH="--call-graph dwarf" for binaries without frame pointers);
# BGPD_BIN, BGPBLAST_BIN (default target/release/{bgpd,examples/bgpblast}), TIMEOUT
# (default 120), KEEP=1 keeps the work directory, BENCH_DIR (default /tmp/bench.$$).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BGPD_BIN=${BGPD_BIN:-$ROOT/target/release/bgpd}
BGPBLAST_BIN=${BGPBLAST_BIN:-$ROOT/target/release/examples/bgpblast}
TARGET_CPU=${TARGET_CPU:-1}
TESTER_CPU=${TESTER_CPU:-0}
TIMEOUT=${TIMEOUT:-120}
BENCH_DIR=${BENCH_DIR:-/tmp/bench.$$}
CLK_TCK=$(getconf CLK_TCK)

T_ADDR=198.18.0.1
MON_ADDR=198.18.0.2
TESTER_BASE=10          # testers are 198.18.0.10, .11, ... (at most 200 of them)
LOCAL_AS=65000 TESTER_AS=65001 MON_AS=65002

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

[ $# -ge 1 ] || usage
SCENARIO=$1; shift
case $SCENARIO in
  kernel) K=1 N=1000000 KERNEL=1 ;;
  *x*) K=${SCENARIO%x*} N=${SCENARIO#*x} KERNEL=0 ;;
  *) usage ;;
esac
[[ $K =~ ^[0-9]+$ && $N =~ ^[0-9]+$ && $K -ge 1 && $K -le 200 ]] || usage
TOTAL=$((K * N))
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  if [ "$KERNEL" = 1 ]; then TARGETS=(bgpd bird frr); else TARGETS=(bgpd bird frr gobgp); fi
fi
for b in "$BGPBLAST_BIN" "$BGPD_BIN"; do
  [ -x "$b" ] || { echo "missing $b: cargo build --release -p bgpd --examples" >&2; exit 1; }
done

# This script and everything it starts run on the tester CPU; only the target moves. All of
# it runs at nice -19 ($NICE) so that other people's builds and tests on the same two CPUs
# get little of them (the target and the testers alike).
taskset -cp "$TESTER_CPU" $$ >/dev/null
renice -n "${NICE:--19}" -p $$ >/dev/null

NS_T="" NS_G="" PIDS=() TARGET_PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}" "${TARGET_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}" "${TARGET_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$NS_T" ] && ip netns del "$NS_T" 2>/dev/null
  [ -n "$NS_G" ] && ip netns del "$NS_G" 2>/dev/null
  [ -n "${FRR_RUN_DIR:-}" ] && rm -rf "$FRR_RUN_DIR"
  PIDS=() TARGET_PIDS=() NS_T="" NS_G="" FRR_RUN_DIR=""
}
trap 'cleanup; [ "${KEEP:-0}" = 1 ] || rm -rf "$BENCH_DIR"' EXIT
trap 'exit 130' INT TERM

tester_addr() { echo "198.18.0.$((TESTER_BASE + $1))"; }

setup_netns() {
  NS_T=bench-t-$$ NS_G=bench-g-$$
  ip netns add "$NS_T"; ip netns add "$NS_G"
  ip link add bench-t netns "$NS_T" type veth peer name bench-g netns "$NS_G"
  ip -n "$NS_T" addr add "$T_ADDR/24" dev bench-t
  ip -n "$NS_G" addr add "$MON_ADDR/24" dev bench-g
  local i
  for ((i = 0; i < K; i++)); do ip -n "$NS_G" addr add "$(tester_addr $i)/24" dev bench-g; done
  for ns in "$NS_T" "$NS_G"; do ip -n "$ns" link set lo up; done
  ip -n "$NS_T" link set bench-t up; ip -n "$NS_G" link set bench-g up
}

# ---- target configs --------------------------------------------------------------------------

conf_bgpd() {
  local i kernel=false; [ "$KERNEL" = 1 ] && kernel=true
  cat <<EOF
router_id: $T_ADDR
local_as: $LOCAL_AS
listen: ["$T_ADDR:179"]
kernel: {enabled: $kernel}
graceful_restart: {enabled: false}
control_socket: "$WORK/bgpd.sock"
http_listen: null
log: {level: warn}
neighbors:
  - {address: $MON_ADDR, remote_as: $MON_AS, passive: true, families: [ipv4_unicast], import: none, export: all}
EOF
  for ((i = 0; i < K; i++)); do
    echo "  - {address: $(tester_addr $i), remote_as: $TESTER_AS, passive: true, families: [ipv4_unicast], import: all, export: none}"
  done
}

conf_bird() {
  local i
  cat <<EOF
log "$WORK/bird.log" { warning, error, fatal };
router id $T_ADDR;
protocol device { scan time 60; }
EOF
  [ "$KERNEL" = 1 ] && echo "protocol kernel { ipv4 { import none; export all; }; learn off; }"
  cat <<EOF
template bgp tester { local $T_ADDR as $LOCAL_AS; passive on; ipv4 { import all; export none; }; }
protocol bgp monitor { local $T_ADDR as $LOCAL_AS; neighbor $MON_ADDR as $MON_AS; passive on;
  ipv4 { import none; export all; }; }
EOF
  for ((i = 0; i < K; i++)); do
    echo "protocol bgp t$i from tester { neighbor $(tester_addr $i) as $TESTER_AS; }"
  done
}

conf_frr() {
  local i a
  cat <<EOF
frr defaults traditional
hostname bench
log file $WORK/frr.log errors
route-map NONE deny 10
route-map ALL permit 10
router bgp $LOCAL_AS
 bgp router-id $T_ADDR
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor $MON_ADDR remote-as $MON_AS
 neighbor $MON_ADDR passive
 neighbor $MON_ADDR advertisement-interval 0
EOF
  for ((i = 0; i < K; i++)); do
    a=$(tester_addr $i)
    echo " neighbor $a remote-as $TESTER_AS"
    echo " neighbor $a passive"
  done
  echo " address-family ipv4 unicast"
  echo "  neighbor $MON_ADDR activate"
  echo "  neighbor $MON_ADDR route-map NONE in"
  echo "  neighbor $MON_ADDR route-map ALL out"
  for ((i = 0; i < K; i++)); do
    a=$(tester_addr $i)
    echo "  neighbor $a activate"
    echo "  neighbor $a route-map ALL in"
    echo "  neighbor $a route-map NONE out"
  done
  echo " exit-address-family"
}

conf_gobgp() {
  local i
  cat <<EOF
[global.config]
  as = $LOCAL_AS
  router-id = "$T_ADDR"
  port = 179
  local-address-list = ["$T_ADDR"]
[global.apply-policy.config]
  export-policy-list = ["no-testers"]
  default-export-policy = "accept-route"
  default-import-policy = "accept-route"
[[defined-sets.neighbor-sets]]
  neighbor-set-name = "testers"
  neighbor-info-list = ["198.18.0.0/24"]
[[defined-sets.neighbor-sets]]
  neighbor-set-name = "monitor"
  neighbor-info-list = ["$MON_ADDR/32"]
[[policy-definitions]]
  name = "no-testers"
  [[policy-definitions.statements]]
    [policy-definitions.statements.conditions.match-neighbor-set]
      neighbor-set = "monitor"
    [policy-definitions.statements.actions]
      route-disposition = "accept-route"
  [[policy-definitions.statements]]
    [policy-definitions.statements.conditions.match-neighbor-set]
      neighbor-set = "testers"
    [policy-definitions.statements.actions]
      route-disposition = "reject-route"
EOF
  local peers=("$MON_ADDR:$MON_AS")
  for ((i = 0; i < K; i++)); do peers+=("$(tester_addr $i):$TESTER_AS"); done
  local p
  for p in "${peers[@]}"; do
    cat <<EOF
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${p%:*}"
    peer-as = ${p#*:}
  [neighbors.transport.config]
    passive-mode = true
    local-address = "$T_ADDR"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
EOF
  done
}

# ---- starting the target (pinned) -------------------------------------------------------------

# Only ever run in the background (`in_target CMD &`): exec makes $! the daemon's own PID.
in_target() { exec taskset -c "$TARGET_CPU" ip netns exec "$NS_T" "$@"; }

wait_listen() {
  local i
  for ((i = 0; i < 300; i++)); do
    [ -n "$(ip netns exec "$NS_T" ss -Hltn "sport = :179" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  return 1
}

start_target() {
  local t=$1
  case $t in
    bgpd)
      conf_bgpd >"$WORK/bgpd.yaml"
      in_target "$BGPD_BIN" --config "$WORK/bgpd.yaml" >"$WORK/bgpd.log" 2>&1 &
      TARGET_PIDS=($!) ;;
    bird)
      conf_bird >"$WORK/bird.conf"
      in_target bird -f -c "$WORK/bird.conf" -s "$WORK/bird.ctl" >"$WORK/bird.out" 2>&1 &
      TARGET_PIDS=($!) ;;
    frr)
      conf_frr >"$WORK/frr.conf"
      FRR_RUN_DIR=/var/run/frr/$NS_T
      mkdir -p "$FRR_RUN_DIR"
      chown frr:frr "$FRR_RUN_DIR" 2>/dev/null
      if [ "$KERNEL" = 1 ]; then
        printf 'frr defaults traditional\nhostname bench\nlog file %s/zebra.log warnings\n' \
          "$WORK" >"$WORK/zebra.conf"
        chown -R frr:frr "$WORK"   # zebra drops to the frr user
        in_target /usr/lib/frr/zebra -N "$NS_T" -f "$WORK/zebra.conf" -i "$WORK/zebra.pid" \
          -P 0 >"$WORK/zebra.out" 2>&1 &
        TARGET_PIDS=($!)
        local i
        for ((i = 0; i < 100; i++)); do [ -S "$FRR_RUN_DIR/zserv.api" ] && break; sleep 0.1; done
        in_target /usr/lib/frr/bgpd -S -N "$NS_T" -f "$WORK/frr.conf" -i "$WORK/bgpd.pid" \
          -P 0 >"$WORK/frr.out" 2>&1 &
        TARGET_PIDS+=($!)
      else
        in_target /usr/lib/frr/bgpd -S -Z -n -N "$NS_T" -f "$WORK/frr.conf" \
          -i "$WORK/bgpd.pid" -P 0 >"$WORK/frr.out" 2>&1 &
        TARGET_PIDS=($!)
      fi ;;
    gobgp)
      conf_gobgp >"$WORK/gobgp.toml"
      in_target gobgpd -f "$WORK/gobgp.toml" --api-hosts 127.0.0.1:50051 --log-level warn \
        --log-plain >"$WORK/gobgpd.log" 2>&1 &
      TARGET_PIDS=($!) ;;
    *) echo "unknown target $t" >&2; return 1 ;;
  esac
  wait_listen || { log "$t does not listen on :179"; tail -n 20 "$WORK"/*.log "$WORK"/*.out >&2 2>/dev/null; return 1; }
}

# ---- measurements ---------------------------------------------------------------------------

# Target CPU seconds so far (all its processes).
cpu_secs() {
  local p ticks=0 f
  for p in "${TARGET_PIDS[@]}"; do
    f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
    ticks=$((ticks + ${f% *} + ${f#* }))
  done
  awk -v t="$ticks" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }'
}

# Seconds the target's threads spent runnable but waiting for a CPU (schedstat field 2):
# the share of the wall time that other load on the machine cost it.
runq_secs() {
  local p
  for p in "${TARGET_PIDS[@]}"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done |
    awk '{ w += $2 } END { printf "%.2f", w / 1e9 }'
}

# Sum of a /proc/PID/status field (kB) over the target's processes, in MiB.
mem_mib() {
  local p kb=0 v
  for p in "${TARGET_PIDS[@]}"; do
    v=$(awk -v k="$1:" '$1 == k { print $2 }' "/proc/$p/status" 2>/dev/null)
    kb=$((kb + ${v:-0}))
  done
  awk -v k="$kb" 'BEGIN { printf "%.0f", k / 1024 }'
}

# event_ts FILE EVENT: the timestamp of EVENT's first line in FILE (empty if none yet).
event_ts() { awk -v e="$2" '$1 == e { print $2; exit }' "$1" 2>/dev/null; }

# wait_event FILE EVENT TIMEOUT: 0 once FILE has EVENT (polls every 20 ms).
wait_event() {
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt "$end" ]; do
    [ -n "$(event_ts "$1" "$2")" ] && return 0
    local p; for p in "${TARGET_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { log "target process $p died"; return 1; }; done
    sleep 0.02
  done
  return 1
}

# wait_idle: until the target's CPU time stops moving for 0.5 s (at most 30 s).
wait_idle() {
  local a b i
  a=$(cpu_secs)
  for ((i = 0; i < 60; i++)); do
    sleep 0.5; b=$(cpu_secs)
    [ "$a" = "$b" ] && return 0
    a=$b
  done
}

diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "timeout"; else printf "%.2f", b - a }'; }

last_count() { awk '$1 == "count" { c = $3 } END { print c + 0 }' "$1"; }

run_target() {
  local t=$1
  WORK=$BENCH_DIR/$SCENARIO-$t
  rm -rf "$WORK"; mkdir -p "$WORK"; chmod 755 "$BENCH_DIR" "$WORK"
  setup_netns
  log "$SCENARIO: starting $t"
  start_target "$t" || { echo "RESULT $SCENARIO $t failed-to-start"; cleanup; return 1; }
  local watch
  if [ "$KERNEL" = 1 ]; then
    watch=$WORK/fibwatch.out
    ip netns exec "$NS_T" "$BGPBLAST_BIN" fibwatch --expect "$TOTAL" --interval-ms "${FIB_INTERVAL_MS:-200}" >"$watch" 2>&1 &
    PIDS+=($!)
  else
    watch=$WORK/monitor.out
    ip netns exec "$NS_G" "$BGPBLAST_BIN" monitor --local "$MON_ADDR" --peer "$T_ADDR" \
      --as "$MON_AS" --expect "$TOTAL" >"$watch" 2>&1 &
    PIDS+=($!)
    wait_event "$watch" established 30 || { log "monitor not established"; echo "RESULT $SCENARIO $t no-monitor-session"; cleanup; return 1; }
  fi
  sleep 1
  wait_idle
  local cpu0 cpu1 cpu2 rss_in hwm hwm_in t_in t_out
  cpu0=$(cpu_secs)
  local busy0 rq0; busy0=$(cpu_busy_ticks); rq0=$(runq_secs)
  if [ -n "${PERF:-}" ]; then
    perf record -F "${PERF_FREQ:-499}" ${PERF_CALLGRAPH:--g} -o "$WORK/perf.data" -p "$(IFS=,; echo "${TARGET_PIDS[*]}")" \
      >"$WORK/perf.out" 2>&1 &
    PERF_PID=$!; PIDS+=("$PERF_PID"); sleep 0.5
  fi
  local send=$WORK/send.out
  ip netns exec "$NS_G" "$BGPBLAST_BIN" send --local "$(tester_addr 0)" --sessions "$K" \
    --peer "$T_ADDR" --as "$TESTER_AS" --prefixes "$N" >"$send" 2>&1 &
  local sender=$!
  PIDS+=("$sender")
  wait_event "$send" start 60 || log "senders did not start: $(tail -n 3 "$send")"
  local tmo=$TIMEOUT; [ "$t" = gobgp ] && tmo=${GOBGP_TIMEOUT:-$TIMEOUT}
  if ! wait_event "$watch" full "$tmo"; then
    log "$t: not all $TOTAL routes after ${TIMEOUT}s (last count $(last_count "$watch"))"
  fi
  wait_idle
  cpu1=$(cpu_secs); rss_in=$(mem_mib VmRSS); hwm_in=$(mem_mib VmHWM)
  local rq1; rq1=$(runq_secs)
  t_in=$(diff_s "$(event_ts "$send" start)" "$(event_ts "$watch" full)")
  local out_event=withdraw
  if [ "$KERNEL" = 1 ]; then out_event=disconnect; kill -USR2 "$sender"; else kill -USR1 "$sender"; fi
  wait_event "$send" "$out_event" 10
  if [ -n "$(event_ts "$watch" full)" ]; then
    wait_event "$watch" zero "$tmo" || log "$t: routes still there after ${TIMEOUT}s (last count $(last_count "$watch"))"
  fi
  wait_idle
  cpu2=$(cpu_secs); hwm=$(mem_mib VmHWM)
  local rq2; rq2=$(runq_secs)
  # Foreign load on the target CPU while it ran: busy time there minus the target's own.
  local other; other=$(awk -v b0="$busy0" -v b1="$(cpu_busy_ticks)" -v c0="$cpu0" -v c2="$cpu2" \
    -v hz="$CLK_TCK" 'BEGIN { o = (b1 - b0) / hz - (c2 - c0); printf "%.1f", o < 0 ? 0 : o }')
  if [ -n "${PERF:-}" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null; fi
  t_out=$(diff_s "$(event_ts "$send" "$out_event")" "$(event_ts "$watch" zero)")
  [ -z "$(event_ts "$watch" full)" ] && t_out="-"
  local cpu_in cpu_out
  cpu_in=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')
  cpu_out=$(awk -v a="$cpu1" -v b="$cpu2" 'BEGIN { printf "%.2f", b - a }')
  [ "$t_in" = timeout ] && t_in="timeout($(last_count "$watch"))"
  local wait_in wait_out
  wait_in=$(awk -v a="$rq0" -v b="$rq1" 'BEGIN { printf "%.2f", b - a }')
  wait_out=$(awk -v a="$rq1" -v b="$rq2" 'BEGIN { printf "%.2f", b - a }')
  echo "RESULT $SCENARIO $t $t_in $t_out $cpu_in $cpu_out $hwm $rss_in $other $wait_in $wait_out $hwm_in"
  cleanup
}

# wait_quiet: the two CPUs are shared with other people's builds and tests. Wait (at most
# $QUIET_WAIT s, default 900) until no rustc runs and both CPUs have been $QUIET_IDLE (0.9) idle for
# 3 s in a row; otherwise go on and say so.
cpu_idle_busy() { awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
wait_quiet() {
  local quiet=0 end=$((SECONDS + ${QUIET_WAIT:-900})) a b
  while [ $quiet -lt 3 ] && [ $SECONDS -lt $end ]; do
    a=$(cpu_idle_busy); sleep 1; b=$(cpu_idle_busy)
    if ! pgrep -x rustc >/dev/null && awk -v q="${QUIET_IDLE:-0.9}" -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y);
        i = y[1] - x[1]; u = y[2] - x[2]; exit !(i + u > 0 && i / (i + u) >= q) }'; then
      quiet=$((quiet + 1))
    else
      quiet=0
    fi
  done
  [ $quiet -ge 3 ] || log "machine still busy after ${QUIET_WAIT:-900}s: results are noisy"
}

# Busy jiffies of the target CPU (everything that ran there, the target included).
cpu_busy_ticks() { awk -v c="cpu$TARGET_CPU" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

mkdir -p "$BENCH_DIR"
for t in "${TARGETS[@]}"; do
  if [ "$KERNEL" = 1 ] && [ "$t" = gobgp ]; then echo "RESULT $SCENARIO gobgp cannot-program-the-kernel"; continue; fi
  wait_quiet
  run_target "$t"
done
