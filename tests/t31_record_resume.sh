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

bg "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/j" --feed hydromancer --subscribe allFills \
	--flush-ms 50 -v 2>"$T/rec.err"
rec=$!
sleep 2
t_kill=$(date +%s.%N)
kill -9 "$rec"
wait "$rec" 2>/dev/null
"$WSTAPE" verify "$T/j" >/dev/null || diag "the journal does not verify after kill -9"
"$WSTAPE" cat "$T/j" >"$T/before.jsonl" || diag "cat failed after kill -9"
# the kill -9 bound: everything received more than --flush-ms (50 ms) before the kill is on
# disk (checked with 200 ms of margin for a loaded machine)
$PY "$PEERS/check_events.py" "$T/server.log" "$T/before.jsonl" --until "$(echo "$t_kill - 0.2" | bc)" --min 300 \
	|| diag "kill -9 lost events received well before it"
n_before=$(wc -l <"$T/before.jsonl")
[ "$n_before" -gt 50 ] || diag "only $n_before records before kill -9"
last_conn=$(jq -s 'map(.conn) | max' "$T/before.jsonl")
sleep 1.5    # the server keeps producing for the session while nobody is connected

bg "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/j" --resume --subscribe allFills -v 2>>"$T/rec.err"
rec=$!
sleep 1.5
t_stop=$(date +%s.%N)
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
$PY "$PEERS/check_events.py" "$T/server.log" "$T/after.jsonl" --until "$(echo "$t_stop - 0.3" | bc)" --min 1000 \
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
sleep 1.2
kill -TERM "$rec"
wait "$rec" || diag "second resumed record exited $?"
"$WSTAPE" cat "$T/j" | tail -n +"$((n_before + 1))" >"$T/third.jsonl"
jq -e -s '(map(select(.dir=="in" and .kind=="text") | .payload | fromjson | select(.type=="connected")) | length == 1) and
	(map(select(.dir=="out" and .kind=="text") | .payload | fromjson | select(.method=="subscribe") | .subscription.type) == ["allFills"]) and
	(map(select(.channel=="allFills")) | length > 10)' "$T/third.jsonl" >/dev/null ||
	diag "--resume did not subscribe again to the journal's subscriptions on a new session"
echo ok
