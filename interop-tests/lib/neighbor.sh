# shellcheck shell=bash
# The neighbour spec shared by bird.sh, frr.sh and gobgp.sh:
#
#   "ADDRESS AS [option ...]"
#
# options:  passive            only accept the peer's connection
#           multihop[=N]       eBGP multihop (TTL N, default 2); for iBGP: not a direct neighbour
#           rr_client          the neighbour is our route reflector client
#           addpath[=rx|tx|both]  ADD-PATH (default both) on every family of the session
#           gr                 graceful restart on this session
#           password=P         TCP MD5 (RFC 2385)
#           families=ipv4,ipv6 address families (default: the family of ADDRESS)
#           local=ADDR         source address
#           hold=N             hold time (s)
#           extnh              extended next hop (RFC 8950: IPv4 NLRI over an IPv6 session)
#           iface=IF           interface (for fe80:: neighbours)
#           nh6=ADDR           IPv6 next hop to send for ipv6 over an IPv4 session (BIRD)
#           maxpfx=N           bgpd only: max_prefixes.limit (Cease/1 when exceeded)
#           desc=TEXT          bgpd only: description (no spaces)
#           gtsm               bgpd and BIRD only: GTSM (RFC 5082): bgpd `ttl_security: true`,
#                              BIRD `ttl security yes`
#
# nbr_parse SPEC sets NBR_ADDR NBR_AS NBR_PASSIVE NBR_MULTIHOP NBR_RR_CLIENT NBR_ADDPATH NBR_GR
# NBR_PASSWORD NBR_FAMILIES NBR_LOCAL NBR_HOLD NBR_EXTNH NBR_IFACE NBR_NH6 NBR_IS_V6 NBR_MAXPFX
# NBR_DESC NBR_GTSM.
nbr_parse() {
  local opt
  # shellcheck disable=SC2086
  set -- $1
  NBR_ADDR=$1 NBR_AS=$2
  shift 2 || { echo "nbr_parse: need 'ADDRESS AS [options]'" >&2; return 1; }
  NBR_PASSIVE=0 NBR_MULTIHOP="" NBR_RR_CLIENT=0 NBR_ADDPATH="" NBR_GR=0 NBR_PASSWORD=""
  NBR_FAMILIES="" NBR_LOCAL="" NBR_HOLD="" NBR_EXTNH=0 NBR_IFACE="" NBR_NH6=""
  NBR_MAXPFX="" NBR_DESC="" NBR_GTSM=0
  case $NBR_ADDR in *:*) NBR_IS_V6=1 ;; *) NBR_IS_V6=0 ;; esac
  for opt in "$@"; do
    case $opt in
      passive) NBR_PASSIVE=1 ;;
      multihop) NBR_MULTIHOP=2 ;;
      multihop=*) NBR_MULTIHOP=${opt#*=} ;;
      rr_client) NBR_RR_CLIENT=1 ;;
      addpath) NBR_ADDPATH=both ;;
      addpath=*) NBR_ADDPATH=${opt#*=} ;;
      gr) NBR_GR=1 ;;
      password=*) NBR_PASSWORD=${opt#*=} ;;
      families=*) NBR_FAMILIES=${opt#*=} ;;
      local=*) NBR_LOCAL=${opt#*=} ;;
      hold=*) NBR_HOLD=${opt#*=} ;;
      extnh) NBR_EXTNH=1 ;;
      iface=*) NBR_IFACE=${opt#*=} ;;
      nh6=*) NBR_NH6=${opt#*=} ;;
      maxpfx=*) NBR_MAXPFX=${opt#*=} ;;
      desc=*) NBR_DESC=${opt#*=} ;;
      gtsm) NBR_GTSM=1 ;;
      *) echo "nbr_parse: unknown option '$opt' in '$*'" >&2; return 1 ;;
    esac
  done
  if [ -z "$NBR_FAMILIES" ]; then
    if [ "$NBR_IS_V6" = 1 ]; then NBR_FAMILIES=ipv6; else NBR_FAMILIES=ipv4; fi
  fi
  NBR_FAMILIES=${NBR_FAMILIES//,/ }
}

# nbr_has_family FAMILY: is FAMILY in NBR_FAMILIES?
nbr_has_family() { case " $NBR_FAMILIES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# _prefix_family PREFIX -> ipv4|ipv6
_prefix_family() { case $1 in *:*) echo ipv6 ;; *) echo ipv4 ;; esac; }

# _peer_proto_name ADDRESS -> a protocol name usable by BIRD ("n_198_18_1_2").
_peer_proto_name() { local a=${1//[.:]/_}; echo "n_${a//%/_}"; }
