#!/usr/bin/env bash
# The demo: Kubernetes-style nodes routing pod traffic with bgpd, no tunnel, configured from
# the cluster's etcd the way Calico's confd configures BIRD.
#
#   pod1 -- node1 (bgpd) --+
#   pod2 -- node2 (bgpd) --+-- one LAN (198.18.L.0/24) -- tor (BIRD, AS 65000)
#   pod3 -- node3 (bgpd) --+                           -- etcd (Calico's v3 resources)
#   pod4 -- node4 (bgpd) --+   (joins later)
#
# etcd holds what calicoctl would store: the Nodes with their addresses, an IP pool, each
# node's IPAM block (its Pod CIDR 198.19.N.0/24) and a BGPPeer that gives every node an eBGP
# session to the ToR. Each node's bgpd config names only the node and the etcd endpoint; bgpd
# builds the iBGP full mesh (AS 64512) and the ToR session from etcd, advertises its block,
# and installs the others' blocks into its kernel via the owning node (proto 179, "bgpd"), so a
# pod on node 3 reaches a pod on node 1 over plain routing. Then node 4 joins the cluster
# by being written into etcd, and every node routes its pods within a second or two.
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
INTEROP_PACKAGES=(bird2 iproute2 jq iputils-ping procps etcd-server etcd-client)   # no FRR/GoBGP
for pkg in build-essential pkg-config ca-certificates curl protobuf-compiler libprotobuf-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || INTEROP_PACKAGES+=("$pkg")
done
INTEROP_PACKAGE_CMD[build-essential]=cc INTEROP_PACKAGE_CMD[pkg-config]=pkg-config
INTEROP_PACKAGE_CMD[protobuf-compiler]=protoc
INTEROP_PACKAGE_CMD[ca-certificates]=update-ca-certificates
echo "== checking packages (BIRD, etcd, iproute2, jq, ping, build tools)"
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

step "creating 4 nodes, their pods, a ToR and etcd in network namespaces"
N=(); for i in 1 2 3 4; do N[i]=$(node_add "node$i"); done
T=$(node_add tor); E=$(node_add etcd)
L=$(lan_add "${N[1]}" "${N[2]}" "${N[3]}" "${N[4]}" "$T" "$E")
addr=(); for i in 1 2 3 4; do addr[i]=$(lan_addr4 "$L" "${N[i]}"); done
tor=$(lan_addr4 "$L" "$T"); etcd_addr=$(lan_addr4 "$L" "$E")
POD=(); for i in 1 2 3 4; do POD[i]=$(pod_add "${N[i]}" "198.19.$i.0/24"); done
for i in 1 2 3 4; do
  echo "node$i: ${N[i]}  underlay ${addr[i]}  Pod CIDR 198.19.$i.0/24  pod $(pod_addr4 "${POD[i]}") in ${POD[i]}"
done
echo "tor:   $T  underlay $tor  AS 65000 (BIRD)"
echo "etcd:  $E  http://$etcd_addr:2379"

step "etcd: the cluster as calicoctl stores it (nodes 1-3, pool, blocks, a BGPPeer to the ToR)"
etcd_start "$E" "$etcd_addr" || { echo "etcd did not start" >&2; exit 1; }
calico_pool "$E" default-ipv4-ippool 198.19.0.0/16
for i in 1 2 3; do
  calico_node "$E" "node$i" "${addr[i]}/24"
  calico_block "$E" "node$i" "198.19.$i.0/24"
done
calico_bgppeer "$E" tor "{\"peerIP\":\"$tor\",\"asNumber\":65000}"
etcdctl_in "$E" get --prefix --keys-only /calico | grep . | sed 's/^/    /'

step "starting bgpd on nodes 1-3 (config: node name + etcd endpoint) and BIRD on the ToR"
tor_args=()
for i in 1 2 3 4; do
  bgpd_write_datastore_config "$TEST_DIR/${N[i]}/bgpd.yaml" "node$i" "http://$etcd_addr:2379"
  tor_args+=(--neighbor "${addr[i]} 64512")
done
for i in 1 2 3; do
  start_bgpd "${N[i]}" "$TEST_DIR/${N[i]}/bgpd.yaml" || { echo "bgpd on node$i did not start" >&2; exit 1; }
done
bird_start "$T" "$tor" 65000 "${tor_args[@]}"
echo "node1's whole config ($TEST_DIR/${N[1]}/bgpd.yaml):"
sed 's/^/    /' "$TEST_DIR/${N[1]}/bgpd.yaml"

step "waiting for every session and every Pod CIDR"
converged() {
  local n=$1 i j
  for i in $(seq 1 "$n"); do
    bgpd_established "${N[i]}" "$tor" || return 1
    for j in $(seq 1 "$n"); do
      [ "$i" = "$j" ] && continue
      bgpd_established "${N[i]}" "${addr[j]}" && bgpd_kernel_route "${N[i]}" "198.19.$j.0/24" "${addr[j]}" || return 1
    done
  done
}
wait_until 60 converged 3
echo "all sessions Established and every Pod CIDR routed after ${SECONDS}s"

step "node4 joins: its Node and block are written into etcd"
start_bgpd "${N[4]}" "$TEST_DIR/${N[4]}/bgpd.yaml" || { echo "bgpd on node4 did not start" >&2; exit 1; }
t0=$(date +%s%N)
calico_node "$E" node4 "${addr[4]}/24"
calico_block "$E" node4 198.19.4.0/24
wait_until 30 converged 4
echo "node4 meshed and its Pod CIDR routed on every node $(( ($(date +%s%N) - t0) / 1000000 )) ms after the write"

step "node1: bgpctl show datastore"
bgpctl_in "${N[1]}" show datastore
for i in 1 4; do
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
step "ping from the pod on node4 ($(pod_addr4 "${POD[4]}")) to the pod on node2 ($(pod_addr4 "${POD[2]}"))"
ip netns exec "${POD[4]}" ping -n -c 3 -i 0.3 "$(pod_addr4 "${POD[2]}")"
step "the path: no tunnel, node3 routes the packet straight to node1"
ip -n "${N[3]}" route get "$(pod_addr4 "${POD[1]}")"
ip -n "${N[3]}" -d link show type ipip 2>/dev/null | grep -q . && echo "(unexpected tunnel device!)" || echo "(no tunnel devices on node3)"

if [ -n "${DEMO_KEEP:-}" ]; then
  echo
  echo "Still running. Try: ip netns exec ${N[1]} $BGPCTL_BIN --socket $(bgpd_socket "${N[1]}") show routes"
  read -r -p "Press Enter to clean up. " _
fi
step "cleaning up (namespaces and processes of this demo only)"
