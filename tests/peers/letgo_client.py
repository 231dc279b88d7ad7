#!/usr/bin/python3
"""letgo_client.py - a Hydromancer client that is let go by --max-buffer while a frame
declaring 4 GiB follows in the same read.

usage: letgo_client.py PORT

A raw socket with a 4 KB receive buffer (and a small MSS, so that the server's send buffer
stays small) subscribes to an unknown type of 400,000 characters, whose answer (400 KB)
it does not read; once part of it has come, it sends a second subscribe of 700,000, which
puts it above --max-buffer 1m, and right after it a binary frame that declares 4 GiB.
Asserts that the server lets it go (the TCP state leaves ESTABLISHED) within 60 s; prints
"let go".
"""
import fcntl, json, socket, struct, sys, termios, time
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)   # the server's send buffer stays small
s.connect(("127.0.0.1", port))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got:   # the 101, byte by byte; what follows stays unread
    d = s.recv(1)
    if not d:
        sys.exit("no handshake")
    got += d
key = b"\x11\x22\x33\x44"
def frame(op, p, declared=None):
    n = len(p) if declared is None else declared
    h = bytes([0x80 | op, 0x80 | 127]) + struct.pack(">Q", n) + key
    k = (key * (len(p) // 4 + 1))[:len(p)]
    return h + (int.from_bytes(p, "big") ^ int.from_bytes(k, "big")).to_bytes(len(p), "big")
def sub(n):
    return json.dumps({"method": "subscribe", "subscription": {"type": "q" * n}}).encode()
s.sendall(frame(1, sub(400000)))
deadline = time.monotonic() + 60
while True:   # part of the answer has come: lws holds the rest
    b = bytearray(4)
    fcntl.ioctl(s, termios.FIONREAD, b)
    if struct.unpack("i", b)[0] > 0:
        break
    if time.monotonic() > deadline:
        sys.exit("no answer")
    time.sleep(0.05)
try:
    s.sendall(frame(1, sub(700000)) + frame(2, b"z" * 4096, declared=4 << 30))
except OSError:
    pass
deadline = time.monotonic() + 60
while s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] == 1:   # ESTABLISHED
    if time.monotonic() > deadline:
        sys.exit("not let go")
    time.sleep(0.1)
print("let go")
