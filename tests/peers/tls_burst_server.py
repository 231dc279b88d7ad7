#!/usr/bin/python3
"""tls_burst_server.py - a python3-websockets server over TLS (wss) that sends each client a
burst of large messages back to back, without a pause: text and binary messages of 1 to 8
MiB among small ones (about 30 MiB in all), the same every time (seeded); then a ping, and
once its pong is back (the client has read everything) it drops the TCP connection without
TLS's close_notify or a close frame: a truncated stream.

  tls_burst_server.py PORT CERT KEY LIST

LIST gets the listing of one burst: a line "kind sha256 length" per message, as
`large_frames.py list` prints the data frames of a journal.
"""
import asyncio
import hashlib
import random
import ssl
import sys

import websockets

port, cert, key, listing = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rnd = random.Random(32)


def text(n):
    unit = '{"px":"%d.25","book":"é€x"},' % rnd.randrange(1000)
    s = (unit * (n // len(unit.encode()) + 1)).encode()[:n].decode(errors="ignore")
    return s + "x" * (n - len(s.encode()))


msgs = []
for n in (8 << 20, 3 << 20, 5 << 20, 1 << 20, 6 << 20, (2 << 20) + 17, 4 << 20):
    msgs.append(text(n) if len(msgs) % 2 == 0 else rnd.randbytes(n))
    msgs += [text(rnd.choice((20, 200, 4000))) for _ in range(20)]
msgs.append(rnd.randbytes(70000))

with open(listing, "w") as f:
    for m in msgs:
        b = m.encode() if isinstance(m, str) else m
        f.write("%s %s %d\n" % ("text" if isinstance(m, str) else "binary", hashlib.sha256(b).hexdigest(), len(b)))


async def handler(ws, path=None):
    for m in msgs:
        await ws.send(m)
    pong = await ws.ping()
    await pong
    ws.transport.abort()


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    async with websockets.serve(handler, "127.0.0.1", port, ssl=ctx, max_size=None, compression=None,
                                ping_interval=None):
        await asyncio.Future()

asyncio.run(main())
