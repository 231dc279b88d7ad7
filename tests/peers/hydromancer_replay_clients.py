#!/usr/bin/python3
"""hydromancer_replay_clients.py - python3-websockets clients of `wstape replay --feed
hydromancer --token t`, written from the Hydromancer docs (sessions, subscribe, seq per
connection, resume with sessionId + cursor, replay chunks, liveFormat, ping/pong, errors).
Each asserts what the docs say it gets and exits 1 when that fails. The arguments after
MODE are the script's own (sys.argv[1] is the first of them).

  resume-max PORT REC.jsonl   (--speed max) a client with a small receive buffer takes 50
                              allFills, the network fails, it resumes with sessionId and
                              cursor: "reconnected", a replay, and overall every event of the
                              recording once, in order (replay and live deduplicated)
  second-subscribe PORT       a second subscription (userFills) does not cost allFills a seq
                              number: seq 1..40
  resume-tracked PORT         (live) a resume with sessionId and no cursor: "reconnected",
                              then a replay with a cursor, from after what the server sent
  takeover PORT               (live) a resume while the old connection is still open takes
                              the session over: "reconnected" with the subscriptions, a
                              replay, the old connection closed, the new one goes on
  resume-over-buffer PORT     (live, --max-buffer 1m) a short absence replays; after a long
                              one (6 s) the client is let go without a replay
  live-format PORT PORT2      PORT serves a chunked-v1 recording: a connection without
                              liveFormat=chunked-v1 is refused, with it served, and a resume
                              must ask again; PORT2 (a default-format recording) refuses it
  pong-timeout PORT PORT2     PORT (--pong-timeout 1s): a client that never answers is
                              closed with "Connection timeout" after 0.9 to 15 s; PORT2
                              (--ping-s 0.3, --pong-timeout 2s): one that answers stays
                              through 15 pings
  bad-input PORT              a bad token ("Invalid API key"), an unknown subscription
                              (failed), malformed JSON (an error, the connection stays), then
                              allFills from seq 1
  ids PORT                    two connections: clientId and sessionId are version 4 UUIDs,
                              four different ones; prints them
Started by tests/lib.sh's client_first (READY set), a client says it is ready (ready.py)
and waits for its server first.
"""
import asyncio
import json
import os
import re
import socket
import sys
import time

import websockets

if os.environ.get("READY"):
    import ready  # noqa: F401  (waits for the server)


def resume_max():
    # a client with a small receive buffer, so that the server is mid-recording when it drops
    allev = []
    for l in open(sys.argv[2]):
        p = json.loads(json.loads(l)["payload"])
        if p["type"] == "allFills":
            allev += p["fills"]
    def conn(q):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        s.connect(("127.0.0.1", int(sys.argv[1])))
        return websockets.connect("ws://127.0.0.1:%s/?token=t%s" % (sys.argv[1], q), sock=s, max_size=None, max_queue=4)
    async def main():
        got, n = [], 0
        async with conn("") as ws:
            sid = json.loads(await ws.recv())["sessionId"]
            await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
            while n < 50:
                m = json.loads(await ws.recv())
                if m["type"] == "allFills":
                    got += m["fills"]; cur = m["cursor"]; n += 1
            ws.transport.abort()   # the network fails
        types, replayed = [], 0
        async with conn("&sessionId=%s&cursor=%s" % (sid, cur)) as ws:
            try:
                async for raw in ws:
                    m = json.loads(raw); types.append(m["type"])
                    if m["type"] == "replay":
                        got += m["data"]; replayed += m["count"]
                    elif m["type"] == "allFills":
                        got += m["fills"]
            except websockets.ConnectionClosed:
                pass
        assert types[0] == "reconnected", types[:3]
        assert replayed > 0, "nothing replayed"
        seen, uniq = set(), []
        for e in got:          # replay/live may overlap: deduplicate the same event
            k = json.dumps(e, sort_keys=True)
            if k not in seen:
                seen.add(k); uniq.append(e)
        assert uniq == allev, ("lost or reordered", len(uniq), len(allev))
        print("events", len(uniq), "replayed", replayed)
    asyncio.run(main())


