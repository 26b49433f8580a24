# shellcheck shell=bash
# FRR 8.4 (zebra + bgpd + staticd, one pathspace per namespace) inside a test namespace.
#
#   frr_start NS ROUTER_ID AS [--neighbor "SPEC"]... [--originate PREFIX]... [--gr]
#             [--cluster-id ID] [--hostname NAME] [--no-zebra] [--extra-bgp "lines"]
#             [--extra-af4 "lines"] [--extra-af6 "lines"] [--static "ip route ..."]...
#   frr_established NS PEER_ADDR        # 0 if Established
#   frr_state NS PEER_ADDR              # bgpState (Idle, Active, ..., Established)
#   frr_has_route NS PREFIX             # 0 if PREFIX is in the BGP table
#   frr_route_nexthops NS PREFIX        # BGP next hops of PREFIX's paths, one a line
#   frr_route_json NS PREFIX            # `show bgp ipv4|ipv6 unicast PREFIX json`
#   frr_uptime_epoch NS PEER_ADDR       # peerUptimeEstablishedEpoch (unchanged = no flap)
#   frr_connections NS PEER_ADDR        # connectionsEstablished
#   frr_route_stale NS PREFIX           # 0 if the path is marked stale (graceful restart)
#   vtysh_in NS ARGS...                 # raw vtysh (-c 'cmd' ...)
#   frr_stop NS / frr_restart NS / frr_kill_bgpd NS
# Without --no-zebra, zebra installs the selected routes into the namespace's kernel
# (`proto bgp`, 186, metric 20; bgpd's are proto 179); with it, bgpd runs with -Z (no zebra,
# no kernel routes).
source "$(dirname "${BASH_SOURCE[0]}")/neighbor.sh"

FRR_DIR=${FRR_DIR:-/usr/lib/frr}
FRR_RUN=${FRR_RUN:-/var/run/frr}

# vtysh warns on stderr that the pathspace has no vtysh.conf: drop that line, keep the rest.
vtysh_in() {
  local n=$1 rc; shift
  { ip netns exec "$n" vtysh -N "$n" "$@" 2>&1 1>&3 3>&- | { grep -v 'vtysh.conf' >&2 || true; }
    rc=${PIPESTATUS[0]}; } 3>&1
  return "$rc"
}

_frr_bgp_config() {
  local as=$1 rid=$2 gr=$3 cluster=$4 extra=$5 spec fam
  shift 5
  local -n _nbrs=$1 _origs=$2 _af4=$3 _af6=$4
  echo "router bgp $as"
  echo " bgp router-id $rid"
  echo " no bgp ebgp-requires-policy"
  echo " no bgp default ipv4-unicast"
  echo " no bgp network import-check"
  echo " bgp log-neighbor-changes"
  [ "$gr" = 1 ] && echo " bgp graceful-restart"
  [ -n "$cluster" ] && echo " bgp cluster-id $cluster"
  for spec in "${_nbrs[@]}"; do
    nbr_parse "$spec" || return 1
    local a=$NBR_ADDR
    if [ -n "$NBR_IFACE" ] && [[ $a == fe80:* ]]; then
      echo " neighbor $NBR_IFACE interface remote-as $NBR_AS"
      a=$NBR_IFACE
    else
      echo " neighbor $a remote-as $NBR_AS"
    fi
    echo " neighbor $a timers connect 2"
    echo " neighbor $a advertisement-interval 0"
    [ "$NBR_PASSIVE" = 1 ] && echo " neighbor $a passive"
    [ -n "$NBR_MULTIHOP" ] && [ "$NBR_AS" != "$as" ] && echo " neighbor $a ebgp-multihop $NBR_MULTIHOP"
    [ -n "$NBR_PASSWORD" ] && echo " neighbor $a password $NBR_PASSWORD"
    [ -n "$NBR_HOLD" ] && echo " neighbor $a timers $(( NBR_HOLD / 3 > 0 ? NBR_HOLD / 3 : 1 )) $NBR_HOLD"
    [ -n "$NBR_LOCAL" ] && echo " neighbor $a update-source $NBR_LOCAL"
    [ "$NBR_EXTNH" = 1 ] && echo " neighbor $a capability extended-nexthop"
    [ "$NBR_GR" = 1 ] && echo " neighbor $a graceful-restart"
    printf '%s\n' "$NBR_FAMILIES" >"$TEST_DIR/.frr_fams_$a"
  done
  [ -n "$extra" ] && printf '%s\n' "$extra"
  for fam in ipv4 ipv6; do
    echo " address-family $fam unicast"
    local p
    for p in "${_origs[@]}"; do [ "$(_prefix_family "$p")" = "$fam" ] && echo "  network $p"; done
    for spec in "${_nbrs[@]}"; do
      nbr_parse "$spec" || return 1
      local a=$NBR_ADDR
      [ -n "$NBR_IFACE" ] && [[ $a == fe80:* ]] && a=$NBR_IFACE
      nbr_has_family "$fam" || continue
      echo "  neighbor $a activate"
      [ "$NBR_RR_CLIENT" = 1 ] && echo "  neighbor $a route-reflector-client"
      case $NBR_ADDPATH in
        both|tx) echo "  neighbor $a addpath-tx-all-paths" ;;
      esac
      case $NBR_ADDPATH in
        tx) echo "  neighbor $a disable-addpath-rx" ;;
      esac
    done
    if [ "$fam" = ipv4 ]; then printf '%s' "${_af4}"; else printf '%s' "${_af6}"; fi
    echo " exit-address-family"
  done
  rm -f "$TEST_DIR"/.frr_fams_*
}

