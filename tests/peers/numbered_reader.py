#!/usr/bin/python3
"""numbered_reader.py - a client that reads every frame of the `paced` recording
(fixtures/recordings.py paced: 2,000 text frames of 8,192 bytes, each starting "%06d " with
its number).

usage: numbered_reader.py PORT

Asserts that it gets the 2,000 frames, final text frames of 8,192 bytes numbered 0, 1, ...
in order, then a close with 1000. A raw-socket reader (RFC 6455 framing, server frames
unmasked) that reads in large chunks, so that it keeps up with 100 frames a second on a
busy machine, where a client that falls behind is, rightly, the first one
--max-buffer-total lets go.
"""
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=120)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(65536)
    assert d, "closed before the upgrade"
    buf += d
head, buf = buf.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 101"), head[:40]
got, code, off = 0, None, 0
while code is None:
    while True:   # every whole frame in buf
        if len(buf) - off < 2:
            break
        b0, b1 = buf[off], buf[off + 1]
        n, h = b1 & 0x7F, 2
        if n == 126:
            if len(buf) - off < 4:
                break
            n, h = struct.unpack_from(">H", buf, off + 2)[0], 4
        elif n == 127:
            if len(buf) - off < 10:
                break
            n, h = struct.unpack_from(">Q", buf, off + 2)[0], 10
        if len(buf) - off < h + n:
            break
        payload = buf[off + h:off + h + n]
        off += h + n
        op = b0 & 0x0F
        if op == 8:
            code = struct.unpack(">H", payload[:2])[0] if n >= 2 else 1005
            break
        assert op == 1 and b0 & 0x80, ("frame", got, b0)
        assert n == 8192 and payload[:7] == b"%06d " % got, ("frame", got, payload[:10])
        got += 1
    if code is not None:
        break
    buf, off = buf[off:], 0
    d = s.recv(1 << 20)
    if not d:
        break
    buf += d
assert got == 2000 and code == 1000, (got, code)
print("reader: 2000 frames, close 1000")
