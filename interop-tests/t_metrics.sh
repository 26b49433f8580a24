#!/usr/bin/env bash
# Operator surface: every metric family of the contract (/work/notes/bgpctl-contract.md,
# docs/operations.md) is exported with real values once routes were exchanged, a NOTIFICATION
# went each way and one reload succeeded and one failed; /healthz and /readyz answer; every
# `bgpctl ... --json` output parses with jq and has the contract's fields.
#   bird (BIRD, AS 65002, originates 198.19.2.0/24, 198.19.20.0/24) --eBGP-- A (bgpd, AS 64512,
#   originates 198.19.1.0/24, http_listen 127.0.0.1:9179 inside its namespace)
# timeout: 150
set -euo pipefail
source "$(dirname "$0")/lib/all.sh"
harness_init

A=$(node_add bgpd); B=$(node_add bird)
link_add "$A" "$B" >/dev/null
b=198.18.1.2
conf="$TEST_DIR/$A/bgpd.yaml"
bgpd_write_config "$conf" 198.18.1.1 64512 --http-listen 127.0.0.1:9179 \
  --neighbor "$b 65002 desc=bird-peer" --originate 198.19.1.0/24
start_bgpd "$A" "$conf" || fail "bgpd did not start"
bird_start "$B" "$b" 65002 --neighbor "198.18.1.1 64512" \
  --originate 198.19.2.0/24 --originate 198.19.20.0/24
wait_until 60 bgpd_established "$A" "$b"
wait_until 30 bird_established "$B" 198.18.1.1
wait_bgpd_route 30 "$A" 198.19.2.0/24 "$b"
wait_bgpd_route 30 "$A" 198.19.20.0/24 "$b"
wait_route_via 30 "$B" 198.19.1.0/24 198.18.1.1

http() { ip netns exec "$A" curl -s -m 5 -o "$TEST_DIR/http.body" -w '%{http_code}' "http://127.0.0.1:9179$1"; }

harness_log "a NOTIFICATION each way, one good and one bad reload"
bgpctl_in "$A" neighbor "$b" reset >/dev/null || fail "bgpctl neighbor $b reset failed"
wait_until 60 bgpd_established "$A" "$b"
birdc_in "$B" restart "$(_peer_proto_name 198.18.1.1)" >/dev/null
sleep 1
wait_until 60 bgpd_established "$A" "$b"
wait_bgpd_route 30 "$A" 198.19.2.0/24 "$b"
bgpctl_in "$A" reload >/dev/null 2>&1 || fail "bgpctl reload of the unchanged config failed"
cp "$conf" "$conf.good"; echo "bogus: 1" >>"$conf"
if bgpctl_in "$A" reload >/dev/null 2>&1; then fail "a broken config was accepted"; fi
cp "$conf.good" "$conf"
sleep 2

harness_log "/metrics"
code=$(http /metrics) || fail "GET /metrics failed (is http_listen served?)"
assert_eq 200 "$code" "GET /metrics status"
M=$(cat "$TEST_DIR/http.body"); cp "$TEST_DIR/http.body" "$TEST_DIR/metrics.txt"
# metric NAME [LABEL_REGEX] -> the sum of the matching samples; fails if there is none.
metric() {
  local v
  v=$(awk -v n="$1" -v l="${2:-}" '
    $1 !~ /^#/ { name = $1; sub(/\{.*/, "", name)
                 if (name == n && (l == "" || tolower($1) ~ tolower(l))) { s += $NF; c++ } }
    END { if (c) printf "%.0f\n", s }' <<<"$M")
  [ -n "$v" ] || fail "/metrics has no sample of $1${2:+ matching $2} (see $TEST_DIR/metrics.txt)"
  echo "$v"
}
ge() { [ "$2" -ge "$3" ] || fail "metric $1 = $2, expected >= $3"; }
nb="neighbor=\"$b\""
assert_eq 6 "$(metric bgpd_neighbor_state "$nb")" "bgpd_neighbor_state{$nb} (6 = Established)"
assert_eq 1 "$(metric bgpd_neighbor_up "$nb")" "bgpd_neighbor_up{$nb}"
ge bgpd_neighbor_uptime_seconds "$(metric bgpd_neighbor_uptime_seconds "$nb")" 1
for t in open update keepalive notification; do
  ge "bgpd_messages_received_total{type=$t}" "$(metric bgpd_messages_received_total "type=\"$t\"")" 1
done
for t in open update keepalive notification; do
  ge "bgpd_messages_sent_total{type=$t}" "$(metric bgpd_messages_sent_total "type=\"$t\"")" 1
