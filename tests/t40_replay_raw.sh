#!/usr/bin/env bash
# t40_replay_raw.sh - replay of any feed as raw frames: round trip through wstape record for
# every fixture, determinism with faults, pacing (paced at all: no frame ahead of its time;
# how close to it is `make bench`'s), drops, bad input, 200 clients.
. "$(dirname "$0")/lib.sh"
CL="$PY $WSTAPE_TESTS_DIR/peers/replay_client.py"

start_replay() { # journal port args...: its stderr goes to $T/replay.PORT.log
	local j=$1 port=$2; shift 2
	$WSTAPE replay "$j" --listen 127.0.0.1:$port "$@" > /dev/null 2> "$T/replay.$port.log" &
	REPLAY_PID=$!
	BG_PIDS+=($REPLAY_PID)
	wait_port $port
}
# the last --once replay exits 0 by itself once its client has left
replay_done() {
	wait_for 60 "the replay to exit" bash -c "! kill -0 $REPLAY_PID 2>/dev/null"
	wait $REPLAY_PID || fail "replay exited $?: $(tail -20 "$T"/replay.*.log)"
}

# round trip: record a replay at top speed; the payloads are identical, in order
for f in "$WSTAPE_TESTS_DIR"/../fixtures/*.jsonl; do
	name=$(basename "$f" .jsonl)
	$WSTAPE import "$f" -o "$T/$name" --feed raw 2>/dev/null || fail "import $name"
	port=$(free_port)
	start_replay "$T/$name" $port --speed max --once 2>/dev/null
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
$PY - > "$T/syn.jsonl" <<'PY'
import json, base64
for i in range(60):
    r = {"wall_ns": 1795341600000000000 + i * 20000000, "dir": "in", "conn": 1, "kind": "text",
         "payload": json.dumps({"i": i, "pad": "x" * (i * 7)})}
    if i % 6 == 5:
        r["kind"] = "binary"; del r["payload"]; r["payload_b64"] = base64.b64encode(bytes([i, 0, 255, i])).decode()
    print(json.dumps(r))
    if i % 10 == 3:
        print(json.dumps({"wall_ns": r["wall_ns"] + 1, "dir": "out", "conn": 1, "kind": "text", "payload": "{\"ping\":1}"}))
PY
$WSTAPE import "$T/syn.jsonl" -o "$T/syn" 2>/dev/null

# byte-exact text and binary at max speed, and the same bytes in the same order twice,
# with duplicates and skips from a seed
# (each connection has its own generator, seeded from --seed and its number: two runs of
# the server give their first clients the same bytes)
for c in a b; do
	port=$(free_port)
	start_replay "$T/syn" $port --speed max --dup-rate 0.2 --skip-rate 0.2 --seed 7 --once 2>/dev/null
	$CL collect ws://127.0.0.1:$port/ "$T/$c.json" || fail "client $c"
done
$PY - "$T/a.json" "$T/b.json" "$T/syn.jsonl" <<'PY' || fail "determinism with faults"
import json, sys, base64
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
strip = lambda x: [(f["binary"], f["data"]) for f in x["frames"]]
assert strip(a) == strip(b), "two clients got different frames"
assert a["close"] == 1000, a["close"]
src = [json.loads(l) for l in open(sys.argv[3]) if json.loads(l)["dir"] == "in"]
want = [(("payload_b64" in r), r.get("payload_b64") or r["payload"]) for r in src]
got = strip(a)
assert got != want, "faults changed nothing"
# every frame sent is a recorded one, in order (skips remove, duplicates repeat)
i = 0
for g in got:
    while i < len(want) and want[i] != g:
        i += 1
    assert i < len(want), ("unexpected frame", g)
print("frames", len(got), "of", len(want))
PY

# without faults the bytes are exactly the recording's
port=$(free_port)
start_replay "$T/syn" $port --speed max --once 2>/dev/null
$CL collect ws://127.0.0.1:$port/ "$T/c.json" || fail "client c"
$PY - "$T/c.json" "$T/syn.jsonl" <<'PY' || fail "byte-exact raw replay"
import json, sys
a = json.load(open(sys.argv[1]))
src = [json.loads(l) for l in open(sys.argv[2]) if json.loads(l)["dir"] == "in"]
want = [(("payload_b64" in r), r.get("payload_b64") or r["payload"]) for r in src]
assert [(f["binary"], f["data"]) for f in a["frames"]] == want
PY

# pacing, paced at all: 1.18 s of recording at 0.5x, 1x and 10x; frame i is due 20 ms * i /
# speed after the connection (the client's clock starts before it connects), so no frame may
# reach the client before then; a loaded machine only makes frames later, and how much later
# is not asserted here (`make bench` measures the lateness)
for sp in 0.5 1 10; do
	port=$(free_port)
	start_replay "$T/syn" $port --speed $sp --once 2>/dev/null
	$CL collect ws://127.0.0.1:$port/ "$T/p$sp.json" || fail "pacing client"
	$PY - "$T/p$sp.json" $sp <<'PY' || fail "pacing at ${sp}x"
import json, sys
a = json.load(open(sys.argv[1])); sp = float(sys.argv[2])
ts = [f["t"] for f in a["frames"]]
assert len(ts) == 60, len(ts)
early = [(i, round(t, 4)) for i, t in enumerate(ts) if t < 0.9 * 0.020 * i / sp - 0.002]
assert not early, ("frames ahead of their time (index, seconds after connecting)", early[:8])
PY
done

# selections: --from-record N, --to T, --conn N give the frames of the recording (record
# numbers follow its lines) from record N, received before T, of connection N
$PY - > "$T/two.jsonl" <<'PY'
import json
for i in range(40):
    print(json.dumps({"wall_ns": 1795341600000000000 + i * 10000000, "dir": "in", "conn": 1 + i % 2,
                      "kind": "text", "payload": json.dumps({"i": i, "conn": 1 + i % 2})}))
PY
$WSTAPE import "$T/two.jsonl" -o "$T/two" 2>/dev/null
sel_check() { # result.json source.jsonl from_recno to_ns conn
	$PY - "$@" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); lo, to, conn = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
src = [json.loads(l) for l in open(sys.argv[2])]
want = [(("payload_b64" in r), r.get("payload_b64") or r["payload"]) for n, r in enumerate(src, 1)
        if r["dir"] == "in" and n >= lo and r["wall_ns"] < to and conn in (0, r.get("conn", 0))]
got = [(f["binary"], f["data"]) for f in a["frames"]]
assert got == want and a["close"] == 1000, (len(got), len(want), got[:2], want[:2], a["close"])
print("frames", len(got))
PY
}
for sel in "syn --from-record 20|20 9223372036854775807 0" "syn --to 1795341600500|1 1795341600500000000 0" \
	   "two --conn 2|1 9223372036854775807 2" "two --conn 1 --from-record 9 --to 1795341600300|9 1795341600300000000 1"; do
	args=${sel%%|*} want=${sel#*|}
	j=${args%% *}
	port=$(free_port)
	start_replay "$T/$j" $port ${args#* } --speed max --once
	$CL collect ws://127.0.0.1:$port/ "$T/sel.json" || fail "client of $args"
	replay_done
	sel_check "$T/sel.json" "$T/$j.jsonl" $want || fail "selection $args"
done

# --gate: frames after a recorded client message wait for the client's message
port=$(free_port)
start_replay "$T/syn" $port --speed max --gate --once 2>/dev/null
$PY - $port <<'PY' || fail "--gate"
import asyncio, json, sys, websockets
async def main():
    async with websockets.connect("ws://127.0.0.1:%s/" % sys.argv[1]) as ws:
        # frames 0..3, then the recording's client message: nothing more until it is sent
        got = [json.loads(await asyncio.wait_for(ws.recv(), 30))["i"] for _ in range(4)]
        assert got == [0, 1, 2, 3], got
        try:
            extra = await asyncio.wait_for(ws.recv(), 0.5)
            raise AssertionError(("a frame before the client's message", extra[:80]))
        except asyncio.TimeoutError:
            pass
        await ws.send('{"ping":1}')
        more = await asyncio.wait_for(ws.recv(), 30)
        assert json.loads(more)["i"] == 4
asyncio.run(main())
PY

# faults: --drop-after abrupt (no close frame), and with a close code
port=$(free_port)
start_replay "$T/syn" $port --speed max --drop-after 5 --once
$CL collect ws://127.0.0.1:$port/ "$T/d.json"
replay_done
$PY -c "import json,sys; a=json.load(open('$T/d.json')); assert len(a['frames'])==5 and a['close']==1006, (len(a['frames']), a['close'])" || fail "--drop-after abrupt"
port=$(free_port)
start_replay "$T/syn" $port --speed max --drop-after 7 --close-code 4001 --once
$CL collect ws://127.0.0.1:$port/ "$T/e.json"
replay_done
$PY -c "import json,sys; a=json.load(open('$T/e.json')); assert len(a['frames'])==7 and a['close']==4001, (len(a['frames']), a['close'])" || fail "--close-code"
port=$(free_port)
start_replay "$T/syn" $port --speed 1 --drop-every 0.5s --once
$CL collect ws://127.0.0.1:$port/ "$T/f.json"
replay_done
$PY -c "import json,sys; a=json.load(open('$T/f.json')); assert 0 < len(a['frames']) < 60 and a['close']==1006, (len(a['frames']), a['close'])" || fail "--drop-every"
# --drop-every on an idle connection (held by --gate after 4 frames) comes on time, abrupt
# or with a close code, not at a WRITEABLE that never comes
for cc in 1006 4002; do
	port=$(free_port)
	start_replay "$T/syn" $port --speed max --gate --drop-every 0.4s $([ $cc = 1006 ] || echo --close-code $cc) --once
	$PY - $port $cc <<'PY' || fail "--drop-every on an idle connection ($cc)"
import asyncio, sys, time, websockets
async def main():
    n, t0 = 0, time.monotonic()
    async with websockets.connect("ws://127.0.0.1:%s/" % sys.argv[1]) as ws:
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 30)   # (a drop that never comes times out)
                n += 1
        except websockets.ConnectionClosed:
            pass
        t = time.monotonic() - t0
    assert n == 4, n
    assert ws.close_code == int(sys.argv[2]), ws.close_code
    assert t >= 0.4, t   # not before its time
asyncio.run(main())
PY
	replay_done
done
port=$(free_port)
# (a stall of 2 s, seen as a gap of at least 1 s: a client that a busy machine starves reads
# the frames before it late, which shortens the gap it sees, but not by a second)
start_replay "$T/syn" $port --speed max --stall 2s --seed 3 --once
$CL collect ws://127.0.0.1:$port/ "$T/g.json"
replay_done
$PY -c "
import json
a = json.load(open('$T/g.json')); ts = [f['t'] for f in a['frames']]
gaps = [b - a for a, b in zip(ts, ts[1:])]
assert len(ts) == 60 and max(gaps) >= 1.0, (len(ts), max(gaps))" || fail "--stall"

# a client that does not read: what is due queues up to --max-buffer, then it is let go
$PY - > "$T/big.jsonl" <<'PY'
import json
for i in range(3000):
    print(json.dumps({"wall_ns": 1795341600000000000 + i * 1000000, "dir": "in", "kind": "text",
                      "payload": json.dumps({"i": i, "pad": "y" * 8000})}))
PY
$WSTAPE import "$T/big.jsonl" -o "$T/big" 2>/dev/null
port=$(free_port)
start_replay "$T/big" $port --speed 1 --max-buffer 2m --once
$PY - $port <<'PY' || fail "a client that does not read was not let go"
import socket, sys, time
s = socket.socket()
# a fixed, small receive buffer set before connecting (loopback autotunes up to 32 MB)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
time.sleep(4)   # read nothing while 24 MB fall due
s.settimeout(5)
n = 0
try:
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        n += len(b)
except (ConnectionResetError, socket.timeout):
    pass
assert n < 20_000_000, n   # it did not get everything: it was let go
PY
replay_done
grep -q "does not read: .* above --max-buffer 2097152: disconnecting" "$T/replay.$port.log" || fail "no reason logged: $(cat "$T/replay.$port.log")"

# --loop: frames of the recording in order, over and over (index i of each frame, text or binary)
loop_check() { # result.json first_min first_max min_frames
	$PY - "$@" <<'PY'
import json, sys, base64
a = json.load(open(sys.argv[1])); lo, hi, n = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
idx = [base64.b64decode(f["data"])[0] if f["binary"] else json.loads(f["data"])["i"] for f in a["frames"]]
assert len(idx) >= n, ("frames", len(idx), n)
assert a["close"] is None, ("the server closed", a["close"])
assert lo <= idx[0] <= hi, ("first frame", idx[0])
assert all(b == (x + 1) % 60 for x, b in zip(idx, idx[1:])), idx
assert 0 in idx[1:], "no second pass"
print("frames", len(idx), "first", idx[0])
PY
}
# session mode: every client from the start, again and again (a pass is 0.59 s at 2x)
port=$(free_port)
start_replay "$T/syn" $port --speed 2 --loop
$CL take ws://127.0.0.1:$port/ "$T/loop.json" 4 || fail "--loop client"
loop_check "$T/loop.json" 0 0 120 || fail "--loop in session mode"
# live mode: a client that joins after the first pass (1.18 s) joins the current pass at
# its edge, not at the start or the end of the recording: a first client follows the shared
# timeline, the second joins once the first is 20 frames into the second pass, and its first
# frame is the one the first client is getting then (both read in one event loop: within a
# few frames of each other, however loaded the machine)
port=$(free_port)
start_replay "$T/syn" $port --mode live --loop
$PY - ws://127.0.0.1:$port/ "$T/liveloop.json" <<'PY' || fail "--mode live --loop: a client after the first pass"
import asyncio, json, sys, base64, websockets
idx = lambda m: m[0] if isinstance(m, bytes) else json.loads(m)["i"]
async def main():
    url = sys.argv[1]
    state = {"pass": 0, "i": None}
    second = asyncio.Event()
    async def follow(a):
        async for m in a:
            i = idx(m)
            if state["i"] is None or i < state["i"]:
                state["pass"] += 1
            state["i"] = i
            if state["pass"] == 2 and i >= 20:
                second.set()
    async with websockets.connect(url) as a:
        task = asyncio.create_task(follow(a))
        await asyncio.wait_for(second.wait(), 30)
        async with websockets.connect(url) as b:
            m = await asyncio.wait_for(b.recv(), 30)
            first, at = idx(m), state["i"]
            frames = [m]
            while len(frames) < 70:
                frames.append(await asyncio.wait_for(b.recv(), 30))
        task.cancel()
    print("joined at frame", first, "while the first client was at", at)
    assert min((first - at) % 60, (at - first) % 60) <= 6, ("joined at", first, "the timeline at", at)
    json.dump({"frames": [{"t": 0, "binary": isinstance(m, bytes),
                           "data": base64.b64encode(m).decode() if isinstance(m, bytes) else m} for m in frames],
               "close": None}, open(sys.argv[2], "w"))
asyncio.run(main())
PY
loop_check "$T/liveloop.json" 0 59 70 || fail "--mode live --loop: a client after the first pass"

# 200 clients at once, each gets the whole recording
port=$(free_port)
start_replay "$T/syn" $port --speed max 2>/dev/null
$CL many ws://127.0.0.1:$port/ 200 > "$T/many.json" || fail "200 clients"
$PY -c "import json; r=json.load(open('$T/many.json')); assert len(r)==200 and all(x==60 for x in r), r[:5]" || fail "200 clients: $(head -c 300 "$T/many.json")"

# --listen takes a host name, and port 0 for any free port: the URL printed has the port
# the kernel chose, and clients reach it
$WSTAPE replay "$T/syn" --listen localhost:0 --speed max --once > "$T/url0" 2> "$T/replay.0.log" &
REPLAY_PID=$!
BG_PIDS+=($REPLAY_PID)
wait_for 60 "the URL printed" test -s "$T/url0"
url=$(cat "$T/url0")
[[ $url =~ ^ws://localhost:[1-9][0-9]*/$ ]] || fail "--listen localhost:0 printed '$url'"
grep -q "on $url\$" "$T/replay.0.log" || fail "the banner does not show $url: $(cat "$T/replay.0.log")"
$CL collect "$url" "$T/l0.json" || fail "client of --listen localhost:0"
replay_done
$PY -c "import json; a=json.load(open('$T/l0.json')); assert len(a['frames'])==60 and a['close']==1000, (len(a['frames']), a['close'])" || fail "--listen localhost:0"

