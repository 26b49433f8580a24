# shellcheck shell=bash
# GoBGP 3 (gobgpd) inside a test namespace. GoBGP installs no kernel routes.
#
#   gobgp_start NS ROUTER_ID AS [--neighbor "SPEC"]... [--originate PREFIX]... [--gr]
#               [--cluster-id ID] [--extra "raw toml"]
#   gobgp_established NS PEER_ADDR      # 0 if Established
#   gobgp_state NS PEER_ADDR            # session state as gobgp prints it (e.g. "established")
#   gobgp_has_route NS PREFIX           # 0 if PREFIX is in the global RIB
#   gobgp_route_nexthops NS PREFIX      # next hops of PREFIX's paths, one a line
#   gobgp_uptime NS PEER_ADDR           # when the session came up (unchanged = no flap)
#   gobgp_announce NS PREFIX...         # originate more prefixes
#   gobgp_in NS ARGS...                 # raw `gobgp` client
#   gobgp_stop NS / gobgp_restart NS
source "$(dirname "${BASH_SOURCE[0]}")/neighbor.sh"

GOBGP_API=${GOBGP_API:-127.0.0.1:50051}

gobgp_in() { local n=$1; shift; ip netns exec "$n" gobgp -u "${GOBGP_API%:*}" -p "${GOBGP_API##*:}" "$@"; }

_gobgp_afi_safi() { case $1 in ipv4) echo ipv4-unicast ;; ipv6) echo ipv6-unicast ;; esac; }

gobgp_start() {
  local n=$1 rid=$2 as=$3 gr=0 cluster="" extra="" nbrs=() origs=()
  shift 3
  while [ $# -gt 0 ]; do
    case $1 in
      --neighbor) nbrs+=("$2"); shift 2 ;;
      --originate) origs+=("$2"); shift 2 ;;
      --gr) gr=1; shift ;;
      --cluster-id) cluster=$2; shift 2 ;;
      --extra) extra+="$2"$'\n'; shift 2 ;;
      *) echo "gobgp_start: unknown option $1" >&2; return 1 ;;
    esac
  done
  local dir="$TEST_DIR/$n" conf spec fam
  mkdir -p "$dir"
  conf="$dir/gobgp.toml"
  {
    echo "[global.config]"
    echo "  as = $as"
    echo "  router-id = \"$rid\""
    echo "  port = 179"
    for spec in "${nbrs[@]}"; do
      nbr_parse "$spec" || return 1
      local g=$gr; [ "$NBR_GR" = 1 ] && g=1
      echo ""
      echo "[[neighbors]]"
      echo "  [neighbors.config]"
      echo "    neighbor-address = \"$NBR_ADDR\""
      echo "    peer-as = $NBR_AS"
      [ -n "$NBR_PASSWORD" ] && echo "    auth-password = \"$NBR_PASSWORD\""
      [ -n "$NBR_IFACE" ] && echo "    neighbor-interface = \"$NBR_IFACE\""
      echo "  [neighbors.timers.config]"
      echo "    connect-retry = 2"
      if [ -n "$NBR_HOLD" ]; then
        echo "    hold-time = $NBR_HOLD"
        echo "    keepalive-interval = $(( NBR_HOLD / 3 > 0 ? NBR_HOLD / 3 : 1 ))"
      fi
      if [ "$NBR_PASSIVE" = 1 ] || [ -n "$NBR_LOCAL" ]; then
        echo "  [neighbors.transport.config]"
        [ "$NBR_PASSIVE" = 1 ] && echo "    passive-mode = true"
        [ -n "$NBR_LOCAL" ] && echo "    local-address = \"$NBR_LOCAL\""
      fi
      if [ -n "$NBR_MULTIHOP" ] && [ "$NBR_AS" != "$as" ]; then
        echo "  [neighbors.ebgp-multihop.config]"
        echo "    enabled = true"
        echo "    multihop-ttl = $NBR_MULTIHOP"
      fi
      if [ "$NBR_RR_CLIENT" = 1 ]; then
        echo "  [neighbors.route-reflector.config]"
        echo "    route-reflector-client = true"
        echo "    route-reflector-cluster-id = \"${cluster:-$rid}\""
      fi
      if [ "$g" = 1 ]; then
        echo "  [neighbors.graceful-restart.config]"
        echo "    enabled = true"
        echo "    restart-time = 120"
      fi
      for fam in $NBR_FAMILIES; do
        echo "  [[neighbors.afi-safis]]"
        echo "    [neighbors.afi-safis.config]"
        echo "      afi-safi-name = \"$(_gobgp_afi_safi "$fam")\""
        if [ "$g" = 1 ]; then
          echo "    [neighbors.afi-safis.mp-graceful-restart.config]"
          echo "      enabled = true"
        fi
        if [ -n "$NBR_ADDPATH" ]; then
          echo "    [neighbors.afi-safis.add-paths.config]"
          case $NBR_ADDPATH in rx|both) echo "      receive = true" ;; esac
          case $NBR_ADDPATH in tx|both) echo "      send-max = 8" ;; esac
        fi
      done
    done
    printf '%s' "$extra"
  } >"$conf"
  printf '%s\n' "${nbrs[@]}" >"$dir/gobgp.neighbors"
  printf '%s\n' "${origs[@]}" >"$dir/gobgp.originate"
  _gobgp_launch "$n"
}

