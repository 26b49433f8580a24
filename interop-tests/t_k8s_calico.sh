#!/usr/bin/env bash
# Kubernetes datastore, Calico cluster: three bgpd nodes watch a test API server
# (tools/fake-apiserver.py --calico) holding Calico's CRDs as the Kubernetes datastore stores
# them: BGPConfiguration default (mesh on, AS 64512, serviceClusterIPs 198.19.96.0/20,
# serviceLoadBalancerIPs 198.19.112.0/24), an IPPool 198.19.0.0/18, one BlockAffinity per node
# plus 510 of nodes that do not exist (so a list takes two pages of 500), a BGPPeer {peerIP: the
# ToR, asNumber 65000} for every node, Nodes with Calico's annotations. The ToR is a real BIRD.
# Checks: every node peers with the ToR and the mesh; each bgpd's BlockAffinity list was
# chunked (continue pages at the server); BIRD holds each node's block from that node; the
# service ranges reach BIRD from every node; a LoadBalancer Service with externalTrafficPolicy
# Local whose only ready endpoint is on node-2: BIRD has its LB /32 via node-2 only (every
# path's next hop node-2); the endpoint moves to node-3: via node-3 only, node-2 withdrew it;
# not ready: withdrawn; no service route in any node's kernel; ready on node-1: the LB and the
# cluster IP /32 via node-1 only (Calico advertises the cluster IP of a Local service too when
# serviceClusterIPs is set); no session flapped.
# timeout: 150
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
source "$(dirname "$0")/lib/k8s.sh"
harness_init

A=$(node_add api); T=$(node_add tor)
N=(); for i in 1 2 3; do N[i]=$(node_add "n$i"); done
L=$(lan_add "$A" "$T" "${N[1]}" "${N[2]}" "${N[3]}")
tor=$(lan_addr4 "$L" "$T")
a=(); for i in 1 2 3; do a[i]=$(lan_addr4 "$L" "${N[i]}"); done
cluster_range=198.19.96.0/20 lb_range=198.19.112.0/24 cluster_ip=198.19.96.10 lb_ip=198.19.112.5

# 510 BlockAffinities of absent nodes (198.19.128.0/17 in /26 blocks), loaded at start.
for b in $(seq 0 509); do
  k8s_calico_block_json "ghost-$((b / 8))" "198.19.$((128 + b / 4)).$(( (b % 4) * 64 ))/26"
done | jq -s '{kind: "List", apiVersion: "v1", items: .}' >"$TEST_DIR/ghost-blocks.json"
k8s_start "$A" "$(lan_addr4 "$L" "$A")" --calico --bookmark-interval 1 --load "$TEST_DIR/ghost-blocks.json" ||
  fail "API server did not start"
kubeconfig="$TEST_DIR/kubeconfig"
k8s_kubeconfig "$A" "$kubeconfig"
k8s_calico "$A" bgpconfigurations default "{\"asNumber\":64512,\"nodeToNodeMeshEnabled\":true,\"logSeverityScreen\":\"Info\",
  \"serviceClusterIPs\":[{\"cidr\":\"$cluster_range\"}],\"serviceLoadBalancerIPs\":[{\"cidr\":\"$lb_range\"}]}"
k8s_calico "$A" ippools default-ipv4-ippool '{"cidr":"198.19.0.0/18","blockSize":26,"ipipMode":"Never","vxlanMode":"Never","natOutgoing":true,"nodeSelector":"all()"}'
k8s_calico "$A" bgppeers tor "{\"peerIP\":\"$tor\",\"asNumber\":65000}"
for i in 1 2 3; do
  k8s_node "$A" "node-$i" "${a[i]}" "" "" '"rack":"a"' "\"projectcalico.org/IPv4Address\":\"${a[i]}/24\""
  k8s_calico_block "$A" "node-$i" "198.19.$i.0/26"
done

bird_start "$T" "$tor" 65000 --neighbor "${a[1]} 64512" --neighbor "${a[2]} 64512" --neighbor "${a[3]} 64512"
for i in 1 2 3; do
  bgpd_write_k8s_config "$TEST_DIR/${N[i]}/bgpd.yaml" "node-$i" "$kubeconfig"
  start_bgpd "${N[i]}" "$TEST_DIR/${N[i]}/bgpd.yaml" || fail "bgpd node-$i did not start"
done

harness_log "sessions: the ToR (bgppeer/tor) and the mesh"
for i in 1 2 3; do
  wait_until 45 bgpd_established "${N[i]}" "$tor"
  wait_until 20 bird_established "$T" "${a[i]}"
  assert_eq bgppeer/tor "$(bgpd_nbr_field "${N[i]}" "$tor" .source)" "source of node-$i's ToR session"
  for j in 1 2 3; do [ "$i" = "$j" ] || wait_until 20 bgpd_established "${N[i]}" "${a[j]}"; done
