#!/usr/bin/env bash
# Lab benchmark (not part of the test suite): bgpd configuring itself from a real etcd that
# holds a 1000-node Calico cluster (1000 nodes, 1000 block affinities, 2 route reflectors,
# 5 BGPPeers, mesh off), as calicoctl stores it. See docs/benchmarks.md.
#
#   interop-tests/bench/etcd-cluster.sh [NODES]
#
# Runs bgpd as route reflector rr-1 (it peers with every node: 1000 sessions) and as one
# client node (2 sessions). The nodes' addresses are not routed in the lab, so every dial
# fails at once ("network unreachable"): what is measured is configuration, not BGP.
# Prints:
#   RESULT start_to_dialled_ms <rr> <client>   bgpd start -> every session configured and
#                                               dialled (show neighbors lists them all)
#   RESULT join_to_dialled_ms <rr>              a node Put into etcd -> listed at the RR
#   RESULT rss_mib <rr> <client>                VmRSS with the view and sessions
#   RESULT burst_1000_updates_ms <rr> <batches> 1000 nodes rewritten at once (a rolling
#                                               upgrade) -> applied, and in how many batches
# Env: BGPD_BIN, BGPCTL_BIN (default target/release), KEEP=1 keeps namespaces and logs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export BGPD_BIN=${BGPD_BIN:-$ROOT/target/release/bgpd} BGPCTL_BIN=${BGPCTL_BIN:-$ROOT/target/release/bgpctl}
NODES=${1:-1000}
source "$ROOT/interop-tests/lib/all.sh"
[ -n "${KEEP:-}" ] && export INTEROP_KEEP=1
INTEROP_WORKDIR=${BENCH_DIR:-/tmp/bench-etcd} harness_init etcdbench

E=$(node_add etcd); R=$(node_add rr1); C=$(node_add client)
L=$(lan_add "$E" "$R" "$C")
etcd_addr=$(lan_addr4 "$L" "$E"); rr=$(lan_addr4 "$L" "$R"); cl=$(lan_addr4 "$L" "$C")
etcd_start "$E" "$etcd_addr"

# The cluster, written through etcd's JSON gateway (one HTTP connection, ~2000 puts).
harness_log "writing $NODES nodes into etcd"
ip netns exec "$E" python3 - "$NODES" "$rr" "$cl" <<'PY'
import base64, http.client, json, sys
nodes, rr, client = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", 2379)
res = "/calico/resources/v3/projectcalico.org"
def put(key, value):
    body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                       "value": base64.b64encode(value.encode()).decode()})
    conn.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
    r = conn.getresponse(); r.read()
    if r.status != 200: sys.exit(f"put {key}: {r.status}")
def addr(i):
    if i == 0: return rr
    if i == nodes - 1: return client
    return f"198.19.{128 + i // 250}.{1 + i % 250}"   # not routed in the lab
for i in range(nodes):
    name = f"node-{i:04d}"
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    bgp = {"ipv4Address": f"{addr(i)}/24"}
    if i < 2:
        labels["route-reflector"] = "true"; bgp["routeReflectorClusterID"] = "224.0.0.1"
    put(f"{res}/nodes/{name}", json.dumps({"kind": "Node", "apiVersion": "projectcalico.org/v3",
        "metadata": {"name": name, "labels": labels}, "spec": {"bgp": bgp}}))
    put(f"/calico/ipam/v2/host/{name}/ipv4/block/10.{i // 256}.{i % 256}.0-26",
        json.dumps({"state": "confirmed", "deleted": False}))
put(f"{res}/bgpconfigurations/default", json.dumps({"spec": {"nodeToNodeMeshEnabled": False, "asNumber": 64512}}))
put(f"{res}/ippools/pods", json.dumps({"spec": {"cidr": "10.0.0.0/8"}}))
for name, spec in [("peer-with-rrs", {"nodeSelector": "all()", "peerSelector": "has(route-reflector)"}),
                   ("tor-a", {"nodeSelector": "rack == 'a'", "peerIP": "198.18.200.1", "asNumber": 65000}),
                   ("tor-b", {"nodeSelector": "rack == 'b'", "peerIP": "198.18.200.2", "asNumber": 65000}),
                   ("edge", {"node": "node-0000", "peerIP": "198.18.200.3", "asNumber": 65010}),
                   ("monitor", {"nodeSelector": "has(monitor)", "peerIP": "198.18.200.4", "asNumber": 65020})]:
    put(f"{res}/bgppeers/{name}", json.dumps({"spec": spec}))
