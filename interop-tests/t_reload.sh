#!/usr/bin/env bash
# Config reload without disturbing the sessions that did not change:
#   bird (BIRD, AS 65002) --eBGP-- A (bgpd, AS 64512) --eBGP-- frr (FRR, AS 65003)
#                                    \--eBGP-- gobgp (GoBGP, AS 65004, added by the reload)
# 1. A originates 198.19.1.0/24 and 198.19.10.0/24; BIRD and FRR up with those routes.
# 2. New config: GoBGP neighbour added, 198.19.10.0/24 replaced by 198.19.11.0/24;
#    `bgpctl reload` exits 0; GoBGP Established on both sides; BIRD and FRR (tables and
#    kernels) get .11 and lose .10; A's blackholes follow; the BIRD and FRR sessions did not
#    flap: BIRD `show protocols` Since unchanged, FRR `show bgp summary json`
#    connectionsEstablished unchanged and peerUptimeEstablishedEpoch unchanged (+-2 s),
#    bgpd's established_count still 1.
# 3. Broken configs are rejected with their line number (`bgpctl reload` non-zero, stderr
#    names bgpd.yaml:LINE; `bgpd --check` exit 1 with file:line:col; SIGHUP), and the old
#    config keeps running: sessions, routes, no flap.
# 4. local_as changed (BIRD told the new one): every session reset, BIRD gets the
#    routes with AS_PATH 64513; FRR, still expecting 64512, is not Established.
# timeout: 180
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); B=$(node_add bird); F=$(node_add frr); G=$(node_add gobgp)
link_add "$A" "$B" >/dev/null; link_add "$A" "$F" >/dev/null; link_add "$A" "$G" >/dev/null
b=198.18.1.2 f=198.18.2.2 g=198.18.3.2
conf="$TEST_DIR/$A/bgpd.yaml"

bgpd_write_config "$conf" 198.18.1.1 64512 --neighbor "$b 65002" --neighbor "$f 65003" \
  --originate 198.19.1.0/24 --originate 198.19.10.0/24
start_bgpd "$A" "$conf" || fail "bgpd did not start"
bird_start "$B" "$b" 65002 --neighbor "198.18.1.1 64512"
frr_start "$F" "$f" 65003 --neighbor "198.18.2.1 64512"
gobgp_start "$G" "$g" 65004 --neighbor "198.18.3.1 64512"

wait_until 60 bgpd_established "$A" "$b"
wait_until 60 bgpd_established "$A" "$f"
wait_until 30 bird_established "$B" 198.18.1.1
wait_until 30 frr_established "$F" 198.18.2.1
wait_route_via 30 "$B" 198.19.10.0/24 198.18.1.1
wait_route_via 30 "$F" 198.19.10.0/24 198.18.2.1

bird_mark=$(bird_since "$B" 198.18.1.1)
frr_conns=$(frr_connections "$F" 198.18.2.1)
frr_epoch=$(frr_uptime_epoch "$F" 198.18.2.1)
no_flap() {
  bird_same_since "$bird_mark" "$(bird_since "$B" 198.18.1.1)" || fail "BIRD's Since for bgpd ($1): moved from $bird_mark to $(bird_since "$B" 198.18.1.1) (session re-established)"
  assert_eq "$frr_conns" "$(frr_connections "$F" 198.18.2.1)" "FRR's connectionsEstablished ($1)"
  local e; e=$(frr_uptime_epoch "$F" 198.18.2.1)
  [ $(( e - frr_epoch )) -le 2 ] && [ $(( frr_epoch - e )) -le 2 ] ||
    fail "FRR's peerUptimeEstablishedEpoch moved from $frr_epoch to $e ($1)"
  assert_eq 1 "$(bgpd_nbr_field "$A" "$b" .established_count)" "bgpd's established_count for BIRD ($1)"
  assert_eq 1 "$(bgpd_nbr_field "$A" "$f" .established_count)" "bgpd's established_count for FRR ($1)"
  bird_established "$B" 198.18.1.1 || fail "BIRD's session not Established ($1)"
  frr_established "$F" 198.18.2.1 || fail "FRR's session not Established ($1)"
}
sleep 3   # so that a reset would show in the uptimes

harness_log "reload: add the GoBGP neighbour, replace 198.19.10.0/24 by 198.19.11.0/24"
bgpd_write_config "$conf" 198.18.1.1 64512 --neighbor "$b 65002" --neighbor "$f 65003" \
  --neighbor "$g 65004" --originate 198.19.1.0/24 --originate 198.19.11.0/24
