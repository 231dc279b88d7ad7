#!/usr/bin/env bash
# t47_replay_hostile_clients.sh - clients that try to make `wstape replay` grow without bound.
# A client that declares a 4 GiB frame and streams it, or sends a message in fragments that
# add up past the limit, is closed with 1009 after a few MiB, on every feed, and the server's
# RSS stays where it was; a message just under the limit is answered; --max-client-message
# moves the limit. Hundreds of clients that never read (raw sockets, one asyncio process)
# are let go by --max-buffer-total (the ones with the most due first) and --max-buffer,
# RSS stays under a stated bound, and a client that reads meanwhile gets every frame.
# The RSS bounds are not checked under ASan (its quarantine keeps freed memory).
. "$(dirname "$0")/lib.sh"
ASAN=0
[[ ${BUILD:-} == *asan* ]] && ASAN=1

$WSTAPE import "$WSTAPE_TESTS_DIR/../fixtures/hydromancer.jsonl" -o "$T/hydromancer" --feed hydromancer 2>/dev/null || fail "import hydromancer"
$WSTAPE import "$WSTAPE_TESTS_DIR/../fixtures/lasersell.jsonl" -o "$T/lasersell" --feed lasersell 2>/dev/null || fail "import lasersell"
$WSTAPE import "$WSTAPE_TESTS_DIR/../fixtures/raw.jsonl" -o "$T/raw" 2>/dev/null || fail "import raw"
# 20 s of 8 KB frames, 100 a second, each numbered; small blocks, so that the journal reader
# of each client holds little
$PY - > "$T/paced.jsonl" <<'PY'
import json
base = 1795341600000000000
for i in range(2000):
    print(json.dumps({"wall_ns": base + i * 10_000_000, "dir": "in", "conn": 1, "kind": "text",
                      "payload": ("%06d " % i) + "x" * 8185}))
PY
$WSTAPE import "$T/paced.jsonl" -o "$T/paced" --block-size 64k 2>/dev/null || fail "import paced"

# hostile.py PORT PID MODE ARGS: a raw-socket client (masking done right, as the server may
# check nothing else). Prints "sent N", "rss_growth KB" (the server's VmRSS, sampled while
# sending, over what it was before), then what comes of it: "close CODE REASON", "eof",
# "reset", with msg the answer "text ...", and "open" when none of these came within WAIT
# seconds (env, default 60). Frames the feed sends anyway (recorded frames, hello_ok) are
# skipped.
#   big TOTAL     one binary frame that declares 4 GiB, then up to TOTAL bytes of it
#   frag N SIZE   a text message in N fragments of SIZE bytes
#   msg SIZE      a Hydromancer subscribe to allFills padded to SIZE bytes
cat > "$T/hostile.py" <<'PY'
import json, os, socket, struct, sys, threading, time
port, pid, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def rss():
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
    return 0

rss0 = rss_max = rss()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        sys.exit("no handshake")
    buf += d
assert buf.startswith(b"HTTP/1.1 101"), buf[:40]
buf = buf.split(b"\r\n\r\n", 1)[1]
key = b"\x11\x22\x33\x44"

def header(op, n, fin=True):
    b0 = (0x80 if fin else 0) | op
    if n < 126:
        return bytes([b0, 0x80 | n]) + key
    if n < 65536:
        return bytes([b0, 0x80 | 126]) + struct.pack(">H", n) + key
    return bytes([b0, 0x80 | 127]) + struct.pack(">Q", n) + key

