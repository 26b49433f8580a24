#!/usr/bin/env bash
# Lab benchmark (not part of the test suite): bgpd configuring itself from the Kubernetes API
# of a 1000-node cluster with 300 Services (100 of them LoadBalancers with
# externalTrafficPolicy Local), served by the test API server (tools/fake-apiserver.py, the
# real list/watch protocol), plain cluster (no Calico CRDs): Nodes with InternalIP and
# spec.podCIDRs. See docs/benchmarks.md.
#
#   interop-tests/bench/k8s-cluster.sh [NODES] [SERVICES]
#
# bgpd runs as node-0000 with a BIRD ToR in its file. The other nodes' addresses are not routed
# in the lab, so their mesh dials fail at once: what is measured is configuration, not BGP.
# Prints:
#   RESULT start_to_dialled_ms <ms>        bgpd start -> every mesh session configured
#                                           (show neighbors lists them all)
#   RESULT slice_to_update_ms <ms> x5      an EndpointSlice written (a Local Service's
#                                           endpoint becomes ready on this node; the time the
#                                           API server logged the PUT) -> the UPDATE carrying
#                                           its /32 leaves bgpd (tcpdump on bgpd's interface)
#   RESULT put_to_applied+applied_to_update_ms  the same split at bgpd's "datastore change
#                                           applied" log line (after mapping and diff)
#   RESULT rss_mib <mib>                   VmRSS with the view and 1000 sessions
# Env: BGPD_BIN, BGPCTL_BIN (default target/release), KEEP=1 keeps namespaces and logs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export BGPD_BIN=${BGPD_BIN:-$ROOT/target/release/bgpd} BGPCTL_BIN=${BGPCTL_BIN:-$ROOT/target/release/bgpctl}
NODES=${1:-1000} SERVICES=${2:-300}
source "$ROOT/interop-tests/lib/all.sh"
source "$ROOT/interop-tests/lib/k8s.sh"
[ -n "${KEEP:-}" ] && export INTEROP_KEEP=1
INTEROP_WORKDIR=${BENCH_DIR:-/tmp/bench-k8s} harness_init k8sbench

A=$(node_add api); B=$(node_add node0); T=$(node_add tor)
L=$(lan_add "$A" "$B" "$T")
me=$(lan_addr4 "$L" "$B"); tor=$(lan_addr4 "$L" "$T")
lb_range=198.19.112.0/22

# The cluster as one List loaded at start: Nodes, Services, and one EndpointSlice per Service
# (endpoints on other nodes).
python3 - "$NODES" "$SERVICES" "$me" >"$TEST_DIR/cluster.json" <<'PY'
import json, sys
nodes, services, me = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
items = []
for i in range(nodes):
    name = f"node-{i:04d}"
    addr = me if i == 0 else f"198.18.{128 + i // 250}.{1 + i % 250}"   # not routed in the lab
    items.append({"kind": "Node", "apiVersion": "v1",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
        "spec": {"podCIDR": f"10.{i // 256}.{i % 256}.0/24", "podCIDRs": [f"10.{i // 256}.{i % 256}.0/24"]},
        "status": {"addresses": [{"type": "InternalIP", "address": addr}, {"type": "Hostname", "address": name}]}})
for s in range(services):
    local = s < 100
    spec = {"type": "LoadBalancer" if local else "ClusterIP", "clusterIP": f"10.96.{s // 250}.{1 + s % 250}",
            "clusterIPs": [f"10.96.{s // 250}.{1 + s % 250}"], "ports": [{"port": 80, "protocol": "TCP"}]}
    status = {}
    if local:
        spec["externalTrafficPolicy"] = "Local"
        status = {"loadBalancer": {"ingress": [{"ip": f"198.19.{112 + s // 250}.{1 + s % 250}"}]}}
    items.append({"kind": "Service", "apiVersion": "v1",
        "metadata": {"name": f"svc-{s}", "namespace": "bench"}, "spec": spec, "status": status})
    items.append({"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "addressType": "IPv4",
        "metadata": {"name": f"svc-{s}-abcde", "namespace": "bench", "labels": {"kubernetes.io/service-name": f"svc-{s}"}},
        "endpoints": [{"addresses": [f"10.1.{s // 250}.{1 + s % 250}"], "conditions": {"ready": True},
                       "nodeName": f"node-{1 + s % (nodes - 1):04d}"}]})
