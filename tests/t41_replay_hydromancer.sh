#!/usr/bin/env bash
# t41_replay_hydromancer.sh - replay speaking the Hydromancer server side to a client written
# after the docs (python3-websockets): sessions, subscribe, seq per connection, resume with
# sessionId + cursor, chunked replay, live mode without loss or duplicates, hasGap, expiry,
# bad input.
. "$(dirname "$0")/lib.sh"
CL="$PY $WSTAPE_TESTS_DIR/peers/replay_client.py"

# 4 s of allFills: 400 messages 10 ms apart, 20 fills each (pairs share a (time, txIndex):
# one transaction, several fills); and 10 s of them (hl) for the live client that drops twice
gen_h() { # messages
	$PY - "$1" <<'PY'
import json, sys
base = 1795341600000000000
t = 1706123456789
print(json.dumps({"wall_ns": base, "dir": "in", "conn": 1, "kind": "text",
                  "payload": json.dumps({"type": "connected", "clientId": "c0", "sessionId": "s0"})}))
for i in range(int(sys.argv[1])):
    fills = []
    for k in range(20):
        tx = i * 10 + k // 2
        fills.append(["0x%040x" % (k % 7), {"coin": "ETH", "px": str(2000 + i), "sz": str(k + 1), "time": t + i * 10,
                      "txIndex": tx, "tid": i * 100 + k}])
    cursor = "%d:%d:%d" % (1000 + i, t + i * 10, i * 10 + 9)
    print(json.dumps({"wall_ns": base + (i + 1) * 10000000, "dir": "in", "conn": 1, "kind": "text",
                      "payload": json.dumps({"type": "allFills", "seq": i + 1, "cursor": cursor, "fills": fills})}))
PY
}
gen_h 400 > "$T/h.jsonl"
gen_h 1000 > "$T/hl.jsonl"
$WSTAPE import "$T/h.jsonl" -o "$T/h" --feed hydromancer 2>/dev/null || fail "import"
$WSTAPE import "$T/hl.jsonl" -o "$T/hl" --feed hydromancer 2>/dev/null || fail "import hl"
[ "$($WSTAPE info "$T/h" --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["channels"])')" = 1 ] || fail "channel not classified"

check_events() { # result.json [recording.jsonl]: events equal the recording's from the first one received, in order
	$PY - "$1" "${2:-$T/h.jsonl}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
allev = []
for l in open(sys.argv[2]):
    p = json.loads(json.loads(l)["payload"])
    if p["type"] == "allFills":
        allev += p["fills"]
got = r["events"]
assert got, "no events"
first = allev.index(got[0])
want = allev[first:]
dups = len(got) - len({json.dumps(e) for e in got})
assert dups == 0, ("duplicates", dups)
have = {json.dumps(e) for e in got}
missing = [e for e in want if json.dumps(e) not in have]
assert not missing, ("lost", len(missing), missing[:2])
assert got == want, "out of order"
print("events", len(got), "connects", r["connects"])
PY
}

# live mode's timeline starts with the server, and lasts 4 s: each live-mode client starts
# first (client_first), so that a slow start on a loaded machine does not make it join late
live_server() { # port log [options] (HJ: the journal, default h)
	local port=$1 log=$2; shift 2
	exec $WSTAPE replay "$T/${HJ:-h}" --listen 127.0.0.1:$port --mode live --token t "$@" > /dev/null 2> "$log"
}

# live mode: one timeline; the client drops twice for 1.5 s, resumes with sessionId + cursor,
# buffers live messages until the replay completes and deduplicates: nothing lost, nothing twice
# (10 s of recording: a client that resumes after its end gets what it missed all the
# same; --grace and --cache 10m: a starved client on a busy machine may take over 30 s,
# the default grace, between two connections, and resume from further back than the
# default cache: an expired session is a new one, and an old cursor gets hasGap, by design)
port=$(free_port)
HJ=hl client_first $port $CL hydro ws://127.0.0.1:$port/ "$T/live.json" 30,30 1.5 -- live_server $port "$T/replay1.log" \
	--grace 10m --cache 10m ||
	fail "hydro client (live)"
check_events "$T/live.json" "$T/hl.jsonl" || fail "live mode lost or duplicated events"
$PY - "$T/live.json" <<'PY' || fail "protocol in live mode"
import json, sys
log = json.load(open(sys.argv[1]))["log"]
types = [m["type"] for m in log]
assert types[0] == "connected" and types.count("reconnected") == 2, types[:5]
# seq starts at 1 on every connection and has no gap within one
seqs, cur = [], None
for m in log:
    if m["type"] in ("connected", "reconnected"):
        cur = []; seqs.append(cur)
    elif m["type"] == "allFills":
        cur.append(m["seq"])
