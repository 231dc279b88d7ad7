#!/usr/bin/python3
"""hm_fidelity.py - does a Hydromancer replay serve every event of a recording, once, in order?

Written from the Hydromancer docs (session management, replay chunks, cursors, dedup keys):

  hm_fidelity.py gen OUT.jsonl [LEAD_MS] a recording (for `wstape import --feed hydromancer`)
                                          with a drop: events only in replay chunks, overlap
                                          between replay and live, allFills (cursor
                                          block:ts:tx) and leverageUpdates (numeric cursor);
                                          LEAD_MS between the subscriptions and the first
                                          event (default 0): a session-mode client that is
                                          slow to subscribe (a loaded machine) still gets it
  hm_fidelity.py gen-late OUT.jsonl      a recording whose replay chunk came 11 s after its
                                          reconnect, behind later live messages
  hm_fidelity.py late URL                a client of the whole late recording gets all of it
  hm_fidelity.py session URL GEN.jsonl   clients against `wstape replay --mode session`
  hm_fidelity.py live URL GEN.jsonl      clients against `wstape replay --mode live`
  hm_fidelity.py compare A.jsonl B.jsonl every distinct event of journal A (`wstape cat`) is
                                          in journal B, on every channel
Exits 1 with a message when a check fails.
"""
import asyncio
import json
import os
import sys
import urllib.parse

import websockets

BASE = 1795341600000000000
T = 1706123456789
NFILLS, NLEV = 600, 200
FIELD = {"allFills": "fills", "leverageUpdates": "updates"}


