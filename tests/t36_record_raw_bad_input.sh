# t36: the raw feed against a plain python3-websockets server: --send and --send @FILE after
# every connect, a fragmented message reassembled into one record, malformed JSON journaled
# as received and counted, a 64 MiB binary frame kept whole, a server ping answered, an
# abrupt drop followed by a reconnect; --max-records stops the run. Bad input: HTTP 403
# (exit 4, one attempt), a refused connection and a DNS failure (each attempt journaled with
# its phase, retried with backoff, exit 5 after --retries).
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
port=$(free_port)
bg $PY "$PEERS/raw_server.py" "$port" "$T/server.log"
wait_port "$port"
echo '{"op":"subscribe","ch":"from-file"}' >"$T/send.json"

"$WSTAPE" record "ws://127.0.0.1:$port/feed" -o "$T/j" --send '{"op":"hello"}' --send @"$T/send.json" \
	--no-deflate --max-records 60 --duration 600s -q 2>"$T/rec.err" || fail "record exited $?: $(cat "$T/rec.err")"
"$WSTAPE" cat "$T/j" >"$T/full.jsonl" || fail "cat failed"
# the checks read a copy with each binary payload replaced by its base64 length (Python:
# a third of jq's CPU time on the two 89 MB lines)
$PY -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "payload_b64" in r:
        r["payload_b64"] = len(r["payload_b64"])
    print(json.dumps(r, separators=(",", ":")))' "$T/full.jsonl" >"$T/j.jsonl" || fail "the copy of the journal"
check() { jq -e -s "$1" "$T/j.jsonl" >/dev/null || fail "$2"; }
# at 60 records (inside the second connection) the recorder closes; the close, and any frame still in flight, are journaled
check 'length >= 61 and length <= 90 and (.[-1].kind == "close") and (.[-1].payload | fromjson | .by == "client")' \
	"--max-records 60 did not stop the run with a clean close"
check 'map(select(.kind=="open")) | length == 2' "expected a reconnect after the drop"
check '[.[] | select(.dir=="out" and .kind=="text") | .payload] == ["{\"op\":\"hello\"}","{\"op\":\"subscribe\",\"ch\":\"from-file\"}","{\"op\":\"hello\"}","{\"op\":\"subscribe\",\"ch\":\"from-file\"}"]' \
	"--send messages not sent after each connect, in order"
check 'any(.[]; .kind=="text" and .payload == "{\"part\":\"one two three\"}")' "fragmented message not reassembled"
check 'any(.[]; .kind=="text" and .payload == "{\"broken\": ")' "malformed JSON not journaled as received"
# (the server's ping is answered inside libwebsockets 4.1, which tells the application
# nothing of it: see README, "What is journaled")
check '[.[] | select(.kind=="close") | .payload | fromjson | .by] | .[0] == "network"' "the abrupt drop is not a close by the network"
# the 64 MiB frame: one record of exactly 64 MiB (cat prints it as base64)
jq -s '[.[] | select(.kind=="binary") | .payload_b64]' "$T/j.jsonl" >"$T/bin.json"
jq -e '. == [89478488, 89478488]' "$T/bin.json" >/dev/null || fail "the 64 MiB frames are not whole: $(cat "$T/bin.json")"
grep -c '"op": "subscribe"\|from-file' "$T/server.log" >/dev/null || fail "the server did not get --send @FILE"
"$WSTAPE" inspect "$T/j" --json >"$T/inspect.json" 2>/dev/null
jq -e '.records.not_json >= 2' "$T/inspect.json" >/dev/null || fail "malformed JSON not counted: $(jq .records "$T/inspect.json")"
"$WSTAPE" verify "$T/j" >/dev/null || fail "the journal does not verify"

# HTTP 403 on the upgrade: one attempt, a clear message, exit 4 (into existing journals here:
# a first run that fails before any frame removes the journal it created, see t33)
for j in j403 jref jdns; do "$WSTAPE" import /dev/null -o "$T/$j" --feed raw 2>/dev/null || fail "import failed"; done
expect_exit 4 "$WSTAPE" record "ws://127.0.0.1:$port/403" -o "$T/j403" --resume -q 2>"$T/403.err"
grep -q "403" "$T/403.err" || fail "the message does not name HTTP 403: $(cat "$T/403.err")"
"$WSTAPE" cat "$T/j403" | jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.status)] | length == 1 and .[0].status == 403' >/dev/null ||
	fail "the 403 attempt was not journaled once"

# a refused connection and a DNS failure: retried with backoff, every attempt journaled
closed=$(free_port)
expect_exit 5 "$WSTAPE" record "ws://127.0.0.1:$closed/" -o "$T/jref" --resume --retries 3 -q 2>"$T/ref.err"
"$WSTAPE" cat "$T/jref" | jq -e -s '([.[] | select(.kind=="error") | .payload | fromjson | select(.phase=="connect")] | length == 3) and
	([.[] | select(.kind=="error") | .payload | fromjson | select(.event=="reconnect") | .delay_ms] == [100, 200])' >/dev/null ||
	fail "refused attempts not journaled with backoff: $("$WSTAPE" cat "$T/jref")"
expect_exit 5 "$WSTAPE" record "ws://no-such-host.invalid/" -o "$T/jdns" --resume --retries 2 -q 2>"$T/dns.err"
grep -q "DNS lookup of 'no-such-host.invalid' failed" "$T/dns.err" || fail "the DNS failure is not named: $(cat "$T/dns.err")"
"$WSTAPE" cat "$T/jdns" | jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.phase=="dns")] | length == 2' >/dev/null ||
	fail "DNS attempts not journaled with phase dns"
echo ok
