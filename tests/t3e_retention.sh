#!/usr/bin/env bash
# t3e_retention - segments sealed by age and pruned from the start: `wstape prune --before`
# and `--keep` on an imported journal (what it prints, info and info --json, verify, cat,
# inspect and the Python package on the pruned journal); verify rejects a hole (a middle
# segment deleted) and a first segment deleted without the marker; a reader in the middle
# of a segment while it is pruned reads on from the first segment kept; replay of a pruned
# journal; a crash right after the marker is written; kill -9 of prune
# at random points of its steps, then verify passes and the records are a suffix of the
# original without a hole (and the next prune, or a writer, removes what was left); a
# real `wstape record` with --segment-size and --retain while `wstape prune` runs beside
# it; --segment-age sealing an idle writer's segment.
source "$(dirname "$0")/lib.sh"
REPO=$(cd "$WSTAPE_TESTS_DIR/.." && pwd)
export PYTHONPATH=$REPO/python

# -- a journal of 3000 records, one a second from 2023-11-14T22:13:20Z, in 6 segments
$PY - >"$T/in.jsonl" <<'PY'
import json, random
rnd = random.Random(1)
for i in range(3000):
    print(json.dumps({"wall_ns": 1700000000000000000 + i * 1000000000, "channel": "c%d" % (i % 3),
                      "cursor": str(i), "conn": 1 + i // 1000,
                      "payload": "".join(rnd.choice("abcdefghijklmnop") for _ in range(200))}))
PY
"$WSTAPE" import "$T/in.jsonl" -o "$T/orig" --block-size 4k --segment-size 64k 2>/dev/null || fail "import"
nseg=$(ls "$T/orig" | grep -c '^seg-')
[ "$nseg" -ge 5 ] || fail "expected at least 5 segments, got $nseg"
"$WSTAPE" cat "$T/orig" | jq -c '[.recno, .payload]' >"$T/orig.lines" || fail "cat orig"

cp -a "$T/orig" "$T/j"
# nothing before the first record: nothing removed, exit 0
"$WSTAPE" prune "$T/j" --before 2023-11-14T22:00:00Z >"$T/out" || fail "prune with nothing to prune"
grep -q "nothing to prune in '$T/j': it starts at record 1" "$T/out" || fail "nothing to prune: $(cat "$T/out")"
# a dry run says what it would remove and removes nothing
"$WSTAPE" prune "$T/j" --before 2023-11-14T22:40:00Z --dry-run >"$T/out" || fail "dry run"
grep -q "^would remove 2 segments (1080 records, " "$T/out" || fail "dry run: $(cat "$T/out")"
[ ! -e "$T/j/PRUNED" ] && [ -e "$T/j/seg-0000000001.wst" ] || fail "the dry run removed something"
# a stream that has not acknowledged past record 500 (its mark): those records stay,
# unless --ignore-marks
echo 500 >"$T/j/MARK.nats.S"
"$WSTAPE" prune "$T/j" --before 2023-11-14T22:40:00Z --dry-run >"$T/out" || fail "dry run with a mark"
grep -q "^keeping the records of '$T/j' received from 2023-11-14T22:21:40.000000000Z on: stream S has not acknowledged them" "$T/out" ||
	fail "prune with a mark: $(cat "$T/out")"
grep -q "^would remove 2 segments" "$T/out" && fail "the mark did not hold the prune back: $(cat "$T/out")"
"$WSTAPE" prune "$T/j" --before 2023-11-14T22:40:00Z --dry-run --ignore-marks >"$T/out" || fail "--ignore-marks"
grep -q "^would remove 2 segments (1080 records, " "$T/out" || fail "--ignore-marks: $(cat "$T/out")"
rm "$T/j/MARK.nats.S"
"$WSTAPE" prune "$T/j" --before 2023-11-14T22:40:00Z >"$T/out" || fail "prune --before"
grep -q "^removed 2 segments (1080 records, [0-9]* bytes, received up to 2023-11-14T22:31:19.000000000Z) from '$T/j'; it starts at record 1081 (segment 3, 2023-11-14T22:31:20.000000000Z)$" "$T/out" ||
	fail "prune's report: $(cat "$T/out")"