def masked(p, off=0):
    k = (key * (len(p) // 4 + 2))[off % 4:][:len(p)]
    return (int.from_bytes(p, "big") ^ int.from_bytes(k, "big")).to_bytes(len(p), "big")

sent = 0
def send(b):
    global sent, rss_max
    s.sendall(b)
    sent += len(b)
    rss_max = max(rss_max, rss())

def sender():
    # sends while the main thread reads, as a client does
    try:
        if mode == "big":
            total = int(sys.argv[4])
            send(header(2, 4 << 30))
            chunk = os.urandom(1 << 20)   # random bytes: masked or not, they are random
            while sent < total:
                send(chunk)
        elif mode == "frag":
            n, size = int(sys.argv[4]), int(sys.argv[5])
            for i in range(n):
                send(header(1 if i == 0 else 0, size, fin=(i == n - 1)) + masked(b"x" * size))
        elif mode == "msg":
            size = int(sys.argv[4])
            m = json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}, "pad": ""})
            m = (m[:-2] + "x" * (size - len(m)) + m[-2:]).encode()
            assert len(m) == size
            send(header(1, len(m)) + masked(m))
    except OSError:
        pass   # the server has closed (or the reader has): what it said is read there

t = threading.Thread(target=sender, daemon=True)
t.start()
deadline = time.monotonic() + float(os.environ.get("WAIT", "60"))

def need(b):
    if len(b) < 2:
        return 1 << 62
    n = b[1] & 127
    if n < 126:
        return 2 + n
    if n == 126:
        return 4 + struct.unpack(">H", b[2:4])[0] if len(b) >= 4 else 1 << 62
    return 10 + struct.unpack(">Q", b[2:10])[0] if len(b) >= 10 else 1 << 62

def result():
    global buf
    try:
        while True:
            while len(buf) < need(buf):
                if time.monotonic() >= deadline:
                    return "open"
                s.settimeout(max(0.01, deadline - time.monotonic()))
                d = s.recv(65536)
                if not d:
                    return "eof"
                buf += d
            n = need(buf)
            off = 2 if (buf[1] & 127) < 126 else 4 if (buf[1] & 127) == 126 else 10
            op, p, buf = buf[0] & 15, buf[off:n], buf[n:]
            if op == 8:
                return "close %d %s" % (struct.unpack(">H", p[:2])[0] if len(p) >= 2 else 0,
                                        p[2:].decode(errors="replace"))
            if mode == "msg" and op == 1 and (b"subscriptionUpdate" in p or b'"error"' in p):
                return "text " + p[:120].decode(errors="replace")
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "open"

r = result()
if r != "open":
    try:
        s.shutdown(socket.SHUT_RDWR)   # the sender stops, if the server has not stopped it
    except OSError:
        pass
    t.join(60)
print("sent", sent)
print("rss_growth", rss_max - rss0)
print(r)
PY

# start_replay NAME JOURNAL ARGS...: in the background, log in $T/NAME.log; sets PORT, PID
start_replay() {
	local name=$1 journal=$2; shift 2
	PORT=$(free_port)
	$WSTAPE replay "$journal" --listen 127.0.0.1:$PORT "$@" > /dev/null 2> "$T/$name.log" &
	PID=$!
	BG_PIDS+=($PID)
	wait_port $PORT
}
hostile() { $PY "$T/hostile.py" $PORT $PID "$@" > "$T/out" 2>&1 || fail "hostile.py $*: $(cat "$T/out")"; }
field() { awk -v k="$1" '$1 == k { print $2 }' "$T/out"; }

# one 4 GiB frame, and a message whose fragments add up past 1 MiB, on every feed
for feed in raw hydromancer lasersell; do
	start_replay $feed "$T/$feed" --loop
	hostile big $((256 << 20))
	grep -q "^close 1009 message above 1048576 bytes" "$T/out" || fail "$feed: 4 GiB frame: no close 1009: $(cat "$T/out")"
	sent=$(field sent)
	[ "$sent" -lt $((64 << 20)) ] || fail "$feed: the server read $sent bytes of the 4 GiB frame before closing"
	growth=$(field rss_growth)
	[ $ASAN = 1 ] || [ "$growth" -lt $((64 << 10)) ] || fail "$feed: the server grew by $growth KB on a 4 GiB frame"
	grep -q "client 1 (127.0.0.1) sends a message of 4294967296 bytes or more, above --max-client-message 1048576: closing with 1009" \
		"$T/$feed.log" || fail "$feed: no log line naming the client: $(cat "$T/$feed.log")"
	hostile frag 40 30000
	grep -q "^close 1009 " "$T/out" || fail "$feed: 40 fragments of 30,000 bytes: no close 1009: $(cat "$T/out")"
	grep -q "client 2 (127.0.0.1) sends a message of 1050000 bytes or more" "$T/$feed.log" ||
		fail "$feed: fragments: no log line: $(cat "$T/$feed.log")"
	# a small fragmented message is taken
	WAIT=3 hostile frag 3 1000
	grep -q "^open" "$T/out" || fail "$feed: a small fragmented message: $(cat "$T/out")"
	kill $PID
	echo "ok: $feed: 4 GiB frame closed with 1009 after $sent bytes (RSS +$growth KB); fragments too"
