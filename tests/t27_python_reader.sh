#!/usr/bin/env bash
# t27_python_reader - the Python package (python/wstape), written from docs/FORMAT.md and
# docs/INSPECT.md, with Debian's python3: every record and field as `wstape cat` prints it,
# under every filter and seek (index used, and segments alone), info() as `info --json`, on
# the bundled fixtures, a made journal of several blocks, a three-segment one and a
# 100k-record one with binary, empty and multi-MB frames; follow=True while `wstape record`
# appends (every record cat prints afterwards) and while segments are added; damaged
# journals (flipped bytes, cut and zeroed tails, missing segments, damaged indexes) read as
# cat reads them; Hydromancer events and dedup keys; to_dataframe(); and the package
# installed with pip (offline) and imported from there.
source "$(dirname "$0")/lib.sh"
REPO=$(cd "$WSTAPE_TESTS_DIR/.." && pwd)
CHECKS=$WSTAPE_TESTS_DIR/checks
FIX=$REPO/fixtures
export PYTHONPATH=$REPO/python
vs_cat() { $PY "$CHECKS/py_vs_cat.py" "$WSTAPE" "$@" || fail "the package and cat differ on $1 ($*)"; }

# -- the fixtures, with the index and without
for f in hydromancer lasersell raw; do
	$WSTAPE import "$FIX/$f.jsonl" -o "$T/$f" $([ $f = raw ] || echo --feed $f) 2>/dev/null || fail "import $f"
	vs_cat "$T/$f"
	vs_cat "$T/$f" --no-index
done

# -- a made journal: several blocks, binary and empty payloads, channels and cursors that are
# not UTF-8, numeric and other cursors in one channel, times that go back (t25's)
sed -n '/^\$PY - > "\$T\/made.jsonl" <<.PY.$/,/^PY$/p' "$WSTAPE_TESTS_DIR/t25_format_reader.sh" | sed '1d;$d' > "$T/made.py"
$PY "$T/made.py" > "$T/made.jsonl" || fail "the made journal's lines"
$WSTAPE import "$T/made.jsonl" -o "$T/made" --block-size 16k 2>/dev/null || fail "import of the made journal"
vs_cat "$T/made"
vs_cat "$T/made" --no-index

# -- receive and monotonic times at the ends of i64, and steps across them (added modulo 2^64)
$PY -c 'import json
M = 1 << 63
ts = [0, M - 1, -M, M - 1, 5, -M, -M + 3, M - 2, 1, 1 << 62, -(1 << 62), (1 << 62) + 5, M - 1 - (1 << 19), M - 1]
for i, t in enumerate(ts):
    print(json.dumps({"wall_ns": t, "mono_ns": ts[-1 - i], "payload": "x%d" % i, "conn": i}))' > "$T/ends.jsonl"
$WSTAPE import "$T/ends.jsonl" -o "$T/ends" 2>/dev/null || fail "import of times at the ends of i64"
vs_cat "$T/ends"

# -- three segments (its index damaged: set aside; then rebuilt and used)
cp -r "$WSTAPE_TESTS_DIR/fixtures/damaged/j342" "$T/j342"
vs_cat "$T/j342"
$WSTAPE verify --reindex "$T/j342" > /dev/null 2>&1 || fail "verify --reindex of j342"
vs_cat "$T/j342"

# -- 100k records: binary, empty, 1, 2 and 5 MB frames, text, two connections
$PY "$CHECKS/py_gen_jsonl.py" 100000 --mixed > "$T/big.jsonl" || fail "the big journal's lines"
$WSTAPE import "$T/big.jsonl" -o "$T/big" 2>/dev/null || fail "import of the big journal"
rm -f "$T/big.jsonl"
vs_cat "$T/big" --quick
$PY - "$T/big" <<'PY' || fail "the big journal's large and empty frames"
import sys, wstape
j = wstape.open(sys.argv[1])
sizes = sorted(len(r.payload) for r in j.records(kind="binary"))
assert sizes[-3:] == [1 << 20, 2 << 20, 5 << 20], sizes[-3:]
assert sum(1 for r in j.records() if not r.payload) > 1000
assert j.info()["records"] == 100000
PY

