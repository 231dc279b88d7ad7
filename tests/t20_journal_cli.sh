#!/usr/bin/env bash
# t20_journal_cli.sh - import, cat, info, verify from the command line: round trips,
# filters, corruption, repair, locking, kill -9, bad input and a full disk.
. "$(dirname "$0")/lib.sh"

# a fixture with text, unicode, control characters, binary payloads and cursors
$PY - > "$T/in.jsonl" <<'PY'
import json, base64
base = 1795341600000000000
for i in range(3000):
    r = {"wall_ns": base + i * 1000000, "mono_ns": 5000 + i * 999, "conn": 1 + i // 1000,
         "dir": "out" if i % 10 == 0 else "in", "kind": "text",
         "channel": ["allFills", "userFills"][i % 2], "cursor": "500:%d:%d" % (1706123456789 + i, i % 4),
         "payload": json.dumps({"type": "allFills", "seq": i, "s": "é\u2603\t\"q\"\n", "n": i})}
    if i % 97 == 5:
        r["kind"] = "binary"; del r["payload"]
        r["payload_b64"] = base64.b64encode(bytes([(0x80 + i * 7 + k) % 256 for k in range(i % 50)])).decode()
    if i == 11:
        r["payload"] = ""
    print(json.dumps(r))
PY
$WSTAPE import "$T/in.jsonl" -o "$T/j" 2> "$T/err" || fail "import failed: $(cat "$T/err")"
grep -q "imported 3000 records" "$T/err" || fail "import did not say how many"
$WSTAPE cat "$T/j" > "$T/c1" || fail "cat failed"
[ "$(wc -l < "$T/c1")" = 3000 ] || fail "cat printed $(wc -l < "$T/c1") lines"
$WSTAPE import "$T/c1" -o "$T/j2" 2>/dev/null || fail "re-import failed"
$WSTAPE cat "$T/j2" > "$T/c2"
cmp "$T/c1" "$T/c2" || fail "cat | import | cat is not identical"
# the fields survived: compare payloads and cursors with the input
$PY - "$T/in.jsonl" "$T/c1" <<'PY' || fail "payloads differ from the input"
import json, sys, base64
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
def payload(r):
    return r["payload"].encode() if "payload" in r else base64.b64decode(r["payload_b64"])
assert len(a) == len(b)
for x, y in zip(a, b):
    for k in ("wall_ns", "mono_ns", "conn", "dir", "kind", "channel", "cursor"):
        assert x[k] == y[k], (k, x, y)
    assert payload(x) == payload(y), (x, y)
PY

# filters
[ "$($WSTAPE cat "$T/j" --from-record 2990 | wc -l)" = 11 ] || fail "--from-record"
[ "$($WSTAPE cat "$T/j" --channel userFills --limit 5 | grep -c userFills)" = 5 ] || fail "--channel/--limit"
[ "$($WSTAPE cat "$T/j" --conn 3 | wc -l)" = 1000 ] || fail "--conn"
[ "$($WSTAPE cat "$T/j" --direction out | wc -l)" = 300 ] || fail "--direction"
[ "$($WSTAPE cat "$T/j" --from 2026-11-22T10:00:01Z --to 1795341601010 | wc -l)" = 10 ] || fail "--from/--to RFC 3339 and ms"
[ "$($WSTAPE cat "$T/j" --from 1795341601000000000 --limit 1 | $PY -c 'import json,sys; print(json.load(sys.stdin)["recno"])')" = 1001 ] || fail "--from ns"
$WSTAPE cat "$T/j" --kind binary | grep -q payload_b64 || fail "binary payloads are not base64"
$WSTAPE cat "$T/j" --payload --limit 2 | head -1 | grep -q '"seq": 0' || fail "--payload"

# info
$WSTAPE info "$T/j" > "$T/info" || fail "info failed"
grep -q "records      3000" "$T/info" || fail "info records: $(cat "$T/info")"
grep -q "connections  3" "$T/info" || fail "info connections"
grep -q "channels     2" "$T/info" || fail "info channels"
$WSTAPE info "$T/j" --json | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["records"]==3000 and d["ratio"]>1' || fail "info --json"
# an import from a file seals blocks by size only, however slow the machine: one block
$WSTAPE info "$T/j" --json | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["blocks"]==1, d' || fail "blocks of an import"

