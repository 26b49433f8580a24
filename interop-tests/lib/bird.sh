# shellcheck shell=bash
# BIRD 2 inside a test namespace.
#
#   bird_start NS ROUTER_ID AS [--neighbor "SPEC"]... [--originate PREFIX]... [--gr]
#              [--cluster-id ID] [--no-kernel] [--extra "raw bird.conf text"]
#   bird_established NS PEER_ADDR         # 0 if the session to PEER_ADDR is Established
#   bird_state NS PEER_ADDR               # Idle/Connect/Active/OpenSent/OpenConfirm/Established
#   bird_has_route NS PREFIX              # 0 if PREFIX is in BIRD's table (any path)
#   bird_route_nexthops NS PREFIX         # next hops of PREFIX's paths, one a line
#   bird_route_count NS PREFIX            # number of paths BIRD holds for PREFIX
#   bird_best_nexthop NS PREFIX           # next hop of the best path
#   bird_since NS PEER_ADDR               # "Since" of the session (unchanged = no flap)
#   bird_route_from NS PREFIX PEER_ADDR   # 0 if BIRD holds PREFIX as learned from PEER_ADDR
#   bird_restart NS [ARGS] / bird_kill NS  # restart on the same config / SIGKILL
#   birdc_in NS ARGS...                   # raw birdc
#   bird_stop NS
# Neighbour SPEC: see neighbor.sh. Every route BIRD selects goes into the namespace's kernel
# table (kernel protocols with `export all`, `proto bird`), originated prefixes as blackholes.
source "$(dirname "${BASH_SOURCE[0]}")/neighbor.sh"

bird_ctl() { echo "$TEST_DIR/$1/bird.ctl"; }

birdc_in() { local n=$1; shift; birdc -s "$(bird_ctl "$n")" "$@"; }

bird_start() {
  local n=$1 rid=$2 as=$3 gr=0 cluster="" kernel=1 extra="" nbrs=() origs=()
  shift 3
  while [ $# -gt 0 ]; do
    case $1 in
      --neighbor) nbrs+=("$2"); shift 2 ;;
      --originate) origs+=("$2"); shift 2 ;;
      --gr) gr=1; shift ;;
      --cluster-id) cluster=$2; shift 2 ;;
      --no-kernel) kernel=0; shift ;;
      --extra) extra+="$2"$'\n'; shift 2 ;;
      *) echo "bird_start: unknown option $1" >&2; return 1 ;;
    esac
  done
  local dir="$TEST_DIR/$n" conf p spec fam
  mkdir -p "$dir"
  conf="$dir/bird.conf"
  {
    echo "log \"$dir/bird.log\" all;"
    echo "router id $rid;"
    echo "protocol device { scan time 10; }"
    if [ "$kernel" = 1 ]; then
      # With --gr the kernel tables are kept through a restart with `bird -R` (synchronised
      # only once the BGP sessions have recovered).
      local kgr=""; [ "$gr" = 1 ] && kgr=" graceful restart on;"
      echo "protocol kernel kernel4 { ipv4 { import none; export all; }; learn off; merge paths on;$kgr }"
      echo "protocol kernel kernel6 { ipv6 { import none; export all; }; learn off; merge paths on;$kgr }"
    fi
    echo "protocol static static4 { ipv4;"
    for p in "${origs[@]}"; do [ "$(_prefix_family "$p")" = ipv4 ] && echo "  route $p blackhole;"; done
    echo "}"
    echo "protocol static static6 { ipv6;"
    for p in "${origs[@]}"; do [ "$(_prefix_family "$p")" = ipv6 ] && echo "  route $p blackhole;"; done
    echo "}"
    for spec in "${nbrs[@]}"; do
      nbr_parse "$spec" || return 1
      echo "protocol bgp $(_peer_proto_name "$NBR_ADDR") {"
      if [ -n "$NBR_LOCAL" ]; then echo "  local $NBR_LOCAL as $as;"; else echo "  local as $as;"; fi
      if [ -n "$NBR_IFACE" ]; then
        echo "  neighbor $NBR_ADDR%'$NBR_IFACE' as $NBR_AS;"
      else
        echo "  neighbor $NBR_ADDR as $NBR_AS;"
      fi
      echo "  connect delay time 1; connect retry time 2; error wait time 1, 10;"
      echo "  debug { states, events };   # session changes and their reasons in bird.log"
      [ "$NBR_PASSIVE" = 1 ] && echo "  passive on;"
      if [ -n "$NBR_MULTIHOP" ]; then echo "  multihop $NBR_MULTIHOP;"
      elif [ "$NBR_AS" = "$as" ]; then echo "  direct;"; fi
      [ "$NBR_GTSM" = 1 ] && echo "  ttl security yes;"
      [ "$NBR_RR_CLIENT" = 1 ] && echo "  rr client;"
      [ -n "$cluster" ] && echo "  rr cluster id $cluster;"
      [ -n "$NBR_PASSWORD" ] && echo "  password \"$NBR_PASSWORD\";"
      [ -n "$NBR_HOLD" ] && echo "  hold time $NBR_HOLD;"
      if [ "$NBR_GR" = 1 ] || [ "$gr" = 1 ]; then echo "  graceful restart on;"; fi
      for fam in $NBR_FAMILIES; do
        echo "  $fam {"
        echo "    import all; export all;"
        case $NBR_ADDPATH in
          both) echo "    add paths on;" ;;
          rx) echo "    add paths rx;" ;;
          tx) echo "    add paths tx;" ;;
        esac
        if [ "$fam" = ipv4 ] && { [ "$NBR_EXTNH" = 1 ] || [ "$NBR_IS_V6" = 1 ]; }; then
          echo "    extended next hop on;"
        fi
        [ "$fam" = ipv6 ] && [ -n "$NBR_NH6" ] && echo "    next hop address $NBR_NH6;"
        echo "  };"
      done
      echo "}"
    done
    printf '%s' "$extra"
  } >"$conf"
  bird -p -c "$conf" >"$dir/bird.check" 2>&1 || { cat "$dir/bird.check" >&2; return 1; }
  _bird_launch "$n"
}

