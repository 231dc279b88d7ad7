# t33: HTTP 401 on upgrade ends the run with exit 4 after one journaled attempt; secrets (token
# query parameter, x-api-key, Authorization, a --secret-header) appear nowhere: not in the
# journal's files, not in `wstape cat`/`info` output, not in the recorder's output at debug level.
source tests/lib.sh
PEERS=$WSTAPE_TESTS_DIR/peers
port=$(free_port)
bg $PY "$PEERS/hydromancer_server.py" --port "$port" --token Tok3nS3cr3tValue --rate 200 --ping-s 0.3
srv=$!
wait_port "$port"
secrets="Tok3nS3cr3tValue WrongT0kenValue ApiK3ySecretValue B3arerSecretValue Cust0mSecretValue"

# a refused token: one attempt, a clear message, exit 4; the journal this first run created
# holds no frame, so it is removed and the same command can run again
expect_exit 4 "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=WrongT0kenValue" -o "$T/j401" \
	--feed hydromancer -vv >"$T/401.out" 2>"$T/401.err"
grep -q "401" "$T/401.err" || fail "the message does not name HTTP 401"
grep -q "removed journal '$T/j401': it held no frame" "$T/401.err" || fail "no word of the removed journal: $(cat "$T/401.err")"
[ ! -e "$T/j401" ] || fail "the journal of a run that failed before any frame is still there"
expect_exit 4 "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=WrongT0kenValue" -o "$T/j401" --feed hydromancer -q 2>/dev/null
# a refused port, retried until Ctrl-C (SIGINT): exit 0, the journal of attempts is kept, and
# stderr says what it holds and how to go on
dead=$(free_port)
"$WSTAPE" record "ws://127.0.0.1:$dead/ws" -o "$T/jrefused" -v 2>"$T/refused.err" & rec=$!
wait_for 60 "two refused attempts journaled" grep -q "attempt 2" "$T/refused.err"
kill -INT $rec; wait $rec; rc=$?
[ $rc -eq 0 ] || fail "SIGINT after refused attempts exited $rc"
grep -q "journal '$T/jrefused' holds no frame, only the [0-9]* connection attempts: continue it with --resume, or remove it" \
	"$T/refused.err" || fail "no word of what was left after SIGINT: $(tail -3 "$T/refused.err")"
"$WSTAPE" cat "$T/jrefused" | jq -e -s 'map(select(.kind=="error")) | length >= 2' >/dev/null ||
	fail "the refused attempts are not in the journal kept"
# a name that does not resolve, --retries 1: exit 5, removed too
expect_exit 5 "$WSTAPE" record "ws://no-such-host.invalid:1/ws" -o "$T/jdns" --retries 1 -q 2>"$T/dns.err"
grep -q "removed journal '$T/jdns'" "$T/dns.err" || fail "no word of the removed journal after DNS failure: $(cat "$T/dns.err")"
[ ! -e "$T/jdns" ] || fail "the journal of a DNS failure is still there"
# into an existing journal (--resume), the attempt is journaled and the journal stays
"$WSTAPE" import /dev/null -o "$T/j401" --feed hydromancer 2>/dev/null || fail "import of nothing failed"
expect_exit 4 "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=WrongT0kenValue" -o "$T/j401" --resume \
	-vv >>"$T/401.out" 2>>"$T/401.err"
"$WSTAPE" cat "$T/j401" >"$T/401.jsonl" || fail "cat failed"
jq -e -s '[.[] | select(.kind=="error") | .payload | fromjson] | (length == 1 and .[0].status == 401 and .[0].phase == "http")' \
	"$T/401.jsonl" >/dev/null || fail "the 401 attempt was not journaled once with its status"

# the accepted token, with secret headers, through a reconnect, at debug log level
bg "$WSTAPE" record "ws://127.0.0.1:$port/ws?token=Tok3nS3cr3tValue" -o "$T/j" --feed hydromancer \
	--subscribe allFills -H 'x-api-key: ApiK3ySecretValue' -H 'Authorization: Bearer B3arerSecretValue' \
	-H 'X-Custom-Auth: Cust0mSecretValue' --secret-header X-Custom-Auth -vv >"$T/rec.out" 2>"$T/rec.err"
