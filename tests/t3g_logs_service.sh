# t3g: record as a service. Its log with stderr to a file: every line an RFC 3339 UTC time
# with milliseconds, the level and "wstape record:", at the default level the connects, the
# drop, the reconnect with its delay and the failed attempts; --log-format json: one object
# a line that jq and python parse, no secret in either; replay's lines too. The systemd unit
# (systemd-analyze verify; its command run twice: the journal created, then resumed) and the
# Prometheus rules (promtool check rules, test rules; both can fail).
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
CONTRIB=$WSTAPE_TESTS_DIR/../contrib
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
secrets="Tok3nS3cr3tValue ApiK3ySecretValue"
# the journal has N connections opened, and the Nth has 3 messages in
nth_open_has_data() {
	journal_jq "$1" "[.[] | select(.kind==\"open\") | .conn] as \$o | (\$o | length >= $2) and
		(map(select(.conn == \$o[$2 - 1] and .dir==\"in\" and .kind==\"text\")) | length >= 3)"
}
no_secret() {
	for s in $secrets; do
		! grep -q "$s" "$1" || fail "$s in $(basename "$1"): $(grep "$s" "$1" | head -3)"
	done
}

port=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --token Tok3nS3cr3tValue --rate 100 --down-s 0.5
srv=$!
wait_port "$port"
url="ws://127.0.0.1:$port/ws?token=Tok3nS3cr3tValue"

# -- the default: text lines, info level, stderr a file (not a terminal)
bg "$WSTAPE" record "$url" -o "$T/j" --feed hydromancer --subscribe allFills \
	-H 'x-api-key: ApiK3ySecretValue' 2>"$T/text.err"
rec=$!
wait_for 60 "the first connection's data" nth_open_has_data "$T/j" 1
kill -USR1 "$srv" # every connection dropped, upgrades refused (503) for 0.5 s
wait_for 60 "the second connection's data" nth_open_has_data "$T/j" 2
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
[ -s "$T/text.err" ] || fail "nothing logged at the default level with stderr a file"
bad=$(grep -Ev "^$TS (error|warn|info|debug) wstape record: " "$T/text.err" | head -3)
[ -z "$bad" ] || fail "lines not in the form 'TIME LEVEL wstape record: message': $bad"
for what in "info wstape record: connecting to ws://127.0.0.1:$port/ws\?token=REDACTED \(connection 1\)" \
	"info wstape record: connected to ws://127.0.0.1:$port/ws\?token=REDACTED \(connection 1\)" \
	"info wstape record: connection 1 closed by network \(code 1006\)" \
	"info wstape record: reconnecting in [0-9]+ ms \(attempt 1\)" \
	"info wstape record: connection [0-9]+ to ws://127.0.0.1:$port/ws\?token=REDACTED[^ ]* failed in phase http: .*HTTP 503" \
	"info wstape record: connected to .* \(connection [0-9]+\)" \
	"info wstape record: connection [0-9]+ closed by client \(code 1000\)" \
	"info wstape record: [0-9]+ records, [0-9]+ frames in"; do
	grep -Eq "^$TS $what" "$T/text.err" || fail "no line /$what/ at the default level: $(cat "$T/text.err")"
done
# one line an event: not a line per frame
[ "$(wc -l <"$T/text.err")" -lt 40 ] || fail "$(wc -l <"$T/text.err") lines for two connections: $(head -20 "$T/text.err")"
no_secret "$T/text.err"
# the times are now's, in order
first=$(head -c 24 "$T/text.err")
[ "${first:0:10}" = "$(date -u +%Y-%m-%d)" ] || [ "${first:0:10}" = "$(date -u -d '-1 min' +%Y-%m-%d)" ] ||
	fail "the first line's time is not today's (UTC): $first"
cut -c1-24 "$T/text.err" | sort -c || fail "the times are not in order: $(cut -c1-24 "$T/text.err")"
# -q: errors only
"$WSTAPE" record "$url" -o "$T/jq" --feed hydromancer --subscribe allFills -q --max-records 5 2>"$T/quiet.err" ||
	fail "record -q exited $?"
[ ! -s "$T/quiet.err" ] || fail "record -q logged: $(cat "$T/quiet.err")"

# -- --log-format json: one object a line, through a drop and a resume
bg "$WSTAPE" record "$url" -o "$T/j" --resume -H 'x-api-key: ApiK3ySecretValue' --log-format json 2>"$T/json.err"
rec=$!
wait_for 60 "the resumed connection's data" nth_open_has_data "$T/j" 3
kill -USR2 "$srv" # closed with 1001 this time
wait_for 60 "the connection after 1001" nth_open_has_data "$T/j" 4
kill -INT "$rec"
wait "$rec" || fail "record --log-format json exited $?"
jq -e -c . "$T/json.err" >/dev/null || fail "not JSON lines: $(head -5 "$T/json.err")"
$PY - "$T/json.err" <<'PY' || fail "python: the json log"
import json, re, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert set(o) >= {"ts", "level", "cmd", "msg"}, o
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["ts"]), o
    assert o["level"] in ("error", "warn", "info", "debug") and o["cmd"] == "record", o
    if "connection %s" % o.get("conn") in o["msg"]:
        n += 1
assert n >= 4, "no conn field: %d" % n
PY
for what in '^resuming session ' '^connected to .*token=REDACTED' 'closed by server \(code 1001' '^reconnecting in [0-9]+ ms'; do
	jq -r .msg "$T/json.err" | grep -Eq "$what" || fail "no json line /$what/: $(jq -r .msg "$T/json.err")"
done
jq -e -s 'map(select(.msg | startswith("connected to"))) | all(.conn > 0)' "$T/json.err" >/dev/null ||
	fail "a connected line without its conn: $(cat "$T/json.err")"
no_secret "$T/json.err"

# -- failed attempts: phase and error logged at the default level; the run's end too, as JSON
dead=$(free_port)
expect_exit 5 "$WSTAPE" record "ws://127.0.0.1:$dead/ws?token=Tok3nS3cr3tValue" -o "$T/jdead" --retries 2 \
	--log-format json 2>"$T/dead.err"
jq -e -c . "$T/dead.err" >/dev/null || fail "the failed run's log is not JSON lines: $(cat "$T/dead.err")"
jq -r .msg "$T/dead.err" | grep -q "connection 1 to ws://127.0.0.1:$dead/ws?token=REDACTED failed in phase connect" ||
	fail "no failed attempt logged: $(cat "$T/dead.err")"
jq -e -s 'any(.level == "error" and (.msg | startswith("cannot connect to")))' "$T/dead.err" >/dev/null ||
	fail "the run's end is not a JSON error line: $(cat "$T/dead.err")"
jq -e -s 'any(.level == "warn" and (.msg | startswith("removed journal")))' "$T/dead.err" >/dev/null ||
	fail "the removed journal is not a JSON line: $(cat "$T/dead.err")"
no_secret "$T/dead.err"
# plain: as before the forms existed
expect_exit 5 "$WSTAPE" record "ws://127.0.0.1:$dead/ws" -o "$T/jdead" --retries 1 --log-format plain 2>"$T/plain.err"
grep -q "^wstape: info: connection 1 to ws://127.0.0.1:$dead/ws failed in phase connect" "$T/plain.err" || fail "plain: $(cat "$T/plain.err")"
grep -q "^wstape: cannot connect to 'ws://127.0.0.1:$dead/ws'" "$T/plain.err" || fail "plain: $(cat "$T/plain.err")"
expect_exit 2 "$WSTAPE" record "$url" -o "$T/jx" --log-format xml 2>"$T/xml.err"
grep -q -- "--log-format" "$T/xml.err" || fail "a bad --log-format: $(cat "$T/xml.err")"
# the one-shot commands keep the plain message
expect_exit 2 "$WSTAPE" info "$T/nothing" 2>"$T/info.err"
grep -q "^wstape: cannot open journal '$T/nothing'" "$T/info.err" || fail "info's message: $(cat "$T/info.err")"

# -- replay: the line of what it serves and of each client that left, as JSON
for i in 1 2 3 4 5; do
	echo "{\"wall_ns\":${i}000000,\"dir\":\"in\",\"kind\":\"text\",\"payload\":\"{\\\"n\\\":$i}\"}"
done >"$T/raw.jsonl"
"$WSTAPE" import "$T/raw.jsonl" -o "$T/raw" 2>"$T/import.err" || fail "import: $(cat "$T/import.err")"
rport=$(free_port)
bg "$WSTAPE" replay "$T/raw" --listen 127.0.0.1:$rport --speed max --once --log-format json >"$T/replay.out" 2>"$T/replay.err"
rep=$!
wait_port "$rport"
"$WSTAPE" record "ws://127.0.0.1:$rport/" -o "$T/jr" --exit-on-close --duration 60s --log-format json 2>"$T/rr.err" ||
	fail "record from replay exited $?"
[ "$(journal_records "$T/jr")" -ge 5 ] || fail "record from replay: $(cat "$T/rr.err")"
wait "$rep" || fail "replay --once exited $?"
jq -e -c . "$T/replay.err" >/dev/null || fail "replay's log is not JSON lines: $(cat "$T/replay.err")"
jq -e -s 'any(.cmd == "replay" and .level == "info" and (.msg | startswith("replaying")))' "$T/replay.err" >/dev/null ||
	fail "replay: no 'replaying' line: $(cat "$T/replay.err")"
jq -e -s 'any(.client == 1 and (.msg | test("^client 1 .* left after")))' "$T/replay.err" >/dev/null ||
	fail "replay: no line of the client that left: $(cat "$T/replay.err")"
grep -q "^ws://127.0.0.1:$rport/$" "$T/replay.out" || fail "replay's URL on stdout: $(cat "$T/replay.out")"
kill "$srv"

# -- the systemd unit: verified, then its command run as systemd would run it
UNIT=$CONTRIB/wstape-record@.service
grep -q '^ExecStart=/bin/sh -c .*/usr/local/bin/wstape record --url env:WSTAPE_URL' "$UNIT" || fail "the unit's ExecStart"
for v in WSTAPE_URL WSTAPE_ARGS; do
	grep -q "^$v=" "$CONTRIB/wstape-record.env.example" || fail "the example env file has no $v"
done
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	sed "s|/usr/local/bin/wstape|$WSTAPE|" "$UNIT" >"$T/units/wstape-record@.service"
	systemd-analyze verify --man=no "$T/units/wstape-record@feed.service" >"$T/verify.out" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$T/verify.out")"
	[ ! -s "$T/verify.out" ] || fail "systemd-analyze verify warns: $(cat "$T/verify.out")"
	# (and it can fail: an unknown key)
	sed 's/^NoNewPrivileges=/NoNewPrivilege=/' "$T/units/wstape-record@.service" >"$T/units/bad@.service"
	systemd-analyze verify --man=no "$T/units/bad@x.service" >"$T/verify.out" 2>&1
	grep -q "Unknown key" "$T/verify.out" || fail "systemd-analyze verify does not see a bad key: $(cat "$T/verify.out")"
else
	echo "note: no systemd-analyze: the unit is not verified" >&2
fi
# ExecStart's script with systemd's specifiers expanded (%i, $$), the state under $T
script=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'$/\1/p" "$UNIT" | sed -e 's/%i/feed/g' -e 's/\$\$/$/g' \
	-e "s|/var/lib/wstape|$T/state|g" -e "s|/usr/local/bin/wstape|$WSTAPE|g")
[ -n "$script" ] || fail "no ExecStart script in the unit"
mkdir -p "$T/state"
port=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --token Tok3nS3cr3tValue --rate 100
srv=$!
wait_port "$port"
for run in 1 2; do
	WSTAPE_URL="ws://127.0.0.1:$port/ws?token=Tok3nS3cr3tValue" WSTAPE_ARGS="--feed hydromancer --subscribe allFills" \
		/bin/sh -c "$script" 2>"$T/unit$run.err" &
	u=$!
	BG_PIDS+=($u)
	wait_for 60 "run $run's data" nth_open_has_data "$T/state/feed" $run
	kill -TERM "$u" # systemctl stop
	wait "$u" || fail "the unit's command, run $run, exited $? on SIGTERM: $(cat "$T/unit$run.err")"
done
grep -q "resuming session" "$T/unit2.err" || fail "the second start did not resume: $(cat "$T/unit2.err")"
"$WSTAPE" verify "$T/state/feed" >/dev/null 2>&1 || fail "the unit's journal does not verify"
no_secret "$T/unit1.err"
no_secret "$T/unit2.err"

# -- the Prometheus rules: checked, unit-tested, and the tests can fail
if command -v promtool >/dev/null; then
	promtool check rules "$CONTRIB/prometheus/wstape-alerts.yml" >"$T/prom.out" 2>&1 ||
		fail "promtool check rules: $(cat "$T/prom.out")"
	(cd "$CONTRIB/prometheus" && promtool test rules wstape-alerts.test.yml) >"$T/prom.out" 2>&1 ||
		fail "promtool test rules: $(cat "$T/prom.out")"
	for m in wstape_record_last_frame_age_seconds wstape_record_seq_gaps_total wstape_record_connected \
		wstape_journal_write_errors_total 'up{job="wstape"}'; do
		grep -qF "$m" "$CONTRIB/prometheus/wstape-alerts.yml" || fail "no rule on $m"
	done
	mkdir -p "$T/prom"
	sed 's/wstape_record_last_frame_age_seconds > 60/wstape_record_last_frame_age_seconds > 600/' \
		"$CONTRIB/prometheus/wstape-alerts.yml" >"$T/prom/wstape-alerts.yml"
	cp "$CONTRIB/prometheus/wstape-alerts.test.yml" "$T/prom/"
	! (cd "$T/prom" && promtool test rules wstape-alerts.test.yml) >"$T/prom.out" 2>&1 ||
		fail "promtool test rules passes a rule that waits 10 minutes"
	grep -q "WstapeNoFrames" "$T/prom.out" || fail "the failing rule is not named: $(cat "$T/prom.out")"
else
	echo "note: no promtool: the alert rules are not checked" >&2
fi

# -- a server's words in a log line (its refusal) cannot break the line or forge one: a
# control character is shown as '?' in text, escaped in json
port=$(free_port)
cat >"$T/forge.py" <<'EOF'
import asyncio, json, sys, websockets
async def h(ws, path=None):
    await ws.send(json.dumps({"type": "error",
                              "message": "Invalid API key\n2020-01-01T00:00:00.000Z error wstape record: forged"}))
    await ws.close(1008, "Invalid API key")
async def main():
    async with websockets.serve(h, "127.0.0.1", int(sys.argv[1])):
        await asyncio.Future()
asyncio.run(main())
EOF
bg $PY "$T/forge.py" "$port"
wait_port "$port"
for form in text json; do
	timeout 60 "$WSTAPE" record "ws://127.0.0.1:$port/ws" -o "$T/forge-$form" --feed hydromancer --retries 1 \
		--log-format "$form" 2>"$T/forge-$form.err"
	grep -q "forged" "$T/forge-$form.err" || fail "the server's words are not in the $form log: $(cat "$T/forge-$form.err")"
	! grep -q "^2020-01-01" "$T/forge-$form.err" || fail "a server forged a $form log line: $(cat "$T/forge-$form.err")"
done
bad=$(grep -Ev "^$TS (error|warn|info|debug) wstape record: " "$T/forge-text.err" | head -3)
[ -z "$bad" ] || fail "a server's words broke a text line: $bad"
jq -e . "$T/forge-json.err" >/dev/null || fail "a server's words broke a json line: $(cat "$T/forge-json.err")"
exit 0
