#!/usr/bin/python3
"""spec_ticks_client.py - a client of the trade feed of tests/fixtures/ticks.json, for
`wstape replay` of a journal of it (t53): it pings first ({"op":"ping"}, before any
subscribe, so the answer is the server's own, not a recorded one), then subscribes to ONE
channel, and checks that the data frames it gets are that channel's, all of them, in the
recorded order.

  spec_ticks_client.py URL TOPIC:SYMBOL JOURNAL.jsonl

JOURNAL.jsonl is the journal as `wstape cat` prints it. Reads until the server closes or
60 s went by. Exit 0 when {"op":"pong"} answered the ping and the data frames are exactly
the recorded frames of the channel; else the reason, exit 1.
"""
import asyncio
import json
import sys
import time

import websockets


def channel_of(msg):
    if isinstance(msg, dict) and "trades" in msg:
        return "%s:%s" % (msg.get("topic"), msg.get("symbol"))
    return None


async def run(url, channel, recorded):
    topic, symbol = channel.split(":", 1)
    got, others, bad = [], [], []
    async with websockets.connect(url, max_size=None, open_timeout=30) as ws:
        await ws.send(json.dumps({"op": "ping"}))
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        except (asyncio.TimeoutError, ValueError, websockets.ConnectionClosed) as e:
            first = repr(e)
        if first != {"op": "pong"}:
            bad.append("the ping got %r, not {\"op\":\"pong\"}" % (first,))
        await ws.send(json.dumps({"op": "subscribe", "topics": [{"topic": topic, "symbol": symbol}]}))
        end = time.monotonic() + 60
        try:
            while time.monotonic() < end:
                m = await asyncio.wait_for(ws.recv(), max(0.1, end - time.monotonic()))
                ch = channel_of(json.loads(m))
                if ch == channel:
                    got.append(m)
                elif ch is not None:
                    others.append(ch)
        except (websockets.ConnectionClosed, asyncio.TimeoutError):
            pass
    if others:
        bad.append("%d data frames of other channels (%s)" % (len(others), ", ".join(sorted(set(others)))))
    if got != recorded:
        bad.append("%d frames of %s, the journal holds %d (or not in their order)" % (len(got), channel, len(recorded)))
    print("%s: %d data frames of %d recorded" % (channel, len(got), len(recorded)))
    for b in bad:
        print("FAIL:", b, file=sys.stderr)
    return 1 if bad else 0


def main():
    url, channel, journal = sys.argv[1:4]
    recorded = []
    for line in open(journal):
        r = json.loads(line)
        if r["dir"] == "in" and r["kind"] == "text":
            try:
                if channel_of(json.loads(r["payload"])) == channel:
                    recorded.append(r["payload"])
            except ValueError:
                pass
    return asyncio.run(run(url, channel, recorded))


if __name__ == "__main__":
    sys.exit(main())