# -- follow=True while `wstape record` appends: the follower sees every record that cat
# prints afterwards, up to the close record of the SIGINT
port=$(free_port)
bg $PY "$WSTAPE_TESTS_DIR/peers/flood_server.py" --port "$port" --log "$T/flood.log" --size 300
wait_port "$port"
$PY "$CHECKS/py_follow.py" "$T/live" "$T/follow.jsonl" close "$T/follow.ready" > "$T/follow.out" 2>&1 &
fpid=$!
BG_PIDS+=($fpid)
# (--max-records: a bound on the journal's size should the follower be slow under load)
bg "$WSTAPE" record "ws://127.0.0.1:$port/" -o "$T/live" --flush-ms 20 --max-records 300000 2> "$T/record.err"
rec=$!
wait_for 60 "the follower to open the journal" test -e "$T/follow.ready"
lines() { [ "$(wc -l < "$T/follow.jsonl" 2>/dev/null || echo 0)" -ge "$1" ] || ! kill -0 "$rec" 2>/dev/null; }
wait_for 60 "the follower to read 20000 records while they are written" lines 20000
kill -INT "$rec" 2>/dev/null
wait "$rec" || fail "record exited $? after SIGINT: $(tail -3 "$T/record.err")"
wait "$fpid" || fail "the follower: $(cat "$T/follow.out")"
$WSTAPE cat "$T/live" > "$T/live.jsonl" || fail "cat of the recorded journal"
cmp -s <(jq -c -S . "$T/live.jsonl") <(jq -c -S . "$T/follow.jsonl") ||
	fail "the follower's records differ from cat's ($(wc -l < "$T/follow.jsonl") vs $(wc -l < "$T/live.jsonl"))"
grep -o '[0-9][0-9]* records' "$T/follow.out" > /dev/null || fail "the follower said nothing: $(cat "$T/follow.out")"

# -- follow=True across segments that appear while it reads
mkdir "$T/grow"
cp "$T/j342/META" "$T/j342/seg-0000000001.wst" "$T/grow/"
$PY "$CHECKS/py_follow.py" "$T/grow" "$T/grow.jsonl" 1500 "$T/grow.ready" > "$T/grow.out" 2>&1 &
gpid=$!
BG_PIDS+=($gpid)
wait_for 60 "the follower to open the journal" test -e "$T/grow.ready"
# (segment 2's first record number: its header, offset 16)
first2=$($PY -c 'import sys, struct; print(struct.unpack_from("<Q", open(sys.argv[1], "rb").read(64), 16)[0])' \
	"$T/j342/seg-0000000002.wst")
