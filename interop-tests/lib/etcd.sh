# shellcheck shell=bash
# A real etcd (Debian's etcd-server) in a test namespace, and Calico's resources written into
# it the way calicoctl stores them (etcdv3 layout, JSON of the v3 objects).
#
#   etcd_start NS ADDR               etcd in NS, clients on ADDR:2379 and 127.0.0.1:2379
#                                    (data in $TEST_DIR/NS/etcd); waits until healthy
#   etcd_stop NS / etcd_restart NS   SIGTERM and wait / start again on the same data
#   etcdctl_in NS ARGS...            etcdctl against the namespace's own etcd (loopback)
#   etcd_put NS KEY VALUE / etcd_del NS KEY
#   etcd_revision NS                 the store's current revision
#   calico_node NS NAME V4CIDR [V6CIDR] [EXTRA_BGP_JSON] [LABELS_JSON]
#                                    e.g. calico_node E n1 198.18.1.11/24 "" '"asNumber":64513' '"rack":"a"'
#   calico_node_del NS NAME
#   calico_block NS NODE CIDR [STATE]   this node's block affinity (STATE default: confirmed)
#   calico_block_del NS NODE CIDR
#   calico_pool NS NAME CIDR [IPIP_MODE] [VXLAN_MODE] [EXTRA_SPEC_JSON]   (modes default Never)
#   calico_bgpconfig NS NAME SPEC_JSON
#   calico_bgppeer NS NAME SPEC_JSON
#   bgpd_write_datastore_config FILE NODE_NAME ETCD_URL [--extra "yaml"]...
#                                    a bgpd config that takes everything else from etcd
#   bgpd_datastore_json NS           `bgpctl show datastore --json`
CALICO_ETCD_PREFIX=/calico
_CALICO_RES="$CALICO_ETCD_PREFIX/resources/v3/projectcalico.org"

etcd_start() {
  local n=$1 addr=$2 dir="$TEST_DIR/$1" pid i tls=() scheme=http
  command -v etcd >/dev/null || { echo "etcd_start: no etcd (Debian etcd-server)" >&2; return 1; }
  mkdir -p "$dir/etcd"
  echo "$addr" >"$dir/etcd.addr"
  if [ -f "$dir/tls/server.pem" ]; then   # etcd_tls_init was called: TLS with client certificates
    scheme=https
    tls=(--cert-file "$dir/tls/server.pem" --key-file "$dir/tls/server-key.pem"
      --client-cert-auth --trusted-ca-file "$dir/tls/ca.pem")
  fi
  ip netns exec "$n" etcd --name db --data-dir "$dir/etcd" "${tls[@]}" \
    --listen-client-urls "$scheme://$addr:2379,$scheme://127.0.0.1:2379" \
    --advertise-client-urls "$scheme://$addr:2379" \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster db=http://127.0.0.1:2380 >>"$dir/etcd.log" 2>&1 &
  pid=$!
  track_pid "$pid"
  echo "$pid" >"$dir/etcd.pid"
  for i in $(seq 1 100); do
    etcdctl_in "$n" endpoint health >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "etcd_start: etcd in $n is not healthy; log:" >&2
  tail -n 20 "$dir/etcd.log" >&2
  return 1
}

