#!/usr/bin/python3
"""ticker_server.py - a WebSocket server that sends numbered JSON texts, for the retention
tests (tests/t3e_retention.sh).

  ticker_server.py PORT

Paths:
  /stream   a text every 2 ms, each with 400 bytes of random letters (so that small
            segments fill and rotate), until the client closes
  /burst    20 texts at once, then nothing (the connection stays open): an idle writer
"""
import asyncio, json, random, sys
import websockets

PORT = int(sys.argv[1])


async def handler(ws, path=None):
    path = path or ws.path
    n = 0
    if path.startswith("/burst"):
        for n in range(20):
            await ws.send(json.dumps({"n": n}))
        await ws.wait_closed()
        return
    rnd = random.Random(7)
    while True:
        n += 1
        pad = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(400))
        try:
            await ws.send(json.dumps({"n": n, "pad": pad}))
        except websockets.ConnectionClosed:
            return
        await asyncio.sleep(0.002)


async def main():
    async with websockets.serve(handler, "127.0.0.1", PORT):
        await asyncio.Future()

asyncio.run(main())