done

# a message just under the limit is answered; --max-client-message moves the limit
start_replay hm "$T/hydromancer" --loop
hostile msg 900000
grep -q '^text {"type":"subscriptionUpdate","subscribed":\["allFills"\]' "$T/out" || fail "a 900 KB subscribe was not answered: $(cat "$T/out")"
hostile msg $((1 << 20))
grep -q '"subscribed":\["allFills"\]' "$T/out" || fail "a subscribe of exactly 1 MiB was not answered: $(cat "$T/out")"
hostile msg $(((1 << 20) + 1))
grep -q "^close 1009" "$T/out" || fail "a subscribe of 1 MiB + 1 was not refused: $(cat "$T/out")"
kill $PID
start_replay hm2 "$T/hydromancer" --loop --max-client-message 2m
hostile msg 1500000
grep -q '"subscribed":\["allFills"\]' "$T/out" || fail "--max-client-message 2m: a 1.5 MB subscribe was not answered: $(cat "$T/out")"
hostile frag 80 30000
grep -q "^close 1009 message above 2097152 bytes" "$T/out" || fail "--max-client-message 2m: 2.4 MB in fragments: $(cat "$T/out")"
kill $PID
start_replay hm3 "$T/hydromancer" --loop --max-client-message 100k
hostile msg 200000
grep -q "^close 1009 message above 102400 bytes" "$T/out" || fail "--max-client-message 100k: a 200 KB subscribe: $(cat "$T/out")"
kill $PID
expect_exit 2 $WSTAPE replay "$T/raw" --max-client-message 0 2>/dev/null
expect_exit 2 $WSTAPE replay "$T/raw" --max-buffer-total lots 2>/dev/null
echo "ok: 900 KB and 1 MiB messages answered, 1 MiB + 1 refused; --max-client-message 2m and 100k"

# never.py PORT N SECONDS: N raw-socket clients that take the handshake's answer and then
# never read; waits until the server has reset them all (TCP state leaves ESTABLISHED) or
# SECONDS pass, and prints "closed K of N"
cat > "$T/never.py" <<'PY'
import asyncio, socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
REQ = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")

async def one(loop):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    await loop.sock_connect(s, ("127.0.0.1", port))
    await loop.sock_sendall(s, REQ)
    got = b""
    while b"\r\n\r\n" not in got:   # the 101, byte by byte; the frames after it stay unread
        try:
            d = await loop.sock_recv(s, 1)
        except ConnectionResetError:
            break   # let go already (a slow start on a busy machine): it counts as closed
        if not d:
            break
        got += d
    return s

def closed(socks):
    return sum(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != 1 for s in socks)

async def main():
    loop = asyncio.get_running_loop()
    socks = []
    for i in range(0, n, 50):
        socks += await asyncio.gather(*(one(loop) for _ in range(min(50, n - i))))
    t0 = time.time()
    while time.time() - t0 < secs and closed(socks) < n:
        await asyncio.sleep(0.5)
    print("closed", closed(socks), "of", n, flush=True)

asyncio.run(main())
PY

# reader.py PORT: reads every frame; checks they are the 2,000 recorded, in order, then close
# 1000. A raw-socket reader (RFC 6455 framing, server frames unmasked) that reads in large
# chunks, so that it keeps up with 100 frames a second on a busy machine, where a client
# that falls behind is, rightly, the first one --max-buffer-total lets go.
cat > "$T/reader.py" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=120)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(65536)
    assert d, "closed before the upgrade"
    buf += d