PY

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
_count() { bgpd_neighbors_json "$1" | jq length; }
# wait_count NS N: wait until NS lists N neighbours, all dialled (none still Idle without error).
wait_count() {
  local i
  for i in $(seq 1 600); do
    [ "$(_count "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
    sleep 0.05
  done
  fail "$1 never listed $2 neighbours"
}
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$(bgpd_pid "$1")/status"; }

bgpd_write_datastore_config "$TEST_DIR/$R/bgpd.yaml" node-0000 "http://$etcd_addr:2379" --extra "kernel: {enabled: false}"
bgpd_write_datastore_config "$TEST_DIR/$C/bgpd.yaml" "node-$(printf %04d $((NODES - 1)))" "http://$etcd_addr:2379" --extra "kernel: {enabled: false}"

t0=$(now_ms); start_bgpd "$R" "$TEST_DIR/$R/bgpd.yaml"; wait_count "$R" "$NODES"; t_rr=$(( $(now_ms) - t0 ))
t0=$(now_ms); start_bgpd "$C" "$TEST_DIR/$C/bgpd.yaml"; wait_count "$C" 2; t_cl=$(( $(now_ms) - t0 ))
echo "RESULT start_to_dialled_ms $t_rr $t_cl"

sleep 2
# From just before etcdctl writes the new node (so etcdctl's own start is included: an upper
# bound) to the RR's log line that applied it (the session starts in the same step).
t0=$(date -u +%s.%N)
calico_node "$E" node-9999 198.19.250.250/24
_listed() { bgpd_neighbor_addresses "$R" | grep -qw 198.19.250.250; }
wait_until 10 _listed
t1=$(grep "datastore change applied" "$TEST_DIR/$R/bgpd.log" | tail -n1 | sed 's/\x1b\[[0-9;]*m//g' | awk '{print $1}')
t1=$(date -u -d "$t1" +%s.%N)
echo "RESULT join_to_dialled_ms $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", (b - a) * 1000}')"
echo "RESULT rss_mib $(rss_mib "$R") $(rss_mib "$C")"

# A rolling upgrade: every node object rewritten (a label added) in one burst.
applied_before=$(bgpd_datastore_json "$R" | jq .applied_batches)
t0=$(now_ms)
ip netns exec "$E" python3 - "$NODES" <<'PY'
import base64, http.client, json, sys
conn = http.client.HTTPConnection("127.0.0.1", 2379)
key = lambda i: f"/calico/resources/v3/projectcalico.org/nodes/node-{i:04d}"
for i in range(2, int(sys.argv[1]) - 1):
    b = base64.b64encode
    conn.request("POST", "/v3/kv/range", json.dumps({"key": b(key(i).encode()).decode()}))
    kv = json.loads(conn.getresponse().read())["kvs"][0]
    node = json.loads(base64.b64decode(kv["value"]))
    node["metadata"]["labels"]["upgraded"] = "true"
    conn.request("POST", "/v3/kv/put", json.dumps({"key": kv["key"], "value": b(json.dumps(node).encode()).decode()}))
    conn.getresponse().read()
PY
revision=$(etcd_revision "$E")
_caught_up() { [ "$(bgpd_datastore_json "$R" | jq .revision)" -ge "$revision" ]; }
wait_until 30 _caught_up
t_burst=$(( $(now_ms) - t0 ))
sleep 1.5
batches=$(( $(bgpd_datastore_json "$R" | jq .applied_batches) - applied_before ))
echo "RESULT burst_1000_updates_ms $t_burst $batches"
assert_eq 1 "$(bgpd_nbr_field "$R" "$cl" .established_count)" "rr <-> client session across the burst"
