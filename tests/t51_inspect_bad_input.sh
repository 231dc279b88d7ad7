# t51_inspect_bad_input - inspect on a corrupt journal (a flipped byte in a segment),
# payloads that are not JSON, and bad usage: clear errors and exit codes, never a crash.
source tests/lib.sh
FIX=$PWD/fixtures
cd "$T" || fail "no temp dir"

# usage and unreadable input: exit 2 with a message naming the problem
expect_exit 2 $WSTAPE inspect 2>err.txt
grep -q "journal is needed" err.txt || fail "no message for a missing journal"
expect_exit 2 $WSTAPE inspect nothing-here 2>err.txt
grep -q "cannot open journal 'nothing-here'" err.txt || fail "no message for a missing journal dir: $(cat err.txt)"
mkdir empty-dir
expect_exit 2 $WSTAPE inspect empty-dir 2>/dev/null
$WSTAPE import "$FIX/hydromancer.jsonl" -o h --feed hydromancer >/dev/null 2>&1 || fail "import"
expect_exit 2 $WSTAPE inspect h --fail-on gapz 2>err.txt
grep -q -- "--fail-on needs classes (gaps, dups, disconnects, overlap, positions, timing, malformed, any), not 'gapz'" err.txt || fail "no message for a bad class"
expect_exit 2 $WSTAPE inspect h --stall-ms abc 2>/dev/null
# an option is named whole, as in every other command (no abbreviation)
expect_exit 2 $WSTAPE inspect h --js 2>err.txt
grep -q "inspect: unknown option '--js'" err.txt || fail "an abbreviated option: $(cat err.txt)"
expect_exit 2 $WSTAPE inspect h --json=1 2>err.txt
grep -q -- "--json takes no value" err.txt || fail "--json=1: $(cat err.txt)"
expect_exit 2 $WSTAPE inspect h --stall-ms 0 2>/dev/null
expect_exit 2 $WSTAPE inspect h --conn -1 2>/dev/null
expect_exit 2 $WSTAPE inspect h --from yesterday 2>/dev/null
expect_exit 2 $WSTAPE inspect h --feed nope 2>/dev/null
expect_exit 2 $WSTAPE inspect h --bogus 2>/dev/null
expect_exit 2 $WSTAPE inspect h h 2>/dev/null
expect_exit 2 $WSTAPE inspect h --from 2026-11-22T10:01:00Z --to 2026-11-22T10:00:00Z 2>/dev/null
expect_exit 0 $WSTAPE inspect --help >/dev/null
# a selection that matches nothing: no frame finding (connection events stay in)
expect_exit 0 $WSTAPE inspect h --channel nosuch --fail-on gaps,dups,overlap,malformed >/dev/null
expect_exit 0 $WSTAPE inspect h --from 2030-01-01T00:00:00Z --fail-on any >/dev/null

# payloads that are not JSON: counted, not fatal; a class of their own for known feeds
$PY - >bad.jsonl <<'PYEOF'
import json
t = 1795341600000000000
rows = [
    {"kind": "text", "payload": '{"type":"connected","sessionId":"s"}'},
    {"kind": "text", "channel": "allFills", "payload": '{"type":"allFills","seq":1,"fills":[{"time":1,"txIndex":0}]}'},
    {"kind": "text", "payload": "<html><body>502 Bad Gateway</body></html>"},
    {"kind": "text", "channel": "allFills", "payload": '{"type":"allFills","seq":2,"fills":[{"time":2,"txI'},
    {"kind": "binary", "payload_b64": "AAECA/8="},
    {"kind": "text", "payload": ""},
    {"kind": "text", "channel": "allFills", "payload": '{"type":"allFills","seq":3,"fills":[{"time":3,"txIndex":0}]}'},
]
for i, r in enumerate(rows):
    r.update({"wall_ns": t + i * 1000000, "conn": 1, "dir": "in"})
    print(json.dumps(r))
PYEOF
$WSTAPE import bad.jsonl -o bad --feed hydromancer >/dev/null 2>&1 || fail "import of bad.jsonl"
# (the truncated message cannot be read, so its seq counts as missing)
expect_exit 0 $WSTAPE inspect bad --fail-on dups,overlap,disconnects >out.txt
grep -q "not JSON     3 payloads" out.txt || fail "non-JSON payloads not counted: $(cat out.txt)"
expect_exit 1 $WSTAPE inspect bad --fail-on malformed >/dev/null
$WSTAPE inspect bad --json | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["records"]["not_json"]==3 and d["records"]["count"]==7, d["records"]' ||
	fail "JSON counts for non-JSON payloads"