frr_start() {
  local n=$1 rid=$2 as=$3 gr=0 cluster="" hostname="" zebra=1 extra="" af4="" af6=""
  local nbrs=() origs=() statics=()
  shift 3
  while [ $# -gt 0 ]; do
    case $1 in
      --neighbor) nbrs+=("$2"); shift 2 ;;
      --originate) origs+=("$2"); shift 2 ;;
      --gr) gr=1; shift ;;
      --cluster-id) cluster=$2; shift 2 ;;
      --hostname) hostname=$2; shift 2 ;;
      --no-zebra) zebra=0; shift ;;
      --extra-bgp) extra+="$2"$'\n'; shift 2 ;;
      --extra-af4) af4+="$2"$'\n'; shift 2 ;;
      --extra-af6) af6+="$2"$'\n'; shift 2 ;;
      --static) statics+=("$2"); shift 2 ;;
      *) echo "frr_start: unknown option $1" >&2; return 1 ;;
    esac
  done
  local dir="$TEST_DIR/$n/frr" run="$FRR_RUN/$n" d
  hostname=${hostname:-${n#"$NS_PREFIX"}}
  mkdir -p "$dir" "$run"
  track_dir "$run"
  {
    echo "frr defaults traditional"
    echo "hostname $hostname"
    echo "log file $dir/zebra.log informational"
  } >"$dir/zebra.conf"
  {
    echo "frr defaults traditional"
    echo "hostname $hostname"
    echo "log file $dir/staticd.log informational"
    local s; for s in "${statics[@]}"; do echo "$s"; done
  } >"$dir/staticd.conf"
  {
    echo "frr defaults traditional"
    echo "hostname $hostname"
    echo "log file $dir/bgpd.log informational"
    _frr_bgp_config "$as" "$rid" "$gr" "$cluster" "$extra" nbrs origs af4 af6 || return 1
  } >"$dir/bgpd.conf"
  : >"$dir/vtysh.conf"
  echo "$zebra" >"$dir/zebra-enabled"
  _frr_launch "$n"
}

# _frr_launch NS: starts the FRR daemons on the configs in $TEST_DIR/NS/frr, waits for vtysh.
_frr_launch() {
  local n=$1 dir="$TEST_DIR/$1/frr" run="$FRR_RUN/$1" d zebra
  zebra=$(cat "$dir/zebra-enabled")
  mkdir -p "$run"
  chown -R frr:frr "$dir" "$run"
  chmod 755 "$TEST_DIR" "$TEST_DIR/$n"
  local daemons=(bgpd)
  [ "$zebra" = 1 ] && daemons=(zebra staticd bgpd)
  for d in "${daemons[@]}"; do
    local args=(-d -N "$n" -f "$dir/$d.conf" -i "$run/$d.pid" -P 0)
    [ "$d" = bgpd ] && [ "$zebra" = 0 ] && args+=(-Z)
    rm -f "$run/$d.pid"
    if ! ip netns exec "$n" "$FRR_DIR/$d" "${args[@]}" >>"$dir/$d.out" 2>&1; then
      echo "frr_start: $d failed in $n:" >&2; tail -n 20 "$dir/$d.out" >&2; return 1
    fi
    local i pid=""
    for i in $(seq 1 100); do
      pid=$(cat "$run/$d.pid" 2>/dev/null) && [ -n "$pid" ] && break
      sleep 0.1
    done
    [ -n "$pid" ] || { echo "frr_start: $d wrote no pid file in $n" >&2; return 1; }
    track_pid "$pid"
    echo "$pid" >>"$dir/pids"
    [ "$d" = bgpd ] && echo "$pid" >"$dir/bgpd.pid"
  done
  # Ready when vtysh answers bgpd.
  local i
  for i in $(seq 1 100); do
    vtysh_in "$n" -c 'show bgp summary json' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "frr_start: bgpd in $n does not answer vtysh" >&2
  return 1
}

# frr_restart NS: stop every FRR daemon of NS and start them again on the same configs.
frr_restart() { frr_stop "$1"; _frr_launch "$1"; }

# frr_kill_bgpd NS: SIGKILL FRR's bgpd only (zebra keeps its kernel routes); no NOTIFICATION.
frr_kill_bgpd() {
  local pid
  pid=$(cat "$TEST_DIR/$1/frr/bgpd.pid" 2>/dev/null) || return 0
  _own_pid "$1" "$pid" || return 0
  kill -KILL "$pid" 2>/dev/null || true
  _frr_wait_gone "$pid"
}

# frr_set_password NS PEER_ADDR PASSWORD: change the session's TCP MD5 password live.
frr_set_password() {
  local as
  as=$(vtysh_in "$1" -c 'show bgp summary json' 2>/dev/null | jq -r '[.[]?.as] | map(select(.)) | .[0]')
  vtysh_in "$1" -c 'configure terminal' -c "router bgp $as" -c "neighbor $2 password $3" >/dev/null
}

# _frr_peer_summary NS PEER_ADDR -> the peer's object from `show bgp summary json` (any family).
_frr_peer_summary() {
  vtysh_in "$1" -c 'show bgp summary json' 2>/dev/null |
    jq -c --arg p "$2" '[.[]? | objects | .peers[$p]? | select(.)] | .[0] // empty'
}

# frr_uptime_epoch NS PEER_ADDR: when the session was established. FRR computes it as now minus
# the uptime, so it can move by a second between two calls: compare with a tolerance.
frr_uptime_epoch() { _frr_peer_summary "$1" "$2" | jq -r '.peerUptimeEstablishedEpoch // empty'; }

# frr_connections NS PEER_ADDR: how many times the session was established.
frr_connections() { _frr_peer_summary "$1" "$2" | jq -r '.connectionsEstablished // empty'; }

# frr_route_stale NS PREFIX: 0 if FRR's path for PREFIX is marked stale (graceful restart).
frr_route_stale() {
  frr_route_json "$1" "$2" | jq -e '[.paths[]? | select(.stale == true)] | length > 0' >/dev/null
}

frr_stop() {
  local pid
  [ -f "$TEST_DIR/$1/frr/pids" ] || return 0
  while read -r pid; do _own_pid "$1" "$pid" || continue; kill "$pid" 2>/dev/null || true; _frr_wait_gone "$pid"; done \
    < <(tac "$TEST_DIR/$1/frr/pids")
  rm -f "$TEST_DIR/$1/frr/pids"
}
_frr_wait_gone() { _wait_pid_gone "$1" 5; }

frr_state() {
  vtysh_in "$1" -c "show bgp neighbors $2 json" 2>/dev/null |
    jq -r --arg p "$2" '.[$p].bgpState // empty'
}

frr_established() { [ "$(frr_state "$1" "$2")" = Established ]; }

frr_route_json() {
  local fam=ipv4
  [ "$(_prefix_family "$2")" = ipv6 ] && fam=ipv6
  vtysh_in "$1" -c "show bgp $fam unicast $2 json" 2>/dev/null
}

frr_route_nexthops() {
  frr_route_json "$1" "$2" | jq -r '.paths[]?.nexthops[]? | select(.scope != "link-local") | .ip'
}

frr_has_route() {
  frr_route_json "$1" "$2" | jq -e '(.paths // []) | length > 0' >/dev/null
}
