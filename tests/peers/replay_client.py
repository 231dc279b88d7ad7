#!/usr/bin/python3
"""replay_client.py - WebSocket clients for the replay tests (python3-websockets).

  replay_client.py collect URL OUT.json          every frame until the server closes:
                                                 [{"t": seconds, "binary": bool, "data": ...}], close code
  replay_client.py take URL OUT.json SECS         like collect, but for SECS seconds at most
                                                 (then it closes; "close" is null if the server did not)
  replay_client.py many URL N                    N clients at once; prints frames per client
  replay_client.py hydro URL OUT.json [opts]     the docs' client: subscribe, resume with
                                                 sessionId + cursor, buffer live during replay, dedup
"""
import asyncio, json, os, sys, time, base64
import websockets


async def collect(url, out, secs=None):
    frames, t0 = [], time.monotonic()
    code = None

    async def read(ws):
        try:
            async for m in ws:
                frames.append({"t": time.monotonic() - t0, "binary": isinstance(m, bytes),
                               "data": base64.b64encode(m).decode() if isinstance(m, bytes) else m})
        except websockets.ConnectionClosed:
            pass

    async with websockets.connect(url, max_size=None, compression=None) as ws:
        try:
            await asyncio.wait_for(read(ws), secs)
            code = ws.close_code
        except asyncio.TimeoutError:
            pass
    json.dump({"frames": frames, "close": code}, open(out, "w"))


async def one(url):
    n = 0
    async with websockets.connect(url, max_size=None, open_timeout=30) as ws:
        try:
            async for _ in ws:
                n += 1
        except websockets.ConnectionClosed:
            pass
    return n


async def many(url, n):
    res = await asyncio.gather(*[one(url) for _ in range(n)], return_exceptions=True)
    print(json.dumps([r if isinstance(r, int) else str(r) for r in res]))


def key(ev):
    f = ev[1] if isinstance(ev, list) else ev
    return (f.get("time", 0), f.get("txIndex", 0))


async def hydro(url, out, drops, pause, token):
    """Follows the Hydromancer docs: save sessionId, track the cursor of every processed
    message, reconnect with sessionId + cursor, buffer live messages until the replay is
    complete, deduplicate by (time, txIndex) keeping the last seen key."""
    session, cursor = None, None
    events, log = [], []
    last = (-1, -1)
    connects = 0

    def take(evs):
        nonlocal last
        for ev in evs:
            k = key(ev)
            if k <= last:
                # several fills can share a key: same key again is new only if not seen
                if json.dumps(ev, sort_keys=True) in recent:
                    continue
            recent.add(json.dumps(ev, sort_keys=True))
            last = max(last, k)
            events.append(ev)

    recent = set()
    while True:
        q = "?token=%s" % token
        if session:
            q += "&sessionId=%s" % session
            if cursor:
                q += "&cursor=%s" % cursor
        connects += 1
        received = 0
        replaying, buffered, total = False, [], None
        try:
            async with websockets.connect(url + q, max_size=None) as ws:
                async for raw in ws:
                    m = json.loads(raw)
                    t = m.get("type")
                    log.append({k: m[k] for k in ("type", "seq", "cursor", "chunk", "totalChunks", "hasGap", "count") if k in m})
                    if t == "connected":
                        session = m["sessionId"]
                        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
                    elif t == "reconnected":
                        replaying = True
                    elif t == "ping":
                        await ws.send(json.dumps({"method": "pong"}))
                    elif t == "replay":
                        take(m["data"])
                        cursor = m.get("cursor") or cursor
                        if m["chunk"] == m["totalChunks"]:
                            replaying = False
                            for b in buffered:
                                take(b["fills"])
                                cursor = b.get("cursor") or cursor
                            buffered = []
                    elif t == "allFills":
                        received += 1
                        if replaying:
                            buffered.append(m)
                        else:
                            take(m["fills"])
                            cursor = m.get("cursor") or cursor
                        if drops and connects <= len(drops) and received >= drops[connects - 1]:
                            break
            if drops and connects <= len(drops):
                await asyncio.sleep(pause)
                continue
            break
        except websockets.ConnectionClosed:
            if drops and connects <= len(drops):
                await asyncio.sleep(pause)
                continue
            break
    json.dump({"events": events, "log": log, "connects": connects}, open(out, "w"))


if __name__ == "__main__":
    if "READY" in os.environ:   # started before its server (tests/lib.sh client_first)
        import ready
    cmd = sys.argv[1]
    if cmd == "collect":
        asyncio.run(collect(sys.argv[2], sys.argv[3]))
    elif cmd == "take":
        asyncio.run(collect(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    elif cmd == "many":
        asyncio.run(many(sys.argv[2], int(sys.argv[3])))
    elif cmd == "hydro":
        drops = [int(x) for x in sys.argv[4].split(",")] if len(sys.argv) > 4 and sys.argv[4] else []
        pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0.2
        token = sys.argv[6] if len(sys.argv) > 6 else "t"
        asyncio.run(hydro(sys.argv[2], sys.argv[3], drops, pause, token))
