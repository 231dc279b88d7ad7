#!/usr/bin/python3
"""flood_server.py - a WebSocket server (python3-websockets) that sends text frames as fast
as it can to every client and logs, as JSON lines, each connection and the close frame it
got from the client (RFC 6455: code and reason; none when the TCP connection just ended).

usage: flood_server.py --port P --log FILE [--size N] [--no-answer]

--no-answer: the client's close frame is not answered (the closing handshake never ends).
"""
import argparse
import asyncio
import json
import time

import websockets

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--size", type=int, default=200)
ap.add_argument("--no-answer", action="store_true")
args = ap.parse_args()
logf = open(args.log, "a", buffering=1)


def log(ev, **kw):
    kw["ev"] = ev
    kw["t"] = time.time()
    logf.write(json.dumps(kw, separators=(",", ":")) + "\n")


conn_ids = iter(range(1, 1 << 30))


async def handler(ws, path=None):
    cid = next(conn_ids)
    log("connect", conn=cid)
    n = 0
    pad = "x" * max(0, args.size - 40)

    async def reader():
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass

    rt = asyncio.ensure_future(reader())
    try:
        while True:
            n += 1
            await ws.send('{"n":%d,"pad":"%s"}' % (n, pad))
            if n % 64 == 0:
                await asyncio.sleep(0)
            if ws.close_rcvd is not None:
                break
    except websockets.ConnectionClosed:
        pass
    await rt
    rcvd = ws.close_rcvd
    log("closed", conn=cid, sent=n, close_code=rcvd.code if rcvd else None,
        close_reason=rcvd.reason if rcvd else None)


class NoAnswer(websockets.WebSocketServerProtocol):
    async def write_close_frame(self, close, data=None):
        if self.close_rcvd is not None and self.close_sent is None:
            log("close_not_answered", code=self.close_rcvd.code)
            return
        return await super().write_close_frame(close, data)


async def main():
    kw = {"create_protocol": NoAnswer} if args.no_answer else {}
    async with websockets.serve(handler, "127.0.0.1", args.port, max_size=None, ping_interval=None,
                                compression=None, **kw):
        log("listening", port=args.port)
        await asyncio.Future()


asyncio.run(main())
