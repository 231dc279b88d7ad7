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
. "$(dirname "$0")/lib.sh"
cd "$WSTAPE_TESTS_DIR"
[ -d node_modules/@lasersell/lasersell-sdk ] || fail "the SDK is not installed (make test runs npm ci in tests/)"
SDK="node peers/lasersell_sdk_timeline.mjs"

# a recording longer than the fixture: 14 positions, one after the other, each with
# balances, pnl, ticks, liquidity; 12 get an exit signal (then nothing for 300 ms, so the
# application's close_position is not sent while the server drops it) and close, 2 stay
# open; one session (7001)
$PY - > "$T/long.jsonl" <<'PY'
import json
base = 1795341600000000000
W = "WaLLet1111111111111111111111111111111111111"
ev = []
def at(ms, m): ev.append((ms, len(ev), m))
at(0, {"type": "hello_ok", "session_id": 7001, "server_time_ms": 1795341600000,
       "limits": {"hi_capacity": 1024, "pnl_flush_ms": 100, "max_positions_per_session": 100}})
at(5, ("bal", "So11111111111111111111111111111111111111112", 9000))
for p in range(1, 15):
    t0 = 40 + (p - 1) * 800
    mint = "Mint%02d" % p + "1" * 37
    at(t0, ("bal", mint, 1000 * p))
    at(t0 + 1, {"type": "position_opened", "position_id": p, "wallet_pubkey": W, "mint": mint,
                "token_account": "Tok%d" % p, "tokens": 1000 * p, "entry_quote_units": 50000000, "slot": "slot"})
    for k in range(6):
        at(t0 + 50 * (k + 1), {"type": "pnl_update", "position_id": p, "profit_units": 10 * k,
                               "proceeds_units": 50000000 + k, "server_time_ms": "ms"})
    for k, ms in enumerate((120, 220)):
        at(t0 + ms, {"type": "trade_tick", "position_id": p, "time_ms": "ms", "side": "buy" if k else "sell",
                     "token_amount": 10 + k, "quote_amount": 500, "price_quote": 50.0})
    at(t0 + 170, {"type": "liquidity_snapshot", "position_id": p, "liquidity_trend": "stable", "server_time_ms": "ms",
                  "bands": [{"slippage_bps": 100, "max_tokens": 5000, "coverage_pct": 80.0}]})
    if p <= 12:
        at(t0 + 400, {"type": "exit_signal_with_tx", "session_id": 7001, "position_id": p, "wallet_pubkey": W,
                      "mint": mint, "position_tokens": 1000 * p, "profit_units": 50, "reason": "target_profit",
                      "triggered_at_ms": "ms", "unsigned_tx_b64": "AQID"})
        at(t0 + 700, {"type": "position_closed", "position_id": p, "wallet_pubkey": W, "mint": mint,
                      "reason": "target_profit", "slot": "slot"})
        at(t0 + 701, ("bal", mint, 0))
ev.sort()
last = max(ms for ms, _, _ in ev) + 50
ev.append((last, len(ev), {"type": "pnl_update", "position_id": 14, "profit_units": 999, "proceeds_units": 1,
                           "server_time_ms": "ms"}))
print(json.dumps({"wall_ns": base, "dir": "out", "kind": "text", "payload": json.dumps(
    {"type": "configure", "wallet_pubkeys": [W], "strategy": {"target_profit_pct": 5.0}})}))
slot = 300000000
for i, (ms, _, m) in enumerate(ev):
    if isinstance(m, tuple):
        m = {"type": "balance_update", "wallet_pubkey": W, "mint": m[1], "tokens": m[2], "slot": "slot"}
    if "slot" in m:
        slot += 1
    m = {k: (slot if v == "slot" else 1795341600000 + ms * 10 + i if v == "ms" else v) for k, v in m.items()}
    print(json.dumps({"wall_ns": base + (ms + 1) * 1000000 + i, "dir": "in", "kind": "text", "payload": json.dumps(m)}))
