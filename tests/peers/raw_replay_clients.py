#!/usr/bin/python3
"""raw_replay_clients.py - python3-websockets clients of a raw replay of the `syn` recording
(fixtures/recordings.py syn: 60 frames carrying their index i, text {"i": i} or binary with
i as the first byte; the client message {"ping":1} recorded after frame 3). Each asserts
what it gets and exits 1 when that fails.

  raw_replay_clients.py gate PORT
      against --gate: frames 0..3 come, then nothing (for 0.5 s) until the client sends the
      recorded message; then frame 4
  raw_replay_clients.py idle-drop PORT CODE
      against --gate --drop-every 0.4s: the 4 frames before the gate, then the drop, with
      close code CODE (1006: abrupt), and not before 0.4 s after connecting
  raw_replay_clients.py join-loop URL OUT.json
      against --mode live --loop: a first client follows the shared timeline; a second joins
      once the first is 20 frames into the second pass, and its first frame is within 6 of
      the one the first client is getting then (both read in one event loop); the second
      client's first 70 frames go to OUT.json as replay_client.py writes them (for
      checks/replay_frames.py loop)
"""
import asyncio
import base64
import json
import sys
import time

import websockets


async def gate(port):
    async with websockets.connect("ws://127.0.0.1:%s/" % port) as ws:
        # frames 0..3, then the recording's client message: nothing more until it is sent
        got = [json.loads(await asyncio.wait_for(ws.recv(), 30))["i"] for _ in range(4)]
        assert got == [0, 1, 2, 3], got
        try:
            extra = await asyncio.wait_for(ws.recv(), 0.5)
            raise AssertionError(("a frame before the client's message", extra[:80]))
        except asyncio.TimeoutError:
            pass
        await ws.send('{"ping":1}')
        more = await asyncio.wait_for(ws.recv(), 30)
        assert json.loads(more)["i"] == 4


async def idle_drop(port, code):
    n, t0 = 0, time.monotonic()
    async with websockets.connect("ws://127.0.0.1:%s/" % port) as ws:
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 30)   # (a drop that never comes times out)
                n += 1
        except websockets.ConnectionClosed:
            pass
        t = time.monotonic() - t0
    assert n == 4, n
    assert ws.close_code == int(code), ws.close_code
    assert t >= 0.4, t   # not before its time


def idx(m):
    return m[0] if isinstance(m, bytes) else json.loads(m)["i"]


async def join_loop(url, out):
    state = {"pass": 0, "i": None}
    second = asyncio.Event()

    async def follow(a):
        async for m in a:
            i = idx(m)
            if state["i"] is None or i < state["i"]:
                state["pass"] += 1
            state["i"] = i
            if state["pass"] == 2 and i >= 20:
                second.set()
    async with websockets.connect(url) as a:
        task = asyncio.create_task(follow(a))
        await asyncio.wait_for(second.wait(), 30)
        async with websockets.connect(url) as b:
            m = await asyncio.wait_for(b.recv(), 30)
            first, at = idx(m), state["i"]
            frames = [m]
            while len(frames) < 70:
                frames.append(await asyncio.wait_for(b.recv(), 30))
        task.cancel()
    print("joined at frame", first, "while the first client was at", at)
    assert min((first - at) % 60, (at - first) % 60) <= 6, ("joined at", first, "the timeline at", at)
    json.dump({"frames": [{"t": 0, "binary": isinstance(m, bytes),
                           "data": base64.b64encode(m).decode() if isinstance(m, bytes) else m} for m in frames],
               "close": None}, open(out, "w"))


MODES = {"gate": gate, "idle-drop": idle_drop, "join-loop": join_loop}
if len(sys.argv) < 3 or sys.argv[1] not in MODES:
    sys.exit("usage: raw_replay_clients.py %s ARGS" % "|".join(MODES))
asyncio.run(MODES[sys.argv[1]](*sys.argv[2:]))
