#!/usr/bin/env bash
# bgpd <-> FRR: eBGP and iBGP sessions over IPv4 and IPv6, routes both ways (peer's CLI and
# kernel, bgpd's kernel), no flap past the hold time, peer restart, bgpd killed.
# See lib/session_test.sh for the topology and steps.
# timeout: 240
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
source "$(dirname "$0")/lib/session_test.sh"
harness_init
run_session_test frr
