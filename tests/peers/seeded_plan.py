"""seeded_plan.py - the seeded faults of the exchange peers (binance_depth_server.py,
okx_books_server.py) and of the fixtures made from them (fixtures/gen_exchanges.py), and
the truth file that lists what was seeded.

A channel's stream is a list of update messages 0..count-1. The plan, drawn from a seed,
says which of them are never sent (gaps: runs of 1 to 3 messages), which are sent twice
(dups), and after which a no-change message follows (keepalives, OKX). Faults keep away
from the first and last messages of a stream and from each other, so that each one can be
seen on its own: a gap has a message before and after it, a duplicate is not next to a gap.
The streams are the server's, not a connection's: a connection that replaces a dropped
one goes on where the dropped one stopped.

Truth records what actually happened, as it happens (a gap once the message after it was
sent, a duplicate once its second copy was), and is rewritten whole after each change, so
that a test may read it at any moment.
"""
import json
import os
import random


class Plan:
    def __init__(self, channels, count, seed, gaps=0, dups=0, keepalives=0, avoid=()):
        """channels: names in order; gaps, dups, keepalives: how many in all, dealt out to
        the channels in turn; avoid: stream positions to keep every fault away from (the
        position a drop is expected at)"""
        self.count = count
        self.skip = {c: set() for c in channels}
        self.dup = {c: set() for c in channels}
        self.keep = {c: set() for c in channels}
        rng = random.Random("plan:%d" % seed)
        used = {c: set() for c in channels}
        for k in range(3):
            n = (gaps, dups, keepalives)[k]
            for i in range(n):
                c = channels[i % len(channels)]
                length = rng.randint(1, 3) if k == 0 else 1
                pos = self._place(rng, used[c], length, avoid)
                if pos is None:
                    raise SystemExit("seeded_plan: %d messages are too few for the faults asked" % count)
                span = set(range(pos, pos + length))
                (self.skip, self.dup, self.keep)[k][c] |= span
                used[c] |= set(range(pos - 2, pos + length + 2))

    def _place(self, rng, used, length, avoid):
        for _ in range(1000):
            pos = rng.randint(3, self.count - 4 - length)
            span = range(pos - 1, pos + length + 1)
            if any(p in used for p in span) or any(abs(p - a) <= 3 for a in avoid for p in span):
                continue
            return pos
        return None


class Truth:
    """the truth file: per channel its gaps, duplicates, no-change messages and snapshots
    (restarts), per connection how it ended, and what `wstape inspect` must find"""

    def __init__(self, path, feed, rule, seed, args):
        self.path = path
        self.doc = {"feed": feed, "rule": rule, "seed": seed, "args": args, "channels": {},
                    "connections": [], "drops": [], "done": False, "expect": {}}
        self.write()

    def channel(self, name):
        return self.doc["channels"].setdefault(name, {
            "messages": 0, "first_seq": None, "last_seq": None, "gaps": [], "dups": [],
            "keepalives": [], "snapshots": []})

    def sent(self, name, seq):
        ch = self.channel(name)
        ch["messages"] += 1
        if ch["first_seq"] is None:
            ch["first_seq"] = seq
        ch["last_seq"] = seq

    def add(self, name, what, item):
        self.channel(name)[what].append(item)
        self.write()

    def conn(self, item):
        self.doc["connections"].append(item)
        self.write()

    async def maybe_drop(self, args, state, conn, path, ws, log):
        """--drop N: once N data messages went out on this run, end this connection (abort:
        the TCP connection ends without a close frame; else close 1001), seeded once.
        Returns True when it dropped."""
        if not args.drop or self.doc["drops"] or state["data"] < args.drop:
            return False
        self.doc["drops"].append({"conn": conn, "after_messages": state["data"], "mode": args.drop_mode})
        self.conn({"conn": conn, "path": path, "data_frames": state["data"], "end": "drop"})
        log("drop", conn=conn, mode=args.drop_mode, after=state["data"])
        state["dropped"] = True
        if args.drop_mode == "abort":
            ws.transport.close()      # flushed, then the TCP connection ends: no close frame
        else:
            await ws.close(1001, "going away")
        return True

    def maybe_done(self, done, exhausted, conn, log):
        """once every channel's messages are out: the truth is complete, and the log says so"""
        if not done[0] and exhausted:
            done[0] = True
            self.doc["done"] = True
            self.write()
            log("done", conn=conn)

    def write(self):
        if not self.path:
            return
        d = self.doc
        exp = {"seq_gap": {}, "seq_gap_across_reconnect": {}, "dup_frame": {}, "seq_back": 0,
               "disconnect": len(d["drops"])}
        for name, ch in d["channels"].items():
            across = sum(1 for g in ch["gaps"] if g.get("across_reconnect"))
            exp["seq_gap"][name] = len(ch["gaps"]) - across
            exp["seq_gap_across_reconnect"][name] = across
            exp["dup_frame"][name] = sum(x["copies"] - 1 for x in ch["dups"])
        d["expect"] = exp
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(d, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, self.path)


class Log:
    """the server's log: one JSON line per message sent or received"""

    def __init__(self, path, clock):
        self.f = open(path, "a", buffering=1) if path else None
        self.clock = clock

    def __call__(self, ev, **kw):
        if self.f:
            kw["ev"] = ev
            kw["t"] = round(self.clock(), 6)
            self.f.write(json.dumps(kw, separators=(",", ":"), sort_keys=True) + "\n")