PY
$WSTAPE import "$T/long.jsonl" -o "$T/long" --feed lasersell 2>/dev/null || fail "import the long recording"
$WSTAPE cat "$T/long" --direction in --kind text --payload | grep -v '"type": "hello_ok"' > "$T/long.rec"
[ "$(wc -l < "$T/long.rec")" -gt 150 ] || fail "the long recording is short: $(wc -l < "$T/long.rec")"
END_LONG=$(tail -n 1 "$T/long.rec" | $PY -c 'import json,sys; m=json.load(sys.stdin); print(json.dumps({"type":m["type"],"server_time_ms":m["server_time_ms"]}))')

# check REC GOT LOG SID ACT [MIN_HELLOS]: what the SDK got (GOT) against the recording
# (REC), and the close_position requests the server logged (LOG)
check() {
	$PY - "$@" <<'PY'
import json, re, sys
rec_f, got_f, log_f, sid, act = sys.argv[1:6]
min_hellos = int(sys.argv[6]) if len(sys.argv) > 6 else 3
sid = int(sid)
STAMP = {"balance_update": "slot", "position_opened": "slot", "position_closed": "slot",
         "pnl_update": "server_time_ms", "liquidity_snapshot": "server_time_ms", "trade_tick": "time_ms",
         "exit_signal_with_tx": "triggered_at_ms"}
def key(m):
    return (m["type"], m.get("position_id"), m.get("mint"), m[STAMP[m["type"]]])
rec = [json.loads(l) for l in open(rec_f) if '"pong"' not in l and '"hello_ok"' not in l]
got = [json.loads(l) for l in open(got_f)]
R = [key(m) for m in rec]
assert len(set(R)) == len(R), "the recording's messages are not unique"
def holdings(upto):
    bal, pos = {}, {}
    for m in rec[:upto]:
        if m["type"] == "balance_update": bal[(m["wallet_pubkey"], m["mint"])] = key(m)
        elif m["type"] == "position_opened": pos[m["position_id"]] = key(m)
        elif m["type"] == "position_closed": pos.pop(m["position_id"], None)
    return set(bal.values()) | set(pos.values())
i = hellos = 0
blocks = []          # per hello_ok: (point, holdings expected, holdings got, stream followed)
for n, m in enumerate(got):
    t = m["type"]
    if t == "pong":
        continue
    if t == "hello_ok":
        assert m["session_id"] == sid, ("hello_ok session_id", m["session_id"], "recorded", sid)
        hellos += 1
        blocks.append([i, holdings(i), [], False])
        continue
    assert blocks, ("a message before hello_ok", m)
    if t == "exit_signal_with_tx":
        assert m["session_id"] == sid, ("exit signal of another session", m)
    k = key(m)
    b = blocks[-1]
    if i < len(R) and k == R[i]:
        i += 1
        b[3] = True
        continue
    # not the next recorded message: only a holding re-emitted after a reconnect may be here
    assert not b[3] and len(blocks) > 1, ("message %d out of place: got %s, the next recorded is %s" %
                                          (n, k, R[i] if i < len(R) else "none (the end)"))
    assert k in b[1] and k not in b[2], ("message %d is no holding at record %d (or a second copy): %s" % (n, b[0], k))
    b[2].append(k)
assert i == len(R), ("the SDK got %d of %d recorded messages; the next missing: %s" % (i, len(R), R[i]))
assert hellos >= min_hellos, ("too few reconnects", hellos)
for point, want, have, streamed in blocks[1:]:
    if streamed:
        assert set(have) == want, ("holdings at record %d" % point, sorted(want - set(have)))
ends = [b for b in blocks[1:] if b[0] == len(R)]
assert ends, "no reconnect after the end of the recording"
assert any(set(b[2]) == holdings(len(R)) for b in ends), ("holdings after the end", ends)
assert any(b[1] for b in blocks[1:] if b[0] < len(R)), "no reconnect while positions were open"
closes = {}
tok = {m["token_account"]: m["position_id"] for m in rec if m["type"] == "position_opened"}
for l in open(log_f):
    mm = re.search(r'sent (\{.*"type":"close_position".*\})', l)
    if mm:
        c = json.loads(mm.group(1))
        p = c["position_id"] if "position_id" in c else tok[c["token_account"]]
        closes[p] = closes.get(p, 0) + 1
twice = {p: c for p, c in closes.items() if c > 1}
assert not twice, ("close_position sent more than once", twice)
exits = {m["position_id"] for m in rec if m["type"] == "exit_signal_with_tx"}
assert set(closes) <= exits, ("close_position for a position without exit signal", closes)
if act == "close":
    assert closes, "the server got no close_position"
else:
    assert not closes, ("close_position from an application that sends nothing", closes)
print("%d messages, %d connections, %d closes" % (len(got), hellos, len(closes)))
PY
}

