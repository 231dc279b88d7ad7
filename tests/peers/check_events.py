#!/usr/bin/python3
"""check_events.py - does a journal hold every event a fake Hydromancer server produced?

usage: check_events.py SERVER_LOG JOURNAL_JSONL [--until EPOCH_S] [--min N]

Reads the server's log (hydromancer_server.py --log) and the journal as JSON lines
(`wstape cat`). The sessions are those named in the journal's connected/reconnected
messages. Expected: every event produced for one of them up to --until. Journaled: the
(channel, time, txIndex) keys of the events in live allFills and leverageUpdates messages
and replay chunks, deduplicated.
Prints a summary; exits 1 when an expected event is missing or fewer than --min were expected.
"""
import json
import sys

args = sys.argv[1:]
until = float("inf")
minimum = 1
if "--until" in args:
    i = args.index("--until")
    until = float(args[i + 1])
    del args[i:i + 2]
if "--min" in args:
    i = args.index("--min")
    minimum = int(args[i + 1])
    del args[i:i + 2]
log_path, jl_path = args

sessions, got, frames, dups, replay_chunks = set(), set(), 0, 0, 0
for line in open(jl_path):
    r = json.loads(line)
    if r["dir"] != "in" or r["kind"] != "text" or "payload" not in r:
        continue
    try:
        m = json.loads(r["payload"])
    except ValueError:
        continue
    t = m.get("type")
    if t in ("connected", "reconnected"):
        sessions.add(m["sessionId"])
        continue
    items = m.get("fills") if t == "allFills" else m.get("updates") if t == "leverageUpdates" else \
        m.get("data") if t == "replay" else None
    if items is None:
        continue
    ch = m.get("channel") if t == "replay" else t
    frames += 1
    replay_chunks += t == "replay"
    for it in items:
        ev = it[1] if isinstance(it, list) else it
        k = (ch, ev["time"], ev["txIndex"])
        dups += k in got
        got.add(k)

expected = []
for line in open(log_path):
    e = json.loads(line)
    if e["ev"] == "produced" and e["t"] <= until and sessions.intersection(e["sessions"]):
        expected.append((e.get("channel", "allFills"),) + tuple(e["key"]))
missing = [k for k in expected if k not in got]
print(f"sessions {len(sessions)}, frames {frames} ({replay_chunks} replay chunks), "
      f"expected {len(expected)}, journaled {len(got)} unique, {dups} duplicates, missing {len(missing)}")
if missing:
    print("first missing:", missing[:10])
    sys.exit(1)
if len(expected) < minimum:
    print(f"fewer than {minimum} events expected: the test did not exercise anything")
    sys.exit(1)
