#!/usr/bin/env bash
# Every benchmark scenario against every target, one after the other (see run.sh), then a
# Markdown table with the ratios against BIRD from the same run (docs/benchmarks.md).
#
#   interop-tests/bench/run-all.sh [SCENARIO...]     default: 1x1000000 10x100000 100x1000 kernel
#
# Env is passed on to run.sh (TARGETS="bgpd bird" limits the targets). RESULT lines are also
# appended to $RESULTS (default /tmp/bench-results.txt).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULTS=${RESULTS:-/tmp/bench-results.txt}
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(1x1000000 10x100000 100x1000 kernel)
read -r -a targets <<<"${TARGETS:-}"

: >"$RESULTS.run"
for s in "${SCENARIOS[@]}"; do
  "$HERE/run.sh" "$s" "${targets[@]}" | tee -a "$RESULTS.run"
done
cat "$RESULTS.run" >>"$RESULTS"

# RESULT scenario target t_in t_out cpu_in cpu_out hwm rss_in other wait_in wait_out
awk '
function ratio(a, b) { return (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) ? sprintf("%.2f", a / b) : "-" }
$1 == "RESULT" {
  n++; sc[n] = $2; tg[n] = $3; ti[n] = $4; to[n] = $5; ci[n] = $6; co[n] = $7; hw[n] = $8; ot[n] = $10; wi[n] = $11; wo[n] = $12
  if ($3 == "bird") { bti[$2] = $4; bto[$2] = $5; bci[$2] = $6; bco[$2] = $7; bhw[$2] = $8 }
}
END {
  print "| scenario | target | time in (s) | time out (s) | CPU in (s) | CPU out (s) | peak RSS (MiB) | vs BIRD: time in / out, CPU in / out, RSS | other load on the target CPU (s) | target waited for its CPU, in / out (s) |"
  print "|---|---|---|---|---|---|---|---|---|---|"
  for (i = 1; i <= n; i++) {
    if (ti[i] !~ /^[0-9.]+$/ && ti[i] !~ /^timeout/) { printf "| %s | %s | %s ||||||||\n", sc[i], tg[i], ti[i]; continue }
    s = sc[i]
    r = ratio(ti[i], bti[s]) " / " ratio(to[i], bto[s]) ", " ratio(ci[i], bci[s]) " / " ratio(co[i], bco[s]) ", " ratio(hw[i], bhw[s])
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n", s, tg[i], ti[i], to[i], ci[i], co[i], hw[i], r, ot[i], wi[i], wo[i]
  }
}' "$RESULTS.run"
