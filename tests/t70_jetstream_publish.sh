# t70: record --publish into a JetStream stream (one nats-server), read back by an independent
# NATS client (peers/js_stream.mjs): the stream holds exactly the journal's records, one
# message each, in record order, every field in its header; across a kill -9 of the recorder
# and a restart on the same journal still every recno once; `wstape publish` of a journal
# recorded without --publish; channels in headers and subject tokens (hydromancer, a spec feed
# with "@" in its channels); `wstape stream create` and `stream info --json` as the server
# reports the stream.
source tests/lib.sh
source tests/nats_lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
diag() { tail -n 8 "$T"/*.err >&2; fail "$@"; }

nats_start a
U=$NATS_URL_a
"${JS_PEER[@]}" --servers "$U" create T70 --subjects 'wstape.j1.>,wstape.t70-two.>' >/dev/null \
	|| fail "js_stream.mjs create T70 failed"
tport=$(free_port)
bg $PY "$PEERS/ticker_server.py" "$tport"
wait_port "$tport"

# 1. a raw capture with --publish, stopped by SIGINT: every record in the stream, in order;
# the recorder id defaults to the host name
bg "$WSTAPE" record "ws://127.0.0.1:$tport/stream" -o "$T/j1" --publish "$U" --stream T70 2>"$T/rec1.err"
rec=$!
wait_records 60 "$T/j1" 400
kill -INT "$rec"
wait "$rec" || diag "record --publish exited $? after SIGINT"
rid=$(journal_meta "$T/j1" recorder)
[ -n "$rid" ] || diag "no META recorder in a journal recorded with --publish"
host=$(hostname)
if [[ $host =~ ^[A-Za-z0-9_.-]{1,64}$ ]]; then
	[ "$rid" = "$host" ] || diag "META recorder '$rid', not the host name '$host'"
fi
[ "$(journal_meta "$T/j1" subject_name)" = j1 ] || [ -z "$(journal_meta "$T/j1" subject_name)" ] ||
	diag "META subject_name '$(journal_meta "$T/j1" subject_name)' for a journal named j1"
js_check_journal "$U" T70 "$T/j1" j1 "$rid" --feed raw --ordered --raw-ids --min 400 \
	|| diag "the stream does not hold j1's records as they are"
n1=$(journal_records "$T/j1")
# the mark says the stream has all of it
[ "$(cat "$T/j1/MARK.nats.T70")" = "$n1" ] || diag "MARK.nats.T70 is '$(cat "$T/j1/MARK.nats.T70")', not $n1"
grep -qE "stream T70 .*\b$n1\b" "$T/rec1.err" || diag "record did not say how far stream T70 got (to $n1)"

# 2. kill -9 in the middle of a capture, then the same journal again (--resume): every recno
# once; the journal id stays; another recorder id and subject name
rec_opts=(--publish "$U" --stream T70 --recorder-id rec.2_x-y --subject-name t70-two)
bg "$WSTAPE" record "ws://127.0.0.1:$tport/stream" -o "$T/j2" "${rec_opts[@]}" 2>"$T/rec2.err"
rec=$!
wait_records 60 "$T/j2" 300
wait_for 60 "the stream to acknowledge 100 records of j2 (MARK.nats.T70)" js_marked "$T/j2" T70 100
kill -9 "$rec"
wait "$rec" 2>/dev/null
jid=$(journal_meta "$T/j2" journal_id)
n_kill=$(journal_records "$T/j2")
bg "$WSTAPE" record "ws://127.0.0.1:$tport/stream" -o "$T/j2" --resume "${rec_opts[@]}" 2>"$T/rec2b.err"
rec=$!
wait_records 60 "$T/j2" $((n_kill + 300))
kill -INT "$rec"
wait "$rec" || diag "record --resume --publish exited $? after SIGINT"
[ "$(journal_meta "$T/j2" journal_id)" = "$jid" ] || diag "the journal id changed across kill -9 and --resume"
[ "$(journal_meta "$T/j2" recorder)" = rec.2_x-y ] || diag "META recorder is not --recorder-id's"
js_check_journal "$U" T70 "$T/j2" t70-two rec.2_x-y --feed raw --ordered --raw-ids --min $((n_kill + 300)) \
	|| diag "after kill -9 and a restart the stream does not hold j2's records once each"
# and j1's are still there, untouched
js_check_journal "$U" T70 "$T/j1" j1 "$rid" --feed raw --ordered --raw-ids >/dev/null \
	|| diag "j1's messages changed"
msgs=$(js_msgs "$U" T70)
[ "$msgs" = $((n1 + $(journal_records "$T/j2"))) ] || diag "stream T70 holds $msgs messages, not j1's and j2's records"

# 3. a hydromancer capture: channels and cursors in the headers and the subjects
hport=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$hport" --log "$T/hm.log" --rate 300 --batch 3 --chunk-items 50
wait_port "$hport"
"${JS_PEER[@]}" --servers "$U" create T70H --subjects 'wstape.hm.>' >/dev/null || fail "create T70H failed"
bg "$WSTAPE" record "ws://127.0.0.1:$hport/ws" -o "$T/hm" --feed hydromancer --subscribe allFills \
	--publish "$U" --stream T70H --recorder-id hm1 2>"$T/rec3.err"
rec=$!
wait_for 60 "allFills records in hm" journal_jq "$T/hm" 'map(select(.channel == "allFills" and .cursor != "")) | length >= 50'
kill -INT "$rec"
wait "$rec" || diag "record --feed hydromancer --publish exited $?"
js_check_journal "$U" T70H "$T/hm" hm hm1 --feed hydromancer --ordered --min 50 \
	|| diag "the stream does not hold the hydromancer journal's records as they are"
jq -e -s 'map(select(.subject == "wstape.hm.allFills" and .headers["Wstape-Channel"] == "allFills")) | length >= 50' \
	"$T/check.dump.jsonl" >/dev/null || diag "no allFills messages on subject wstape.hm.allFills"

# 3b. a spec feed whose channels need escaping in a subject token ('@': %40)
bg $PY "$PEERS/binance_depth_server.py" --port 0 --log "$T/bn.log" --truth "$T/bn.truth" --count 40 \
	--interval-ms 20 >"$T/bn.port"
wait_log 60 "$T/bn.port" '^port [0-9]+$'
bport=$(awk '{print $2}' "$T/bn.port")
"${JS_PEER[@]}" --servers "$U" create T70B --subjects 'wstape.bn.>' >/dev/null || fail "create T70B failed"
bg "$WSTAPE" record "ws://127.0.0.1:$bport/stream" -o "$T/bn" --feed "spec:$PWD/specs/binance-depth.json" \
	--publish "$U" --stream T70B --recorder-id bn1 2>"$T/rec3b.err"
rec=$!
wait_log 120 "$T/bn.log" '"ev":"done"'
wait_for 60 "both depth streams' last events in bn" journal_jq "$T/bn" \
	'[.[] | select(.dir == "in" and .kind == "text" and .channel != "")] | length >= 80'
kill -INT "$rec"
wait "$rec" || diag "record --feed spec:binance-depth --publish exited $?"
js_check_journal "$U" T70B "$T/bn" bn bn1 --ordered --min 80 \
	|| diag "the stream does not hold the binance-depth journal's records as they are"
jq -e -s 'map(select(.subject == "wstape.bn.btcusdt%40depth" and .headers["Wstape-Channel"] == "btcusdt@depth")) | length >= 40' \
	"$T/check.dump.jsonl" >/dev/null || diag "no btcusdt@depth messages on subject wstape.bn.btcusdt%40depth"

# 4. `wstape stream create` (defaults) and `wstape publish` of a journal recorded without
# --publish: all of it, then nothing more when run again
"$WSTAPE" record "ws://127.0.0.1:$tport/stream" -o "$T/j3" --max-records 500 -q 2>"$T/rec4.err" \
	|| diag "record --max-records exited $?"
"$WSTAPE" stream create "$U" T70P --subjects 'wstape.j3.>' >"$T/create.out" 2>"$T/create.err" \
	|| diag "wstape stream create exited $?"
grep -q T70P "$T/create.out" || diag "stream create did not print the stream's info"
"${JS_PEER[@]}" --servers "$U" info T70P >"$T/si.json" || fail "js_stream.mjs info T70P failed"
jq -e '.config.subjects == ["wstape.j3.>"] and .config.num_replicas == 1 and .config.storage == "file" and
	.config.retention == "limits" and .config.discard == "old" and .config.duplicate_window == 600000000000 and
	.config.max_msgs == -1 and .config.max_bytes == -1 and .config.max_age == 0' "$T/si.json" >/dev/null \
	|| diag "stream create's defaults are not the spec's: $(jq -c .config "$T/si.json")"
"$WSTAPE" publish "$T/j3" "$U" --stream T70P --recorder-id pub3 >"$T/pub.out" 2>"$T/pub.err" \
	|| diag "wstape publish exited $?"
js_check_journal "$U" T70P "$T/j3" j3 pub3 --feed raw --ordered --raw-ids --min 500 \
	|| diag "wstape publish did not put the journal's records in the stream"
[ "$(cat "$T/j3/MARK.nats.T70P")" = "$(journal_records "$T/j3")" ] || diag "publish did not set MARK.nats.T70P"
"$WSTAPE" publish "$T/j3" "$U" --stream T70P --recorder-id pub3 >>"$T/pub.out" 2>>"$T/pub.err" \
	|| diag "wstape publish again exited $?"
[ "$(js_msgs "$U" T70P)" = "$(journal_records "$T/j3")" ] || diag "a second publish added messages"

# 5. `wstape stream info --json` says what the server says
si_agrees() {
	"$WSTAPE" stream info "$U" "$1" --json >"$T/wi.json" 2>"$T/wi.err" || return 1
	"${JS_PEER[@]}" --servers "$U" info "$1" >"$T/si.json" || return 1
	jq -e -s '.[0] as $w | .[1] as $s |
		$w.name == $s.config.name and $w.subjects == $s.config.subjects and
		$w.replicas == $s.config.num_replicas and $w.messages == $s.state.messages and
		$w.bytes == $s.state.bytes and $w.first_seq == $s.state.first_seq and
		$w.last_seq == $s.state.last_seq and $w.dup_window_s == ($s.config.duplicate_window / 1e9) and
		$w.max_age_s == ($s.config.max_age / 1e9) and $w.storage == $s.config.storage and
		$w.retention == $s.config.retention and $w.discard == $s.config.discard and
		($w.max_msgs == $s.config.max_msgs or ($s.config.max_msgs == -1 and $w.max_msgs <= 0)) and
		($w.max_bytes == $s.config.max_bytes or ($s.config.max_bytes == -1 and $w.max_bytes <= 0)) and
		($w | has("leader") and has("peers") and has("first_ts") and has("last_ts"))' \
		"$T/wi.json" "$T/si.json" >/dev/null
}
si_agrees T70 || diag "stream info --json T70 disagrees with the server: $(cat "$T/wi.json")"
si_agrees T70P || diag "stream info --json T70P disagrees with the server: $(cat "$T/wi.json")"
# settings, then an update of an existing stream
"$WSTAPE" stream create "$U" T70S --subjects 'wstape.s.>,other.>' --max-age 1h --max-msgs 100000 \
	--max-bytes 64m --dup-window 5m --storage memory --discard new >/dev/null 2>"$T/create2.err" \
	|| diag "stream create with settings exited $?"
"${JS_PEER[@]}" --servers "$U" info T70S >"$T/si.json" || fail "js_stream.mjs info T70S failed"
jq -e '.config.subjects == ["wstape.s.>", "other.>"] and .config.max_age == 3600000000000 and
	.config.max_msgs == 100000 and .config.max_bytes == 67108864 and .config.duplicate_window == 300000000000 and
	.config.storage == "memory" and .config.discard == "new"' "$T/si.json" >/dev/null \
	|| diag "stream create's settings are not in the server's config: $(jq -c .config "$T/si.json")"
si_agrees T70S || diag "stream info --json T70S disagrees with the server: $(cat "$T/wi.json")"
"$WSTAPE" stream create "$U" T70S --subjects 'wstape.s.>,other.>' --max-age 1h --max-msgs 200 \
	--max-bytes 64m --dup-window 5m --storage memory --discard new >/dev/null 2>"$T/create3.err" \
	|| diag "stream create of an existing stream (an update) exited $?"
"${JS_PEER[@]}" --servers "$U" info T70S | jq -e '.config.max_msgs == 200' >/dev/null \
	|| diag "stream create did not update the existing stream's max_msgs"
"$WSTAPE" stream info "$U" T70 >"$T/info.txt" 2>&1 || diag "stream info exited $?"
grep -q T70 "$T/info.txt" && grep -q "$msgs" "$T/info.txt" || diag "stream info does not name the stream and its messages"
echo ok