def second_subscribe():
    async def main():
        async with websockets.connect("ws://127.0.0.1:%s/?token=t" % sys.argv[1]) as ws:
            assert json.loads(await ws.recv())["type"] == "connected"
            await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
            seqs = []
            while len(seqs) < 40:
                m = json.loads(await ws.recv())
                if m["type"] == "allFills":
                    seqs.append(m["seq"])
                    if len(seqs) == 5:
                        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "userFills"}}))
            assert seqs == list(range(1, 41)), seqs
    asyncio.run(main())


def resume_tracked():
    url = "ws://127.0.0.1:%s/?token=t" % sys.argv[1]
    async def main():
        async with websockets.connect(url) as ws:
            sid = json.loads(await ws.recv())["sessionId"]
            await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
            n = 0
            while n < 20:
                m = json.loads(await ws.recv())
                if m["type"] == "allFills":
                    last = m["fills"][-1]; n += 1
            ws.transport.abort()
        await asyncio.sleep(0.5)
        async with websockets.connect(url + "&sessionId=" + sid) as ws:
            assert json.loads(await ws.recv())["type"] == "reconnected"
            m = json.loads(await ws.recv())
            assert m["type"] == "replay" and m["count"] > 0, m
            # after what the server sent, so after what this client received
            assert re.fullmatch(r"\d+:\d+:\d+", m["cursor"]), m["cursor"]
            assert m["data"][0][1]["tid"] > last[1]["tid"], (m["data"][0], last)
    asyncio.run(main())


def takeover():
    url = "ws://127.0.0.1:%s/?token=t" % sys.argv[1]
    async def main():
        old = await websockets.connect(url)
        sid = json.loads(await old.recv())["sessionId"]
        await old.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
        n = 0
        while n < 20:
            m = json.loads(await old.recv())
            if m["type"] == "allFills":
                cur = m["cursor"]; n += 1
        await asyncio.sleep(0.3)   # the old connection stays open and stops reading
        async with websockets.connect(url + "&sessionId=%s&cursor=%s" % (sid, cur)) as ws:
            m = json.loads(await ws.recv())
            assert m["type"] == "reconnected" and m["sessionId"] == sid and m["subscriptions"] == ["allFills"], m
            m = json.loads(await ws.recv())
            assert m["type"] == "replay" and m["count"] > 0, m
            # (closed by the takeover: the log line below says so; the timeline would close it too)
            try:
                while True:
                    await asyncio.wait_for(old.recv(), 30)
            except websockets.ConnectionClosed:
                pass
            # the new one goes on, live
            m = json.loads(await ws.recv())
            assert m["type"] in ("replay", "allFills"), m
    asyncio.run(main())


def resume_over_buffer():
    url = "ws://127.0.0.1:%s/?token=t" % sys.argv[1]
    async def read_live(ws, n):
        while n:
            m = json.loads(await ws.recv())
            if m["type"] == "allFills":
                cur = m["cursor"]; n -= 1
        return cur
    async def main():
        ws = await websockets.connect(url)
        sid = json.loads(await ws.recv())["sessionId"]
        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
        cur = await read_live(ws, 10)
        ws.transport.abort()
        await asyncio.sleep(0.1)
        ws = await websockets.connect(url + "&sessionId=%s&cursor=%s" % (sid, cur))
        assert json.loads(await ws.recv())["type"] == "reconnected"
        m = json.loads(await ws.recv())
        assert m["type"] == "replay" and m["count"] > 0, m
        cur = await read_live(ws, 10)
        ws.transport.abort()
        await asyncio.sleep(6)
        got = []
        try:
            async with websockets.connect(url + "&sessionId=%s&cursor=%s" % (sid, cur)) as ws:
                while True:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 3)))
        except (websockets.ConnectionClosed, websockets.InvalidHandshake, ConnectionError):
            pass
        assert not any(m["type"] == "replay" for m in got), (len(got), [m["type"] for m in got][:5])
    asyncio.run(main())


