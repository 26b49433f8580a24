#!/usr/bin/env python3
"""Extract BGP messages from a pcap (Ethernet, IPv4/IPv6, TCP port 179) as hex test vectors.

usage: pcap2hex.py FILE.pcap OUTDIR LABEL ADDR=NAME...

Every TCP stream is reassembled per direction (by sequence number, retransmissions dropped)
and cut into BGP messages by the header's length field. One file per direction and transport,
OUTDIR/<src>-to-<dst>-<ipv4|ipv6>.hex: `#` comment lines, then one message per line.
This parser knows only the 19-octet header, so the notes it writes do not come from the codec
under test.
"""
import ipaddress
import os
import struct
import sys

TYPES = {1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH"}


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"{path}: link type {linktype}, expected Ethernet (1)")
    at = 24
    while at + 16 <= len(data):
        ts, _us, incl, _orig = struct.unpack(endian + "IIII", data[at:at + 16])
        yield ts, data[at + 16:at + 16 + incl]
        at += 16 + incl


def tcp_segments(path):
    for ts, frame in packets(path):
        ethertype = struct.unpack(">H", frame[12:14])[0]
        ip = frame[14:]
        if ethertype == 0x0800:
            ihl = (ip[0] & 0xF) * 4
            total = struct.unpack(">H", ip[2:4])[0]
            if ip[9] != 6:
                continue
            src, dst = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
            tcp = ip[ihl:total]
        elif ethertype == 0x86DD:
            if ip[6] != 6:
                continue
            plen = struct.unpack(">H", ip[4:6])[0]
            src, dst = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40])
            tcp = ip[40:40 + plen]
        else:
            continue
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        flags = tcp[13]
        off = (tcp[12] >> 4) * 4
        yield ts, (str(src), sport, str(dst), dport), seq, flags, tcp[off:]


def streams(path):
    """{key: (first_ts, bytes)} per direction of each TCP connection."""
    isn, chunks, first = {}, {}, {}
    for ts, key, seq, flags, payload in tcp_segments(path):
        if flags & 0x02:  # SYN
            isn[key] = seq + 1
            chunks[key] = {}
            first.setdefault(key, ts)
            continue
        if not payload or key not in isn:
            continue
        rel = (seq - isn[key]) % (1 << 32)
        chunks[key].setdefault(rel, payload)
    out = {}
    for key, parts in chunks.items():
        buf = bytearray()
        for rel in sorted(parts):
            p = parts[rel]
            if rel > len(buf):
                break  # a hole: stop at what is contiguous
            buf += p[len(buf) - rel:]
        out[key] = (first[key], bytes(buf))
    return out


def messages(buf):
    at = 0
    while at + 19 <= len(buf):
        if buf[at:at + 16] != b"\xff" * 16:
            raise SystemExit("lost BGP framing")
        length = struct.unpack(">H", buf[at + 16:at + 18])[0]
        if at + length > len(buf):
            break
        yield buf[at:at + length]
        at += length


def main():
    path, outdir, label = sys.argv[1:4]
    names = dict(a.split("=", 1) for a in sys.argv[4:])
    names = {str(ipaddress.ip_address(k)): v for k, v in names.items()}
    files = {}
    for key, (ts, buf) in sorted(streams(path).items(), key=lambda kv: kv[1][0]):
        src, sport, dst, dport = key
        if src not in names or dst not in names:
            continue
        family = "ipv6" if ":" in src else "ipv4"
        fname = f"{names[src]}-to-{names[dst]}-{family}.hex"
        lines = files.setdefault(fname, [
            f"# Captured by capture.sh ({label} link): {names[src]} -> {names[dst]}, "
            f"{family} transport.",
            "# One BGP message per line; the comment above each gives its header type and length.",
        ])
        lines.append(f"# connection {src}:{sport} -> {dst}:{dport}")
        for i, m in enumerate(messages(buf)):
            t = TYPES.get(m[18], f"type {m[18]}")
            lines.append(f"# {i}: {t}, {len(m)} octets")
            lines.append(m.hex())
    for fname, lines in files.items():
        with open(os.path.join(outdir, fname), "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{fname}: {sum(1 for l in lines if not l.startswith('#'))} messages")


if __name__ == "__main__":
    main()