for s in seqs:
    assert s == list(range(1, len(s) + 1)), s[:5]
# the replays: chunks of at most 2,000 items, numbered, a cursor each, no hasGap
chunks = [m for m in log if m["type"] == "replay"]
assert chunks and all(c["count"] <= 2000 and c.get("cursor") for c in chunks), chunks
assert any(c["totalChunks"] >= 2 for c in chunks), [(c["chunk"], c["totalChunks"], c["count"]) for c in chunks]
assert not any(c.get("hasGap") for c in chunks)
PY

# session mode at 4x: each client gets the recording from its start; resume as well
port=$(free_port)
bg $WSTAPE replay "$T/h" --listen 127.0.0.1:$port --speed 4 --token t > /dev/null 2> "$T/replay2.log"
wait_port $port
$CL hydro ws://127.0.0.1:$port/ "$T/sess.json" 100 0.3 || fail "hydro client (session)"
check_events "$T/sess.json" || fail "session mode lost or duplicated events"
$PY -c "
import json; r = json.load(open('$T/sess.json'))
assert r['events'][0][1]['tid'] == 0, r['events'][0]" || fail "session mode did not start at the beginning"

# session mode at --speed max: a resume goes on where the server's timeline was, with the
# events after the client's cursor replayed; nothing starts over, nothing is lost
port=$(free_port)
bg $WSTAPE replay "$T/h" --listen 127.0.0.1:$port --speed max --token t > /dev/null 2> "$T/replay6.log"
wait_port $port
$PY - $port "$T/h.jsonl" <<'PY' || fail "resume at --speed max"
# a client with a small receive buffer, so that the server is mid-recording when it drops
import asyncio, json, socket, sys, websockets
allev = []
for l in open(sys.argv[2]):
    p = json.loads(json.loads(l)["payload"])
    if p["type"] == "allFills":
        allev += p["fills"]
def conn(q):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    return websockets.connect("ws://127.0.0.1:%s/?token=t%s" % (sys.argv[1], q), sock=s, max_size=None, max_queue=4)
async def main():
    got, n = [], 0
    async with conn("") as ws:
        sid = json.loads(await ws.recv())["sessionId"]
        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
        while n < 50:
            m = json.loads(await ws.recv())
            if m["type"] == "allFills":
                got += m["fills"]; cur = m["cursor"]; n += 1
        ws.transport.abort()   # the network fails
    types, replayed = [], 0
    async with conn("&sessionId=%s&cursor=%s" % (sid, cur)) as ws:
        try:
            async for raw in ws:
                m = json.loads(raw); types.append(m["type"])
                if m["type"] == "replay":
                    got += m["data"]; replayed += m["count"]
                elif m["type"] == "allFills":
                    got += m["fills"]
        except websockets.ConnectionClosed:
            pass
    assert types[0] == "reconnected", types[:3]
    assert replayed > 0, "nothing replayed"
    seen, uniq = set(), []
    for e in got:          # replay/live may overlap: deduplicate the same event
        k = json.dumps(e, sort_keys=True)
        if k not in seen:
            seen.add(k); uniq.append(e)
    assert uniq == allev, ("lost or reordered", len(uniq), len(allev))
    print("events", len(uniq), "replayed", replayed)
asyncio.run(main())
PY

# a second subscription does not cost the first one a seq number
port=$(free_port)
bg $WSTAPE replay "$T/h" --listen 127.0.0.1:$port --speed 10 --token t > /dev/null 2> "$T/replay7.log"
wait_port $port
$PY - $port <<'PY' || fail "seq across a second subscribe"
import asyncio, json, sys, websockets
async def main():
    async with websockets.connect("ws://127.0.0.1:%s/?token=t" % sys.argv[1]) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
        seqs = []
        while len(seqs) < 40:
            m = json.loads(await ws.recv())
            if m["type"] == "allFills":
                seqs.append(m["seq"])
                if len(seqs) == 5:
                    await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "userFills"}}))
        assert seqs == list(range(1, 41)), seqs
asyncio.run(main())
PY

# back too late for the cache: hasGap on the first chunk
port=$(free_port)
client_first $port $CL hydro ws://127.0.0.1:$port/ "$T/gap.json" 20 1.5 -- live_server $port "$T/replay3.log" --cache 0.5s ||
	fail "hydro client (gap)"
