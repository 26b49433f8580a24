#!/usr/bin/env python3
"""Hostile BGP speaker for t_hostile.sh: malformed, oversized and flooding input at a BGP daemon.

Each scenario prints one JSON line:
  {"scenario": NAME, "established": bool, "result": "notification"|"closed"|"open",
   "code": N|null, "subcode": N|null, ...}
"established" says whether an OPEN/KEEPALIVE exchange completed before the bad input was sent;
"result" is what the daemon did afterwards (within --wait seconds): sent a NOTIFICATION,
closed the connection without one, or kept it open.

Scenarios (RFC 4271 §6, RFC 7606):
  bad_marker        header with a zero marker, before OPEN          -> expect 1/1 or close
  bad_marker_est    same after the session is Established            -> expect 1/1
  short_length      header length 18 (< 19)                          -> expect 1/2
  oversized         UPDATE of 5000 bytes, no extended messages       -> expect 1/2
  huge_length       header length 65535 and 65535 bytes sent         -> expect 1/2
  bad_type          message type 9                                   -> expect 1/3
  open_bad_version  OPEN version 3                                   -> expect 2/1
  open_bad_as       OPEN from the wrong AS                           -> expect 2/2
  withdrawn_overrun UPDATE whose withdrawn-routes length overruns it -> expect 3/1
  bad_origin        UPDATE with ORIGIN 7 for 198.19.66.0/24: treat-as-withdraw (RFC 7606 §7.1),
                    session must stay up -> expect "open"; then a valid UPDATE for
                    198.19.67.0/24 is sent and the connection held for --hold-after seconds
  flood             --count connections (from --source and --source2) opened at once, each
                    sending a partial header, held --wait seconds, then closed; then --count
                    connect/close cycles. Prints how many connected.
"""
import argparse
import json
import select
import socket
import struct
import sys
import time

MARKER = b"\xff" * 16
OPEN, UPDATE, NOTIFICATION, KEEPALIVE = 1, 2, 3, 4


def msg(mtype, body=b"", marker=MARKER, length=None):
    if length is None:
        length = 19 + len(body)
    return marker + struct.pack("!HB", length, mtype) + body


def open_body(my_as, router_id, hold=9, version=4):
    caps = b""
    caps += bytes([1, 4]) + struct.pack("!HBB", 1, 0, 1)  # MP: IPv4 unicast
    caps += bytes([65, 4]) + struct.pack("!I", my_as)  # 4-octet AS
    opt = bytes([2, len(caps)]) + caps
    two = my_as if my_as < 65536 else 23456
    return struct.pack("!BHH", version, two, hold) + socket.inet_aton(router_id) + bytes([len(opt)]) + opt


def attr(flags, code, value):
    return bytes([flags, code, len(value)]) + value


def update_body(prefix, origin=0, my_as=65099, next_hop="198.18.2.2"):
    attrs = attr(0x40, 1, bytes([origin]))
    attrs += attr(0x40, 2, bytes([2, 1]) + struct.pack("!I", my_as))
    attrs += attr(0x40, 3, socket.inet_aton(next_hop))
    net, plen = prefix.split("/")
    plen = int(plen)
    nlri = bytes([plen]) + socket.inet_aton(net)[: (plen + 7) // 8]
    return struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs + nlri


class Conn:
    def __init__(self, args, source=None, timeout=5.0):
        self.sock = socket.create_connection(
            (args.target, args.port), timeout=timeout, source_address=(source or args.source, 0)
        )
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def read_msg(self, timeout):
        """-> (type, body) | ("closed", None) | ("timeout", None)"""
        deadline = time.time() + timeout
        while True:
            if len(self.buf) >= 19:
                length, mtype = struct.unpack("!HB", self.buf[16:19])
                if length >= 19 and len(self.buf) >= length:
                    body = self.buf[19:length]
                    self.buf = self.buf[length:]
                    return mtype, body
            left = deadline - time.time()
            if left <= 0:
                return "timeout", None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return "timeout", None
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, OSError):
                return "closed", None
            if not data:
                return "closed", None
            self.buf += data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def outcome(conn, wait):
    """What the daemon does next: the first NOTIFICATION, a close, or nothing."""
    deadline = time.time() + wait
    saw_open = False
    while True:
        mtype, body = conn.read_msg(max(0.0, deadline - time.time()))
        if mtype == NOTIFICATION:
            return {"result": "notification", "code": body[0] if body else None,
                    "subcode": body[1] if len(body) > 1 else None, "saw_open": saw_open}
        if mtype == "closed":
            return {"result": "closed", "code": None, "subcode": None, "saw_open": saw_open}
        if mtype == "timeout":
            return {"result": "open", "code": None, "subcode": None, "saw_open": saw_open}
        if mtype == OPEN:
            saw_open = True
        # KEEPALIVE / UPDATE from the daemon: keep reading.


