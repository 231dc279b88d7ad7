# t53_spec_feed - a feed declared as data (--feed spec:FILE.json) with a spec of our own,
# tests/fixtures/ticks.json (channel from two pointers, cursor, the consecutive rule, events
# with a dedup key, a subscribe to send, a JSON ping from the client), against a server
# written from its words (tests/peers/spec_ticks_server.py): `record` journals channel and
# cursor, sends the spec's subscribe and pings after a silence; `inspect` (the feed taken
# from the journal) finds the seeded gap, duplicate frame and duplicate event; `replay`
# answers a ping and gates data by the channel a client subscribed to; `import` of a small
# fixture classifies by the spec; bad specs get a clear error and exit code 2.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
SPEC=$WSTAPE_TESTS_DIR/fixtures/ticks.json
J=$T/ticks.j

# ---- record ----
bg $PY "$PEERS/spec_ticks_server.py" --port 0 --log "$T/server.log" >"$T/port"
wait_log 60 "$T/port" '^port [0-9]+$'
port=$(awk '{print $2}' "$T/port")
"$WSTAPE" record --feed "spec:$SPEC" "ws://127.0.0.1:$port/" -o "$J" --quiet 2>"$T/rec.err" &
rec=$!
BG_PIDS+=($rec)
wait_log 60 "$T/server.log" '"ev": "done"'
# the server is silent now: the recorder pings after every_s (1 s) and journals the answer
wait_log 60 "$T/server.log" '"ev": "ping"'
wait_for 60 "the pong in the journal" journal_jq "$J" 'any(.[]; .dir == "in" and .payload == "{\"op\": \"pong\"}")'
kill -INT $rec
wait $rec; rc=$?
[ "$rc" = 0 ] || fail "record exited $rc: $(tail -3 "$T/rec.err")"
"$WSTAPE" cat "$J" >"$T/cat.jsonl" || fail "cat of the journal failed"
sent=$(grep -c '"ev": "send"' "$T/server.log")
[ "$(jq -s '[.[] | select(.dir == "in" and .kind == "text" and (.payload | test("\"trade\"")))] | length' "$T/cat.jsonl")" = "$sent" ] ||
	fail "the journal does not hold the $sent trade messages the server sent"
# channel and cursor from the spec's pointers, on every trade message
jq -e -s '[.[] | select(.dir == "in" and .kind == "text") | (.payload | fromjson) as $m
	| select($m.type == "trade") | select(.channel != "trades:" + $m.symbol or .cursor != ($m.sequence | tostring))]
	| length == 0' "$T/cat.jsonl" >/dev/null || fail "a trade message without the channel and cursor the spec gives"
jq -e -s 'any(.[]; .dir == "out" and (.payload | fromjson | .op == "subscribe" and (.topics | length) == 2))' \
	"$T/cat.jsonl" >/dev/null || fail "the spec's subscribe was not sent"
jq -e -s 'any(.[]; .dir == "out" and .payload == "{\"op\":\"ping\"}")' "$T/cat.jsonl" >/dev/null ||
	fail "the recorder's ping is not in the journal"
"$WSTAPE" info "$J" | grep -q '^feed *spec:ticks$' || fail "info does not name the feed spec:ticks"

# ---- inspect, the feed from the journal's META ----
expect_exit 0 "$WSTAPE" inspect --json "$J" >"$T/inspect.json"
jq -e '.feed == "spec:ticks"' "$T/inspect.json" >/dev/null || fail "inspect does not name the feed spec:ticks"
jq -e '.summary.counts | .seq_gap == 1 and .dup_frame == 1 and .dup_event == 1 and .seq_back == 0 and .seq_start == 0' \
	"$T/inspect.json" >/dev/null || fail "inspect's counts: $(jq -c .summary.counts "$T/inspect.json")"
jq -e '[.findings[] | select(.type == "seq_gap")][0] | .channel == "trades:AAA" and .missing == 2' "$T/inspect.json" \
	>/dev/null || fail "the gap of two on trades:AAA: $(jq -c '[.findings[] | select(.type == "seq_gap")]' "$T/inspect.json")"
jq -e '[.findings[] | select(.type == "dup_frame")][0].channel == "trades:AAA"' "$T/inspect.json" >/dev/null ||
	fail "the duplicate frame on trades:AAA was not found"
