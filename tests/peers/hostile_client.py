#!/usr/bin/python3
"""hostile_client.py - a client that tries to make a WebSocket server grow without bound.

usage: hostile_client.py PORT PID MODE ARGS     (WAIT: seconds to wait for the outcome,
                                                 default 60)

A raw-socket client (masking done right, as the server may check nothing else) that sends
while it reads, as a client does. Prints "sent N", "rss_growth KB" (the server's VmRSS, of
process PID, sampled while sending, over what it was before), then what comes of it:
"close CODE REASON", "eof", "reset", with msg the answer "text ...", and "open" when none
of these came within WAIT seconds. Frames the feed sends anyway (recorded frames,
hello_ok) are skipped. Asserts only the handshake (101); the caller judges the outcome.
  big TOTAL     one binary frame that declares 4 GiB, then up to TOTAL bytes of it
  frag N SIZE   a text message in N fragments of SIZE bytes
  msg SIZE      a Hydromancer subscribe to allFills padded to SIZE bytes
"""
import json, os, socket, struct, sys, threading, time
port, pid, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def rss():
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
    return 0

rss0 = rss_max = rss()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        sys.exit("no handshake")
    buf += d
assert buf.startswith(b"HTTP/1.1 101"), buf[:40]
buf = buf.split(b"\r\n\r\n", 1)[1]
key = b"\x11\x22\x33\x44"

def header(op, n, fin=True):
    b0 = (0x80 if fin else 0) | op
    if n < 126:
        return bytes([b0, 0x80 | n]) + key
    if n < 65536:
        return bytes([b0, 0x80 | 126]) + struct.pack(">H", n) + key
    return bytes([b0, 0x80 | 127]) + struct.pack(">Q", n) + key

def masked(p, off=0):
    k = (key * (len(p) // 4 + 2))[off % 4:][:len(p)]
    return (int.from_bytes(p, "big") ^ int.from_bytes(k, "big")).to_bytes(len(p), "big")

sent = 0
def send(b):
    global sent, rss_max
    s.sendall(b)
    sent += len(b)
    rss_max = max(rss_max, rss())

def sender():
    # sends while the main thread reads, as a client does
    try:
        if mode == "big":
            total = int(sys.argv[4])
            send(header(2, 4 << 30))
            chunk = os.urandom(1 << 20)   # random bytes: masked or not, they are random
            while sent < total:
                send(chunk)
        elif mode == "frag":
            n, size = int(sys.argv[4]), int(sys.argv[5])
            for i in range(n):
                send(header(1 if i == 0 else 0, size, fin=(i == n - 1)) + masked(b"x" * size))
        elif mode == "msg":
            size = int(sys.argv[4])
            m = json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}, "pad": ""})
            m = (m[:-2] + "x" * (size - len(m)) + m[-2:]).encode()
            assert len(m) == size
            send(header(1, len(m)) + masked(m))
    except OSError:
        pass   # the server has closed (or the reader has): what it said is read there

t = threading.Thread(target=sender, daemon=True)
t.start()
deadline = time.monotonic() + float(os.environ.get("WAIT", "60"))

def need(b):
    if len(b) < 2:
        return 1 << 62
    n = b[1] & 127
    if n < 126:
        return 2 + n
    if n == 126:
        return 4 + struct.unpack(">H", b[2:4])[0] if len(b) >= 4 else 1 << 62
    return 10 + struct.unpack(">Q", b[2:10])[0] if len(b) >= 10 else 1 << 62

def result():
    global buf
    try:
        while True:
            while len(buf) < need(buf):
                if time.monotonic() >= deadline:
                    return "open"
                s.settimeout(max(0.01, deadline - time.monotonic()))
                d = s.recv(65536)
                if not d:
                    return "eof"
                buf += d
            n = need(buf)
            off = 2 if (buf[1] & 127) < 126 else 4 if (buf[1] & 127) == 126 else 10
            op, p, buf = buf[0] & 15, buf[off:n], buf[n:]
            if op == 8:
                return "close %d %s" % (struct.unpack(">H", p[:2])[0] if len(p) >= 2 else 0,
                                        p[2:].decode(errors="replace"))
            if mode == "msg" and op == 1 and (b"subscriptionUpdate" in p or b'"error"' in p):
                return "text " + p[:120].decode(errors="replace")
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "open"

r = result()
if r != "open":
    try:
        s.shutdown(socket.SHUT_RDWR)   # the sender stops, if the server has not stopped it
    except OSError:
        pass
    t.join(60)
print("sent", sent)
print("rss_growth", rss_max - rss0)
print(r)
