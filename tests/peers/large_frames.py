#!/usr/bin/python3
"""large_frames.py - python3-websockets peers of the large-frame test (t43), and the
listing they are compared by: one line "kind sha256 length" per message (text or binary,
the sha256 of its whole payload, fragments joined).

  large_frames.py serve PORT LIST      the original server: text, binary, fragmented, empty
                                       and 2 MiB messages (more than 16 MiB in all), in an
                                       order seeded the same every time, over about 2 s to
                                       each client; then it waits for the client to go.
                                       Writes what it sends, as the listing, to LIST
  large_frames.py client URL OUT [PAUSE [deflate]]
                                       a client: the listing of every message it gets, then
                                       "close CODE", to OUT; it waits PAUSE seconds (default
                                       0) before it starts reading; with deflate it offers
                                       permessage-deflate and asserts it was negotiated
  large_frames.py list                 the listing of the data frames of a journal, from
                                       `wstape cat --direction in` on standard input
(peers/large_frames_client.mjs is the same client on Node ws.)
"""
import asyncio
import base64
import hashlib
import json
import random
import sys

import websockets


def serve(port, listing):
    port = int(port)
    rnd = random.Random(43)

    def text(n):
        # valid UTF-8 of exactly n bytes, multibyte characters included
        unit = '{"px":"1.25","book":"é€x"}'.encode()
        s = (unit * (n // len(unit) + 1))[:n].decode(errors="ignore")
        return s + "x" * (n - len(s.encode()))

    def binary(n):
        return rnd.randbytes(n)

    msgs = []   # (payload or list of fragments)
    for i in range(9):   # 2 MiB: 5 text, 4 binary
        msgs.append(text(2 << 20) if i % 2 == 0 else binary(2 << 20))
    for n in (200_000, 700_000, 1_500_000):
        msgs += [text(n), binary(n)]
    for n in (1, 125, 126, 127, 65535, 65536, 65537):
        msgs += [text(n), binary(n)]
    msgs += ["", b"", "", b""]
    msgs.append([text(300), text(2), text(70000)])                    # fragmented text
    msgs.append([text(400_000), text(400_000), text(300_000)])        # a large one, in fragments
    msgs.append([binary(1000), b"", binary(90000)])    # fragmented binary
    msgs.append(["", text(10)])
    for i in range(300):
        n = rnd.choice((20, 80, 200, 500, 1200, 4000))
        msgs.append(text(n) if i % 8 else binary(n))
    head, rest = msgs[:1], msgs[1:]
    rnd.shuffle(rest)
    msgs = head + rest   # a 2 MiB frame first, the others anywhere

    with open(listing, "w") as f:
        for m in msgs:
            whole = ("".join(m).encode() if isinstance(m[0], str) else b"".join(m)) if isinstance(m, list) \
                else (m.encode() if isinstance(m, str) else m)
            kind = "text" if isinstance(m if not isinstance(m, list) else m[0], str) else "binary"
            f.write("%s %s %d\n" % (kind, hashlib.sha256(whole).hexdigest(), len(whole)))

    async def handler(ws, path=None):
        for m in msgs:
            await ws.send(iter(m) if isinstance(m, list) else m)
            await asyncio.sleep(2.0 / len(msgs))
        await ws.wait_closed()

    async def main():
        async with websockets.serve(handler, "127.0.0.1", port, max_size=None, compression=None,
                                    ping_interval=None):
            await asyncio.Future()

    asyncio.run(main())


def client(url, out, pause=0, deflate=""):
    pause = float(pause)
    deflate = deflate == "deflate"

    async def main():
        lines = []
        async with websockets.connect(url, max_size=None, compression="deflate" if deflate else None,
                                      max_queue=4, ping_interval=None) as ws:
            if deflate:
                assert ws.extensions, "no permessage-deflate negotiated"
            await asyncio.sleep(pause)
            try:
                async for m in ws:
                    b = m.encode() if isinstance(m, str) else m
                    lines.append("%s %s %d" % ("text" if isinstance(m, str) else "binary",
                                               hashlib.sha256(b).hexdigest(), len(b)))
            except websockets.ConnectionClosed:
                pass
            lines.append("close %s" % ws.close_code)
        open(out, "w").write("\n".join(lines) + "\n")

    asyncio.run(main())


def listing():
    for line in sys.stdin:
        r = json.loads(line)
        if r["kind"] in ("text", "binary"):
            b = r["payload"].encode() if "payload" in r else base64.b64decode(r["payload_b64"])
            print("%s %s %d" % (r["kind"], hashlib.sha256(b).hexdigest(), len(b)))


MODES = {"serve": serve, "client": client, "list": listing}
if len(sys.argv) < 2 or sys.argv[1] not in MODES:
    sys.exit("usage: large_frames.py %s ARGS" % "|".join(MODES))
MODES[sys.argv[1]](*sys.argv[2:])
