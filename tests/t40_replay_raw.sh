#!/usr/bin/env bash
# t40_replay_raw.sh - replay of any feed as raw frames: round trip through wstape record for
# every fixture, determinism with faults, pacing (paced at all: no frame ahead of its time;
# how close to it is `make bench`'s), drops, bad input, 200 clients.
. "$(dirname "$0")/replay_lib.sh"
CL="$PY $PEERS/replay_client.py"
FRAMES="$PY $CHECKS/replay_frames.py"
RAW="$PY $PEERS/raw_replay_clients.py"

# round trip: record a replay at top speed; the payloads are identical, in order
for f in "$WSTAPE_TESTS_DIR"/../fixtures/*.jsonl; do
	name=$(basename "$f" .jsonl)
	$WSTAPE import "$f" -o "$T/$name" --feed raw 2>/dev/null || fail "import $name"
	replay_start port "$T/replay.$name.log" "$T/$name" --speed max --once
	# (until the replay has sent it all, closed, and left with its one client)
	$WSTAPE record ws://127.0.0.1:$port/ -o "$T/$name.again" --quiet & rec=$!
	BG_PIDS+=($rec)
	replay_done
	kill -INT $rec; wait $rec || fail "record of the $name replay"
	diff <($WSTAPE cat "$T/$name" --direction in --kind text --payload) \
	     <($WSTAPE cat "$T/$name.again" --direction in --kind text --payload) > "$T/diff" ||
		fail "round trip of $name differs: $(head -5 "$T/diff")"
	[ "$($WSTAPE cat "$T/$name.again" --direction in --kind text | wc -l)" -gt 5 ] || fail "nothing recorded for $name"
done

# a synthetic recording: 50 text frames and 10 binary ones, 20 ms apart (1.18 s)
$RECORDINGS syn > "$T/syn.jsonl"
$WSTAPE import "$T/syn.jsonl" -o "$T/syn" 2>/dev/null

# byte-exact text and binary at max speed, and the same bytes in the same order twice,
# with duplicates and skips from a seed
# (each connection has its own generator, seeded from --seed and its number: two runs of
# the server give their first clients the same bytes)
for c in a b; do
	replay_start port "$T/replay.faults-$c.log" "$T/syn" --speed max --dup-rate 0.2 --skip-rate 0.2 --seed 7 --once
	$CL collect ws://127.0.0.1:$port/ "$T/$c.json" || fail "client $c"
done
$FRAMES faulty "$T/a.json" "$T/b.json" "$T/syn.jsonl" || fail "determinism with faults"

# without faults the bytes are exactly the recording's
replay_start port "$T/replay.exact.log" "$T/syn" --speed max --once
$CL collect ws://127.0.0.1:$port/ "$T/c.json" || fail "client c"
$FRAMES exact "$T/c.json" "$T/syn.jsonl" || fail "byte-exact raw replay"

# pacing, paced at all: 1.18 s of recording at 0.5x, 1x and 10x; frame i is due 20 ms * i /
# speed after the connection (the client's clock starts before it connects), so no frame may
# reach the client before then; a loaded machine only makes frames later, and how much later
# is not asserted here (`make bench` measures the lateness)
for sp in 0.5 1 10; do
	replay_start port "$T/replay.pacing-$sp.log" "$T/syn" --speed $sp --once
	$CL collect ws://127.0.0.1:$port/ "$T/p$sp.json" || fail "pacing client"
	$FRAMES paced "$T/p$sp.json" $sp 60 0.020 || fail "pacing at ${sp}x"
done

# selections: --from-record N, --to T, --conn N give the frames of the recording (record
# numbers follow its lines) from record N, received before T, of connection N
$RECORDINGS two > "$T/two.jsonl"
$WSTAPE import "$T/two.jsonl" -o "$T/two" 2>/dev/null
# (the check selects from the JSON lines what the options select from the journal)
for sel in "syn --from-record 20|--from-record 20" "syn --to 1795341600500|--to 1795341600500000000" \
	   "two --conn 2|--conn 2" "two --conn 1 --from-record 9 --to 1795341600300|--from-record 9 --to 1795341600300000000 --conn 1"; do
	args=${sel%%|*} want=${sel#*|}
	j=${args%% *}
	n_sel=$((${n_sel:-0} + 1))
	replay_start port "$T/replay.sel$n_sel.log" "$T/$j" ${args#* } --speed max --once
	$CL collect ws://127.0.0.1:$port/ "$T/sel.json" || fail "client of $args"
	replay_done
	$FRAMES exact "$T/sel.json" "$T/$j.jsonl" $want --close 1000 || fail "selection $args"
done

# --gate: frames after a recorded client message wait for the client's message
replay_start port "$T/replay.gate.log" "$T/syn" --speed max --gate --once
$RAW gate $port || fail "--gate"

# faults: --drop-after abrupt (no close frame), and with a close code
replay_start port "$T/replay.drop-after.log" "$T/syn" --speed max --drop-after 5 --once
$CL collect ws://127.0.0.1:$port/ "$T/d.json"
replay_done
expect_json "$T/d.json" 'len(frames) == 5 and close == 1006' || fail "--drop-after abrupt"
replay_start port "$T/replay.close-code.log" "$T/syn" --speed max --drop-after 7 --close-code 4001 --once
$CL collect ws://127.0.0.1:$port/ "$T/e.json"
replay_done
expect_json "$T/e.json" 'len(frames) == 7 and close == 4001' || fail "--close-code"
replay_start port "$T/replay.drop-every.log" "$T/syn" --speed 1 --drop-every 0.5s --once
$CL collect ws://127.0.0.1:$port/ "$T/f.json"
replay_done
expect_json "$T/f.json" '0 < len(frames) < 60 and close == 1006' || fail "--drop-every"
# --drop-every on an idle connection (held by --gate after 4 frames) comes on time, abrupt
# or with a close code, not at a WRITEABLE that never comes
for cc in 1006 4002; do
	replay_start port "$T/replay.idle-$cc.log" "$T/syn" --speed max --gate --drop-every 0.4s $([ $cc = 1006 ] || echo --close-code $cc) --once
	$RAW idle-drop $port $cc || fail "--drop-every on an idle connection ($cc)"
	replay_done
done
# (a stall of 2 s, seen as a gap of at least 1 s: a client that a busy machine starves reads
# the frames before it late, which shortens the gap it sees, but not by a second)
replay_start port "$T/replay.stall.log" "$T/syn" --speed max --stall 2s --seed 3 --once
$CL collect ws://127.0.0.1:$port/ "$T/g.json"
replay_done
$FRAMES stall "$T/g.json" 60 1.0 || fail "--stall"

# a client that does not read: what is due queues up to --max-buffer, then it is let go
# (it reads nothing for at least 4 s while 24 MB fall due, until the server says it let it go,
# then less than 20 MB come)
$RECORDINGS big > "$T/big.jsonl"
$WSTAPE import "$T/big.jsonl" -o "$T/big" 2>/dev/null
replay_start port "$T/replay.max-buffer.log" "$T/big" --speed 1 --max-buffer 2m --once
$PY "$PEERS/stalled_reader.py" $port 4 5 20000000 --silence-ends \
	--until "$T/replay.max-buffer.log" "does not read: .* above --max-buffer" || fail "a client that does not read was not let go"
replay_done
grep -q "does not read: .* above --max-buffer 2097152: disconnecting" "$T/replay.max-buffer.log" ||
	fail "no reason logged: $(cat "$T/replay.max-buffer.log")"

# --loop: frames of the recording in order, over and over (index i of each frame, text or
# binary)
# session mode: every client from the start, again and again (a pass is 0.59 s at 2x)
replay_start port "$T/replay.loop.log" "$T/syn" --speed 2 --loop
$CL take ws://127.0.0.1:$port/ "$T/loop.json" 4 || fail "--loop client"
$FRAMES loop "$T/loop.json" 0 0 120 60 || fail "--loop in session mode"
# live mode: a client that joins after the first pass (1.18 s) joins the current pass at
# its edge, not at the start or the end of the recording: a first client follows the shared
# timeline, the second joins once the first is 20 frames into the second pass, and its first
# frame is the one the first client is getting then (both read in one event loop: within a
# few frames of each other, however loaded the machine)
replay_start port "$T/replay.liveloop.log" "$T/syn" --mode live --loop
$RAW join-loop ws://127.0.0.1:$port/ "$T/liveloop.json" || fail "--mode live --loop: a client after the first pass"
$FRAMES loop "$T/liveloop.json" 0 59 70 60 || fail "--mode live --loop: a client after the first pass"

# 200 clients at once, each gets the whole recording
replay_start port "$T/replay.many.log" "$T/syn" --speed max
$CL many ws://127.0.0.1:$port/ 200 > "$T/many.json" || fail "200 clients"
expect_json "$T/many.json" 'len(j) == 200 and all(x == 60 for x in j)' || fail "200 clients: $(head -c 300 "$T/many.json")"

# --listen takes a host name, and port 0 for any free port: the URL printed has the port
# the kernel chose, and clients reach it
$WSTAPE replay "$T/syn" --listen localhost:0 --speed max --once > "$T/url0" 2> "$T/replay.0.log" &
REPLAY_PID=$!
BG_PIDS+=($REPLAY_PID)
REPLAY_LOGS[$REPLAY_PID]=$T/replay.0.log
wait_for 60 "the URL printed" test -s "$T/url0"
url=$(cat "$T/url0")
[[ $url =~ ^ws://localhost:[1-9][0-9]*/$ ]] || fail "--listen localhost:0 printed '$url'"
grep -q "on $url\$" "$T/replay.0.log" || fail "the banner does not show $url: $(cat "$T/replay.0.log")"
$CL collect "$url" "$T/l0.json" || fail "client of --listen localhost:0"
replay_done
expect_json "$T/l0.json" 'len(frames) == 60 and close == 1000' || fail "--listen localhost:0"

# bad input: a journal that does not open, a port in use, an empty range
port=$(free_port)
expect_exit 2 $WSTAPE replay "$T/nope" --listen 127.0.0.1:$port 2> "$T/err"
grep -q "cannot open journal '$T/nope'" "$T/err" || fail "missing journal message: $(cat "$T/err")"
replay_start port "$T/replay.taken.log" "$T/syn" --speed max
expect_exit 5 $WSTAPE replay "$T/syn" --listen 127.0.0.1:$port 2> "$T/err"
grep -q "cannot listen on 127.0.0.1:$port: Address already in use" "$T/err" || fail "port in use message: $(cat "$T/err")"
expect_exit 2 $WSTAPE replay "$T/syn" --from 2030-01-01T00:00:00Z --listen 127.0.0.1:$(free_port) 2> "$T/err"
grep -q "no server frames" "$T/err" || fail "empty range message: $(cat "$T/err")"
expect_exit 2 $WSTAPE replay "$T/syn" --speed fast 2>/dev/null
expect_exit 2 $WSTAPE replay "$T/syn" --listen nowhere 2>/dev/null
# no replay of this script crashed or tripped a sanitizer
no_sanitizer_reports "$T"/replay.*.log
echo "t40 ok"
