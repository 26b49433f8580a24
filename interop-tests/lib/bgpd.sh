# shellcheck shell=bash
# Our own bgpd inside a test namespace.
#
#   bgpd_write_config FILE ROUTER_ID LOCAL_AS [--listen ADDR:PORT]... [--no-listen]
#                     [--neighbor "SPEC"]... [--originate PREFIX]... [--kernel true|false]
#                     [--control-socket PATH] [--http-listen ADDR:PORT|null] [--hostname NAME]
#                     [--cluster-id ID] [--gr true|false] [--extra "raw yaml lines"]
#                     [--default-policy]
#       writes a YAML config (schema: /work/notes/config-schema.md). Neighbour SPEC as in
#       neighbor.sh ("ADDRESS AS [passive] [hold=N] [local=ADDR] [families=ipv4,ipv6]
#       [rr_client] [addpath[=rx|tx|both]] [gr] [password=P] [multihop=N]").
#       control_socket defaults to $TEST_DIR/<NS>/bgpd.sock when FILE is $TEST_DIR/<NS>/...,
#       else to the directory of FILE + /bgpd.sock. http_listen defaults to null.
#       Every neighbour gets `import: all` and an export accepting every prefix, so tests see
#       what was exchanged; --default-policy leaves import/export out (the schema's defaults).
#   start_bgpd NS CONFIG_FILE           runs "$BGPD_BIN --config FILE" in NS, logs to
#                                        $TEST_DIR/NS/bgpd.log, waits for the control socket
#   stop_bgpd NS [SIGNAL]               SIGTERM (or SIGNAL) and wait up to 10 s
#   bgpctl_in NS ARGS...                 "$BGPCTL_BIN --socket SOCK ARGS..." in NS
#   bgpd_socket NS                      the control socket path used for NS
#   bgpd_pid NS
# BGPD_BIN defaults to target/release/bgpd, BGPCTL_BIN to target/release/bgpctl (repo root);
# BGPCTL_SOCKET_FLAG (default --socket) names bgpctl's socket option.
source "$(dirname "${BASH_SOURCE[0]}")/neighbor.sh"

_INTEROP_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BGPD_BIN=${BGPD_BIN:-$_INTEROP_REPO_ROOT/target/release/bgpd}
BGPCTL_BIN=${BGPCTL_BIN:-$_INTEROP_REPO_ROOT/target/release/bgpctl}
BGPCTL_SOCKET_FLAG=${BGPCTL_SOCKET_FLAG:---socket}

_yaml_families() {
  local f out=""
  for f in $1; do out+="${out:+, }${f}_unicast"; done
  echo "[$out]"
}

