#!/usr/bin/python3
"""stalled_reader.py - a WebSocket client that stops reading: does the server let it go?

usage: stalled_reader.py PORT PAUSE_S READ_TIMEOUT_S MAX_BYTES [--silence-ends] [--until LOG REGEX]

A raw socket with a fixed, small receive buffer (64 KiB, set before connecting: loopback
autotunes up to 32 MB) sends the upgrade request, reads nothing for PAUSE_S seconds while
the frames fall due, then reads until the server closes the connection (end of stream or
a reset). Asserts that it got fewer than MAX_BYTES bytes in all: it did not get
everything, it was let go. A read that waits READ_TIMEOUT_S fails the client, or, with
--silence-ends, ends the reading as a close does. With --until, the pause lasts until a line
of the server's LOG matches REGEX (the server says it let the client go), at least PAUSE_S
and at most 120 s: a server that a busy machine starves takes longer to queue what is due.
"""
import re
import socket
import sys
import time

port, pause, read_timeout, max_bytes = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rest = sys.argv[5:]
silence_ends = "--silence-ends" in rest
until = rest[rest.index("--until") + 1:rest.index("--until") + 3] if "--until" in rest else None


def logged(path, regex):
    try:
        with open(path, errors="replace") as f:
            return re.search(regex, f.read()) is not None
    except FileNotFoundError:
        return False

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", port))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
time.sleep(pause)   # not reading
if until:
    deadline = time.monotonic() + 120
    while not logged(*until) and time.monotonic() < deadline:
        time.sleep(0.1)
s.settimeout(read_timeout)
n = 0
while True:
    try:
        b = s.recv(1 << 20)
    except ConnectionResetError:
        break
    except socket.timeout:
        if silence_ends:
            break
        sys.exit("no close after %g s of silence (%d bytes read)" % (read_timeout, n))
    if not b:
        break
    n += len(b)
assert n < max_bytes, n   # it did not get everything: it was let go
