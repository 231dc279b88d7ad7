#!/usr/bin/env bash
# t44_replay_hydromancer_fidelity.sh - a Hydromancer replay serves every distinct event of the
# recording once and in key order, those the recorder only got in replay chunks included; a
# resume reads its cursor in each channel's format and replays nothing past the client's live
# edge; ids are UUIDs, reproducible with --seed; and record -> replay with drops -> record
# again loses nothing. Clients and servers are python3-websockets peers written from the docs.
. "$(dirname "$0")/replay_lib.sh"
FID="$PY $PEERS/hm_fidelity.py"

$FID gen "$T/g.jsonl" || fail "gen"
$WSTAPE import "$T/g.jsonl" -o "$T/g" --feed hydromancer 2>/dev/null || fail "import"
# (session mode: each client's timeline starts when it connects, and a subscription that
# comes after an event's time does not get it: the events start 1 s after the subscriptions)
$FID gen "$T/gs.jsonl" 1000 || fail "gen"
$WSTAPE import "$T/gs.jsonl" -o "$T/gs" --feed hydromancer 2>/dev/null || fail "import"

# (a, b, c, d) session mode: each client its own timeline, all at once
replay_start port "$T/replay1.log" "$T/gs" --token t
$FID session "ws://127.0.0.1:$port/" "$T/gs.jsonl" || { tail -5 "$T/replay1.log"; fail "session mode"; }
grep -q "cursor 'not-a-cursor' is in no documented format" "$T/replay1.log" || fail "the cursor not understood was not logged"

# (b, d) live mode: one shared timeline, which starts with the server: the client first
port=$(free_port)
client_first $port $FID live "ws://127.0.0.1:$port/" "$T/g.jsonl" -- replay_serve "$T/replay2.log" "$T/g" $port --token t --mode live ||
	{ tail -5 "$T/replay2.log"; fail "live mode"; }

# a replay chunk recorded 11 s after its reconnect, behind later live messages: its events
# the live stream never carried still go out, at --speed max and paced
$FID gen-late "$T/late.jsonl" || fail "gen-late"
$WSTAPE import "$T/late.jsonl" -o "$T/late" --feed hydromancer 2>/dev/null || fail "import late"
for speed in max 4; do
	replay_start port "$T/replay-late.$speed.log" "$T/late" --token t --speed $speed
	$FID late "ws://127.0.0.1:$port/" || { tail -5 "$T/replay-late.$speed.log"; fail "late chunk at --speed $speed"; }
done

# ids: version 4 UUIDs; the same under one --seed, different without
# (peers/hydromancer_replay_clients.py ids: the clientId and sessionId of two connections)
run_ids() { # OPTIONS... -> ids of a fresh server (in $(...): it stops the server itself)
	replay_start p "$T/ids.$BASHPID.log" "$T/g" --token t "$@"
	$PY "$PEERS/hydromancer_replay_clients.py" ids $p || { kill -9 $REPLAY_PID; fail "ids are not UUIDs"; }
	kill -9 $REPLAY_PID; wait $REPLAY_PID 2>/dev/null || true
}
a=$(run_ids --seed 7) && b=$(run_ids --seed 7) && c=$(run_ids --seed 8) && d=$(run_ids) && e=$(run_ids) || fail "ids"
[ "$a" = "$b" ] || fail "--seed 7 twice gave other ids: $a / $b"
[ "$a" != "$c" ] || fail "--seed 7 and --seed 8 gave the same ids"
[ "$d" != "$e" ] || fail "two runs without --seed gave the same ids"

# (e) end to end: record a server that drops every 1.5 s (abrupt and 1001, alternating),
# replay that journal dropping every 1 s, record the replay: the second journal holds every
# distinct event of the first, on every channel
sport=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$sport" --token tok --log "$T/server.log" \
	--rate 400 --batch 4 --chunk-items 40 --drop-every 1.5 --down-s 0.3 --leverage-rate 20
wait_port "$sport"
bg $WSTAPE record "ws://127.0.0.1:$sport/ws?token=tok" -o "$T/j1" --feed hydromancer --subscribe allFills \
	--subscribe leverageUpdates 2> "$T/rec1.log"
rec1=$!
resumed() { [ "$(grep -c '"resumed":true.*"ev":"connect"' "$T/server.log")" -ge 3 ]; }
wait_for 120 "the recorder to resume 3 times" resumed
# and replay chunks journaled (what the checks below read)
replays() { [ "$("$WSTAPE" cat "$T/j1" 2>/dev/null | grep -c '"type\\":\\"replay')" -ge 3 ]; }
wait_for 60 "3 replays in the journal" replays
kill -INT $rec1; wait $rec1 || fail "record 1 exited $?"
$WSTAPE cat "$T/j1" > "$T/j1.jsonl" || fail "cat j1"
grep -q '"type\\":\\"replay' "$T/j1.jsonl" || fail "the first journal holds no replay chunks"
for ch in allFills leverageUpdates; do
	grep -q "\"channel\":\"$ch\"" "$T/j1.jsonl" || fail "the first journal holds no $ch"
done

replay_start rport "$T/replay3.log" "$T/j1" --token t --drop-every 1s --seed 3
bg $WSTAPE record "ws://127.0.0.1:$rport/?token=t" -o "$T/j2" --feed hydromancer --subscribe allFills \
	--subscribe leverageUpdates 2> "$T/rec2.log"
rec2=$!
holds_all() {
	$WSTAPE cat "$T/j2" > "$T/j2.jsonl" 2>/dev/null && $FID compare "$T/j1.jsonl" "$T/j2.jsonl" > /dev/null 2>&1
}
wait_for 180 "the second journal to hold every event of the first" holds_all
kill -INT $rec2; wait $rec2 || fail "record 2 exited $?"
$WSTAPE cat "$T/j2" > "$T/j2.jsonl" || fail "cat j2"
[ "$(grep -c '"type\\":\\"reconnected' "$T/j2.jsonl")" -ge 2 ] || fail "the replay's drops were not resumed"
$FID compare "$T/j1.jsonl" "$T/j2.jsonl" || { tail -n 3 "$T/replay3.log" "$T/rec2.log"; fail "the second journal lost events"; }
echo ok