done
pages=$(k8s_stat "$A" blockaffinities.crd.projectcalico.org continued)
[ "$pages" -ge 3 ] || fail "each bgpd should have listed BlockAffinities in 2 pages: $pages continued pages ($(k8s_stats "$A"))"

harness_log "BIRD holds each node's block from that node; the service ranges from every node"
for i in 1 2 3; do
  wait_until 20 bird_route_from "$T" "198.19.$i.0/26" "${a[i]}"
  wait_route_via 10 "$T" "198.19.$i.0/26" "${a[i]}"
done
_bird_from_all() { for i in 1 2 3; do bird_route_from "$T" "$1" "${a[i]}" || return 1; done; }
wait_until 20 _bird_from_all "$cluster_range"
wait_until 20 _bird_from_all "$lb_range"
_bird_has_ghost() { bird_has_route "$T" 198.19.128.0/26; }
assert_not _bird_has_ghost
before=$(for i in 1 2 3; do bgpd_flaps "${N[i]}"; done)

harness_log "a Local LoadBalancer Service, endpoint on node-2: its LB /32 via node-2 only"
k8s_service "$A" shop web "{\"type\":\"LoadBalancer\",\"externalTrafficPolicy\":\"Local\",
  \"clusterIP\":\"$cluster_ip\",\"clusterIPs\":[\"$cluster_ip\"],\"ipFamilies\":[\"IPv4\"],
  \"ipFamilyPolicy\":\"SingleStack\",\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"nodePort\":30080}]}" \
  "{\"loadBalancer\":{\"ingress\":[{\"ip\":\"$lb_ip\",\"ipMode\":\"VIP\"}]}}"
endpoint() { echo "[{\"addresses\":[\"198.19.$1.5\"],\"conditions\":{\"ready\":$2},\"nodeName\":\"node-$1\"}]"; }
# _only_via PREFIX I: BIRD holds PREFIX, from node-I's session, and every path's next hop is
# node-I (a node without a local endpoint must neither originate it nor draw traffic for it).
_only_via() {
  bird_route_from "$T" "$1" "${a[$2]}" && [ "$(bird_route_nexthops "$T" "$1" | sort -u | xargs)" = "${a[$2]}" ]
}
wait_only_via() {
  eventually "$1" _only_via "$2" "$3" ||
    fail "BIRD: $2 expected only via node-$3 (${a[$3]}), has: $({ birdc_in "$T" show route "$2" 2>&1 || true; } | tail -n +3 | tr -s ' \n\t' ' ')"
}
t0=$(date +%s%N)
k8s_endpointslice "$A" shop web-x7k2p web "$(endpoint 2 true)"
wait_only_via 10 "$lb_ip/32" 2
harness_log "the LB /32 reached BIRD $(( ($(date +%s%N) - t0) / 1000000 )) ms after the EndpointSlice"
holds_for 2 _only_via "$lb_ip/32" 2

harness_log "the endpoint moves to node-3: via node-3 only, node-2 withdrew it"
t0=$(date +%s%N)
k8s_endpointslice "$A" shop web-x7k2p web "$(endpoint 3 true)"
wait_only_via 10 "$lb_ip/32" 3
took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))

harness_log "the endpoint is not ready: withdrawn everywhere"
k8s_endpointslice "$A" shop web-x7k2p web "$(endpoint 3 false)"
_bird_lacks() { ! bird_has_route "$T" "$1"; }
wait_until 10 _bird_lacks "$lb_ip/32"

harness_log "no service route in any node's kernel; blocks still routed"
for i in 1 2 3; do
  for p in "$cluster_range" "$lb_range" "$lb_ip/32" "$cluster_ip/32"; do assert_no_route "${N[i]}" "$p"; done
  for j in 1 2 3; do [ "$i" = "$j" ] || wait_bgpd_route 5 "${N[i]}" "198.19.$j.0/26" "${a[j]}"; done
done

harness_log "ready on node-1: the cluster IP /32 too (serviceClusterIPs set, as Calico's routes.go)"
k8s_endpointslice "$A" shop web-x7k2p web "$(endpoint 1 true)"
wait_only_via 10 "$lb_ip/32" 1
wait_only_via 10 "$cluster_ip/32" 1
for i in 1 2 3; do assert_no_route "${N[i]}" "$cluster_ip/32"; assert_no_route "${N[i]}" "$lb_ip/32"; done
after=$(for i in 1 2 3; do bgpd_flaps "${N[i]}"; done)
assert_eq "$before" "$after" "sessions' established counts across the Service changes"
echo "k8s Calico OK (endpoint move reached BIRD in ${took_ms} ms; ${pages} continued list pages)"