head, buf = buf.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 101"), head[:40]
got, code, off = 0, None, 0
while code is None:
    while True:   # every whole frame in buf
        if len(buf) - off < 2:
            break
        b0, b1 = buf[off], buf[off + 1]
        n, h = b1 & 0x7F, 2
        if n == 126:
            if len(buf) - off < 4:
                break
            n, h = struct.unpack_from(">H", buf, off + 2)[0], 4
        elif n == 127:
            if len(buf) - off < 10:
                break
            n, h = struct.unpack_from(">Q", buf, off + 2)[0], 10
        if len(buf) - off < h + n:
            break
        payload = buf[off + h:off + h + n]
        off += h + n
        op = b0 & 0x0F
        if op == 8:
            code = struct.unpack(">H", payload[:2])[0] if n >= 2 else 1005
            break
        assert op == 1 and b0 & 0x80, ("frame", got, b0)
        assert n == 8192 and payload[:7] == b"%06d " % got, ("frame", got, payload[:10])
        got += 1
    if code is not None:
        break
    buf, off = buf[off:], 0
    d = s.recv(1 << 20)
    if not d:
        break
    buf += d
assert got == 2000 and code == 1000, (got, code)
print("reader: 2000 frames, close 1000")
PY

# rss_watch PID FILE: VmRSS of PID in KB, one line every 0.2 s, while it runs
rss_watch() {
	while kill -0 "$1" 2>/dev/null; do
		awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
		sleep 0.2
	done > "$2"
}
max_of() { sort -n "$1" | tail -1; }

# 300 clients that never read, --max-buffer 8m, --max-buffer-total 32m; one client reads.
# Bound: 32 MiB due in all, plus per client what is not counted in it: the write that lws
# holds while the client is let go (up to 256 KiB), its read-ahead frame, its journal block
# and lws's receive buffer (64 KiB each): 512 KiB per client, 150 MiB for 300.
N=300
start_replay many "$T/paced" --max-buffer 8m --max-buffer-total 32m
rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$PID/status)
rss_watch $PID "$T/rss" & BG_PIDS+=($!)
$PY "$T/reader.py" $PORT > "$T/reader.out" 2>&1 & reader=$!
$PY "$T/never.py" $PORT $N 60 > "$T/never.out" 2>&1 || fail "never.py: $(cat "$T/never.out")"
wait $reader || fail "the client that reads did not get every frame: $(cat "$T/reader.out"; tail -3 "$T/many.log")"
kill $PID
grep -q "^closed $N of $N" "$T/never.out" || fail "clients that never read were not all let go: $(cat "$T/never.out")"
total=$(grep -c "above --max-buffer-total 33554432: disconnecting" "$T/many.log")
per=$(grep -c "does not read: .* above --max-buffer 8388608: disconnecting" "$T/many.log")
[ "$total" -ge 1 ] || fail "no client was let go by --max-buffer-total: $(head -3 "$T/many.log")"
[ $((total + per)) -eq $N ] || fail "$total + $per clients let go, not $N: $(grep -v 'left after' "$T/many.log" | tail -3)"
grep -q "has the most due and unsent, [0-9]* bytes, of [0-9]* in all above" "$T/many.log" || fail "the total's log line"
peak=$(max_of "$T/rss")
[ $ASAN = 1 ] || [ $((peak - rss0)) -lt $(((32 << 10) + N * 512)) ] ||
	fail "RSS grew by $((peak - rss0)) KB with $N clients that never read (bound $(((32 << 10) + N * 512)) KB)"
echo "ok: $N clients that never read let go ($total by --max-buffer-total, $per by --max-buffer), RSS +$((peak - rss0)) KB at most, the reader got every frame"

