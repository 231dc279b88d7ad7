#!/usr/bin/python3
"""hydro_client.py - checks of what the docs' Hydromancer client (peers/replay_client.py
hydro: {"events": [...], "log": [every message], "connects": n}) got from a replay. Each
mode exits 1 with the reason when its assertion fails.

  hydro_client.py events RESULT REC.jsonl
      the events are the recording's allFills events from the first one received on, all of
      them, none twice, in order
  hydro_client.py resumed RESULT N
      "connected", then N "reconnected"; seq starts at 1 on every connection and has no gap
      within one; replay chunks of at most 2,000 items, each with a cursor, at least one
      replay in two chunks or more, none with hasGap
  hydro_client.py gap RESULT
      back too late for the cache: the first replay chunk (number 1) has hasGap true, no
      later one has it
  hydro_client.py expired RESULT
      back after the grace period: two "connected", no "reconnected", no replay
"""
import json
import sys


def events(result, rec):
    r = json.load(open(result))
    allev = []
    for l in open(rec):
        p = json.loads(json.loads(l)["payload"])
        if p["type"] == "allFills":
            allev += p["fills"]
    got = r["events"]
    assert got, "no events"
    first = allev.index(got[0])
    want = allev[first:]
    dups = len(got) - len({json.dumps(e) for e in got})
    assert dups == 0, ("duplicates", dups)
    have = {json.dumps(e) for e in got}
    missing = [e for e in want if json.dumps(e) not in have]
    assert not missing, ("lost", len(missing), missing[:2])
    assert got == want, "out of order"
    print("events", len(got), "connects", r["connects"])


def resumed(result, n):
    log = json.load(open(result))["log"]
    types = [m["type"] for m in log]
    assert types[0] == "connected" and types.count("reconnected") == int(n), types[:5]
    # seq starts at 1 on every connection and has no gap within one
    seqs, cur = [], None
    for m in log:
        if m["type"] in ("connected", "reconnected"):
            cur = []; seqs.append(cur)
        elif m["type"] == "allFills":
            cur.append(m["seq"])
    for s in seqs:
        assert s == list(range(1, len(s) + 1)), s[:5]
    # the replays: chunks of at most 2,000 items, numbered, a cursor each, no hasGap
    chunks = [m for m in log if m["type"] == "replay"]
    assert chunks and all(c["count"] <= 2000 and c.get("cursor") for c in chunks), chunks
    assert any(c["totalChunks"] >= 2 for c in chunks), [(c["chunk"], c["totalChunks"], c["count"]) for c in chunks]
    assert not any(c.get("hasGap") for c in chunks)


def gap(result):
    log = json.load(open(result))["log"]
    ch = [m for m in log if m["type"] == "replay"]
    assert ch and ch[0]["chunk"] == 1 and ch[0].get("hasGap") is True, ch[:1]
    assert not any(m.get("hasGap") for m in ch[1:])


def expired(result):
    log = json.load(open(result))["log"]
    t = [m["type"] for m in log]
    assert t.count("connected") == 2 and "reconnected" not in t and "replay" not in t, t[:8]


MODES = {"events": events, "resumed": resumed, "gap": gap, "expired": expired}
if len(sys.argv) < 3 or sys.argv[1] not in MODES:
    sys.exit("usage: hydro_client.py %s RESULT ..." % "|".join(MODES))
MODES[sys.argv[1]](*sys.argv[2:])
