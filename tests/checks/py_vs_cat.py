"""py_vs_cat.py WSTAPE JOURNAL [--no-index] [--quick]: the Python package (python/wstape,
on PYTHONPATH) reads JOURNAL as `wstape cat` prints it: every field of every record
(payload bytes against cat's payload / payload_b64), under every filter and seek of cat
(from_record, from_time, to_time, channel, conn, direction, kind, limit, and their
combinations), from_cursor against a scan of cat's output by the documented cursor order,
and info() against `wstape info --json`. --no-index: the package reads the segments alone.
--quick: fewer filter cases (for large journals)."""
import base64
import json
import subprocess
import sys

import wstape

W, J = sys.argv[1], sys.argv[2]
use_index = "--no-index" not in sys.argv
quick = "--quick" in sys.argv


def cat(*args):
    p = subprocess.run([W, "cat", J, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0, (args, p.returncode, p.stderr.decode())
    return [json.loads(l) for l in p.stdout.decode("utf-8", "surrogateescape").splitlines()]


def field_bytes(o, name):
    if name in o:
        return o[name].encode("utf-8", "surrogateescape")
    return base64.b64decode(o[name + "_b64"])


def same(cat_recs, recs, what):
    assert len(cat_recs) == len(recs), "%s: cat %d records, package %d" % (what, len(cat_recs), len(recs))
    for c, r in zip(cat_recs, recs):
        assert r.json() == c, "%s: record %d: %r != %r" % (what, c["recno"], r.json(), c)
        assert (r.recno, r.wall_ns, r.mono_ns, r.conn, r.dir, r.kind) == (
            c["recno"], c["wall_ns"], c["mono_ns"], c["conn"], c["dir"], c["kind"]), what
        assert r.payload == field_bytes(c, "payload"), what
        assert r.cursor == field_bytes(c, "cursor"), what
        assert r.channel_bytes == field_bytes(c, "channel"), what
        assert isinstance(r.payload, bytes) and isinstance(r.cursor, bytes)


def walls_ok(recs):
    return any(-(1 << 63) + 2 * 10**9 < c["wall_ns"] < (1 << 63) - 2 * 10**9 for c in recs)


def targ(t):  # a time for cat: epoch ns, or RFC 3339 before the epoch
    return "%dns" % t if t >= 0 else wstape.format_time(t)


j = wstape.open(J, index=use_index)
allc = cat()
recs = list(j.records())
same(allc, recs, "all")
n = len(allc)
cases = []
if n and walls_ok(allc):
    # (times cat's --from takes: not within 2 s of the ends of i64)
    walls = sorted(c["wall_ns"] for c in allc if -(1 << 63) + 2 * 10**9 < c["wall_ns"] < (1 << 63) - 2 * 10**9)
    chans = sorted({c.get("channel", "") for c in allc if c.get("channel")})
    conns = sorted({c["conn"] for c in allc})
    kinds = sorted({c["kind"] for c in allc})
    picks = [1, 2, n // 3, n // 2, n - 1, n, n + 5] if not quick else [n // 2]
    for r in picks:
        cases.append((["--from-record", str(r)], dict(from_record=r)))
    for q in ([0.0, 0.25, 0.5, 0.9, 1.0] if not quick else [0.5]):
        t = walls[min(int(q * (len(walls) - 1)), len(walls) - 1)]
        cases.append((["--from", targ(t)], dict(from_time=t)))
        cases.append((["--to", targ(t)], dict(to_time=t)))
        if t >= 0:
            cases.append((["--from", str(t)], dict(from_time=str(t))))
    t0, t1 = walls[len(walls) // 4], walls[(3 * len(walls)) // 4]
    cases.append((["--from", targ(t0), "--to", targ(t1)], dict(from_time=t0, to_time=t1)))
    cases.append((["--from", wstape.format_time(t0)], dict(from_time=wstape.format_time(t0))))
    for ch in chans[:4]:
        cases.append((["--channel", ch], dict(channel=ch)))
        cases.append((["--channel", ch, "--from-record", str(n // 2)], dict(channel=ch, from_record=n // 2)))
    cases.append((["--channel", "no-such-channel"], dict(channel="no-such-channel")))
    for c in conns[:4]:
        cases.append((["--conn", str(c)], dict(conn=c)))
    for d in ("in", "out"):
        cases.append((["--direction", d], dict(direction=d)))
    for k in kinds:
        cases.append((["--kind", k], dict(kind=k)))
    cases.append((["--limit", "3"], dict(limit=3)))
    cases.append((["--limit", "3", "--from-record", str(n // 2)], dict(limit=3, from_record=n // 2)))
    cases.append((["--kind", "text", "--direction", "in", "--conn", str(conns[-1]), "--from", targ(t0)],
                  dict(kind="text", direction="in", conn=conns[-1], from_time=t0)))
if quick:  # one case of each kind of filter and seek
    kinds_seen = set()
    few = []
    for args, kw in cases:
        k = tuple(sorted(kw))
        if k not in kinds_seen:
            kinds_seen.add(k)
            few.append((args, kw))
    cases = few
for args, kw in cases:
    same(cat(*args), list(j.records(**kw)), "cat %s" % " ".join(args))

# from_cursor: the first record (of the channel, or of any) with a cursor at or after X
def after_cursor(ch, x):
    k = wstape.cursor_key(x)
    for i, c in enumerate(allc):
        cur = field_bytes(c, "cursor")
        if cur and (ch is None or field_bytes(c, "channel") == ch.encode()) and wstape.cursor_key(cur) >= k:
            return [r for r in allc[i:] if ch is None or field_bytes(r, "channel") == ch.encode()]
    return []


curs = [field_bytes(c, "cursor") for c in allc if field_bytes(c, "cursor")]
ncur = 0
for x in (curs[len(curs) // 2::len(curs)] if quick else curs[:: max(1, len(curs) // 8)] + [b"0", b"999999999999999999999", b"zz"]) if curs else []:
    for ch in [None] + sorted({c.get("channel") for c in allc if c.get("channel")})[:1 if quick else 3]:
        want = after_cursor(ch, x)
        same(want, list(j.records(channel=ch, from_cursor=x)), "from_cursor %r channel %r" % (x, ch))
        ncur += 1

p = subprocess.run([W, "info", J, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
assert p.returncode == 0, p.stderr.decode()
want = json.loads(p.stdout)
got = j.info()
if not use_index and j.index_status == "off" and want.get("disk_bytes") != got["disk_bytes"]:
    want["disk_bytes"] = got["disk_bytes"]  # C counts the index it used; the package used none
assert list(got) == list(want), (list(got), list(want))
assert got == want, "info: %r != %r" % (got, want)
print("py_vs_cat %s: %d records, %d filter cases, %d cursor seeks, info equal (index %s)"
      % (J, n, len(cases), ncur, j.index_status))