[ ! -e "$T/j/seg-0000000001.wst" ] && [ ! -e "$T/j/seg-0000000002.wst" ] || fail "segments 1 and 2 are still there"
"$WSTAPE" verify "$T/j" >"$T/out" || fail "verify of the pruned journal: $(cat "$T/out")"
grep -q "^ok: 1920 records" "$T/out" || fail "verify: $(cat "$T/out")"
"$WSTAPE" info "$T/j" >"$T/info" || fail "info"
grep -q "^records      1920 (recno 1081..3000)" "$T/info" || fail "info's range: $(cat "$T/info")"
grep -q "^pruned       2 segments (1080 records, [0-9]* bytes) received up to 2023-11-14T22:31:19.000000000Z; kept from segment 3" "$T/info" ||
	fail "info's pruned line: $(cat "$T/info")"
"$WSTAPE" info "$T/j" --json >"$T/info.json" || fail "info --json"
jq -e '.records == 1920 and .first_recno == 1081 and .pruned.segments == 2 and .pruned.records == 1080 and
	.pruned.first_segment == 3 and .pruned.until_time == "2023-11-14T22:31:19.000000000Z" and
	(.channel_list | map(.records) == [640, 640, 640]) and .channel_list[0].first_recno == 1081 and
	.channel_list[0].first_cursor == "1080"' "$T/info.json" >/dev/null || fail "info --json: $(cat "$T/info.json")"
jq -e '.pruned == null' <("$WSTAPE" info "$T/orig" --json) >/dev/null || fail "an unpruned journal has pruned null"
# cat: the records from 1081, as they were; seeks before the start land on it
"$WSTAPE" cat "$T/j" | jq -c '[.recno, .payload]' >"$T/j.lines"
tail -n 1920 "$T/orig.lines" | cmp -s - "$T/j.lines" || fail "cat of the pruned journal is not the original's suffix"
[ "$("$WSTAPE" cat "$T/j" --from-record 5 --limit 1 | jq .recno)" = 1081 ] || fail "cat --from-record 5"
[ "$("$WSTAPE" cat "$T/j" --from 2023-11-14T22:00:00Z --limit 1 | jq .recno)" = 1081 ] || fail "cat --from before the start"
[ "$("$WSTAPE" cat "$T/j" --from-record 2000 --limit 1 | jq .recno)" = 2000 ] || fail "cat --from-record 2000"
"$WSTAPE" inspect "$T/j" >"$T/inspect.out" 2>&1 || fail "inspect of the pruned journal: $(cat "$T/inspect.out")"
# the Python package reads it as cat does, info() equals info --json, with and without the index
$PY "$WSTAPE_TESTS_DIR/checks/py_vs_cat.py" "$WSTAPE" "$T/j" --quick || fail "python on the pruned journal"
$PY "$WSTAPE_TESTS_DIR/checks/py_vs_cat.py" "$WSTAPE" "$T/j" --no-index --quick || fail "python without the index"
# --keep: now minus D; the last segment is never removed, whatever its age
"$WSTAPE" prune "$T/j" --keep 1s >"$T/out" || fail "prune --keep"
last=$(ls "$T/orig" | grep '^seg-' | tail -n 1)
[ "$(ls "$T/j" | grep '^seg-')" = "$last" ] || fail "--keep 1s should leave the last segment alone: $(ls "$T/j")"
"$WSTAPE" verify "$T/j" >/dev/null || fail "verify after --keep"
$PY "$WSTAPE_TESTS_DIR/checks/py_vs_cat.py" "$WSTAPE" "$T/j" --quick || fail "python after --keep"
# usage
expect_exit 2 "$WSTAPE" prune "$T/j" 2>/dev/null
expect_exit 2 "$WSTAPE" prune "$T/j" --before 2023-11-14T22:40:00Z --keep 1d 2>/dev/null
expect_exit 2 "$WSTAPE" prune "$T/j" --keep soon 2>/dev/null
expect_exit 2 "$WSTAPE" prune "$T/nothing" --keep 1d 2>/dev/null

