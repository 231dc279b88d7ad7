#!/usr/bin/python3
"""hydromancer_server.py - a fake Hydromancer WebSocket server that follows the public docs.

Sessions with sessionId, `connected` / `reconnected`, subscriptions restored on reconnect,
per-connection seq from 1, opaque cursors "block:time:txIndex", replay of the cached events
newer than the client's cursor in chunks (`chunk`, `totalChunks`, `cursor`, `hasGap` only when
true), a grace period after a disconnect, JSON pings, a token checked on upgrade (HTTP 401).

A second channel, leverageUpdates (--leverage-rate), has numeric cursors (the event's
timestamp, as the docs say of leverage updates) that run --leverage-lead-ms ahead of the
allFills block times; --drop-after-leverage makes SIGUSR1 wait for the next leverage message,
so the last message before the drop is the channel whose cursor is the newer one.

The documented errors, each an {"type":"error","message":...} followed by a close:
--auth-error answers a bad token so ("Invalid API key") instead of HTTP 401;
--session-not-found answers a resume with an unknown or expired sessionId with "Session not
found" (instead of a new session); --rate-limit N answers connections 2 to N+1 with "Rate
limit exceeded".

It drops connections on command: SIGUSR1 aborts every connection (TCP gone, no close frame),
SIGUSR2 closes them with 1001; after either, upgrades get HTTP 503 for --down-s seconds; --drop-every S does the same periodically, alternating.

Every event it produces is written to --log as a JSON line with the sessions it was produced
for (subscribed sessions, connected or within their grace period), so a test can check that a
recorder journaled every one of them, including those produced while it was disconnected.
"""
import argparse
import asyncio
import http
import itertools
import json
import signal
import ssl
import sys
import time
import urllib.parse
import uuid
from collections import deque

import websockets

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--token", default=None, help="required ?token= value (401 otherwise)")
ap.add_argument("--log", default=None)
ap.add_argument("--rate", type=float, default=200.0, help="events per second")
ap.add_argument("--batch", type=int, default=2, help="events per live message")
ap.add_argument("--block-events", type=int, default=5, help="events per block")
ap.add_argument("--cache-s", type=float, default=30.0)
ap.add_argument("--grace-s", type=float, default=30.0)
ap.add_argument("--chunk-items", type=int, default=2000)
ap.add_argument("--ping-s", type=float, default=0)
ap.add_argument("--drop-every", type=float, default=0)
ap.add_argument("--down-s", type=float, default=0, help="after a drop, answer upgrades with 503 this long")
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
ap.add_argument("--leverage-rate", type=float, default=0, help="leverageUpdates events per second")
ap.add_argument("--leverage-lead-ms", type=int, default=1000)
ap.add_argument("--drop-after-leverage", action="store_true")
ap.add_argument("--auth-error", action="store_true")
ap.add_argument("--session-not-found", action="store_true")
ap.add_argument("--rate-limit", type=int, default=0)
# what a live inspect finds (t3f): seq numbers skipped, events sent twice, replays with hasGap
ap.add_argument("--skip-seq-every", type=int, default=0, help="skip a seq number every N allFills messages")
ap.add_argument("--dup-every", type=int, default=0, help="send every Nth allFills message's fills again")
ap.add_argument("--force-has-gap", action="store_true", help="every resumed replay says hasGap")
args = ap.parse_args()

logf = open(args.log, "a", buffering=1) if args.log else None


def log(ev, **kw):
    if logf:
        kw["ev"] = ev
        kw["t"] = time.time()
        logf.write(json.dumps(kw, separators=(",", ":")) + "\n")


class Session:
    def __init__(self):
        self.sid = str(uuid.uuid4())
        self.subs = []
        self.ws = None
        self.conn = None
        self.disconnected_at = None
        self.cursor_sent = None      # server-side cursor: the last one it sent

    def alive(self, now):
        return self.ws is not None or (self.disconnected_at is not None and
                                       now - self.disconnected_at <= args.grace_s)


class Conn:
    def __init__(self, ws, session):
        self.ws = ws
        self.session = session
        self.seq = {}
        self.lock = asyncio.Lock()


sessions = {}
cache = deque()            # (produced_at, channel, key, cursor, item)
evicted_max = None         # key of the newest event that left the cache
conns = set()
block = 1000
base_ms = int(time.time() * 1000)


INF = float("inf")


def cursor_key(c):
    """(time, txIndex) of a cursor: "block:ts:tx", "block:ts" (after every event of the
    block) or a numeric "ts" (after every event of that time)."""
    try:
        parts = [int(x) for x in str(c).split(":")]
    except ValueError:
        return None
    if len(parts) == 3:
        return (parts[1], parts[2])
    if len(parts) == 2:
        return (parts[1], INF)
    return (parts[0], INF) if len(parts) == 1 else None


