# t3d: Hydromancer session ids and cursors are JSON strings: the recorder decodes them before
# use and percent-encodes what it sends back. A server (python, raw frames) sends a sessionId
# holding \r, \", \u00e9, a space, & = + and /, and a cursor holding \u0037; it drops the
# connection, and the resume URL must carry exactly those values, decoded (not their JSON
# text) and percent-encoded. Then it sends a sessionId that cannot be decoded ("\ud800", a
# lone surrogate): that session cannot be resumed and the one before it is over, so the next
# connection names no session at all (a new one is made), and the journal says why.
# A session id holding a control character is kept in META, percent-encoded (META has no
# byte below 0x20), and `record --resume` after a restart resumes exactly that session.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
port=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$port" --mode sessions --log "$T/srv.log" \
	--sid1 '"s\r\"1\u00e9 &=+/x"' --cursor1 '"100:1706123456789:\u0037"' --sid2 '"bad\ud800"'
wait_port "$port"
touch "$T/srv.log"
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=t" -o "$T/j" --feed hydromancer --subscribe allFills \
	2>"$T/rec.err"
rec=$!
wait_for 60 "the third connection" sh -c "[ \$(grep -c '\"path\"' '$T/srv.log') -ge 3 ]"
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
$PY - "$T/srv.log" <<'EOF' || fail "the resume URLs are not what the server sent, decoded and percent-encoded"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
reqs = [r for r in reqs if "path" in r]
ok = True
if "sessionId" in reqs[0]["query"]:
    print("the first connection named a session", file=sys.stderr); ok = False
q = reqs[1]["query"]
if q.get("sessionId") != 's\r"1\u00e9 &=+/x' or q.get("cursor") != "100:1706123456789:7":
    print(f"second connection: {reqs[1]['path']} -> {q}", file=sys.stderr); ok = False
if "sessionId=s%0D%221%C3%A9%20%26%3D%2B%2Fx&cursor=100:1706123456789:7" not in reqs[1]["path"]:
    print(f"second connection's path: {reqs[1]['path']}", file=sys.stderr); ok = False
if "sessionId" in reqs[2]["query"] or "cursor" in reqs[2]["query"] or q.get("token") != "t":
    print(f"third connection: {reqs[2]['path']}", file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
EOF
"$WSTAPE" cat "$T/j" >"$T/j.jsonl" || fail "cat failed"
jq -e -s '[.[] | select(.kind=="error" and .conn==2) | .payload | fromjson | select(.phase=="protocol")] |
	length == 1 and (.[0].error | test("session id"))' "$T/j.jsonl" >/dev/null \
	|| fail "the unusable session id is not journaled: $(grep '"conn":2' "$T/j.jsonl")"
grep -q "session id is not a usable JSON string" "$T/rec.err" || fail "no warning of the unusable session id"

# the session id with \r is the journal's session: META holds it percent-encoded ('%' too),
# and --resume after a restart sends exactly it
port=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$port" --mode sessions --keep --log "$T/srv2.log" \
	--sid1 '"r\r%1\u00e9 x\t"'
wait_port "$port"
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=t" -o "$T/k" --feed hydromancer --subscribe allFills \
	2>"$T/rec2.err"
rec=$!
wait_for 60 "the session id in META" grep -q '^session_id=' "$T/k/META"
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
grep -qxF 'session_id=r%0D%251é x%09' "$T/k/META" || fail "META's session_id: $(grep session_id "$T/k/META") $(cat "$T/rec2.err")"
grep -q "cannot store the session id" "$T/rec2.err" && fail "the session id was not stored: $(cat "$T/rec2.err")"
"$WSTAPE" info "$T/k" >/dev/null || fail "info on the journal"
port=$(free_port)
bg $PY "$PEERS/hostile_server.py" --port "$port" --mode sessions --keep --log "$T/srv3.log" \
	--sid1 '"r\r%1\u00e9 x\t"'
wait_port "$port"
touch "$T/srv3.log"
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=t" -o "$T/k" --resume 2>"$T/rec3.err"
rec=$!
wait_for 60 "the resumed connection" grep -q '"path"' "$T/srv3.log"
kill -INT "$rec"
wait "$rec" || fail "record --resume exited $?"
$PY - "$T/srv3.log" <<'EOF' || fail "--resume did not resume the session with the control character"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"path"' in l][0]
ok = r["query"].get("sessionId") == "r\r%1\u00e9 x\t" and "sessionId=r%0D%251%C3%A9%20x%09" in r["path"]
if not ok:
    print("resume:", r["path"], r["query"], file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
echo ok