def establish(args, deadline_s=40.0):
    """Connect and complete OPEN/KEEPALIVE; retries while the daemon refuses (idle hold)."""
    deadline = time.time() + deadline_s
    last = "no attempt"
    while time.time() < deadline:
        try:
            c = Conn(args)
            c.send(msg(OPEN, open_body(args.my_as, args.source)))
            got_open = got_ka = False
            t_end = time.time() + 10
            while time.time() < t_end and not (got_open and got_ka):
                mtype, body = c.read_msg(t_end - time.time())
                if mtype == OPEN:
                    got_open = True
                    c.send(msg(KEEPALIVE))
                elif mtype == KEEPALIVE:
                    got_ka = True
                elif mtype in ("closed", "timeout", NOTIFICATION):
                    last = f"{mtype} {body.hex() if isinstance(body, bytes) else ''}"
                    break
            if got_open and got_ka:
                return c
            c.close()
        except OSError as e:
            last = str(e)
        time.sleep(1)
    raise SystemExit(json.dumps({"error": f"could not establish a session: {last}"}))


def pre_open(args, data):
    c = Conn(args)
    c.send(data)
    res = outcome(c, args.wait)
    c.close()
    return dict(established=False, **res)


def after_est(args, data):
    c = establish(args)
    c.send(data)
    res = outcome(c, args.wait)
    c.close()
    return dict(established=True, **res)


def open_error(args, body):
    """Sends a bad OPEN; retried while the daemon closes without even sending its own OPEN
    (it may hold off a peer that just failed, RFC 4271 IdleHoldTimer)."""
    deadline = time.time() + 40
    while True:
        try:
            c = Conn(args)
            c.send(msg(OPEN, body))
            res = outcome(c, args.wait)
            c.close()
        except OSError as e:
            res = {"result": "closed", "code": None, "subcode": None, "saw_open": False, "error": str(e)}
        if res["result"] != "closed" or res["saw_open"] or time.time() > deadline:
            return dict(established=False, **res)
        time.sleep(1)


def flood(args):
    socks, failed = [], 0
    for i in range(args.count):
        src = args.source if (i % 2 == 0 or not args.source2) else args.source2
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((src, 0))
            s.connect_ex((args.target, args.port))
            socks.append(s)
        except OSError:
            failed += 1
    time.sleep(0.5)
    connected = 0
    for s in socks:
        try:
            s.send(MARKER[:7])  # a partial header, never completed
            connected += 1
        except OSError:
            pass
    time.sleep(args.wait)
    for s in socks:
        s.close()
    churn = 0
    for i in range(args.count):
        try:
            c = socket.create_connection((args.target, args.port), timeout=2,
                                         source_address=(args.source2 or args.source, 0))
            c.close()
            churn += 1
        except OSError:
            pass
    return {"established": False, "result": "done", "code": None, "subcode": None,
            "opened": len(socks), "connected": connected, "failed": failed, "churned": churn}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--target", required=True)
    ap.add_argument("--port", type=int, default=179)
    ap.add_argument("--source", required=True)
    ap.add_argument("--source2")
    ap.add_argument("--my-as", type=int, default=65099)
    ap.add_argument("--wait", type=float, default=5.0)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--hold-after", type=float, default=0.0)
    args = ap.parse_args()
    s = args.scenario
    ka_zero_marker = msg(KEEPALIVE, marker=b"\x00" * 16)
    if s == "bad_marker":
        r = pre_open(args, ka_zero_marker)
    elif s == "bad_marker_est":
        r = after_est(args, ka_zero_marker)
    elif s == "short_length":
        r = after_est(args, msg(KEEPALIVE, length=18))
    elif s == "oversized":
        r = after_est(args, msg(UPDATE, b"\x00\x00\x00\x00" + b"\x00" * 4977))
    elif s == "huge_length":
        r = after_est(args, msg(UPDATE, b"\x00" * (65535 - 19)))
    elif s == "bad_type":
        r = after_est(args, msg(9))
    elif s == "open_bad_version":
        r = open_error(args, open_body(args.my_as, args.source, version=3))
    elif s == "open_bad_as":
        r = open_error(args, open_body(args.my_as - 1, args.source))
    elif s == "withdrawn_overrun":
        body = update_body("198.19.65.0/24")
        r = after_est(args, msg(UPDATE, struct.pack("!H", 200) + body[2:]))
    elif s == "bad_origin":
        c = establish(args)
        c.send(msg(UPDATE, update_body("198.19.66.0/24", origin=7, my_as=args.my_as, next_hop=args.source)))
        res = outcome(c, args.wait)
        if res["result"] == "open":
            c.send(msg(UPDATE, update_body("198.19.67.0/24", origin=0, my_as=args.my_as, next_hop=args.source)))
            print(json.dumps(dict(scenario=s, established=True, **res)), flush=True)
            # Keep the session alive (KEEPALIVE every 3 s) while the test inspects bgpd.
            end = time.time() + args.hold_after
            while time.time() < end:
                c.send(msg(KEEPALIVE))
                mtype, _ = c.read_msg(min(3.0, max(0.1, end - time.time())))
                if mtype == "closed":
                    break
            c.close()
            return
        c.close()
        r = dict(established=True, **res)
    elif s == "flood":
        r = flood(args)
    else:
        ap.error(f"unknown scenario {s}")
    print(json.dumps(dict(scenario=s, **r)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