# _bird_launch NS [BIRD_ARGS...]: starts BIRD on $TEST_DIR/NS/bird.conf, waits for its socket.
_bird_launch() {
  local n=$1 dir="$TEST_DIR/$1"
  shift
  rm -f "$(bird_ctl "$n")"
  ip netns exec "$n" bird -f -c "$dir/bird.conf" -s "$(bird_ctl "$n")" "$@" >>"$dir/bird.out" 2>&1 &
  local pid=$! i
  track_pid "$pid"
  echo "$pid" >"$dir/bird.pid"
  for i in $(seq 1 100); do
    birdc_in "$n" show status >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bird_start: BIRD in $n did not come up; log:" >&2
  tail -n 20 "$dir/bird.out" "$dir/bird.log" >&2 2>/dev/null
  return 1
}

# bird_restart NS [BIRD_ARGS...]: stop BIRD (SIGTERM) and start it again on the same config.
bird_restart() { bird_stop "$1"; _bird_launch "$@"; }

# bird_kill NS: SIGKILL, no NOTIFICATION sent (the kernel closes the TCP sessions).
bird_kill() {
  local pid
  pid=$(cat "$TEST_DIR/$1/bird.pid" 2>/dev/null) || return 0
  _own_pid "$1" "$pid" || return 0
  kill -KILL "$pid" 2>/dev/null || true
  _wait_pid_gone "$pid" 5
}

# bird_set_password NS PEER_ADDR PASSWORD: rewrite the session's password in bird.conf
# (takes effect at the next bird_restart).
bird_set_password() {
  local conf="$TEST_DIR/$1/bird.conf" p
  p=$(_peer_proto_name "$2")
  awk -v p="$p" -v pw="$3" '
    $1 == "protocol" && $2 == "bgp" { inp = ($3 == p) }
    inp && $1 == "password" { sub(/password "[^"]*"/, "password \"" pw "\"") }
    { print }' "$conf" >"$conf.new" && mv "$conf.new" "$conf"
}

bird_stop() {
  local pid
  pid=$(cat "$TEST_DIR/$1/bird.pid" 2>/dev/null) || return 0
  _own_pid "$1" "$pid" || return 0
  kill "$pid" 2>/dev/null || true
  _wait_pid_gone "$pid" 5
}

bird_state() {
  birdc_in "$1" show protocols all "$(_peer_proto_name "$2")" 2>/dev/null |
    awk '$1 == "BGP" && $2 == "state:" { print $3; exit }'
}

# bird_since NS PEER_ADDR: the "Since" column of the session (changes at every state change).
# BIRD converts its monotonic timestamp to wall-clock time at each display, so two readings of
# an unchanged session can differ by a millisecond: compare them with bird_same_since.
bird_since() {
  birdc_in "$1" show protocols "$(_peer_proto_name "$2")" 2>/dev/null |
    awk -v p="$(_peer_proto_name "$2")" '$1 == p { print $5 }'
}

# bird_same_since OLD NEW: 0 if two "Since" readings (HH:MM:SS.mmm) are within 50 ms.
bird_same_since() {
  local a b
  a=$(_hms_ms "$1") b=$(_hms_ms "$2")
  [ -n "$a" ] && [ -n "$b" ] && [ $(( a > b ? a - b : b - a )) -le 50 ]
}
_hms_ms() {
  awk -F'[:.]' 'NF >= 3 { ms = (NF >= 4) ? substr($4 "000", 1, 3) : 0; print (($1 * 60 + $2) * 60 + $3) * 1000 + ms }' <<<"$1"
}

# bird_route_from NS PREFIX PEER_ADDR: 0 if BIRD holds a route for PREFIX learned from PEER_ADDR
# (while that session is down, such a route is one kept stale by graceful restart).
bird_route_from() {
  birdc_in "$1" show route "$2" protocol "$(_peer_proto_name "$3")" 2>/dev/null |
    grep -q " unicast \[\| blackhole \["
}

bird_established() { [ "$(bird_state "$1" "$2")" = Established ]; }

# The route lines of `show route PREFIX all` for the exact prefix.
bird_route_nexthops() {
  birdc_in "$1" show route "$2" 2>/dev/null | awk '
    /^[[:space:]]+via / { print $2 }
    / unicast \[/ && / via / { for (i = 1; i < NF; i++) if ($i == "via") print $(i+1) }'
}

# bird_best_nexthop NS PREFIX: the next hop of BIRD's best path (the route line marked "*").
bird_best_nexthop() {
  birdc_in "$1" show route "$2" 2>/dev/null | awk '
    / unicast \[/ { best = ($0 ~ /\] \* /) ; if (best && $0 ~ / via /) { for (i = 1; i < NF; i++) if ($i == "via") { print $(i+1); exit } } next }
    best && /^[[:space:]]+via / { print $2; exit }'
}

bird_route_count() {
  birdc_in "$1" show route "$2" 2>/dev/null | grep -c ' unicast \[\| blackhole \[' || true
}

bird_has_route() { [ "$(bird_route_count "$1" "$2")" -gt 0 ]; }