def produce(n):
    """n new events for allFills; returns [(key, cursor, item)]."""
    global block, evicted_max
    out = []
    now = time.time()
    for _ in range(n):
        idx = produce.count
        produce.count += 1
        blk = block + idx // args.block_events
        tx = idx % args.block_events
        t_ms = base_ms + blk * 70
        cur = f"{blk}:{t_ms}:{tx}"
        item = ["0x%040x" % (idx + 1), {"coin": "ETH", "px": "%.2f" % (2150 + idx % 97 / 10),
                "sz": "0.1", "side": "B" if idx % 2 else "A", "time": t_ms, "txIndex": tx,
                "tid": idx + 1, "hash": "0x%064x" % (idx * 7919)}]
        key = (t_ms, tx)
        cache.append((now, "allFills", key, cur, item))
        out.append((key, cur, item))
    evict(now)
    return out


def evict(now):
    global evicted_max
    while cache and now - cache[0][0] > args.cache_s:
        evicted_max = cache.popleft()[2]


produce.count = 0


def produce_leverage():
    """one leverageUpdates event: numeric cursor = its time, ahead of the fills' times."""
    now = time.time()
    idx = produce_leverage.count
    produce_leverage.count += 1
    t_ms = base_ms + (block + produce.count // args.block_events) * 70 + args.leverage_lead_ms + idx % 7
    item = {"user": "0x%040x" % (idx + 1), "coin": "ETH", "leverage": 3 + idx % 5, "time": t_ms,
            "txIndex": idx}
    key = (t_ms, idx)
    cache.append((now, "leverageUpdates", key, t_ms, item))
    evict(now)
    return key, t_ms, item


produce_leverage.count = 0
drop_pending = False


async def send(conn, obj):
    try:
        await conn.ws.send(json.dumps(obj, separators=(",", ":")))
        return True
    except websockets.ConnectionClosed:
        return False


async def producer():
    interval = args.batch / args.rate
    next_t = time.monotonic()
    while True:
        next_t += interval
        await asyncio.sleep(max(0, next_t - time.monotonic()))
        evs = produce(args.batch)
        now = time.time()
        targets = [s for s in sessions.values() if "allFills" in s.subs and s.alive(now)]
        for key, cur, _ in evs:
            log("produced", key=list(key), cursor=cur, channel="allFills", sessions=[s.sid for s in targets])
        for s in targets:
            c = s.conn
            if s.ws is None or c is None:
                continue
            c.seq["allFills"] = c.seq.get("allFills", 0) + 1
            if args.skip_seq_every and c.seq["allFills"] % args.skip_seq_every == 0:
                c.seq["allFills"] += 1
            msg = {"type": "allFills", "seq": c.seq["allFills"], "cursor": evs[-1][1],
                   "fills": [e[2] for e in evs]}
            s.cursor_sent = evs[-1][1]
            await send(c, msg)
            if args.dup_every and c.seq["allFills"] % args.dup_every == 0:
                c.seq["allFills"] += 1
                await send(c, dict(msg, seq=c.seq["allFills"]))


async def leverage_producer():
    global drop_pending
    while args.leverage_rate > 0:
        await asyncio.sleep(1 / args.leverage_rate)
        key, cur, item = produce_leverage()
        targets = [s for s in sessions.values() if "leverageUpdates" in s.subs and s.alive(time.time())]
        log("produced", key=list(key), cursor=cur, channel="leverageUpdates", sessions=[s.sid for s in targets])
        for s in targets:
            c = s.conn
            if s.ws is None or c is None:
                continue
            c.seq["leverageUpdates"] = c.seq.get("leverageUpdates", 0) + 1
            await send(c, {"type": "leverageUpdates", "seq": c.seq["leverageUpdates"], "cursor": cur,
                           "updates": [item]})
        if drop_pending and targets:
            drop_pending = False
            drop_all(True)


async def replay(conn, cursor):
    s = conn.session
    ck = cursor_key(cursor) if cursor else None
    for ch in s.subs:
        items = [(k, c, it) for (_, cch, k, c, it) in list(cache) if cch == ch and (ck is None or k > ck)]
        gap = ck is not None and (args.force_has_gap or (evicted_max is not None and evicted_max > ck))
        chunks = [items[i:i + args.chunk_items] for i in range(0, len(items), args.chunk_items)] or [[]]
        log("replay", sid=s.sid, conn=conn_id(conn), channel=ch, cursor=cursor, count=len(items),
            chunks=len(chunks), hasGap=gap)
        for n, part in enumerate(chunks, 1):
            cur = part[-1][1] if part else (cursor or (cache[-1][3] if cache else "0:0:0"))
            msg = {"type": "replay", "channel": ch, "replayTimeMs": cur, "cursor": cur,
                   "count": len(part), "chunk": n, "totalChunks": len(chunks),
                   "data": [p[2] for p in part]}
            if gap and n == 1:
                msg["hasGap"] = True
            if not await send(conn, msg):
                return


_conn_ids = itertools.count(1)


def conn_id(conn):
    if not hasattr(conn, "id"):
        conn.id = next(_conn_ids)
    return conn.id


async def pinger(conn):
    while args.ping_s > 0:
        await asyncio.sleep(args.ping_s)
        if not await send(conn, {"type": "ping"}):
            return


def query(path):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query, keep_blank_values=True))


