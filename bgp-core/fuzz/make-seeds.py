#!/usr/bin/env python3
"""Writes the checked-in seed corpora of the fuzz targets (bgp-core/fuzz/seeds/<target>/ and
route-sync/fuzz/seeds/netlink/) from the captured wire vectors in bgp-core/testdata and a few
hand-made inputs. Run from anywhere: `python3 bgp-core/fuzz/make-seeds.py`. The fuzzers start
from these and from what earlier runs in the same job found; crashes found become regression
tests in the crates."""
import hashlib
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "bgp-core" / "testdata"
BGP_SEEDS = ROOT / "bgp-core" / "fuzz" / "seeds"
NL_SEEDS = ROOT / "route-sync" / "fuzz" / "seeds" / "netlink"


def write(directory, data):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def captured():
    for path in sorted(TESTDATA.glob("*.hex")):
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                yield bytes.fromhex(line)


def bgp_seeds():
    for msg in captured():
        kind = msg[18]
        for ctx in (0x01, 0x00):  # 4-octet AS on and off
            write(BGP_SEEDS / "message", bytes([ctx]) + msg)
            if kind == 2:
                write(BGP_SEEDS / "update", bytes([ctx]) + msg[19:])
                for shape in (1, 255):
                    write(BGP_SEEDS / "export_encoder", bytes([ctx, shape]) + msg[19:])
            if kind == 1:
                write(BGP_SEEDS / "open", bytes([ctx]) + msg[19:])
    # FSM: start, connect, OPEN, keepalive (iBGP and eBGP, GR with R bit), then churn.
    for setup in (0, 1, 2, 4, 8):
        write(BGP_SEEDS / "fsm_events", bytes([setup, 0, 12, 16, 0, 0, 0x0f, 25, 25, 27, 29, 7]))
        write(BGP_SEEDS / "fsm_events", bytes([setup, 0, 12, 16, 0, 0, 0x1f, 25, 13, 16, 0, 0, 0x1f, 14, 10]))
    for rule in ("accept 10.244.0.0/16 le 26", "reject 2001:db8::/32 ge 48 le 64",
                 "reject 0.0.0.0/0", "accept 10.0.0.0/8 ge 9 le 24", "accept ::/0 le 128"):
        write(BGP_SEEDS / "policy_rule", rule.encode())


def nlmsg(msg_type, payload, flags=0, seq=1):
    pad = (-len(payload)) % 4
    return struct.pack("=IHHII", 16 + len(payload), msg_type, flags, seq, 0) + payload + b"\0" * pad


def rta(kind, value):
    pad = (-len(value)) % 4
    return struct.pack("=HH", 4 + len(value), kind) + value + b"\0" * pad


def netlink_seeds():
    # RTM_NEWLINK: ifinfomsg + IFLA_IFNAME, up; RTM_NEWADDR: ifaddrmsg + IFA_ADDRESS/IFA_LOCAL.
    link = nlmsg(16, struct.pack("=BxHiII", 0, 1, 2, 0x1 | 0x40, 0) + rta(3, b"veth0\0"))
    addr4 = nlmsg(20, struct.pack("=BBBBI", 2, 24, 0, 0, 2) + rta(1, bytes([198, 18, 0, 1])) + rta(2, bytes([198, 18, 0, 1])))
    v6 = bytes.fromhex("20010db8000000000000000000000001")
    addr6 = nlmsg(20, struct.pack("=BBBBI", 10, 64, 0, 0, 2) + rta(1, v6))
    # RTM_NEWROUTE: rtmsg(family, dst_len, src_len, tos, table, protocol, scope, type, flags)
    def route(dst, plen, gw, proto, table=254, metric=20, family=2):
        body = struct.pack("=BBBBBBBBI", family, plen, 0, 0, table, proto, 0, 1, 0)
        body += rta(1, dst) + rta(5, gw) + rta(4, struct.pack("=I", 2)) + rta(6, struct.pack("=I", metric))
        return nlmsg(24, body)
    static = route(bytes([10, 0, 0, 0]), 8, bytes([198, 18, 0, 2]), 4)
    ours = route(bytes([198, 19, 1, 0]), 24, bytes([198, 18, 0, 2]), 200)
    frr = route(bytes([198, 19, 2, 0]), 24, bytes([198, 18, 0, 3]), 186)
    v6route = route(bytes.fromhex("20010db8000100000000000000000000"), 48, bytes.fromhex("20010db8000000000000000000000002"), 4, family=10)
    # RTM_NEWNEXTHOP: nhmsg(family, scope, protocol, resvd, flags) + NHA_ID, NHA_GATEWAY, NHA_OIF
    nh = nlmsg(104, struct.pack("=BBBBI", 2, 0, 186, 0, 0) + rta(1, struct.pack("=I", 7)) + rta(6, bytes([198, 18, 0, 2])) + rta(5, struct.pack("=I", 2)))
    nh_route = nlmsg(24, struct.pack("=BBBBBBBBI", 2, 16, 0, 0, 254, 186, 0, 1, 0) + rta(1, bytes([10, 1, 0, 0])) + rta(30, struct.pack("=I", 7)))
    ack = nlmsg(2, struct.pack("=i", 0) + nlmsg(24, b"")[:16])
    err = nlmsg(2, struct.pack("=i", -17) + nlmsg(24, b"", seq=9)[:16])
    done = nlmsg(3, struct.pack("=i", 0))
    for datagram in (link + addr4 + addr6, link + addr4 + static + ours + frr, link + addr6 + v6route,
                     link + addr4 + nh + nh_route, ack + err + done, link + addr4 + static + nlmsg(25, static[16:])):
        write(NL_SEEDS, datagram)


if __name__ == "__main__":
    bgp_seeds()
    netlink_seeds()
