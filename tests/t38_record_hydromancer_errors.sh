# t38: the recorder against Hydromancer's documented errors and mixed cursor formats
# (python3-websockets peer): allFills ("block:ts:tx") with leverageUpdates (numeric cursor,
# ahead of the fills' times) resumes from the older cursor, so no channel loses events;
# "Session not found" makes a new session and subscribes again (once, not forever);
# "Invalid API key" ends the run with exit 4 and the server's words; "Rate limit exceeded"
# is backed off (100, 200, 400 ms ...) and the session goes on.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
H="$PY $PEERS/hydromancer_server.py"
diag() { grep -v '"produced"' "$1" | tail -15; tail -8 "$2"; fail "$3"; }
resumed_connects() { grep -c '"resumed":true.*"ev":"connect"' "$1"; }

# -- mixed cursor formats: the drop comes right after a leverage message, whose numeric
# cursor is 1.5 s ahead of the fills'
port=$(free_port)
bg $H --port "$port" --log "$T/mix.log" --rate 200 --batch 2 --leverage-rate 20 --leverage-lead-ms 1500 \
	--drop-after-leverage
srv=$!
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/mix" --feed hydromancer --subscribe allFills \
	--subscribe leverageUpdates -v 2>"$T/mix.err"
rec=$!
has_data() { grep -q '"channel":"leverageUpdates","sessions":\["' "$T/mix.log" && [ "$(grep -c '"ev":"subscribe"' "$T/mix.log")" -ge 2 ]; }
wait_for 60 "both subscriptions producing" has_data
# some history on both channels
leverage() { [ "$(grep -c '"channel":"leverageUpdates","sessions":\["' "$T/mix.log")" -ge "$1" ]; }
wait_for 60 "more leverage updates" leverage "$(( $(grep -c '"channel":"leverageUpdates","sessions":\["' "$T/mix.log") + 10 ))"
kill -USR1 "$srv"
wait_for 60 "the resumed connect" bash -c "[ \$(grep -c '\"resumed\":true.*\"ev\":\"connect\"' '$T/mix.log') -ge 1 ]"
# the replays for both channels went out, then live data again on the resumed session
wait_for 60 "the replays after the resume" bash -c "[ \$(grep -c '\"ev\":\"replay\"' '$T/mix.log') -ge 2 ]"
n=$(grep -c '"ev":"produced"' "$T/mix.log")
wait_for 60 "more events after the replay" bash -c "[ \$(grep -c '\"ev\":\"produced\"' '$T/mix.log') -ge $((n + 300)) ]"
t_stop=$(date +%s.%N)
# every event produced for the session up to the stop mark is in the journal
journaled_until() {
	"$WSTAPE" cat "$T/mix" >"$T/now.jsonl" 2>/dev/null &&
		$PY "$PEERS/check_events.py" "$T/mix.log" "$T/now.jsonl" --until "$1" >/dev/null
}
wait_for 60 "every event up to the stop mark in the journal" journaled_until "$t_stop"
kill -INT "$rec"
wait "$rec" || diag "$T/mix.log" "$T/mix.err" "record exited $?"
"$WSTAPE" cat "$T/mix" >"$T/mix.jsonl" || fail "cat failed"
$PY "$PEERS/check_events.py" "$T/mix.log" "$T/mix.jsonl" --until "$t_stop" --min 400 ||
	diag "$T/mix.log" "$T/mix.err" "events lost across a resume with mixed cursor formats"
grep '"resumed":true.*"ev":"connect"' "$T/mix.log" | grep -q '"cursor":"[0-9]*:[0-9]*:[0-9]*"' ||
	diag "$T/mix.log" "$T/mix.err" "the resume did not send the older (allFills) cursor"
jq -e -s 'map(select(.channel=="leverageUpdates" and .dir=="in" and (.cursor | test("^[0-9]+$")))) | length >= 5' \
	"$T/mix.jsonl" >/dev/null || fail "no leverageUpdates with numeric cursors journaled"
kill "$srv"

# -- "Session not found": a server that lost the session (restarted) says so and closes
port=$(free_port)
bg $H --port "$port" --log "$T/s1.log" --rate 100
srv=$!
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/snf" --feed hydromancer --subscribe allFills -v 2>"$T/snf.err"
rec=$!
wait_for 60 "the first subscription" grep -q '"ev":"subscribe"' "$T/s1.log"
kill -9 "$srv"
wait "$srv" 2>/dev/null
bg $H --port "$port" --log "$T/s2.log" --rate 100 --session-not-found
wait_port "$port"
wait_for 60 "a new session subscribed" grep -q '"ev":"subscribe"' "$T/s2.log"
sleep 1      # (long enough for a recorder that retries the old session again to do so)
kill -INT "$rec"
wait "$rec" || diag "$T/s2.log" "$T/snf.err" "record exited $?"
[ "$(grep -c '"message":"Session not found"' "$T/s2.log")" = 1 ] ||
	diag "$T/s2.log" "$T/snf.err" "the expired session was tried more than once (or never)"
grep '"ev":"connect"' "$T/s2.log" | grep -q '"resumed":false' || diag "$T/s2.log" "$T/snf.err" "no new session"
"$WSTAPE" cat "$T/snf" >"$T/snf.jsonl" || fail "cat failed"
jq -e -s '(map(select(.dir=="out" and .kind=="text") | .payload | fromjson | select(.method=="subscribe")) | length == 2) and
	(map(select(.dir=="in" and .kind=="text") | .payload | fromjson | select(.type=="error" and .message=="Session not found")) | length == 1)' \
	"$T/snf.jsonl" >/dev/null || fail "the journal does not show the error and a new subscription"
grep -q 'creates a new one and subscribes again' "$T/snf.err" || fail "the log does not say why a new session"
jq -e -s 'map(select(.kind=="error") | .payload | fromjson | select(.event=="session_lost" and (.session_id | length) > 0
	and .next == "a new session, subscribed again")) | length == 1' "$T/snf.jsonl" >/dev/null ||
	fail "the journal does not say why the next connection is a new session"
