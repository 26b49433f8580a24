#!/usr/bin/env bash
# The long soak of the benchmark set: interop-tests/t_soak.sh for 30 minutes (SOAK_SECONDS,
# default 1800) instead of CI's 2. Same checks (no descriptor, memory or task growth; no flap
# of untouched sessions); prints the test's summary line.
#   BGPD_BIN=... BGPCTL_BIN=... interop-tests/bench/soak.sh
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SOAK_SECONDS=${SOAK_SECONDS:-1800}
log_dir=${INTEROP_LOG_DIR:-/tmp/interop/soak.$$}
INTEROP_LOG_DIR=$log_dir bash "$here/run.sh" t_soak
rc=$?
cat "$log_dir/t_soak/soak-summary" 2>/dev/null
exit $rc
