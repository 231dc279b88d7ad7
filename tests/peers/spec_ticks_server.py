#!/usr/bin/python3
"""spec_ticks_server.py - a server of the small trade feed that tests/fixtures/ticks.json
declares, written from that spec's words (t53).

  spec_ticks_server.py --port 0 --log LOG [--count N] [--interval-ms MS]

A client subscribes with {"op":"subscribe","topics":[{"topic":T,"symbol":S},...]}; each
topic is answered with {"type":"subscribed","topic":T,"symbol":S}, then the channel
T:S gets N messages {"type":"trade","topic":T,"symbol":S,"sequence":K,"trades":[{"id":...}]}
with K = 1, 2, ... (the spec's rule: consecutive), interleaved across the channels. Seeded
faults, on the first two channels subscribed: the first skips sequences 5 and 6 (a gap of
two) and sends sequence 9 twice (an exact duplicate frame); the second carries the trade of
sequence 7 again in sequence 8 (a duplicate event: the same key "id"). {"op":"ping"} is
answered with {"op":"pong"}. After the last message the server says nothing, so that a
client that pings after a silence (the spec's ping: from the client, every_s) does.
LOG gets one JSON line per event: {"ev":"subscribe"|"send"|"ping"|"done", ...}.
Prints "port N" once it listens.
"""
import argparse
import asyncio
import json

import websockets

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--log", required=True)
ap.add_argument("--count", type=int, default=12)
ap.add_argument("--interval-ms", type=int, default=20)
A = ap.parse_args()


def log(**ev):
    with open(A.log, "a") as f:
        f.write(json.dumps(ev) + "\n")


def trade(topic, symbol, seq, trade_seq):
    return json.dumps({"type": "trade", "topic": topic, "symbol": symbol, "sequence": seq,
                       "trades": [{"id": "%s-%d" % (symbol, trade_seq), "px": "%d.5" % (100 + trade_seq), "qty": "1"}]})


async def stream(ws, chans):
    for k in range(1, A.count + 1):
        for i, (topic, symbol) in enumerate(chans):
            if i == 0 and k in (5, 6):
                continue                      # the gap
            msg = trade(topic, symbol, k, 7 if (i == 1 and k == 8) else k)
            copies = 2 if (i == 0 and k == 9) else 1
            for _ in range(copies):
                await ws.send(msg)
                log(ev="send", channel="%s:%s" % (topic, symbol), seq=k)
        await asyncio.sleep(A.interval_ms / 1000)
    log(ev="done")


async def handler(ws, path=None):
    task = None
    try:
        async for m in ws:
            try:
                msg = json.loads(m)
            except ValueError:
                continue
            if msg == {"op": "ping"}:
                log(ev="ping")
                await ws.send(json.dumps({"op": "pong"}))
            elif isinstance(msg, dict) and msg.get("op") == "subscribe" and task is None:
                chans = [(t["topic"], t["symbol"]) for t in msg.get("topics", [])]
                log(ev="subscribe", channels=["%s:%s" % c for c in chans])
                for topic, symbol in chans:
                    await ws.send(json.dumps({"type": "subscribed", "topic": topic, "symbol": symbol}))
                task = asyncio.ensure_future(stream(ws, chans))
    except websockets.ConnectionClosed:
        pass
    if task:
        task.cancel()


async def main():
    async with websockets.serve(handler, "127.0.0.1", A.port) as srv:
        print("port %d" % srv.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


asyncio.run(main())