down_until = 0.0


async def process_request(path, headers):
    q = query(path)
    if time.time() < down_until:
        log("reject", status=503)
        return http.HTTPStatus.SERVICE_UNAVAILABLE, [("Content-Type", "text/plain")], b"restarting\n"
    if args.token is not None and q.get("token") != args.token and not args.auth_error:
        log("reject", status=401)
        return http.HTTPStatus.UNAUTHORIZED, [("Content-Type", "text/plain")], b"Invalid API key\n"
    return None


_upgrades = itertools.count(1)


async def refuse(ws, message, **kw):
    log("refuse", message=message, **kw)
    try:
        await ws.send(json.dumps({"type": "error", "message": message}))
        await ws.close(1008, message)
    except websockets.ConnectionClosed:
        pass


async def handler(ws, path):
    q = query(path)
    now = time.time()
    n_upgrade = next(_upgrades)
    if args.auth_error and args.token is not None and q.get("token") != args.token:
        return await refuse(ws, "Invalid API key")
    if 2 <= n_upgrade <= 1 + args.rate_limit:
        return await refuse(ws, "Rate limit exceeded", upgrade=n_upgrade)
    sid, cursor = q.get("sessionId"), q.get("cursor")
    s = sessions.get(sid) if sid else None
    resumed = s is not None and s.alive(now) and s.ws is None
    if not resumed:
        if sid and args.session_not_found:
            return await refuse(ws, "Session not found", sid=sid)
        if sid:
            log("session_expired", sid=sid)
        s = Session()
        sessions[s.sid] = s
        cursor = None
    conn = Conn(ws, s)
    conns.add(conn)
    s.ws, s.conn, s.disconnected_at = ws, conn, None
    log("connect", sid=s.sid, conn=conn_id(conn), resumed=resumed, cursor=cursor,
        liveFormat=q.get("liveFormat"))
    ping_task = asyncio.ensure_future(pinger(conn))
    try:
        if resumed:
            await send(conn, {"type": "reconnected", "clientId": str(uuid.uuid4()), "sessionId": s.sid,
                              "subscriptions": list(s.subs), "lastSeq": 0})
            await replay(conn, cursor or s.cursor_sent)
        else:
            await send(conn, {"type": "connected", "clientId": str(uuid.uuid4()), "sessionId": s.sid})
        async for raw in ws:
            try:
                m = json.loads(raw)
            except (ValueError, TypeError):
                log("bad_message", sid=s.sid)
                await send(conn, {"type": "error", "message": "invalid JSON"})
                continue
            if m.get("method") == "subscribe":
                typ = (m.get("subscription") or {}).get("type")
                if typ and typ not in s.subs:
                    s.subs.append(typ)
                log("subscribe", sid=s.sid, type=typ)
                await send(conn, {"type": "subscriptionUpdate", "subscribed": [typ], "failed": []})
            elif m.get("type") == "pong":
                log("pong", sid=s.sid, conn=conn_id(conn))
    except websockets.ConnectionClosed:
        pass
    finally:
        ping_task.cancel()
        conns.discard(conn)
        if s.ws is ws:
            s.ws, s.conn, s.disconnected_at = None, None, time.time()
        log("disconnect", sid=s.sid, conn=conn_id(conn))


def on_usr1():
    global drop_pending
    if args.drop_after_leverage:
        drop_pending = True
    else:
        drop_all(True)


def drop_all(hard):
    global down_until
    down_until = time.time() + args.down_s
    log("drop", hard=hard, conns=len(conns))
    for c in list(conns):
        if hard:
            c.ws.transport.abort()
        else:
            asyncio.ensure_future(c.ws.close(1001, "server restart"))


async def dropper():
    hard = True
    while args.drop_every > 0:
        await asyncio.sleep(args.drop_every)
        drop_all(hard)
        hard = not hard


async def main():
    ctx = None
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, on_usr1)
    loop.add_signal_handler(signal.SIGUSR2, drop_all, False)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(handler, args.host, args.port, ssl=ctx, process_request=process_request,
                                max_size=None, ping_interval=None):
        log("listening", port=args.port)
        tasks = [asyncio.ensure_future(producer()), asyncio.ensure_future(dropper()),
                 asyncio.ensure_future(leverage_producer())]
        await stop
        for t in tasks:
            t.cancel()


asyncio.run(main())