# run NAME ACT JOURNAL END [replay options]: the SDK application (ACT: close or read)
# through a replay with those faults, until the end of the recording and a reconnect after it
run() {
	local name=$1 act=$2 journal=$3 end=$4; shift 4
	local port; port=$(free_port)
	bg $WSTAPE replay "$journal" --listen 127.0.0.1:$port --token k-$name --log-level info "$@" > /dev/null 2> "$T/$name.log"
	wait_port $port
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
END_FIX=$(grep -v '"type":"\(hello_ok\|pong\)"' "$T/ls.all" | tail -n 1 | $PY -c 'import json,sys; m=json.load(sys.stdin); print(json.dumps({"type":m["type"],"server_time_ms":m["server_time_ms"]}))')
run fix42 read "$T/ls" "$END_FIX" --speed max --drop-after 5
$PY - "$T/fix42.got" <<'PY' || fail "the fixture from its start: $(cat "$T/fix42.got")"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
seen = set()     # once the last message of session 42 is in, a reconnect's stream is in 43
for m in got:
    if m["type"] == "hello_ok":
        assert m["session_id"] == (43 if 212 in seen else 42), (m, sorted(seen))
    elif m["type"] == "pnl_update":
        seen.add(m["profit_units"])
sids = [m["session_id"] for m in got if m["type"] == "hello_ok"]
assert 42 in sids and 43 in sids and len(sids) >= 4, sids
exits = [m for m in got if m["type"] == "exit_signal_with_tx"]
assert len(exits) == 1 and exits[0]["session_id"] == 42, exits
PY
hello43=$(grep -n '"session_id":43' "$T/ls.all" | head -1 | cut -d: -f1)
from=$($WSTAPE cat "$T/ls" --direction in --kind text | sed -n "$((hello43 + 1))p" | $PY -c 'import json,sys; print(json.load(sys.stdin)["recno"])')
run fix43 read "$T/ls" "$END_FIX" --speed max --from-record "$from" --drop-after 3
$PY - "$T/fix43.got" <<'PY' || fail "the fixture from its second session: $(cat "$T/fix43.got")"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
sids = [m["session_id"] for m in got if m["type"] == "hello_ok"]
assert set(sids) == {43} and len(sids) >= 3, sids
PY

# after --grace a key's timeline is gone: the same key starts from the start
port=$(free_port)
bg $WSTAPE replay "$T/long" --listen 127.0.0.1:$port --speed max --drop-after 40 --grace 1s --log-level info > /dev/null 2> "$T/grace.log"
wait_port $port
timeout 90 $SDK ws://127.0.0.1:$port/v1/ws k-grace read "$END_LONG" 200 60 > "$T/grace1.got" 2> "$T/grace.err" || fail "SDK (grace): $(cat "$T/grace.err")"
sleep 2   # (away for longer than --grace 1s: an absence, not a wait for an event)
timeout 90 $SDK ws://127.0.0.1:$port/v1/ws k-grace read "$END_LONG" 200 60 > "$T/grace2.got" 2>> "$T/grace.err" || fail "SDK (grace): $(cat "$T/grace.err")"
check "$T/long.rec" "$T/grace2.got" "$T/grace.log" 7001 read 2 || fail "a connection after --grace did not start from the start"

! grep -l "AddressSanitizer\|runtime error" "$T"/*.log || fail "replay failed: $(grep -h -A5 "AddressSanitizer\|runtime error" "$T"/*.log | head -20)"
echo "t46 ok"