# verify; a flipped byte is found with its offset; --repair cuts it; --reindex rebuilds
$WSTAPE verify "$T/j" > "$T/v" || fail "verify of a good journal failed"
grep -q "^ok: 3000 records" "$T/v" || fail "verify output: $(cat "$T/v")"
cp -r "$T/j" "$T/bad"
seg="$T/bad/seg-0000000001.wst"
size=$(stat -c %s "$seg")
printf '\xff' | dd of="$seg" bs=1 seek=$((size - 100)) conv=notrunc status=none
expect_exit 1 $WSTAPE verify "$T/bad" 2> "$T/err"
grep -q "corrupt at offset 64 of segment 1" "$T/err" || fail "verify did not name the offset: $(cat "$T/err")"
expect_exit 1 $WSTAPE cat "$T/bad" > /dev/null 2> "$T/err"
grep -q "offset" "$T/err" || fail "cat did not name the corruption"
$WSTAPE verify --repair "$T/bad" > "$T/out" 2>&1 || fail "repair failed: $(cat "$T/out")"
grep -q "cut $((size - 64)) bytes from offset 64" "$T/out" || fail "repair output: $(cat "$T/out")"
$WSTAPE verify "$T/bad" > /dev/null || fail "repaired journal does not verify"
rm -rf "$T/j2/index"
$WSTAPE verify --reindex "$T/j2" | grep -q "index rebuilt" || fail "--reindex"
$WSTAPE verify "$T/j2" | grep -q "^ok: 3000 records" || fail "verify after --reindex"

# a damaged index (random bytes): verify says so; --reindex and the next writer rebuild it
cp -r "$T/j" "$T/di"
head -c "$(stat -c %s "$T/di/index/data.mdb")" /dev/urandom > "$T/di/index/data.mdb"
cp -r "$T/di" "$T/di2"
expect_exit 1 $WSTAPE verify "$T/di" > /dev/null 2> "$T/err"
grep -q "the index is damaged (.*); 'wstape verify --repair' or --reindex rebuilds it" "$T/err" || fail "damaged index message: $(cat "$T/err")"
$WSTAPE verify --reindex "$T/di" > "$T/out" 2> "$T/err" || fail "--reindex of a damaged index: $(cat "$T/err")"
grep -q "index was damaged (.*); rebuilt from the segments" "$T/err" || fail "rebuild message: $(cat "$T/err")"
$WSTAPE verify "$T/di" | grep -q "^ok: 3000 records" || fail "verify after rebuilding a damaged index"
head -n 10 "$T/in.jsonl" | $WSTAPE import - -o "$T/di2" --append 2> "$T/err" || fail "append with a damaged index: $(cat "$T/err")"
grep -q "index was damaged" "$T/err" || fail "append did not say the index was rebuilt: $(cat "$T/err")"
$WSTAPE verify "$T/di2" > "$T/out" || fail "verify after append with a damaged index"
grep -q "^ok: 3010 records" "$T/out" || fail "records after append with a damaged index: $(cat "$T/out")"

# info and cat when the index does not hold what the segments do: without an index, info
# counts everything from the segments; with an index listing a lost tail, info says so and
# exits 1, and a seek into the lost tail fails with the place
$WSTAPE import "$T/in.jsonl" -o "$T/jb" --block-size 16k 2> /dev/null || fail "import with small blocks"
cp -r "$T/jb" "$T/jb-noidx"; rm -rf "$T/jb-noidx/index"
$WSTAPE info "$T/jb" --json > "$T/i1" || fail "info --json"
$WSTAPE info "$T/jb-noidx" --json > "$T/i2" || fail "info --json without an index"
$PY - "$T/i1" "$T/i2" <<'PY' || fail "info without an index differs: $(cat "$T/i1" "$T/i2")"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for k in ("journal", "disk_bytes"):
    del a[k], b[k]
assert a == b, (a, b)
assert a["connections"] == 3 and a["channels"] == 2 and a["blocks"] > 5, a
PY
cp -r "$T/jb" "$T/jb-cut"
truncate -s -500 "$T/jb-cut/seg-0000000001.wst"
left=$($WSTAPE cat "$T/jb-cut" | wc -l)
[ "$left" -lt 3000 ] || fail "the cut removed no record"
expect_exit 1 $WSTAPE info "$T/jb-cut" > "$T/out" 2> "$T/err"
grep -q "records      $left (recno 1..$left)" "$T/out" || fail "info of a cut segment: $(cat "$T/out")"
grep -q "index does not match the segments.*past the end of the file" "$T/err" || fail "info warning: $(cat "$T/err")"
expect_exit 1 $WSTAPE cat "$T/jb-cut" --from-record 2999 > "$T/out" 2> "$T/err"
grep -q "offset [0-9]* of segment '$T/jb-cut/seg-0000000001.wst'.*past the end" "$T/err" || fail "cat into a lost tail: $(cat "$T/err")"
[ "$($WSTAPE cat "$T/jb-cut" --from-record 10 | wc -l)" = $((left - 9)) ] || fail "cat before the lost tail"