# --max-buffer alone: 40 clients that never read, --max-buffer 1m: each is let go by it
N=40
start_replay per "$T/paced" --max-buffer 1m --loop
rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$PID/status)
rss_watch $PID "$T/rss2" & BG_PIDS+=($!)
$PY "$T/never.py" $PORT $N 60 > "$T/never.out" 2>&1 || fail "never.py: $(cat "$T/never.out")"
grep -q "^closed $N of $N" "$T/never.out" || fail "--max-buffer 1m: clients that never read were not let go: $(cat "$T/never.out")"
wait_for 30 "the servers's log lines" test "$(grep -c 'does not read: .* above --max-buffer 1048576: disconnecting' "$T/per.log")" -eq $N
peak=$(max_of "$T/rss2")
kill $PID
[ $ASAN = 1 ] || [ $((peak - rss0)) -lt $((N * (1024 + 512))) ] ||
	fail "--max-buffer 1m: RSS grew by $((peak - rss0)) KB with $N clients (bound $((N * (1024 + 512))) KB)"
echo "ok: $N clients let go at --max-buffer 1m, RSS +$((peak - rss0)) KB at most"

# A client that does not read is let go by --max-buffer while a frame declaring 4 GiB follows
# in the same read: what it counted in the total leaves it once (the total does not wrap, which
# would let every later client go), and what it still sends is not heard. Its first
# subscribe, to an unknown type of 400,000 characters, is answered with that type (400 KB
# that its 4 KB receive buffer cannot take: lws holds the rest); once part of it has come, a
# second of 700,000 puts it above --max-buffer 1m, and the 4 GiB frame comes right after it.
cat > "$T/letgo.py" <<'PY'
import fcntl, json, socket, struct, sys, termios, time
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)   # the server's send buffer stays small
s.connect(("127.0.0.1", port))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got:   # the 101, byte by byte; what follows stays unread
    d = s.recv(1)
    if not d:
        sys.exit("no handshake")
    got += d
key = b"\x11\x22\x33\x44"
def frame(op, p, declared=None):
    n = len(p) if declared is None else declared
    h = bytes([0x80 | op, 0x80 | 127]) + struct.pack(">Q", n) + key
    k = (key * (len(p) // 4 + 1))[:len(p)]
    return h + (int.from_bytes(p, "big") ^ int.from_bytes(k, "big")).to_bytes(len(p), "big")
def sub(n):
    return json.dumps({"method": "subscribe", "subscription": {"type": "q" * n}}).encode()
s.sendall(frame(1, sub(400000)))
deadline = time.monotonic() + 60
while True:   # part of the answer has come: lws holds the rest
    b = bytearray(4)
    fcntl.ioctl(s, termios.FIONREAD, b)
    if struct.unpack("i", b)[0] > 0:
        break
    if time.monotonic() > deadline:
        sys.exit("no answer")
    time.sleep(0.05)
try:
    s.sendall(frame(1, sub(700000)) + frame(2, b"z" * 4096, declared=4 << 30))
except OSError:
    pass
deadline = time.monotonic() + 60
while s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] == 1:   # ESTABLISHED
    if time.monotonic() > deadline:
        sys.exit("not let go")
    time.sleep(0.1)
print("let go")
PY
start_replay letgo "$T/hydromancer" --loop --max-buffer 1m --max-buffer-total 4m
for i in 1 2 3; do
	$PY "$T/letgo.py" $PORT > "$T/out" 2>&1 || fail "letgo.py: $(cat "$T/out")"
	hostile msg 1000
	grep -q '^text {"type":"subscriptionUpdate","subscribed":\["allFills"\]' "$T/out" ||
		fail "after a client let go with a 4 GiB frame, a new client was not served: $(cat "$T/out"; grep -v 'left after' "$T/letgo.log" | tail -4)"
done
kill $PID
grep -q "does not read its answers: .* above --max-buffer 1048576: disconnecting" "$T/letgo.log" ||
	fail "the client was not let go by --max-buffer: $(grep -v 'left after' "$T/letgo.log" | tail -4)"
! grep -q "above --max-buffer-total" "$T/letgo.log" || fail "the total was exceeded: $(grep 'max-buffer-total' "$T/letgo.log" | head -2)"
echo "ok: a client let go with a 4 GiB frame in the same read leaves the total as it was; new clients are served"