# bad input: a journal that does not open, a port in use, an empty range
port=$(free_port)
expect_exit 2 $WSTAPE replay "$T/nope" --listen 127.0.0.1:$port 2> "$T/err"
grep -q "cannot open journal '$T/nope'" "$T/err" || fail "missing journal message: $(cat "$T/err")"
port=$(free_port)
start_replay "$T/syn" $port --speed max 2>/dev/null
expect_exit 5 $WSTAPE replay "$T/syn" --listen 127.0.0.1:$port 2> "$T/err"
grep -q "cannot listen on 127.0.0.1:$port: Address already in use" "$T/err" || fail "port in use message: $(cat "$T/err")"
expect_exit 2 $WSTAPE replay "$T/syn" --from 2030-01-01T00:00:00Z --listen 127.0.0.1:$(free_port) 2> "$T/err"
grep -q "no server frames" "$T/err" || fail "empty range message: $(cat "$T/err")"
expect_exit 2 $WSTAPE replay "$T/syn" --speed fast 2>/dev/null
expect_exit 2 $WSTAPE replay "$T/syn" --listen nowhere 2>/dev/null
# no replay of this script crashed or tripped a sanitizer
! grep -l "AddressSanitizer\|runtime error" "$T"/replay.*.log || fail "replay failed: $(grep -h -A5 "AddressSanitizer\|runtime error" "$T"/replay.*.log | head -20)"
echo "t40 ok"