$PY -c "
import json; log = json.load(open('$T/gap.json'))['log']
ch = [m for m in log if m['type'] == 'replay']
assert ch and ch[0]['chunk'] == 1 and ch[0].get('hasGap') is True, ch[:1]
assert not any(m.get('hasGap') for m in ch[1:])" || fail "no hasGap when the cursor is older than the cache"

# past the grace period: a new session ("connected"), no replay
port=$(free_port)
client_first $port $CL hydro ws://127.0.0.1:$port/ "$T/exp.json" 20 1.2 -- live_server $port "$T/replay4.log" --grace 0.5s ||
	fail "hydro client (expired)"
$PY -c "
import json; log = json.load(open('$T/exp.json'))['log']
t = [m['type'] for m in log]
assert t.count('connected') == 2 and 'reconnected' not in t and 'replay' not in t, t[:8]" || fail "expired session"

# --from-cursor: a bare cursor starts at the first record of any channel whose cursor is at
# or after it, CH=C at the first of channel CH (served as raw frames here, byte-exact)
for arg in 1100:1706123457789:1009 allFills=1100:1706123457789:1009 1099:1706123457790:0; do
	port=$(free_port)
	bg $WSTAPE replay "$T/h" --feed raw --from-cursor $arg --speed max --once --listen 127.0.0.1:$port > /dev/null 2> "$T/replay11.log"
	wait_port $port
	$CL collect ws://127.0.0.1:$port/ "$T/fc.json" || fail "client of --from-cursor $arg"
	$PY - "$T/fc.json" <<'PY' || fail "--from-cursor $arg"
import json, sys
a = json.load(open(sys.argv[1]))
seqs = [json.loads(f["data"])["seq"] for f in a["frames"]]
assert seqs == list(range(101, 401)) and a["close"] == 1000, (seqs[:3], len(seqs), a["close"])
PY
done
expect_exit 2 $WSTAPE replay "$T/h" --from-cursor 9999:1:1 --listen 127.0.0.1:$(free_port) 2> "$T/err"
grep -q "no server frames" "$T/err" || fail "--from-cursor past the end: $(cat "$T/err")"

# a resume with sessionId and no cursor replays from the server-tracked cursor (what was sent)
port=$(free_port)
client_first $port $PY - $port -- live_server $port "$T/replay10.log" <<'PY' || fail "resume from the server-tracked cursor"
import asyncio, json, re, sys, websockets, ready
url = "ws://127.0.0.1:%s/?token=t" % sys.argv[1]
async def main():
    async with websockets.connect(url) as ws:
        sid = json.loads(await ws.recv())["sessionId"]
        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
        n = 0
        while n < 20:
            m = json.loads(await ws.recv())
            if m["type"] == "allFills":
                last = m["fills"][-1]; n += 1
        ws.transport.abort()
    await asyncio.sleep(0.5)
    async with websockets.connect(url + "&sessionId=" + sid) as ws:
        assert json.loads(await ws.recv())["type"] == "reconnected"
        m = json.loads(await ws.recv())
        assert m["type"] == "replay" and m["count"] > 0, m
        # after what the server sent, so after what this client received
        assert re.fullmatch(r"\d+:\d+:\d+", m["cursor"]), m["cursor"]
        assert m["data"][0][1]["tid"] > last[1]["tid"], (m["data"][0], last)
asyncio.run(main())
PY

# a resume while the old connection is still open (half-open, as far as the client knows)
# takes the session over: "reconnected" with the replay, and the old connection is closed
port=$(free_port)
client_first $port $PY - $port -- live_server $port "$T/replay14.log" --log-level info <<'PY' ||
import asyncio, json, sys, time, websockets, ready
url = "ws://127.0.0.1:%s/?token=t" % sys.argv[1]
async def main():
    old = await websockets.connect(url)
    sid = json.loads(await old.recv())["sessionId"]
    await old.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
    n = 0
    while n < 20:
        m = json.loads(await old.recv())
        if m["type"] == "allFills":
            cur = m["cursor"]; n += 1
    await asyncio.sleep(0.3)   # the old connection stays open and stops reading
    async with websockets.connect(url + "&sessionId=%s&cursor=%s" % (sid, cur)) as ws:
        m = json.loads(await ws.recv())
        assert m["type"] == "reconnected" and m["sessionId"] == sid and m["subscriptions"] == ["allFills"], m
        m = json.loads(await ws.recv())
        assert m["type"] == "replay" and m["count"] > 0, m
        # (closed by the takeover: the log line below says so; the timeline would close it too)
        try:
            while True:
                await asyncio.wait_for(old.recv(), 30)
        except websockets.ConnectionClosed:
            pass
        # the new one goes on, live
        m = json.loads(await ws.recv())
        assert m["type"] in ("replay", "allFills"), m
