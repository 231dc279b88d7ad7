#!/usr/bin/env bash
# t25_format_reader - docs/FORMAT.md is enough for another reader: tests/peers/format_reader.py,
# written from the document alone, decodes every record of each journal as `wstape cat`
# prints it, and checks every sub-database of the index against the records (sizes,
# byte order, the state value, time keys, connections, channels, the largest cursor per
# channel and block by the documented order). Journals: the bundled fixtures, a
# three-segment one, and a made one with binary and empty payloads, text-or-base64
# channels and cursors, numeric and other cursors, receive times that go backwards, and
# enough records for several blocks.
source "$(dirname "$0")/lib.sh"
FR="$PY $WSTAPE_TESTS_DIR/peers/format_reader.py"
FIX=$WSTAPE_TESTS_DIR/../fixtures

same() { # JOURNAL: the reader and `wstape cat` print the same records, and the index checks
	$WSTAPE cat "$1" > "$T/cat.jsonl" || fail "cat $1"
	$FR "$1" --index > "$T/fr.jsonl" 2> "$T/fr.err" || fail "the FORMAT.md reader on $1: $(tail -5 "$T/fr.err")"
	$PY - "$T/cat.jsonl" "$T/fr.jsonl" <<'PY' || fail "the FORMAT.md reader and cat differ on $1"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape")]
b = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8", errors="surrogateescape")]
assert a, "no records"
assert len(a) == len(b), (len(a), len(b))
for x, y in zip(a, b):
    assert x == y, (x, y)
PY
	grep -q "index checked" "$T/fr.err" || fail "the index of $1 was not checked: $(cat "$T/fr.err")"
}

for f in hydromancer lasersell raw; do
	$WSTAPE import "$FIX/$f.jsonl" -o "$T/$f" $([ $f = raw ] || echo --feed $f) 2>/dev/null || fail "import $f"
	same "$T/$f"
done
cp -r "$WSTAPE_TESTS_DIR/fixtures/damaged/j342" "$T/j342"
$WSTAPE verify --reindex "$T/j342" > /dev/null 2>&1 || fail "verify --reindex of j342 (its damage is its index)"
same "$T/j342"

$PY - > "$T/made.jsonl" <<'PY'
import base64, json, random
r = random.Random(25)
t = 1_795_341_600_000_000_000
for i in range(3000):
    t += r.randrange(-2_000_000, 9_000_000)      # now and then a step back
    rec = {"wall_ns": t, "dir": "out" if i % 11 == 0 else "in", "conn": 1 + i // 1000,
           "kind": "binary" if i % 7 == 0 else "text"}
    ch = i % 5
    if ch == 4:
        rec["channel"] = "mixed"      # numeric and other cursors in one channel
        rec["cursor"] = ["1x", "10", "9", "0x%d" % i, str(i), "%d:%d" % (i, i % 3)][i % 6]
    elif ch == 3:
        rec["channel_b64"] = base64.b64encode(b"\xffch").decode()
    else:
        rec["channel"] = "c%d" % ch
    if ch == 0:
        rec["cursor"] = "%d:%d:%d" % (1000 + i, 1706123456789 + i, i % 50)
    elif ch == 1:
        rec["cursor"] = str(1706123456789 + i)
    elif ch == 2:
        rec["cursor"] = "x%05d" % i
    else:
        rec["cursor_b64"] = base64.b64encode(bytes([0x80, i % 256])).decode()
    if rec["kind"] == "binary":
        rec["payload_b64"] = base64.b64encode(bytes(r.randrange(256) for _ in range(r.randrange(0, 300)))).decode()
    else:
        rec["payload"] = "" if i % 13 == 0 else json.dumps({"i": i, "pad": "p" * r.randrange(0, 400)})
    print(json.dumps(rec))
PY
$WSTAPE import "$T/made.jsonl" -o "$T/made" --block-size 16k 2>/dev/null || fail "import of the made journal"
[ "$($WSTAPE info "$T/made" --json | jq .blocks)" -gt 5 ] || fail "the made journal has too few blocks"
same "$T/made"   # (its channel "mixed": chanblk by the order FORMAT.md gives, a total one)

echo "t25 ok: the reader written from FORMAT.md agrees with cat and the index"
