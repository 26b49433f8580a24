# shellcheck shell=bash
# Test nodes as network namespaces, joined by veth links.
#
#   source interop-tests/lib/netns.sh
#   harness_init                       # per-test dir, names, cleanup trap (call once, first)
#   A=$(node_add a); B=$(node_add b)   # namespaces "<test><pid>-a", "<test><pid>-b"
#   link_add "$A" "$B"                 # veth A<->B, 198.18.K.1/24 + 2001:db8:K::1/64 on A, .2/::2 on B
#   addr4 "$A" "$B"                    # -> 198.18.K.1 (A's address on its link to B)
#   addr6 "$B" "$A"                    # -> 2001:db8:K::2
#   ifname "$A" "$B"                   # -> A's interface towards B
#   POD=$(pod_add "$A" 198.19.1.0/24)  # a pod namespace behind A, 198.19.1.2, routed by A
#   track_pid PID                      # killed at cleanup (only tracked PIDs and our namespaces)
#
# Nothing here touches the default namespace's addresses or routes: every link is created with
# both ends already inside test namespaces.

INTEROP_LIB_DIR="${INTEROP_LIB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
INTEROP_ROOT="${INTEROP_ROOT:-$(cd "$INTEROP_LIB_DIR/.." && pwd)}"

harness_log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# harness_init [NAME]: sets TEST_NAME, TEST_DIR (logs, configs, tracking files), NS_PREFIX,
# and installs the cleanup trap. TEST_DIR can be forced with INTEROP_TEST_DIR (run.sh does).
harness_init() {
  TEST_NAME="${1:-$(basename "${0%.sh}")}"
  TEST_NAME="${TEST_NAME#t_}"
  local short
  short=$(printf '%s' "$TEST_NAME" | tr -cd 'a-zA-Z0-9' | cut -c1-6)
  NS_PREFIX="${short}$$-"
  TEST_DIR="${INTEROP_TEST_DIR:-${INTEROP_WORKDIR:-/tmp/interop}/${TEST_NAME}.$$}"
  mkdir -p "$TEST_DIR"
  : >"$TEST_DIR/pids"
  : >"$TEST_DIR/netns"
  : >"$TEST_DIR/links"
  : >>"$TEST_DIR/cleanup-dirs"
  echo 0 >"$TEST_DIR/link-count"
  export TEST_NAME TEST_DIR NS_PREFIX
  trap 'harness_cleanup' EXIT
  # With `set -e`, say which command ended the test instead of exiting silently.
  set -o errtrace
  trap 'echo "error: command failed (exit $?) at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND" >&2' ERR
  trap 'exit 143' TERM
  trap 'exit 130' INT
  [ "$(id -u)" = 0 ] || { echo "interop tests need root (network namespaces)" >&2; exit 77; }
}

# track_pid PID: kill this process at cleanup. Its start time is recorded with it, so that a
# PID reused by an unrelated process after ours exited is never signalled.
track_pid() { echo "$1 $(_pid_start "$1")" >>"$TEST_DIR/pids"; }
_pid_start() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || echo gone; }

# _wait_pid_gone PID SECONDS: wait for PID to exit; SIGKILL it after SECONDS.
_wait_pid_gone() {
  local i st
  st=$(_pid_start "$1")
  for i in $(seq 1 $(( $2 * 10 ))); do
    [ "$(_pid_start "$1")" = "$st" ] && [ "$st" != gone ] || return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
  sleep 0.2
}

# track_dir DIR: remove this directory at cleanup (outside TEST_DIR, e.g. FRR's pathspace).
track_dir() { echo "$1" >>"$TEST_DIR/cleanup-dirs"; }

# Ends tracked processes (TERM, then KILL after a bounded wait), then whatever is still inside
# this test's own namespaces (only this test put processes there), then deletes the namespaces.
harness_cleanup() {
  local rc=$?
  set +e
  trap - EXIT TERM INT ERR
  [ -n "${TEST_DIR:-}" ] && [ -d "$TEST_DIR" ] || return "$rc"
  if [ -n "${INTEROP_KEEP:-}" ]; then
    harness_log "INTEROP_KEEP set: leaving namespaces and processes of $TEST_DIR"
    return "$rc"
  fi
  harness_cleanup_dir "$TEST_DIR"
  return "$rc"
}