out=$(bgpctl_in "$A" reload 2>&1) || fail "bgpctl reload of a valid config failed: $out"
wait_until 60 bgpd_established "$A" "$g"
wait_until 30 gobgp_established "$G" 198.18.3.1
wait_until 30 gobgp_has_route "$G" 198.19.11.0/24
assert_not gobgp_has_route "$G" 198.19.10.0/24
wait_route_via 30 "$B" 198.19.11.0/24 198.18.1.1
wait_no_route 30 "$B" 198.19.10.0/24
assert_not bird_has_route "$B" 198.19.10.0/24
wait_route_via 30 "$F" 198.19.11.0/24 198.18.2.1
wait_no_route 30 "$F" 198.19.10.0/24
assert_not frr_has_route "$F" 198.19.10.0/24
_blackhole() { [ "$(ip -n "$1" -j route show exact "$2" | jq -r '.[0].type // empty')" = blackhole ]; }
wait_until 10 _blackhole "$A" 198.19.11.0/24
wait_no_route 10 "$A" 198.19.10.0/24
no_flap "after adding a neighbour and changing originate"

harness_log "broken config: unknown field at a known line"
good=$(cat "$conf")
printf '%s\n' "$good" >"$conf"
echo "no_such_field: 1" >>"$conf"
bad_line=$(wc -l <"$conf")
if out=$(bgpctl_in "$A" reload 2>&1); then fail "reload of a config with an unknown field succeeded: $out"; fi
assert_contains "$out" "bgpd.yaml:$bad_line" "bgpctl reload error"
assert_contains "$out" "no_such_field" "bgpctl reload error"
if out=$(ip netns exec "$A" "$BGPD_BIN" --check "$conf" 2>&1); then fail "bgpd --check accepted the broken config"; fi
assert_contains "$out" "$conf:$bad_line:" "bgpd --check error"

harness_log "broken config: invalid value at a known line"
printf '%s\n' "$good" | awk '{print} /^  - address: "198.18.2.2"$/ {print "    hold_time: 2"}' >"$conf"
bad_line=$(grep -n '^    hold_time: 2$' "$conf" | cut -d: -f1)
[ -n "$bad_line" ] || fail "test bug: could not place hold_time in $conf"
if out=$(bgpctl_in "$A" reload 2>&1); then fail "reload with hold_time 2 succeeded: $out"; fi
assert_contains "$out" "bgpd.yaml:$bad_line" "bgpctl reload error"
assert_contains "$out" "hold_time" "bgpctl reload error"
# The same through SIGHUP: rejected, logged, bgpd keeps running.
kill -HUP "$(bgpd_pid "$A")"
sleep 2
bgpd_alive "$A" || fail "bgpd exited after SIGHUP with a broken config"
bgpd_log_has "$A" "bgpd.yaml:$bad_line" || fail "bgpd's log does not name bgpd.yaml:$bad_line after SIGHUP"

harness_log "the old config keeps running"
printf '%s\n' "$good" >"$conf"
bgpd_established "$A" "$g" || fail "the GoBGP session went down after a rejected reload"
assert_route_via "$B" 198.19.11.0/24 198.18.1.1
assert_route_via "$F" 198.19.11.0/24 198.18.2.1
no_flap "after rejected reloads"
# And a valid reload of an unchanged config touches nothing.
out=$(bgpctl_in "$A" reload 2>&1) || fail "bgpctl reload of the unchanged config failed: $out"
sleep 2
no_flap "after reloading an unchanged config"

harness_log "local_as 64512 -> 64513: every session reset, routes exported with the new AS"
sed -i 's/^  neighbor 198.18.1.1 as 64512;/  neighbor 198.18.1.1 as 64513;/' "$TEST_DIR/$B/bird.conf"
bird_restart "$B"
sed -i 's/^local_as: 64512$/local_as: 64513/' "$conf"
out=$(bgpctl_in "$A" reload 2>&1) || fail "bgpctl reload with a new local_as failed: $out"
assert_contains "$out" "local_as" "reload result"
wait_until 60 bird_established "$B" 198.18.1.1
wait_route_via 30 "$B" 198.19.11.0/24 198.18.1.1
_bird_sees_new_as() {
  birdc_in "$B" show route 198.19.11.0/24 all | grep -qE 'BGP.as_path: 64513$'
}
wait_until 10 _bird_sees_new_as
# The FRR side still expects AS 64512: it refuses the new OPEN, so bgpd must not be
# Established with it.
wait_until 30 _negate bgpd_established "$A" "$f"
echo "reload OK"
