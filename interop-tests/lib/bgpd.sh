# shellcheck shell=bash
# Our own bgpd inside a test namespace.
#
#   bgpd_write_config FILE ROUTER_ID LOCAL_AS [--listen ADDR:PORT]... [--no-listen]
#                     [--neighbor "SPEC"]... [--originate PREFIX]... [--kernel true|false]
#                     [--control-socket PATH] [--http-listen ADDR:PORT|null] [--hostname NAME]
#                     [--cluster-id ID] [--gr true|false] [--extra "raw yaml lines"]
#                     [--default-policy] [--max-paths N]
#       writes a YAML config (schema: bgpd/src/config/raw.rs). Neighbour SPEC as in
#       neighbor.sh ("ADDRESS AS [passive] [hold=N] [local=ADDR] [families=ipv4,ipv6]
#       [rr_client] [addpath[=rx|tx|both]] [gr] [password=P] [multihop=N] [maxpfx=N]
#       [gtsm]").
#       control_socket defaults to $TEST_DIR/<NS>/bgpd.sock when FILE is $TEST_DIR/<NS>/...,
#       else to the directory of FILE + /bgpd.sock. http_listen defaults to null.
#       Every neighbour gets `import: all` and `export: all`, so tests see what was
#       exchanged; --default-policy leaves import/export out (the schema's defaults).
#   start_bgpd NS CONFIG_FILE           runs "$BGPD_BIN --config FILE" in NS, logs to
#                                        $TEST_DIR/NS/bgpd.log, waits for the control socket
#   stop_bgpd NS [SIGNAL]               SIGTERM (or SIGNAL) and wait up to 10 s
#   bgpd_restart NS                      start_bgpd again on the config it last ran with
#   bgpctl_in NS ARGS...                 "$BGPCTL_BIN --socket SOCK ARGS..." in NS
#   bgpd_state NS PEER                   the session state `bgpctl show neighbors --json` reports
#   bgpd_established NS PEER             0 if Established
#   bgpd_nbr_field NS PEER FIELD         one field of the neighbour's object (jq path, e.g. .uptime_secs)
#   bgpd_route_json NS PREFIX            `show routes PREFIX --json` (an array)
#   bgpd_has_route NS PREFIX             0 if bgpd's RIB has a path for PREFIX
#   bgpd_route_paths NS PREFIX           number of paths for PREFIX
#   bgpd_kernel_route NS PREFIX NEXTHOP  0 if the kernel has PREFIX via NEXTHOP with bgpd's protocol
#   wait_bgpd_route TIMEOUT NS PREFIX NEXTHOP   wait for it (fails with what the kernel has)
#   bgpd_log_has NS REGEX                0 if bgpd's log has a line matching REGEX (grep -E)
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
  local cluster="" gr="" extra="" spec open_policy=1 max_paths=""
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
      --max-paths) max_paths=$2; shift 2 ;;
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
    [ -n "$max_paths" ] && echo "max_paths: $max_paths"
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
        [ -n "$NBR_DESC" ] && echo "    description: \"$NBR_DESC\""
        [ "$NBR_PASSIVE" = 1 ] && echo "    passive: true"
        [ -n "$NBR_HOLD" ] && echo "    hold_time: $NBR_HOLD"
        [ -n "$NBR_LOCAL" ] && echo "    local_address: \"$NBR_LOCAL\""
        echo "    families: $(_yaml_families "$NBR_FAMILIES")"
        [ "$NBR_RR_CLIENT" = 1 ] && echo "    route_reflector_client: true"
        [ -n "$NBR_MULTIHOP" ] && echo "    multihop: $NBR_MULTIHOP"
        [ "$NBR_GTSM" = 1 ] && echo "    ttl_security: true"
        [ "$NBR_GR" = 1 ] && echo "    graceful_restart: true"
        [ -n "$NBR_PASSWORD" ] && echo "    password: \"$NBR_PASSWORD\""
        [ -n "$NBR_MAXPFX" ] && echo "    max_prefixes: {limit: $NBR_MAXPFX}"
        case $NBR_ADDPATH in
          both) echo "    add_path: {receive: true, send: true}" ;;
          rx) echo "    add_path: {receive: true, send: false}" ;;
          tx) echo "    add_path: {receive: false, send: true}" ;;
        esac
        if [ "$open_policy" = 1 ]; then
          echo "    import: all"
          echo "    export: all"
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
  echo "$conf" >"$dir/bgpd.confpath"
  rm -f "$sock"
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
  _own_pid "$1" "$pid" || return 0
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "stop_bgpd: bgpd (pid $pid) still running after 10 s" >&2
  return 1
}

bgpctl_in() {
  local n=$1; shift
  ip netns exec "$n" "$BGPCTL_BIN" "$BGPCTL_SOCKET_FLAG" "$(bgpd_socket "$n")" "$@"
}

bgpd_restart() { start_bgpd "$1" "$(cat "$TEST_DIR/$1/bgpd.confpath")"; }

bgpd_neighbors_json() { bgpctl_in "$1" show neighbors --json 2>/dev/null; }

bgpd_nbr_field() {
  bgpd_neighbors_json "$1" | jq -r --arg a "$2" ".[] | select(.address == \$a) | $3 // empty"
}

bgpd_state() { bgpd_nbr_field "$1" "$2" .state; }

bgpd_established() { [ "$(bgpd_state "$1" "$2")" = Established ]; }

bgpd_route_json() { bgpctl_in "$1" show routes "$2" --json 2>/dev/null; }

bgpd_route_paths() {
  bgpd_route_json "$1" "$2" | jq -r --arg p "$2" '[.[] | select(.prefix == $p) | .paths[]] | length'
}

bgpd_has_route() { [ "$(bgpd_route_paths "$1" "$2" 2>/dev/null || echo 0)" -gt 0 ] 2>/dev/null; }

# bgpd's kernel protocol: 179 (route_sync::config::DEFAULT_PROTOCOL), named "bgpd" where
# examples/rt_protos.d/bgpd.conf is installed. Not 186 ("bgp"): that is FRR's.
BGPD_KERNEL_PROTOS=${BGPD_KERNEL_PROTOS:-179 bgpd}

bgpd_kernel_route() {
  route_has_nexthop "$1" "$2" "$3" || return 1
  case " $BGPD_KERNEL_PROTOS " in *" $(kernel_route_protocol "$1" "$2") "*) return 0 ;; esac
  return 1
}

wait_bgpd_route() {
  local t=$1; shift
  eventually "$t" bgpd_kernel_route "$@" && return 0
  local fam=-4
  case $2 in *:*) fam=-6 ;; esac
  fail "route $2 in $1: expected via $3 with protocol $BGPD_KERNEL_PROTOS, kernel has: $(ip -n "$1" "$fam" route show exact "$2" 2>&1 | tr '\n' ';')"
}

bgpd_log_has() { grep -qE "$2" "$TEST_DIR/$1/bgpd.log" 2>/dev/null; }

# bgpd_alive NS: 0 if the bgpd process started in NS still runs.
bgpd_alive() { local pid; pid=$(bgpd_pid "$1") && kill -0 "$pid" 2>/dev/null; }
