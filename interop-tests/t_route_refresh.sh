#!/usr/bin/env bash
# ROUTE-REFRESH (RFC 2918) with FRR, both directions, without a session reset:
#   A (bgpd, AS 64512, originates 198.19.1.0/24, http_listen 127.0.0.1:9179)
#     --eBGP-- F (FRR, AS 65003, originates 198.19.13.0/24)
# 0. Established on both sides, Route Refresh negotiated (FRR's neighbour JSON), routes both
#    ways (bgpd's RIB and kernel, FRR's table and kernel).
# a. FRR asks bgpd (`clear bgp * soft in`): FRR's routeRefreshSent and bgpd's
#    bgpd_messages_received_total{type="route_refresh"} go up; bgpd answers by re-sending its
#    routes (FRR's updatesRecv goes up); FRR still has 198.19.1.0/24.
# b. bgpd asks FRR (`bgpctl neighbor ADDR refresh`): FRR's routeRefreshRecv and bgpd's
#    bgpd_messages_sent_total{type="route_refresh"} go up; FRR re-sends (bgpd's
#    bgpd_messages_received_total{type="update"} goes up); bgpd still has 198.19.13.0/24.
# c. Enhanced Route Refresh negotiated (bgpd announces it): bgpd's answer in (a) was framed by
#    BoRR and EoRR (RFC 7313 §4; FRR's routeRefreshRecv went up by 2 during a).
# Neither step resets the session: FRR's connectionsEstablished and bgpd's established_count
# unchanged, no NOTIFICATION either way.
# timeout: 150
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); F=$(node_add frr)
link_add "$A" "$F" >/dev/null   # 198.18.1.1 (A) - 198.18.1.2 (F)
a=198.18.1.1 f=198.18.1.2
bgpd_write_config "$TEST_DIR/$A/bgpd.yaml" "$a" 64512 --http-listen 127.0.0.1:9179 \
  --neighbor "$f 65003" --originate 198.19.1.0/24
start_bgpd "$A" "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd did not start"
frr_start "$F" "$f" 65003 --neighbor "$a 64512" --originate 198.19.13.0/24

# metric NAME LABEL_REGEX -> the sum of the matching samples of bgpd's /metrics (0 if none).
metric() {
  ip netns exec "$A" curl -s -m 5 http://127.0.0.1:9179/metrics >"$TEST_DIR/metrics.txt" ||
    fail "GET /metrics failed"
  awk -v n="$1" -v l="$2" '
    $1 !~ /^#/ { name = $1; sub(/\{.*/, "", name)
                 if (name == n && $1 ~ l) s += $NF }
    END { printf "%.0f\n", s }' "$TEST_DIR/metrics.txt"
}
nb="neighbor=\"$f\""
rr_in() { metric bgpd_messages_received_total "$nb.*type=\"route_refresh\"|type=\"route_refresh\".*$nb"; }
rr_out() { metric bgpd_messages_sent_total "$nb.*type=\"route_refresh\"|type=\"route_refresh\".*$nb"; }
upd_in() { metric bgpd_messages_received_total "$nb.*type=\"update\"|type=\"update\".*$nb"; }
# frr_nbr NS PEER JQ_PATH -> a field of FRR's `show bgp neighbors PEER json` object.
frr_nbr() { vtysh_in "$1" -c "show bgp neighbors $2 json" 2>/dev/null | jq -r --arg p "$2" ".[\$p]$3 // empty"; }
gt() { [ "$("${@:3}")" -gt "$2" ] 2>/dev/null; }   # gt _ OLD CMD...: CMD prints more than OLD

harness_log "0. Established, Route Refresh negotiated, routes both ways"
wait_until 60 bgpd_established "$A" "$f"
wait_until 30 frr_established "$F" "$a"
wait_bgpd_route 30 "$A" 198.19.13.0/24 "$f"
wait_route_via 30 "$F" 198.19.1.0/24 "$a"
vtysh_in "$F" -c "show bgp neighbors $a json" >"$TEST_DIR/frr-neighbor-before.json" 2>/dev/null
rr_cap=$(frr_nbr "$F" "$a" '.neighborCapabilities.routeRefresh')
case $rr_cap in
  *advertisedAndReceived*) ;;
  *) fail "FRR: route refresh capability not advertised and received: '$rr_cap'" ;;