done
ge bgpd_updates_received_total "$(metric bgpd_updates_received_total)" 1
ge bgpd_updates_sent_total "$(metric bgpd_updates_sent_total)" 1
assert_eq 2 "$(metric bgpd_prefixes_received "$nb")" "bgpd_prefixes_received{$nb}"
assert_eq 2 "$(metric bgpd_prefixes_accepted "$nb")" "bgpd_prefixes_accepted{$nb}"
ge "bgpd_prefixes_advertised{$nb}" "$(metric bgpd_prefixes_advertised "$nb")" 1
ge "bgpd_notifications_sent_total{code=6}" "$(metric bgpd_notifications_sent_total 'code="6"')" 1
ge "bgpd_notifications_received_total{code=6}" "$(metric bgpd_notifications_received_total 'code="6"')" 1
ge "bgpd_rib_routes{table=loc}" "$(metric bgpd_rib_routes 'table="loc"')" 3
ge "bgpd_rib_routes{table=in}" "$(metric bgpd_rib_routes 'table="in"')" 2
ge bgpd_kernel_routes_installed "$(metric bgpd_kernel_routes_installed)" 2
assert_eq 0 "$(metric bgpd_kernel_route_failures_total)" "bgpd_kernel_route_failures_total"
metric bgpd_netlink_errors_total >/dev/null
ge "bgpd_config_reloads_total{result=success}" "$(metric bgpd_config_reloads_total 'result="success"')" 1
ge "bgpd_config_reloads_total{result=failure}" "$(metric bgpd_config_reloads_total 'result="failure"')" 1
# Prometheus text format: every family has # TYPE.
for fam in bgpd_neighbor_state bgpd_messages_received_total bgpd_rib_routes bgpd_config_reloads_total; do
  grep -q "^# TYPE $fam " <<<"$M" || fail "/metrics has no '# TYPE $fam' line"
done

harness_log "/healthz, /readyz"
assert_eq 200 "$(http /healthz)" "GET /healthz status"
assert_eq ok "$(tr -d '\n' <"$TEST_DIR/http.body")" "GET /healthz body"
assert_eq 200 "$(http /readyz)" "GET /readyz status (every neighbour Established, kernel in sync)"

harness_log "bgpctl --json"
j=$(bgpctl_in "$A" show neighbors --json) || fail "bgpctl show neighbors --json failed"
jq -e --arg b "$b" '.[] | select(.address == $b) | .remote_as == 65002 and .state == "Established"
  and .description == "bird-peer" and (.uptime_secs | type) == "number" and .established_count >= 1
  and .prefixes_received == 2 and .prefixes_accepted == 2 and .prefixes_advertised >= 1
  and has("last_error") and .admin_down == false' <<<"$j" >/dev/null ||
  fail "show neighbors --json lacks the contract's fields/values: $j"
j=$(bgpctl_in "$A" show neighbor "$b" --json) || fail "bgpctl show neighbor --json failed"
jq -e '.state == "Established" and (.negotiated | type) == "object"' <<<"$j" >/dev/null ||
  fail "show neighbor $b --json: expected state and a negotiated object: $j"
j=$(bgpctl_in "$A" show routes --json) || fail "bgpctl show routes --json failed"
jq -e '[.[].prefix] | index("198.19.1.0/24") != null and index("198.19.2.0/24") != null' <<<"$j" >/dev/null ||
  fail "show routes --json lacks 198.19.1.0/24 or 198.19.2.0/24: $j"
jq -e --arg b "$b" '.[] | select(.prefix == "198.19.2.0/24") | .paths[0] | .from == $b and .next_hop == $b
  and .as_path == "65002" and .origin != null and .best == true and .stale == false and has("local_pref")
  and has("med") and has("ecmp")' <<<"$j" >/dev/null ||
  fail "show routes --json: 198.19.2.0/24's path lacks the contract's fields: $j"
jq -e '.[] | select(.prefix == "198.19.1.0/24") | .paths[0].from == "local"' <<<"$j" >/dev/null ||
  fail "show routes --json: 198.19.1.0/24 should come from \"local\": $j"
j=$(bgpctl_in "$A" show routes 198.19.2.0/24 --explain --json) || fail "show routes PREFIX --explain --json failed"
jq -e 'length == 1 and .[0].prefix == "198.19.2.0/24"' <<<"$j" >/dev/null || fail "--explain output: $j"
j=$(bgpctl_in "$A" show routes --received-from "$b" --json) || fail "show routes --received-from failed"
assert_eq "198.19.2.0/24 198.19.20.0/24" "$(jq -r '[.[].prefix] | sort | join(" ")' <<<"$j")" "routes received from $b"
j=$(bgpctl_in "$A" show routes --advertised-to "$b" --json) || fail "show routes --advertised-to failed"
jq -e '[.[].prefix] | index("198.19.1.0/24") != null' <<<"$j" >/dev/null ||
  fail "show routes --advertised-to $b --json lacks 198.19.1.0/24: $j"
j=$(bgpctl_in "$A" show kernel --json) || fail "bgpctl show kernel --json failed"
jq -e --arg b "$b" '.[] | select(.prefix == "198.19.2.0/24")
  | (.next_hops | map(if type == "string" then . else .gateway end)) == [$b] and .blackhole == false' <<<"$j" >/dev/null ||
  fail "show kernel --json: 198.19.2.0/24 via $b expected: $j"
jq -e '.[] | select(.prefix == "198.19.1.0/24") | .blackhole == true' <<<"$j" >/dev/null ||
  fail "show kernel --json: 198.19.1.0/24 should be a blackhole: $j"
# The text forms work too.
bgpctl_in "$A" show neighbors | grep -q "$b" || fail "bgpctl show neighbors (text) does not list $b"
echo "metrics and bgpctl OK"