kill "$srv"

# -- "Invalid API key" as a message and a close: exit 4 with the server's words, no retry
port=$(free_port)
bg $H --port "$port" --log "$T/auth.log" --token good --auth-error
srv=$!
wait_port "$port"
expect_exit 4 timeout 30 "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=bad" -o "$T/auth" --feed hydromancer \
	--subscribe allFills 2>"$T/auth.err"
grep -q 'refused the credentials: "Invalid API key"' "$T/auth.err" || fail "no server words on stderr: $(cat "$T/auth.err")"
[ "$(grep -c '"ev":"refuse"' "$T/auth.log")" = 1 ] || fail "retried after Invalid API key"
"$WSTAPE" cat "$T/auth" >/dev/null || fail "the journal (it holds the error frame) is gone"
grep -q 'bad' "$T/auth.err" && fail "the token leaked into stderr"
kill "$srv"

# -- "Rate limit exceeded": backed off, growing, and then the session resumes
port=$(free_port)
bg $H --port "$port" --log "$T/rl.log" --rate 100 --rate-limit 3
srv=$!
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/rl" --feed hydromancer --subscribe allFills -v 2>"$T/rl.err"
rec=$!
wait_for 60 "the first subscription" grep -q '"ev":"subscribe"' "$T/rl.log"
sleep 2.2    # (the first connection holds long enough to count as a session)
kill -USR1 "$srv"
wait_for 60 "the resumed connect after the rate limits" grep -q '"resumed":true.*"ev":"connect"' "$T/rl.log"
kill -INT "$rec"
wait "$rec" || diag "$T/rl.log" "$T/rl.err" "record exited $?"
[ "$(grep -c '"message":"Rate limit exceeded"' "$T/rl.log")" = 3 ] || diag "$T/rl.log" "$T/rl.err" "not 3 rate-limited attempts"
"$WSTAPE" cat "$T/rl" | jq -s -c '[.[] | select(.kind=="error") | .payload | fromjson | select(.event=="reconnect") | [.attempt, .delay_ms]]' >"$T/rl.delays"
jq -e '. == [[1,100],[2,200],[3,400],[4,800]]' "$T/rl.delays" >/dev/null || fail "rate limits not backed off: $(cat "$T/rl.delays")"
echo ok
