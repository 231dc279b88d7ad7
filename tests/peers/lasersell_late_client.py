#!/usr/bin/python3
"""lasersell_late_client.py - a LaserSell client (python3-websockets, after the stream docs)
that joins a live replay late: are the holdings re-emitted after configure?

usage: lasersell_late_client.py PORT      (against the `holdings` recording of
                                           fixtures/recordings.py, --mode live)

Joins the timeline 1.5 s after it started (started by lib.sh's client_first, it is running
before the server), sends configure for wallet W and reads 5 messages. Asserts: hello_ok;
then what the server re-emits for existing holdings, the last balance_update of mint M1
(7 tokens, as recorded) and position_opened of position 2 (1 was closed); then the
pnl_updates of position 2 at the stream's edge (profit_units 8 or more: not from the
start). Exits 1 when one fails.
"""
import asyncio
import json
import sys

import websockets

import ready  # noqa: F401  (waits for the server)


async def main():
    await asyncio.sleep(1.5)   # join the timeline 1.5 s after it started
    async with websockets.connect("ws://127.0.0.1:%s/v1/ws" % sys.argv[1]) as ws:
        await ws.send(json.dumps({"type": "configure", "wallet_pubkeys": ["W"], "strategy": {}}))
        got = [json.loads(await ws.recv()) for _ in range(5)]
    t = [(m["type"], m.get("mint") if m["type"] == "balance_update" else m.get("position_id")) for m in got]
    assert t[0][0] == "hello_ok", t
    assert t[1:3] == [("balance_update", "M1"), ("position_opened", 2)], t
    assert got[1]["tokens"] == 7, got[1]                      # the last balance, as recorded
    assert all(x == ("pnl_update", 2) for x in t[3:]), t      # then the stream at its edge
    assert got[3]["profit_units"] >= 8, got[3]               # joined after 1.5 s, not from the start

asyncio.run(main())
