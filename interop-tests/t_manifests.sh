#!/usr/bin/env bash
# The Kubernetes manifests of examples/kubernetes with the real kubectl, no cluster:
# - `kubectl kustomize` renders the base (plain cluster) and overlays/calico offline: every
#   namespaced object lands in kube-system, the RBAC subjects follow, the image is bgpd:latest,
#   the Calico overlay's bgpd.yaml has no local_as;
# - `kubectl create --dry-run=client --validate=false` accepts every rendered object and the
#   etcd variant against the test API server (tools/fake-apiserver.py, discovery for v1, apps/v1,
#   rbac.authorization.k8s.io/v1, ...) in a namespace of this test: each kind resolves;
# - the same with a kind the server does not serve fails (the check can fail).
# timeout: 60
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
source "$(dirname "$0")/lib/k8s.sh"
harness_init

if ! command -v kubectl >/dev/null 2>&1; then
  harness_log "kubectl missing: installing Debian's kubernetes-client"
  apt-get install -y -q kubernetes-client >/dev/null 2>&1 || true
fi
command -v kubectl >/dev/null 2>&1 || skip "kubectl is not installed"

examples="$(cd "$(dirname "$0")/../examples/kubernetes" && pwd)"
base="$TEST_DIR/base.yaml"; calico="$TEST_DIR/calico.yaml"
kubectl kustomize "$examples" >"$base" || fail "kubectl kustomize $examples failed"
kubectl kustomize "$examples/overlays/calico" >"$calico" || fail "kubectl kustomize overlays/calico failed"

# One line per object: KIND NAME NAMESPACE ("-": cluster-scoped), then RBAC subjects.
objects() {
  python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d:
        continue
    print(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace", "-"))
    for s in d.get("subjects", []):
        print("  subject", s["kind"], s["name"], s.get("namespace", "-"))' "$1"
}
listing=$(objects "$base")
harness_log "rendered: $(echo "$listing" | tr '\n' ';')"
for want in "ServiceAccount bgpd kube-system" "ClusterRole bgpd -" "ClusterRoleBinding bgpd -" \
  "Role bgpd-secrets kube-system" "RoleBinding bgpd-secrets kube-system" \
  "ConfigMap bgpd-config kube-system" "DaemonSet bgpd kube-system" "Service bgpd-metrics kube-system"; do
  assert_contains "$listing" "$want"
done
assert_eq 8 "$(grep -vc '^  subject' <<<"$listing")" "objects rendered"
assert_eq 2 "$(grep -c '^  subject ServiceAccount bgpd kube-system$' <<<"$listing")" "RBAC subjects in kube-system"
assert_eq 2 "$(grep -c 'image: bgpd:latest' "$base")" "containers with image bgpd:latest"
grep -q 'local_as: 64512' "$base" || fail "the base bgpd.yaml lost local_as"
if grep -q 'local_as' "$calico"; then fail "the Calico overlay still sets local_as"; fi

A=$(node_add api)
k8s_start "$A" 127.0.0.1 || fail "API server did not start"
server=$(k8s_url "$A")
dry_run() {
  ip netns exec "$A" env HOME="$TEST_DIR" kubectl --server "$server" --cache-dir "$TEST_DIR/kube-cache" \
    create --dry-run=client --validate=false -o name -f "$1"
}
out=$(dry_run "$base") || fail "kubectl create --dry-run rejected the base: $out"
assert_eq 8 "$(wc -l <<<"$out")" "objects accepted"
assert_contains "$out" "daemonset.apps/bgpd"
assert_contains "$out" "clusterrole.rbac.authorization.k8s.io/bgpd"
out=$(dry_run "$calico") || fail "kubectl create --dry-run rejected the Calico overlay: $out"
assert_eq 8 "$(wc -l <<<"$out")" "objects accepted"
out=$(dry_run "$examples/bgpd-etcd-daemonset.yaml") || fail "kubectl rejected the etcd variant: $out"
assert_contains "$out" "daemonset.apps/bgpd"

harness_log "negative: a kind the API server does not serve"
sed 's/^kind: DaemonSet$/kind: DaemonSett/' "$base" >"$TEST_DIR/bad.yaml"
if dry_run "$TEST_DIR/bad.yaml" >/dev/null 2>&1; then fail "an unknown kind was accepted"; fi
echo "manifests OK"
