# t39: SIGINT while a server floods frames: the server gets the close frame 1000 and the
# journal says what happened (sent, answered or not). LaserSell reconnects follow the
# SDK's backoff, 100 ms doubling to 2 s, from attempt 1 after every session, long or short,
# and inspect finds no backoff violation in what the recorder did.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
closed_line() { grep -q '"ev":"closed"' "$1"; }

# -- SIGINT during a flood; the server answers the close
port=$(free_port)
bg $PY "$PEERS/flood_server.py" --port "$port" --log "$T/flood.log"
srv=$!
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/" -o "$T/flood" -v 2>"$T/flood.err"
rec=$!
wait_for 60 "the flood to begin" grep -q '"ev":"connect"' "$T/flood.log"
wait_for 60 "records in the journal" bash -c "'$WSTAPE' info '$T/flood' 2>/dev/null | grep -q 'records.*[0-9]\{4\}'"
kill -INT "$rec"
wait "$rec" || fail "record exited $? after SIGINT"
wait_for 60 "the server's close log" closed_line "$T/flood.log"
jq -e -s 'map(select(.ev=="closed")) | .[0].close_code == 1000 and .[0].close_reason == "wstape record stopped"' \
	"$T/flood.log" >/dev/null || fail "the server got no close frame 1000: $(grep closed "$T/flood.log")"
"$WSTAPE" cat "$T/flood" | tail -n 1 | jq -e '.kind == "close" and (.payload | fromjson |
	.code == 1000 and .by == "client" and .sent == true and .answered == true and .server_code == 1000)' >/dev/null ||
	fail "the journal's close record: $("$WSTAPE" cat "$T/flood" | tail -n 1)"
kill "$srv"

# -- a server that does not answer the close: waited for briefly, journaled as not answered
port=$(free_port)
bg $PY "$PEERS/flood_server.py" --port "$port" --log "$T/mute.log" --no-answer
srv=$!
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/" -o "$T/mute" -v 2>"$T/mute.err"
rec=$!
wait_for 60 "the flood to begin" grep -q '"ev":"connect"' "$T/mute.log"
wait_for 60 "records in the journal" bash -c "'$WSTAPE' info '$T/mute' 2>/dev/null | grep -q 'records.*[0-9]\{4\}'"
kill -INT "$rec"
wait "$rec" || fail "record exited $? after SIGINT"
wait_for 60 "the server's close log" grep -q '"code":1000,"ev":"close_not_answered"' "$T/mute.log"
"$WSTAPE" cat "$T/mute" | tail -n 1 | jq -e '.kind == "close" and (.payload | fromjson |
	.code == 1000 and .by == "client" and .sent == true and .answered == false)' >/dev/null ||
	fail "the journal's close record: $("$WSTAPE" cat "$T/mute" | tail -n 1)"
grep -q 'not answered by the server' "$T/mute.err" || fail "the log does not say the close was not answered"
kill "$srv"

# -- LaserSell backoff after a long and after a short session, the server refusing meanwhile
port=$(free_port)
bg node "$PEERS/lasersell_server.js" --port "$port" --key K --pnl-ms 100 --down-s 1.2 --log "$T/ls.log"
srv=$!
wait_port "$port"
echo '{"type":"configure","wallet_pubkeys":["W1"],"strategy":{"target_profit_pct":5,"stop_loss_pct":1}}' >"$T/cfg.json"
bg "$WSTAPE" record "ws://127.0.0.1:$port/v1/ws" -o "$T/ls" --feed lasersell --api-key K --configure @"$T/cfg.json" \
	-v 2>"$T/ls.err"
rec=$!
opens() { "$WSTAPE" cat "$T/ls" 2>/dev/null | jq -e -s "map(select(.kind==\"open\")) | length >= $1" >/dev/null; }
wait_for 60 "the first connection" opens 1
sleep 2.5    # (a session that holds more than 2 s)
kill -USR1 "$srv"
wait_for 60 "the second connection" opens 2
kill -USR1 "$srv"       # a short session this time: dropped at once
wait_for 60 "the third connection" opens 3
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
"$WSTAPE" cat "$T/ls" >"$T/ls.jsonl"
# per outage: the reconnect records from the drop to the next open, as [attempt, delay]
jq -s -c 'reduce .[] as $r ({out: [], cur: null};
	if $r.kind == "close" then .cur = []
	elif $r.kind == "error" and ($r.payload | fromjson | .event) == "reconnect" then
		.cur += [[($r.payload | fromjson | .attempt), ($r.payload | fromjson | .delay_ms)]]
	elif $r.kind == "open" and .cur != null then .out += [.cur] | .cur = null
	else . end) | .out' "$T/ls.jsonl" >"$T/ls.delays"
cat "$T/ls.delays"
jq -e 'length == 2 and all(.[]; length >= 3 and
	(to_entries | all(.value[0] == .key + 1 and .value[1] == ([100 * pow(2; .key), 2000] | min))))' \
	"$T/ls.delays" >/dev/null || fail "backoff off the SDK's rule: $(cat "$T/ls.delays")"
"$WSTAPE" inspect "$T/ls" --json >"$T/ls.inspect.json" 2>/dev/null
jq -e '([.findings[]? | select(.class == "backoff")] | length == 0) and
	(.reconnects | length >= 6 and all(.[]; .backoff_ok == true))' "$T/ls.inspect.json" >/dev/null ||
	fail "inspect finds the recorder's own backoff off: $(jq -c '[.reconnects[] | [.attempt, .scheduled_ms, .actual_ms, .backoff_ok]]' "$T/ls.inspect.json")"
echo ok
