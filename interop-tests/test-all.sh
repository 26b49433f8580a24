#!/usr/bin/env bash
# The whole test suite: installs what it needs (Debian packages, the Rust toolchain's clippy and
# rustfmt), then runs formatting and lint checks, every cargo test, every fuzz target for a
# bounded time, and the interop tests against real BIRD, FRR and GoBGP in network namespaces.
# Run as root on Debian 12: `bash interop-tests/test-all.sh`. CI runs exactly this (.ci/run).
# The last line is always "N passed, N failed[, N skipped]" (unit tests + interop tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source interop-tests/lib/install.sh

# Debian packages: the interop peers and tools, a C toolchain for cargo's linker, and protoc
# and its well-known .proto files (etcd-client's build compiles etcd's protobuf definitions,
# which import google/protobuf/*.proto; --no-install-recommends leaves libprotobuf-dev out).
build_pkgs=(build-essential pkg-config ca-certificates curl protobuf-compiler libprotobuf-dev)
need_pkgs=()
for pkg in "${build_pkgs[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg"); done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "== installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
install_deps
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null; then
  echo "== installing the Rust toolchain (rustup, stable, minimal profile)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
    sh -s -- -y --profile minimal --component clippy,rustfmt >/dev/null
fi
if command -v rustup >/dev/null; then
  installed=$(rustup component list --installed 2>/dev/null || true)
  for comp in clippy rustfmt; do
    grep -q "^$comp" <<<"$installed" || { echo "== rustup component add $comp"; rustup component add "$comp"; }
  done
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
mkdir -p target
set +e
cargo test --workspace 2>&1 | tee target/cargo-test.log | grep -E '^(test result|running|error|failures|---- )'
cargo_rc=${PIPESTATUS[0]}
set -e
unit_passed=$(awk '/^test result:/ {s += $4} END {print s+0}' target/cargo-test.log)
unit_failed=$(awk '/^test result:/ {s += $6} END {print s+0}' target/cargo-test.log)
echo "unit tests: ${unit_passed} passed, ${unit_failed} failed"
if [ "$cargo_rc" != 0 ]; then
  echo "cargo test failed (exit $cargo_rc)" >&2
  echo "${unit_passed} passed, $(( unit_failed > 0 ? unit_failed : 1 )) failed"
  exit 1
fi

echo "== fuzzing: every cargo-fuzz target for ${FUZZ_SECONDS:-20} s (interop-tests/fuzz.sh)"
set +e
bash interop-tests/fuzz.sh | tee target/fuzz.log
fuzz_rc=${PIPESTATUS[0]}
set -e
f_summary=$(tail -n 1 target/fuzz.log)
f_passed=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$f_summary")
f_failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$f_summary")
if [ "$fuzz_rc" != 0 ] && [ "${f_failed:-0}" = 0 ]; then f_failed=1; fi
unit_passed=$(( unit_passed + ${f_passed:-0} ))
unit_failed=$(( unit_failed + ${f_failed:-0} ))

echo "== cargo build --release (bgpd, bgpctl)"
cargo build --release -p bgpd --quiet

echo "== interop tests"
set +e
BGPD_BIN="$PWD/target/release/bgpd" BGPCTL_BIN="$PWD/target/release/bgpctl" INTEROP_NO_INSTALL=1 \
  bash interop-tests/run.sh | tee target/interop.log
interop_rc=${PIPESTATUS[0]}
set -e
# run.sh's last line is "N passed, N failed[, N skipped]": add the unit tests to it.
summary=$(tail -n 1 target/interop.log)
i_passed=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$summary")
i_failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$summary")
i_skipped=$(sed -n 's/.* \([0-9]*\) skipped.*/\1/p' <<<"$summary")
if [ "$interop_rc" != 0 ] && [ "${i_failed:-0}" = 0 ]; then i_failed=1; fi
total="$(( unit_passed + ${i_passed:-0} )) passed, $(( unit_failed + ${i_failed:-0} )) failed"
[ -n "$i_skipped" ] && total+=", $i_skipped skipped"
echo "$total"
[ "$interop_rc" = 0 ] && [ "$fuzz_rc" = 0 ] || exit 1
