#!/usr/bin/python3
"""binance_depth_server.py - a local Binance Spot market-stream server for the diff. depth
stream, written from Binance's public docs (docs/exchanges.md has the facts and their URLs),
with seeded gaps, duplicates and a dropped connection.

  binance_depth_server.py [--port 0] --log LOG --truth TRUTH.json [options]

Prints "port N" once it listens. Paths, as the docs give them:
  /stream?streams=a/b   combined streams: each event wrapped as {"stream":NAME,"data":EVENT}
  /stream               combined, nothing subscribed until a SUBSCRIBE
  /ws/NAME, /ws         raw streams: the events themselves
Requests (JSON text): SUBSCRIBE / UNSUBSCRIBE {"method","params":[names],"id"} answered
{"result":null,"id"}; LIST_SUBSCRIPTIONS; SET_PROPERTY / GET_PROPERTY "combined"; the
documented errors for an unknown method, a bad id, a missing method, bad JSON.
A stream <symbol>@depth (every 1000 ms) or <symbol>@depth@100ms (every 100 ms;
--interval-ms overrides both) sends depthUpdate events {"e","E","s","U","u","b","a"}; each
event's U is the previous event's u + 1 (one event covers 1 to 5 update ids). The server
sends a WebSocket ping frame every --ping-s seconds (docs: 20).

Faults, drawn from --seed: --gaps N runs of 1-3 events never sent (their update ids are
skipped), --dups N events sent twice in a row, --drop N closes the first connection after
N data frames (--drop-mode abort: the TCP connection ends with no close
frame, what was sent flushed first; close: a close frame 1001) and --drop-skip K leaves out the
first K events of each stream on the connection after it (missed while disconnected).
Each of the --streams (default btcusdt@depth,ethusdt@depth) has --count events; the
streams are the server's, so a new connection goes on where the dropped one stopped (one
client at a time). TRUTH lists what was seeded (seeded_plan.py), LOG every frame sent
and received; "done" is logged once every stream has sent its last event.
"""
import argparse
import asyncio
import http
import json
import random
import sys
import time
import urllib.parse

import websockets

from seeded_plan import Log, Plan, Truth

METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
BASE_PRICE = {"btcusdt": 91000.0, "ethusdt": 3100.0, "bnbbtc": 0.0095}


def compact(v):
    return json.dumps(v, separators=(",", ":"))


