# t30: record a fake Hydromancer server (python3-websockets) that drops the connection and
# refuses reconnects for a while; deduplicated, the journal holds every event the server
# produced for the session, including those produced while the recorder was disconnected.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
port=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --token tok123 --log "$T/server.log" \
	--rate 300 --batch 3 --chunk-items 25 --ping-s 0.4 --down-s 1.2
srv=$!
wait_port "$port"
diag() { grep -v '"produced"' "$T/server.log" | tail -25; tail -5 "$T/rec.err"; fail "$@"; }

bg "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=tok123" -o "$T/j" --feed hydromancer \
	--subscribe allFills --live-format chunked-v1 -v 2>"$T/rec.err"
rec=$!
# Every step waits on an event (a server log line, a journal record), never on the clock.
produced() { [ "$(grep -c '"sessions":\["' "$T/server.log")" -ge "$1" ]; }
resumed() { [ "$(grep -c '"resumed":true.*"ev":"connect"' "$T/server.log")" -ge "$1" ]; }
# the last chunk of n replays is in the journal
replays_journaled() {
	[ "$("$WSTAPE" cat "$T/j" --kind text --direction in 2>/dev/null | jq -s '[.[] | .payload | fromjson? |
		select(.type == "replay" and .chunk == .totalChunks)] | length')" -ge "$1" ]
}
# every event the server produced for the session up to time $1 is in the journal
journaled_until() {
	"$WSTAPE" cat "$T/j" >"$T/now.jsonl" 2>/dev/null &&
		$PY "$PEERS/check_events.py" "$T/server.log" "$T/now.jsonl" --until "$1" >/dev/null
}
wait_for 60 "the first events" produced 400
drop=0
for sig in USR1 USR2 USR1; do   # hard drop, close 1001, hard drop; each followed by 1.2 s of 503
	drop=$((drop + 1))
	kill -"$sig" "$srv"
	wait_for 60 "resumed connect $drop" resumed "$drop"
	wait_for 60 "the replay after drop $drop in the journal" replays_journaled "$drop"
done
t_mark=$(date +%s.%N)
wait_for 60 "live events after the last replay" produced "$(( $(grep -c '"sessions":\["' "$T/server.log") + 200 ))"
wait_for 60 "every event up to the last replay in the journal" journaled_until "$t_mark"
kill -INT "$rec"
t0=$(date +%s%N)
wait "$rec"; rc=$?
t1=$(date +%s%N)
[ "$rc" = 0 ] || { cat "$T/rec.err"; fail "record exited $rc after SIGINT"; }
# (a bound for a stop that hangs, not a timing measurement: the close wait is 1 s at most)
[ $(( (t1 - t0) / 1000000 )) -lt 60000 ] || fail "record took $(( (t1 - t0) / 1000000 )) ms to stop"

"$WSTAPE" verify "$T/j" >/dev/null || diag "the journal does not verify"
"$WSTAPE" cat "$T/j" >"$T/j.jsonl" || diag "cat failed"
$PY "$PEERS/check_events.py" "$T/server.log" "$T/j.jsonl" --until "$t_mark" --min 1000 \
	|| diag "events missing from the journal"

# the reconnects resumed the session with its cursor, and replay came in several chunks
[ "$(grep -c '"resumed":true.*"ev":"connect"' "$T/server.log")" -ge 3 ] || diag "fewer than 3 resumed connects"
grep '"resumed":true.*"ev":"connect"' "$T/server.log" | grep -q '"cursor":"[0-9]*:[0-9]*:[0-9]*"' \
	|| diag "reconnects carried no cursor"
grep '"ev":"replay"' "$T/server.log" | grep -q '"chunks":[2-9]' || diag "no multi-chunk replay was exercised"

# connection events: opens, closes by network and server, 503 attempts with backoff, pongs out
jq -e -s '
	[.[] | select(.kind=="open")] | length >= 4' "$T/j.jsonl" >/dev/null || diag "fewer than 4 open records"
jq -e -s '[.[] | select(.kind=="close") | .payload | fromjson | .by] | (index("network") != null and index("server") != null and index("client") != null)' \
	"$T/j.jsonl" >/dev/null || diag "close records do not name network, server and client"
jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.status==503 and .phase=="http")] | length >= 2' \
	"$T/j.jsonl" >/dev/null || diag "refused attempts (503) were not journaled"
jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.event=="reconnect")] | map(.delay_ms) | max >= 200' \
	"$T/j.jsonl" >/dev/null || diag "no backoff beyond the first delay"
jq -e -s '[.[] | select(.dir=="out" and .payload=="{\"type\":\"pong\"}")] | length >= 3' "$T/j.jsonl" >/dev/null \
	|| diag "JSON pings were not answered"
# every attempt has its own connection id; data and replay carry channel and cursor
jq -e -s '[.[] | select(.kind=="open") | .conn] | (length == (unique | length))' "$T/j.jsonl" >/dev/null \
	|| diag "two opens share a connection id"
jq -e -s '[.[] | select(.kind=="text" and .dir=="in") | select(.payload | test("\"type\":\"(allFills|replay)\"")) |
	select(.channel != "allFills" or (.cursor | test("^[0-9]+:[0-9]+:[0-9]+$") | not))] | length == 0' \
	"$T/j.jsonl" >/dev/null || diag "a data or replay frame lacks channel or cursor"
grep -q 'tok123' "$T/j.jsonl" "$T/rec.err" && diag "the token leaked"
# liveFormat goes on every connect, the first and each resume
jq -e -s '[.[] | select(.ev=="connect")] | length >= 3 and all(.[]; .liveFormat == "chunked-v1")' "$T/server.log" >/dev/null ||
	diag "liveFormat not sent on every connect"
echo ok
