#!/usr/bin/python3
"""spec_replay_client.py - an exchange client, written from the exchanges' docs
(docs/exchanges.md), for `wstape replay --feed spec:...`: it subscribes to ONE channel and
checks that the data frames it gets are that channel's alone, a part of what was recorded
on it, in the recorded order.

  spec_replay_client.py binance|okx URL CHANNEL JOURNAL.jsonl

binance: sends {"method":"SUBSCRIBE","params":[CHANNEL],"id":1} (CHANNEL a stream name such
as btcusdt@depth); a data frame is a combined-stream event {"stream","data"}.
okx: sends {"op":"subscribe","args":[{"channel":"books","instId":X}]} (CHANNEL books:X),
then the text "ping", and expects the text "pong"; a data frame is a push {"arg","data"}.
JOURNAL.jsonl is the recorded journal as `wstape cat` prints it. The client reads until the
server closes (the end of the recording) or 60 s went by. Exit 0 when: at least one data
frame came, every one is of CHANNEL, they are recorded frames of CHANNEL in recorded order,
and (okx) a "pong" came; else the reason, exit 1.
"""
import asyncio
import json
import sys
import time

import websockets


def channel_of(feed, msg):
    if not isinstance(msg, dict) or "data" not in msg:
        return None
    if feed == "binance":
        return msg.get("stream")
    arg = msg.get("arg") or {}
    return "%s:%s" % (arg.get("channel"), arg.get("instId"))


async def run(feed, url, channel, recorded):
    got, others, pong, control = [], [], False, 0
    async with websockets.connect(url, max_size=None, open_timeout=30) as ws:
        if feed == "binance":
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": [channel], "id": 1}))
        else:
            inst = channel.split(":", 1)[1]
            await ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": inst}]}))
            await ws.send("ping")
        end = time.monotonic() + 60
        try:
            while time.monotonic() < end:
                m = await asyncio.wait_for(ws.recv(), max(0.1, end - time.monotonic()))
                if m == "pong":
                    pong = True
                    continue
                try:
                    msg = json.loads(m)
                except (TypeError, ValueError):
                    control += 1
                    continue
                ch = channel_of(feed, msg)
                if ch is None:
                    control += 1
                elif ch == channel:
                    got.append(m)
                else:
                    others.append(ch)
        except (websockets.ConnectionClosed, asyncio.TimeoutError):
            pass
    bad = []
    if not got:
        bad.append("no data frame of %s" % channel)
    if others:
        bad.append("%d data frames of other channels (%s)" % (len(others), ", ".join(sorted(set(others)))))
    it = iter(recorded)
    if not all(any(m == r for r in it) for m in got):
        bad.append("the %d frames of %s are not recorded frames in recorded order" % (len(got), channel))
    if feed == "okx" and not pong:
        bad.append('no "pong" for the "ping"')
    print("%s: %d data frames (of %d recorded), %d control frames%s" % (
        channel, len(got), len(recorded), control, ", pong" if pong else ""))
    for b in bad:
        print("FAIL:", b, file=sys.stderr)
    return 1 if bad else 0


def main():
    feed, url, channel, journal = sys.argv[1:5]
    recorded = []
    for line in open(journal):
        r = json.loads(line)
        if r["dir"] == "in" and r["kind"] == "text" and "payload" in r:
            try:
                msg = json.loads(r["payload"])
            except ValueError:
                continue
            if channel_of(feed, msg) == channel:
                recorded.append(r["payload"])
    return asyncio.run(run(feed, url, channel, recorded))


if __name__ == "__main__":
    sys.exit(main())