# the raw feed: not JSON is normal there, counted but not a finding
expect_exit 0 $WSTAPE inspect bad --feed raw --fail-on any >/dev/null

# a corrupt journal: a flipped byte in the middle of the segment
$WSTAPE import "$FIX/hydromancer.jsonl" -o c --feed hydromancer --block-size 4k >/dev/null 2>&1 || fail "import"
seg=$(ls c/seg-*.wst | head -1)
$PY - "$seg" <<'PYEOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xff
open(p, "wb").write(b)
PYEOF
expect_exit 2 $WSTAPE inspect c >out.txt 2>err.txt
grep -q "is not wholly readable" err.txt || fail "no error message for the corruption: $(cat err.txt)"
grep -q "corruption   journal is corrupt at segment 1 offset" out.txt || fail "the report does not name the corruption"
grep -q "unreadable   [0-9]* records in 1 range" out.txt || fail "the report does not say what is unreadable"
expect_exit 2 $WSTAPE inspect c --json >out.json 2>/dev/null
$PY - out.json <<'PYEOF' || fail "JSON report of a corrupt journal"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["corruption"]
assert c["segment"] == 1 and c["unreadable_records"] > 0, c
# records before and after the bad block are both reported
assert d["records"]["first"] == 1 and d["records"]["last"] == 62, d["records"]
assert 0 < d["records"]["count"] < 62
assert d["summary"]["clean"] is False
PYEOF
# corruption wins over --fail-on: exit 2
expect_exit 2 $WSTAPE inspect c --fail-on any >/dev/null 2>&1

# a truncated journal: the segment cut in half (its index lists every record); the reader
# meets the end early, which is not the end of the journal
$WSTAPE import "$FIX/hydromancer.jsonl" -o t --feed hydromancer --block-size 4k >/dev/null 2>&1 || fail "import"
$PY - t/seg-*.wst <<'PYEOF'
import os, sys
os.truncate(sys.argv[1], os.path.getsize(sys.argv[1]) // 2)
PYEOF
expect_exit 1 $WSTAPE inspect t >out.txt 2>err.txt
grep -q "the index lists records that the segments do not hold" err.txt || fail "no error message for the truncation: $(cat err.txt)"
grep -q "^  verdict .*journal corrupt found" out.txt || fail "a truncated journal is reported clean: $(cat out.txt)"
grep -Eq "^  corruption   journal is corrupt: the segments end after record #[0-9]+, but the journal lists records" out.txt ||
	fail "the report does not name the truncation: $(cat out.txt)"
grep -Eq "^  unreadable   .*#[0-9]+" out.txt || fail "the report does not name the missing records"
expect_exit 1 $WSTAPE inspect t --json >out.json 2>/dev/null
$PY - out.json <<'PYEOF' || fail "JSON report of a truncated journal"
import json, sys
d = json.load(open(sys.argv[1]))
c, r = d["corruption"], d["records"]
assert 0 < r["count"] < 62 and r["first"] == 1, r
# the missing tail starts right after the last record read; its end is named when known
assert c["first_unreadable"] == r["last"] + 1, (c, r)
assert c["last_unreadable"] in (None, 62) and (c["last_unreadable"] or c["missing_from"] == r["last"] + 1), c
assert d["summary"]["clean"] is False
PYEOF
# cat, info and verify say the same of that journal: exit 1, the index lists what is not there
for c in cat info verify; do
	expect_exit 1 $WSTAPE $c t >out.$c 2>err.$c
	grep -q "index" err.$c || fail "$c does not name the index: $(cat err.$c)"
done
[ "$($WSTAPE cat t 2>/dev/null | wc -l)" = "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"]["count"])' out.json)" ] ||
	fail "cat and inspect do not read the same records"
# a --to that stops before the cut: the selection is whole
expect_exit 0 $WSTAPE inspect t --to 2026-11-22T10:00:00.500Z >/dev/null 2>&1
exit 0