print(json.dumps({"kind": "List", "apiVersion": "v1", "items": items}))
PY
k8s_start "$A" "$(lan_addr4 "$L" "$A")" --load "$TEST_DIR/cluster.json" || fail "API server did not start"
k8s_kubeconfig "$A" "$TEST_DIR/kubeconfig"
bird_start "$T" "$tor" 65000 --neighbor "$me 64512"
bgpd_write_k8s_config "$TEST_DIR/$B/bgpd.yaml" node-0000 "$TEST_DIR/kubeconfig" --extra "local_as: 64512
kernel: {enabled: false}
neighbors:
  - {address: $tor, remote_as: 65000, import: [\"accept 0.0.0.0/0 le 32\"], export: [\"accept 0.0.0.0/0 le 32\"]}"
sed -i "s|^    kubeconfig: .*|&\n    service_load_balancer_ips: [\"$lb_range\"]|" "$TEST_DIR/$B/bgpd.yaml"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
_count() { bgpd_neighbors_json "$1" | jq length; }
t0=$(now_ms); start_bgpd "$B" "$TEST_DIR/$B/bgpd.yaml" || fail "bgpd did not start"
for _ in $(seq 1 600); do [ "$(_count "$B" 2>/dev/null || echo 0)" -ge "$NODES" ] && break; sleep 0.05; done
[ "$(_count "$B")" -ge "$NODES" ] || fail "bgpd never listed $NODES neighbours"
echo "RESULT start_to_dialled_ms $(( $(now_ms) - t0 ))"
wait_until 30 bgpd_established "$B" "$tor"
sleep 2

# UPDATEs leaving bgpd toward the ToR: BGP type 2 at the start of a segment's payload.
iface=$(ip -n "$B" -o link show | awk -F': ' '$2 !~ /^lo/ {sub(/@.*/, "", $2); print $2; exit}')
ip netns exec "$B" tcpdump -l -n -tt -i "$iface" \
  "src host $me and dst host $tor and tcp dst port 179 and tcp[((tcp[12] & 0xf0) >> 2) + 18] = 2" \
  >"$TEST_DIR/updates.txt" 2>"$TEST_DIR/tcpdump.err" &
track_pid $!
sleep 1
results=(); split=()
for s in 0 1 2 3 4; do
  lines=$(wc -l <"$TEST_DIR/updates.txt")
  k8s_endpointslice "$A" bench "svc-$s-abcde" "svc-$s" \
    "[{\"addresses\":[\"10.9.0.$((s + 1))\"],\"conditions\":{\"ready\":true},\"nodeName\":\"node-0000\"}]" >/dev/null
  # The write as the API server logged it (UTC, ms): what a watcher could see first.
  t_put=$(grep "PUT /apis/discovery.k8s.io/v1/namespaces/bench/endpointslices/svc-$s-abcde" \
    "$TEST_DIR/$A/apiserver.log" | tail -n1 | awk '{print $1}')
  t_put=$(date -u -d "$(date -u +%F) $t_put" +%s.%N)
  for _ in $(seq 1 100); do [ "$(wc -l <"$TEST_DIR/updates.txt")" -gt "$lines" ] && break; sleep 0.02; done
  t_update=$(sed -n "$((lines + 1))p" "$TEST_DIR/updates.txt" | awk '{print $1}')
  [ -n "$t_update" ] || fail "no UPDATE left bgpd after the EndpointSlice of svc-$s"
  results+=("$(awk -v a="$t_put" -v b="$t_update" 'BEGIN {printf "%.0f", (b - a) * 1000}')")
  # Where the time went: the API server's log of the write, bgpd's "applied" log line.
  t_applied=$(grep "datastore change applied" "$TEST_DIR/$B/bgpd.log" | tail -n1 | awk '{print $1}')
  t_applied=$(date -u -d "$t_applied" +%s.%N)
  split+=("$(awk -v a="$t_put" -v b="$t_applied" -v c="$t_update" 'BEGIN {printf "%.0f+%.0f", (b - a) * 1000, (c - b) * 1000}')")
  lb="198.19.112.$((s + 1))/32"
  wait_until 5 bird_route_from "$T" "$lb" "$me"
  sleep 0.5
done
echo "RESULT slice_to_update_ms ${results[*]}"
echo "RESULT put_to_applied+applied_to_update_ms ${split[*]}"
echo "RESULT rss_mib $(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$(bgpd_pid "$B")/status")"
