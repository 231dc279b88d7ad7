#!/usr/bin/env bash
# t42_replay_lasersell.sh - the official LaserSell SDK (@lasersell/lasersell-sdk 1.1.0, npm)
# runs unmodified against `wstape replay --feed lasersell`: handshake, every recorded message
# type parsed, ping/pong, lanes, StreamSession, a forced drop and its reconnect, a bad key;
# and the holdings re-emitted after configure to a client that joins a live stream late.
. "$(dirname "$0")/replay_lib.sh"
cd "$WSTAPE_TESTS_DIR"
[ -d node_modules/@lasersell/lasersell-sdk ] || fail "the SDK is not installed (make test runs npm ci in tests/)"
SDK="node peers/replay_lasersell_sdk.mjs"

$WSTAPE import ../fixtures/lasersell.jsonl -o "$T/ls" --feed lasersell 2>/dev/null || fail "import"
# the server messages of the recording (hello_ok and pong are the replay's own)
$WSTAPE cat "$T/ls" --direction in --kind text --payload > "$T/ls.payloads"
n=$(grep -vc '"type":"\(hello_ok\|pong\)"' "$T/ls.payloads")

# one server per mode: a connection with the same key goes on with the timeline of the
# last one (within --grace), and each mode wants the recording from its start
# ($CHECKS/lasersell_sdk.py: every recorded type parsed, the pong, the lanes)
for mode in client session lanes; do
	replay_start port "$T/replay.$mode.log" "$T/ls" --speed 20 --token K3y
	URL=ws://127.0.0.1:$port/v1/ws
	timeout 120 $SDK $mode $URL K3y $n 60 > "$T/$mode.json" 2> "$T/$mode.err" || fail "SDK $mode: $(cat "$T/$mode.err")"
	$PY "$CHECKS/lasersell_sdk.py" "$T/$mode.json" $mode $n "$T/ls.payloads" || fail "SDK $mode: $(cat "$T/$mode.json")"
done

# a forced drop: the SDK reconnects (backoff from 100 ms), sends configure again, goes on
replay_start port2 "$T/drop.log" "$T/ls" --speed 20 --drop-after 6
timeout 120 $SDK client ws://127.0.0.1:$port2/v1/ws any $((n + 4)) 60 > "$T/drop.json" 2> "$T/drop.err" || fail "SDK through a drop: $(cat "$T/drop.err")"
expect_json "$T/drop.json" "count >= $((n + 4)) and types.get('hello_ok', 0) >= 2" ||
	fail "no reconnect after the drop: $(cat "$T/drop.json")"
grep -q "dropping the connection" "$T/drop.log" 2>/dev/null || grep -q "client 2" "$T/drop.log" || fail "the server did not drop: $(cat "$T/drop.log")"

# a bad key: the SDK's first connect fails (the server answers with an error message)
if timeout 60 $SDK client $URL wrong 1 30 > "$T/bad.json" 2> "$T/bad.err"; then
	fail "the SDK connected with a bad key: $(cat "$T/bad.json")"
fi
# live mode: a client that joins after positions opened gets, after configure, what the
# server re-emits for existing holdings (the last balance_update of each wallet and mint,
# position_opened of each position still open), then the stream at its edge
$RECORDINGS holdings > "$T/hold.jsonl"
$WSTAPE import "$T/hold.jsonl" -o "$T/hold" --feed lasersell 2>/dev/null || fail "import holdings fixture"
# (the client starts first, client_first: the live timeline, 6 s, starts with the server)
port3=$(free_port)
client_first $port3 $PY "$PEERS/lasersell_late_client.py" $port3 -- replay_serve "$T/hold.log" "$T/hold" $port3 --mode live ||
	fail "live mode did not re-emit the holdings: $(cat "$T/hold.log")"

no_sanitizer_reports "$T"/replay.*.log "$T/drop.log" "$T/hold.log"
echo "t42 ok"
