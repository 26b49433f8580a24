# shellcheck shell=bash
# One interface over the three reference peers, so a test can be written once and run against
# BIRD, FRR and GoBGP. KIND is bird, frr or gobgp.
#
#   peer_start KIND NS ROUTER_ID AS [options of bird_start/frr_start/gobgp_start]...
#   peer_established KIND NS PEER_ADDR   peer_state KIND NS PEER_ADDR
#   peer_has_route KIND NS PREFIX        peer_route_nexthops KIND NS PREFIX
#   peer_flap_marker KIND NS PEER_ADDR   changes whenever the session is re-established
#                                        (BIRD "Since", FRR connectionsEstablished and
#                                        connectionsDropped, GoBGP uptime)
#   peer_same_marker KIND OLD NEW        compare two markers (BIRD's with a 50 ms tolerance)
#   peer_restart KIND NS                 stop (SIGTERM) and start again on the same config
#   peer_kill KIND NS                    SIGKILL (FRR: bgpd only)
#   peer_stop KIND NS
#   peer_installs_routes KIND            0 if the peer programs its namespace's kernel (not GoBGP)
#   peer_kernel_proto KIND               the kernel protocol name of the peer's routes

peer_start() { local k=$1; shift; "${k}_start" "$@"; }
peer_established() { local k=$1; shift; "${k}_established" "$@"; }
peer_state() { local k=$1; shift; "${k}_state" "$@"; }
peer_has_route() { local k=$1; shift; "${k}_has_route" "$@"; }
peer_route_nexthops() { local k=$1; shift; "${k}_route_nexthops" "$@"; }
peer_stop() { local k=$1; shift; "${k}_stop" "$@"; }
peer_restart() { local k=$1; shift; "${k}_restart" "$@"; }

peer_flap_marker() {
  case $1 in
    bird) bird_since "$2" "$3" ;;
    frr) _frr_peer_summary "$2" "$3" | jq -r '"established \(.connectionsEstablished) dropped \(.connectionsDropped)"' ;;
    gobgp) gobgp_uptime "$2" "$3" ;;
  esac
}

# peer_same_marker KIND OLD NEW: 0 if two flap markers say "no re-establishment in between".
peer_same_marker() {
  case $1 in
    bird) bird_same_since "$2" "$3" ;;
    *) [ "$2" = "$3" ] ;;
  esac
}

peer_kill() {
  case $1 in
    bird) bird_kill "$2" ;;
    frr) frr_kill_bgpd "$2" ;;
    gobgp) gobgp_kill "$2" ;;
  esac
}

peer_installs_routes() { [ "$1" != gobgp ]; }

peer_kernel_proto() {
  case $1 in bird) echo bird ;; frr) echo bgp ;; *) echo none ;; esac
}

# peer_not_established KIND NS PEER_ADDR: 0 if the session is known and not Established.
peer_not_established() {
  local s
  s=$(peer_state "$1" "$2" "$3")
  [ -n "$s" ] && [ "$s" != Established ] && [ "$s" != 6 ]
}
