#!/usr/bin/python3
"""raw_server.py - a plain WebSocket server (python3-websockets) for the recorder's raw tests.

  raw_server.py PORT LOG

Paths:
  /403        refuses the upgrade with HTTP 403
  /feed       logs every client message; then sends: a message in three fragments, a
              malformed JSON text, a 64 MiB binary frame, a ping frame, numbered JSON texts
              every 20 ms; after 30 of them it drops the first connection abruptly and
              keeps the later ones open (until the client closes: a client that stops
              after some number of messages closes cleanly however late it reads them)
Every message a client sends is appended to LOG, one JSON line each.
"""
import asyncio, http, json, os, sys
import websockets

PORT, LOG = int(sys.argv[1]), sys.argv[2]
feeds = [0]


async def reject(path, headers):
    if path.startswith("/403"):
        return http.HTTPStatus.FORBIDDEN, [], b"forbidden\n"
    return None


async def handler(ws, path=None):
    path = path or ws.path

    async def reader():
        async for m in ws:
            with open(LOG, "a") as f:
                f.write(json.dumps({"path": path, "msg": m if isinstance(m, str) else m.hex()}) + "\n")

    feeds[0] += 1
    first = feeds[0] == 1
    rd = asyncio.ensure_future(reader())
    await asyncio.sleep(0.2)    # the client's --send messages arrive first
    await ws.send(iter(['{"part":', '"one two', ' three"}']))
    await ws.send('{"broken": ')
    await ws.send(os.urandom(64 << 20))
    await ws.ping(b"hi")
    for i in range(30):
        await ws.send(json.dumps({"n": i}))
        await asyncio.sleep(0.02)
    if first:
        ws.transport.abort()
        rd.cancel()
        return
    await rd


async def main():
    async with websockets.serve(handler, "127.0.0.1", PORT, process_request=reject,
                                max_size=None, compression=None):
        await asyncio.Future()

asyncio.run(main())