# bad input: clear messages, exit codes, nothing created
expect_exit 2 $WSTAPE cat "$T/nope" 2> "$T/err"
grep -q "cannot open journal '$T/nope'" "$T/err" || fail "missing path message: $(cat "$T/err")"
[ "$(grep -o "cannot open journal" "$T/err" | wc -l)" = 1 ] || fail "missing path message said twice: $(cat "$T/err")"
# a reader that stops early (head) is a normal end, not SIGPIPE
$WSTAPE cat "$T/j" 2> "$T/err" | head -1 > /dev/null
[ "${PIPESTATUS[0]}" = 0 ] || fail "cat | head exited ${PIPESTATUS[0]}"
[ ! -s "$T/err" ] || fail "cat | head said: $(cat "$T/err")"
mkdir "$T/notj"; echo x > "$T/notj/file"
expect_exit 2 $WSTAPE info "$T/notj" 2> "$T/err"
grep -q "not a wstape journal" "$T/err" || fail "not-a-journal message: $(cat "$T/err")"
expect_exit 2 $WSTAPE import "$T/in.jsonl" -o "$T/notj" 2> /dev/null
expect_exit 2 $WSTAPE import "$T/in.jsonl" -o "$T/j" 2> "$T/err"
grep -q "already holds a journal" "$T/err" || fail "import over a journal: $(cat "$T/err")"
cp -r "$T/j" "$T/newer"; sed -i 's/^format=1/format=9/' "$T/newer/META"
expect_exit 2 $WSTAPE cat "$T/newer" 2> "$T/err"
grep -q "format version 9; this wstape reads up to 1" "$T/err" || fail "newer version message: $(cat "$T/err")"
sed -i 's/^format=9/format=abc/' "$T/newer/META"
expect_exit 2 $WSTAPE cat "$T/newer" 2> "$T/err"
grep -q "says format 'abc', which is not a format version" "$T/err" || fail "non-numeric format: $(cat "$T/err")"
printf '{"kind":"text","wall_ns":1,"payload":"a"}\n{"kind":"nope","wall_ns":2}\n' > "$T/badline.jsonl"
expect_exit 2 $WSTAPE import "$T/badline.jsonl" -o "$T/bl" 2> "$T/err"
grep -q "line 2: \"kind\" is not one of" "$T/err" || fail "bad line message: $(cat "$T/err")"
# a journal that a failed import created is removed: the same import fails the same way
[ ! -e "$T/bl" ] || fail "a failed import left '$T/bl' behind"
grep -q "removed the journal '$T/bl' that this import created" "$T/err" || fail "removal message: $(cat "$T/err")"
expect_exit 2 $WSTAPE import "$T/badline.jsonl" -o "$T/bl" 2> "$T/err"
grep -q "line 2: \"kind\" is not one of" "$T/err" || fail "second failed import: $(cat "$T/err")"
mkdir "$T/bl-empty"
expect_exit 2 $WSTAPE import "$T/badline.jsonl" -o "$T/bl-empty" 2> /dev/null
[ -d "$T/bl-empty" ] && [ -z "$(ls -A "$T/bl-empty")" ] || fail "a failed import into an empty directory: $(ls -A "$T/bl-empty")"
# appending to a journal that was there keeps it, with the lines before the bad one
cp -r "$T/j" "$T/bl-app"
expect_exit 2 $WSTAPE import "$T/badline.jsonl" -o "$T/bl-app" --append 2> "$T/err"
grep -q "nothing after line 1 was imported" "$T/err" || fail "append message: $(cat "$T/err")"
$WSTAPE verify "$T/bl-app" | grep -q "^ok: 3001 records" || fail "append before a bad line"
printf 'not json\n' > "$T/notjson.jsonl"
expect_exit 2 $WSTAPE import "$T/notjson.jsonl" -o "$T/nj" 2> "$T/err"
grep -q "line 1: not a JSON object" "$T/err" || fail "not-json message: $(cat "$T/err")"
printf '{"wall_ns":1}\n[1,2]\n' > "$T/array.jsonl"
expect_exit 2 $WSTAPE import "$T/array.jsonl" -o "$T/nj" 2> "$T/err"
grep -q "line 2: not a JSON object (a JSON array)" "$T/err" || fail "JSON array message: $(cat "$T/err")"
grep -q "column -" "$T/err" && fail "JSON array message: $(cat "$T/err")"
expect_exit 2 $WSTAPE cat 2> /dev/null
expect_exit 2 $WSTAPE cat "$T/j" --bogus 2> /dev/null
expect_exit 2 $WSTAPE cat "$T/j" --from yesterday 2> /dev/null
$WSTAPE help cat | grep -q "usage: wstape cat" || fail "help cat"
$WSTAPE cat --help | grep -q "usage: wstape cat" || fail "cat --help"
rm -f "$T/bad/seg-0000000001.wst"; mkdir "$T/bad/seg-0000000001.wst"
expect_exit 2 $WSTAPE cat "$T/bad" > /dev/null 2> "$T/err"
grep -q "seg-0000000001.wst" "$T/err" || fail "unreadable segment message: $(cat "$T/err")"
# verify names the reason for a segment it cannot read, and offers no repair for it
expect_exit 2 $WSTAPE verify "$T/bad" > /dev/null 2> "$T/err"
grep -q "cannot read segment '$T/bad/seg-0000000001.wst': Is a directory" "$T/err" || fail "verify of an unreadable segment: $(cat "$T/err")"
grep -q "repair\|corrupt" "$T/err" && fail "verify calls an unreadable segment corrupt: $(cat "$T/err")"
# a segment of mode 000: every reader names it and exits 2; verify offers no repair
cp -r "$T/j" "$T/noperm"; chmod 000 "$T/noperm/seg-0000000001.wst"
as_unprivileged "$T/noperm"
for c in cat info verify inspect; do
	"${AS_USER[@]}" $WSTAPE $c "$T/noperm" > /dev/null 2> "$T/err"; got=$?
	[ $got = 2 ] || fail "$c of a journal with a segment of mode 000 exited $got: $(cat "$T/err")"
	grep -q "segment '$T/noperm/seg-0000000001.wst': Permission denied" "$T/err" ||
		fail "$c of a segment of mode 000: $(cat "$T/err")"
	grep -q "repair" "$T/err" && fail "$c offers to repair an unreadable segment: $(cat "$T/err")"
