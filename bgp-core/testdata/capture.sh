#!/usr/bin/env bash
# Capture real BGP messages between BIRD 2, FRR 8.4 and GoBGP 3 and write them as hex test
# vectors (bgp-core/testdata/*.hex), one file per session and direction.
#
# Topology (network namespaces, 198.18.0.0/15 and 2001:db8::/32 only):
#
#   wv-bird (AS 65001) --- 198.18.10.0/30 + 2001:db8:10::/64 --- wv-frr (AS 65002)
#        |   eBGP IPv4 session (ipv4, 4-octet AS, GR, add-path tx/rx, ext. messages)
#        |   eBGP IPv6 session (ipv6, global + link-local next hop)
#        |
#        +--- 198.18.11.0/30 --- wv-gobgp (AS 65001): iBGP IPv4, ADD-PATH both ways,
#                                graceful restart, 2-octet AS on BIRD's side (enable as4 off)
#   wv-frr --- 2001:db8:12::/64 --- wv-gobgp: eBGP over IPv6, ipv4 + ipv6 unicast,
#              extended next hop (RFC 8950: IPv4 NLRI with IPv6 next hop)
#
# Routes carry communities, large communities and extended communities; FRR prepends a
# 4-octet ASN so that the 2-octet session needs AS4_PATH. Then: route refresh both ways
# (FRR answers with RFC 7313 BoRR/EoRR), a withdrawal, and an administrative shutdown with an
# RFC 8203 message. Re-run as root: `bash bgp-core/testdata/capture.sh` (needs bird2, frr,
# gobgpd, tcpdump, python3; `apt-get install -y bird2 frr gobgpd tcpdump`).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/wv-capture.XXXXXX)
chmod 755 "$WORK"
NS_BIRD=wv-bird NS_FRR=wv-frr NS_GOBGP=wv-gobgp
PIDS=()

cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    sleep 1
    for ns in $NS_BIRD $NS_FRR $NS_GOBGP; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    done
    sleep 1
    for ns in $NS_BIRD $NS_FRR $NS_GOBGP; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "/var/run/frr/$NS_FRR"
}
trap cleanup EXIT

for ns in $NS_BIRD $NS_FRR $NS_GOBGP; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
link() { # ns1 if1 ns2 if2
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}
link $NS_BIRD wv-bf $NS_FRR wv-fb
link $NS_BIRD wv-bg $NS_GOBGP wv-gb
link $NS_FRR wv-fg $NS_GOBGP wv-gf
ip -n $NS_BIRD addr add 198.18.10.1/30 dev wv-bf
ip -n $NS_FRR addr add 198.18.10.2/30 dev wv-fb
ip -n $NS_BIRD addr add 2001:db8:10::1/64 dev wv-bf nodad
ip -n $NS_FRR addr add 2001:db8:10::2/64 dev wv-fb nodad
ip -n $NS_BIRD addr add 198.18.11.1/30 dev wv-bg
ip -n $NS_GOBGP addr add 198.18.11.2/30 dev wv-gb
ip -n $NS_FRR addr add 2001:db8:12::1/64 dev wv-fg nodad
ip -n $NS_GOBGP addr add 2001:db8:12::2/64 dev wv-gf nodad
# Link-local addresses need DAD to finish before BIRD/FRR use them as next hops.
sleep 3

for pair in "$NS_BIRD wv-bf" "$NS_BIRD wv-bg" "$NS_FRR wv-fg"; do
    set -- $pair
    ip netns exec "$1" tcpdump -i "$2" -U -s 0 -w "$WORK/$2.pcap" tcp port 179 2>"$WORK/$2.tcpdump.log" &
    PIDS+=($!)
done
sleep 1

# ---------------------------------------------------------------- BIRD 2
cat > "$WORK/bird.conf" <<'EOF'
log "/dev/null" all;
router id 198.18.0.1;
protocol device {}
protocol static s4 {
    ipv4;
    route 198.18.100.0/24 blackhole;
    route 198.18.101.0/24 blackhole;
}
protocol static s6 {
    ipv6;
    route 2001:db8:100::/48 blackhole;
}
filter mark {
    bgp_community.add((65001, 100));
    bgp_large_community.add((65001, 1, 2));
    bgp_ext_community.add((rt, 65001, 7));
    accept;
}
template bgp common {
    local as 65001;
    graceful restart on;
    enable route refresh on;
    enable extended messages on;
}
protocol bgp frr4 from common {
    local 198.18.10.1;
    neighbor 198.18.10.2 as 65002;
    ipv4 { import all; export filter mark; add paths on; };
}
protocol bgp frr6 from common {
    local 2001:db8:10::1;
    neighbor 2001:db8:10::2 as 65002;
    interface "wv-bf";
    ipv6 { import all; export filter mark; };
}
protocol bgp gobgp from common {
    local 198.18.11.1;
    neighbor 198.18.11.2 as 65001;
    enable as4 off;
    ipv4 { import all; export filter mark; add paths on; next hop self; };
}
EOF
ip netns exec $NS_BIRD bird -f -c "$WORK/bird.conf" -s "$WORK/bird.ctl" &
PIDS+=($!)