# -- replay serves the pruned journal from its first record: a recorder gets every text kept
cp -a "$T/orig" "$T/p" && "$WSTAPE" prune "$T/p" --before 2023-11-14T22:40:00Z >/dev/null || fail "prune p"
rport=$(free_port)
bg "$WSTAPE" replay "$T/p" --listen "127.0.0.1:$rport" --speed max --once 2>"$T/replay.err" >/dev/null
rpid=$!
wait_port "$rport"
"$WSTAPE" record "ws://127.0.0.1:$rport/" -o "$T/rp" --exit-on-close -q 2>"$T/rp.err" ||
	fail "record from the replay of the pruned journal: $(cat "$T/rp.err")"
wait "$rpid" || fail "replay of the pruned journal: $(cat "$T/replay.err")"
cmp -s <("$WSTAPE" cat "$T/rp" --kind text --payload) <("$WSTAPE" cat "$T/p" --payload) ||
	fail "the replay of the pruned journal served other payloads"

# -- holes: a middle segment gone, the first gone without the marker, the marker's gone
cp -a "$T/p" "$T/hole" && rm "$T/hole/seg-0000000004.wst"
expect_exit 1 "$WSTAPE" verify "$T/hole" 2>"$T/err"
grep -q "records are missing" "$T/err" || fail "verify of a hole: $(cat "$T/err")"
cp -a "$T/orig" "$T/nofirst" && rm "$T/nofirst/seg-0000000001.wst"
expect_exit 1 "$WSTAPE" verify "$T/nofirst" 2>"$T/err"
grep -q "records are missing from the journal: 1\.\." "$T/err" || fail "verify without segment 1: $(cat "$T/err")"
cp -a "$T/p" "$T/nokept" && rm "$T/nokept/seg-0000000003.wst"
expect_exit 1 "$WSTAPE" verify "$T/nokept" 2>"$T/err"
grep -q "pruned up to segment .*seg-0000000003.wst', which does not exist" "$T/err" || fail "the first kept gone: $(cat "$T/err")"
for d in hole nofirst nokept; do
	$PY -c 'import sys, wstape
try:
    list(wstape.open(sys.argv[1]).records())
except wstape.GapError as e:
    sys.exit(0)
sys.exit("no GapError")' "$T/$d" || fail "python reads $d without a GapError"
done

# -- a reader in the middle of segment 1 while segments 1..2 are pruned reads on from segment 3
cp -a "$T/orig" "$T/r"
mkfifo "$T/fifo"
("$WSTAPE" cat "$T/r" >"$T/fifo") &
catpid=$!
BG_PIDS+=($catpid)
exec 7<"$T/fifo"
read -r first <&7 || fail "the reader's first line"
# cat is blocked writing into the full pipe, inside segment 1 (each holds ~190 KiB of JSON)
"$WSTAPE" prune "$T/r" --before 2023-11-14T22:40:00Z >/dev/null || fail "prune under a reader"
cat <&7 >"$T/r.rest"
exec 7<&-
wait "$catpid" || fail "the reader failed when its segments were pruned"
{ echo "$first"; cat "$T/r.rest"; } | jq -s -e 'map(.recno) as $r | $r[0] == 1 and $r[-1] == 3000 and
	(($r | length) < 3000) and ([range(1; $r | length) | select($r[.] != $r[. - 1] + 1)] |
	length == 1) and ($r | index(1081)) != null' >/dev/null ||
	fail "the reader should read a prefix, then from record 1081 on"

