#!/usr/bin/env bash
# Kubernetes datastore, plain cluster (no Calico CRDs, kube-router style): bgpd nodes watch a
# test API server (tools/fake-apiserver.py, the real list/watch protocol) holding dual-stack
# Nodes (InternalIP v4 + v6, spec.podCIDRs v4 + v6); their files name only the node, the AS
# and the kubeconfig.
# Checks: a full mesh (a v4 and a v6 session to every other node) Established; every kernel
# holds every other node's Pod CIDRs via that node's address of the family (proto 179);
# a fourth Node added (its bgpd already running) is meshed and routed everywhere within 5 s;
# history compacted and every watch cut (as an API server restart): each bgpd resumes, gets
# 410 Gone, lists again (server stats) and a change made after that (a Pod CIDR added with
# kube-router's annotation) reaches every kernel; a Node deleted: its sessions and routes go
# everywhere; no session among the others ever flapped (established counts 1, uptimes grow).
# timeout: 150
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
source "$(dirname "$0")/lib/k8s.sh"
harness_init

A=$(node_add api)
N=(); for i in 1 2 3 4; do N[i]=$(node_add "n$i"); done
L=$(lan_add "$A" "${N[1]}" "${N[2]}" "${N[3]}" "${N[4]}")
a=(); a6=(); for i in 1 2 3 4; do a[i]=$(lan_addr4 "$L" "${N[i]}"); a6[i]=$(lan_addr6 "$L" "${N[i]}"); done
v4cidr() { echo "198.19.$1.0/24"; }
v6cidr() { echo "2001:db8:19:$1::/64"; }

k8s_start "$A" "$(lan_addr4 "$L" "$A")" --bookmark-interval 1 || fail "API server did not start"
kubeconfig="$TEST_DIR/kubeconfig"
k8s_kubeconfig "$A" "$kubeconfig"
for i in 1 2 3; do k8s_node "$A" "node-$i" "${a[i]}" "${a6[i]}" "$(v4cidr "$i"),$(v6cidr "$i")"; done
for i in 1 2 3 4; do
  bgpd_write_k8s_config "$TEST_DIR/${N[i]}/bgpd.yaml" "node-$i" "$kubeconfig" --extra "local_as: 64512"
  "$BGPD_BIN" --check "$TEST_DIR/${N[i]}/bgpd.yaml" >/dev/null 2>&1 ||
    fail "bgpd --check rejects the config: $("$BGPD_BIN" --check "$TEST_DIR/${N[i]}/bgpd.yaml" 2>&1 | tr '\n' ' ')"
done
for i in 1 2 3; do start_bgpd "${N[i]}" "$TEST_DIR/${N[i]}/bgpd.yaml" || fail "bgpd node-$i did not start"; done

# _meshed I J: node-I's v4 and v6 sessions to node-J are Established.
_meshed() { bgpd_established "${N[$1]}" "${a[$2]}" && bgpd_established "${N[$1]}" "${a6[$2]}"; }
# _routed TIMEOUT I J: node-I's kernel holds node-J's Pod CIDRs via node-J.
_routed() {
  wait_bgpd_route "$1" "${N[$2]}" "$(v4cidr "$3")" "${a[$3]}"
  wait_bgpd_route "$1" "${N[$2]}" "$(v6cidr "$3")" "${a6[$3]}"
}

harness_log "3 nodes: a dual-stack mesh, every kernel holds every other node's Pod CIDRs"
for i in 1 2 3; do for j in 1 2 3; do
  [ "$i" = "$j" ] && continue
  wait_until 45 _meshed "$i" "$j"
  _routed 20 "$i" "$j"
done; done
[ "$(k8s_stat "$A" nodes list)" -ge 3 ] || fail "the API server saw $(k8s_stat "$A" nodes list) Node lists for 3 bgpd"
[ "$(k8s_stats "$A" | jq .openWatches)" -ge 9 ] || fail "expected Node, Service and EndpointSlice watches from each bgpd: $(k8s_stats "$A")"
assert_eq 0 "$(k8s_stat "$A" nodes gone)" "410s before any compaction"

harness_log "a fourth Node joins: meshed and routed everywhere within 5 s"
start_bgpd "${N[4]}" "$TEST_DIR/${N[4]}/bgpd.yaml" || fail "bgpd node-4 did not start"
sleep 1
t0=$(date +%s%N)
k8s_node "$A" node-4 "${a[4]}" "${a6[4]}" "$(v4cidr 4),$(v6cidr 4)"
for i in 1 2 3; do _routed 5 "$i" 4; _routed 5 4 "$i"; done
took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
harness_log "node-4 routed everywhere after ${took_ms} ms"
for i in 1 2 3; do wait_until 10 _meshed "$i" 4; wait_until 10 _meshed 4 "$i"; done
up_before=$(bgpd_nbr_field "${N[1]}" "${a[3]}" .uptime_secs)

harness_log "history compacted, every watch cut: bgpd gets 410, lists again, sees later changes"
lists_before=$(k8s_stat "$A" nodes list)
k8s_drop_watches "$A" --compact
_relisted() { [ "$(k8s_stat "$A" nodes list)" -ge $((lists_before + 4)) ]; }
wait_until 15 _relisted
gone=$(k8s_stat "$A" nodes gone)
# Only a watch resumed from a version older than the compaction gets a 410.
[ "$gone" -ge 4 ] || fail "expected a 410 for each of the 4 bgpd's resumed Node watch, the server sent $gone"
k8s_node_patch "$A" node-3 '{"metadata":{"annotations":{"kube-router.io/pod-cidrs":"198.19.3.0/24,198.19.33.0/24,2001:db8:19:3::/64"}}}'
for i in 1 2 4; do wait_bgpd_route 10 "${N[i]}" 198.19.33.0/24 "${a[3]}"; done
for i in 1 2 4; do _routed 1 "$i" 3; done

harness_log "node-2's Node is deleted: its sessions and routes go, no other session flaps"
k8s_node_del "$A" node-2
_gone() { ! bgpd_neighbor_addresses "${N[$1]}" | grep -qw -e "${a[2]}" -e "${a6[2]}"; }
for i in 1 3 4; do
  wait_until 10 _gone "$i"
  wait_no_route 10 "${N[i]}" "$(v4cidr 2)"
  wait_no_route 10 "${N[i]}" "$(v6cidr 2)"
done
for i in 1 3 4; do for j in 1 3 4; do
  [ "$i" = "$j" ] && continue
  assert_eq 1 "$(bgpd_nbr_field "${N[i]}" "${a[j]}" .established_count)" "node-$i -> node-$j (v4) established count"
  assert_eq 1 "$(bgpd_nbr_field "${N[i]}" "${a6[j]}" .established_count)" "node-$i -> node-$j (v6) established count"
  _routed 1 "$i" "$j"
done; done
up=$(bgpd_nbr_field "${N[1]}" "${a[3]}" .uptime_secs)
[ "$up" -ge "$up_before" ] || fail "node-1 -> node-3 uptime $up s, was $up_before s at node-4's join: the session was reset"
for i in 1 3 4; do bgpd_alive "${N[i]}" || fail "bgpd node-$i exited"; done
echo "k8s plain mesh OK (node-4 routed everywhere in ${took_ms} ms; 410s: $gone)"
