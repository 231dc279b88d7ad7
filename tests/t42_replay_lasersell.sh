#!/usr/bin/env bash
# t42_replay_lasersell.sh - the official LaserSell SDK (@lasersell/lasersell-sdk 1.1.0, npm)
# runs unmodified against `wstape replay --feed lasersell`: handshake, every recorded message
# type parsed, ping/pong, lanes, StreamSession, a forced drop and its reconnect, a bad key;
# and the holdings re-emitted after configure to a client that joins a live stream late.
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

# one server per mode: a connection with the same key goes on with the timeline of the
# last one (within --grace), and each mode wants the recording from its start
for mode in client session lanes; do
	port=$(free_port)
	bg $WSTAPE replay "$T/ls" --listen 127.0.0.1:$port --speed 20 --token K3y > /dev/null 2>> "$T/replay.log"
	wait_port $port
	URL=ws://127.0.0.1:$port/v1/ws
	timeout 120 $SDK $mode $URL K3y $n 60 > "$T/$mode.json" 2> "$T/$mode.err" || fail "SDK $mode: $(cat "$T/$mode.err")"
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
timeout 120 $SDK client ws://127.0.0.1:$port2/v1/ws any $((n + 4)) 60 > "$T/drop.json" 2> "$T/drop.err" || fail "SDK through a drop: $(cat "$T/drop.err")"
$PY -c "
import json; r = json.load(open('$T/drop.json'))
assert r['count'] >= $n + 4 and r['types'].get('hello_ok', 0) >= 2, r" || fail "no reconnect after the drop: $(cat "$T/drop.json")"
grep -q "dropping the connection" "$T/drop.log" 2>/dev/null || grep -q "client 2" "$T/drop.log" || fail "the server did not drop: $(cat "$T/drop.log")"

# a bad key: the SDK's first connect fails (the server answers with an error message)
if timeout 60 $SDK client $URL wrong 1 30 > "$T/bad.json" 2> "$T/bad.err"; then
	fail "the SDK connected with a bad key: $(cat "$T/bad.json")"
fi
# live mode: a client that joins after positions opened gets, after configure, what the
# server re-emits for existing holdings (the last balance_update of each wallet and mint,
# position_opened of each position still open), then the stream at its edge
$PY - > "$T/hold.jsonl" <<'PY'
import json
base = 1795341600000000000
def rec(ms, m):
    print(json.dumps({"wall_ns": base + ms * 1000000, "dir": "in", "kind": "text", "payload": json.dumps(m)}))
rec(0, {"type": "hello_ok", "session_id": 1, "server_time_ms": 1, "limits": {"hi_capacity": 8, "pnl_flush_ms": 100, "max_positions_per_session": 5}})
rec(10, {"type": "balance_update", "wallet_pubkey": "W", "mint": "M1", "tokens": 5, "slot": 1})
rec(20, {"type": "balance_update", "wallet_pubkey": "W", "mint": "M1", "tokens": 7, "slot": 2})
rec(30, {"type": "position_opened", "position_id": 1, "wallet_pubkey": "W", "mint": "M1", "token_account": "A1", "tokens": 7, "entry_quote_units": 1, "slot": 3})
rec(40, {"type": "position_opened", "position_id": 2, "wallet_pubkey": "W", "mint": "M2", "token_account": "A2", "tokens": 3, "entry_quote_units": 1, "slot": 4})
rec(50, {"type": "position_closed", "position_id": 1, "wallet_pubkey": "W", "mint": "M1", "reason": "tp", "slot": 5})
for i in range(60):
    rec(100 + i * 100, {"type": "pnl_update", "position_id": 2, "profit_units": i, "proceeds_units": i, "server_time_ms": i})
PY
$WSTAPE import "$T/hold.jsonl" -o "$T/hold" --feed lasersell 2>/dev/null || fail "import holdings fixture"
# (the client starts first, client_first: the live timeline, 6 s, starts with the server)
port3=$(free_port)
hold_server() { exec $WSTAPE replay "$T/hold" --listen 127.0.0.1:$port3 --mode live > /dev/null 2> "$T/hold.log"; }
client_first $port3 $PY - $port3 -- hold_server <<'PY' || fail "live mode did not re-emit the holdings: $(cat "$T/hold.log")"
import asyncio, json, sys, websockets, ready
async def main():
    await asyncio.sleep(1.5)   # join the timeline 1.5 s after it started
    async with websockets.connect("ws://127.0.0.1:%s/v1/ws" % sys.argv[1]) as ws:
        await ws.send(json.dumps({"type": "configure", "wallet_pubkeys": ["W"], "strategy": {}}))
        got = [json.loads(await ws.recv()) for _ in range(5)]
    t = [(m["type"], m.get("mint") if m["type"] == "balance_update" else m.get("position_id")) for m in got]
    assert t[0][0] == "hello_ok", t
    assert t[1:3] == [("balance_update", "M1"), ("position_opened", 2)], t
    assert got[1]["tokens"] == 7, got[1]                      # the last balance, as recorded
    assert all(x == ("pnl_update", 2) for x in t[3:]), t      # then the stream at its edge
    assert got[3]["profit_units"] >= 8, got[3]               # joined after 1.5 s, not from the start
asyncio.run(main())
PY

! grep -l "AddressSanitizer\|runtime error" "$T/replay.log" "$T/drop.log" "$T/hold.log" || fail "replay failed: $(grep -h -A5 "AddressSanitizer\|runtime error" "$T/replay.log" "$T/drop.log" "$T/hold.log" | head -20)"
echo "t42 ok"
