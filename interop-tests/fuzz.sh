#!/usr/bin/env bash
# Runs every cargo-fuzz target of the workspace for a bounded time: bgp-core's decoders, the
# FSM, the export encoder and the policy parser (bgp-core/fuzz), and route-sync's netlink
# parsing (route-sync/fuzz). Each starts from its checked-in seeds (<crate>/fuzz/seeds/<target>,
# written by bgp-core/fuzz/make-seeds.py) plus what earlier runs on this machine found
# (target/fuzz-corpus/<target>, not checked in). A crash fails the target; its input is kept
# in target/fuzz-artifacts/ and printed in base64 so it can become a regression test.
#
# FUZZ_SECONDS per target (default 20; CI uses the default); FUZZ_TARGETS to pick some;
# FUZZ_SEED (default 1: the suite explores the same inputs on every run, so CI's verdict does
# not depend on luck; set it to 0 for a random seed, as a longer hunt should).
# Installs cargo-fuzz (crates.io) when missing. libFuzzer needs a few unstable rustc flags:
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them (no nightly is fetched).
# Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds=${FUZZ_SECONDS:-20}
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== cargo install cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet || { echo "0 passed, 1 failed"; exit 1; }
fi
export RUSTC_BOOTSTRAP=1
top=$PWD
mkdir -p target/fuzz-corpus target/fuzz-artifacts
passed=0 failed=0
for crate in bgp-core route-sync; do
  dir=$crate/fuzz
  targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$dir/Cargo.toml" | grep -v -- '-fuzz$')
  echo "== building $dir ($(echo $targets | tr '\n' ' '))"
  if ! (cd "$dir" && cargo fuzz build -O >"$top/target/fuzz-build-$crate.log" 2>&1); then
    tail -n 30 "target/fuzz-build-$crate.log"
    failed=$((failed + $(echo "$targets" | wc -w)))
    continue
  fi
  for t in $targets; do
    if [ -n "${FUZZ_TARGETS:-}" ] && ! grep -qw "$t" <<<"$FUZZ_TARGETS"; then continue; fi
    corpus=target/fuzz-corpus/$t
    mkdir -p "$corpus"
    log=target/fuzz-artifacts/$t.log
    "$dir/target/x86_64-unknown-linux-gnu/release/$t" "$corpus" "$dir/seeds/$t" \
      -max_total_time="$seconds" -seed="${FUZZ_SEED:-1}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$top/target/fuzz-artifacts/$t-" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ "$rc" = 0 ]; then
      passed=$((passed + 1)); echo "PASS fuzz $t (${runs:-?} runs in ${seconds}s, $cov)"
    else
      failed=$((failed + 1)); echo "FAIL fuzz $t (exit $rc) — log: $log"
      grep -m 1 -A 12 'panicked\|ERROR: AddressSanitizer\|ERROR: libFuzzer' "$log"
      grep -m 1 '^Base64:' "$log"
    fi
  done
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
