# shellcheck shell=bash
# A test Kubernetes API server (tools/fake-apiserver.py: the real list/watch protocol over
# plain HTTP, in memory) in a test namespace, and the objects bgpd reads from it, written the
# way the API server stores them (core v1 Nodes, Services, discovery.k8s.io/v1 EndpointSlices,
# Calico's crd.projectcalico.org/v1 resources).
#
#   k8s_start NS ADDR [--calico] [--load FILE]...   API server on http://ADDR:8080 in NS
#                                    (log: $TEST_DIR/NS/apiserver.log); waits until it answers
#   k8s_url NS                       -> http://ADDR:8080
#   k8s_kubeconfig NS FILE           a kubeconfig for that server (no credentials)
#   k8s_api NS METHOD PATH [JSON]    one request, from inside NS; prints the answer, fails on >= 400
#   k8s_put NS PATH JSON / k8s_delete NS PATH
#   k8s_node NS NAME V4 [V6] [POD_CIDRS] [LABELS_JSON] [ANNOTATIONS_JSON]
#                                    a Node with InternalIP(s) (Ready), spec.podCIDRs (comma list)
#   k8s_node_del NS NAME
#   k8s_node_patch NS NAME MERGE_PATCH_JSON
#   k8s_service NS NAMESPACE NAME SPEC_JSON [STATUS_JSON]
#   k8s_endpointslice NS NAMESPACE NAME SERVICE ENDPOINTS_JSON   (addressType IPv4)
#   k8s_calico NS PLURAL NAME SPEC_JSON          any crd.projectcalico.org/v1 object (cluster-scoped)
#   k8s_calico_del NS PLURAL NAME
#   k8s_calico_block_json NODE CIDR  -> a BlockAffinity object (name as Calico makes it)
#   k8s_calico_block NS NODE CIDR
#   k8s_stats NS                     -> GET /_admin/stats (JSON)
#   k8s_stat NS RESOURCE FIELD       -> one counter (0 when absent), e.g. k8s_stat A nodes gone
#   k8s_compact NS / k8s_drop_watches NS [--compact]   admin endpoints (see the server's doc)
#   bgpd_write_k8s_config FILE NODE_NAME KUBECONFIG [--extra "yaml"]...
#                                    a bgpd config that takes the cluster from the API server
K8S_PORT=${K8S_PORT:-8080}
K8S_SERVER_PY="${INTEROP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tools/fake-apiserver.py"

k8s_start() {
  local n=$1 addr=$2 dir="$TEST_DIR/$1" pid i
  shift 2
  mkdir -p "$dir"
  echo "$addr" >"$dir/apiserver.addr"
  ip netns exec "$n" python3 "$K8S_SERVER_PY" --listen "$addr:$K8S_PORT" --log "$dir/apiserver.log" \
    "$@" >>"$dir/apiserver.out" 2>&1 &
  pid=$!
  track_pid "$pid"
  echo "$pid" >"$dir/apiserver.pid"
  for i in $(seq 1 100); do
    ip netns exec "$n" curl -sf -o /dev/null "$(k8s_url "$n")/healthz" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "k8s_start: the API server in $n does not answer; output:" >&2
  tail -n 20 "$dir/apiserver.out" >&2
  return 1
}

k8s_url() { echo "http://$(cat "$TEST_DIR/$1/apiserver.addr"):$K8S_PORT"; }

k8s_kubeconfig() {
  mkdir -p "$(dirname "$2")"
  cat >"$2" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: $(k8s_url "$1")
users:
- name: bgpd
  user: {}
contexts:
- name: lab
  context:
    cluster: lab
    user: bgpd
current-context: lab
EOF
}