def fill(i):
    # pairs of fills share a transaction, hence a (time, txIndex) key
    return ["0x%040x" % (i % 5), {"coin": "ETH", "px": "%d.5" % (2000 + i), "sz": "0.1", "time": T + (i // 2) * 20,
                                  "txIndex": i // 2, "tid": i + 1}]


def fill_cursor(i):
    return "%d:%d:%d" % (5000 + i // 2, T + (i // 2) * 20, i // 2)


def lev(j):
    return {"user": "0x%040x" % (j % 3), "coin": "BTC", "leverage": j % 20 + 1, "time": T + j * 30 + 5}


def gen(out, lead=0):
    recs = []

    def rec(ms, conn, kind="text", payload=None, dir="in"):
        if ms >= 1:     # after the connection and its subscriptions
            ms += lead
        r = {"wall_ns": BASE + int(ms * 1e6), "dir": dir, "conn": conn, "kind": kind}
        if payload is not None:
            r["payload"] = payload if isinstance(payload, str) else json.dumps(payload)
        recs.append(r)

    seq = {"allFills": 0, "leverageUpdates": 0}

    def live_fills(lo, hi, conn, at=None):
        for i in range(lo, hi, 4):
            seq["allFills"] += 1
            rec(at if at is not None else 10 * (i + 3), conn,
                payload={"type": "allFills", "seq": seq["allFills"], "cursor": fill_cursor(i + 3),
                         "fills": [fill(k) for k in range(i, i + 4)]})
            if at is not None:
                at += 1

    def live_lev(j, conn):
        seq["leverageUpdates"] += 1
        rec(30 * j + 5, conn, payload='{"type":"leverageUpdates","seq":%d,"cursor":%d,"updates":[%s]}'
            % (seq["leverageUpdates"], T + j * 30 + 5, json.dumps(lev(j))))

    rec(0, 1, "open", {"url": "ws://127.0.0.1:1/ws?token=x", "status": 101})
    rec(0.1, 1, payload={"type": "connected", "clientId": "c1", "sessionId": "s1"})
    rec(0.2, 1, payload={"type": "subscriptionUpdate", "subscribed": ["allFills"], "failed": []})
    rec(0.3, 1, payload={"type": "subscriptionUpdate", "subscribed": ["leverageUpdates"], "failed": []})
    # connection 1: fills 0..99 and leverage 0..32 live
    evs = [(10 * (i + 3), "f", i) for i in range(0, 100, 4)] + [(30 * j + 5, "l", j) for j in range(33)]
    for _, kind, n in sorted(evs):
        live_fills(n, n + 4, 1) if kind == "f" else live_lev(n, 1)
    rec(1000, 1, "close", {"code": 1006, "reason": "", "by": "network"})
    # connection 2: live messages first (fills 160..167), then the replays: fills 96..163
    # (96..99 and 160..163 also live: the overlap), leverage 30..50 (30..32 also live)
    rec(1500, 2, "open", {"url": "ws://127.0.0.1:1/ws?token=x&sessionId=s1", "status": 101})
    rec(1500.1, 2, payload={"type": "reconnected", "clientId": "c2", "sessionId": "s1",
                            "subscriptions": ["allFills", "leverageUpdates"], "lastSeq": 0})
    seq["allFills"] = seq["leverageUpdates"] = 0
    live_fills(160, 168, 2, at=1501)
    for n, (lo, hi) in enumerate([(96, 132), (132, 164)], 1):
        data = [fill(i) for i in range(lo, hi)]
        rec(1502 + n, 2, payload={"type": "replay", "channel": "allFills", "replayTimeMs": fill_cursor(hi - 1),
                                  "cursor": fill_cursor(hi - 1), "count": len(data), "chunk": n, "totalChunks": 2,
                                  "data": data})
    data = [lev(j) for j in range(30, 51)]
    rec(1505, 2, payload={"type": "replay", "channel": "leverageUpdates", "replayTimeMs": str(T + 50 * 30 + 5),
                          "cursor": str(T + 50 * 30 + 5), "count": len(data), "chunk": 1, "totalChunks": 1,
                          "data": data})
    evs = [(10 * (i + 3), "f", i) for i in range(168, NFILLS, 4)] + [(30 * j + 5, "l", j) for j in range(51, NLEV)]
    for _, kind, n in sorted(evs):
        live_fills(n, n + 4, 2) if kind == "f" else live_lev(n, 2)
    with open(out, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


LATE_FILLS = 90


def gen_late(out):
    """a drop after fills 0..29; the reconnect's live messages (fills 60..79) come first, the
    replay chunk with the missed fills 30..59 (and the overlap 28..29) 11 s later, then
    fills 80..89 live"""
    recs = []

    def rec(ms, conn, kind="text", payload=None):
        recs.append({"wall_ns": BASE + int(ms * 1e6), "dir": "in", "conn": conn, "kind": kind,
                     "payload": payload if isinstance(payload, str) else json.dumps(payload)})

    def live(i, conn, seq, at):
        rec(at, conn, payload={"type": "allFills", "seq": seq, "cursor": fill_cursor(i + 1),
                               "fills": [fill(i), fill(i + 1)]})

    rec(0, 1, "open", {"url": "ws://127.0.0.1:1/ws?token=x", "status": 101})
    rec(1, 1, payload={"type": "connected", "clientId": "c1", "sessionId": "s1"})
    rec(2, 1, payload={"type": "subscriptionUpdate", "subscribed": ["allFills"], "failed": []})
    for n, i in enumerate(range(0, 30, 2), 1):
        live(i, 1, n, 10 + 10 * n)
    rec(400, 1, "close", {"code": 1006, "reason": "", "by": "network"})
    rec(500, 2, "open", {"url": "ws://127.0.0.1:1/ws?token=x&sessionId=s1", "status": 101})
    rec(501, 2, payload={"type": "reconnected", "clientId": "c2", "sessionId": "s1",
                         "subscriptions": ["allFills"], "lastSeq": 0})
    for n, i in enumerate(range(60, 80, 2), 1):
        live(i, 2, n, 600 + 1000 * n)
    data = [fill(i) for i in range(28, 60)]
    rec(11600, 2, payload={"type": "replay", "channel": "allFills", "replayTimeMs": fill_cursor(59),
                           "cursor": fill_cursor(59), "count": len(data), "chunk": 1, "totalChunks": 1,
                           "data": data})
    for n, i in enumerate(range(80, LATE_FILLS, 2), 11):
        live(i, 2, n, 11700 + 10 * n)
    with open(out, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


async def late(url):
    """a client connected for the whole replay of gen-late gets every fill once"""
    c = Client(url, "late", ["allFills"])
    await c.run(None)
    evs = c.events("allFills")
    got = [canon(e) for e in evs]
    check(len(got) == len(set(got)), "late: an event came twice")
    missing = [i for i in range(LATE_FILLS) if canon(fill(i)) not in set(got)]
    check(not missing, "late: %d fills lost, the late chunk's first %s" % (len(missing), missing[:3]))
    print("late: %d fills, none lost, none twice" % len(got))


ALL = {"allFills": [fill(i) for i in range(NFILLS)], "leverageUpdates": [lev(j) for j in range(NLEV)]}
REPLAY_ONLY = {"allFills": [fill(i) for i in range(100, 160)], "leverageUpdates": [lev(j) for j in range(33, 51)]}


def key(ev):
    e = ev[1] if isinstance(ev, list) else ev
    return (e.get("time", e.get("closeTime", 0)), e.get("txIndex", -1))


def canon(ev):
    return json.dumps(ev, sort_keys=True, separators=(",", ":"))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Client:
    """A client after the docs: subscribes, saves sessionId and the cursor of each message
    it processed, reconnects with sessionId + cursor. Keeps every frame for the checks."""

    def __init__(self, url, name, channels, cursor_sub=None):
        self.url, self.name, self.channels, self.cursor_sub = url, name, channels, cursor_sub
        self.session, self.cursor, self.last_channel = None, None, None
        self.conns = []     # per connection: list of messages

    async def run(self, stop, cursor_override=None, resume=False, wait=None):
        q = "?token=t"
        if resume:
            q += "&sessionId=" + self.session
            c = cursor_override if cursor_override is not None else self.cursor
            if c:
                q += "&cursor=" + urllib.parse.quote(str(c), safe=":")
        msgs = []
        self.conns.append(msgs)
        async with websockets.connect(self.url + q, max_size=None) as ws:
            try:
                async for raw in ws:
                    m = json.loads(raw)
                    msgs.append(m)
                    t = m.get("type")
                    if t == "connected":
                        self.session = m["sessionId"]
                        for ch in self.channels:
                            sub = {"type": ch}
                            if self.cursor_sub:
                                sub["cursor"] = self.cursor_sub
                            await ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
                    elif t == "ping":
                        await ws.send(json.dumps({"type": "pong"}))
                    elif t == "replay" or "seq" in m:
                        if m.get("cursor") is not None:
                            self.cursor = m["cursor"]
                        self.last_channel = m.get("channel", t)
                    if stop and stop(self, m):
                        ws.transport.abort()   # the network fails: no close frame
                        break
            except websockets.ConnectionClosed:
                pass

    def events(self, ch, msgs=None, replay=None):
        out = []
        for conn in ([msgs] if msgs is not None else self.conns):
            for m in conn:
                if m.get("type") == "replay" and m["channel"] == ch and replay in (None, True):
                    out += m["data"]
                elif m.get("type") == ch and replay in (None, False):
                    check("seq" in m, "%s: a live message without seq" % self.name)
                    out += m[FIELD[ch]]
        return out


def no_loss(c, ch, evs, start=None):
    """every distinct event of the recording from the first one received on (or from start) is there"""
    want = ALL[ch]
    got = {canon(e) for e in evs}
    check(evs, "%s: no %s events" % (c.name, ch))
    first = start if start is not None else min(want.index(e) for e in evs if e in want)
    missing = [e for e in want[first:] if canon(e) not in got]
    check(not missing, "%s: %d %s events lost, first %s" % (c.name, len(missing), ch, missing[:1]))


def once_in_order(c, ch, evs):
    seen = set()
    for e in evs:
        check(canon(e) not in seen, "%s: %s event twice: %s" % (c.name, ch, e))
        seen.add(canon(e))
    keys = [key(e) for e in evs]
    check(keys == sorted(keys), "%s: %s events out of key order" % (c.name, ch))


async def whole(url):
    """(a) connected for the whole replay: every distinct event once, in key order per channel"""
    c = Client(url, "whole", ["allFills", "leverageUpdates"])
    await c.run(None)
    for ch in ALL:
        evs = c.events(ch)
        once_in_order(c, ch, evs)
        no_loss(c, ch, evs, 0)
    check(not c.events("allFills", replay=True), "whole: replay chunks on a connection that never resumed")
    return "whole: %d + %d events" % (len(c.events("allFills")), len(c.events("leverageUpdates")))


async def resume(url, name, chans, wait, stop_after, cursor_override=None):
    """(b, c) a client drops and resumes with sessionId + cursor"""
    c = Client(url, name, chans)
    await c.run(stop_after)
    before = dict(cursor=c.cursor, channel=c.last_channel)
    await asyncio.sleep(wait)
    await c.run(None, cursor_override=cursor_override, resume=True)
    check(c.conns[1] and c.conns[1][0]["type"] == "reconnected", "%s: no reconnected" % name)
    for ch in chans:
        evs = c.events(ch)
        no_loss(c, ch, evs)
        replay = c.events(ch, c.conns[1], replay=True)
        once_in_order(c, ch + " replay", replay)
        chunks = [m for m in c.conns[1] if m.get("type") == "replay" and m["channel"] == ch]
        check(chunks and chunks[-1]["chunk"] == chunks[-1]["totalChunks"], "%s: %s replay incomplete" % (name, ch))
    return c, before


def stop_when(min_msgs, channel=None):
    def stop(c, m):
        n = sum(1 for x in c.conns[-1] if "seq" in x)
        return "seq" in m and n >= min_msgs and (channel is None or m["type"] == channel)
    return stop


async def session_cases(url):
    res = []

    async def b_session():
        # dropped at fill ~60, back after the recorded reconnect: its replay holds the events
        # the recording only has in replay chunks, once
        c, _ = await resume(url, "resume-session", ["allFills"], 2.5, stop_when(15))
        replay = {canon(e) for e in c.events("allFills", c.conns[1], replay=True)}
        lost = [e for e in REPLAY_ONLY["allFills"] if canon(e) not in replay]
        check(not lost, "resume-session: %d replay-only events not in the replay" % len(lost))
        return "resume-session: replay of %d events" % len(replay)

    async def c_mixed(last):
        # the last message before the drop is of channel 'last': its cursor is the one given back
        c, before = await resume(url, "mixed-" + last, ["allFills", "leverageUpdates"], 0.5,
                                 stop_when(20, last))
        check(before["channel"] == last, (before, last))
        if last == "leverageUpdates":
            ts = int(before["cursor"])
            f = c.events("allFills", c.conns[1], replay=True)
            check(all(key(e)[0] >= ts - 100 for e in f),
                  "mixed: the allFills replay for a numeric cursor holds events long before it")
        else:
            # the other way round: a block:ts:tx cursor read against the numeric channel
            # replays from about its time, not the whole cache
            ts = int(before["cursor"].split(":")[1])
            lv = c.events("leverageUpdates", c.conns[1], replay=True)
            check(all(e["time"] >= ts - 100 for e in lv),
                  "mixed: the leverageUpdates replay for a block:ts:tx cursor holds events long before it")
        return "mixed-%s: cursor %s" % (last, before["cursor"])

    async def c_garbage():
        c, before = await resume(url, "garbage", ["allFills", "leverageUpdates"], 0.5, stop_when(20),
                                 cursor_override="not-a-cursor")
        for ch in ALL:
            chunks = [m for m in c.conns[1] if m.get("type") == "replay" and m["channel"] == ch]
            check(chunks and chunks[0].get("hasGap") is True, "garbage: %s replay without hasGap" % ch)
            evs = c.events(ch, c.conns[1], replay=True)
            check(evs and evs[0] == ALL[ch][0], "garbage: %s replay is not the whole cache" % ch)
        return "garbage: hasGap, whole cache"

    async def d_fresh():
        # subscribe with a cursor on a fresh connection: its timeline is at the start, so the
        # replay holds nothing (nothing past its live edge), and nothing comes twice
        c = Client(url, "fresh-session", ["allFills"], cursor_sub=fill_cursor(41))
        await c.run(None)
        replay = c.events("allFills", replay=True)
        check(not replay, "fresh-session: the replay holds %d events past the live edge" % len(replay))
        evs = c.events("allFills")
        once_in_order(c, "allFills", evs)
        no_loss(c, "allFills", evs, 0)
        return "fresh-session: empty replay"

    for r in await asyncio.gather(whole(url), b_session(), c_mixed("allFills"), c_mixed("leverageUpdates"),
                                  c_garbage(), d_fresh()):
        res.append(r)
    print("; ".join(res))


async def live_cases(url):
    async def b_live():
        # The shared timeline runs whatever the client does: when a slow start (a busy machine)
        # keeps the first connection open past the recorded reconnect, the events the
        # recording holds only in replay chunks came to it live (at their place in the
        # stream); any other comes in the resume's replay.
        c, _ = await resume(url, "resume-live", ["allFills", "leverageUpdates"], 2.0, stop_when(10))
        in_replay = 0
        for ch in ALL:
            replay = {canon(e) for e in c.events(ch, c.conns[1], replay=True)}
            live = {canon(e) for e in c.events(ch, c.conns[0], replay=False)}
            lost = [e for e in REPLAY_ONLY[ch] if canon(e) not in replay and canon(e) not in live]
            check(not lost, "resume-live: %d %s replay-only events neither live before the drop nor in the replay"
                  % (len(lost), ch))
            in_replay += sum(1 for e in REPLAY_ONLY[ch] if canon(e) in replay)
        return "resume-live ok (%d replay-only events in the replay)" % in_replay

    async def d_live():
        # joins the shared timeline a while after its start and asks for the events after
        # fill 41: the replay stops at its live edge, and live goes on from there
        await asyncio.sleep(2.5)
        c = Client(url, "fresh-live", ["allFills"], cursor_sub=fill_cursor(41))
        await c.run(None)
        replay = c.events("allFills", replay=True)
        live = c.events("allFills", replay=False)
        check(replay, "fresh-live: empty replay")
        check(live, "fresh-live: no live events")
        evs = replay + live
        once_in_order(c, "allFills", evs)
        check(max(key(e) for e in replay) < min(key(e) for e in live), "fresh-live: the replay passes the live edge")
        no_loss(c, "allFills", evs, 42)
        return "fresh-live: replay %d, then %d live" % (len(replay), len(live))

    print("; ".join(await asyncio.gather(b_live(), d_live())))


def journal_events(path):
    """channel -> {(key, canonical event)} of the live messages and replay chunks of a journal"""
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r.get("dir") != "in" or r.get("kind") != "text" or "payload" not in r:
            continue
        try:
            m = json.loads(r["payload"])
        except ValueError:
            continue
        t = m.get("type")
        if t == "replay":
            ch, evs = m.get("channel"), m.get("data") or []
        elif "seq" in m and t:
            ch = t
            evs = next((m[f] for f in ("fills", "updates", "events", "trades", "liquidations", "data")
                        if isinstance(m.get(f), list)), [])
        else:
            continue
        s = out.setdefault(ch, set())
        for e in evs:
            s.add((key(e), canon(e)))
    return out


def compare(a, b):
    ea, eb = journal_events(a), journal_events(b)
    check(ea, "the first journal holds no events")
    for ch, evs in ea.items():
        missing = evs - eb.get(ch, set())
        check(not missing, "%s: %d of %d events of the first journal are not in the second, first %s"
              % (ch, len(missing), len(evs), sorted(missing)[:1]))
        print("%s: %d distinct events, all in the second journal" % (ch, len(evs)))


def main():
    cmd = sys.argv[1]
    if "READY" in os.environ:   # started before its server (tests/lib.sh client_first)
        import ready
    try:
        if cmd == "gen":
            gen(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0)
        elif cmd == "gen-late":
            gen_late(sys.argv[2])
        elif cmd == "late":
            asyncio.run(late(sys.argv[2]))
        elif cmd == "session":
            asyncio.run(session_cases(sys.argv[2]))
        elif cmd == "live":
            asyncio.run(live_cases(sys.argv[2]))
        elif cmd == "compare":
            compare(sys.argv[2], sys.argv[3])
        else:
            sys.exit("unknown command " + cmd)
    except AssertionError as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
