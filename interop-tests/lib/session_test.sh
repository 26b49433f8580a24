# shellcheck shell=bash
# The body of t_session_bird / t_session_frr / t_session_gobgp: bgpd against one kind of peer.
#
#   E (peer, AS 65002) ==eBGP v4 + v6== A (bgpd, AS 64512) ==iBGP v4 + v6== I (peer, AS 64512)
#   A originates 198.19.1.0/24, 2001:db8:ff01::/48; E 198.19.2.0/24, 2001:db8:ff02::/48;
#   I 198.19.3.0/24, 2001:db8:ff03::/48. Hold time 9 s everywhere.
#
# 1. all four sessions Established on both sides (bgpctl and the peer's own CLI);
# 2. routes in both directions: the peers' BGP tables and kernels (BIRD, FRR) and bgpd's
#    kernel (bgpd's proto 179 via the right next hop), A's own prefixes as blackholes in A;
#    E also gets I's prefix from A (iBGP-learned, re-advertised over eBGP, next hop A);
# 3. the sessions stay up for 15 s (> one hold time) without a flap on either side;
# 4. restarting E's daemon brings its sessions back (both sides) and its routes;
# 5. kill -9 bgpd: E and I notice (their sessions leave Established);
# 6. bgpd started again: every session Established again.
run_session_test() {
  local kind=$1
  local A E I p n
  A=$(node_add bgpd); E=$(node_add ebgp); I=$(node_add ibgp)
  link_add "$A" "$E" >/dev/null   # 198.18.1.0/24, 2001:db8:1::/64
  link_add "$A" "$I" >/dev/null   # 198.18.2.0/24, 2001:db8:2::/64
  local a_e4=198.18.1.1 a_e6=2001:db8:1::1 e4=198.18.1.2 e6=2001:db8:1::2
  local a_i4=198.18.2.1 a_i6=2001:db8:2::1 i4=198.18.2.2 i6=2001:db8:2::2
  local conf="$TEST_DIR/$A/bgpd.yaml"

  bgpd_write_config "$conf" 198.18.1.1 64512 \
    --neighbor "$e4 65002 hold=9" --neighbor "$e6 65002 hold=9" \
    --neighbor "$i4 64512 hold=9" --neighbor "$i6 64512 hold=9" \
    --originate 198.19.1.0/24 --originate 2001:db8:ff01::/48
  start_bgpd "$A" "$conf" || fail "bgpd did not start"
  peer_start "$kind" "$E" "$e4" 65002 \
    --neighbor "$a_e4 64512 hold=9" --neighbor "$a_e6 64512 hold=9" \
    --originate 198.19.2.0/24 --originate 2001:db8:ff02::/48
  peer_start "$kind" "$I" "$i4" 64512 \
    --neighbor "$a_i4 64512 hold=9" --neighbor "$a_i6 64512 hold=9" \
    --originate 198.19.3.0/24 --originate 2001:db8:ff03::/48

  harness_log "1. sessions Established on both sides"
  for p in "$e4" "$e6" "$i4" "$i6"; do wait_until 60 bgpd_established "$A" "$p"; done
  for p in "$a_e4" "$a_e6"; do wait_until 30 peer_established "$kind" "$E" "$p"; done
  for p in "$a_i4" "$a_i6"; do wait_until 30 peer_established "$kind" "$I" "$p"; done

  harness_log "2. routes: peers' tables and kernels, bgpd's kernel"
  local ll_e ll_i
  ll_e=$(linklocal6 "$E" "$(ifname "$E" "$A")"); ll_i=$(linklocal6 "$I" "$(ifname "$I" "$A")")
  wait_bgpd_route 30 "$A" 198.19.2.0/24 "$e4"
  wait_bgpd_route 30 "$A" 198.19.3.0/24 "$i4"
  wait_route_via_any 30 "$A" 2001:db8:ff02::/48 "$e6" "$ll_e"
  wait_route_via_any 30 "$A" 2001:db8:ff03::/48 "$i6" "$ll_i"
  assert_contains " $BGPD_KERNEL_PROTOS " " $(kernel_route_protocol "$A" 2001:db8:ff02::/48) " "protocol of bgpd's IPv6 route"
  assert_eq blackhole "$(ip -n "$A" -j route show exact 198.19.1.0/24 | jq -r '.[0].type // empty')" "A's own Pod CIDR in A's kernel"
  assert_eq "65002" "$(bgpd_route_json "$A" 198.19.2.0/24 | jq -r '.[0].paths[0].as_path')" "AS_PATH bgpd shows for E's prefix"

  wait_until 30 peer_has_route "$kind" "$E" 198.19.1.0/24
  wait_until 30 peer_has_route "$kind" "$E" 2001:db8:ff01::/48
  wait_until 30 peer_has_route "$kind" "$E" 198.19.3.0/24
  wait_until 30 peer_has_route "$kind" "$I" 198.19.1.0/24
  wait_until 30 peer_has_route "$kind" "$I" 2001:db8:ff01::/48
  assert_contains "$(peer_route_nexthops "$kind" "$E" 198.19.1.0/24)" "$a_e4" "E's BGP next hop for A's prefix"
  assert_contains "$(peer_route_nexthops "$kind" "$E" 198.19.3.0/24)" "$a_e4" "E's next hop for I's prefix (eBGP: next hop self)"
  assert_contains "$(peer_route_nexthops "$kind" "$I" 198.19.1.0/24)" "$a_i4" "I's BGP next hop for A's prefix"
  if peer_installs_routes "$kind"; then
    local ll_ae ll_ai
    ll_ae=$(linklocal6 "$A" "$(ifname "$A" "$E")"); ll_ai=$(linklocal6 "$A" "$(ifname "$A" "$I")")
    wait_route_via 30 "$E" 198.19.1.0/24 "$a_e4"
    wait_route_via 30 "$E" 198.19.3.0/24 "$a_e4"
    wait_route_via 30 "$I" 198.19.1.0/24 "$a_i4"
    wait_route_via_any 30 "$E" 2001:db8:ff01::/48 "$a_e6" "$ll_ae"
    wait_route_via_any 30 "$I" 2001:db8:ff01::/48 "$a_i6" "$ll_ai"
    assert_eq "$(peer_kernel_proto "$kind")" "$(kernel_route_protocol "$E" 198.19.1.0/24)" "protocol in E's kernel"
  fi

  harness_log "3. no flap for 15 s (hold time 9 s)"
  local -A mark
  for p in "$a_e4" "$a_e6"; do mark[$p]=$(peer_flap_marker "$kind" "$E" "$p"); done
  for p in "$a_i4" "$a_i6"; do mark[$p]=$(peer_flap_marker "$kind" "$I" "$p"); done
  _all_up() {
    local q
    for q in "$e4" "$e6" "$i4" "$i6"; do bgpd_established "$A" "$q" || return 1; done
    for q in "$a_e4" "$a_e6"; do peer_established "$kind" "$E" "$q" || return 1; done
    for q in "$a_i4" "$a_i6"; do peer_established "$kind" "$I" "$q" || return 1; done
  }
  holds_for 15 _all_up
  local now
  for p in "$a_e4" "$a_e6" "$a_i4" "$a_i6"; do
    case $p in "$a_e4"|"$a_e6") n=$E ;; *) n=$I ;; esac
    now=$(peer_flap_marker "$kind" "$n" "$p")
    peer_same_marker "$kind" "${mark[$p]}" "$now" ||
      fail "the peer's session to $p was re-established: marker '${mark[$p]}' -> '$now'"
  done
  for p in "$e4" "$e6" "$i4" "$i6"; do
    assert_eq 1 "$(bgpd_nbr_field "$A" "$p" .established_count)" "bgpd's established_count for $p"
  done

  harness_log "4. restart E's daemon: sessions and routes come back"
  peer_restart "$kind" "$E"
  for p in "$a_e4" "$a_e6"; do wait_until 60 peer_established "$kind" "$E" "$p"; done
  for p in "$e4" "$e6"; do
    wait_until 30 bgpd_established "$A" "$p"
    assert_eq 2 "$(bgpd_nbr_field "$A" "$p" .established_count)" "bgpd's established_count for $p after E restarted"
  done
  wait_bgpd_route 30 "$A" 198.19.2.0/24 "$e4"
  wait_until 30 peer_has_route "$kind" "$E" 198.19.1.0/24

  harness_log "5. kill -9 bgpd: the peers notice"
  stop_bgpd "$A" KILL
  for p in "$a_e4" "$a_e6"; do wait_until 20 peer_not_established "$kind" "$E" "$p"; done
  for p in "$a_i4" "$a_i6"; do wait_until 20 peer_not_established "$kind" "$I" "$p"; done

  harness_log "6. bgpd again: sessions back"
  bgpd_restart "$A" || fail "bgpd did not start again"
  for p in "$e4" "$e6" "$i4" "$i6"; do wait_until 60 bgpd_established "$A" "$p"; done
  for p in "$a_e4" "$a_e6"; do wait_until 30 peer_established "$kind" "$E" "$p"; done
  wait_bgpd_route 30 "$A" 198.19.2.0/24 "$e4"
  echo "session test against $kind OK"
}