asyncio.run(main())
PY
	fail "a resume takes the session over from an open connection"
grep -q "resumes session .*: closing client 1" "$T/replay14.log" || fail "takeover not logged: $(cat "$T/replay14.log")"

# the replay chunks of a resume count against --max-buffer: a short absence replays, a long
# one (6 s, about 1.6 MB of events, above 1 MiB) lets the client go with the reason logged
# (the 10 s recording, and a limit of almost 4 s of its events: a starved client that reads
# the live stream late resumes from further back than it was away)
port=$(free_port)
HJ=hl client_first $port $PY - $port -- live_server $port "$T/replay15.log" --max-buffer 1m <<'PY' || fail "replay chunks and --max-buffer"
import asyncio, json, sys, websockets, ready
url = "ws://127.0.0.1:%s/?token=t" % sys.argv[1]
async def read_live(ws, n):
    while n:
        m = json.loads(await ws.recv())
        if m["type"] == "allFills":
            cur = m["cursor"]; n -= 1
    return cur
async def main():
    ws = await websockets.connect(url)
    sid = json.loads(await ws.recv())["sessionId"]
    await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
    cur = await read_live(ws, 10)
    ws.transport.abort()
    await asyncio.sleep(0.1)
    ws = await websockets.connect(url + "&sessionId=%s&cursor=%s" % (sid, cur))
    assert json.loads(await ws.recv())["type"] == "reconnected"
    m = json.loads(await ws.recv())
    assert m["type"] == "replay" and m["count"] > 0, m
    cur = await read_live(ws, 10)
    ws.transport.abort()
    await asyncio.sleep(6)
    got = []
    try:
        async with websockets.connect(url + "&sessionId=%s&cursor=%s" % (sid, cur)) as ws:
            while True:
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 3)))
    except (websockets.ConnectionClosed, websockets.InvalidHandshake, ConnectionError):
        pass
    assert not any(m["type"] == "replay" for m in got), (len(got), [m["type"] for m in got][:5])
asyncio.run(main())
PY
grep -q "its replay is above --max-buffer 1048576: disconnecting" "$T/replay15.log" || fail "no reason logged: $(cat "$T/replay15.log")"

# liveFormat is per connection: a recording made with liveFormat=chunked-v1 (the URL of its
# "open" event says so) is served to connections that ask for chunked-v1, each time; a
# reconnect that leaves it out gets an error and the session is still there for the next
# one; a recording in the default format refuses chunked-v1
$PY - "$T/h.jsonl" > "$T/hc.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
first = json.loads(lines[0])
url = "wss://api.hydromancer.xyz/ws?token=REDACTED&liveFormat=chunked-v1"
print(json.dumps({"wall_ns": first["wall_ns"] - 1000, "dir": "in", "conn": 1, "kind": "open",
                  "payload": json.dumps({"url": url, "status": 101, "attempt": 1})}))
print("\n".join(lines))
PY
$WSTAPE import "$T/hc.jsonl" -o "$T/hc" --feed hydromancer 2>/dev/null || fail "import hc"
port=$(free_port)
bg $WSTAPE replay "$T/hc" --listen 127.0.0.1:$port --speed 4 --token t > /dev/null 2> "$T/replay8.log"
wait_port $port
port2=$(free_port)
bg $WSTAPE replay "$T/h" --listen 127.0.0.1:$port2 --speed 4 --token t > /dev/null 2> "$T/replay9.log"
wait_port $port2
$PY - $port $port2 <<'PY' || fail "liveFormat"
import asyncio, json, sys, websockets
url = "ws://127.0.0.1:%s/?token=t" % sys.argv[1]
async def refused(u, want):
    async with websockets.connect(u) as ws:
        m = json.loads(await ws.recv())
        assert m["type"] == "error" and want in m["message"], m
        try:
            await asyncio.wait_for(ws.recv(), 20)
            assert False, "still open"
        except websockets.ConnectionClosed:
            pass
