#!/usr/bin/env bash
# The demo: three Kubernetes-style nodes routing pod traffic with bgpd, no tunnel.
#
#   pod1 -- node1 (bgpd) --+
#   pod2 -- node2 (bgpd) --+-- one LAN (198.18.L.0/24) -- tor (BIRD, AS 65000)
#   pod3 -- node3 (bgpd) --+
#
# Each node runs bgpd (AS 64512) with an iBGP full mesh to the other nodes and an eBGP session
# to the BIRD top-of-rack router, and advertises its Pod CIDR (198.19.N.0/24). Every node
# installs the others' Pod CIDRs into its kernel via the owning node (proto 186 "bgp"), so a
# pod on node 3 reaches a pod on node 1 over plain routing.
#
# Run as root on Debian 12 from the repository: `bash examples/demo.sh`. Installs what is
# missing (Debian packages; the Rust toolchain through rustup if there is no cargo), builds
# bgpd, runs the demo in network namespaces and removes them again on exit or Ctrl-C.
# Set DEMO_KEEP=1 to leave it running until Enter is pressed; DEMO_NO_BUILD=1 to skip the build.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)" >&2; exit 1; }

# shellcheck source=../interop-tests/lib/install.sh
source interop-tests/lib/install.sh
INTEROP_PACKAGES=(bird2 iproute2 jq iputils-ping procps)   # the demo needs no FRR/GoBGP
for pkg in build-essential pkg-config ca-certificates curl protobuf-compiler; do
  dpkg -s "$pkg" >/dev/null 2>&1 || INTEROP_PACKAGES+=("$pkg")
done
INTEROP_PACKAGE_CMD[build-essential]=cc INTEROP_PACKAGE_CMD[pkg-config]=pkg-config
INTEROP_PACKAGE_CMD[protobuf-compiler]=protoc
INTEROP_PACKAGE_CMD[ca-certificates]=update-ca-certificates
echo "== checking packages (BIRD, iproute2, jq, ping, build tools)"
install_deps
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null; then
  echo "== installing the Rust toolchain (rustup)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >/dev/null
fi
if [ -z "${DEMO_NO_BUILD:-}" ]; then
  echo "== cargo build --release -p bgpd"
  cargo build --release -p bgpd
  export BGPD_BIN="$repo/target/release/bgpd" BGPCTL_BIN="$repo/target/release/bgpctl"
else   # DEMO_NO_BUILD=1: use already built binaries (BGPD_BIN / BGPCTL_BIN, default target/release)
  export BGPD_BIN=${BGPD_BIN:-$repo/target/release/bgpd} BGPCTL_BIN=${BGPCTL_BIN:-$repo/target/release/bgpctl}
fi

# shellcheck source=../interop-tests/lib/all.sh
source interop-tests/lib/all.sh
INTEROP_WORKDIR=${INTEROP_WORKDIR:-/tmp/bgpd-demo}
harness_init demo   # namespaces "demo<pid>-*", removed by the EXIT/INT/TERM trap

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "creating 3 nodes, their pods and a ToR in network namespaces"
N=(); for i in 1 2 3; do N[i]=$(node_add "node$i"); done
T=$(node_add tor)
L=$(lan_add "${N[1]}" "${N[2]}" "${N[3]}" "$T")
addr=(); for i in 1 2 3; do addr[i]=$(lan_addr4 "$L" "${N[i]}"); done
tor=$(lan_addr4 "$L" "$T")
POD=(); for i in 1 2 3; do POD[i]=$(pod_add "${N[i]}" "198.19.$i.0/24"); done
for i in 1 2 3; do
  echo "node$i: ${N[i]}  underlay ${addr[i]}  Pod CIDR 198.19.$i.0/24  pod $(pod_addr4 "${POD[i]}") in ${POD[i]}"
done
echo "tor:   $T  underlay $tor  AS 65000 (BIRD)"

step "starting bgpd on every node (iBGP full mesh + eBGP to the ToR) and BIRD on the ToR"
tor_args=()
for i in 1 2 3; do
  args=(--neighbor "$tor 65000 desc=tor" --originate "198.19.$i.0/24")
  for j in 1 2 3; do [ "$i" = "$j" ] || args+=(--neighbor "${addr[j]} 64512 desc=node$j"); done
  bgpd_write_config "$TEST_DIR/${N[i]}/bgpd.yaml" "${addr[i]}" 64512 --hostname "node$i" "${args[@]}"
  start_bgpd "${N[i]}" "$TEST_DIR/${N[i]}/bgpd.yaml" || { echo "bgpd on node$i did not start" >&2; exit 1; }
  tor_args+=(--neighbor "${addr[i]} 64512")
done
bird_start "$T" "$tor" 65000 "${tor_args[@]}"
echo "node1's config ($TEST_DIR/${N[1]}/bgpd.yaml):"
sed 's/^/    /' "$TEST_DIR/${N[1]}/bgpd.yaml"

step "waiting for every session and every Pod CIDR"
for i in 1 2 3; do
  wait_until 60 bgpd_established "${N[i]}" "$tor"
  for j in 1 2 3; do
    [ "$i" = "$j" ] && continue
    wait_until 60 bgpd_established "${N[i]}" "${addr[j]}"
    wait_bgpd_route 60 "${N[i]}" "198.19.$j.0/24" "${addr[j]}"
  done
done
echo "all sessions Established after ${SECONDS}s"

for i in 1 2 3; do
  step "node$i: bgpctl show neighbors"
  bgpctl_in "${N[i]}" show neighbors
  step "node$i: ip route"
  ip -n "${N[i]}" route
done
step "tor (BIRD): birdc show protocols / show route"
birdc_in "$T" show protocols
birdc_in "$T" show route

step "ping from the pod on node3 ($(pod_addr4 "${POD[3]}")) to the pod on node1 ($(pod_addr4 "${POD[1]}"))"
ip netns exec "${POD[3]}" ping -n -c 3 -i 0.3 "$(pod_addr4 "${POD[1]}")"
step "the path: no tunnel, node3 routes the packet straight to node1"
ip -n "${N[3]}" route get "$(pod_addr4 "${POD[1]}")"
ip -n "${N[3]}" -d link show type ipip 2>/dev/null | grep -q . && echo "(unexpected tunnel device!)" || echo "(no tunnel devices on node3)"

if [ -n "${DEMO_KEEP:-}" ]; then
  echo
  echo "Still running. Try: ip netns exec ${N[1]} $BGPCTL_BIN --socket $(bgpd_socket "${N[1]}") show routes"
  read -r -p "Press Enter to clean up. " _
fi
step "cleaning up (namespaces and processes of this demo only)"