esac
sleep 2   # let the initial exchange finish, so that the counters below move only by the refresh
conns=$(frr_connections "$F" "$a")
count=$(bgpd_nbr_field "$A" "$f" .established_count)
no_reset() {
  assert_eq "$conns" "$(frr_connections "$F" "$a")" "FRR's connectionsEstablished ($1)"
  assert_eq "$count" "$(bgpd_nbr_field "$A" "$f" .established_count)" "bgpd's established_count ($1)"
  frr_established "$F" "$a" || fail "FRR's session to bgpd not Established ($1)"
  bgpd_established "$A" "$f" || fail "bgpd's session to FRR not Established ($1)"
  assert_eq 0 "$(frr_nbr "$F" "$a" .messageStats.notificationsSent)" "FRR's notificationsSent ($1)"
  assert_eq 0 "$(frr_nbr "$F" "$a" .messageStats.notificationsRecv)" "FRR's notificationsRecv ($1)"
  bgpd_has_route "$A" 198.19.13.0/24 || fail "bgpd lost FRR's 198.19.13.0/24 ($1)"
  assert_route_via "$A" 198.19.13.0/24 "$f"
  frr_has_route "$F" 198.19.1.0/24 || fail "FRR lost bgpd's 198.19.1.0/24 ($1)"
  assert_route_via "$F" 198.19.1.0/24 "$a"
}

harness_log "a. FRR asks bgpd: clear bgp * soft in"
frr_rr_sent=$(frr_nbr "$F" "$a" .messageStats.routeRefreshSent)
frr_upd_recv=$(frr_nbr "$F" "$a" .messageStats.updatesRecv)
frr_rr_recv_a=$(frr_nbr "$F" "$a" .messageStats.routeRefreshRecv)
bgpd_rr_in=$(rr_in)
[ -n "$frr_rr_sent" ] && [ -n "$frr_upd_recv" ] ||
  fail "FRR's neighbour JSON has no messageStats.routeRefreshSent / updatesRecv (see $TEST_DIR/frr-neighbor-before.json)"
vtysh_in "$F" -c 'clear bgp * soft in' >/dev/null
wait_until 15 gt _ "$frr_rr_sent" frr_nbr "$F" "$a" .messageStats.routeRefreshSent
wait_until 15 gt _ "$bgpd_rr_in" rr_in
harness_log "bgpd route_refresh received: $bgpd_rr_in -> $(rr_in)"
eventually 15 gt _ "$frr_upd_recv" frr_nbr "$F" "$a" .messageStats.updatesRecv ||
  fail "bgpd did not re-send its routes after FRR's ROUTE-REFRESH: FRR's updatesRecv stayed $frr_upd_recv"
harness_log "FRR updatesRecv: $frr_upd_recv -> $(frr_nbr "$F" "$a" .messageStats.updatesRecv)"
sleep 1
no_reset "after FRR's refresh request"
# What bgpd sent FRR around its answer (BoRR/EoRR, step c).
frr_rr_recv_a=$(( $(frr_nbr "$F" "$a" .messageStats.routeRefreshRecv) - frr_rr_recv_a ))

harness_log "b. bgpd asks FRR: bgpctl neighbor $f refresh"
frr_rr_recv=$(frr_nbr "$F" "$a" .messageStats.routeRefreshRecv)
[ -n "$frr_rr_recv" ] || fail "FRR's neighbour JSON has no messageStats.routeRefreshRecv"
bgpd_rr_out=$(rr_out)
bgpd_upd_in=$(upd_in)
out=$(bgpctl_in "$A" neighbor "$f" refresh 2>&1) ||
  fail "bgpctl neighbor $f refresh failed: $out"
wait_until 15 gt _ "$frr_rr_recv" frr_nbr "$F" "$a" .messageStats.routeRefreshRecv
harness_log "FRR routeRefreshRecv: $frr_rr_recv -> $(frr_nbr "$F" "$a" .messageStats.routeRefreshRecv)"
wait_until 15 gt _ "$bgpd_rr_out" rr_out
eventually 15 gt _ "$bgpd_upd_in" upd_in ||
  fail "FRR did not re-send its routes after bgpd's ROUTE-REFRESH: bgpd's update counter stayed $bgpd_upd_in"
harness_log "bgpd updates received: $bgpd_upd_in -> $(upd_in)"
sleep 1
no_reset "after bgpd's refresh request"

harness_log "c. Enhanced Route Refresh: bgpd framed its answer in (a) with BoRR and EoRR"
# bgpd announces Enhanced Route Refresh (RFC 7313); once it is negotiated, RFC 7313 §4 has the
# speaker answering a refresh request send a BoRR before re-advertising and an EoRR after.
# FRR counts BoRR and EoRR in routeRefreshRecv.
err_cap=$(frr_nbr "$F" "$a" '.neighborCapabilities.enhancedRouteRefresh')
harness_log "FRR: enhancedRouteRefresh '$err_cap'; ROUTE-REFRESH messages FRR got from bgpd during (a): $frr_rr_recv_a"
case $err_cap in
  advertisedAndReceived)
    [ "$frr_rr_recv_a" -ge 2 ] ||
      fail "Enhanced Route Refresh negotiated, but bgpd sent FRR $frr_rr_recv_a ROUTE-REFRESH messages (BoRR + EoRR expected) while answering FRR's refresh request" ;;
  *) harness_log "Enhanced Route Refresh not negotiated: nothing to check" ;;
esac
echo "ROUTE-REFRESH OK"