async def main():
    await refused(url, "liveFormat=chunked-v1 is required")
    async with websockets.connect(url + "&liveFormat=chunked-v1") as ws:
        m = json.loads(await ws.recv())
        assert m["type"] == "connected", m
        sid = m["sessionId"]
        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
        n = 0
        while n < 10:
            m = json.loads(await ws.recv())
            if m["type"] == "allFills":
                cur = m["cursor"]; n += 1
        ws.transport.abort()
    await asyncio.sleep(0.3)
    back = url + "&sessionId=%s&cursor=%s" % (sid, cur)
    # the session does not remember the format: leaving it out is refused
    await refused(back, "liveFormat=chunked-v1 is required")
    async with websockets.connect(back + "&liveFormat=chunked-v1") as ws:
        m = json.loads(await ws.recv())
        assert m["type"] == "reconnected" and m["sessionId"] == sid, m
        m = json.loads(await ws.recv())
        assert m["type"] == "replay" and m["count"] > 0, m
    await refused("ws://127.0.0.1:%s/?token=t&liveFormat=chunked-v1" % sys.argv[2],
                  "liveFormat 'chunked-v1' is not available")
asyncio.run(main())
PY
grep -q "liveFormat chunked-v1" "$T/replay8.log" || fail "the recording's liveFormat is not shown: $(cat "$T/replay8.log")"

# the pong timeout has its own clock: with --pong-timeout 1s (pings every 30 s, so none
# comes first) a client that never answers is closed, not before a second and long before
# the first ping, with the docs' "Connection timeout"; one that answers the pings (every
# 0.3 s on a second server, --pong-timeout 2s) stays through 15 of them (4.5 s)
port=$(free_port)
bg $WSTAPE replay "$T/h" --listen 127.0.0.1:$port --token t --pong-timeout 1s > /dev/null 2> "$T/replay12.log"
wait_port $port
port2=$(free_port)
bg $WSTAPE replay "$T/h" --listen 127.0.0.1:$port2 --token t --pong-timeout 2s --ping-s 0.3 --loop > /dev/null 2> "$T/replay13.log"
wait_port $port2
$PY - $port $port2 <<'PY' || fail "--pong-timeout"
import asyncio, json, sys, time, websockets
async def main():
    t0 = time.monotonic()   # before connecting: the server's clock starts after this one
    async with websockets.connect("ws://127.0.0.1:%s/?token=t" % sys.argv[1]) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
        err = None
        try:
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 25))
                if m["type"] == "error":
                    err, t = m, time.monotonic() - t0
        except websockets.ConnectionClosed:
            pass
        assert err and err["message"] == "Connection timeout", err
        assert 0.9 <= t <= 15, t
    async with websockets.connect("ws://127.0.0.1:%s/?token=t" % sys.argv[2]) as ws:
        pings = 0
        while pings < 15:
            m = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert m["type"] != "error", m
            if m["type"] == "ping":
                pings += 1
                await ws.send(json.dumps({"method": "pong"}))
asyncio.run(main())
PY

# bad input: bad token, unknown subscription, malformed JSON (the connection stays); the
# token from a file (--token @FILE), so that it is not on the command line
port=$(free_port)
printf 't\n' > "$T/token.txt"
bg $WSTAPE replay "$T/h" --listen 127.0.0.1:$port --token @"$T/token.txt" --speed 10 > /dev/null 2> "$T/replay5.log"
wait_port $port
expect_exit 2 $WSTAPE replay "$T/h" --token env:NO_SUCH_TOKEN_VAR 2> "$T/tokerr"
grep -q "environment variable 'NO_SUCH_TOKEN_VAR' is not set" "$T/tokerr" || fail "--token env: unset: $(cat "$T/tokerr")"
$PY - $port <<'PY' || fail "bad input handling"
import asyncio, json, sys, websockets
async def main():
    url = "ws://127.0.0.1:%s/" % sys.argv[1]
    async with websockets.connect(url + "?token=nope") as ws:
        m = json.loads(await ws.recv())
        assert m["type"] == "error" and m["message"] == "Invalid API key", m
    async with websockets.connect(url + "?token=t") as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "noSuchFeed"}}))
        m = json.loads(await ws.recv())
        assert m == {"type": "subscriptionUpdate", "subscribed": [], "failed": ["noSuchFeed"]}, m
        await ws.send("{not json")
        m = json.loads(await ws.recv())
        assert m["type"] == "error", m
        await ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allFills"}}))
        m = json.loads(await ws.recv())
        assert m["subscribed"] == ["allFills"], m
        m = json.loads(await ws.recv())
        assert m["type"] == "allFills" and m["seq"] == 1, m
asyncio.run(main())
PY
! grep -l "AddressSanitizer\|runtime error" "$T"/replay*.log || fail "replay failed: $(grep -h -A5 "AddressSanitizer\|runtime error" "$T"/replay*.log | head -20)"
echo "t41 ok"