rec=$!
wait_for 60 "the first connection's data" journal_jq "$T/j" 'map(select(.dir=="in" and .kind=="text")) | length >= 5'
kill -USR1 "$srv"
wait_for 60 "the second connection's data" journal_jq "$T/j" \
	'(map(select(.kind=="open")) | length == 2) and (map(select(.conn == 2 and .dir=="in" and .kind=="text")) | length >= 5)'
kill -INT "$rec"
wait "$rec" || fail "record exited $?"
"$WSTAPE" cat "$T/j" >"$T/j.jsonl" || fail "cat failed"
"$WSTAPE" info "$T/j" >"$T/info.out" 2>&1 || true
jq -e -s 'map(select(.kind=="open")) | length == 2' "$T/j.jsonl" >/dev/null || fail "expected 2 connections"
grep -q 'token=REDACTED' "$T/j.jsonl" || fail "the open record does not show the redacted URL"
[ -s "$T/rec.err" ] || fail "no debug output to search"
# the status line, on a terminal (script(1) gives it one): records, rate, ratio, reconnects,
# cursor and downtime, redrawn in place, cleared before a log line; no secret in it
if command -v script >/dev/null; then
	# (the URL comes from the environment: script(1) writes its command line to the file)
	# (it runs until its status line shows a cursor; the shell says its pid first)
	TTY_URL="ws://127.0.0.1:$port/ws?token=Tok3nS3cr3tValue" script -qfec "echo \$\$ > '$T/tty.pid'; exec '$WSTAPE' record \"\$TTY_URL\" \
		-o '$T/jtty' --feed hydromancer --subscribe allFills -v --duration 300s" "$T/tty.out" >/dev/null 2>&1 </dev/null &
	tty_script=$!
	BG_PIDS+=($tty_script)
	wait_for 60 "a status line with a cursor" bash -c "grep -a -q 'cursor [0-9]*:[0-9]*' '$T/tty.out'"
	kill -INT "$(cat "$T/tty.pid")"
	wait $tty_script || fail "record on a terminal exited $?"
	grep -a -q 'up  [0-9]* records .* msg/s  ratio [0-9.]*x  reconnects 0  cursor [0-9]*:[0-9]*' "$T/tty.out" ||
		fail "no status line: $(tr '\r' '\n' <"$T/tty.out" | tail -5)"
	grep -a -q -E $'\r\033\\[K[0-9-]{10}T[0-9:.]{12}Z info wstape record: ' "$T/tty.out" ||
		fail "a log line does not clear the status line first"
else
	echo "note: no script(1): the status line is not checked" >&2
	: >"$T/tty.out"
fi

# the messages that end a run name the URL too: nothing refuses faster than a closed port
closed=$(free_port)
expect_exit 5 "$WSTAPE" record "ws://127.0.0.1:$closed/ws?token=Tok3nS3cr3tValue" -o "$T/jdown" \
	--retries 1 -vv >"$T/down.out" 2>"$T/down.err"
grep -q "cannot connect to 'ws://127.0.0.1:$closed/ws?token=REDACTED'" "$T/down.err" || fail "no redacted URL in: $(cat "$T/down.err")"
expect_exit 2 "$WSTAPE" record "http://127.0.0.1:$closed/ws?token=Tok3nS3cr3tValue" -o "$T/jhttp" 2>"$T/http.err"
# the same at debug level as JSON lines (libwebsockets' own included): redacted there too
expect_exit 5 "$WSTAPE" record "ws://127.0.0.1:$closed/ws?token=Tok3nS3cr3tValue" -o "$T/jdown" \
	-H 'Authorization: Bearer B3arerSecretValue' --retries 1 -vv --log-format json 2>"$T/down.json"
jq -e -s 'any(.msg | contains("token=REDACTED"))' "$T/down.json" >/dev/null || fail "no redacted URL in: $(cat "$T/down.json")"
for s in $secrets; do
	if grep -r -a -l -- "$s" "$T/j" "$T/j401" "$T/j.jsonl" "$T/401.jsonl" "$T/info.out" \
		"$T/rec.out" "$T/rec.err" "$T/401.out" "$T/401.err" "$T/jdown" "$T/down.out" "$T/down.err" "$T/down.json" \
		"$T/http.err" "$T/tty.out" "$T/jtty"; then
		fail "secret '$s' found in the files above"
	fi
done
echo ok
