#!/usr/bin/env bash
# The whole test suite: installs what it needs (Debian packages, Rust components), then runs
# formatting and lint checks, every cargo test, and the interop tests against real BIRD, FRR
# and GoBGP in network namespaces. Run as root on Debian 12: `bash interop-tests/test-all.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
for pkg in bird2 frr gobgpd exabgp iproute2 tcpdump jq iputils-ping procps python3; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "== installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust (rustup) first" >&2
  exit 1
fi
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace 2>&1 | tee target/cargo-test.log | grep -E '^(test result|running|error|failures|---- )' || true
# `tee` hides cargo's exit code: read it back from the log.
if grep -qE '^test result: FAILED|^error(\[|:)' target/cargo-test.log; then
  echo "cargo test failed" >&2
  exit 1
fi
unit_passed=$(awk '/^test result:/ {s += $4} END {print s+0}' target/cargo-test.log)
unit_failed=$(awk '/^test result:/ {s += $6} END {print s+0}' target/cargo-test.log)

echo "== cargo build --release (bgpd, bgpctl)"
cargo build --release -p bgpd --quiet

echo "== interop tests"
set +e
BGPD_BIN="$PWD/target/release/bgpd" BGPCTL_BIN="$PWD/target/release/bgpctl" \
  bash interop-tests/run.sh
interop_rc=$?
set -e
echo "unit tests: ${unit_passed} passed, ${unit_failed} failed"
exit $interop_rc
