#!/usr/bin/env bash
# TCP MD5 signatures (RFC 2385) with BIRD and FRR:
#   A (bgpd, AS 64512) peers with birdok (BIRD, right password), birdbad (BIRD, wrong password),
#   frrok (FRR, right password), frrbad (FRR, wrong password), each over its own link.
# bgpd is passive towards frrok, so that session can only come up through bgpd's listener
# (inbound MD5), the birdok one through either side.
# Checks: the right-password sessions are Established on both sides and exchange routes
# (peers' tables and kernels, bgpd's kernel); the wrong-password ones stay down for 20 s on
# both sides, bgpd reports why (last_error and a log line naming the neighbour); once BIRD's
# password is fixed its session comes up.
# timeout: 150
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); BO=$(node_add birdok); BB=$(node_add birdbad); FO=$(node_add frrok); FB=$(node_add frrbad)
for n in "$BO" "$BB" "$FO" "$FB"; do link_add "$A" "$n" >/dev/null; done
# links 1..4: A is 198.18.K.1, the peer 198.18.K.2
bgpd_write_config "$TEST_DIR/$A/bgpd.yaml" 198.18.1.1 64512 --originate 198.19.1.0/24 \
  --neighbor "198.18.1.2 65001 password=s3cret-bird" --neighbor "198.18.2.2 65002 password=s3cret-bird2" \
  --neighbor "198.18.3.2 65003 password=s3cret-frr passive" --neighbor "198.18.4.2 65004 password=s3cret-frr2"
start_bgpd "$A" "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd did not start"
bird_start "$BO" 198.18.1.2 65001 --neighbor "198.18.1.1 64512 password=s3cret-bird" --originate 198.19.11.0/24
bird_start "$BB" 198.18.2.2 65002 --neighbor "198.18.2.1 64512 password=wrong-one" --originate 198.19.12.0/24
frr_start "$FO" 198.18.3.2 65003 --neighbor "198.18.3.1 64512 password=s3cret-frr" --originate 198.19.13.0/24
frr_start "$FB" 198.18.4.2 65004 --neighbor "198.18.4.1 64512 password=wrong-two" --originate 198.19.14.0/24

harness_log "right passwords: up, routes exchanged"
wait_until 60 bgpd_established "$A" 198.18.1.2
wait_until 60 bgpd_established "$A" 198.18.3.2
wait_until 30 bird_established "$BO" 198.18.1.1
wait_until 30 frr_established "$FO" 198.18.3.1
wait_bgpd_route 30 "$A" 198.19.11.0/24 198.18.1.2
wait_bgpd_route 30 "$A" 198.19.13.0/24 198.18.3.2
wait_route_via 30 "$BO" 198.19.1.0/24 198.18.1.1
wait_route_via 30 "$FO" 198.19.1.0/24 198.18.3.1

harness_log "wrong passwords: down for 20 s on both sides"
_bad_down() {
  ! bgpd_established "$A" 198.18.2.2 && ! bgpd_established "$A" 198.18.4.2 &&
    ! bird_established "$BB" 198.18.2.1 && ! frr_established "$FB" 198.18.4.1
}
holds_for 20 _bad_down
assert_no_route "$A" 198.19.12.0/24
assert_no_route "$A" 198.19.14.0/24
assert_no_route "$BB" 198.19.1.0/24
for p in 198.18.2.2 198.18.4.2; do
  s=$(bgpd_state "$A" "$p"); [ -n "$s" ] || fail "bgpctl does not list $p"
  e=$(bgpd_nbr_field "$A" "$p" .last_error)
  [ -n "$e" ] || fail "bgpctl show neighbors: no last_error for $p (state $s)"
  harness_log "$p: state $s, last_error: $e"
  grep -E "$p" "$TEST_DIR/$A/bgpd.log" | grep -qiE 'md5|authenticat|password|signature|timed out|timeout|refused|reset|unreachable' ||
    fail "bgpd's log has no line saying why $p does not come up"
done
# The good sessions were not disturbed.
bgpd_established "$A" 198.18.1.2 || fail "the right-password BIRD session went down"
assert_eq 1 "$(bgpd_nbr_field "$A" 198.18.3.2 .established_count)" "established_count of the FRR session"

harness_log "BIRD's password fixed: up"
bird_set_password "$BB" 198.18.2.1 s3cret-bird2
bird_restart "$BB"
wait_until 60 bird_established "$BB" 198.18.2.1
wait_until 30 bgpd_established "$A" 198.18.2.2
wait_bgpd_route 30 "$A" 198.19.12.0/24 198.18.2.2
echo "MD5 OK"
