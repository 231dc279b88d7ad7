# t35: a server that accepts the upgrade and closes at once is not hammered: each such
# connection counts as a failed attempt, so the journaled reconnect delays double
# (100, 200, 400, 800 ms ...) instead of starting again at 100 ms every time.
source tests/lib.sh
port=$(free_port)
cat >"$T/flap.py" <<'PY'
import asyncio, sys, websockets
async def handler(ws, path=None):
    await ws.close(1011, "going away at once")
async def main():
    async with websockets.serve(handler, "127.0.0.1", int(sys.argv[1])):
        await asyncio.Future()
asyncio.run(main())
PY
bg $PY "$T/flap.py" "$port"
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/" -o "$T/j" --feed lasersell --api-key k -q 2>"$T/rec.err"
rec=$!
wait_for 60 "four reconnects" journal_jq "$T/j" \
	'[.[] | select(.kind=="error") | .payload | fromjson | select(.event=="reconnect")] | length >= 4'
kill -INT "$rec"
wait "$rec" || fail "record exited $?: $(cat "$T/rec.err")"
"$WSTAPE" cat "$T/j" >"$T/j.jsonl" || fail "cat failed"
jq -s -c '[.[] | select(.kind=="error") | .payload | fromjson | select(.event=="reconnect") | .delay_ms]' \
	"$T/j.jsonl" >"$T/delays.json"
cat "$T/delays.json"
jq -e '. as $d | length >= 3 and .[0] == 100 and .[1] == 200 and .[2] == 400 and
	all(range(1; length); $d[.] >= $d[. - 1]) and all(.[]; . <= 2000)' "$T/delays.json" >/dev/null ||
	fail "the backoff does not grow against a server that closes at once: $(cat "$T/delays.json")"
# every connection after the first came after a journaled delay: none without one
jq -e -s '(map(select(.kind=="open")) | length) as $o |
	([.[] | select(.kind=="error") | .payload | fromjson | select(.event=="reconnect")] | length) as $r |
	$o >= 4 and $o <= $r + 1' "$T/j.jsonl" >/dev/null ||
	fail "connections without a reconnect delay before them"
echo ok
