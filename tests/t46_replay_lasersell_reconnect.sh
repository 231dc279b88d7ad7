#!/usr/bin/env bash
# t46_replay_lasersell_reconnect.sh - the official LaserSell SDK reconnecting to
# `wstape replay --feed lasersell` in session mode. The server drops the connection again
# and again (--drop-after, --drop-every, paced and at --speed max); the SDK reconnects
# with the same API key and sends configure again. Overall it gets every recorded message
# exactly once and in order; after each reconnect, first the holdings as they stood at
# that point (last balance_update per wallet and mint, position_opened of the positions
# open there); after the end of the recording, hello_ok and those holdings only. The
# application closes each position it gets an exit signal for: the server receives
# close_position at most once per position. hello_ok carries the recorded session_id (the
# one the recorded exit signals carry), on every connection. After --grace the key's
# timeline is gone: the next connection starts from the start.
. "$(dirname "$0")/replay_lib.sh"
cd "$WSTAPE_TESTS_DIR"
[ -d node_modules/@lasersell/lasersell-sdk ] || fail "the SDK is not installed (make test runs npm ci in tests/)"
SDK="node peers/lasersell_sdk_timeline.mjs"
TL="$PY $CHECKS/lasersell_timeline.py"

# a recording longer than the fixture: 14 positions, one after the other, each with
# balances, pnl, ticks, liquidity; 12 get an exit signal (then nothing for 300 ms, so the
# application's close_position is not sent while the server drops it) and close, 2 stay
# open; one session (7001)
$RECORDINGS lasersell-long > "$T/long.jsonl"
$WSTAPE import "$T/long.jsonl" -o "$T/long" --feed lasersell 2>/dev/null || fail "import the long recording"
$WSTAPE cat "$T/long" --direction in --kind text --payload | grep -v '"type": "hello_ok"' > "$T/long.rec"
[ "$(wc -l < "$T/long.rec")" -gt 150 ] || fail "the long recording is short: $(wc -l < "$T/long.rec")"
# (the end the SDK application waits for: the last message's type and server_time_ms)
end_of() { jq -ce '{type, server_time_ms} | select(.type != null and .server_time_ms != null)'; }
END_LONG=$(tail -n 1 "$T/long.rec" | end_of) || fail "no end in the long recording"

# check REC GOT LOG SID ACT [MIN_HELLOS]: what the SDK got (GOT) against the recording
# (REC), and the close_position requests the server logged (LOG)
check() { $TL stream "$@"; }

# run NAME ACT JOURNAL END [replay options]: the SDK application (ACT: close or read)
# through a replay with those faults, until the end of the recording and a reconnect after it
run() {
	local name=$1 act=$2 journal=$3 end=$4; shift 4
	local port
	replay_start port "$T/$name.log" "$journal" --token k-$name --log-level info "$@"
	timeout 150 $SDK ws://127.0.0.1:$port/v1/ws k-$name $act "$end" 1000 120 > "$T/$name.got" 2> "$T/$name.err" ||
		fail "SDK $name: $(tail -5 "$T/$name.err")"
}

# paced, a drop after every 23 frames
run after close "$T/long" "$END_LONG" --speed 5 --drop-after 23
check "$T/long.rec" "$T/after.got" "$T/after.log" 7001 close || fail "--drop-after, paced: $(grep -c . "$T/after.got") messages"
grep -q "resumes session key-" "$T/after.log" || fail "no session resumed: $(tail -5 "$T/after.log")"
! grep -q "k-after" "$T/after.log" || fail "the API key is in the log"
# as fast as the client reads
run max read "$T/long" "$END_LONG" --speed max --drop-after 31
check "$T/long.rec" "$T/max.got" "$T/max.log" 7001 read || fail "--drop-after, --speed max"
# drops on a timer: also between hello_ok and configure, and after the end
run every close "$T/long" "$END_LONG" --speed 5 --drop-every 300ms
check "$T/long.rec" "$T/every.got" "$T/every.log" 7001 close || fail "--drop-every"

# the fixture holds two recorded sessions (42, then 43 after the recorder's reconnect):
# hello_ok says the one in effect where the client's stream begins
$WSTAPE import ../fixtures/lasersell.jsonl -o "$T/ls" --feed lasersell 2>/dev/null || fail "import the fixture"
$WSTAPE cat "$T/ls" --direction in --kind text --payload > "$T/ls.all"
END_FIX=$(grep -v '"type":"\(hello_ok\|pong\)"' "$T/ls.all" | tail -n 1 | end_of) || fail "no end in the fixture"
run fix42 read "$T/ls" "$END_FIX" --speed max --drop-after 5
$TL fixture-start "$T/fix42.got" || fail "the fixture from its start: $(cat "$T/fix42.got")"
hello43=$(grep -n '"session_id":43' "$T/ls.all" | head -1 | cut -d: -f1)
from=$($WSTAPE cat "$T/ls" --direction in --kind text | sed -n "$((hello43 + 1))p" | jq -e .recno)
run fix43 read "$T/ls" "$END_FIX" --speed max --from-record "$from" --drop-after 3
$TL fixture-second "$T/fix43.got" || fail "the fixture from its second session: $(cat "$T/fix43.got")"

# after --grace a key's timeline is gone: the same key starts from the start
replay_start port "$T/grace.log" "$T/long" --speed max --drop-after 40 --grace 1s --log-level info
timeout 90 $SDK ws://127.0.0.1:$port/v1/ws k-grace read "$END_LONG" 200 60 > "$T/grace1.got" 2> "$T/grace.err" || fail "SDK (grace): $(cat "$T/grace.err")"
sleep 2   # (away for longer than --grace 1s: an absence, not a wait for an event)
timeout 90 $SDK ws://127.0.0.1:$port/v1/ws k-grace read "$END_LONG" 200 60 > "$T/grace2.got" 2>> "$T/grace.err" || fail "SDK (grace): $(cat "$T/grace.err")"
check "$T/long.rec" "$T/grace2.got" "$T/grace.log" 7001 read 2 || fail "a connection after --grace did not start from the start"

no_sanitizer_reports "$T"/*.log
echo "t46 ok"