# ---------------------------------------------------------------- FRR 8
mkdir -p /var/run/frr/$NS_FRR "$WORK/frr"
chown frr:frr /var/run/frr/$NS_FRR "$WORK/frr"
cat > "$WORK/frr/frr.conf" <<'EOF'
frr defaults traditional
hostname wv-frr
log file /dev/null
route-map TAG permit 10
 set community 65002:200
 set large-community 65002:3:4
 set as-path prepend 4200000000
route-map ALL permit 10
router bgp 65002
 bgp router-id 198.18.0.2
 no bgp default ipv4-unicast
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 neighbor 198.18.10.1 remote-as 65001
 neighbor 2001:db8:10::1 remote-as 65001
 neighbor 2001:db8:12::2 remote-as 65001
 neighbor 2001:db8:12::2 capability extended-nexthop
 address-family ipv4 unicast
  network 198.18.110.0/24 route-map TAG
  network 198.18.111.0/24
  neighbor 198.18.10.1 activate
  neighbor 198.18.10.1 addpath-tx-all-paths
  neighbor 198.18.10.1 route-map ALL in
  neighbor 2001:db8:12::2 activate
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:110::/48 route-map TAG
  neighbor 2001:db8:10::1 activate
  neighbor 2001:db8:12::2 activate
 exit-address-family
EOF
chown frr:frr "$WORK/frr/frr.conf"
ip netns exec $NS_FRR /usr/lib/frr/bgpd -Z -n -N $NS_FRR -f "$WORK/frr/frr.conf" \
    -i "$WORK/frr/bgpd.pid" &
PIDS+=($!)
vtysh_frr() { ip netns exec $NS_FRR vtysh -N $NS_FRR "$@" || echo "vtysh failed: $*"; }

# ---------------------------------------------------------------- GoBGP 3
cat > "$WORK/gobgp.toml" <<'EOF'
[global.config]
  as = 65001
  router-id = "198.18.0.3"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "198.18.11.1"
    peer-as = 65001
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.add-paths.config]
      receive = true
      send-max = 8
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
[[neighbors]]
  [neighbors.config]
    neighbor-address = "2001:db8:12::1"
    peer-as = 65002
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOF
ip netns exec $NS_GOBGP gobgpd -f "$WORK/gobgp.toml" --api-hosts 127.0.0.1:50051 \
    >"$WORK/gobgpd.log" 2>&1 &
PIDS+=($!)
gobgp_cli() { ip netns exec $NS_GOBGP gobgp -u 127.0.0.1 -p 50051 "$@"; }

echo "waiting for the sessions..."
for _ in $(seq 1 60); do
    bird_up=$(birdc -s "$WORK/bird.ctl" show protocols 2>/dev/null | grep -c Established || true)
    gobgp_up=$(gobgp_cli neighbor 2>/dev/null | grep -c Establ || true)
    [ "$bird_up" -ge 3 ] && [ "$gobgp_up" -ge 2 ] && break
    sleep 1
done
birdc -s "$WORK/bird.ctl" show protocols
gobgp_cli neighbor
gobgp_cli global rib add -a ipv4 198.18.120.0/24 community 65001:300 large-community 65001:5:6
gobgp_cli global rib add -a ipv6 2001:db8:120::/48 community 65001:301
sleep 5

# Route refresh both ways (FRR supports enhanced route refresh: BoRR/EoRR).
birdc -s "$WORK/bird.ctl" reload in frr4
vtysh_frr -c 'clear bgp ipv4 unicast 198.18.10.1 soft in'
vtysh_frr -c 'clear bgp ipv6 unicast 2001:db8:12::2 soft in'
sleep 3
# Withdrawals: a GoBGP route, and BIRD's IPv6 static (MP_UNREACH_NLRI).
gobgp_cli global rib del -a ipv4 198.18.120.0/24
birdc -s "$WORK/bird.ctl" disable s6
sleep 3
# RFC 8203 shutdown communication.
birdc -s "$WORK/bird.ctl" disable frr4 '"maintenance window"'
vtysh_frr -c 'configure terminal' -c 'router bgp 65002' \
    -c 'neighbor 2001:db8:12::2 shutdown message "drain node"'
sleep 3

for pid in "${PIDS[@]:0:3}"; do kill -INT "$pid" 2>/dev/null || true; done
sleep 1
python3 "$HERE/pcap2hex.py" "$WORK/wv-bf.pcap" "$HERE" bird-frr \
    198.18.10.1=bird 198.18.10.2=frr 2001:db8:10::1=bird 2001:db8:10::2=frr
python3 "$HERE/pcap2hex.py" "$WORK/wv-bg.pcap" "$HERE" bird-gobgp \
    198.18.11.1=bird 198.18.11.2=gobgp
python3 "$HERE/pcap2hex.py" "$WORK/wv-fg.pcap" "$HERE" frr-gobgp \
    2001:db8:12::1=frr 2001:db8:12::2=gobgp
echo "vectors written to $HERE (work files in $WORK)"
