#!/usr/bin/python3
"""lasersell_sdk.py - did the official LaserSell SDK get the recording from a replay?

usage: lasersell_sdk.py RESULT MODE N PAYLOADS

RESULT is the summary of peers/replay_lasersell_sdk.mjs MODE ({"types": {type: count},
"count": n, "pong": bool}); PAYLOADS the recording's server messages, one a line (`wstape
cat --direction in --kind text --payload`). Asserts: the recording has message types (other
than hello_ok and pong, which are the replay's own); the SDK got at least N messages; in
modes client and lanes (StreamSession turns messages into events) it parsed every recorded
type and got a pong to its ping; in lanes, as many low-lane messages as pnl_updates, and
some. Exits 1 with the reason when one fails.
"""
import json
import sys

result, mode, n, payloads = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
want = set()
for l in open(payloads):
    try:
        want.add(json.loads(l)["type"])
    except Exception:
        pass
want -= {"hello_ok", "pong"}
assert want, "no message types in the recording"
r = json.load(open(result))
assert r["count"] >= n, ("messages", r["count"], n)
if mode != "session":
    # StreamSession turns messages into events; the raw clients see every recorded type
    missing = want - set(r["types"])
    assert not missing, ("types not parsed by the SDK", missing)
    assert r["pong"], "no pong to the SDK's ping"
if mode == "lanes":
    assert r["types"].get("__low_lane", 0) == r["types"].get("pnl_update", 0) > 0
