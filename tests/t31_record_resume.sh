# t31: kill -9 the recorder, then `record --resume`: the journal opens and verifies, the new
# run continues the session (sessionId + last journaled cursor, new connection id), and
# deduplicated nothing the server could replay is lost. Nothing journaled is rewritten.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
port=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --log "$T/server.log" --rate 400 --batch 4 --chunk-items 100
srv=$!
wait_port "$port"
diag() { grep -v '"produced"' "$T/server.log" | tail -20; tail -5 "$T/rec.err"; fail "$@"; }

# Every step waits on an event (a server log line, a journal record), never on the clock.
produced() { [ "$(grep -c '"sessions":\["' "$T/server.log")" -ge "$1" ]; }
# every event the server produced for the session up to time $1 is in the journal
journaled_until() {
	"$WSTAPE" cat "$T/j" >"$T/now.jsonl" 2>/dev/null &&
		$PY "$PEERS/check_events.py" "$T/server.log" "$T/now.jsonl" --until "$1" >/dev/null
}
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/j" --feed hydromancer --subscribe allFills \
	--flush-ms 50 -v 2>"$T/rec.err"
rec=$!
wait_for 60 "the first events" produced 600
t_mark=$(date +%s.%N)
wait_for 60 "every event up to the mark in the journal" journaled_until "$t_mark"
# the recorder is killed while the feed flows: what it had journaled stays, whole and
# verifiable (how little a kill -9 loses, --flush-ms, is a bound in time: no test asserts it)
kill -9 "$rec"
wait "$rec" 2>/dev/null
"$WSTAPE" verify "$T/j" >/dev/null || diag "the journal does not verify after kill -9"
"$WSTAPE" cat "$T/j" >"$T/before.jsonl" || diag "cat failed after kill -9"
$PY "$PEERS/check_events.py" "$T/server.log" "$T/before.jsonl" --until "$t_mark" --min 300 \
	|| diag "kill -9 lost events journaled before it"
n_before=$(wc -l <"$T/before.jsonl")
[ "$n_before" -gt 50 ] || diag "only $n_before records before kill -9"
last_conn=$(jq -s 'map(.conn) | max' "$T/before.jsonl")
# the server keeps producing for the session while nobody is connected
wait_for 60 "events produced while disconnected" produced "$(( $(grep -c '"sessions":\["' "$T/server.log") + 300 ))"

bg "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/j" --resume --subscribe allFills -v 2>>"$T/rec.err"
rec=$!
wait_log 60 "$T/server.log" '"ev":"replay"'
wait_for 60 "live events after the replay" produced "$(( $(grep -c '"sessions":\["' "$T/server.log") + 300 ))"
t_stop=$(date +%s.%N)
wait_for 60 "every event up to the stop in the journal" journaled_until "$t_stop"
kill -TERM "$rec"
wait "$rec" || diag "resumed record exited $?"

"$WSTAPE" verify "$T/j" >/dev/null || diag "the journal does not verify after --resume"
"$WSTAPE" cat "$T/j" >"$T/after.jsonl" || diag "cat failed"
head -n "$n_before" "$T/after.jsonl" | cmp -s - "$T/before.jsonl" || diag "--resume rewrote journaled records"
grep -q '"resumed":true.*"ev":"connect"' "$T/server.log" || diag "the session was not resumed"
# the resume URL carried the cursor of the last record journaled before the kill
last_cursor=$(jq -r 'select(.cursor != "") | .cursor' "$T/before.jsonl" | tail -n 1)
grep '"resumed":true.*"ev":"connect"' "$T/server.log" | grep -q "\"cursor\":\"$last_cursor\"" \
	|| diag "resume did not use the last journaled cursor $last_cursor"
jq -e -s --argjson c "$last_conn" '[.[] | select(.kind=="open")] | last | .conn > $c' "$T/after.jsonl" >/dev/null \
	|| diag "the resumed run reused a connection id"
jq -e -s 'map(select(.dir=="out" and (.payload|test("subscribe")))) | length == 1' "$T/after.jsonl" >/dev/null \
	|| diag "subscribed again although the session was resumed"
$PY "$PEERS/check_events.py" "$T/server.log" "$T/after.jsonl" --until "$t_stop" --min 1000 \
	|| diag "events lost across kill -9 and --resume"

# a server that no longer knows the session (restarted): it answers `connected`, and the
# resumed run subscribes again with the subscriptions the journal was recorded with, although
# --subscribe is not repeated
kill -9 "$srv"
wait "$srv" 2>/dev/null
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --log "$T/server2.log" --rate 100
wait_port "$port"
n_before=$(wc -l <"$T/after.jsonl")
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/j" --resume -v 2>>"$T/rec.err"
rec=$!
new_fills() {
	[ "$("$WSTAPE" cat "$T/j" 2>/dev/null | tail -n +"$((n_before + 1))" |
		jq -s 'map(select(.channel=="allFills")) | length')" -gt 10 ]
}
wait_for 60 "allFills on the new session" new_fills
kill -TERM "$rec"
wait "$rec" || diag "second resumed record exited $?"
"$WSTAPE" cat "$T/j" | tail -n +"$((n_before + 1))" >"$T/third.jsonl"
jq -e -s '(map(select(.dir=="in" and .kind=="text") | .payload | fromjson | select(.type=="connected")) | length == 1) and
	(map(select(.dir=="out" and .kind=="text") | .payload | fromjson | select(.method=="subscribe") | .subscription.type) == ["allFills"]) and
	(map(select(.channel=="allFills")) | length > 10)' "$T/third.jsonl" >/dev/null ||
	diag "--resume did not subscribe again to the journal's subscriptions on a new session"
echo ok
