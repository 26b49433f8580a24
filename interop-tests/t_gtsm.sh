#!/usr/bin/env bash
# GTSM, the Generalized TTL Security Mechanism (RFC 5082), with BIRD:
#   A (bgpd, AS 64512) peers with good (BIRD, AS 65001, `ttl security yes`) and plain (BIRD,
#   AS 65002, no ttl security: it sends single-hop eBGP with TTL 1), each over its own link;
#   bgpd has `ttl_security: true` on both neighbours (TTL 255 out, IP_MINTTL 255 in).
# Checks: good is Established on both sides (BIRD enforces TTL 255 too, so this also shows
# that bgpd sends 255) and routes go both ways (bgpd's and BIRD's kernels); plain stays down
# on both sides for 20 s (bgpd drops its TTL-1 packets) and no route crosses, while the good
# session stays up without a flap; turning `ttl security` on in plain's BIRD brings it up.
# timeout: 150
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); G=$(node_add good); P=$(node_add plain)
link_add "$A" "$G" >/dev/null   # 198.18.1.1 (A) - 198.18.1.2 (good)
link_add "$A" "$P" >/dev/null   # 198.18.2.1 (A) - 198.18.2.2 (plain)
g=198.18.1.2 p=198.18.2.2
bgpd_write_config "$TEST_DIR/$A/bgpd.yaml" 198.18.1.1 64512 --originate 198.19.1.0/24 \
  --neighbor "$g 65001 gtsm" --neighbor "$p 65002 gtsm"
grep -q 'ttl_security: true' "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd_write_config wrote no ttl_security"
start_bgpd "$A" "$TEST_DIR/$A/bgpd.yaml" || fail "bgpd did not start"
bird_start "$G" "$g" 65001 --neighbor "198.18.1.1 64512 gtsm" --originate 198.19.11.0/24
bird_start "$P" "$p" 65002 --neighbor "198.18.2.1 64512" --originate 198.19.12.0/24

harness_log "GTSM on both sides: Established, routes both ways"
wait_until 60 bgpd_established "$A" "$g"
wait_until 30 bird_established "$G" 198.18.1.1
wait_bgpd_route 30 "$A" 198.19.11.0/24 "$g"
wait_route_via 30 "$G" 198.19.1.0/24 198.18.1.1
# Baseline for "the good session stays up", taken once start-up has settled: when both sides
# dial at the same moment, BIRD may take bgpd's discarded dial for a graceful restart and
# re-establish once, within about a second (a start-up race unrelated to GTSM).
sleep 3
wait_until 30 bgpd_established "$A" "$g"
wait_until 30 bird_established "$G" 198.18.1.1
mark=$(bird_since "$G" 198.18.1.1)
count=$(bgpd_nbr_field "$A" "$g" .established_count)

harness_log "BIRD without ttl security (TTL 1): down on both sides for 20 s, good session up"
# Polled every 0.5 s for 20 s; a violation names the side and both sides' states.
_states() { echo "plain: bgpd $(bgpd_state "$A" "$p"), BIRD $(bird_state "$P" 198.18.2.1); good: bgpd $(bgpd_state "$A" "$g"), BIRD $(bird_state "$G" 198.18.1.1)"; }
end=$((SECONDS + 20))
while [ "$SECONDS" -lt "$end" ]; do
  bgpd_established "$A" "$p" && fail "bgpd Established with plain (TTL 1) despite ttl_security ($(_states))"
  bird_established "$P" 198.18.2.1 &&
    fail "plain's BIRD reached Established: bgpd answered its OPEN sent with TTL 1 ($(_states))"
  bgpd_established "$A" "$g" || fail "bgpd's good session left Established ($(_states))"
  bird_established "$G" 198.18.1.1 || fail "good's BIRD session left Established ($(_states))"
  sleep 0.5
done
s=$(bgpd_state "$A" "$p"); [ -n "$s" ] || fail "bgpctl show neighbors does not list $p"
harness_log "bgpd's state for $p: $s (last_error: $(bgpd_nbr_field "$A" "$p" .last_error)); BIRD's: $(bird_state "$P" 198.18.2.1)"
assert_no_route "$A" 198.19.12.0/24
assert_no_route "$P" 198.19.1.0/24
bird_has_route "$P" 198.19.1.0/24 && fail "plain's BIRD learned 198.19.1.0/24 from bgpd"
assert_eq 0 "$(bgpd_route_paths "$A" 198.19.12.0/24)" "paths bgpd's RIB has for plain's prefix"
assert_eq "$count" "$(bgpd_nbr_field "$A" "$g" .established_count)" "bgpd's established_count for good"
bird_same_since "$mark" "$(bird_since "$G" 198.18.1.1)" ||
  fail "good's BIRD session to bgpd was re-established: Since $mark -> $(bird_since "$G" 198.18.1.1)"

harness_log "ttl security on in plain's BIRD: up"
conf="$TEST_DIR/$P/bird.conf"
awk '$1 == "protocol" && $2 == "bgp" { print; print "  ttl security yes;"; next } { print }' \
  "$conf" >"$conf.new" && mv "$conf.new" "$conf"
bird_restart "$P"
wait_until 60 bird_established "$P" 198.18.2.1
wait_until 30 bgpd_established "$A" "$p"
wait_bgpd_route 30 "$A" 198.19.12.0/24 "$p"
wait_route_via 30 "$P" 198.19.1.0/24 198.18.2.1
bgpd_established "$A" "$g" || fail "the good session went down"
echo "GTSM OK"
