#!/usr/bin/python3
"""okx_books_server.py - a local OKX v5 public WebSocket server for the `books` channel,
written from OKX's public docs (docs/exchanges.md has the facts and their URLs), with seeded
gaps, duplicates, no-change messages and a dropped connection.

  okx_books_server.py [--port 0] --log LOG --truth TRUTH.json [options]

Prints "port N" once it listens on /ws/v5/public. {"op":"subscribe","args":[{"channel":
"books","instId":X}, ...],"id"?} is answered, per argument, {"id"?,"event":"subscribe",
"arg":{...},"connId":...}, then a full snapshot {"arg","action":"snapshot","data":[{"asks",
"bids","ts","checksum","prevSeqId":-1,"seqId"}]}; every 100 ms (--interval-ms) an
incremental "update" whose prevSeqId is the seqId of the message before it (seqIds grow by
1 to 20), checksum the CRC32 of the top 25 levels (bid and ask interleaved, signed).
unsubscribe is answered alike; an unknown channel or instrument gets error 60018, a request
that is not one gets 60012, an unknown op 60019. The text "ping" is answered "pong". A
connection that has not subscribed within --idle-s seconds (docs: 30), or was sent nothing
for that long, is closed.

Faults, drawn from --seed: --gaps N runs of 1-3 updates never sent, --dups N updates sent
twice in a row, --keepalives N no-change messages ("asks":[],"bids":[], seqId ==
prevSeqId == the last seqId), --drop N closes the first connection after N data frames
(--drop-mode abort: the TCP connection ends with no close frame, what was sent flushed
first; close: a close frame 1001); the client's subscribe on its next connection gets a new
snapshot (prevSeqId -1: the chain restarts). Each of the --inst (default BTC-USDT,ETH-USDT)
has --count updates; the books are the server's, so a new connection goes on where the
dropped one stopped (one client at a time). TRUTH lists what was seeded (seeded_plan.py),
LOG every frame sent and received; "done" is logged once every book has sent its last
update.
"""
import argparse
import asyncio
import http
import json
import random
import sys
import time
import zlib

import websockets

from seeded_plan import Log, Plan, Truth

BASE = {"BTC-USDT": (91000.0, 0.1), "ETH-USDT": (3100.0, 0.01)}


def compact(v):
    return json.dumps(v, separators=(",", ":"))


def num(x, places):
    s = "%.*f" % (places, x)
    return s.rstrip("0").rstrip(".") if "." in s else s


def checksum(bids, asks):
    """the documented checksum: the first 25 bids and asks, bid and ask alternately,
    price:size, joined with ':' (a side that runs out is left out), CRC32 as a signed int"""
    parts = []
    for i in range(25):
        if i < len(bids):
            parts.append("%s:%s" % (bids[i][0], bids[i][1]))
        if i < len(asks):
            parts.append("%s:%s" % (asks[i][0], asks[i][1]))
    c = zlib.crc32(":".join(parts).encode())
    return c - (1 << 32) if c >= 1 << 31 else c


class Book:
    def __init__(self, inst, rng):
        self.rng = rng
        mid, self.tick = BASE.get(inst, (100.0, 0.01))
        self.mid = mid
        self.places = 1 if self.tick >= 0.1 else 2
        self.sides = {"bids": {}, "asks": {}}
        for k in range(1, 11):
            self.set("bids", k), self.set("asks", k)

    def price(self, side, k):
        return num(self.mid - k * self.tick if side == "bids" else self.mid + k * self.tick, self.places)

    def set(self, side, k):
        lvl = [self.price(side, k), num(self.rng.randint(1, 40000) / 1e4, 4), "0", str(self.rng.randint(1, 20))]
        self.sides[side][lvl[0]] = lvl
        return lvl

    def levels(self, side):
        return sorted(self.sides[side].values(), key=lambda lv: float(lv[0]), reverse=side == "bids")

    def change(self):
        """1 to 3 level changes: {"asks": [...], "bids": [...]}"""
        out = {"asks": [], "bids": []}
        for _ in range(self.rng.randint(1, 3)):
            side = self.rng.choice(("asks", "bids"))
            have = self.sides[side]
            if len(have) > 3 and self.rng.random() < 0.3:
                px = self.rng.choice(sorted(have))
                del have[px]
                out[side].append([px, "0", "0", "0"])
            else:
                out[side].append(list(self.set(side, self.rng.randint(1, 15))))
        return out

    def checksum(self):
        return checksum(self.levels("bids"), self.levels("asks"))


