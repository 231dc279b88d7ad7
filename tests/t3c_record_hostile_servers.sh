# t3c: hostile servers. One that accepts TCP and never answers, neither the upgrade (ws://)
# nor the TLS handshake (wss://), and one whose listen queue is full so that the TCP connect
# itself never completes: each attempt ends at --connect-timeout, is journaled with its
# phase (http, tls, connect) and counts against --retries (exit 5). One that breaks RFC 6455 after
# a valid upgrade (a reserved opcode, a reserved control opcode, a fragmented ping, RSV1 and
# RSV3 without an extension, a ping with a 126-byte payload): each connection's end is
# journaled with what was wrong (an error in phase protocol, a close 1002 by the client), not
# as "1006 by network"; a text message that is not UTF-8 is journaled as received, with an
# error saying so; a violation over TLS is named the same way. With both engines.
source tests/lib.sh
each_engine
PEERS=$WSTAPE_TESTS_DIR/peers
silent=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$silent" --mode silent --log "$T/silent.log"
wait_port "$silent"

"$WSTAPE" import /dev/null -o "$T/to" --feed raw 2>/dev/null || fail "import of nothing failed"
expect_exit 5 timeout 120 "$WSTAPE" record "ws://127.0.0.1:$silent/ws" "${ENGINE[@]}" -o "$T/to" --resume \
	--connect-timeout 1s --retries 2 -q 2>"$T/to.err"
grep -q "upgrade timeout" "$T/to.err" || fail "the message does not name the timeout: $(cat "$T/to.err")"
expect_exit 5 timeout 120 "$WSTAPE" record "wss://127.0.0.1:$silent/ws" "${ENGINE[@]}" -o "$T/to" --resume --insecure \
	--connect-timeout 1s --retries 2 -q 2>"$T/tls.err"
grep -q "TLS handshake timeout" "$T/tls.err" || fail "the message does not name the TLS timeout: $(cat "$T/tls.err")"
# (no wait_port here: a connect to it never completes; the server says when its queue is full)
backlog=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$backlog" --mode backlog --log "$T/backlog.log"
wait_log 60 "$T/backlog.log" '"listening"'
expect_exit 5 timeout 120 "$WSTAPE" record "ws://127.0.0.1:$backlog/ws" "${ENGINE[@]}" -o "$T/to" --resume \
	--connect-timeout 1s --retries 2 -q 2>"$T/tcp.err"
grep -q "no TCP connection after 1 s" "$T/tcp.err" || fail "the message does not name the TCP connect timeout: $(cat "$T/tcp.err")"
"$WSTAPE" cat "$T/to" >"$T/to.jsonl" || fail "cat failed"
jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson | select(.error) | .phase] == ["http","http","tls","tls","connect","connect"]' \
	"$T/to.jsonl" >/dev/null || fail "the timeouts are not journaled with their phase: $(cat "$T/to.jsonl")"
jq -e -s '[.[] | select(.kind=="open")] | length == 0' "$T/to.jsonl" >/dev/null || fail "an open was journaled"
# the default (10 s) is there without the option
"$WSTAPE" help record | grep -A1 -- "--connect-timeout D" | grep -q "(default 10s)" || fail "help does not give the default"
expect_exit 2 "$WSTAPE" record "ws://127.0.0.1:$silent/ws" "${ENGINE[@]}" -o "$T/x" --connect-timeout soon 2>/dev/null

violations=opcode3,opcodeB,frag-ping,rsv1,rsv3,long-ping,bad-utf8
vport=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$vport" --mode violate --violations "$violations" --log "$T/v.log"
wait_port "$vport"
bg "$WSTAPE" record "ws://127.0.0.1:$vport/ws" "${ENGINE[@]}" -o "$T/v" 2>"$T/v.err"
rec=$!
# the last violation (not UTF-8) does not end its connection: wait for its error record
wait_for 60 "seven connections and the UTF-8 error" sh -c "'$WSTAPE' cat '$T/v' 2>/dev/null |
	jq -e -s '[.[] | select(.kind==\"error\" and .conn==7)] | length >= 1' >/dev/null 2>&1"
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
"$WSTAPE" cat "$T/v" >"$T/v.jsonl" || fail "cat failed"
$PY - "$T/v.jsonl" <<'EOF' || fail "the violations are not journaled with what was wrong"
import json, sys
want = {1: "a frame with a reserved opcode", 2: "a frame with a reserved opcode",
        3: "a fragmented control frame", 4: "a frame with RSV bits set and no extension negotiated",
        5: "a frame with RSV bits set and no extension negotiated",
        6: "a control frame longer than 125 bytes"}
recs = [json.loads(l) for l in open(sys.argv[1])]
ok = True
for conn, what in want.items():
    mine = [r for r in recs if r["conn"] == conn]
    errs = [json.loads(r["payload"]) for r in mine if r["kind"] == "error"]
    errs = [e for e in errs if "error" in e]
    closes = [json.loads(r["payload"]) for r in mine if r["kind"] == "close"]
    texts = [r for r in mine if r["kind"] == "text"]
    exp = "protocol violation by the server: " + what
    if len(texts) != 1 or [e["error"] for e in errs] != [exp] or errs[0]["phase"] != "protocol":
        print(f"conn {conn}: errors {errs}, {len(texts)} text frames", file=sys.stderr); ok = False
    if len(closes) != 1 or closes[0]["code"] != 1002 or closes[0]["by"] != "client" or closes[0]["reason"] != exp:
        print(f"conn {conn}: close {closes}", file=sys.stderr); ok = False
mine = [r for r in recs if r["conn"] == 7]
bad = [r for r in mine if r["kind"] == "text" and "payload_b64" in r]
errs = [json.loads(r["payload"]) for r in mine if r["kind"] == "error"]
if len(bad) != 1 or len(errs) != 1 or "not UTF-8" not in errs[0]["error"] or errs[0]["phase"] != "protocol":
    print(f"conn 7: {mine}", file=sys.stderr); ok = False
if any(json.loads(r["payload"]).get("by") == "network" for r in recs if r["kind"] == "close"):
    print("a close by network was journaled", file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
EOF
grep -q "protocol violation by the server: a fragmented control frame" "$T/v.err" || fail "the log does not say what was wrong"

# the same over TLS: a reserved opcode is a violation (1002 by the client), not a drop
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null || fail "openssl req failed"
tport=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$tport" --mode violate --violations opcode3 --tls "$T/cert.pem" "$T/key.pem"
wait_port "$tport"
bg "$WSTAPE" record "wss://127.0.0.1:$tport/ws" "${ENGINE[@]}" -o "$T/tv" --ca "$T/cert.pem" -q
rec=$!
wait_for 60 "the close of the violating wss connection" journal_jq "$T/tv" 'any(.[]; .kind=="close")'
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
"$WSTAPE" cat "$T/tv" | jq -e -s '[.[] | select(.conn==1)] | (map(select(.kind=="text")) | length == 1) and
	(map(select(.kind=="close") | .payload | fromjson) | .[0].code == 1002 and .[0].by == "client" and
	 (.[0].reason | test("reserved opcode")))' >/dev/null || fail "the violation over TLS: $("$WSTAPE" cat "$T/tv")"
echo ok
