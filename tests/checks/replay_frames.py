#!/usr/bin/python3
"""replay_frames.py - checks of what a raw replay's client got (the OUT.json of
peers/replay_client.py collect/take: {"frames": [{"t", "binary", "data"}], "close"}) against
the recording it was replayed from (the JSON lines given to `wstape import`). A frame is
compared as (binary, data): a text frame's payload, a binary one's base64. Each mode exits
1 with the reason when its assertion fails.

  replay_frames.py exact RESULT REC.jsonl [--from-record N] [--to NS] [--conn N] [--close CODE]
      the frames are exactly the recording's server frames, in order: those of record N on
      (records numbered from 1 as the lines), received before NS (wall_ns), of connection N
      (0 or absent: any); with --close, the close code is CODE
  replay_frames.py faulty A.json B.json REC.jsonl
      two clients of a replay with seeded faults got the same frames, and the close 1000 (A);
      the faults changed something; every frame is a recorded one, in the recording's order
      (skips remove, duplicates repeat)
  replay_frames.py paced RESULT SPEED FRAMES INTERVAL_S
      FRAMES frames, and none ahead of its time: frame i is due INTERVAL_S * i / SPEED after
      the client's clock started (before it connected); 10 % and 2 ms of slack for clocks
  replay_frames.py stall RESULT FRAMES MIN_GAP_S
      FRAMES frames, and a gap of at least MIN_GAP_S between two of them
  replay_frames.py loop RESULT FIRST_MIN FIRST_MAX MIN_FRAMES PERIOD
      a --loop replay of a recording of PERIOD frames that carry their index (text {"i": i},
      binary: the first byte): at least MIN_FRAMES frames, the server did not close, the first
      frame's index in FIRST_MIN..FIRST_MAX, each next one the next index (mod PERIOD), and
      index 0 again after the first frame (a second pass)
  replay_frames.py field RESULT KEY FIRST LAST CLOSE
      the frames are JSON text whose KEY is FIRST, FIRST + 1, ... LAST, and the close CLOSE
"""
import base64
import json
import sys


def frames(result):
    return [(f["binary"], f["data"]) for f in result["frames"]]


def recorded(path, lo=1, to=1 << 63, conn=0):
    src = [json.loads(l) for l in open(path)]
    return [(("payload_b64" in r), r.get("payload_b64") or r["payload"]) for n, r in enumerate(src, 1)
            if r["dir"] == "in" and n >= lo and r["wall_ns"] < to and conn in (0, r.get("conn", 0))]


def opt(args, name, default):
    if name in args:
        i = args.index(name)
        v = int(args[i + 1])
        del args[i:i + 2]
        return v
    return default


def exact(args):
    lo, to, conn, close = (opt(args, "--from-record", 1), opt(args, "--to", 1 << 63),
                           opt(args, "--conn", 0), opt(args, "--close", None))
    a = json.load(open(args[0]))
    got, want = frames(a), recorded(args[1], lo, to, conn)
    assert got == want and (close is None or a["close"] == close), (len(got), len(want), got[:2], want[:2], a["close"])
    print("frames", len(got))


def faulty(args):
    a, b = json.load(open(args[0])), json.load(open(args[1]))
    assert frames(a) == frames(b), "two clients got different frames"
    assert a["close"] == 1000, a["close"]
    want, got = recorded(args[2]), frames(a)
    assert got != want, "faults changed nothing"
    i = 0
    for g in got:
        while i < len(want) and want[i] != g:
            i += 1
        assert i < len(want), ("unexpected frame", g)
    print("frames", len(got), "of", len(want))


def paced(args):
    a, sp, n, dt = json.load(open(args[0])), float(args[1]), int(args[2]), float(args[3])
    ts = [f["t"] for f in a["frames"]]
    assert len(ts) == n, len(ts)
    early = [(i, round(t, 4)) for i, t in enumerate(ts) if t < 0.9 * dt * i / sp - 0.002]
    assert not early, ("frames ahead of their time (index, seconds after connecting)", early[:8])


def stall(args):
    a, n, gap = json.load(open(args[0])), int(args[1]), float(args[2])
    ts = [f["t"] for f in a["frames"]]
    gaps = [y - x for x, y in zip(ts, ts[1:])]
    assert len(ts) == n and max(gaps) >= gap, (len(ts), max(gaps))


def loop(args):
    a = json.load(open(args[0]))
    lo, hi, n, period = (int(x) for x in args[1:5])
    idx = [base64.b64decode(f["data"])[0] if f["binary"] else json.loads(f["data"])["i"] for f in a["frames"]]
    assert len(idx) >= n, ("frames", len(idx), n)
    assert a["close"] is None, ("the server closed", a["close"])
    assert lo <= idx[0] <= hi, ("first frame", idx[0])
    assert all(y == (x + 1) % period for x, y in zip(idx, idx[1:])), idx
    assert 0 in idx[1:], "no second pass"
    print("frames", len(idx), "first", idx[0])


def field(args):
    a, key, first, last, close = json.load(open(args[0])), args[1], int(args[2]), int(args[3]), int(args[4])
    vals = [json.loads(f["data"])[key] for f in a["frames"]]
    assert vals == list(range(first, last + 1)) and a["close"] == close, (vals[:3], len(vals), a["close"])


MODES = {"exact": exact, "faulty": faulty, "paced": paced, "stall": stall, "loop": loop, "field": field}
if len(sys.argv) < 3 or sys.argv[1] not in MODES:
    sys.exit("usage: replay_frames.py %s RESULT ..." % "|".join(MODES))
MODES[sys.argv[1]](sys.argv[2:])