done
# a segment written by a newer format version
cp -r "$T/j" "$T/newseg"
$PY - "$T/newseg/seg-0000000001.wst" <<'PY'
import os, struct, sys
sys.path.insert(0, os.environ["WSTAPE_TESTS_DIR"] + "/peers")
from wst_segment import crc32c
p = sys.argv[1]
h = bytearray(open(p, "rb").read(64))
h[8:12] = struct.pack("<I", 2)
h[60:64] = struct.pack("<I", crc32c(bytes(h[:60])))
with open(p, "r+b") as f:
    f.write(h)
PY
expect_exit 2 $WSTAPE verify "$T/newseg" > /dev/null 2> "$T/err"
grep -q "seg-0000000001.wst' was written by a newer wstape (format 2); this one reads up to 1" "$T/err" || fail "verify of a newer segment: $(cat "$T/err")"
grep -q "repair\|corrupt" "$T/err" && fail "verify calls a newer segment corrupt: $(cat "$T/err")"

# one writer at a time: a second gets a clear error
mkfifo "$T/fifo"
bg $WSTAPE import "$T/fifo" -o "$T/locked"
exec 7> "$T/fifo"
head -5 "$T/in.jsonl" >&7
wait_for 60 "the first writer's journal and lock" bash -c "[ -f '$T/locked/META' ] && [ -s '$T/locked/LOCK' ]"
expect_exit 2 $WSTAPE import "$T/in.jsonl" -o "$T/locked" --append 2> "$T/err"
grep -q "being written by another process (pid" "$T/err" || fail "second writer message: $(cat "$T/err")"
exec 7>&-
wait

# kill -9 in the middle of a large import, repeatedly: the journal opens and verifies
for i in 1 2 3 4 5 6; do cat "$T/in.jsonl"; done > "$T/big.jsonl"

