#!/usr/bin/env bash
# Cluster datastore over TLS: etcd serves https only and requires a client certificate (as a
# production Calico etcd does). Two bgpd nodes are configured with ca_file, cert_file and
# key_file, and a BGPPeer password read from a mounted secret (secrets_dir/<secret>/<key>).
# Checks: both connect (show datastore), mesh and route each other's block over an MD5-signed
# session; a node given a CA that did not sign etcd's certificate does not connect and says why.
# timeout: 120
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

E=$(node_add etcd); N1=$(node_add n1); N2=$(node_add n2); N3=$(node_add n3)
L=$(lan_add "$E" "$N1" "$N2" "$N3")
etcd_addr=$(lan_addr4 "$L" "$E"); a1=$(lan_addr4 "$L" "$N1"); a2=$(lan_addr4 "$L" "$N2")
etcd_tls_init "$E" "$etcd_addr" || fail "cannot make certificates"
etcd_start "$E" "$etcd_addr" || fail "etcd (TLS) did not start"
tls="$TEST_DIR/$E/tls"
calico_pool "$E" pods 198.19.0.0/16
calico_node "$E" node-1 "$a1/24"; calico_block "$E" node-1 198.19.1.0/26
calico_node "$E" node-2 "$a2/24"; calico_block "$E" node-2 198.19.2.0/26
calico_bgpconfig "$E" default '{"nodeMeshPassword":{"secretKeyRef":{"name":"bgp-secrets","key":"mesh"}}}'

for pair in "$N1 node-1" "$N2 node-2"; do
  set -- $pair
  bgpd_write_datastore_config "$TEST_DIR/$1/bgpd.yaml" "$2" "https://$etcd_addr:2379"
  # TLS files go under datastore.etcd: rewrite the endpoint line with them.
  sed -i "s|^    endpoints: .*|&\n    ca_file: \"$tls/ca.pem\"\n    cert_file: \"$tls/client.pem\"\n    key_file: \"$tls/client-key.pem\"|" "$TEST_DIR/$1/bgpd.yaml"
  mkdir -p "$TEST_DIR/$1/secrets/bgp-secrets"
  printf 'lab-mesh-key\n' >"$TEST_DIR/$1/secrets/bgp-secrets/mesh"
  start_bgpd "$1" "$TEST_DIR/$1/bgpd.yaml" || fail "bgpd $2 did not start"
done

_connected() { [ "$(bgpd_datastore_json "$1" | jq -r .connected)" = true ]; }
wait_until 20 _connected "$N1"
wait_until 20 _connected "$N2"
wait_bgpd_route 45 "$N1" 198.19.2.0/26 "$a2"
wait_bgpd_route 45 "$N2" 198.19.1.0/26 "$a1"
# The mesh password reached the socket: the session is TCP MD5 signed (the kernel reports
# the key on the established socket's info line in ss).
ip netns exec "$N1" ss -tni "( sport = :179 or dport = :179 )" | grep -q md5 ||
  fail "the mesh session is not TCP MD5 signed: $(ip netns exec "$N1" ss -tni)"

harness_log "a CA that did not sign etcd's certificate: not connected, and the error says why"
mkdir -p "$TEST_DIR/$N3/other-ca"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=other" \
  -keyout "$TEST_DIR/$N3/other-ca/k.pem" -out "$TEST_DIR/$N3/other-ca/ca.pem" >/dev/null 2>&1
bgpd_write_datastore_config "$TEST_DIR/$N3/bgpd.yaml" node-3 "https://$etcd_addr:2379"
sed -i "s|^    endpoints: .*|&\n    ca_file: \"$TEST_DIR/$N3/other-ca/ca.pem\"\n    cert_file: \"$tls/client.pem\"\n    key_file: \"$tls/client-key.pem\"|" "$TEST_DIR/$N3/bgpd.yaml"
start_bgpd "$N3" "$TEST_DIR/$N3/bgpd.yaml" || fail "bgpd node-3 did not start"
_has_error() { [ "$(bgpd_datastore_json "$N3" | jq -r '.last_error // empty')" != "" ]; }
wait_until 20 _has_error
assert_eq false "$(bgpd_datastore_json "$N3" | jq -r .connected)" "node-3 with the wrong CA"
harness_log "node-3's error: $(bgpd_datastore_json "$N3" | jq -r .last_error)"
echo "etcd over TLS OK"