# -- a crash right after the marker (step 1): the index and the files are as they were
cp -a "$T/orig" "$T/m"
printf '# wstape prune marker\nfirst_segment=3\nfirst_recno=1081\nfirst_wall_ns=1700001080000000000\nsegments=2\nrecords=1080\nbytes=129000\nuntil_wall_ns=1700001079000000000\n' >"$T/m/PRUNED"
"$WSTAPE" verify "$T/m" >"$T/out" || fail "verify after step 1: $(cat "$T/out")"
grep -q "^ok: 1920 records" "$T/out" || fail "verify after step 1: $(cat "$T/out")"
jq -e '.records == 1920 and .first_recno == 1081 and .first_time == "2023-11-14T22:31:20.000000000Z"' \
	<("$WSTAPE" info "$T/m" --json) >/dev/null || fail "info after step 1"
[ "$("$WSTAPE" cat "$T/m" --from-record 2 --limit 1 | jq .recno)" = 1081 ] || fail "cat --from-record after step 1"
$PY -c 'import sys, wstape
i = wstape.open(sys.argv[1]).info()
assert (i["records"], i["first_recno"]) == (1920, 1081), i' "$T/m" || fail "python's info after step 1"
"$WSTAPE" prune "$T/m" --before 2023-11-14T22:00:00Z >/dev/null || fail "the prune that finishes step 1"
[ ! -e "$T/m/seg-0000000001.wst" ] && [ ! -e "$T/m/seg-0000000002.wst" ] || fail "the next prune left segments 1 and 2"
$PY "$WSTAPE_TESTS_DIR/checks/py_vs_cat.py" "$WSTAPE" "$T/m" --quick >/dev/null || fail "python after the finished prune"
jq -e '.channel_list[0].records == 640' <("$WSTAPE" info "$T/m" --json) >/dev/null || fail "the channels after the finished prune"

# -- kill -9 of prune at random points between and inside its steps
for i in $(seq 1 12); do
	rm -rf "$T/k" && cp -a "$T/orig" "$T/k"
	WSTAPE_TEST_PRUNE_PAUSE_US=20000 "$WSTAPE" prune "$T/k" --before 2023-11-14T22:58:00Z >/dev/null 2>&1 &
	pp=$!
	sleep "0.$(printf '%03d' $((RANDOM % 200)))"
	kill -9 "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
	"$WSTAPE" verify "$T/k" >"$T/out" 2>&1 || fail "verify after prune was killed (round $i): $(cat "$T/out")"
	"$WSTAPE" cat "$T/k" | jq -c '[.recno, .payload]' >"$T/k.lines" || fail "cat after the kill (round $i)"
	n=$(wc -l <"$T/k.lines")
	tail -n "$n" "$T/orig.lines" | cmp -s - "$T/k.lines" || fail "records after the kill are not a suffix (round $i)"
	[ "$("$WSTAPE" info "$T/k" --json | jq .records)" = "$n" ] || fail "info counts other records than cat (round $i)"
	$PY "$WSTAPE_TESTS_DIR/checks/py_vs_cat.py" "$WSTAPE" "$T/k" --quick >/dev/null ||
		fail "python after the kill (round $i)"
	if [ $((i % 2)) = 0 ]; then
		# a writer's open finishes what the killed prune left
		"$WSTAPE" import /dev/null -o "$T/k" --append 2>/dev/null || fail "append after the kill (round $i)"
	else
		"$WSTAPE" prune "$T/k" --before 2023-11-14T22:00:00Z >/dev/null || fail "prune after the kill (round $i)"
	fi
	fs=$(sed -n 's/^first_segment=//p' "$T/k/PRUNED" 2>/dev/null)
	for s in $(ls "$T/k" | sed -n 's/^seg-0*\([0-9]*\)\.wst$/\1/p'); do
		[ -z "$fs" ] || [ "$s" -ge "$fs" ] || fail "segment $s below the marker's $fs is left (round $i)"
	done
	"$WSTAPE" verify "$T/k" >/dev/null 2>&1 || fail "verify after the leftovers went (round $i)"