def live_format():
    url = "ws://127.0.0.1:%s/?token=t" % sys.argv[1]
    async def refused(u, want):
        async with websockets.connect(u) as ws:
            m = json.loads(await ws.recv())
            assert m["type"] == "error" and want in m["message"], m
            try:
                await asyncio.wait_for(ws.recv(), 20)
                assert False, "still open"
            except websockets.ConnectionClosed:
                pass
    async def main():
        await refused(url, "liveFormat=chunked-v1 is required")
        async with websockets.connect(url + "&liveFormat=chunked-v1") as ws:
            m = json.loads(await ws.recv())
            assert m["type"] == "connected", m
            sid = m["sessionId"]
            await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
            n = 0
            while n < 10:
                m = json.loads(await ws.recv())
                if m["type"] == "allFills":
                    cur = m["cursor"]; n += 1
            ws.transport.abort()
        await asyncio.sleep(0.3)
        back = url + "&sessionId=%s&cursor=%s" % (sid, cur)
        # the session does not remember the format: leaving it out is refused
        await refused(back, "liveFormat=chunked-v1 is required")
        async with websockets.connect(back + "&liveFormat=chunked-v1") as ws:
            m = json.loads(await ws.recv())
            assert m["type"] == "reconnected" and m["sessionId"] == sid, m
            m = json.loads(await ws.recv())
            assert m["type"] == "replay" and m["count"] > 0, m
        await refused("ws://127.0.0.1:%s/?token=t&liveFormat=chunked-v1" % sys.argv[2],
                      "liveFormat 'chunked-v1' is not available")
    asyncio.run(main())


def pong_timeout():
    async def main():
        t0 = time.monotonic()   # before connecting: the server's clock starts after this one
        async with websockets.connect("ws://127.0.0.1:%s/?token=t" % sys.argv[1]) as ws:
            assert json.loads(await ws.recv())["type"] == "connected"
            await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
            err = None
            try:
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 25))
                    if m["type"] == "error":
                        err, t = m, time.monotonic() - t0
            except websockets.ConnectionClosed:
                pass
            assert err and err["message"] == "Connection timeout", err
            assert 0.9 <= t <= 15, t
        async with websockets.connect("ws://127.0.0.1:%s/?token=t" % sys.argv[2]) as ws:
            pings = 0
            while pings < 15:
                m = json.loads(await asyncio.wait_for(ws.recv(), 20))
                assert m["type"] != "error", m
                if m["type"] == "ping":
                    pings += 1
                    await ws.send(json.dumps({"method": "pong"}))
    asyncio.run(main())


def bad_input():
    async def main():
        url = "ws://127.0.0.1:%s/" % sys.argv[1]
        async with websockets.connect(url + "?token=nope") as ws:
            m = json.loads(await ws.recv())
            assert m["type"] == "error" and m["message"] == "Invalid API key", m
        async with websockets.connect(url + "?token=t") as ws:
            assert json.loads(await ws.recv())["type"] == "connected"
            await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "noSuchFeed"}}))
            m = json.loads(await ws.recv())
            assert m == {"type": "subscriptionUpdate", "subscribed": [], "failed": ["noSuchFeed"]}, m
            await ws.send("{not json")
            m = json.loads(await ws.recv())
            assert m["type"] == "error", m
            await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
            m = json.loads(await ws.recv())
            assert m["subscribed"] == ["allFills"], m
            m = json.loads(await ws.recv())
            assert m["type"] == "allFills" and m["seq"] == 1, m
    asyncio.run(main())


def ids():
    U = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    async def main():
        out = []
        for _ in range(2):
            async with websockets.connect("ws://127.0.0.1:%s/?token=t" % sys.argv[1]) as ws:
                m = json.loads(await ws.recv())
                assert m["type"] == "connected", m
                for k in ("clientId", "sessionId"):
                    assert U.match(m[k]), (k, m[k])
                    out.append(m[k])
        assert len(set(out)) == 4, out
        print(" ".join(out))
    asyncio.run(main())

MODES = {"resume-max": resume_max, "second-subscribe": second_subscribe, "resume-tracked": resume_tracked,
         "takeover": takeover, "resume-over-buffer": resume_over_buffer, "live-format": live_format,
         "pong-timeout": pong_timeout, "bad-input": bad_input, "ids": ids}
if len(sys.argv) < 3 or sys.argv[1] not in MODES:
    sys.exit("usage: hydromancer_replay_clients.py %s PORT ..." % "|".join(MODES))
mode = MODES[sys.argv[1]]
sys.argv = sys.argv[:1] + sys.argv[2:]
mode()