jq -e '[.findings[] | select(.type == "dup_event")][0].channel == "trades:BBB"' "$T/inspect.json" >/dev/null ||
	fail "the duplicate event on trades:BBB was not found"
expect_exit 1 "$WSTAPE" inspect "$J" --fail-on gaps >/dev/null

# ---- replay, the feed from the journal's META: the client's ping answered, data gated ----
port=$(free_port)
"$WSTAPE" replay "$J" --listen "127.0.0.1:$port" --once >/dev/null 2>"$T/replay.err" &
BG_PIDS+=($!)
wait_port "$port"
$PY "$PEERS/spec_ticks_client.py" "ws://127.0.0.1:$port/" trades:BBB "$T/cat.jsonl" >"$T/client.out" ||
	fail "replay: $(cat "$T/client.out"; tail -3 "$T/replay.err")"

# ---- import of a fixture, classified by the spec ----
"$WSTAPE" import "$WSTAPE_TESTS_DIR/fixtures/ticks.jsonl" -o "$T/fix.j" --feed "spec:$SPEC" 2>"$T/import.err" ||
	fail "import: $(cat "$T/import.err")"
"$WSTAPE" cat "$T/fix.j" | jq -e -s '[.[] | select(.channel == "trades:AAA" and .cursor == "5")] | length == 1' \
	>/dev/null || fail "import did not take channel and cursor from the spec"
expect_exit 0 "$WSTAPE" inspect --json "$T/fix.j" >"$T/fix.json"
jq -e '.feed == "spec:ticks" and .summary.counts.seq_gap == 1 and .summary.counts.dup_event == 1 and
	([.findings[] | select(.type == "seq_gap")][0] | .channel == "trades:AAA" and .missing == 1)' "$T/fix.json" \
	>/dev/null || fail "inspect of the imported fixture: $(jq -c '.summary.counts, [.findings[] | {type, channel, missing}]' "$T/fix.json")"

# ---- bad specs: a clear error (the file, the member, what is wrong) and exit code 2 ----
bad() { # NAME SPEC-TEXT EXPECTED-WORDS COMMAND...
	local name=$1 text=$2 want=$3; shift 3
	printf '%s' "$text" >"$T/$name.json"
	expect_exit 2 "$@" 2>"$T/$name.err"
	grep -qF -- "$T/$name.json: $want" "$T/$name.err" || fail "$name: '$(cat "$T/$name.err")' does not say '$want'"
}
bad unknown '{"wstape_feed_spec":1,"name":"x","chanel":"/c"}' "key 'chanel': unknown key" \
	"$WSTAPE" record --feed "spec:$T/unknown.json" ws://127.0.0.1:1/ -o "$T/never.j"
[ ! -e "$T/never.j" ] || fail "record created a journal for a bad spec"
bad pointer '{"wstape_feed_spec":1,"name":"x","channel":"arg/channel"}' "channel: the pointer 'arg/channel' does not start with '/'" \
	"$WSTAPE" inspect --feed "spec:$T/pointer.json" "$J"
bad rule '{"wstape_feed_spec":1,"name":"x","channel":"/c","seq":{"rule":"often","seq":"/s"}}' "seq.rule: unknown rule 'often'" \
	"$WSTAPE" replay "$J" --feed "spec:$T/rule.json" --listen 127.0.0.1:1
bad json '{"wstape_feed_spec":1,' "not JSON" \
	"$WSTAPE" import "$WSTAPE_TESTS_DIR/fixtures/ticks.jsonl" -o "$T/never2.j" --feed "spec:$T/json.json"
expect_exit 2 "$WSTAPE" inspect --feed "spec:$T/absent.json" "$J" 2>"$T/absent.err"
grep -q "spec '$T/absent.json': cannot read it" "$T/absent.err" || fail "a missing spec file: $(cat "$T/absent.err")"
expect_exit 2 "$WSTAPE" inspect --feed "nosuchfeed" "$J" 2>"$T/name.err"
grep -q "unknown feed 'nosuchfeed' (raw, hydromancer, lasersell, or spec:FILE.json)" "$T/name.err" ||
	fail "an unknown feed: $(cat "$T/name.err")"
echo ok