class DepthFeed:
    """the events of every stream and the plan's faults; no I/O (fixtures/gen_exchanges.py
    drives it with its own clock)"""

    def __init__(self, streams, count, seed, gaps=0, dups=0, drop=0, drop_skip=0, truth=None):
        self.streams = list(streams)
        self.count = count
        self.drop_skip = drop_skip
        avoid = [drop // len(self.streams)] if drop else []
        self.plan = Plan(self.streams, count, seed, gaps=gaps, dups=dups, avoid=avoid)
        self.truth = truth
        self.rng = {s: random.Random("binance:%d:%s" % (seed, s)) for s in self.streams}
        self.pos = {s: 0 for s in self.streams}
        self.next_id = {s: 1000000 * (i + 1) + random.Random("%d:%s" % (seed, s)).randint(1, 99999)
                        for i, s in enumerate(self.streams)}
        self.last = {}            # stream -> (u, conn) of the last event sent
        self.conn_start = {}      # stream -> conn whose first event is still to come

    def exhausted(self, s):
        return s not in self.pos or self.pos[s] >= self.count

    def _event(self, s, now_ms):
        rng = self.rng[s]
        sym = s.split("@")[0]
        first = self.next_id[s]
        last = first + rng.randint(1, 5) - 1
        self.next_id[s] = last + 1
        base = BASE_PRICE.get(sym, 100.0)
        tick = base / 100000

        def levels(side, n):
            out = []
            for _ in range(n):
                px = base + side * rng.randint(1, 60) * tick
                qty = "0.00000000" if rng.random() < 0.15 else "%.8f" % (rng.randint(1, 500000) / 1e5)
                out.append(["%.8f" % px, qty])
            return out
        nb = rng.randint(0, 3)
        ev = {"e": "depthUpdate", "E": now_ms, "s": sym.upper(), "U": first, "u": last,
              "b": levels(-1, nb), "a": levels(1, rng.randint(0 if nb else 1, 3))}
        return ev

    def new_conn(self, conn):
        """a connection starts: with --drop-skip, the events it missed"""
        for s in self.streams:
            self.conn_start[s] = conn

    def next_frames(self, s, now_ms, conn, combined=True):
        """the frames stream s sends now on connection conn: [] when it has no more; an
        event, or an event twice (a seeded duplicate)"""
        if self.exhausted(s):
            return []
        plan = self.plan
        skipped = []
        first_on_conn = self.conn_start.get(s) == conn
        if first_on_conn:
            self.conn_start[s] = None
            if self.drop_skip and s in self.last and self.last[s][1] != conn:
                for _ in range(self.drop_skip):
                    if self.pos[s] < self.count - 1:
                        skipped.append(self._event(s, now_ms))
                        self.pos[s] += 1
        while self.pos[s] in plan.skip[s] and self.pos[s] < self.count - 1:
            skipped.append(self._event(s, now_ms))
            self.pos[s] += 1
        i = self.pos[s]
        self.pos[s] += 1
        ev = self._event(s, now_ms)
        text = compact({"stream": s, "data": ev} if combined else ev)
        if skipped and self.truth is not None and s in self.last:
            after, prev_conn = self.last[s]
            self.truth.add(s, "gaps", {"conn": conn, "after": after, "first": skipped[0]["U"],
                                       "last": skipped[-1]["u"], "next": ev["U"],
                                       "messages": len(skipped), "ids": ev["U"] - after - 1,
                                       "across_reconnect": prev_conn != conn})
        self.last[s] = (ev["u"], conn)
        frames = [("data", text, ev["u"])]
        if self.truth is not None:
            self.truth.sent(s, ev["u"])
        if i in plan.dup[s]:
            frames.append(("dup", text, ev["u"]))
            if self.truth is not None:
                self.truth.add(s, "dups", {"conn": conn, "seq": ev["u"], "first": ev["U"], "copies": 2})
        return frames


def error_for(text):
    """(answer, request) for a request text: the documented error, or None and the request"""
    try:
        req = json.loads(text)
    except ValueError as e:
        return {"code": 3, "msg": "Invalid JSON: expected value at line %d column %d" % (e.lineno, e.colno)}, None
    if not isinstance(req, dict):
        return {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}, None
    if "method" not in req:
        return {"code": 2, "msg": "Invalid request: missing field `method` at line 1 column %d" % len(text)}, None
    m = req["method"]
    if m not in METHODS:
        # the position just after the method's value, as the documented message gives it
        at = text.find(json.dumps(m)[1:-1]) + len(json.dumps(m)[1:-1]) + 1
        return {"code": 2, "msg": "Invalid request: unknown variant `%s`, expected one of `SUBSCRIBE`, "
                "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column %d"
                % (m, at)}, None
    rid = req.get("id", ())
    ok_id = rid is None or (isinstance(rid, int) and not isinstance(rid, bool)) or \
        (isinstance(rid, str) and len(rid) <= 36 and rid.isalnum())
    if not ok_id:
        return {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}, None
    return None, req


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default=None)
    ap.add_argument("--truth", default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--streams", default="btcusdt@depth,ethusdt@depth")
    ap.add_argument("--count", type=int, default=40, help="events per stream")
    ap.add_argument("--gaps", type=int, default=0)
    ap.add_argument("--dups", type=int, default=0)
    ap.add_argument("--drop", type=int, default=0, help="close the first connection after N data frames")
    ap.add_argument("--drop-mode", choices=("abort", "close"), default="abort")
    ap.add_argument("--drop-skip", type=int, default=0)
    ap.add_argument("--interval-ms", type=float, default=0, help="every stream's period (default: its name's)")
    ap.add_argument("--ping-s", type=float, default=20)
    args = ap.parse_args()

    streams = [s for s in args.streams.split(",") if s]
    truth = Truth(args.truth, "binance-depth", "range", args.seed, vars(args))
    feed = DepthFeed(streams, args.count, args.seed, args.gaps, args.dups, args.drop, args.drop_skip, truth)
    log = Log(args.log, time.time)
    conns = [0]
    done = [False]

    def period(s):
        if args.interval_ms:
            return args.interval_ms / 1000
        return 0.1 if s.endswith("@100ms") else 1.0

    async def reject(path, headers):
        p = urllib.parse.urlsplit(path).path
        if p == "/stream" or p == "/ws" or p.startswith("/ws/"):
            return None
        return http.HTTPStatus.NOT_FOUND, [], b"not found\n"

    async def handler(ws, path=None):
        path = path or ws.path
        u = urllib.parse.urlsplit(path)
        conns[0] += 1
        conn = conns[0]
        combined = u.path == "/stream"
        subs = []
        if combined:
            q = urllib.parse.parse_qs(u.query).get("streams", [""])[0]
            subs = [s for s in q.split("/") if s]
        elif u.path.startswith("/ws/"):
            subs = [s for s in u.path[4:].split("/") if s]
        feed.new_conn(conn)
        log("connect", conn=conn, path=path, subs=list(subs))
        state = {"combined": combined, "data": 0, "dropped": False}
        due = {}

        async def send(text, **kw):
            await ws.send(text)
            log("send", conn=conn, **kw)

        async def answer(obj):
            await send(compact(obj), kind="answer", msg=obj)

        async def reader():
            try:
                await read_all()
            except websockets.ConnectionClosed:
                pass

        async def read_all():
            async for m in ws:
                if isinstance(m, bytes):
                    log("recv", conn=conn, binary=m.hex())
                    continue
                log("recv", conn=conn, msg=m)
                err, req = error_for(m)
                if err:
                    await answer(err)
                    continue
                meth, params, rid = req["method"], req.get("params", []), req.get("id")
                if meth in ("SUBSCRIBE", "UNSUBSCRIBE"):
                    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                        await answer({"code": 2, "msg": "Invalid request: too many parameters"})
                        continue
                    for p in params:
                        if meth == "SUBSCRIBE" and p not in subs:
                            subs.append(p)
                        elif meth == "UNSUBSCRIBE" and p in subs:
                            subs.remove(p)
                    await answer({"result": None, "id": rid})
                elif meth == "LIST_SUBSCRIPTIONS":
                    await answer({"result": list(subs), "id": rid})
                elif not isinstance(params, list) or not params or not isinstance(params[0], str):
                    await answer({"code": 2, "msg": "Invalid request: property name must be a string"})
                elif params[0] != "combined":
                    await answer({"code": 0, "msg": "Unknown property", "id": rid})
                elif meth == "GET_PROPERTY":
                    await answer({"result": state["combined"], "id": rid})
                elif len(params) != 2 or not isinstance(params[1], bool):
                    await answer({"code": 1, "msg": "Invalid value type: expected Boolean"})
                else:
                    state["combined"] = params[1]
                    await answer({"result": None, "id": rid})

        async def pump():
            try:
                await pump_all()
            except websockets.ConnectionClosed:
                pass

        async def pump_all():
            while True:
                now = time.monotonic()
                for s in list(subs):
                    due.setdefault(s, now + period(s))
                    if due[s] > now:
                        continue
                    due[s] = now + period(s)
                    for kind, text, seq in feed.next_frames(s, int(time.time() * 1000), conn, state["combined"]):
                        await send(text, kind=kind, stream=s, seq=seq)
                        state["data"] += 1
                    if feed.exhausted(s):
                        log("exhausted", conn=conn, stream=s)
                if await truth.maybe_drop(args, state, conn, path, ws, log):
                    return
                truth.maybe_done(done, all(feed.exhausted(s) for s in streams), conn, log)
                waits = [due[s] for s in subs if s in due and not feed.exhausted(s)]
                await asyncio.sleep(max(0.0, min(waits) - time.monotonic()) if waits else 0.05)

        rd = asyncio.ensure_future(reader())
        pm = asyncio.ensure_future(pump())
        try:
            await asyncio.wait([rd, pm], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (rd, pm):
                t.cancel()
            if not state["dropped"]:
                truth.conn({"conn": conn, "path": path, "data_frames": state["data"], "end": "client",
                            "close_code": ws.close_code})
            log("close", conn=conn, code=ws.close_code)

    async def run():
        async with websockets.serve(handler, "127.0.0.1", args.port, process_request=reject,
                                    ping_interval=args.ping_s or None, ping_timeout=60,
                                    compression=None) as srv:
            port = srv.sockets[0].getsockname()[1]
            print("port %d" % port, flush=True)
            await asyncio.Future()

    asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