class BooksFeed:
    """the books of every instrument and the plan's faults; no I/O (fixtures/gen_exchanges.py
    drives it with its own clock)"""

    def __init__(self, insts, count, seed, gaps=0, dups=0, keepalives=0, drop=0, truth=None):
        self.insts = list(insts)
        self.count = count
        avoid = [drop // len(self.insts)] if drop else []
        names = [self.name(i) for i in self.insts]
        self.plan = Plan(names, count, seed, gaps=gaps, dups=dups, keepalives=keepalives, avoid=avoid)
        self.truth = truth
        self.rng = {i: random.Random("okx:%d:%s" % (seed, i)) for i in self.insts}
        self.books = {i: Book(i, self.rng[i]) for i in self.insts}
        self.seq = {i: 1000 * (n + 1) + self.rng[i].randint(0, 999) for n, i in enumerate(self.insts)}
        self.pos = {i: 0 for i in self.insts}
        self.last_sent = {}       # inst -> the seqId the client saw last

    @staticmethod
    def name(inst):
        return "books:" + inst

    def exhausted(self, inst):
        return inst not in self.pos or self.pos[inst] >= self.count

    def _push(self, inst, action, data):
        return compact({"arg": {"channel": "books", "instId": inst}, "action": action, "data": [data]})

    def snapshot(self, inst, now_ms, conn):
        b = self.books[inst]
        text = self._push(inst, "snapshot", {"asks": b.levels("asks"), "bids": b.levels("bids"),
                                             "ts": str(now_ms), "checksum": b.checksum(),
                                             "prevSeqId": -1, "seqId": self.seq[inst]})
        self.last_sent[inst] = self.seq[inst]
        if self.truth is not None:
            self.truth.add(self.name(inst), "snapshots", {"conn": conn, "seq": self.seq[inst]})
        return ("snapshot", text, self.seq[inst])

    def _update(self, inst, now_ms):
        b = self.books[inst]
        ch = b.change()
        prev = self.seq[inst]
        self.seq[inst] = prev + self.rng[inst].randint(1, 20)
        return self._push(inst, "update", {"asks": ch["asks"], "bids": ch["bids"], "ts": str(now_ms),
                                           "checksum": b.checksum(), "prevSeqId": prev,
                                           "seqId": self.seq[inst]})

    def next_frames(self, inst, now_ms, conn):
        """the frames inst sends now: [] when it has no more; an update, twice (a seeded
        duplicate) or followed by a no-change message (a seeded keepalive)"""
        if self.exhausted(inst):
            return []
        name, plan = self.name(inst), self.plan
        missing = []
        while self.pos[inst] in plan.skip[name] and self.pos[inst] < self.count - 1:
            self._update(inst, now_ms)
            missing.append(self.seq[inst])
            self.pos[inst] += 1
        i = self.pos[inst]
        self.pos[inst] += 1
        prev = self.seq[inst]
        text = self._update(inst, now_ms)
        seq = self.seq[inst]
        if missing and self.truth is not None:
            self.truth.add(name, "gaps", {"conn": conn, "after": self.last_sent.get(inst), "missing": missing,
                                          "first": missing[0], "last": missing[-1], "next_prev": prev,
                                          "next": seq, "messages": len(missing)})
        frames = [("data", text, seq)]
        if self.truth is not None:
            self.truth.sent(name, seq)
        if i in plan.dup[name]:
            frames.append(("dup", text, seq))
            if self.truth is not None:
                self.truth.add(name, "dups", {"conn": conn, "seq": seq, "copies": 2})
        if i in plan.keep[name]:
            b = self.books[inst]
            frames.append(("keepalive", self._push(inst, "update", {
                "asks": [], "bids": [], "ts": str(now_ms + 1), "checksum": b.checksum(),
                "prevSeqId": seq, "seqId": seq}), seq))
            if self.truth is not None:
                self.truth.add(name, "keepalives", {"conn": conn, "seq": seq})
        self.last_sent[inst] = seq
        return frames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default=None)
    ap.add_argument("--truth", default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--inst", default="BTC-USDT,ETH-USDT")
    ap.add_argument("--count", type=int, default=40, help="updates per instrument")
    ap.add_argument("--gaps", type=int, default=0)
    ap.add_argument("--dups", type=int, default=0)
    ap.add_argument("--keepalives", type=int, default=0)
    ap.add_argument("--drop", type=int, default=0, help="close the first connection after N data frames")
    ap.add_argument("--drop-mode", choices=("abort", "close"), default="abort")
    ap.add_argument("--interval-ms", type=float, default=100)
    ap.add_argument("--idle-s", type=float, default=30)
    args = ap.parse_args()

    insts = [i for i in args.inst.split(",") if i]
    truth = Truth(args.truth, "okx-books", "link", args.seed, vars(args))
    feed = BooksFeed(insts, args.count, args.seed, args.gaps, args.dups, args.keepalives, args.drop, truth)
    log = Log(args.log, time.time)
    conns = [0]
    done = [False]

    async def reject(path, headers):
        if path.split("?")[0] == "/ws/v5/public":
            return None
        return http.HTTPStatus.NOT_FOUND, [], b"not found\n"

    async def handler(ws, path=None):
        path = path or ws.path
        conns[0] += 1
        conn = conns[0]
        cid = "%08x" % random.Random("%d:conn:%d" % (args.seed, conn)).getrandbits(32)
        subs = []
        state = {"data": 0, "dropped": False, "sent_at": time.monotonic(), "idle": False}
        log("connect", conn=conn, path=path, connId=cid)

        async def send(text, **kw):
            await ws.send(text)
            state["sent_at"] = time.monotonic()
            log("send", conn=conn, **kw)

        async def answer(obj, rid):
            if rid is not None:
                obj = dict({"id": rid}, **obj)
            await send(compact(obj), kind="answer", msg=obj)

        async def request(m):
            try:
                req = json.loads(m)
            except ValueError:
                req = None
            args_ = req.get("args") if isinstance(req, dict) else None
            rid = req.get("id") if isinstance(req, dict) else None
            if not isinstance(args_, list) or not all(isinstance(a, dict) for a in args_) or "op" not in req:
                await answer({"event": "error", "code": "60012", "msg": "Invalid request: " + m, "connId": cid}, rid)
                return
            op = req["op"]
            if op not in ("subscribe", "unsubscribe"):
                await answer({"event": "error", "code": "60019", "msg": "Invalid op: %s" % op, "connId": cid}, rid)
                return
            for a in args_:
                inst = a.get("instId")
                if a.get("channel") != "books" or inst not in feed.insts:
                    await answer({"event": "error", "code": "60018", "msg": "Wrong URL or channel:%s,instId:%s "
                                  "doesn't exist. Please use the correct URL, channel and parameters referring "
                                  "to API document." % (a.get("channel"), inst), "connId": cid}, rid)
                    continue
                arg = {"channel": "books", "instId": inst}
                await answer({"event": op, "arg": arg, "connId": cid}, rid)
                if op == "subscribe" and inst not in subs:
                    subs.append(inst)
                    kind, text, seq = feed.snapshot(inst, int(time.time() * 1000), conn)
                    await send(text, kind=kind, channel=feed.name(inst), seq=seq)
                elif op == "unsubscribe" and inst in subs:
                    subs.remove(inst)

        async def reader():
            async for m in ws:
                if isinstance(m, bytes):
                    log("recv", conn=conn, binary=m.hex())
                    continue
                log("recv", conn=conn, msg=m)
                if m == "ping":
                    await send("pong", kind="pong")
                else:
                    await request(m)

        async def pump():
            t0 = time.monotonic()
            while True:
                for inst in list(subs):
                    for kind, text, seq in feed.next_frames(inst, int(time.time() * 1000), conn):
                        await send(text, kind=kind, channel=feed.name(inst), seq=seq)
                        state["data"] += 1
                    if feed.exhausted(inst) and inst in subs:
                        log("exhausted", conn=conn, channel=feed.name(inst))
                if await truth.maybe_drop(args, state, conn, path, ws, log):
                    return
                truth.maybe_done(done, all(feed.exhausted(i) for i in insts), conn, log)
                now = time.monotonic()
                if (not subs and now - t0 > args.idle_s) or now - state["sent_at"] > args.idle_s:
                    state["idle"] = True
                    log("idle", conn=conn)
                    await ws.close(1000, "")
                    return
                await asyncio.sleep(args.interval_ms / 1000)

        async def guarded(f):
            try:
                await f()
            except websockets.ConnectionClosed:
                pass

        tasks = [asyncio.ensure_future(guarded(reader)), asyncio.ensure_future(guarded(pump))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            if not state["dropped"]:
                truth.conn({"conn": conn, "path": path, "data_frames": state["data"],
                            "end": "idle" if state["idle"] else "client", "close_code": ws.close_code})
            log("close", conn=conn, code=ws.close_code)

    async def run():
        async with websockets.serve(handler, "127.0.0.1", args.port, process_request=reject,
                                    ping_interval=None, compression=None) as srv:
            print("port %d" % srv.sockets[0].getsockname()[1], flush=True)
            await asyncio.Future()

    asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