bgpd_write_config() {
  local file=$1 rid=$2 as=$3
  shift 3
  local listens=() no_listen=0 nbrs=() origs=() kernel=true sock="" http=null hostname=""
  local cluster="" gr="" extra="" spec open_policy=1
  while [ $# -gt 0 ]; do
    case $1 in
      --listen) listens+=("$2"); shift 2 ;;
      --no-listen) no_listen=1; shift ;;
      --neighbor) nbrs+=("$2"); shift 2 ;;
      --originate) origs+=("$2"); shift 2 ;;
      --kernel) kernel=$2; shift 2 ;;
      --control-socket) sock=$2; shift 2 ;;
      --http-listen) http=$2; shift 2 ;;
      --hostname) hostname=$2; shift 2 ;;
      --cluster-id) cluster=$2; shift 2 ;;
      --gr) gr=$2; shift 2 ;;
      --extra) extra+="$2"$'\n'; shift 2 ;;
      --default-policy) open_policy=0; shift ;;
      *) echo "bgpd_write_config: unknown option $1" >&2; return 1 ;;
    esac
  done
  [ -n "$sock" ] || sock="$(dirname "$file")/bgpd.sock"
  mkdir -p "$(dirname "$file")"
  {
    echo "router_id: $rid"
    echo "local_as: $as"
    if [ "$no_listen" = 1 ]; then
      echo "listen: []"
    elif [ ${#listens[@]} -gt 0 ]; then
      local l out=""
      for l in "${listens[@]}"; do out+="${out:+, }\"$l\""; done
      echo "listen: [$out]"
    fi
    [ -n "$cluster" ] && echo "cluster_id: $cluster"
    [ -n "$hostname" ] && echo "hostname: $hostname"
    if [ ${#origs[@]} -gt 0 ]; then
      local p out=""
      for p in "${origs[@]}"; do out+="${out:+, }\"$p\""; done
      echo "originate: [$out]"
    else
      echo "originate: []"
    fi
    echo "kernel:"
    echo "  enabled: $kernel"
    if [ -n "$gr" ]; then
      echo "graceful_restart:"
      echo "  enabled: $gr"
    fi
    echo "control_socket: \"$sock\""
    if [ "$http" = null ]; then echo "http_listen: null"; else echo "http_listen: \"$http\""; fi
    echo "log:"
    echo "  level: ${BGPD_LOG_LEVEL:-info}"
    if [ ${#nbrs[@]} -gt 0 ]; then
      echo "neighbors:"
      for spec in "${nbrs[@]}"; do
        nbr_parse "$spec" || return 1
        echo "  - address: \"$NBR_ADDR\""
        echo "    remote_as: $NBR_AS"
        [ "$NBR_PASSIVE" = 1 ] && echo "    passive: true"
        [ -n "$NBR_HOLD" ] && echo "    hold_time: $NBR_HOLD"
        [ -n "$NBR_LOCAL" ] && echo "    local_address: \"$NBR_LOCAL\""
        echo "    families: $(_yaml_families "$NBR_FAMILIES")"
        [ "$NBR_RR_CLIENT" = 1 ] && echo "    route_reflector_client: true"
        [ -n "$NBR_MULTIHOP" ] && echo "    multihop: $NBR_MULTIHOP"
        [ "$NBR_GR" = 1 ] && echo "    graceful_restart: true"
        [ -n "$NBR_PASSWORD" ] && echo "    password: \"$NBR_PASSWORD\""
        case $NBR_ADDPATH in
          both) echo "    add_path: {receive: true, send: true}" ;;
          rx) echo "    add_path: {receive: true, send: false}" ;;
          tx) echo "    add_path: {receive: false, send: true}" ;;
        esac
        if [ "$open_policy" = 1 ]; then
          echo "    import: all"
          echo "    export: [\"accept 0.0.0.0/0 le 32\", \"accept ::/0 le 128\"]"
        fi
      done
    else
      echo "neighbors: []"
    fi
    printf '%s' "$extra"
  } >"$file"
}

bgpd_socket() {
  if [ -f "$TEST_DIR/$1/bgpd.sockpath" ]; then cat "$TEST_DIR/$1/bgpd.sockpath"
  else echo "$TEST_DIR/$1/bgpd.sock"; fi
}

bgpd_pid() { cat "$TEST_DIR/$1/bgpd.pid" 2>/dev/null; }

start_bgpd() {
  local n=$1 conf=$2 dir="$TEST_DIR/$1" sock pid i
  [ -x "$BGPD_BIN" ] || { echo "start_bgpd: no executable at BGPD_BIN=$BGPD_BIN" >&2; return 1; }
  mkdir -p "$dir"
  sock=$(sed -n 's/^control_socket:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "$conf" | head -n1)
  [ -n "$sock" ] || sock="$dir/bgpd.sock"
  echo "$sock" >"$dir/bgpd.sockpath"
  ip netns exec "$n" "$BGPD_BIN" --config "$conf" >>"$dir/bgpd.log" 2>&1 &
  pid=$!
  track_pid "$pid"
  echo "$pid" >"$dir/bgpd.pid"
  for i in $(seq 1 100); do
    [ -S "$sock" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "start_bgpd: bgpd in $n runs but has no control socket at $sock after 10 s" >&2
    return 0
  fi
  echo "start_bgpd: bgpd in $n exited; log:" >&2
  tail -n 30 "$dir/bgpd.log" >&2
  return 1
}

stop_bgpd() {
  local pid i
  pid=$(bgpd_pid "$1") || return 0
  kill "-${2:-TERM}" "$pid" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "stop_bgpd: bgpd (pid $pid) still running after 10 s" >&2
  return 1
}

bgpctl_in() {
  local n=$1; shift
  ip netns exec "$n" "$BGPCTL_BIN" "$BGPCTL_SOCKET_FLAG" "$(bgpd_socket "$n")" "$@"
}
