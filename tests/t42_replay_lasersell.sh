#!/usr/bin/env bash
# t42_replay_lasersell.sh - the official LaserSell SDK (@lasersell/lasersell-sdk 1.1.0, npm)
# runs unmodified against `wstape replay --feed lasersell`: handshake, every recorded message
# type parsed, ping/pong, lanes, StreamSession, a forced drop and its reconnect, a bad key.
. "$(dirname "$0")/lib.sh"
cd "$WSTAPE_TESTS_DIR"
[ -d node_modules/@lasersell/lasersell-sdk ] || fail "the SDK is not installed (make test runs npm ci in tests/)"
SDK="node peers/replay_lasersell_sdk.mjs"

$WSTAPE import ../fixtures/lasersell.jsonl -o "$T/ls" --feed lasersell 2>/dev/null || fail "import"
# the server message types of the recording (hello_ok and pong are the replay's own)
types=$($WSTAPE cat "$T/ls" --direction in --kind text --payload | $PY -c '
import sys, json
t = set()
for l in sys.stdin:
    try: t.add(json.loads(l)["type"])
    except Exception: pass
print(" ".join(sorted(t - {"hello_ok", "pong"})))')
[ -n "$types" ] || fail "no message types in the fixture"
n=$($WSTAPE cat "$T/ls" --direction in --kind text --payload | grep -vc '"type":"\(hello_ok\|pong\)"')

port=$(free_port)
bg $WSTAPE replay "$T/ls" --listen 127.0.0.1:$port --speed 20 --token K3y > /dev/null 2> "$T/replay.log"
wait_port $port
URL=ws://127.0.0.1:$port/v1/ws

for mode in client session lanes; do
	timeout 30 $SDK $mode $URL K3y $n 15 > "$T/$mode.json" 2> "$T/$mode.err" || fail "SDK $mode: $(cat "$T/$mode.err")"
	$PY - "$T/$mode.json" "$mode" $n $types <<'PY' || fail "SDK $mode: $(cat "$T/$mode.json")"
import json, sys
r = json.load(open(sys.argv[1])); mode = sys.argv[2]; n = int(sys.argv[3]); want = set(sys.argv[4:])
assert r["count"] >= n, ("messages", r["count"], n)
if mode != "session":
    # StreamSession turns messages into events; the raw clients see every recorded type
    missing = want - set(r["types"])
    assert not missing, ("types not parsed by the SDK", missing)
    assert r["pong"], "no pong to the SDK's ping"
if mode == "lanes":
    assert r["types"].get("__low_lane", 0) == r["types"].get("pnl_update", 0) > 0
PY
done

# a forced drop: the SDK reconnects (backoff from 100 ms), sends configure again, goes on
port2=$(free_port)
bg $WSTAPE replay "$T/ls" --listen 127.0.0.1:$port2 --speed 20 --drop-after 6 > /dev/null 2> "$T/drop.log"
wait_port $port2
timeout 30 $SDK client ws://127.0.0.1:$port2/v1/ws any $((n + 4)) 15 > "$T/drop.json" 2> "$T/drop.err" || fail "SDK through a drop: $(cat "$T/drop.err")"
$PY -c "
import json; r = json.load(open('$T/drop.json'))
assert r['count'] >= $n + 4 and r['types'].get('hello_ok', 0) >= 2, r" || fail "no reconnect after the drop: $(cat "$T/drop.json")"
grep -q "dropping the connection" "$T/drop.log" 2>/dev/null || grep -q "client 2" "$T/drop.log" || fail "the server did not drop: $(cat "$T/drop.log")"

# a bad key: the SDK's first connect fails (the server answers with an error message)
if timeout 15 $SDK client $URL wrong 1 5 > "$T/bad.json" 2> "$T/bad.err"; then
	fail "the SDK connected with a bad key: $(cat "$T/bad.json")"
fi
! grep -l "AddressSanitizer\|runtime error" "$T/replay.log" "$T/drop.log" || fail "replay failed: $(grep -h -A5 "AddressSanitizer\|runtime error" "$T/replay.log" "$T/drop.log" | head -20)"
echo "t42 ok"
