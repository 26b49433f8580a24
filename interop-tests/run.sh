#!/usr/bin/env bash
# Runs the interop tests: every interop-tests/t_*.sh, or the ones named on the command line
# (`run.sh t_harness_peers` or `run.sh interop-tests/t_x.sh`). Each test runs in its own bash
# process under a timeout (INTEROP_TIMEOUT, default 300 s; a "# timeout: N" line in the test
# overrides it). A test passes with exit 0, is skipped with exit 77, fails otherwise.
# Prints one PASS/FAIL/SKIP line per test and ends with "N passed, N failed[, N skipped]".
#
# Environment: INTEROP_LOG_DIR (default /tmp/interop/run.<pid>): <test>.log and <test>/ (the
# test's TEST_DIR: configs, daemon logs). INTEROP_NO_INSTALL=1 skips installing packages.
# INTEROP_KEEP=1 leaves namespaces and daemons of failed tests running for inspection.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib/install.sh
source "$here/lib/install.sh"
# shellcheck source=lib/netns.sh
source "$here/lib/netns.sh"

tests=()
if [ $# -gt 0 ]; then
  for t in "$@"; do
    t=$(basename "${t%.sh}")
    [ -f "$here/$t.sh" ] || { echo "no such test: $here/$t.sh" >&2; exit 2; }
    tests+=("$here/$t.sh")
  done
else
  for t in "$here"/t_*.sh; do [ -f "$t" ] && tests+=("$t"); done
fi

log_dir=${INTEROP_LOG_DIR:-/tmp/interop/run.$$}
mkdir -p "$log_dir"

if [ "$(id -u)" != 0 ]; then
  echo "interop tests need root (network namespaces): skipping ${#tests[@]} tests" >&2
  echo "0 passed, 0 failed, ${#tests[@]} skipped"
  exit 0
fi
if [ -z "${INTEROP_NO_INSTALL:-}" ]; then
  install_deps || { echo "could not install the interop test dependencies" >&2; exit 1; }
fi

passed=0 failed=0 skipped=0 failed_names=()
for t in "${tests[@]}"; do
  name=$(basename "${t%.sh}")
  limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n1)
  limit=${limit:-${INTEROP_TIMEOUT:-300}}
  tdir="$log_dir/$name"
  rm -rf "$tdir"
  start=$SECONDS
  INTEROP_TEST_DIR="$tdir" timeout -k 15 "$limit" bash "$t" >"$log_dir/$name.log" 2>&1
  rc=$?
  took=$((SECONDS - start))
  # A test killed by the timeout may not have cleaned up: do it for it (its own dir only).
  if [ -z "${INTEROP_KEEP:-}" ] && [ -d "$tdir" ]; then harness_cleanup_dir "$tdir"; fi
  case $rc in
    0) passed=$((passed + 1)); echo "PASS $name (${took}s)" ;;
    77) skipped=$((skipped + 1))
        echo "SKIP $name: $(grep -m1 '^SKIP' "$log_dir/$name.log" | cut -c7-)" ;;
    *) failed=$((failed + 1)); failed_names+=("$name")
       why="exit $rc"; [ "$rc" = 124 ] || [ "$rc" = 137 ] && why="timed out after ${limit}s"
       echo "FAIL $name (${took}s, $why) — log: $log_dir/$name.log"
       tail -n 25 "$log_dir/$name.log" | sed 's/^/    | /' ;;
  esac
done

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary+=", $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
