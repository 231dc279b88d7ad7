"""py_damaged.py WSTAPE JOURNAL WORKDIR N SEED: N copies of JOURNAL, each with one byte of
a segment changed (at a random offset: headers, data, the tail), or the last segment cut
at a random length, or its tail zeroed from a 512-byte boundary; each read by `wstape cat`
and by the package (index=False, as the damage is in the segments). Asserts: the package
raises nothing but wstape.Error; it yields exactly the records cat prints; where cat exits
1 (corrupt, records missing) the package raises CorruptError or GapError, naming the same
segment and offset as cat; where cat exits 0 the iteration ends cleanly."""
import json
import os
import random
import re
import shutil
import subprocess
import sys

import wstape

W, J, WORK, N, SEED = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
r = random.Random(SEED)
segs = sorted(f for f in os.listdir(J) if f.startswith("seg-"))
stats = {"clean": 0, "corrupt": 0, "gap": 0}
for k in range(N):
    d = os.path.join(WORK, "d%d" % k)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(J, d, ignore=shutil.ignore_patterns("index"))
    how = r.choice(["flip", "flip", "flip", "cut", "zero"])
    seg = r.choice(segs) if how == "flip" else segs[-1]
    p = os.path.join(d, seg)
    size = os.path.getsize(p)
    with open(p, "r+b") as f:
        if how == "flip":
            off = r.randrange(size) if r.random() < 0.7 else r.randrange(min(size, 4096))
            f.seek(off)
            b = f.read(1)[0]
            f.seek(off)
            f.write(bytes([b ^ (1 << r.randrange(8))]))
        elif how == "cut":
            f.truncate(r.randrange(size))
        else:
            off = r.randrange(size // 512 + 1) * 512
            f.seek(off)
            f.write(b"\0" * (size - off))
    what = "%s %s of %s" % (how, seg, d)
    c = subprocess.run([W, "cat", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    want = [json.loads(l) for l in c.stdout.decode("utf-8", "surrogateescape").splitlines()]
    got = []
    err = None
    try:
        for rec in wstape.open(d, index=False).records():
            got.append(rec.json())
    except wstape.Error as e:
        err = e
    assert got == want, "%s: the package gave %d records, cat %d" % (what, len(got), len(want))
    msg = c.stderr.decode("utf-8", "replace")
    if c.returncode == 0:
        assert err is None, "%s: cat read it all, the package raised %r" % (what, err)
        stats["clean"] += 1
    else:
        assert c.returncode in (1, 2), (what, c.returncode, msg)
        assert isinstance(err, (wstape.CorruptError, wstape.GapError, wstape.NotJournalError, wstape.VersionError,
                                wstape.UnreadableError)), "%s: cat said %r, the package %r" % (what, msg, err)
        m = re.search(r"segment '[^']*seg-(\d{10})\.wst' offset (\d+)", msg)
        if m:
            assert isinstance(err, wstape.CorruptError), "%s: cat said %r, the package %r" % (what, msg, err)
            assert (err.segment, err.offset) == (int(m.group(1)), int(m.group(2))), (what, msg, str(err))
            stats["corrupt"] += 1
        else:
            stats["gap"] += 1
    shutil.rmtree(d)
print("py_damaged %s: %d damaged copies read as cat reads them (%s)" % (J, N, ", ".join("%s %d" % kv for kv in stats.items())))
