#!/usr/bin/env bash
# t43_replay_large_frames.sh - large frames among small ones: a python3-websockets server
# sends text, binary, fragmented, empty and 2 MiB messages (more than 16 MiB in all, over
# about 2 s); wstape records it, and the replay at --speed max, 1x and 10x reaches three
# clients (python3-websockets, Node ws, wstape record) with every payload byte-identical
# and in order, and the recording of the replay equal to the journal; with --deflate too.
# A client that stops reading for a while gets everything within --max-buffer; one that
# never reads is let go at --max-buffer.
. "$(dirname "$0")/lib.sh"

# the original server: the messages, in a seeded order, then it waits for the recorder to go.
# It writes what it sent, "kind sha256 length" per message (fragments joined), to LIST.
cat > "$T/origin.py" <<'PY'
import asyncio, hashlib, os, random, sys
import websockets

port, listing = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(43)

def text(n):
    # valid UTF-8 of exactly n bytes, multibyte characters included
    unit = '{"px":"1.25","book":"é€x"}'.encode()
    s = (unit * (n // len(unit) + 1))[:n].decode(errors="ignore")
    return s + "x" * (n - len(s.encode()))

def binary(n):
    return rnd.randbytes(n)

msgs = []   # (payload or list of fragments)
for i in range(9):   # 2 MiB: 5 text, 4 binary
    msgs.append(text(2 << 20) if i % 2 == 0 else binary(2 << 20))
for n in (200_000, 700_000, 1_500_000):
    msgs += [text(n), binary(n)]
for n in (1, 125, 126, 127, 65535, 65536, 65537):
    msgs += [text(n), binary(n)]
msgs += ["", b"", "", b""]
msgs.append([text(300), text(2), text(70000)])                    # fragmented text
msgs.append([text(400_000), text(400_000), text(300_000)])        # a large one, in fragments
msgs.append([binary(1000), b"", binary(90000)])    # fragmented binary
msgs.append(["", text(10)])
for i in range(300):
    n = rnd.choice((20, 80, 200, 500, 1200, 4000))
    msgs.append(text(n) if i % 8 else binary(n))
head, rest = msgs[:1], msgs[1:]
rnd.shuffle(rest)
msgs = head + rest   # a 2 MiB frame first, the others anywhere

with open(listing, "w") as f:
    for m in msgs:
        whole = ("".join(m).encode() if isinstance(m[0], str) else b"".join(m)) if isinstance(m, list) \
            else (m.encode() if isinstance(m, str) else m)
        kind = "text" if isinstance(m if not isinstance(m, list) else m[0], str) else "binary"
        f.write("%s %s %d\n" % (kind, hashlib.sha256(whole).hexdigest(), len(whole)))

async def handler(ws, path=None):
    for m in msgs:
        await ws.send(iter(m) if isinstance(m, list) else m)
        await asyncio.sleep(2.0 / len(msgs))
    await ws.wait_closed()

async def main():
    async with websockets.serve(handler, "127.0.0.1", port, max_size=None, compression=None,
                                ping_interval=None):
        await asyncio.Future()

asyncio.run(main())
PY

# a python3-websockets client: "kind sha256 length" per message, then "close CODE".
# PAUSE: seconds before it starts reading; DEFLATE: offer permessage-deflate.
cat > "$T/pyclient.py" <<'PY'
import asyncio, hashlib, sys
import websockets

url, out = sys.argv[1], sys.argv[2]
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0
deflate = len(sys.argv) > 4 and sys.argv[4] == "deflate"

async def main():
    lines = []
    async with websockets.connect(url, max_size=None, compression="deflate" if deflate else None,
                                  max_queue=4, ping_interval=None) as ws:
        if deflate:
            assert ws.extensions, "no permessage-deflate negotiated"
        await asyncio.sleep(pause)
        try:
            async for m in ws:
                b = m.encode() if isinstance(m, str) else m
                lines.append("%s %s %d" % ("text" if isinstance(m, str) else "binary",
                                           hashlib.sha256(b).hexdigest(), len(b)))
        except websockets.ConnectionClosed:
            pass
        lines.append("close %s" % ws.close_code)
    open(out, "w").write("\n".join(lines) + "\n")

asyncio.run(main())
PY

# a Node ws client, the same output
cat > "$T/nodeclient.mjs" <<JS
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire("$WSTAPE_TESTS_DIR/package.json");
const WebSocket = require("ws");
const [url, out] = process.argv.slice(2);
const lines = [];
const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
ws.on("message", (data, isBinary) => {
	lines.push((isBinary ? "binary " : "text ") + createHash("sha256").update(data).digest("hex") + " " + data.length);
});
ws.on("close", (code) => {
	lines.push("close " + code);
	writeFileSync(out, lines.join("\n") + "\n");
});
ws.on("error", (e) => { console.error(e.message); process.exit(1); });
JS

# "kind sha256 length" of every data frame the server sent in a journal
journal_list() {
	$WSTAPE cat "$1" --direction in | $PY -c '
import base64, hashlib, json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["kind"] in ("text", "binary"):
        b = r["payload"].encode() if "payload" in r else base64.b64decode(r["payload_b64"])
        print("%s %s %d" % (r["kind"], hashlib.sha256(b).hexdigest(), len(b)))'
}
# the data frames of a journal as wstape cat shows them: kind and payload
data_frames() {
	$WSTAPE cat "$1" --direction in | jq -c 'select(.kind == "text" or .kind == "binary") | [.kind, .payload, .payload_b64]'
}

start_replay() { # port args...: its stderr goes to $T/replay.PORT.log
	local port=$1; shift
	$WSTAPE replay "$T/j" --listen 127.0.0.1:$port --once "$@" > /dev/null 2> "$T/replay.$port.log" &
	REPLAY_PID=$!
	BG_PIDS+=($REPLAY_PID)
	wait_port $port
}
replay_done() { # the --once replay exits by itself once its client has left
	for _ in $(seq 300); do kill -0 $REPLAY_PID 2>/dev/null || break; sleep 0.1; done
	wait $REPLAY_PID || fail "replay exited $?: $(cat "$T"/replay.*.log | tail -n 5)"
}
same() { # what a client got, against what was sent
	cmp -s "$1" "$T/want" || fail "$2: $(diff "$1" "$T/want" | head -4) ($(grep -vc close "$1") of $N messages)"
}

# record the original server
port=$(free_port)
bg $PY "$T/origin.py" $port "$T/sent"
wait_port $port
N=$(wc -l < "$T/sent")
bytes=$(awk '{ s += $3 } END { print s }' "$T/sent")
[ "$bytes" -gt $((16 << 20)) ] || fail "only $bytes bytes to send"
$WSTAPE record ws://127.0.0.1:$port/ -o "$T/j" --max-records $((N + 1)) --duration 300s --retries 2 --quiet ||
	fail "recording the original server"
journal_list "$T/j" > "$T/journal.list"
cmp -s "$T/journal.list" "$T/sent" || fail "the recording differs from what was sent: $(diff "$T/journal.list" "$T/sent" | head -4)"
{ cat "$T/sent"; echo "close 1000"; } > "$T/want"
data_frames "$T/j" > "$T/j.frames"

for sp in max 1 10; do
	port=$(free_port)
	start_replay $port --speed $sp
	$PY "$T/pyclient.py" ws://127.0.0.1:$port/ "$T/py.$sp" || fail "python client at $sp"
	replay_done
	same "$T/py.$sp" "python3-websockets client at --speed $sp"

	port=$(free_port)
	start_replay $port --speed $sp
	node "$T/nodeclient.mjs" ws://127.0.0.1:$port/ "$T/node.$sp" || fail "node client at $sp"
	replay_done
	same "$T/node.$sp" "Node ws client at --speed $sp"

	port=$(free_port)
	start_replay $port --speed $sp
	$WSTAPE record ws://127.0.0.1:$port/ -o "$T/r.$sp" --max-records $((N + 1)) --duration 300s --retries 2 --quiet 2>/dev/null
	replay_done
	data_frames "$T/r.$sp" > "$T/r.$sp.frames"
	cmp -s "$T/r.$sp.frames" "$T/j.frames" ||
		fail "wstape record of the replay at --speed $sp differs from the journal ($(wc -l < "$T/r.$sp.frames") of $N frames)"
	grep -q "left after .*: $N frames, $bytes bytes" "$T/replay.$port.log" ||
		fail "the replay's count at --speed $sp: $(grep 'left after' "$T/replay.$port.log")"
done

# --deflate: lws frames and compresses, a 2 MiB frame included
port=$(free_port)
start_replay $port --speed max --deflate
$PY "$T/pyclient.py" ws://127.0.0.1:$port/ "$T/py.deflate" 0 deflate || fail "python client with --deflate"
replay_done
same "$T/py.deflate" "python3-websockets client with permessage-deflate"
port=$(free_port)
start_replay $port --speed 10 --deflate
$WSTAPE record ws://127.0.0.1:$port/ -o "$T/r.deflate" --max-records $((N + 1)) --duration 300s --retries 2 --quiet 2>/dev/null
replay_done
data_frames "$T/r.deflate" > "$T/r.deflate.frames"
cmp -s "$T/r.deflate.frames" "$T/j.frames" || fail "wstape record of the --deflate replay differs from the journal"

# a client that does not read for 1.5 s (the 2 s recording at 10x is due meanwhile), then
# reads: the frames wait for it, within --max-buffer (64 MiB)
port=$(free_port)
start_replay $port --speed 10
$PY "$T/pyclient.py" ws://127.0.0.1:$port/ "$T/py.slow" 1.5 || fail "slow client"
replay_done
same "$T/py.slow" "a client that paused reading"
! grep -q "max-buffer" "$T/replay.$port.log" || fail "the paused client was let go: $(grep max-buffer "$T/replay.$port.log")"

# a client that never reads, with a small receive buffer: let go at --max-buffer 4m
port=$(free_port)
start_replay $port --speed 10 --max-buffer 4m
$PY - $port <<'PY' || fail "the client that does not read was not let go"
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
time.sleep(1)   # not reading
# then the connection is closed: reading comes to its end
s.settimeout(30)
n = 0
while True:
    try:
        b = s.recv(1 << 20)
    except ConnectionResetError:
        break
    if not b:
        break
    n += len(b)
assert n < 16 << 20, n
PY
replay_done
grep -q "does not read: .* above --max-buffer 4194304: disconnecting" "$T/replay.$port.log" ||
	fail "no --max-buffer line: $(tail -3 "$T/replay.$port.log")"
echo "ok: $N messages, $bytes bytes"