# harness_cleanup_dir DIR: the cleanup of one test dir (run.sh calls it after a killed test).
harness_cleanup_dir() {
  local dir=$1 pid ns pids=() i
  set +e
  if [ -f "$dir/pids" ]; then
    local start
    while read -r pid start; do
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
      [ "$(_pid_start "$pid")" = "${start:-}" ] && pids+=("$pid")
    done <"$dir/pids"
  fi
  if [ -f "$dir/netns" ]; then
    while read -r ns; do
      [ -n "$ns" ] && [ -e "/run/netns/$ns" ] || continue
      for pid in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$pid"); done
    done <"$dir/netns"
  fi
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null
    for i in $(seq 1 30); do
      local alive=()
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
      [ ${#alive[@]} -eq 0 ] && break
      pids=("${alive[@]}")
      sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  fi
  if [ -f "$dir/netns" ]; then
    while read -r ns; do
      [ -n "$ns" ] && [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
    done <"$dir/netns"
  fi
  if [ -f "$dir/cleanup-dirs" ]; then
    while read -r d; do [ -n "$d" ] && rm -rf -- "$d"; done <"$dir/cleanup-dirs"
  fi
  return 0
}

# ns NAME -> the full namespace name of node NAME in this test.
ns() { printf '%s%s\n' "$NS_PREFIX" "$1"; }

# node_add NAME -> prints the namespace name. lo up, IPv4/IPv6 forwarding on.
node_add() {
  local name
  name=$(ns "$1")
  ip netns add "$name" || return 1
  echo "$name" >>"$TEST_DIR/netns"
  mkdir -p "$TEST_DIR/$name"
  ip -n "$name" link set lo up
  ip netns exec "$name" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
    net.ipv6.conf.default.accept_dad=0 >/dev/null
  echo "$name"
}

# node_exec NS CMD...: run CMD inside NS.
node_exec() { local n=$1; shift; ip netns exec "$n" "$@"; }

# Short node name (after the prefix), for interface names.
_short() { local s=${1#"$NS_PREFIX"}; printf '%s' "$s"; }

# link_add NS_A NS_B [IF_A] [IF_B]: veth pair with addresses; prints the link number K.
# A gets 198.18.K.1/24 and 2001:db8:K::1/64, B gets .2 and ::2 (IPv6 nodad, so usable at once).
link_add() {
  local a=$1 b=$2 k ifa ifb
  k=$(( $(cat "$TEST_DIR/link-count") + 1 ))
  echo "$k" >"$TEST_DIR/link-count"
  ifa=${3:-$(printf 'v%s-%s' "$k" "$(_short "$b")" | cut -c1-15)}
  ifb=${4:-$(printf 'v%s-%s' "$k" "$(_short "$a")" | cut -c1-15)}
  ip link add "$ifa" netns "$a" type veth peer name "$ifb" netns "$b" || return 1
  ip -n "$a" addr add "198.18.$k.1/24" dev "$ifa"
  ip -n "$b" addr add "198.18.$k.2/24" dev "$ifb"
  ip -n "$a" addr add "2001:db8:$k::1/64" dev "$ifa" nodad
  ip -n "$b" addr add "2001:db8:$k::2/64" dev "$ifb" nodad
  ip -n "$a" link set "$ifa" up
  ip -n "$b" link set "$ifb" up
  echo "$k $a $ifa 198.18.$k.1 2001:db8:$k::1 $b $ifb 198.18.$k.2 2001:db8:$k::2" >>"$TEST_DIR/links"
  echo "$k"
}

# _link_field NS PEER_NS FIELD(if|v4|v6): NS's end of the first link between NS and PEER_NS.
_link_field() {
  awk -v me="$1" -v peer="$2" -v f="$3" '
    $2 == me && $6 == peer { print (f == "if" ? $3 : f == "v4" ? $4 : $5); exit }
    $6 == me && $2 == peer { print (f == "if" ? $7 : f == "v4" ? $8 : $9); exit }
  ' "$TEST_DIR/links"
}
addr4() { _link_field "$1" "$2" v4; }
addr6() { _link_field "$1" "$2" v6; }
ifname() { _link_field "$1" "$2" if; }

# linklocal6 NS IFNAME -> the interface's fe80:: address (waits up to 5 s for it to appear).
linklocal6() {
  local i addr
  for i in $(seq 1 50); do
    addr=$(ip -n "$1" -j -6 addr show dev "$2" scope link 2>/dev/null |
      jq -r '.[0].addr_info[]? | select(.family=="inet6") | .local' | head -n1)
    [ -n "$addr" ] && { echo "$addr"; return 0; }
    sleep 0.1
  done
  return 1
}

# _cidr_host CIDR N -> the N-th address of an IPv4 CIDR (N=1 -> base+1).
_cidr_host4() {
  local base=${1%/*} n=$2 a b c d
  IFS=. read -r a b c d <<<"$base"
  local v=$(( (a << 24 | b << 16 | c << 8 | d) + n ))
  printf '%d.%d.%d.%d\n' $((v >> 24 & 255)) $((v >> 16 & 255)) $((v >> 8 & 255)) $((v & 255))
}

# pod_add NODE_NS CIDR4 [CIDR6] -> prints the pod namespace name. Like a Calico workload: the
# pod has host address 2 of the CIDR(s) (/32, /128) and a default route to its node over a
# veth; the node routes that /32 (/128) to the veth. `pod_addr4 POD` prints the pod's address.
pod_add() {
  local node=$1 c4=$2 c6=${3:-} pod gw4 ip4
  pod=$(node_add "$(_short "$node")-pod") || return 1
  gw4=$(_cidr_host4 "$c4" 1); ip4=$(_cidr_host4 "$c4" 2)
  ip link add pod0 netns "$node" type veth peer name eth0 netns "$pod" || return 1
  ip -n "$node" link set pod0 up
  ip -n "$pod" link set eth0 up
  ip -n "$node" addr add "$gw4/32" dev pod0
  ip -n "$node" route add "$ip4/32" dev pod0
  ip -n "$pod" addr add "$ip4/32" dev eth0
  ip -n "$pod" route add "$gw4/32" dev eth0
  ip -n "$pod" route add default via "$gw4" dev eth0
  echo "$ip4" >"$TEST_DIR/$pod/addr4"
  if [ -n "$c6" ]; then
    local p6=${c6%/*} gw6 ip6
    gw6="${p6%::}::1"; ip6="${p6%::}::2"
    ip -n "$node" addr add "$gw6/128" dev pod0 nodad
    ip -n "$node" route add "$ip6/128" dev pod0
    ip -n "$pod" addr add "$ip6/128" dev eth0 nodad
    ip -n "$pod" route add "$gw6/128" dev eth0
    ip -n "$pod" route add default via "$gw6" dev eth0
    echo "$ip6" >"$TEST_DIR/$pod/addr6"
  fi
  echo "$pod"
}
pod_addr4() { cat "$TEST_DIR/$1/addr4"; }
pod_addr6() { cat "$TEST_DIR/$1/addr6"; }

# kernel_routes NS [-4|-6] -> `ip -j route` JSON of the namespace's main table.
kernel_routes() { local n=$1; shift; ip -n "$n" -j "$@" route show; }

# kernel_route_gateways NS PREFIX -> the next hops of PREFIX in NS's main table, one a line
# (multipath routes give one line per hop). Empty if there is no such route.
kernel_route_gateways() {
  local fam=-4
  case $2 in *:*) fam=-6 ;; esac
  ip -n "$1" -j "$fam" route show exact "$2" 2>/dev/null |
    jq -r '.[] | (.gateway // empty), (.nexthops[]?.gateway // empty)'
}

# kernel_route_protocol NS PREFIX -> protocol of PREFIX's route (bird, bgp, kernel, 179, ...).
kernel_route_protocol() {
  local fam=-4
  case $2 in *:*) fam=-6 ;; esac
  ip -n "$1" -j "$fam" route show exact "$2" 2>/dev/null | jq -r '.[0].protocol // empty'
}

# lan_add NS... -> prints the LAN number L. A shared segment (a bridge in its own "switch"
# namespace), like the L2 network of a rack: the I-th namespace given gets 198.18.L.(10+I)/24
# and 2001:db8:L::(10+I)/64 on interface "lanL". Next hops learned through a route reflector
# are then directly reachable, as between the nodes of a real cluster.
#   lan_addr4 L NS / lan_addr6 L NS / lan_if L -> NS's address on LAN L / the interface name
lan_add() {
  local k sw i=0 n ifn
  k=$(( $(cat "$TEST_DIR/link-count") + 1 ))
  echo "$k" >"$TEST_DIR/link-count"
  sw=$(node_add "sw$k") || return 1
  ip -n "$sw" link add br0 type bridge || return 1
  ip -n "$sw" link set br0 up
  for n in "$@"; do
    i=$((i + 1))
    ifn="lan$k"
    ip link add "$ifn" netns "$n" type veth peer name "p$i" netns "$sw" || return 1
    ip -n "$sw" link set "p$i" master br0
    ip -n "$sw" link set "p$i" up
    ip -n "$n" addr add "198.18.$k.$((10 + i))/24" dev "$ifn"
    ip -n "$n" addr add "2001:db8:$k::$((10 + i))/64" dev "$ifn" nodad
    ip -n "$n" link set "$ifn" up
    echo "$k $n $ifn 198.18.$k.$((10 + i)) 2001:db8:$k::$((10 + i))" >>"$TEST_DIR/lans"
  done
  echo "$k"
}
_lan_field() { awk -v k="$1" -v me="$2" -v f="$3" '$1 == k && $2 == me { print $f; exit }' "$TEST_DIR/lans"; }
lan_addr4() { _lan_field "$1" "$2" 4; }
lan_addr6() { _lan_field "$1" "$2" 5; }
lan_if() { echo "lan$1"; }

# _own_pid NS PID: 0 if PID is a live process inside namespace NS (so a stop/kill helper never
# signals a process that merely reused the PID of one of ours).
_own_pid() { [ -n "$2" ] && [ "$(ip netns identify "$2" 2>/dev/null)" = "$1" ]; }
