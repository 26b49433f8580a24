#!/usr/bin/env bash
# A node's IPv6 Pod CIDR over IPv4 sessions (examples/full-mesh-node.yaml), issue 16:
#   birdb (BIRD, AS 64512) --IPv4 session, ipv4+ipv6-- A (bgpd, AS 64512) --same-- birdc
# A's link to birdb has a global IPv6 address, its link to birdc has none.
# Checks: birdb gets A's IPv6 Pod CIDR with A's IPv6 address on that link as next hop (and
# the IPv4 one); birdc gets the IPv4 one only, and bgpd says why the IPv6 one is missing
# (log line and bgpd_next_hop_missing_total); after `next_hop_v6` is configured for birdc and
# the config reloaded, birdc gets it with that next hop.
# timeout: 120
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); B=$(node_add birdb); C=$(node_add birdc)
kb=$(link_add "$A" "$B"); kc=$(link_add "$A" "$C")
ip -n "$A" addr del "2001:db8:$kc::1/64" dev "$(ifname "$A" "$C")"
b=198.18.$kb.2 c=198.18.$kc.2
v4=198.19.1.0/24 v6=2001:db8:19:1::/64
conf="$TEST_DIR/$A/bgpd.yaml"
bgpd_write_config "$conf" "198.18.$kb.1" 64512 --http-listen 127.0.0.1:9179 \
  --originate "$v4" --originate "$v6" \
  --neighbor "$b 64512 families=ipv4,ipv6" --neighbor "$c 64512 families=ipv4,ipv6"
start_bgpd "$A" "$conf" || fail "bgpd did not start"
bird_start "$B" "$b" 64512 --neighbor "198.18.$kb.1 64512 families=ipv4,ipv6 nh6=2001:db8:$kb::2"
bird_start "$C" "$c" 64512 --neighbor "198.18.$kc.1 64512 families=ipv4,ipv6 nh6=2001:db8:$kc::2"
wait_until 60 bgpd_established "$A" "$b"; wait_until 60 bgpd_established "$A" "$c"

harness_log "IPv6 Pod CIDR over IPv4: next hop from the session's interface"
wait_route_via 30 "$B" "$v4" "198.18.$kb.1"
wait_route_via 30 "$B" "$v6" "2001:db8:$kb::1"

harness_log "no IPv6 address beside the session: not sent, and said so"
wait_route_via 30 "$C" "$v4" "198.18.$kc.1"
wait_until 10 bgpd_log_has "$A" "no next hop of this family on the session.*$c|$c.*no next hop of this family"
holds_for 3 _negate bird_has_route "$C" "$v6"
missing=$(ip netns exec "$A" curl -s -m 5 http://127.0.0.1:9179/metrics |
  awk -v n="\"$c\"" '$1 ~ /^bgpd_next_hop_missing_total/ && index($1, n) && index($1, "ipv6_unicast") { print $2 }')
assert_eq 1 "${missing:-0}" "bgpd_next_hop_missing_total for $c, ipv6_unicast"

harness_log "next_hop_v6 configured for birdc: sent with it"
sed -i "/^  - address: \"$c\"$/a\\    next_hop_v6: \"2001:db8:$kc::1\"" "$conf"
grep -q "next_hop_v6" "$conf" || fail "could not add next_hop_v6 to $conf"
bgpctl_in "$A" reload >/dev/null || fail "reload with next_hop_v6 failed"
_nh_is() { [ "$(bird_route_nexthops "$1" "$2")" = "$3" ]; }
wait_until 60 _nh_is "$C" "$v6" "2001:db8:$kc::1"
echo "dual-stack next hop OK"
