# t34: record a fake LaserSell server (Node ws): x-api-key from --api-key and from
# LASERSELL_API_KEY, configure after each open, hello_ok awaited (reconnect when it never
# comes), app-level ping/pong and WebSocket ping/pong journaled, reconnect after a drop
# with 100 ms backoff and configure sent again.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
[ -d "$WSTAPE_TESTS_DIR/node_modules/ws" ] || fail "tests/node_modules/ws missing (make test runs npm ci)"
port=$(free_port)
bg node "$PEERS/lasersell_server.js" --port "$port" --key LsK3yValue99 --hello after-configure \
	--pnl-ms 100 --ping-s 0.4 --log "$T/server.log"
srv=$!
wait_port "$port"
echo '{"type":"configure","wallet_pubkeys":["WALLET1"],"strategy":{"target_profit_pct":5.0,"stop_loss_pct":1.5}}' >"$T/configure.json"

bg "$WSTAPE" record "ws://127.0.0.1:$port/v1/ws" -o "$T/j" --feed lasersell --api-key LsK3yValue99 \
	--configure @"$T/configure.json" --ping-s 0.3 --ws-ping-s 0.5 \
	--send '{"type":"update_wallets","wallet_pubkeys":["WALLET1","WALLET2"]}' -v 2>"$T/rec.err"
rec=$!
# each connection: hello_ok, data on both channels, --send, app pings answered, WebSocket pings
# answered; then the server drops the first, and the second gets as far
conn_done() { # conn
	journal_jq "$T/j" --argjson c "$1" 'map(select(.conn == $c)) |
		any(.[]; .channel == "position_opened") and any(.[]; .channel == "pnl_update") and
		any(.[]; .dir == "out" and .kind == "text" and (.payload | fromjson | .type == "update_wallets")) and
		([.[] | select(.kind=="text" and .dir=="in") | .payload | fromjson | select(.type=="pong")] | length >= 2) and
		(map(select(.kind=="ping" and .dir=="out")) | length >= 1) and (map(select(.kind=="pong" and .dir=="in")) | length >= 1)'
}
wait_for 60 "connection 1 under way" conn_done 1
kill -USR1 "$srv"
wait_for 60 "connection 2 under way" conn_done 2
wait_log 60 "$T/server.log" '"ev":"pong_frame"'
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
"$WSTAPE" cat "$T/j" >"$T/j.jsonl" || fail "cat failed"

check() { jq -e -s "$1" "$T/j.jsonl" >/dev/null || { tail -5 "$T/rec.err"; fail "$2"; }; }
check 'map(select(.kind=="open")) | length == 2' "expected 2 connections"
check '[.[] | select(.kind=="close") | .payload | fromjson | .by] == ["network","client"]' "close records"
check '[.[] | select(.kind=="error") | .payload | fromjson | select(.event=="reconnect") | .delay_ms] == [100]' \
	"reconnect delay is not 100 ms"
# per connection: configure out first, then hello_ok in, then data
check 'group_by(.conn) | map(select(any(.[]; .kind=="open"))) | all(
	(map(select(.kind=="text")) | .[0].dir == "out" and (.[0].payload | fromjson | .type == "configure")) and
	(map(select(.kind=="text" and .dir=="in")) | .[0].payload | fromjson | .type == "hello_ok") and
	any(.[]; .channel == "position_opened") and any(.[]; .channel == "pnl_update"))' \
	"configure/hello_ok/data order per connection"
# --send goes after hello_ok on every connection, as the SDK sends what it queued meanwhile
check 'group_by(.conn) | map(select(any(.[]; .kind=="open"))) | all(
	(map(select(.kind=="text" and .dir=="in")) | .[0].recno) as $hello |
	(map(select(.kind=="text" and .dir=="out" and (.payload | fromjson | .type == "update_wallets"))) |
	 length == 1 and .[0].recno > $hello))' "--send is not sent once after hello_ok per connection"
check '[.[] | select(.kind=="text" and .dir=="out") | .payload | fromjson | select(.type=="ping" and .client_time_ms > 0)] | length >= 4' \
	"app-level pings not sent"
check '[.[] | select(.kind=="text" and .dir=="in") | .payload | fromjson | select(.type=="pong")] | length >= 4' \
	"app-level pongs not journaled"
check '(map(select(.kind=="ping" and .dir=="out")) | length >= 2) and (map(select(.kind=="pong" and .dir=="in")) | length >= 2)' \
	"WebSocket ping/pong not journaled"
grep -q '"ev":"pong_frame"' "$T/server.log" || fail "the server's ping frames were not answered"
grep -rqa LsK3yValue99 "$T/j" "$T/j.jsonl" "$T/rec.err" && fail "the API key leaked"

# the key from the environment; a wrong key is refused with exit 4
LASERSELL_API_KEY=LsK3yValue99 bg "$WSTAPE" record "ws://127.0.0.1:$port/v1/ws" -o "$T/env" --feed lasersell \
	--configure @"$T/configure.json" -q
rec=$!
wait_for 60 "data with the key from the environment" journal_jq "$T/env" 'any(.[]; .channel == "pnl_update")'
kill -INT "$rec"
wait "$rec" || fail "record with LASERSELL_API_KEY exited $?"
"$WSTAPE" cat "$T/env" | jq -e -s 'map(select(.dir=="in" and .kind=="text") | .payload | fromjson | .type) | index("hello_ok") == 0' \
	>/dev/null || fail "no hello_ok with the key from the environment"
LASERSELL_API_KEY=nope expect_exit 4 "$WSTAPE" record "ws://127.0.0.1:$port/v1/ws" -o "$T/bad" --feed lasersell -q 2>/dev/null
kill "$srv"

# a server that never says hello_ok: the recorder closes and reconnects
port=$(free_port)
bg node "$PEERS/lasersell_server.js" --port "$port" --hello never
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/v1/ws" -o "$T/nohello" --feed lasersell --configure @"$T/configure.json" \
	--hello-timeout 300ms -q
rec=$!
wait_for 60 "a second connection after a missing hello_ok" journal_jq "$T/nohello" 'map(select(.kind=="open")) | length >= 2'
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
"$WSTAPE" cat "$T/nohello" >"$T/nohello.jsonl"
jq -e -s '(map(select(.kind=="open")) | length >= 2) and
	([.[] | select(.kind=="error") | .payload | fromjson | select(.phase=="protocol")] | length >= 1)' \
	"$T/nohello.jsonl" >/dev/null || fail "no reconnect after a missing hello_ok"
echo ok
