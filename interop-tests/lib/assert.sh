# shellcheck shell=bash
# Assertions for interop tests. Every failure prints "FAIL: ..." with what was expected and
# what was seen, and exits the test with status 1 (the EXIT trap cleans up).
#
#   wait_until TIMEOUT_S CMD...         poll CMD every 0.2 s until it succeeds; fail on timeout
#   wait_while TIMEOUT_S CMD...         poll until CMD fails; fail on timeout
#   eventually TIMEOUT_S CMD...         like wait_until, but returns 1 instead of failing
#   assert_eq EXPECTED ACTUAL [WHAT]
#   assert_ne UNEXPECTED ACTUAL [WHAT]
#   assert_contains HAYSTACK NEEDLE [WHAT]
#   assert_cmd CMD...                   CMD must succeed now
#   assert_not CMD...                   CMD must fail now
#   assert_route_via NS PREFIX NEXTHOP  kernel route PREFIX in NS has NEXTHOP among its gateways
#   assert_no_route NS PREFIX           no kernel route for PREFIX in NS
#   wait_route_via TIMEOUT NS PREFIX NEXTHOP   wait for assert_route_via to hold
#   wait_no_route TIMEOUT NS PREFIX
#   wait_route_via_any TIMEOUT NS PREFIX NH...  wait for PREFIX via one of NH (IPv6: global or fe80)
#   wait_multipath TIMEOUT NS PREFIX NH...      wait until PREFIX has exactly these next hops
#   holds_for SECONDS CMD...            CMD must keep succeeding (polled every 0.5 s) for SECONDS
#   assert_ping NS ADDRESS [COUNT]      ping from NS succeeds
#   fail MESSAGE                        fail the test now
#   skip MESSAGE                        end the test as skipped (exit 77)

fail() {
  echo "FAIL: $*" >&2
  [ -n "${TEST_DIR:-}" ] && echo "      (logs and configs in $TEST_DIR)" >&2
  exit 1
}

skip() { echo "SKIP: $*" >&2; exit 77; }

# eventually TIMEOUT CMD...: 0 as soon as CMD succeeds, 1 after TIMEOUT seconds.
eventually() {
  local timeout=$1; shift
  local deadline=$(( $(date +%s%N) / 1000000 + ${timeout%.*} * 1000 ))
  while true; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ] && break
    sleep 0.2
  done
  "$@" >/dev/null 2>&1
}

wait_until() {
  local timeout=$1; shift
  local start=$SECONDS
  if eventually "$timeout" "$@"; then
    [ -n "${INTEROP_VERBOSE:-}" ] && echo "ok after $((SECONDS - start))s: $*" >&2
    return 0
  fi
  fail "timed out after ${timeout}s waiting for: $*"
}

wait_while() {
  local timeout=$1; shift
  eventually "$timeout" _negate "$@" || fail "timed out after ${timeout}s waiting for this to stop holding: $*"
}
_negate() { ! "$@"; }

assert_eq() {
  [ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

assert_ne() {
  [ "$1" != "$2" ] || fail "${3:-value}: expected anything but '$1'"
}

assert_contains() {
  case $1 in *"$2"*) return 0 ;; esac
  fail "${3:-text}: expected to contain '$2', got '$1'"
}

assert_cmd() { "$@" >/dev/null 2>&1 || fail "command failed: $*"; }
assert_not() { ! "$@" >/dev/null 2>&1 || fail "command unexpectedly succeeded: $*"; }

# route_has_nexthop NS PREFIX NEXTHOP: 0 if PREFIX's kernel route in NS uses NEXTHOP.
route_has_nexthop() {
  kernel_route_gateways "$1" "$2" | grep -qxF "$3"
}

route_exists() {
  local fam=-4
  case $2 in *:*) fam=-6 ;; esac
  [ "$(ip -n "$1" -j "$fam" route show exact "$2" 2>/dev/null | jq 'length')" -gt 0 ]
}

assert_route_via() {
  route_has_nexthop "$1" "$2" "$3" && return 0
  local fam=-4
  case $2 in *:*) fam=-6 ;; esac
  fail "route $2 in $1: expected via $3, kernel has: $(ip -n "$1" "$fam" route show exact "$2" 2>&1 | tr '\n' ';')"
}

assert_no_route() {
  route_exists "$1" "$2" || return 0
  local fam=-4
  case $2 in *:*) fam=-6 ;; esac
  fail "route $2 in $1: expected none, kernel has: $(ip -n "$1" "$fam" route show exact "$2" 2>&1 | tr '\n' ';')"
}

wait_route_via() {
  local t=$1; shift
  eventually "$t" route_has_nexthop "$@" || assert_route_via "$@"
}

wait_no_route() {
  local t=$1; shift
  eventually "$t" _negate route_exists "$@" || assert_no_route "$@"
}

assert_ping() {
  local n=$1 addr=$2 count=${3:-2}
  ip netns exec "$n" ping -q -n -c "$count" -i 0.2 -W 2 "$addr" >/dev/null 2>&1 ||
    fail "ping from $n to $addr failed"
}

_route_via_any() {
  local n=$1 p=$2 nh; shift 2
  for nh in "$@"; do route_has_nexthop "$n" "$p" "$nh" && return 0; done
  return 1
}

wait_route_via_any() {
  local t=$1 n=$2 p=$3; shift 3
  eventually "$t" _route_via_any "$n" "$p" "$@" && return 0
  local fam=-4
  case $p in *:*) fam=-6 ;; esac
  fail "route $p in $n: expected via one of [$*], kernel has: $(ip -n "$n" "$fam" route show exact "$p" 2>&1 | tr '\n' ';')"
}

# _route_nexthops_are NS PREFIX NH...: the sorted gateway set equals the given set.
_route_nexthops_are() {
  local n=$1 p=$2; shift 2
  [ "$(kernel_route_gateways "$n" "$p" | sort -u | tr '\n' ' ')" = "$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')" ]
}

wait_multipath() {
  local t=$1 n=$2 p=$3; shift 3
  eventually "$t" _route_nexthops_are "$n" "$p" "$@" && return 0
  local fam=-4
  case $p in *:*) fam=-6 ;; esac
  fail "route $p in $n: expected next hops [$*], kernel has: $(ip -n "$n" "$fam" route show exact "$p" 2>&1 | tr '\n' ';')"
}

holds_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$end" ]; do
    "$@" >/dev/null 2>&1 || fail "stopped holding after $((secs - (end - SECONDS)))s: $*"
    sleep 0.5
  done
}