# k8s_api NS METHOD PATH [JSON]: the body is printed; an HTTP status >= 400 prints the Status
# on stderr and returns 1.
k8s_api() {
  local n=$1 method=$2 path=$3 body=${4:-} out code ctype=application/json
  [ "$method" = PATCH ] && ctype=application/merge-patch+json
  out=$(ip netns exec "$n" curl -sS -m 10 -X "$method" -H "Content-Type: $ctype" \
    ${body:+--data-binary "$body"} -w '\n%{http_code}' "$(k8s_url "$n")$path") || return 1
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$code" -ge 400 ]; then
    echo "k8s_api $method $path: HTTP $code: $out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}
k8s_put() { k8s_api "$1" PUT "$2" "$3" >/dev/null; }
k8s_delete() { k8s_api "$1" DELETE "$2" >/dev/null; }

# _json_list "a,b" -> ["a","b"]
_json_list() { jq -cn --arg s "$1" '$s | split(",") | map(select(. != ""))'; }

k8s_node() {
  local n=$1 name=$2 v4=$3 v6=${4:-} cidrs=${5:-} labels=${6:-} annotations=${7:-} addrs
  addrs=$(jq -cn --arg v4 "$v4" --arg v6 "$v6" --arg h "$name" \
    '[($v4 | select(. != "") | {type: "InternalIP", address: .}),
      ($v6 | select(. != "") | {type: "InternalIP", address: .}), {type: "Hostname", address: $h}]')
  k8s_put "$n" "/api/v1/nodes/$name" "$(jq -cn --arg name "$name" --argjson addrs "$addrs" \
    --argjson cidrs "$(_json_list "$cidrs")" --argjson labels "{${labels}}" \
    --argjson ann "{${annotations}}" '
    {apiVersion: "v1", kind: "Node",
     metadata: {name: $name, labels: ({"kubernetes.io/hostname": $name, "kubernetes.io/os": "linux"} + $labels),
                annotations: $ann},
     spec: ({podCIDRs: $cidrs} + (if ($cidrs | length) > 0 then {podCIDR: $cidrs[0]} else {} end)),
     status: {addresses: $addrs,
              conditions: [{type: "Ready", status: "True", reason: "KubeletReady"}]}}')"
}
k8s_node_del() { k8s_delete "$1" "/api/v1/nodes/$2"; }
k8s_node_patch() { k8s_api "$1" PATCH "/api/v1/nodes/$2" "$3" >/dev/null; }

k8s_service() {
  local n=$1 ns=$2 name=$3 spec=$4 status=${5:-"{}"}
  k8s_put "$n" "/api/v1/namespaces/$ns/services/$name" "$(jq -cn --arg ns "$ns" --arg name "$name" \
    --argjson spec "$spec" --argjson status "$status" \
    '{apiVersion: "v1", kind: "Service", metadata: {name: $name, namespace: $ns}, spec: $spec, status: $status}')"
}

k8s_endpointslice() {
  local n=$1 ns=$2 name=$3 svc=$4 eps=$5
  k8s_put "$n" "/apis/discovery.k8s.io/v1/namespaces/$ns/endpointslices/$name" "$(jq -cn --arg ns "$ns" \
    --arg name "$name" --arg svc "$svc" --argjson eps "$eps" '
    {apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", addressType: "IPv4",
     metadata: {name: $name, namespace: $ns, labels: {"kubernetes.io/service-name": $svc,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
     endpoints: $eps, ports: [{name: "http", port: 80, protocol: "TCP"}]}')"
}

_k8s_calico_kind() {
  case $1 in
    bgpconfigurations) echo BGPConfiguration ;; bgppeers) echo BGPPeer ;; bgpfilters) echo BGPFilter ;;
    ippools) echo IPPool ;; blockaffinities) echo BlockAffinity ;; *) return 1 ;;
  esac
}
k8s_calico() {
  local kind
  kind=$(_k8s_calico_kind "$2") || { echo "k8s_calico: unknown plural $2" >&2; return 1; }
  k8s_put "$1" "/apis/crd.projectcalico.org/v1/$2/$3" "$(jq -cn --arg kind "$kind" --arg name "$3" \
    --argjson spec "$4" '{apiVersion: "crd.projectcalico.org/v1", kind: $kind, metadata: {name: $name}, spec: $spec}')"
}
k8s_calico_del() { k8s_delete "$1" "/apis/crd.projectcalico.org/v1/$2/$3"; }

# A BlockAffinity as Calico's IPAM writes it: named <node>-<cidr with . and / as ->, `deleted`
# a string.
k8s_calico_block_json() {
  jq -cn --arg node "$1" --arg cidr "$2" '
    {apiVersion: "crd.projectcalico.org/v1", kind: "BlockAffinity",
     metadata: {name: ($node + "-" + ($cidr | gsub("[./:]"; "-")))},
     spec: {node: $node, cidr: $cidr, state: "confirmed", deleted: "false"}}'
}
k8s_calico_block() {
  local obj
  obj=$(k8s_calico_block_json "$2" "$3")
  k8s_put "$1" "/apis/crd.projectcalico.org/v1/blockaffinities/$(jq -r .metadata.name <<<"$obj")" "$obj"
}

k8s_stats() { k8s_api "$1" GET /_admin/stats; }
k8s_stat() { k8s_stats "$1" | jq -r --arg r "$2" --arg f "$3" '.resources[$r][$f] // 0'; }
k8s_compact() { k8s_api "$1" POST /_admin/compact >/dev/null; }
k8s_drop_watches() {
  local q=""
  [ "${2:-}" = --compact ] && q="?compact=true"
  k8s_api "$1" POST "/_admin/drop-watches$q" >/dev/null
}

bgpd_write_k8s_config() {
  bgpd_write_datastore_file "$1" "$2" "  kubernetes:
    kubeconfig: \"$3\"" "${@:4}"
}
