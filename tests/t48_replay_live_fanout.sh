#!/usr/bin/env bash
# t48_replay_live_fanout.sh - --mode live to many clients: the timeline they share is read and
# framed once (replay/live.c) and every client gets its frames byte-exact and in order;
# 1,000 clients connected at once, the server's memory per client within the README's bound.
# No timing is asserted: a client that joins later only starts later (at the live edge).
. "$(dirname "$0")/replay_lib.sh"
FAN=$(dirname "$WSTAPE")/bench/replay_fan
[ -x "$FAN" ] || fail "no $FAN (make builds it)"

# a recording: one frame, 2 s of nothing (the clients connect meanwhile), then 900 frames
# 8 ms apart: text of 1 B to 3 KB, binary, some of 64 KiB and more (written alone, not
# coalesced), and a few of 300 KB; and the frames a client is due, in order (op, length,
# payload), for replay_fan --expect
$PY - "$T/fan.jsonl" "$T/fan.expect" <<'PY'
import base64, json, random, struct, sys
rnd = random.Random(48)
t0 = 1795341600000000000
with open(sys.argv[1], "w") as f, open(sys.argv[2], "wb") as e:
    for i in range(901):
        wall = t0 if i == 0 else t0 + 2_000_000_000 + i * 8_000_000
        if i % 10 == 7:
            p = bytes([i & 255]) + rnd.randbytes(rnd.choice([1, 200, 5000]))
            rec = {"wall_ns": wall, "dir": "in", "kind": "binary", "payload_b64": base64.b64encode(p).decode()}
            op = 2
        else:
            size = 300_000 if i % 150 == 75 else 70_000 if i % 50 == 20 else rnd.randint(0, 3000)
            p = ('{"i":%d,"x":"%s"}' % (i, "y" * size)).encode()
            rec = {"wall_ns": wall, "dir": "in", "kind": "text", "payload": p.decode()}
            op = 1
        f.write(json.dumps(rec) + "\n")
        e.write(struct.pack(">BI", op, len(p)) + p)
PY
$WSTAPE import "$T/fan.jsonl" -o "$T/fan" 2>/dev/null || fail "import"

# 320 clients of the shared live timeline: each gets a run of the recording's frames, from
# where it joined to the last, byte-exact, in order, none missing; then the close at the end
replay_start port "$T/replay.fan.log" "$T/fan" --mode live
$FAN 127.0.0.1 $port 320 --expect "$T/fan.expect" --secs 300 > "$T/fan.out" || fail "320 live clients: $(cat "$T/fan.out")"
grep -q "complete 320 bad 0" "$T/fan.out" || fail "320 live clients: $(cat "$T/fan.out")"
wait_for 60 "320 clients to have left" eval '[ "$(grep -c "left after" "$T/replay.fan.log")" = 320 ]'

# a dense timeline (a frame every millisecond) to 200 clients: a round of writes to all of
# them takes about as long as the frames are apart, so a client served late takes a frame
# that fell due during the round and reads the next; those served before it still stand at
# the first, and the timer must still come for it: every client gets to the end and its close
$PY - "$T/dense.jsonl" "$T/dense.expect" <<'PY'
import json, struct, sys
with open(sys.argv[1], "w") as f, open(sys.argv[2], "wb") as e:
    for i in range(1500):
        wall = 1795341600000000000 + (0 if i == 0 else 2_000_000_000 + i * 1_000_000)
        p = ('{"i":%d}' % i).encode()
        f.write(json.dumps({"wall_ns": wall, "dir": "in", "kind": "text", "payload": p.decode()}) + "\n")
        e.write(struct.pack(">BI", 1, len(p)) + p)
PY
$WSTAPE import "$T/dense.jsonl" -o "$T/dense" 2>/dev/null || fail "import dense"
for run in 1 2 3; do
	replay_start port "$T/replay.dense$run.log" "$T/dense" --mode live
	$FAN 127.0.0.1 $port 200 --expect "$T/dense.expect" --secs 120 > "$T/dense.out" ||
		fail "200 clients of a dense timeline (run $run): $(cat "$T/dense.out")"
	grep -q "complete 200 bad 0" "$T/dense.out" || fail "200 clients of a dense timeline (run $run): $(cat "$T/dense.out")"
	kill $REPLAY_PID 2>/dev/null; wait $REPLAY_PID 2>/dev/null
done

# clients of the shared timeline that never read are let go at --max-buffer (what is due and
# unsent for each is counted as for a queue), while those that read get every frame
replay_start port "$T/replay.noread.log" "$T/fan" --mode live --max-buffer 2m
$PY "$PEERS/never_reading_clients.py" $port 20 120 > "$T/noread.out" & noread=$!
BG_PIDS+=($noread)
$FAN 127.0.0.1 $port 10 --expect "$T/fan.expect" --secs 300 > "$T/read.out" || fail "10 live clients beside 20 that do not read: $(cat "$T/read.out")"
wait $noread
grep -q "closed 20 of 20" "$T/noread.out" || fail "live clients that never read: $(cat "$T/noread.out")"
[ "$(grep -c "does not read.*above --max-buffer" "$T/replay.noread.log")" = 20 ] ||
	fail "live clients that never read are not let go for --max-buffer: $(grep -c disconnecting "$T/replay.noread.log")"

# the same to clients with a timeline of their own each (--gate keeps the timeline from
# being shared; the recording has no client message, so it holds nothing back)
replay_start port "$T/replay.own.log" "$T/fan" --mode live --gate
$FAN 127.0.0.1 $port 40 --expect "$T/fan.expect" --secs 300 > "$T/own.out" || fail "40 live clients, own timelines: $(cat "$T/own.out")"

# 1,000 clients connected at once, at the edge of a sparse timeline (a frame of 8 KB every
# 200 ms, 2.4 MB in all: more than a journal block): all are served, and the server's memory
# grows by at most 256 KiB per client (the README's bound; a journal reader of its own per
# client would hold a decompressed block, about 1 MiB, each). Memory is no timing: a loaded
# machine changes when, not how much.
$PY - "$T/sparse.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(300):
        f.write(json.dumps({"wall_ns": 1795341600000000000 + i * 200_000_000, "dir": "in", "kind": "text",
                            "payload": '{"i":%d,"x":"%s"}' % (i, ("%05d" % i) * 1600)}) + "\n")
PY
$WSTAPE import "$T/sparse.jsonl" -o "$T/sparse" 2>/dev/null || fail "import sparse"
ulimit -n 4096 2>/dev/null
replay_start port "$T/replay.idle.log" "$T/sparse" --mode live --loop
rss0=$(awk '/VmRSS/ { print $2 }' /proc/$REPLAY_PID/status)
$FAN 127.0.0.1 $port 1000 --secs 4 --ready "$T/ready" > "$T/idle.out" & fan=$!
BG_PIDS+=($fan)
wait_for 120 "1000 clients to be upgraded" test -s "$T/ready"
rss=$(awk '/VmRSS/ { print $2 }' /proc/$REPLAY_PID/status)
wait $fan
per=$(( (rss - rss0) / 1000 ))
[ $per -le 256 ] || fail "1000 idle live clients: the server grew by $per KiB per client (RSS $rss0 -> $rss KiB)"
grep -q "open 1000" "$T/idle.out" || fail "1000 clients: $(cat "$T/idle.out")"
no_sanitizer_reports "$T"/replay.*.log
echo "t48 ok ($per KiB per idle client)"