done

# -- record: small segments, --retain, and `wstape prune` beside it
port=$(free_port)
bg $PY "$WSTAPE_TESTS_DIR/peers/ticker_server.py" "$port"
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/stream" -o "$T/rec" --segment-size 16k --retain 2s \
	--log-level info -q 2>"$T/rec.err"
rec=$!
wait_log 60 "$T/rec.err" " info wstape record: pruned [0-9]+ segments \([0-9]+ records, [0-9]+ bytes, received up to [^)]*\) from '$T/rec'; it starts at record [0-9]+"
for k in 1 2 3; do
	"$WSTAPE" prune "$T/rec" --keep 1s >/dev/null 2>"$T/prune.err"
	rc=$?
	[ $rc = 0 ] || { [ $rc = 2 ] && grep -q "another prune" "$T/prune.err"; } ||
		fail "prune beside the recorder: $rc $(cat "$T/prune.err")"
	"$WSTAPE" verify "$T/rec" >"$T/out" 2>&1 || fail "verify while recording and pruning: $(cat "$T/out")"
done
kill -INT "$rec"
wait "$rec" || fail "record exited $?: $(cat "$T/rec.err")"
"$WSTAPE" verify "$T/rec" >"$T/out" || fail "verify after the recording: $(cat "$T/out")"
"$WSTAPE" info "$T/rec" --json >"$T/rec.json" || fail "info of the recording"
jq -e '.first_recno > 1 and .pruned.records == .first_recno - 1 and .last_recno - .first_recno + 1 == .records' \
	"$T/rec.json" >/dev/null || fail "the recording's range: $(cat "$T/rec.json")"
"$WSTAPE" cat "$T/rec" | jq -s -e 'map(.recno) as $r | [range(1; $r | length) | select($r[.] != $r[. - 1] + 1)] |
	length == 0' >/dev/null || fail "the recording has a hole"
$PY "$WSTAPE_TESTS_DIR/checks/py_vs_cat.py" "$WSTAPE" "$T/rec" --quick >/dev/null || fail "python on the recording"

# -- a prune by root (cron) beside a recorder that runs as a service user: the PRUNE.LOCK
# root made stops neither that user's writer nor its prune
if [ "$(id -u)" = 0 ]; then
	cp -a "$T/p" "$T/u"
	as_unprivileged "$T/u"
	touch "$T/u/PRUNE.LOCK" && chown 0:0 "$T/u/PRUNE.LOCK" && chmod 0644 "$T/u/PRUNE.LOCK"
	"${AS_USER[@]}" "$WSTAPE" import /dev/null -o "$T/u" --append 2>"$T/out" ||
		fail "a writer's open of a pruned journal whose PRUNE.LOCK is root's: $(cat "$T/out")"
	"${AS_USER[@]}" "$WSTAPE" prune "$T/u" --keep 1s >"$T/out" 2>&1 ||
		fail "a prune by another user than PRUNE.LOCK's: $(cat "$T/out")"
fi

# -- --segment-age: an idle writer's aged segment is sealed (the next one starts, empty)
bg "$WSTAPE" record "ws://127.0.0.1:$port/burst" -o "$T/age" --segment-age 1s -q 2>"$T/age.err"
rec=$!
wait_records 60 "$T/age" 21
wait_for 60 "segment 2 of an idle writer" test -e "$T/age/seg-0000000002.wst"
[ "$(journal_records "$T/age")" = 21 ] || fail "records came in the meantime"
"$WSTAPE" prune "$T/age" --keep 0s >"$T/out" || fail "prune of the sealed segment"
grep -q "^removed 1 segments (21 records" "$T/out" || fail "prune of the sealed segment: $(cat "$T/out")"
kill -INT "$rec"
wait "$rec" || fail "record --segment-age exited $?: $(cat "$T/age.err")"
"$WSTAPE" verify "$T/age" >/dev/null || fail "verify of the aged journal"
echo ok