# _gobgp_launch NS: starts gobgpd on $TEST_DIR/NS/gobgp.toml, waits for its neighbours, then
# injects the originated prefixes (GoBGP keeps them only in memory).
_gobgp_launch() {
  local n=$1 dir="$TEST_DIR/$1" spec p
  ip netns exec "$n" gobgpd -f "$dir/gobgp.toml" --api-hosts "$GOBGP_API" --log-plain \
    >>"$dir/gobgpd.log" 2>&1 &
  local pid=$! i ok=0
  track_pid "$pid"
  echo "$pid" >"$dir/gobgpd.pid"
  for i in $(seq 1 100); do
    if gobgp_in "$n" global >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$ok" != 1 ]; then
    echo "gobgp_start: gobgpd in $n did not come up; log:" >&2
    tail -n 20 "$dir/gobgpd.log" >&2
    return 1
  fi
  # The config is applied asynchronously: wait until every neighbour is known.
  while read -r spec; do
    [ -n "$spec" ] || continue
    nbr_parse "$spec"
    for i in $(seq 1 50); do gobgp_in "$n" neighbor "$NBR_ADDR" >/dev/null 2>&1 && break; sleep 0.1; done
  done <"$dir/gobgp.neighbors"
  while read -r p; do
    [ -n "$p" ] || continue
    gobgp_in "$n" global rib -a "$(_prefix_family "$p")" add "$p" >/dev/null || return 1
  done <"$dir/gobgp.originate"
}

# gobgp_restart NS: stop gobgpd and start it again on the same config and prefixes.
gobgp_restart() { gobgp_stop "$1"; _gobgp_launch "$1"; }

# gobgp_uptime NS PEER_ADDR: when the session was established (unchanged = no flap).
gobgp_uptime() {
  gobgp_in "$1" neighbor "$2" -j 2>/dev/null | jq -r '.timers.state.uptime.seconds // empty'
}

# gobgp_announce NS PREFIX...: originate more prefixes now.
gobgp_announce() {
  local n=$1 p; shift
  for p in "$@"; do gobgp_in "$n" global rib -a "$(_prefix_family "$p")" add "$p" >/dev/null || return 1; done
}

gobgp_stop() {
  local pid i
  pid=$(cat "$TEST_DIR/$1/gobgpd.pid" 2>/dev/null) || return 0
  _own_pid "$1" "$pid" || return 0
  kill "$pid" 2>/dev/null || true
  _wait_pid_gone "$pid" 5
}

# gobgp_kill NS: SIGKILL gobgpd (no NOTIFICATION; the kernel closes its sessions).
gobgp_kill() {
  local pid
  pid=$(cat "$TEST_DIR/$1/gobgpd.pid" 2>/dev/null) || return 0
  _own_pid "$1" "$pid" || return 0
  kill -KILL "$pid" 2>/dev/null || true
  _wait_pid_gone "$pid" 5
}

gobgp_state() {
  gobgp_in "$1" neighbor "$2" -j 2>/dev/null | jq -r '.state.session_state // empty'
}

gobgp_established() {
  local s
  s=$(gobgp_state "$1" "$2")
  [ "$s" = 6 ] || [ "${s,,}" = established ] || [ "$s" = SESSION_STATE_ESTABLISHED ]
}

gobgp_route_json() {
  gobgp_in "$1" global rib -a "$(_prefix_family "$2")" "$2" -j 2>/dev/null
}

gobgp_route_nexthops() {
  gobgp_route_json "$1" "$2" |
    jq -r '.[]?[]? | .attrs[]? | select(.type == 3 or .type == 14) | (.nexthop // empty)' 2>/dev/null
}

gobgp_has_route() {
  gobgp_route_json "$1" "$2" | jq -e 'to_entries | map(.value | length) | add > 0' >/dev/null 2>&1
}