glines() { [ "$(wc -l < "$T/grow.jsonl" 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_for 60 "the follower to read segment 1" glines $((first2 - 1))
for s in 2 3; do
	cp "$T/j342/seg-000000000$s.wst" "$T/grow/.new" && mv "$T/grow/.new" "$T/grow/seg-000000000$s.wst"
done
wait "$gpid" || fail "the follower across segments: $(cat "$T/grow.out")"
cmp -s <($WSTAPE cat "$T/j342" | jq -c -S .) <(jq -c -S . "$T/grow.jsonl") || fail "the follower across segments differs from cat"

# -- damaged segments: flipped bytes, cut and zeroed tails, read as cat reads them
mkdir "$T/dmg"
$PY "$CHECKS/py_damaged.py" "$WSTAPE" "$T/made" "$T/dmg" 50 27 || fail "damaged copies of the made journal"
$PY "$CHECKS/py_damaged.py" "$WSTAPE" "$T/j342" "$T/dmg" 50 28 || fail "damaged copies of j342"
# a missing segment: records missing, named
cp -r "$T/j342" "$T/hole" && rm "$T/hole/seg-0000000002.wst"
expect_exit 1 $WSTAPE cat "$T/hole" > /dev/null 2>&1
$PY - "$T/hole" <<'PY' || fail "a missing segment"
import sys, wstape
try:
    wstape.open(sys.argv[1])
    raise SystemExit("no GapError")
except wstape.GapError as e:
    assert "seg-0000000002.wst is missing" in str(e) and e.first and e.last, str(e)
PY
# a segment that is a directory: named, unreadable (cat: exit 2)
cp -r "$T/j342" "$T/dirseg" && rm "$T/dirseg/seg-0000000003.wst" && mkdir "$T/dirseg/seg-0000000003.wst"
expect_exit 2 $WSTAPE cat "$T/dirseg" > /dev/null 2>&1
$PY -c 'import sys, wstape
try:
    list(wstape.open(sys.argv[1]).records())
    raise SystemExit("no UnreadableError")
except wstape.UnreadableError as e:
    assert "seg-0000000003.wst" in str(e) and "not a regular file" in str(e), str(e)' "$T/dirseg" || fail "a segment that is a directory"
# damaged indexes (the corpus's, and the damage that crashed verify): never a crash, the
# records as cat prints them
CORPUS=$REPO/../shared/corpus/damaged-index   # (shared/ beside the clone; a worktree's is one more up)
[ -d "$CORPUS" ] || CORPUS=$REPO/../../shared/corpus/damaged-index
idx_case() { # NAME: $T/ix/NAME is a copy of j342 with a damaged index
	vs_cat "$T/ix/$1" --quick
}
mkdir "$T/ix"
if [ -d "$CORPUS/j342" ]; then cp -r "$CORPUS/j342" "$T/ix/corpus"; idx_case corpus; fi
for cut in 4096 12288; do
	cp -r "$T/j342" "$T/ix/cut$cut" && truncate -s $cut "$T/ix/cut$cut/index/data.mdb" && idx_case cut$cut
done
cp -r "$T/j342" "$T/ix/flip"
$PY - "$T/ix/flip/index/data.mdb" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
for i, off in enumerate((109597, 124303, 11919, 110405, 54673)):
    f.seek(off); b = f.read(1)
    if b:
        f.seek(off); f.write(bytes([b[0] ^ (1 << i)]))
PY
idx_case flip
# a stale index: a segment cut after it was indexed
cp -r "$T/j342" "$T/ix/stale" && truncate -s 20000 "$T/ix/stale/seg-0000000003.wst"
expect_exit 1 $WSTAPE cat "$T/ix/stale" > "$T/stale.cat" 2>/dev/null
expect_exit 1 $WSTAPE info "$T/ix/stale" --json > "$T/stale.info" 2>/dev/null
$PY - "$T/ix/stale" "$T/stale.cat" "$T/stale.info" <<'PY' || fail "a stale index"
import json, sys, warnings, wstape
j = wstape.open(sys.argv[1])
assert j.index_status == "stale", j.index_status
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    assert j.info() == json.load(open(sys.argv[3]))
    assert any(issubclass(x.category, wstape.StaleIndexWarning) for x in w), w
got = []
try:
    for r in j.records():
        got.append(r.json())
    raise SystemExit("no StaleIndexError")
except wstape.StaleIndexError as e:
    assert "index" in str(e)
assert got == [json.loads(l) for l in open(sys.argv[2])], len(got)
PY

# -- Hydromancer events and dedup keys, to_dataframe(), errors
mkdir "$T/api"
$PY "$CHECKS/py_api.py" "$T/hydromancer" "$FIX/hydromancer.inspect.json" "$T/api" || fail "the package's API"

# -- installed with pip, offline, and imported from there (not from the source tree)
$PY -m pip install --no-build-isolation --no-index --no-deps --target "$T/site" "$REPO/python" > "$T/pip.log" 2>&1 ||
	fail "pip install --target: $(tail -5 "$T/pip.log")"
rm -rf "$REPO/python/build" "$REPO/python/wstape.egg-info"
(cd "$T" && PYTHONPATH="$T/site" $PY -c '
import sys, wstape
assert wstape.__file__.startswith(sys.argv[1]), wstape.__file__
df = wstape.open(sys.argv[2]).to_dataframe(channel="allFills")
assert len(df) == 29 and wstape.__version__ == sys.argv[3], (len(df), wstape.__version__)
' "$T/site" "$T/hydromancer" "$($WSTAPE --version | cut -d' ' -f2)") || fail "the installed package"

echo "t27 ok: the Python package reads as cat and info do, follows a recorder, survives damage"