# verify while a writer appends: blocks indexed during the check are no mismatch
cat "$T/big.jsonl" "$T/big.jsonl" > "$T/big2.jsonl"
$WSTAPE import "$T/big2.jsonl" -o "$T/live" --block-size 4k --fsync always 2> /dev/null & pid=$!
wait_for 60 "the import's first segment" test -f "$T/live/seg-0000000001.wst"
n=0
while kill -0 $pid 2> /dev/null; do
	$WSTAPE verify "$T/live" > /dev/null 2> "$T/err"; rc=$?
	[ $rc = 0 ] || { kill $pid; wait $pid; fail "verify during an import exited $rc: $(cat "$T/err")"; }
	n=$((n + 1))
done
wait $pid || fail "the import under verify failed"
[ $n -ge 3 ] || echo "note: only $n verify runs overlapped the import"
$WSTAPE verify "$T/live" | grep -q "^ok: 36000 records" || fail "verify after the live import"
for d in 0.05 0.15 0.3; do
	rm -rf "$T/k"
	$WSTAPE import "$T/big.jsonl" -o "$T/k" --block-size 16k 2>/dev/null & pid=$!
	sleep $d; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	[ -d "$T/k" ] && [ -f "$T/k/META" ] || continue
	$WSTAPE verify "$T/k" > /dev/null || fail "journal does not verify after kill -9 at ${d}s"
	$WSTAPE cat "$T/k" | $PY -c '
import json, sys
n = 0
for l in sys.stdin:
    n += 1; assert json.loads(l)["recno"] == n
' || fail "records after kill -9 are not dense"
	$WSTAPE import "$T/in.jsonl" -o "$T/k" --append 2>/dev/null || fail "append after kill -9"
	$WSTAPE verify "$T/k" > /dev/null || fail "verify after append"
done

# a full disk: a small tmpfs (when this machine lets us mount one)
mkdir "$T/small"
if mount -t tmpfs -o size=300k tmpfs "$T/small" 2>/dev/null; then
	trap 'umount "$T/small" 2>/dev/null; cleanup' EXIT
	$PY -c "
import json, os, base64
for i in range(3000):
    print(json.dumps({'wall_ns': i, 'kind': 'text', 'payload': base64.b64encode(os.urandom(300)).decode()}))" > "$T/rand.jsonl"
	# into a journal that was there: what was written before stays valid
	head -n 1 "$T/rand.jsonl" | $WSTAPE import - -o "$T/small/j" 2> /dev/null || fail "import of one line"
	expect_exit 3 $WSTAPE import "$T/rand.jsonl" -o "$T/small/j" --append --block-size 16k 2> "$T/err"
	grep -q "No space left on device" "$T/err" || fail "ENOSPC message: $(cat "$T/err")"
	$WSTAPE verify "$T/small/j" > /dev/null || fail "journal not valid after ENOSPC"
	# a journal the import created is removed, and the space with it
	rm -rf "$T/small/j"
	expect_exit 3 $WSTAPE import "$T/rand.jsonl" -o "$T/small/j2" --block-size 16k 2> "$T/err"
	grep -q "No space left on device" "$T/err" || fail "ENOSPC message: $(cat "$T/err")"
	[ ! -e "$T/small/j2" ] || fail "a failed import left '$T/small/j2' behind"
	umount "$T/small"
else
	echo "note: cannot mount a tmpfs here; the full-disk path is covered by test_journal (RLIMIT_FSIZE)"
fi
# a channel and a cursor that are not UTF-8: info --json stays JSON (null and _b64 beside
# it), plain info shows base64
printf '%s\n' '{"wall_ns":1,"dir":"in","conn":1,"kind":"text","channel_b64":"/wA=","cursor_b64":"gAE=","payload":"{}"}' |
	$WSTAPE import - -o "$T/nb" 2>/dev/null || fail "import of a binary channel"
$WSTAPE info "$T/nb" --json | $PY -c '
import json, sys
c = json.load(sys.stdin)["channel_list"][0]
assert c["name"] is None and c["name_b64"] == "/wA=" and c["first_cursor_b64"] == "gAE=", c' ||
	fail "info --json of a binary channel: $($WSTAPE info "$T/nb" --json)"
$WSTAPE info "$T/nb" | grep -q "base64:/wA= .*cursor base64:gAE=" || fail "info of a binary channel: $($WSTAPE info "$T/nb")"
echo "t20 ok"
