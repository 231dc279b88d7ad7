# t76: the journal id. A journal that lost its last records after the stream acknowledged
# them (a power loss before they were synced: its mark MARK.nats.S is past its last record)
# publishes what it records next under a new journal id (what it kept, the stream has), so that no (recorder, journal id,
# recno) names two different records; the stream keeps what it had. A journal recorded
# without --publish gets its id from `wstape publish`; a second publish sends nothing.
source tests/lib.sh
source tests/nats_lib.sh

nats_start a
U=$NATS_URL_a
"${JS_PEER[@]}" --servers "$U" create T76 >/dev/null || fail "js_stream.mjs create T76 failed"
/usr/bin/python3 - "$T/in.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(300):
        f.write(json.dumps({"wall_ns": 1764700000000000000 + i * 1000000, "conn": 1, "dir": "in", "kind": "text",
                            "channel": "c%d" % (i % 2), "cursor": str(i), "payload": "{\"n\":%d}" % i}) + "\n")
PY
"$WSTAPE" import "$T/in.jsonl" -o "$T/j" 2>/dev/null || fail "import"
"$WSTAPE" publish "$T/j" "$U" --stream T76 --recorder-id r76 2>"$T/p1.err" || fail "publish: $(cat "$T/p1.err")"
id1=$(journal_meta "$T/j" journal_id)
[[ $id1 =~ ^[0-9a-f]{16}$ ]] || fail "journal_id '$id1' after publish"
[ "$(cat "$T/j/MARK.nats.T76")" = 300 ] || fail "mark $(cat "$T/j/MARK.nats.T76") after publish"
[ "$(js_msgs "$U" T76)" = 300 ] || fail "stream holds $(js_msgs "$U" T76) messages, not 300"
# again: nothing left to send
"$WSTAPE" publish "$T/j" "$U" --stream T76 2>"$T/p2.err" || fail "second publish: $(cat "$T/p2.err")"
grep -q "0 published" "$T/p2.err" || fail "a second publish sent something: $(cat "$T/p2.err")"
[ "$(js_msgs "$U" T76)" = 300 ] || fail "stream holds $(js_msgs "$U" T76) messages after a second publish"

# the journal lost its last 100 records (the stream had them): cut it to 200 records
head -n 200 "$T/in.jsonl" >"$T/in200.jsonl"
"$WSTAPE" import "$T/in200.jsonl" -o "$T/k" 2>/dev/null || fail "import k"
printf 'journal_id=%s\nrecorder=r76\nsubject_name=j\n' "$id1" >>"$T/k/META"
cp "$T/j/MARK.nats.T76" "$T/k/MARK.nats.T76"
"$WSTAPE" publish "$T/k" "$U" --stream T76 2>"$T/p3.err" || fail "publish of the cut journal: $(cat "$T/p3.err")"
grep -q "ends at record 200 but stream T76 acknowledged records to 300" "$T/p3.err" ||
	fail "no word of the lost records: $(cat "$T/p3.err")"
id2=$(journal_meta "$T/k" journal_id)
[[ $id2 =~ ^[0-9a-f]{16}$ ]] && [ "$id2" != "$id1" ] || fail "journal id '$id2' after the loss (was $id1)"
[ "$(cat "$T/k/MARK.nats.T76")" = 200 ] || fail "mark $(cat "$T/k/MARK.nats.T76") after the new id"
# the 200 records kept are those the stream has: nothing sent again
[ "$(js_msgs "$U" T76)" = 300 ] || fail "stream holds $(js_msgs "$U" T76) messages, not 300"
# what the journal records next goes under the new id: records 201..250, no id reused
tail -n 50 "$T/in.jsonl" | "$WSTAPE" import - -o "$T/k" --append 2>/dev/null || fail "import --append"
"$WSTAPE" publish "$T/k" "$U" --stream T76 2>"$T/p4.err" || fail "publish of what followed: $(cat "$T/p4.err")"
[ "$(js_msgs "$U" T76)" = 350 ] || fail "stream holds $(js_msgs "$U" T76) messages, not 300 + 50"
"${JS_PEER[@]}" --servers "$U" dump T76 >"$T/dump" || fail "dump"
[ "$(jq -r --arg id "$id1" 'select(.headers["Wstape-Journal"] == $id) | .headers["Wstape-Recno"]' "$T/dump" | sort -un | wc -l)" = 300 ] ||
	fail "the first journal id's 300 records are not all in the stream"
[ "$(jq -r --arg id "$id2" 'select(.headers["Wstape-Journal"] == $id) | .headers["Wstape-Recno"]' "$T/dump" | sort -n | tr '\n' ' ')" = "$(seq -s ' ' 201 250) " ] ||
	fail "the new journal id's records are not 201..250"
echo ok
