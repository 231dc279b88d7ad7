"""py_api.py HYDROMANCER_JOURNAL INSPECT_JSON WORKDIR: the package's Hydromancer events
and dedup keys against what docs/INSPECT.md says of fixtures/hydromancer.jsonl and what
`wstape inspect --json` counted (NAME.inspect.json); to_dataframe() columns, dtypes and
values; the exceptions for paths that are not journals and unknown format versions; the
clear errors without python3-zstandard or pandas."""
import collections
import json
import os
import subprocess
import sys

import wstape
from wstape import hydromancer

J, REPORT, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
j = wstape.open(J)
rep = json.load(open(REPORT))
evs = list(j.hydromancer_events())
dup_frames = {f["record"] for f in rep["findings"] if f["type"] == "dup_frame"}
assert dup_frames == {16}, dup_frames  # INSPECT.md: an exact duplicate frame (#16)
for ch in rep["channels"]:
    if not ch["channel"]:
        continue
    mine = [e for e in evs if e.channel == ch["channel"] and e.record.recno not in dup_frames]
    assert len(mine) == ch["events"], (ch["channel"], len(mine), ch["events"])
    assert sum(e.source == "replay" for e in mine) == ch["replay_events"], ch["channel"]
    # unique: each event once (a repeated event, an overlap of replay and live, a duplicate frame)
    all_ch = [e for e in evs if e.channel == ch["channel"]]
    uniq = [e for e in j.hydromancer_events(unique=True) if e.channel == ch["channel"]]
    dropped = len(all_ch) - len(uniq)
    want = ch["dup_events"] + ch["overlap_events"] + sum(e.record.recno in dup_frames for e in all_ch)
    assert dropped == want, (ch["channel"], dropped, want)
# a transaction with four fills: one key, four distinct events
by_rec = collections.defaultdict(list)
for e in evs:
    by_rec[e.record.recno].append(e)
four = [r for r, l in by_rec.items() if len(l) == 4 and len({e.key for e in l}) == 1 and len({e.identity for e in l}) == 4]
assert four, "no message with four fills of one key"
# the replay/live overlap (#30 repeats #29) and the live repeat (#42 repeats #41)
ident = {(e.record.recno, e.identity) for e in evs}
for later, first in ((30, 29), (42, 41)):
    assert any((first, i) in ident for r, i in ident if r == later), (later, first)
e0 = by_rec[four[0]][0]
assert e0.user and e0.event["txIndex"] == e0.key[1] and e0.event["time"] == e0.key[0], e0
assert e0.source == "live" and isinstance(e0.seq, int)
# the key rules by channel (INSPECT.md "Duplicates")
fill = {"time": 5, "closeTime": 7, "txIndex": 2, "role": "maker"}
assert hydromancer.event_key(fill, hydromancer.key_rule("allFills")) == (5, 2)
assert hydromancer.event_key(["0xu", fill], hydromancer.key_rule("userCompletedTrades")) == (7, 2)
assert hydromancer.event_key(fill, hydromancer.key_rule("userNonFundingLedgerEvents")) == (5, 2, "maker")
assert hydromancer.event_key({"closeTime": 9}, hydromancer.key_rule("allFills")) == (9, -1)
assert hydromancer.classify({"type": "ping"})[0] == "control"
assert hydromancer.classify({"type": "replay", "channel": "c", "data": [1]})[:2] == ("replay", "c")
assert hydromancer.classify({"type": "t", "seq": 1, "updates": "x"})[2] == []

# to_dataframe
recs = list(j.records(channel="allFills"))
df = j.to_dataframe(channel="allFills")
assert list(df.columns) == ["recno", "time", "wall_ns", "mono_ns", "conn", "dir", "kind", "channel", "cursor",
                            "payload"], list(df.columns)
dt = {c: str(t) for c, t in df.dtypes.items()}
assert dt == {"recno": "int64", "time": "datetime64[ns, UTC]", "wall_ns": "int64", "mono_ns": "int64",
              "conn": "uint32", "dir": "category", "kind": "category", "channel": "category", "cursor": "object",
              "payload": "object"}, dt
assert len(df) == len(recs)
for row, r in zip(df.itertuples(index=False), recs):
    assert (row.recno, row.wall_ns, row.mono_ns, row.conn, row.dir, row.kind, row.channel, row.cursor, row.payload) \
        == (r.recno, r.wall_ns, r.mono_ns, r.conn, r.dir, r.kind, r.channel, r.cursor, r.payload)
    assert row.time.value == r.wall_ns
assert str(j.to_dataframe(payload="text", limit=2).payload.dtype) == "object"
assert "payload" not in j.to_dataframe(payload=None, limit=2).columns

# errors
def raises(exc, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except exc as e:
        assert isinstance(e, wstape.Error), e
        return str(e)
    raise AssertionError("%s not raised by %s" % (exc.__name__, fn))


m = raises(wstape.NotJournalError, wstape.open, os.path.join(WORK, "nothing-here"))
assert "no such directory" in m, m
os.makedirs(os.path.join(WORK, "empty"), exist_ok=True)
assert "META" in raises(wstape.NotJournalError, wstape.open, os.path.join(WORK, "empty"))
for fmt, what in (("2", "version 2"), ("x1", "not a version")):
    d = os.path.join(WORK, "v" + fmt)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "META"), "w").write("# wstape journal metadata\nformat=%s\n" % fmt)
    assert what in raises(wstape.VersionError, wstape.open, d)
raises(wstape.UsageError, lambda: list(j.records(kind="nope")))
raises(wstape.UsageError, lambda: list(j.records(direction="up")))
raises(wstape.UsageError, lambda: list(j.records(from_time="yesterday")))
raises(wstape.UsageError, lambda: list(j.records(limit=-1)))
assert j[5].recno == 5
# the index check's verdict holds in a program that ignores SIGCHLD (the kernel reaps the
# checking child: waitpid has nothing to report) and in one whose handler reaps every child
import signal


def reap_all(*_):
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


n_all = len(list(j.records()))
for how in (signal.SIG_IGN, reap_all):
    old = signal.signal(signal.SIGCHLD, how)
    try:
        k = wstape.open(J)
        assert k.index_status == j.index_status == "ok", (how, k.index_status, j.index_status)
        assert len(list(k.records())) == n_all
    finally:
        signal.signal(signal.SIGCHLD, old)
assert wstape.open(J).records(from_time="2026-11-22T10:00:30Z").__next__().wall_ns >= wstape.parse_time(
    "2026-11-22T10:00:30Z")
for mod, want in (("zstandard", "apt-get install python3-zstandard"), ("pandas", "python3-pandas")):
    code = ("import sys; sys.modules[%r] = None\nimport wstape\n"
            "try:\n  wstape.open(%r).to_dataframe()\nexcept wstape.Error as e: print(e)\n") % (mod, J)
    p = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = (p.stdout + p.stderr).decode()
    assert want in out, (mod, out)
    if mod == "zstandard":
        assert "ImportError" in out, out
print("py_api ok: %d events, dedup keys and unique as inspect counts them; to_dataframe %d rows; errors named"
      % (len(evs), len(df)))