etcd_stop() {
  local pid i
  pid=$(cat "$TEST_DIR/$1/etcd.pid" 2>/dev/null) || return 0
  _own_pid "$1" "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

etcd_restart() { etcd_start "$1" "$(cat "$TEST_DIR/$1/etcd.addr")"; }

etcdctl_in() {
  local n=$1 dir="$TEST_DIR/$1/tls"; shift
  if [ -f "$dir/server.pem" ]; then
    ETCDCTL_API=3 ip netns exec "$n" etcdctl --endpoints https://127.0.0.1:2379 --command-timeout=5s \
      --cacert "$dir/ca.pem" --cert "$dir/client.pem" --key "$dir/client-key.pem" "$@"
  else
    ETCDCTL_API=3 ip netns exec "$n" etcdctl --endpoints http://127.0.0.1:2379 --command-timeout=5s "$@"
  fi
}

# etcd_tls_init NS ADDR: a CA, a server certificate for ADDR and 127.0.0.1, and a client
# certificate, in $TEST_DIR/NS/tls (ca.pem, server*.pem, client*.pem); etcd_start then serves
# TLS and requires client certificates.
etcd_tls_init() {
  local dir="$TEST_DIR/$1/tls" addr=$2
  mkdir -p "$dir"
  (
    cd "$dir" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=lab etcd CA" \
      -keyout ca-key.pem -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=etcd" -keyout server-key.pem -out server.csr
    printf 'subjectAltName=IP:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$addr" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
      -extfile server.ext -out server.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=bgpd" -keyout client-key.pem -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
      -extfile client.ext -out client.pem
    chmod 600 ./*-key.pem
  ) >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; return 1; }
}

etcd_put() { printf '%s' "$3" | etcdctl_in "$1" put "$2" >/dev/null; }
etcd_del() { etcdctl_in "$1" del "$2" >/dev/null; }
etcd_revision() { etcdctl_in "$1" endpoint status -w json | jq -r '.[0].Status.header.revision'; }

calico_node() {
  local n=$1 name=$2 v4=$3 v6=${4:-} extra=${5:-} labels=${6:-}
  etcd_put "$n" "$_CALICO_RES/nodes/$name" \
    "{\"kind\":\"Node\",\"apiVersion\":\"projectcalico.org/v3\",\"metadata\":{\"name\":\"$name\",\"labels\":{$labels}},\"spec\":{\"bgp\":{\"ipv4Address\":\"$v4\",\"ipv6Address\":\"$v6\"${extra:+,$extra}},\"orchRefs\":[{\"nodeName\":\"$name\",\"orchestrator\":\"k8s\"}]}}"
}
calico_node_del() { etcd_del "$1" "$_CALICO_RES/nodes/$2"; }

_calico_block_key() {
  local fam=ipv4
  case $3 in *:*) fam=ipv6 ;; esac
  echo "$CALICO_ETCD_PREFIX/ipam/v2/host/$2/$fam/block/${3/\//-}"
}
calico_block() {
  etcd_put "$1" "$(_calico_block_key "$1" "$2" "$3")" "{\"state\":\"${4:-confirmed}\",\"deleted\":false}"
}
calico_block_del() { etcd_del "$1" "$(_calico_block_key "$1" "$2" "$3")"; }

_calico_resource() {
  local n=$1 plural=$2 kind=$3 name=$4 spec=$5
  etcd_put "$n" "$_CALICO_RES/$plural/$name" \
    "{\"kind\":\"$kind\",\"apiVersion\":\"projectcalico.org/v3\",\"metadata\":{\"name\":\"$name\"},\"spec\":$spec}"
}
calico_pool() {
  _calico_resource "$1" ippools IPPool "$2" "{\"cidr\":\"$3\",\"ipipMode\":\"${4:-Never}\",\"vxlanMode\":\"${5:-Never}\",\"natOutgoing\":true${6:+,$6}}"
}
calico_bgpconfig() { _calico_resource "$1" bgpconfigurations BGPConfiguration "$2" "$3"; }
calico_bgppeer() { _calico_resource "$1" bgppeers BGPPeer "$2" "$3"; }
calico_bgppeer_del() { etcd_del "$1" "$_CALICO_RES/bgppeers/$2"; }

bgpd_write_datastore_config() {
  bgpd_write_datastore_file "$1" "$2" "  etcd:
    endpoints: [\"$3\"]" "${@:4}"
}

# bgpd_write_datastore_file FILE NODE BACKEND_YAML [--extra "yaml"]...: a bgpd config taking
# the cluster from a datastore; BACKEND_YAML is the backend's block under `datastore:`
# (indented two spaces). Shared by the etcd and Kubernetes helpers.
bgpd_write_datastore_file() {
  local file=$1 node=$2 backend=$3 extra=""
  shift 3
  while [ $# -gt 0 ]; do
    case $1 in
      --extra) extra+="$2"$'\n'; shift 2 ;;
      *) echo "bgpd_write_datastore_file: unknown option $1" >&2; return 1 ;;
    esac
  done
  local dir
  dir=$(dirname "$file")
  mkdir -p "$dir"
  {
    echo "node_name: $node"
    echo "datastore:"
    echo "$backend"
    echo "  state_dir: \"$dir/state\""
    echo "  secrets_dir: \"$dir/secrets\""
    echo "control_socket: \"$dir/bgpd.sock\""
    echo "http_listen: null"
    # No log.level unless asked: the datastore's logSeverityScreen (default Info) applies.
    if [ -n "${BGPD_LOG_LEVEL:-}" ]; then echo "log:"; echo "  level: $BGPD_LOG_LEVEL"; fi
    printf '%s' "$extra"
  } >"$file"
}

bgpd_datastore_json() { bgpctl_in "$1" show datastore --json 2>/dev/null; }

# bgpd_neighbor_addresses NS -> the configured neighbours' addresses, sorted, space-separated.
bgpd_neighbor_addresses() { bgpd_neighbors_json "$1" | jq -r '[.[].address] | sort | join(" ")'; }
# bgpd_established_count NS -> how many sessions are Established.
bgpd_established_count() { bgpd_neighbors_json "$1" | jq '[.[] | select(.state == "Established")] | length'; }
# bgpd_flaps NS -> "address:established_count" for every neighbour, sorted (unchanged = no flap).
bgpd_flaps() { bgpd_neighbors_json "$1" | jq -r '[.[] | "\(.address):\(.established_count)"] | sort | join(" ")'; }
